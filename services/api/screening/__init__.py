"""Automatic pre-screening before a human looks: the district's sensitive-word lexicon, the
blocklist of taken-down content, and the media and document checks the transcoder reports."""
