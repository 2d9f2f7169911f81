"""The school edge (infra/edge/) through a real nginx: classrooms play through it, a segment
crosses the link once for all of them, and the API still decides who may watch (the token is
checked, but kept out of the cache key; a revoked link stops within the check's cache life)."""
from __future__ import annotations

import io
import json
import re
import time
from urllib.parse import urlsplit

import httpx
import pytest
from typer.testing import CliRunner
from sqlalchemy import update
from sqlalchemy.orm import Session

from services.api.orgs.models import School, SchoolKind
from services.api.resources.models import Asset, Resource, ResourceKind, ResourceStatus, Visibility
from services.api.uploads.models import Blob
from services.common.db import create_db_engine
from services.common.settings import StorageSettings
from services.common.storage import create_blob_store
from services.api.cli import app as lb
from services.api.packs import builder, signing
from services.api.packs.builder import PlannedMember, PlannedResource
from services.api.packs.schemas import PackResource
from tests import media
from tests.conftest import SECRET, make_settings
from tests.factories import Factory
from tests.live import ApiProcess, fresh_database
from tests.school_edge import SchoolEdge, nginx_or_skip

PREFIX = "media/edgelesson/ladder"
SEGMENT = bytes(range(256)) * 2048  # 512 KiB
FILES = {
    "t0/240p/index.m3u8": b"#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4.0,\nseg0.ts\n#EXTINF:4.0,\nseg1.ts\n#EXT-X-ENDLIST\n",
    "t0/240p/seg0.ts": SEGMENT,
    "t0/240p/seg1.ts": SEGMENT[::-1],
    "poster.jpg": b"poster bytes",
}
VARIANT = {"name": "240p", "uri": "t0/240p/index.m3u8", "bandwidth": 1_100_000, "average_bandwidth": 1_000_000,
           "codecs": "avc1.42c01e", "width": 426, "height": 240}
MANIFEST = {"kind": "hls", "prefix": PREFIX, "default_track": 0, "poster": "poster.jpg", "files": list(FILES),
            "tracks": [{"variants": [VARIANT], "audio": None, "download": None}]}
# A lesson of two rungs cut at the same times: the start fits the school's link on 240p
# (1.1 Mbit/s), the rest on 480p (2.5 of 3.2).
HELD_PREFIX = "media/edgelesson-two/ladder"
TWO_RUNGS = "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:2.0,\nseg0.ts\n#EXTINF:2.0,\nseg1.ts\n#EXTINF:4.0,\nseg2.ts\n#EXT-X-ENDLIST\n"
HELD_FILES = {f"t0/{rung}/{name}": data
              for rung, salt in (("240p", b"low"), ("480p", b"high"))
              for name, data in (("index.m3u8", TWO_RUNGS.encode()), ("seg0.ts", salt + SEGMENT[:70_000]),
                                 ("seg1.ts", salt + SEGMENT[:80_000]), ("seg2.ts", salt + SEGMENT[:90_000]))}
HELD_MANIFEST = {"kind": "hls", "prefix": HELD_PREFIX, "default_track": 0, "poster": None, "files": list(HELD_FILES),
                 "tracks": [{"variants": [VARIANT, {**VARIANT, "name": "480p", "uri": "t0/480p/index.m3u8",
                                                    "bandwidth": 2_500_000, "width": 854, "height": 480}],
                             "audio": None, "download": None}]}


@pytest.fixture(scope="module")
def stack(database_url, storage_env, tmp_path_factory):
    nginx_or_skip()
    root = tmp_path_factory.mktemp("edge")
    live_db = fresh_database(database_url, root)
    api = ApiProcess(database_url=live_db, data_dir=root / "data", secret=SECRET, extra_env=storage_env).start()
    settings = make_settings(root / "data", live_db)
    if storage_env:
        settings = settings.model_copy(update={"storage": StorageSettings(
            s3_endpoint=storage_env["LB_S3_ENDPOINT"], s3_access_key=storage_env["LB_S3_ACCESS_KEY"],
            s3_secret_key=storage_env["LB_S3_SECRET_KEY"], s3_bucket=storage_env["LB_S3_BUCKET"])})
    store = create_blob_store(settings)
    for prefix, files, manifest in ((PREFIX, FILES, MANIFEST), (HELD_PREFIX, HELD_FILES, HELD_MANIFEST)):
        for name, data in {**files, "manifest.json": json.dumps(manifest).encode()}.items():
            store.put(f"{prefix}/{name}", io.BytesIO(data), length=len(data), content_type="application/octet-stream")
    edge = SchoolEdge(upstream=api.url).start()
    engine = create_db_engine(live_db)
    try:
        yield {"api": api, "edge": edge, "engine": engine}
    finally:
        edge.stop()
        api.stop()
        engine.dispose()


@pytest.fixture
def lesson(stack):
    """A published lesson of the district, and two classrooms' teachers at a rural school whose
    edge_url is the edge."""
    return make_lesson(stack, MANIFEST)


@pytest.fixture
def two_rung_lesson(stack):
    """The same, of a lesson with two rungs (HELD_MANIFEST)."""
    return make_lesson(stack, HELD_MANIFEST)


def make_lesson(stack, manifest: dict) -> dict:
    with Session(stack["engine"]) as session:
        factory = Factory(session=session, secret=SECRET)
        rural = factory.school(kind=SchoolKind.rural, bandwidth_kbps=4000)
        rural.edge_url = stack["edge"].url
        owner = factory.user()
        viewers = [factory.user(school=rural) for _ in range(2)]
        blob = Blob(sha256=f"{time.time_ns():064x}", size=9, media_type="video/mp4", backend="local",
                    key=f"blobs/edge/{time.time_ns()}")
        resource = Resource(title="认识钟表", kind=ResourceKind.micro_lesson, visibility=Visibility.district,
                            license="cc-by-4.0", owner_id=owner.id, school_id=owner.school_id,
                            district_id=owner.district_id, status=ResourceStatus.published)
        session.add_all([blob, resource])
        session.flush()
        session.add(Asset(resource_id=resource.id, blob_id=blob.id, role="main", filename="第一课.mp4",
                          media_type="video/mp4", category="video", size=9, sha256=blob.sha256,
                          renditions=[{"job": "ladder", **manifest}]))
        session.commit()
        asset = session.query(Asset).filter_by(resource_id=resource.id).one()
        return {"id": resource.id, "viewers": [factory.headers(v) for v in viewers], "school_id": rural.id,
                "asset_id": asset.id}


def play(stack, lesson, viewer: int, **params) -> dict:
    response = httpx.get(f"{stack['api'].url}/api/v1/resources/{lesson['id']}/play",
                         headers=lesson["viewers"][viewer], params=params, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def walk(master_url: str) -> dict[str, httpx.Response]:
    """What a player fetches: the master, the first variant's media playlist, its segments."""
    with httpx.Client(timeout=30) as client:
        master = client.get(master_url)
        assert master.status_code == 200, master.text
        variant = next(line for line in master.text.splitlines() if line and not line.startswith("#"))
        media_url = httpx.URL(master_url).join(variant)
        media = client.get(media_url)
        assert media.status_code == 200, media.text
        fetched = {"master": master, "media": media}
        for line in media.text.splitlines():
            if line and not line.startswith("#"):
                fetched[line] = client.get(media_url.join(line))
        return fetched


def test_two_classrooms_play_through_the_edge_and_each_segment_crosses_the_link_once(stack, lesson):
    edge = stack["edge"]
    # Another grant (a player asking for at most 720p), so another token, for the same content.
    first, second = play(stack, lesson, 0), play(stack, lesson, 1, max_height=720)
    # The school's edge_url: /play hands out URLs through the edge.
    assert first["hls_url"].startswith(f"{edge.url}/api/v1/play/")
    assert first["poster_url"].startswith(f"{edge.url}/api/v1/play/")
    a, b = walk(first["hls_url"]), walk(second["hls_url"])
    # seg0 holds the start, which the first classroom's playlist request warmed; seg1 it fetched.
    for fetched, statuses in ((a, ("HIT", "MISS")), (b, ("HIT", "HIT"))):
        assert fetched["seg0.ts"].status_code == 200 and fetched["seg0.ts"].content == SEGMENT
        assert fetched["seg1.ts"].content == SEGMENT[::-1]
        assert (fetched["seg0.ts"].headers["x-cache-status"], fetched["seg1.ts"].headers["x-cache-status"]) == statuses
        assert "immutable" in fetched["seg0.ts"].headers["cache-control"]
        assert "max-age=31536000" in fetched["seg0.ts"].headers["cache-control"]
    # The two classrooms hold different tokens, and the second was served from the cache: the
    # token is not part of the key, and the link carried each file once.
    assert first["hls_url"] != second["hls_url"]
    version = re.search(r"/v/([^/]+)/", str(a["seg0.ts"].url)).group(1)
    assert f"/v/{version}/" in str(b["seg0.ts"].url)
    for file in ("seg0.ts", "seg1.ts", "index.m3u8"):
        assert len(edge.upstream_fetches(file)) == 1, edge.log_lines("upstream.log")
    # The poster too, once.
    for _ in range(2):
        poster = httpx.get(first["poster_url"], timeout=30)
        assert poster.status_code == 200 and poster.content == b"poster bytes"
    assert poster.headers["x-cache-status"] == "HIT"
    # Tokens never reach the edge's logs.
    token = urlsplit(first["hls_url"]).path.split("/")[4]
    for name in ("access.log", "upstream.log", "check.log", "passthrough.log", "warm.log"):
        assert not any(token in line for line in edge.log_lines(name)), name


def test_the_start_is_warmed_with_plain_names_beside_the_playlist_only(stack, lesson):
    """The master names the start's segments on its first variant; the edge fetches those into
    its cache when a classroom asks for that playlist, and nothing that is not a plain file name
    beside the playlist, whatever a client writes into the query."""
    edge = stack["edge"]
    master_url = play(stack, lesson, 0)["hls_url"]
    master = httpx.get(master_url, timeout=30)
    assert master.status_code == 200, master.text
    variant = next(line for line in master.text.splitlines() if line and not line.startswith("#"))
    # seg0 lasts 4 s, the players' whole start buffer: the only segment named.
    assert variant.endswith("/t0/240p/index.m3u8?warm0=seg0.ts"), variant
    playlist_url = httpx.URL(master_url).join(variant.split("?")[0])
    hostile = {"warm0": "../../../240p/seg0.ts", "warm1": "/etc/passwd", "warm2": "seg1.ts"}
    media = httpx.get(playlist_url, params=hostile, timeout=30)
    assert media.status_code == 200 and b"seg1.ts" in media.content
    # Warming runs beside the playlist's answer: wait for its log line, not for a time.
    version = re.search(r"/v/([^/]+)/", str(playlist_url)).group(1)
    edge.wait_for_line("warm.log", f"/v/{version}/t0/240p/seg1.ts")
    slots = sorted(re.search(r'"WARM /v/[^/]+/(\S*)" (\d+) cache=(\S+)', line).groups()
                   for line in edge.log_lines("warm.log") if f"/v/{version}/" in line)
    # The two other names were refused before any fetch (204, no file).
    assert slots == [("t0/240p/", "204", "-")] * 2 + [("t0/240p/seg1.ts", "200", "MISS")], slots
    assert not edge.upstream_fetches("passwd") and not any("/.." in line for line in edge.log_lines("upstream.log"))
    segment = httpx.get(playlist_url.join("seg1.ts"), timeout=30)
    assert segment.status_code == 200 and segment.content == SEGMENT[::-1]
    assert segment.headers["x-cache-status"] == "HIT"
    # seg0 was never named by a plain name here, so it is still fetched when asked for.
    first = httpx.get(playlist_url.join("seg0.ts"), timeout=30)
    assert first.status_code == 200 and first.headers["x-cache-status"] == "MISS"


def test_a_school_without_an_edge_gets_no_warm_names(stack, lesson):
    with Session(stack["engine"]) as session:
        session.execute(update(School).where(School.id == lesson["school_id"]).values(edge_url=None))
        session.commit()
    master = httpx.get(play(stack, lesson, 0)["hls_url"], timeout=30)
    assert master.status_code == 200, master.text
    assert "warm" not in master.text


def test_the_edge_refuses_a_bad_forged_or_foreign_token(stack, lesson):
    good = play(stack, lesson, 0)["hls_url"]
    warmed = walk(good)
    segment_url = str(warmed["seg0.ts"].url)
    token = urlsplit(good).path.split("/")[4]
    body, mac = token.split(".")
    forged_body = body[:-2] + ("AA" if body[-2:] != "AA" else "BB")
    for bad in ("not-a-token", f"{forged_body}.{mac}", f"{body}.{mac[:-2]}xx", ""):
        response = httpx.get(segment_url.replace(f"/{token}/", f"/{bad}/"), timeout=30)
        assert response.status_code in (403, 404), (bad, response.status_code)
        assert response.content != SEGMENT
    # A valid token for one version cannot read another version's cached files.
    other = re.sub(r"/v/([^/.]+)\.([0-9a-f]+)/", lambda m: f"/v/{m.group(1)}.{'0' * len(m.group(2))}/", segment_url)
    assert httpx.get(other, timeout=30).status_code == 403


def test_an_expired_token_is_refused_by_the_edge(stack, lesson):
    from services.api.playback.tokens import PlayGrant, sign
    from services.common.keys import Purpose, derive_key

    good = play(stack, lesson, 0)["hls_url"]
    segment_url = str(walk(good)["seg0.ts"].url)
    version = re.search(r"/v/([^/]+)/", segment_url).group(1)
    with Session(stack["engine"]) as session:
        epoch = session.get(Resource, lesson["id"]).link_epoch
    expired = sign(PlayGrant(prefix=PREFIX, track=0, start_bps=0, max_height=0, expires=int(time.time()) - 5,
                             resource_id=lesson["id"], epoch=epoch, version=version),
                   secret=derive_key(SECRET, Purpose.playback))
    token = urlsplit(good).path.split("/")[4]
    response = httpx.get(segment_url.replace(f"/{token}/", f"/{expired}/"), timeout=30)
    assert response.status_code == 403


@pytest.mark.slow  # waits out the edge's cached yes (EDGE_CHECK_TTL_S)
def test_a_revoked_link_stops_at_the_edge_within_the_check_life(stack, lesson):
    from services.api.playback.service import EDGE_CHECK_TTL_S

    hls_url = play(stack, lesson, 0)["hls_url"]
    segment_url = str(walk(hls_url)["seg0.ts"].url)
    assert httpx.get(segment_url, timeout=30).headers["x-cache-status"] == "HIT"
    taken_down = time.monotonic()
    with Session(stack["engine"]) as session:
        session.execute(update(Resource).where(Resource.id == lesson["id"])
                        .values(link_epoch=Resource.link_epoch + 1))
        session.commit()
    # Until the edge's cached yes runs out, at most EDGE_CHECK_TTL_S; then refused, cached bytes or not.
    deadline = taken_down + EDGE_CHECK_TTL_S + 30
    while True:
        response = httpx.get(segment_url, timeout=30)
        if response.status_code == 403:
            break
        assert response.status_code == 200
        assert time.monotonic() < deadline, "the edge still served a revoked link"
        time.sleep(1)
    assert time.monotonic() - taken_down <= EDGE_CHECK_TTL_S + 5
    assert httpx.get(hls_url, timeout=30).status_code == 403


def test_a_school_without_an_edge_plays_from_the_api(stack, lesson):
    with Session(stack["engine"]) as session:
        session.execute(update(School).where(School.id == lesson["school_id"]).values(edge_url=None))
        session.commit()
    assert play(stack, lesson, 0)["hls_url"].startswith(f"{stack['api'].url}/api/v1/play/")


def test_a_pack_imported_with_warm_plays_through_the_edge_without_the_link(stack, lesson, tmp_path):
    """`lb pack import --warm` into the edge's pack directory: the lesson's packed rung plays from
    the edge, every request still authorised by the API, no segment byte over the link."""
    edge = stack["edge"]
    import_pack(edge, lesson, tmp_path)
    link_bytes = edge.upstream_bytes()
    fetched = walk(play(stack, lesson, 0)["hls_url"])
    assert "seg-00000.ts" in fetched["media"].text  # the pack's playlist, not the ladder's
    segments = [name for name in fetched if name.startswith("seg-")]
    assert segments
    warm = edge.pack_dir / "hls" / lesson["asset_id"] / "240p"
    for name in segments:
        assert fetched[name].status_code == 200 and fetched[name].content == (warm / name).read_bytes()
    # Over the link: the master playlist and the token checks only (a few kB), no segment.
    assert edge.upstream_bytes() - link_bytes < 8_000
    assert not any(name in line for name in segments for line in edge.log_lines("passthrough.log"))
    # Still authorised: a forged token gets nothing of the pack.
    url = str(fetched[segments[0]].url)
    token = urlsplit(url).path.split("/")[4]
    assert httpx.get(url.replace(f"/{token}/", f"/{token[:-2]}xx/"), timeout=30).status_code == 403


def import_pack(edge: SchoolEdge, lesson: dict, tmp_path) -> None:
    """A pack of the lesson at 240p, imported with --warm into the edge's pack directory."""
    lesson_mp4 = media.lesson_mp4(tmp_path / "lesson.mp4", seconds=9, size="426x240").read_bytes()
    entry = PackResource(id=lesson["id"], title="认识钟表", kind="micro_lesson", version=1, subject=None, stage=None,
                         grade=None, edition=None, knowledge_points=[], members=[])
    member = PlannedMember(path=f"resources/{lesson['id']}/lesson-{lesson['asset_id']}.mp4", role="lesson",
                           media_type="video/mp4", asset_id=lesson["asset_id"], filename="第一课.mp4",
                           estimated_size=len(lesson_mp4), fingerprint="edge", source=lambda: iter([lesson_mp4]),
                           height=240)
    pack = tmp_path / "pack.zip"
    builder.write_pack(pack, pack_id="e" * 40, title="认识钟表", resources=[PlannedResource(entry=entry, members=[member])],
                       key=signing.pack_signing_key(SECRET))
    public_key = signing.public_key_b64(signing.pack_signing_key(SECRET).public_key())
    imported = CliRunner().invoke(lb, ["pack", "import", str(pack), "--into", str(edge.pack_dir), "--warm",
                                       "--public-key", public_key])
    assert imported.exit_code == 0, imported.output
    assert "1 lessons laid out as HLS" in imported.output


def test_classrooms_behind_the_edge_are_held_to_one_rung_and_each_file_crosses_the_link_once(stack, two_rung_lesson):
    """The master's first variant is a held playlist: the start from 240p (warmed), the rest from
    480p, the top rung the school's link carries; both classrooms fetch the same files."""
    edge = stack["edge"]
    walks = [walk(play(stack, two_rung_lesson, viewer)["hls_url"]) for viewer in (0, 1)]
    for fetched in walks:
        variant = next(line for line in fetched["master"].text.splitlines() if line and not line.startswith("#"))
        assert re.search(r"/t0/240p/held-480p-0-2\.m3u8\?warm0=seg0\.ts&warm1=seg1\.ts$", variant), variant
        assert "t0/480p/index.m3u8" not in fetched["master"].text  # the held playlist stands for it
        assert [line for line in fetched["media"].text.splitlines() if line and not line.startswith("#")] == [
            "seg0.ts", "seg1.ts", "../480p/seg2.ts"]
        for name, rung in (("seg0.ts", "240p"), ("seg1.ts", "240p"), ("../480p/seg2.ts", "480p")):
            assert fetched[name].status_code == 200
            assert fetched[name].content == HELD_FILES[f"t0/{rung}/{name.rsplit('/', 1)[-1]}"]
    version = re.search(r"/v/([^/]+)/", str(walks[0]["media"].url)).group(1)
    assert [walks[1][name].headers["x-cache-status"] for name in ("seg0.ts", "seg1.ts", "../480p/seg2.ts")] == ["HIT"] * 3
    for path in ("t0/240p/held-480p-0-2.m3u8", "t0/240p/seg0.ts", "t0/240p/seg1.ts", "t0/480p/seg2.ts"):
        assert len([line for line in edge.log_lines("upstream.log") if f"/v/{version}/{path}" in line]) == 1, path
    assert not [line for line in edge.log_lines("upstream.log") if f"/v/{version}/t0/480p/seg0" in line]


def test_a_held_start_on_a_packed_rung_plays_the_whole_lesson_from_the_pack(stack, two_rung_lesson, tmp_path):
    """A pack brought the start rung (240p): the edge answers the held playlist with the pack's
    own playlist of that rung, so nothing of the lesson crosses the link."""
    edge = stack["edge"]
    import_pack(edge, two_rung_lesson, tmp_path)
    link_bytes = edge.upstream_bytes()
    fetched = walk(play(stack, two_rung_lesson, 0)["hls_url"])
    assert "/t0/240p/held-480p-0-2.m3u8?" in str(fetched["master"].text)
    segments = [name for name in fetched if name.startswith("seg-")]
    assert segments and "../480p/" not in fetched["media"].text
    warm = edge.pack_dir / "hls" / two_rung_lesson["asset_id"] / "240p"
    assert fetched["media"].text == (warm / "index.m3u8").read_text()
    for name in segments:
        assert fetched[name].status_code == 200 and fetched[name].content == (warm / name).read_bytes()
    assert edge.upstream_bytes() - link_bytes < 8_000
