"""Reports (举报): users flag what they see; moderators resolve a resource's reports together."""
