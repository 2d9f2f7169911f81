"""The transcoder: a Celery worker that probes, checks and transcodes uploaded media."""
