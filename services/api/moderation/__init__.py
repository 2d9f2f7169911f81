"""Review before publication (审核把关): the queue and moderators' decisions."""
