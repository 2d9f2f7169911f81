"""The transcoder's results as typed models (services/common/renditions.py): what the transcoder
stored before they were typed still reads, and reads back unchanged; a malformed result is a
`ResultInvalid` naming the field, never a KeyError later."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from services.common import hls
from services.common.renditions import (
    DocumentOutput,
    HlsOutput,
    ImageOutput,
    AudioOutput,
    OtherOutput,
    ResultInvalid,
    Skipped,
    manifest_json,
    read_manifest,
    read_page_texts,
    read_renditions,
    read_result,
    replace_rendition,
)

# Made by the transcoder at commit 571e208, before this module existed (see its `_about`).
OLD = json.loads((Path(__file__).parent / "transcoder" / "results_571e208.json").read_text("utf-8"))
JOBS = ("first_playable", "ladder", "document", "image", "audio")


def old_rendition(job: str) -> dict:
    """An asset's rendition exactly as `apply_finished_jobs` stored it before: the job's result
    without its file list, and the job's name."""
    return {"job": job, **{key: value for key, value in OLD[job].items() if key != "files"}}


@pytest.mark.parametrize("job", JOBS)
def test_a_result_stored_before_reads_and_writes_back_unchanged(job):
    result = read_result(job, OLD[job])
    assert type(result) is {"first_playable": HlsOutput, "ladder": HlsOutput, "document": DocumentOutput,
                            "image": ImageOutput, "audio": AudioOutput}[job]
    assert result.stored() == OLD[job]
    (rendition,) = read_renditions([old_rendition(job)])
    assert rendition.stored() == old_rendition(job)
    assert result.as_rendition(job).stored() == old_rendition(job)


def test_the_old_shapes_read_as_what_they_say():
    ladder = read_result("ladder", OLD["ladder"])
    assert isinstance(ladder, HlsOutput)
    track = ladder.tracks[ladder.default_track]
    assert [v.name for v in track.variants] == ["240p"] and track.variants[0].height == 240
    assert track.audio is not None and track.audio.height is None and track.download == "t0/download.mp4"
    assert ladder.storyboard is not None and ladder.key(ladder.storyboard.vtt).endswith("/ladder/storyboard.vtt")
    assert {check.check for check in ladder.checks} == {"black_video", "frozen_video", "silent_audio"}
    document = read_result("document", OLD["document"])
    assert isinstance(document, DocumentOutput)
    assert (document.pages, document.page_images, document.page_image_name(1)) == (1, 1, "pages/0001.jpg")
    assert [(p.page, p.text) for p in read_page_texts(OLD["document_text_json"].encode())] == [(1, "Lesson one")]
    skipped = read_result("first_playable", OLD["skipped"])
    assert isinstance(skipped, Skipped) and skipped.skipped.startswith("source video is mpeg4")


def test_the_manifest_json_stored_before_reads_and_is_written_again_byte_for_byte():
    manifest = read_manifest(OLD["ladder_manifest_json"].encode())
    assert isinstance(manifest, HlsOutput) and manifest.files and "t0/240p/index.m3u8" in manifest.files
    assert manifest_json(manifest) == OLD["ladder_manifest_json"].encode()


def test_older_rows_and_newer_writers_read_too():
    # Before pre-screening a result had no `checks`; a document of absurd pages has a note.
    older = {key: value for key, value in old_rendition("ladder").items() if key != "checks"}
    capped = {**old_rendition("document"), "note": "1 page(s) of absurd size rendered scaled down", "capped_pages": [1]}
    (ladder, document) = read_renditions([older, capped])
    assert isinstance(ladder, HlsOutput) and ladder.checks == [] and ladder.stored() == older
    assert isinstance(document, DocumentOutput) and document.capped_pages == [1] and document.stored() == capped
    # A key this version does not know, and a job it does not know, are kept as they were.
    newer = {**old_rendition("ladder"), "subtitles": [{"language": "zh-CN", "uri": "t0/subs/zh.m3u8"}]}
    unknown = {"job": "subtitles", "prefix": "media/x/subtitles", "tracks": [{"language": "zh-CN"}]}
    (ladder, other) = read_renditions([newer, unknown])
    assert ladder.stored() == newer and isinstance(other, OtherOutput) and other.stored() == unknown
    # A broken check is left out (as checks.read_checks does), not fatal.
    odd = {**old_rendition("audio"), "checks": [{"check": "silent_audio"}, *OLD["audio"]["checks"]]}
    (audio,) = read_renditions([odd])
    assert [c.check for c in audio.checks] == ["silent_audio"] and audio.checks[0].result == "pass"


def test_a_rendition_replaces_only_the_earlier_one_of_its_job():
    stored = [old_rendition("first_playable"), old_rendition("ladder")]
    again = read_result("ladder", {**OLD["ladder"], "duration_s": 4.0})
    assert isinstance(again, HlsOutput)
    replaced = replace_rendition(stored, again.as_rendition("ladder"))
    assert [r["job"] for r in replaced] == ["first_playable", "ladder"] and replaced[1]["duration_s"] == 4.0
    assert "files" not in replaced[1]


def _without(value: dict, *path: str | int) -> dict:
    copy = json.loads(json.dumps(value))
    target = copy
    for part in path[:-1]:
        target = target[part]
    del target[path[-1]]
    return copy


@pytest.mark.parametrize(("stored", "named"), [
    (_without(old_rendition("ladder"), "tracks", 0, "variants", 0, "bandwidth"), "tracks.0.variants.0.bandwidth"),
    (_without(old_rendition("ladder"), "prefix"), "prefix"),
    ({**old_rendition("ladder"), "default_track": 3}, "default_track 3"),
    ({**old_rendition("ladder"), "tracks": [{"variants": []}]}, "tracks.0.variants"),
    ({**old_rendition("ladder"), "duration_s": "forty minutes"}, "duration_s"),
    ({**old_rendition("document"), "page_image": "pages/{number}.jpg"}, "page_image"),
    ({**old_rendition("document"), "page_image": None}, "page image(s) but no page_image"),
    (_without(old_rendition("image"), "job"), "a rendition names its job"),
])
def test_a_malformed_rendition_says_which_field(stored, named):
    with pytest.raises(ResultInvalid, match="renditions of file A") as raised:
        read_renditions([old_rendition("first_playable"), stored], where="the renditions of file A")
    assert named in raised.value.problem


def test_malformed_results_manifests_and_page_text_say_what_is_wrong():
    with pytest.raises(ResultInvalid, match="the ladder job's result: tracks: Field required"):
        read_result("ladder", _without(OLD["ladder"], "tracks"))
    with pytest.raises(ResultInvalid, match="manifest.json: not JSON"):
        read_manifest(b'{"kind": "hls", "tracks": [')
    with pytest.raises(ResultInvalid, match=r"text.json: 0.page: Input should be greater than or equal to 1"):
        read_page_texts(b'[{"page": 0, "text": "x"}]')


def test_the_master_playlist_from_typed_variants_is_the_one_written_before():
    ladder = read_result("ladder", OLD["ladder"])
    assert isinstance(ladder, HlsOutput)
    track = ladder.tracks[0]
    assert track.audio is not None
    # As services/common/hls.py wrote it from the dicts (commit 571e208).
    assert hls.master_playlist([*track.variants, track.audio]) == (
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-INDEPENDENT-SEGMENTS\n"
        f"#EXT-X-STREAM-INF:BANDWIDTH={track.variants[0].bandwidth},"
        f"AVERAGE-BANDWIDTH={track.variants[0].average_bandwidth},"
        f'CODECS="{track.variants[0].codecs}",RESOLUTION=320x240,FRAME-RATE=25.000\n'
        "t0/240p/index.m3u8\n"
        f"#EXT-X-STREAM-INF:BANDWIDTH={track.audio.bandwidth},AVERAGE-BANDWIDTH={track.audio.average_bandwidth},"
        'CODECS="mp4a.40.2"\nt0/audio/index.m3u8\n')
