"""Chooses the blob store from settings; no other code asks which backend it has."""
from __future__ import annotations

from urllib.parse import urlparse

from minio import Minio

from services.common.settings import Settings, StorageSettings
from services.common.storage.base import BlobStore
from services.common.storage.local import LocalBlobStore
from services.common.storage.s3 import S3BlobStore

# Where the API serves local blobs behind signed URLs (services/api/blobs).
LOCAL_BLOB_ROUTE = "/api/v1/blobs"


def create_blob_store(settings: Settings) -> BlobStore:
    storage = settings.storage
    if storage.s3_endpoint:
        client = _minio(storage, storage.s3_endpoint)
        # Presigned URLs carry the host they were signed for: sign clients' URLs for the address
        # clients use. Signing needs no request to the server (the region is configured).
        public = _minio(storage, storage.s3_public_endpoint) if storage.s3_public_endpoint else client
        store = S3BlobStore(client=client, bucket=storage.s3_bucket, presign_client=public)
        store.ensure_bucket()
        return store
    return LocalBlobStore(root=settings.core.data_dir / "blobs", url_base=settings.public_api_url + LOCAL_BLOB_ROUTE,
                          url_secret=settings.keys.blob_url if settings.has_master_secret else None)


def _minio(storage: StorageSettings, endpoint: str) -> Minio:
    secure = storage.s3_secure
    if "://" in endpoint:  # accept a URL as well as host:port
        parsed = urlparse(endpoint)
        endpoint, secure = parsed.netloc, parsed.scheme == "https"
    return Minio(endpoint, access_key=storage.s3_access_key, secret_key=storage.s3_secret_key,
                 secure=secure, region=storage.s3_region)
