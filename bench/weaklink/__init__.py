"""A shaped link between this host and a client network namespace, for benchmarks of what a
village school sees (see netns.py: `shaped_link`)."""
