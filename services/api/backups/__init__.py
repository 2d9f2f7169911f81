"""Backups that restore: the database, the stored files (incrementally, content-addressed) and a
manifest per backup, in a target directory; `lb backup` is the operator's way in."""
