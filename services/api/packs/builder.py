"""Writing a pack file: one ZIP with members *stored* (media does not compress), then
`manifest.json` (with every member's size and sha256, hashed as the bytes stream through) and
`manifest.sig`. No member is ever held whole in memory."""
from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.api.packs import signing
from services.api.packs.schemas import (FORMAT_VERSION, MANIFEST_NAME, SIGNATURE_NAME, PackManifest, PackMember,
                                        PackResource)
from services.common import sandbox
from services.common.storage import BlobStore

# A fixed member date: the same members make the same bytes (the manifest's created_at aside).
_ZIP_DATE = (2020, 1, 1, 0, 0, 0)
CHUNK = 1024 * 1024

Source = Callable[[], Iterator[bytes]]  # a member's bytes, opened when the member is written


@dataclass
class PlannedMember:
    path: str
    role: str
    media_type: str
    asset_id: str
    filename: str
    estimated_size: int
    source: Source
    fingerprint: str  # what identifies the bytes (a blob key and its etag): part of the pack's content key
    height: int | None = None
    duration_s: float | None = None


@dataclass
class PlannedResource:
    entry: PackResource  # members empty: filled in as they are written
    members: list[PlannedMember] = field(default_factory=list)


def write_pack(target: Path, *, pack_id: str, title: str, resources: list[PlannedResource],
               key: Ed25519PrivateKey) -> PackManifest:
    """Writes the pack to `target` and returns its manifest."""
    written: list[PackResource] = []
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for planned in resources:
            members = [_write_member(archive, member) for member in planned.members]
            written.append(planned.entry.model_copy(update={"members": members}))
        manifest = PackManifest(format=FORMAT_VERSION, id=pack_id, created_at=datetime.now(UTC), title=title,
                                key_id=signing.key_id(key.public_key()), resources=written)
        manifest_bytes = manifest_json(manifest)
        archive.writestr(_info(MANIFEST_NAME), manifest_bytes)
        archive.writestr(_info(SIGNATURE_NAME), signing.sign(key, manifest_bytes))
    return manifest


def manifest_json(manifest: PackManifest) -> bytes:
    return json.dumps(manifest.model_dump(mode="json"), ensure_ascii=False, indent=1).encode("utf-8") + b"\n"


def _info(name: str, *, size: int = 0) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
    info.compress_type = zipfile.ZIP_STORED
    info.file_size = size  # lets zipfile choose ZIP64 headers up front for members over 4 GiB
    return info


def _write_member(archive: zipfile.ZipFile, member: PlannedMember) -> PackMember:
    digest, size = hashlib.sha256(), 0
    with archive.open(_info(member.path, size=member.estimated_size), "w",
                      force_zip64=member.estimated_size > 2**31) as out:
        for chunk in member.source():
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
    return PackMember(path=member.path, role=member.role, media_type=member.media_type, size=size,
                      sha256=digest.hexdigest(), asset_id=member.asset_id, filename=member.filename,
                      height=member.height, duration_s=member.duration_s)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


# --------------------------------------------------------------------------- member sources

def blob_source(store: BlobStore, key: str) -> Source:
    return lambda: store.open(key)


def remuxed_rung_source(store: BlobStore, *, prefix: str, playlist: str, work_dir: Path) -> Source:
    """A rung's HLS segments remuxed into one progressive MP4 (stream copy, no encode), for a
    lesson whose download MP4 is over the size budget. The segments are copied to a temporary
    directory first: ffmpeg cannot follow an S3 playlist's relative segment names."""
    def chunks() -> Iterator[bytes]:
        work_dir.mkdir(parents=True, exist_ok=True)
        directory = Path(tempfile.mkdtemp(prefix="rung-", dir=work_dir))
        try:
            playlist_path = directory / "index.m3u8"
            _copy_blob(store, f"{prefix}/{playlist}", playlist_path)
            base = PurePosixPath(prefix, playlist).parent
            for line in playlist_path.read_text(encoding="utf-8").splitlines():
                if line and not line.startswith("#"):
                    name = PurePosixPath(line).name  # segments sit beside their playlist
                    _copy_blob(store, f"{base}/{name}", directory / name)
            output = directory / "lesson.mp4"
            # Sandboxed like every ffmpeg run (services/common/sandbox.py): our own segments, by file.
            remuxed = sandbox.run(remux_command(playlist_path, output), scratch=directory,
                                  limits=sandbox.Limits(time_s=3600))
            if remuxed.returncode != 0:
                raise RuntimeError(f"remuxing {playlist} failed: {remuxed.stderr[-300:]!r}")
            with output.open("rb") as handle:
                while chunk := handle.read(CHUNK):
                    yield chunk
        finally:
            shutil.rmtree(directory, ignore_errors=True)
    return chunks


def remux_command(playlist: Path, output: Path) -> list[str]:
    # The same remux the transcoder makes its download MP4 with (services never import each other).
    return ["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-y", "-protocol_whitelist", "file", "-f", "hls",
            "-i", str(playlist), "-map", "0",
            "-c", "copy", "-bsf:a", "aac_adtstoasc", "-movflags", "+faststart", "-f", "mp4", str(output)]


def _copy_blob(store: BlobStore, key: str, path: Path) -> None:
    with path.open("wb") as out:
        for chunk in store.open(key):
            out.write(chunk)


def sidecar(manifest: PackManifest, *, size: int, sha256: str) -> dict[str, Any]:
    """What is kept beside a cached pack, so a second request answers without opening it."""
    return {"size": size, "sha256": sha256, "manifest": manifest.model_dump(mode="json")}
