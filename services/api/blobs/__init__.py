"""Serving stored bytes over HTTP: Range, ETag and download names, behind signed URLs for the
local-disk backend (S3 serves its own presigned URLs)."""
