"""Districts, schools and user accounts."""
