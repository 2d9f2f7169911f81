"""Behind an edge, a master holds the school's classrooms to one rung: its first variant is a held
playlist, the start rung's segments for the start and the highest rung the link carries for the
rest, so every classroom asks for the same files and each crosses the link once. The only other
rung listed is the lowest, a floor for a player that cannot keep up."""
from __future__ import annotations

import io
import re
from urllib.parse import urljoin, urlsplit

import pytest
from sqlalchemy import update

from services.api.orgs.models import School
from services.api.resources.models import Asset, Resource
from services.common import hls
from tests.api.playback.test_start_rung import LADDER, PREFIX, make_lesson, start
from tests.helpers import assert_problem

DURATIONS = (2.0, 2.0, 4.0, 4.0, 4.0, 1.5)  # the ladder's two short first segments, a short last one


def media_playlist(durations=DURATIONS) -> str:
    lines = ["#EXTM3U", "#EXT-X-VERSION:6", "#EXT-X-TARGETDURATION:4", "#EXT-X-MEDIA-SEQUENCE:0",
             "#EXT-X-PLAYLIST-TYPE:VOD", "#EXT-X-INDEPENDENT-SEGMENTS"]
    for n, duration in enumerate(durations):
        lines += [f"#EXTINF:{duration:.6f},", f"seg_{n:05d}.ts"]
    return "\n".join([*lines, "#EXT-X-ENDLIST"]) + "\n"


HLS_TYPE = "application/vnd.apple.mpegurl"


def store_playlists(store, **texts: str) -> None:
    for name, _, _ in LADDER:
        data = texts.get(name, media_playlist()).encode()
        store.put(f"{PREFIX}/{name}/index.m3u8", io.BytesIO(data), length=len(data), content_type=HLS_TYPE)


@pytest.fixture
def lesson(app, factory, session):
    made = make_lesson(app.state.blob_store, factory, session, classrooms=3)
    session.execute(update(School).where(School.id == made["school_id"]).values(edge_url="http://edge.school.lan"))
    factory.commit()
    store_playlists(app.state.blob_store)
    return made


def master_of(client, body: dict) -> tuple[str, list[tuple[int, str]]]:
    """The master's path on the API, and its variants as (BANDWIDTH, URI) in order."""
    path = urlsplit(body["hls_url"]).path
    master = client.get(path)
    assert master.status_code == 200, master.text
    lines = master.text.splitlines()
    variants = [(int(line.split("BANDWIDTH=", 1)[1].split(",", 1)[0]), lines[i + 1])
                for i, line in enumerate(lines) if line.startswith("#EXT-X-STREAM-INF:")]
    return path, variants


def test_classrooms_behind_an_edge_start_low_and_are_held_to_the_top_rung_the_link_carries(client, lesson):
    for headers in lesson["teachers"]:
        path, variants = master_of(client, start(client, lesson, headers))
        version = re.search(r"v/([^/]+)/", variants[0][1]).group(1)
        # 3.2 Mbit/s for one lesson: 720p (1.9) is the top that fits, 1080p (3.4) is not listed;
        # the start is 480p's first two segments (4 s, within 2 s of the link), warmed by the edge.
        assert variants[0] == (1_900_000, f"v/{version}/480p/held-720p-0-2.m3u8?warm0=seg_00000.ts&warm1=seg_00001.ts")
        assert [bps for bps, _ in variants[1:]] == [180_000]  # the floor: the lowest rung
        held = client.get(path.replace("master.m3u8", variants[0][1].split("?")[0]))
        assert held.status_code == 200, held.text
        assert held.headers["content-type"].startswith(HLS_TYPE)
        assert hls.media_segments(held.text) == [
            (2.0, "seg_00000.ts"), (2.0, "seg_00001.ts"), (4.0, "../720p/seg_00002.ts"), (4.0, "../720p/seg_00003.ts"),
            (4.0, "../720p/seg_00004.ts"), (1.5, "../720p/seg_00005.ts")]
        assert held.text.count("#EXT-X-DISCONTINUITY") == 1 and held.text.rstrip().endswith("#EXT-X-ENDLIST")
        # Its files are the ladder's own paths: the same cache keys whatever playlist named them.
        for uri in ("seg_00000.ts", "../720p/seg_00002.ts"):
            url = urljoin(path.replace("master.m3u8", variants[0][1]), uri)
            assert url.endswith(("/480p/seg_00000.ts", "/720p/seg_00002.ts"))
            segment = client.get(url, follow_redirects=False)
            assert segment.status_code == 307, segment.text


def test_a_start_later_in_the_lesson_holds_the_start_rung_there_with_a_discontinuity_each_side(client, lesson):
    played = client.get(f"/api/v1/resources/{lesson['id']}/play", params={"t": "3"}, headers=lesson["teachers"][0])
    assert played.status_code == 200, played.text
    path, variants = master_of(client, played.json())
    assert "/480p/held-720p-1-3.m3u8?warm0=seg_00001.ts&warm1=seg_00002.ts" in variants[0][1]
    held = client.get(path.replace("master.m3u8", variants[0][1].split("?")[0]))
    assert held.status_code == 200, held.text
    assert [uri for _, uri in hls.media_segments(held.text)][:4] == [
        "../720p/seg_00000.ts", "seg_00001.ts", "seg_00002.ts", "../720p/seg_00003.ts"]
    assert held.text.count("#EXT-X-DISCONTINUITY") == 2


def test_the_link_is_shared_among_the_lessons_playing_through_the_edge(client, lesson, session):
    resource = session.get(Resource, lesson["id"])
    other = Resource(title="另一课", kind=resource.kind, visibility=resource.visibility, license=resource.license,
                     owner_id=resource.owner_id, school_id=resource.school_id, district_id=resource.district_id,
                     status=resource.status)
    session.add(other)
    session.flush()
    (asset,) = resource.assets
    session.add(Asset(resource_id=other.id, blob_id=asset.blob_id, role="main", filename="第二课.mp4",
                      media_type="video/mp4", category="video", size=9, sha256=asset.sha256,
                      renditions=asset.renditions))
    session.commit()
    start(client, {"id": other.id}, lesson["teachers"][0])  # another lesson, same school: two on the link
    _, variants = master_of(client, start(client, lesson, lesson["teachers"][1]))
    # Each lesson's start: 3.2 / 2 lessons / 2 = 0.8 Mbit/s (360p); its rung: 1.6 (480p).
    assert "/360p/held-480p-0-2.m3u8?" in variants[0][1] and variants[0][0] == 980_000
    assert [bps for bps, _ in variants[1:]] == [180_000]


@pytest.mark.parametrize("name", [
    "held-720p-2-1.m3u8", "held-720p-0-99.m3u8", "held-1080q-0-2.m3u8", "held-720p-0-0.m3u8",
    "held-720p-0-1234567.m3u8", "held-720p--1-2.m3u8", "held-..-0-2.m3u8", "held-720p-0-2.m3u8.ts",
])
def test_a_held_name_that_makes_no_playlist_is_a_missing_file(client, lesson, name):
    path, variants = master_of(client, start(client, lesson, lesson["teachers"][0]))
    version = re.search(r"v/([^/]+)/", variants[0][1]).group(1)
    answer = client.get(path.replace("master.m3u8", f"v/{version}/480p/{name}"))
    assert answer.status_code in (403, 404), answer.text
    assert_problem(answer, answer.status_code, "blob.not_found" if answer.status_code == 404 else "playback.invalid_token")
    # Under a directory that is no rung of the ladder.
    answer = client.get(path.replace("master.m3u8", f"v/{version}/audio/held-720p-0-2.m3u8"))
    assert_problem(answer, 404, "blob.not_found")


def test_rungs_whose_segments_do_not_line_up_are_listed_as_for_any_school(client, lesson, app):
    store_playlists(app.state.blob_store, **{"720p": media_playlist((2.0, 2.0, 3.0, 5.0, 4.0, 1.5))})
    _, variants = master_of(client, start(client, lesson, lesson["teachers"][0]))
    assert variants[0][1].endswith("/480p/index.m3u8?warm0=seg_00000.ts&warm1=seg_00001.ts")
    assert [bps for bps, _ in variants] == [980_000, 3_400_000, 1_900_000, 600_000, 180_000]


def test_without_an_edge_the_master_is_the_ladder(client, lesson, session):
    session.execute(update(School).where(School.id == lesson["school_id"]).values(edge_url=None))
    session.commit()
    _, variants = master_of(client, start(client, lesson, lesson["teachers"][0]))
    assert [bps for bps, _ in variants] == [980_000, 3_400_000, 1_900_000, 600_000, 180_000]
    assert all("held-" not in uri and "warm" not in uri for _, uri in variants)


def test_when_nothing_above_the_start_rung_fits_the_link_the_master_holds_to_the_start_rung(client, lesson, session):
    session.execute(update(School).where(School.id == lesson["school_id"]).values(bandwidth_kbps=600))
    session.commit()
    _, variants = master_of(client, start(client, lesson, lesson["teachers"][0]))
    # 480 kbit/s: the start (240 kbit/s for 4 s in 2 s) fits no rung, so the lowest; the rest fits
    # no rung above it either. No rung the link cannot carry is listed.
    assert [bps for bps, _ in variants] == [180_000]
    assert variants[0][1].endswith("/240p/index.m3u8?warm0=seg_00000.ts&warm1=seg_00001.ts")
