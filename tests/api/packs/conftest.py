"""Resources as processing leaves them, for packing: a lesson with a real HLS ladder (ffmpeg) and
a download MP4, documents with their preview PDF, on whichever blob store the app has."""
from __future__ import annotations

import hashlib
import io
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from services.api.resources.models import Asset, License, Resource, ResourceKind, ResourceStatus, Visibility
from services.api.uploads.models import Blob
from tests import media

CLIP_S = 4


@dataclass(frozen=True)
class Ladder:
    """Files of a transcoded lesson: rung name -> directory of index.m3u8 + seg_*.ts, and download.mp4."""
    rungs: dict[str, Path]
    download: Path


@pytest.fixture(scope="session")
def ladder_files(tmp_path_factory) -> Ladder:
    root = tmp_path_factory.mktemp("ladder")
    clip = media.lesson_mp4(root / "clip.mp4", seconds=CLIP_S, size="640x360")
    rungs = {}
    for name, height in (("360p", 360), ("240p", 240)):
        out = root / name
        out.mkdir()
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(clip), "-vf", f"scale=-2:{height}", "-c:v", "libx264",
                        "-preset", "ultrafast", "-g", "50", "-c:a", "aac", "-b:a", "32k", "-f", "hls", "-hls_time", "2",
                        "-hls_playlist_type", "vod", "-hls_segment_type", "mpegts",
                        "-hls_segment_filename", str(out / "seg_%05d.ts"), str(out / "index.m3u8")],
                       check=True, timeout=120)
        rungs[name] = out
    return Ladder(rungs=rungs, download=clip)


def put_bytes(store, key: str, content: bytes, content_type: str = "application/octet-stream") -> None:
    store.put(key, io.BytesIO(content), length=len(content), content_type=content_type)


def source_blob(factory, key: str, media_type: str) -> Blob:
    blob = Blob(sha256=hashlib.sha256(key.encode()).hexdigest(), size=9, media_type=media_type, backend="local",
                key=key)
    factory.session.add(blob)
    factory.session.flush()
    return blob


def published(factory, owner, *, title: str = "分数的意义", points=(), **values) -> Resource:
    resource = Resource(title=title, kind=ResourceKind.excellent_lesson, owner_id=owner.id, school_id=owner.school_id,
                        district_id=owner.district_id, license=License.cc_by, subject_code="math",
                        **{"visibility": Visibility.school, "status": ResourceStatus.published, **values})
    resource.knowledge_points.extend(points)
    factory.session.add(resource)
    factory.session.flush()
    return resource


def document(factory, store, resource: Resource, *, pdf: bytes = b"%PDF-1.7 lesson plan") -> Asset:
    prefix = f"media/{resource.id}/document"
    put_bytes(store, f"{prefix}/preview.pdf", pdf)
    asset = Asset(resource_id=resource.id, blob_id=source_blob(factory, f"{prefix}/source", "application/msword").id,
                  role="lesson_plan", filename="教案.docx", media_type="application/msword", category="document",
                  size=9, sha256="0" * 64,
                  renditions=[{"job": "document", "kind": "document", "prefix": prefix, "preview": "preview.pdf",
                               "pages": 1, "page_images": 0, "page_image": None, "thumbnail": None}])
    factory.session.add(asset)
    factory.session.flush()
    return asset


def lesson(factory, store, resource: Resource, ladder: Ladder, *, duration_s: float, download: bytes | None = None,
           bandwidths: dict[str, int] | None = None) -> Asset:
    """A video asset with a finished ladder: 360p and 240p rungs (real segments) and a download
    MP4 (`download`, or the real clip). `duration_s` is what the ladder says the lesson lasts,
    which sets its size budget; `bandwidths` the rungs' measured average bandwidths."""
    prefix = f"media/{resource.id}/ladder"
    for name, directory in ladder.rungs.items():
        for path in directory.iterdir():
            put_bytes(store, f"{prefix}/t0/{name}/{path.name}", path.read_bytes())
    put_bytes(store, f"{prefix}/t0/download.mp4", download if download is not None else ladder.download.read_bytes(),
              "video/mp4")
    bandwidths = bandwidths or {"360p": 400_000, "240p": 150_000}
    variants = [{"name": name, "uri": f"t0/{name}/index.m3u8", "height": int(name[:-1]), "bandwidth": bps * 2,
                 "average_bandwidth": bps} for name, bps in bandwidths.items()]
    asset = Asset(resource_id=resource.id, blob_id=source_blob(factory, f"{prefix}/source", "video/mp4").id,
                  role="main", filename="第一课.mp4", media_type="video/mp4", category="video", size=9,
                  sha256="1" * 64, duration_s=duration_s,
                  renditions=[{"job": "ladder", "kind": "hls", "prefix": prefix, "duration_s": duration_s,
                               "default_track": 0, "tracks": [{"index": 0, "title": None, "variants": variants,
                                                               "audio": None, "download": "t0/download.mp4"}]}])
    factory.session.add(asset)
    factory.session.flush()
    return asset
