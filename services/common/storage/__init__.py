"""Blob storage behind one interface: local disk (embedded default) or S3/MinIO (scale-out)."""
from services.common.storage.base import (BlobInfo, BlobNotFound, BlobStore, InvalidKey, MultipartPart,
                                          PartBytes, validate_key)
from services.common.storage.factory import create_blob_store

__all__ = ["BlobInfo", "BlobNotFound", "BlobStore", "InvalidKey", "MultipartPart", "PartBytes", "create_blob_store",
           "validate_key"]
