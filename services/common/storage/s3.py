"""Blobs in S3 (MinIO in production) through the minio SDK."""
from __future__ import annotations

import base64
import tempfile
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote

from minio import Minio
from minio.commonconfig import ComposeSource, CopySource
from minio.datatypes import Part
from minio.error import S3Error

from services.common.direct_io import aligned_buffer, read_file
from services.common.storage.base import BlobInfo, BlobNotFound, MultipartPart, PartBytes, validate_key

CHUNK = 1024 * 1024
PUT_PART_SIZE = 64 * 1024 * 1024
_PARTS_AT_ONCE = 2
_PART_URL_EXPIRES = timedelta(minutes=15)  # a part PUT's signature: long enough for a slow link
SINGLE_COPY_LIMIT = 5 * 1024**3  # CopyObject's limit; larger copies go part by part


class S3BlobStore:
    backend = "s3"

    def __init__(self, *, client: Minio, bucket: str, presign_client: Minio | None = None) -> None:
        """`presign_client`: the same service at the address clients use (LB_S3_PUBLIC_ENDPOINT);
        it signs the URLs handed to clients and is never called over the network."""
        self.client, self.bucket = client, bucket
        self.presign_client = presign_client or client

    def ensure_bucket(self) -> None:
        if not self.client.bucket_exists(self.bucket):
            self.client.make_bucket(self.bucket)

    def put(self, key: str, stream: BinaryIO, *, length: int, content_type: str) -> BlobInfo:
        self.client.put_object(self.bucket, validate_key(key), stream, length, content_type=content_type,
                               part_size=PUT_PART_SIZE if length > PUT_PART_SIZE else 0)
        return self.stat(key)

    def put_file(self, key: str, path: Path, *, content_type: str) -> BlobInfo:
        self.client.fput_object(self.bucket, validate_key(key), str(path), content_type=content_type,
                                part_size=PUT_PART_SIZE)
        return self.stat(key)

    def open(self, key: str, *, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        length = 0 if end is None else end - start + 1
        try:
            response = self.client.get_object(self.bucket, validate_key(key), offset=start, length=length)
        except S3Error as error:
            raise _translate(error, key) from None
        return self._stream(response)

    @staticmethod
    def _stream(response) -> Iterator[bytes]:  # type: ignore[no-untyped-def]
        try:
            yield from response.stream(CHUNK)
        finally:
            response.close()
            response.release_conn()

    def stat(self, key: str) -> BlobInfo:
        try:
            found = self.client.stat_object(self.bucket, validate_key(key))
        except S3Error as error:
            raise _translate(error, key) from None
        return BlobInfo(key=key, size=found.size or 0, etag=(found.etag or "").strip('"'),
                        content_type=found.content_type or "application/octet-stream")

    def exists(self, key: str) -> bool:
        try:
            self.stat(key)
        except BlobNotFound:
            return False
        return True

    def delete(self, key: str) -> None:
        self.client.remove_object(self.bucket, validate_key(key))

    def copy(self, source: str, destination: str) -> BlobInfo:
        size = self.stat(source).size
        if size <= SINGLE_COPY_LIMIT:
            self.client.copy_object(self.bucket, validate_key(destination), CopySource(self.bucket, source))
        else:
            self.client.compose_object(self.bucket, validate_key(destination), [ComposeSource(self.bucket, source)])
        return self.stat(destination)

    def move(self, source: str, destination: str) -> BlobInfo:
        info = self.copy(source, destination)
        self.delete(source)
        return info

    def keep(self, source: str, content_key: str) -> str:
        return validate_key(source)  # no rename in S3: the object stays where it was assembled

    def direct_path(self, key: str) -> Path | None:
        return None

    @contextmanager
    def local_file(self, key: str) -> Iterator[Path]:
        with tempfile.TemporaryDirectory(prefix="lb-blob-") as directory:
            path = Path(directory) / "blob"
            try:
                self.client.fget_object(self.bucket, validate_key(key), str(path))
            except S3Error as error:
                raise _translate(error, key) from None
            yield path

    def tool_source(self, key: str, *, expires_s: int = 3600) -> str:
        # For ffmpeg beside us: the internal address.
        self.stat(key)
        return self.client.presigned_get_object(self.bucket, validate_key(key), expires=timedelta(seconds=expires_s))

    def list(self, prefix: str) -> Iterator[BlobInfo]:
        for found in self.client.list_objects(self.bucket, prefix=prefix, recursive=True):
            yield BlobInfo(key=found.object_name, size=found.size or 0, etag=(found.etag or "").strip('"'),
                           content_type=found.content_type or "application/octet-stream",
                           modified=found.last_modified)

    def presigned_get_url(self, key: str, *, expires_s: int, filename: str | None = None) -> str:
        headers = None
        if filename:
            headers = {"response-content-disposition": f"attachment; filename*=UTF-8''{quote(filename)}"}
        return self.presign_client.presigned_get_object(self.bucket, validate_key(key),
                                                        expires=timedelta(seconds=expires_s), response_headers=headers)

    def ping(self) -> None:
        if not self.client.bucket_exists(self.bucket):
            raise BlobNotFound(f"bucket {self.bucket}")

    # Resumable multipart needs the S3 calls one by one. minio-py keeps them behind
    # underscore names (its own put_object uses them); they are pinned by constraints.txt and
    # exercised by the storage contract tests, which fail first if an upgrade moves them.

    def create_multipart(self, key: str, *, content_type: str) -> str:
        return self.client._create_multipart_upload(self.bucket, validate_key(key), {"Content-Type": content_type})

    def upload_parts(self, key: str, upload_id: str, parts: list[tuple[int, PartBytes]]) -> list[MultipartPart]:
        # Parts are independent to S3, so two go at once: one at a time left the API waiting on
        # MinIO's answer for most of each part (measured, docs/benchmarks.md). A part in a file is
        # read into a buffer kept for the next part, which is what keeps parts small
        # (uploads.limits.PART_SIZE).
        key = validate_key(key)

        def send(part: tuple[int, PartBytes]) -> MultipartPart:
            number, data = part
            if isinstance(data, memoryview):
                return MultipartPart(number=number, etag=self._put_part(key, upload_id, number, data),
                                     size=len(data))
            with aligned_buffer(data.stat().st_size) as buffer:
                read = read_file(data, buffer)
                return MultipartPart(number=number, etag=self._put_part(key, upload_id, number, read),
                                     size=len(read))

        if len(parts) <= 1:
            return [send(part) for part in parts]
        with ThreadPoolExecutor(_PARTS_AT_ONCE, thread_name_prefix="s3-part") as pool:
            return list(pool.map(send, parts))

    def _put_part(self, key: str, upload_id: str, number: int, data: bytes | memoryview) -> str:
        """UploadPart with an unsigned payload and a CRC-32 the server checks.

        Over plain HTTP minio-py signs each part's SHA-256, which both sides then compute: about
        0.7 CPU-s per GiB here and as much again in MinIO, on a machine where MinIO, the API and the
        client share two cores (measured, docs/benchmarks.md). A presigned request signs the
        method, key, part number and upload id instead; the payload is protected by
        `x-amz-checksum-crc32` (3 GB/s in zlib), which S3 and MinIO verify (a mismatch is a 400)."""
        url = self.client.get_presigned_url(
            "PUT", self.bucket, key, expires=_PART_URL_EXPIRES,
            extra_query_params={"partNumber": str(number), "uploadId": upload_id})
        checksum = base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
        response = self.client._http.urlopen(
            "PUT", url, body=data, headers={"Content-Length": str(len(data)), "x-amz-checksum-crc32": checksum})
        if response.status != 200:
            raise S3Error.fromxml(response) if response.data else S3Error(
                response, "UploadPartFailed", f"HTTP {response.status}", key, None, None, self.bucket, key)
        return response.headers["ETag"].strip('"')

    def complete_multipart(self, key: str, upload_id: str, parts: list[MultipartPart]) -> BlobInfo:
        self.client._complete_multipart_upload(self.bucket, validate_key(key), upload_id,
                                               [Part(p.number, p.etag) for p in parts])
        return self.stat(key)

    def abort_multipart(self, key: str, upload_id: str) -> None:
        try:
            self.client._abort_multipart_upload(self.bucket, validate_key(key), upload_id)
        except S3Error as error:
            if error.code != "NoSuchUpload":
                raise


def _translate(error: S3Error, key: str) -> Exception:
    if error.code in ("NoSuchKey", "NoSuchObject", "NoSuchBucket"):
        return BlobNotFound(key)
    return error
