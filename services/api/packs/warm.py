"""Pre-warming a school edge from an imported pack: each lesson's MP4 laid out as HLS where the
edge looks before its link (docs/design.md, "The school edge").

Under the import directory DIR (`lb pack import --into DIR --warm`):
  hls/<asset id>/<height>p/index.m3u8, seg-00000.ts ...   the packed rung, stream-copied (no encode)

The edge (infra/edge/edge.conf.template, LB_EDGE_WARM_ROOT = DIR/hls) answers a versioned request
for `t<n>/<height>p/<file>` of that asset from here first; the API still authorises every one.
Each lesson appears whole or not at all: it is segmented in a staging directory, then renamed.
"""
from __future__ import annotations

import os
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path

from services.api.packs.reader import BadPack, blob_path
from services.api.packs.schemas import PackManifest
from services.common import sandbox

WARM_DIR = "hls"
# Segment length of the warm playlists: as the ladder's (a player's buffer fills the same way).
SEGMENT_S = 4


@dataclass(frozen=True)
class WarmReport:
    lessons_laid_out: int
    lessons_present: int


def segment_command(source: Path, out_dir: Path) -> list[str]:
    return ["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-y", "-protocol_whitelist", "file",
            "-i", str(source), "-map", "0", "-c", "copy",
            "-f", "hls", "-hls_time", str(SEGMENT_S), "-hls_playlist_type", "vod", "-hls_list_size", "0",
            "-hls_segment_filename", str(out_dir / "seg-%05d.ts"), str(out_dir / "index.m3u8")]


def warm_lessons(into: Path, *, manifest: PackManifest) -> WarmReport:
    """Lays out every lesson member of an imported pack as HLS under `into/hls`."""
    laid_out = present = 0
    for member in manifest.members():
        if member.role != "lesson" or not member.height:
            continue
        target = into / WARM_DIR / member.asset_id / f"{member.height}p"
        if (target / "index.m3u8").exists():
            present += 1
            continue
        staging = into / f".warm-{secrets.token_hex(8)}"
        staging.mkdir(parents=True)
        try:
            # Inside the sandbox's one scratch directory: a link to the imported bytes, not a copy.
            source = staging / "lesson.mp4"
            os.link(into / blob_path(member), source)
            out_dir = staging / "hls"
            out_dir.mkdir()
            done = sandbox.run(segment_command(source, out_dir), scratch=staging,
                               limits=sandbox.Limits(time_s=1800), text=True)
            if done.returncode != 0:
                raise BadPack(f"{member.path}: could not be laid out as HLS ({done.stderr[-300:]!r})")
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(out_dir, target)
            laid_out += 1
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return WarmReport(lessons_laid_out=laid_out, lessons_present=present)
