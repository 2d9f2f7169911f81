"""Round trips over the seam between the services: the transcoder runs a real job and writes its
result, and the API reads it through the same models (services/common/renditions.py) and the
same functions its routes use: the fold into an asset, the play answer and master playlist, the
previews, and the page text search indexes."""
from __future__ import annotations

import posixpath
from dataclasses import replace

from sqlalchemy import select

from services.api.playback import service as playback
from services.api.playback.tokens import PlayGrant
from services.api.resources.models import Asset
from services.api.resources.previews import document_preview, preview_for
from services.api.resources.renditions import renditions_of
from services.api.search.documents import _pages
from services.common import hls, jobs
from services.common.renditions import DocumentOutput, HlsOutput, read_result, replace_rendition
from services.transcoder.app import process_job
from tests import media
from tests.transcoder.test_jobs import run, transcoder  # noqa: F401 - the fixture


def folded(kind: jobs.JobKind, result: dict, *, category: str, stored: list[dict] | None = None) -> Asset:
    """An asset as `apply_finished_jobs` leaves it once it has folded this job's result."""
    output = read_result(kind, result)
    return Asset(id="01SEAMASSET000000000000000", role="main", filename="lesson", category=category,
                 renditions=replace_rendition(stored or [], output.as_rendition(kind.value)))  # type: ignore[union-attr]


def test_a_ladder_written_by_the_transcoder_is_played_by_the_api(transcoder, tmp_path):  # noqa: F811
    outcome, row, _ = run(transcoder, media.lesson_mp4(tmp_path / "lesson.mp4", seconds=3))
    assert outcome == "done", row.error
    asset = folded(jobs.JobKind.ladder, row.result, category="video")
    (ladder,) = renditions_of(asset)
    assert isinstance(ladder, HlsOutput) and ladder.job == "ladder"
    assert ladder.stored() == {"job": "ladder", **{k: v for k, v in row.result.items() if k != "files"}}

    # What the play route picks and lists, and the master it serves from manifest.json.
    picked, rendition = playback._playable([asset])
    assert picked is asset and rendition == ladder
    grant = PlayGrant(prefix=ladder.prefix, track=ladder.default_track, start_bps=0, max_height=0, expires=0,
                      resource_id="r", epoch=0)
    listed = playback.listed_variants(ladder.tracks[ladder.default_track], grant)
    assert [v.name for v in listed] == ["240p", "audio"]
    master = playback.master_playlist(transcoder.store, grant)
    assert master == hls.master_playlist(listed)
    assert "RESOLUTION=320x240" in master and "t0/240p/index.m3u8" in master
    # Every file the manifest names is where the API will ask for it.
    for variant in listed:
        assert transcoder.store.exists(ladder.key(variant.uri))
    preview = preview_for(transcoder.store, [ladder])
    assert preview is not None and preview["kind"] == "hls" and "storyboard_vtt_url" in preview


def test_behind_an_edge_the_master_names_the_ladders_first_segments_to_warm(transcoder, tmp_path):  # noqa: F811
    """The warm names come from the media playlist the transcoder wrote (services/common/hls.py
    reads it for both), cover the players' start buffer from where the play starts, and are
    files the play route serves under the version."""
    outcome, row, _ = run(transcoder, media.lesson_mp4(tmp_path / "lesson.mp4", seconds=6))
    assert outcome == "done", row.error
    asset = folded(jobs.JobKind.ladder, row.result, category="video")
    (ladder,) = renditions_of(asset)
    grant = PlayGrant(prefix=ladder.prefix, track=ladder.default_track, start_bps=0, max_height=0, expires=0,
                      resource_id="r", epoch=0, version="01SEAMASSET000000000000000.abc123")
    segments = hls.media_segments(b"".join(transcoder.store.open(ladder.key("t0/240p/index.m3u8"))).decode())
    assert [round(d) for d, _ in segments[:2]] == [2, 2]  # the ladder's short first segments

    def first_variant(**changes) -> str:
        master = playback.master_playlist(transcoder.store, replace(grant, **changes), behind_edge=True)
        return next(line for line in master.splitlines() if line and not line.startswith("#"))

    # START_BUFFER_S = 4: the two 2 s segments from the start; from 3 s on, the two holding 3-7 s.
    assert playback.START_BUFFER_S == 4
    assert first_variant() == f"v/{grant.version}/t0/240p/index.m3u8?warm0={segments[0][1]}&warm1={segments[1][1]}"
    assert first_variant(start_ms=3000).endswith(f"?warm0={segments[1][1]}&warm1={segments[2][1]}")
    for _, uri in segments[:3]:
        assert transcoder.store.exists(ladder.key(f"t0/240p/{uri}"))
    # Not behind an edge, or without a version to cache under: nothing named.
    assert "warm" not in playback.master_playlist(transcoder.store, grant)
    assert "warm" not in playback.master_playlist(transcoder.store, replace(grant, version=""), behind_edge=True)


def test_the_ladders_rungs_line_up_so_a_school_behind_an_edge_is_held_to_one(transcoder, tmp_path):  # noqa: F811
    """The transcoder cuts every rung at the same times, so the API joins two of them into a held
    playlist (services/common/hls.py): the start rung's first segments, the higher rung's rest."""
    outcome, row, _ = run(transcoder, media.lesson_mp4(tmp_path / "lesson.mp4", seconds=9, size="640x360"))
    assert outcome == "done", row.error
    asset = folded(jobs.JobKind.ladder, row.result, category="video")
    (ladder,) = renditions_of(asset)
    track = ladder.tracks[ladder.default_track]
    low, high = sorted((v for v in track.variants if v.height), key=lambda v: v.bandwidth)[:2]
    grant = PlayGrant(prefix=ladder.prefix, track=ladder.default_track, start_bps=high.bandwidth, max_height=0,
                      expires=0, resource_id="r", epoch=0, version="01SEAMASSET000000000000000.abc123")
    # A link that carries the higher rung; the start (4 s in 2 s) only the lower one.
    assert playback.start_budget(link_bps=grant.start_bps, plays=1) < high.bandwidth
    master = playback.master_playlist(transcoder.store, grant, behind_edge=True)
    uris = [line for line in master.splitlines() if line and not line.startswith("#")]
    held = uris[0].split("?")[0].removeprefix(f"v/{grant.version}/")
    assert held == f"t0/{low.name}/held-{high.name}-0-2.m3u8", master
    text = playback.media_playlist(transcoder.store, grant, held)
    segments = hls.media_segments(text)
    stored = hls.media_segments(b"".join(transcoder.store.open(ladder.key(high.uri))).decode())
    assert [round(d, 3) for d, _ in segments] == [round(d, 3) for d, _ in stored]
    for _, uri in segments:  # each names a file the play route serves, as the player resolves it
        assert transcoder.store.exists(ladder.key(posixpath.normpath(f"t0/{low.name}/{uri}"))), uri
    assert [uri for _, uri in segments[:3]] == [stored[0][1], stored[1][1], f"../{high.name}/{stored[2][1]}"]


def test_a_document_written_by_the_transcoder_is_previewed_and_searched_by_the_api(transcoder, tmp_path):  # noqa: F811
    source = media.text_pdf(tmp_path / "lesson.pdf", text="Pythagoras")
    key = "sources/seam.pdf"
    transcoder.store.put_file(key, source, content_type="application/pdf")
    with transcoder.engine.begin() as connection:
        job_id = jobs.create_job(connection, resource_id="r", asset_id="01SEAMASSET000000000000000",
                                 kind=jobs.JobKind.document, source_key=key, source_media_type="application/pdf")
    assert process_job(transcoder, job_id) == "done"
    with transcoder.engine.connect() as connection:
        result = connection.execute(select(jobs.processing_jobs.c.result)
                                    .where(jobs.processing_jobs.c.id == job_id)).scalar_one()
    asset = folded(jobs.JobKind.document, result, category="document")
    (document,) = renditions_of(asset)
    assert isinstance(document, DocumentOutput) and document.page_images == 1

    preview = document_preview(transcoder.store, [asset], asset_id=None)
    assert preview.page_count == 1 and [page.number for page in preview.pages] == [1]
    assert transcoder.store.exists(document.key(document.page_image_name(1)))
    assert [(page.number, page.text) for page in _pages(transcoder.store, [asset])] == [(1, "Pythagoras")]
