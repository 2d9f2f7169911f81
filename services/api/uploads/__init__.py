"""Uploads that never lose a byte: a tus 1.0 server, the checks a finished file must pass, and
content-addressed, deduplicated storage of what passes."""
