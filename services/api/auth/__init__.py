"""Signing in: passwords, access and refresh tokens, login throttling, the current caller."""
