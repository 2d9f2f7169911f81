"""Subtitle sidecars of lessons: uploaded through tus like every file, checked when the upload
ends (a bad file is refused with its own problem code and nothing is kept), attached to the
lesson's video, served in the signed master playlist as an HLS subtitle rendition (WebVTT, an SRT
converted), and `/play?t=` starting playback at a time."""
from __future__ import annotations

import io
import json
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from services.api.resources.models import Asset, Resource, ResourceKind, ResourceStatus, Visibility
from services.api.subtitles.models import SubtitleTrack
from services.api.uploads.models import Blob, Upload, UploadStatus
from tests import media
from tests.api.uploads.test_tus import CHUNK, TUS, UPLOADS, metadata
from tests.helpers import assert_problem

PREFIX = "media/subtitled/ladder"
VARIANTS = [{"uri": "240p/index.m3u8", "bandwidth": 200_000, "average_bandwidth": 180_000, "codecs": "avc1.42c01e",
             "width": 426, "height": 240},
            {"uri": "360p/index.m3u8", "bandwidth": 500_000, "average_bandwidth": 450_000, "codecs": "avc1.42c01e",
             "width": 640, "height": 360}]
FILES = {"manifest.json": json.dumps({"kind": "hls", "prefix": PREFIX, "tracks": [{"variants": VARIANTS}]}),
         "240p/index.m3u8": "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4.0,\nseg0.ts\n#EXT-X-ENDLIST\n",
         "360p/index.m3u8": "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4.0,\nseg0.ts\n#EXT-X-ENDLIST\n"}
DURATION_S = 12.0

SRT = ("1\r\n00:00:01,000 --> 00:00:03,500\r\n同学们好，今天我们学习<font color=\"red\">配方法</font>\r\n\r\n"
       "2\r\n00:00:04,200 --> 00:00:07,000\r\n先把常数项移到等号右边 & 两边加上一次项系数一半的平方\r\n\r\n"
       "3\r\n00:00:08,000 --> 00:00:11,900\r\n<i>这样左边就是完全平方式</i>\r\n").encode()
VTT_EN = ("WEBVTT\n\nNOTE made by hand\n\nintro\n00:01.000 --> 00:03.000 align:center\nGood morning, class\n\n"
          "00:05.000 --> 00:09.000\nComplete the square\n").encode()


@pytest.fixture
def lesson(app, factory, session):
    """A teacher's 12-second lesson with its HLS ladder in storage, in review (files are added
    to it directly) or published (files added go through a revision)."""
    store = app.state.blob_store
    for name, text in FILES.items():
        data = text.encode()
        store.put(f"{PREFIX}/{name}", io.BytesIO(data), length=len(data), content_type="application/octet-stream")
    owner = factory.user()
    blob = Blob(sha256="cd" * 32, size=9, media_type="video/mp4", backend="local", key="blobs/cd/subtitled")
    resource = Resource(title="配方法", kind=ResourceKind.micro_lesson, visibility=Visibility.school,
                        license="cc-by-4.0", owner_id=owner.id, school_id=owner.school_id,
                        district_id=owner.district_id, status=ResourceStatus.pending_review)
    session.add_all([blob, resource])
    session.flush()
    rendition = {"job": "ladder", "kind": "hls", "prefix": PREFIX, "files": list(FILES),
                 "tracks": [{"variants": VARIANTS}]}
    session.add(Asset(resource_id=resource.id, blob_id=blob.id, role="main", filename="配方法.mp4",
                      media_type="video/mp4", category="video", size=9, sha256=blob.sha256, duration_s=DURATION_S,
                      renditions=[rendition]))
    factory.commit()
    return {"id": resource.id, "owner": owner, "headers": factory.headers(owner)}


def tus_upload(client, headers, data: bytes, filename: str, **meta: str):
    """Creates and sends a whole upload; returns (upload id, the last response)."""
    created = client.post(UPLOADS, headers={**headers, **TUS, "Upload-Length": str(len(data)),
                                            "Upload-Metadata": metadata(filename=filename, **meta)})
    if created.status_code != 201:
        return None, created
    location = created.headers["location"]
    sent = client.patch(location, content=data, headers={**headers, **TUS, **CHUNK, "Upload-Offset": "0"})
    return location.rstrip("/").rsplit("/", 1)[1], sent


def add_subtitle(client, lesson, data=SRT, filename="配方法.srt", **meta):
    upload_id, sent = tus_upload(client, lesson["headers"], data, filename, **meta)
    assert sent.status_code == 204, sent.text
    return client.post(f"/api/v1/resources/{lesson['id']}/assets", headers=lesson["headers"],
                       json={"upload_ids": [upload_id]})


def fetch(client, url):
    parts = urlsplit(url)
    return client.get(parts.path + (f"?{parts.query}" if parts.query else ""), follow_redirects=False)


def test_an_srt_sidecar_becomes_a_subtitle_track_of_the_lesson(client, lesson, session):
    added = add_subtitle(client, lesson, language="zh")
    assert added.status_code in (200, 201), added.text
    detail = client.get(f"/api/v1/resources/{lesson['id']}", headers=lesson["headers"]).json()
    subtitle = next(a for a in detail["assets"] if a["category"] == "subtitle")
    assert subtitle["role"] == "subtitle" and subtitle["media_type"] == "application/x-subrip"
    assert next(a for a in detail["assets"] if a["category"] == "video")["role"] == "main"
    track = session.scalars(select(SubtitleTrack).where(SubtitleTrack.resource_id == lesson["id"])).one()
    assert (track.language, track.format, track.cue_count, track.end_s) == ("zh", "srt", 3, 11.9)


def test_the_master_playlist_carries_the_subtitle_rendition_and_the_webvtt_plays(client, lesson):
    assert add_subtitle(client, lesson).status_code in (200, 201)
    assert add_subtitle(client, lesson, data=VTT_EN, filename="lesson.en.vtt").status_code in (200, 201)
    play = client.get(f"/api/v1/resources/{lesson['id']}/play", headers=lesson["headers"])
    assert play.status_code == 200, play.text
    assert play.json()["subtitles"] == [{"language": "zh", "name": "中文", "default": True},
                                        {"language": "en", "name": "English", "default": False}]
    master = fetch(client, play.json()["hls_url"])
    assert master.status_code == 200
    lines = master.text.splitlines()
    media_lines = [line for line in lines if line.startswith("#EXT-X-MEDIA:TYPE=SUBTITLES")]
    assert len(media_lines) == 2 and all('GROUP-ID="subs"' in line for line in media_lines)
    assert 'LANGUAGE="zh"' in media_lines[0] and "DEFAULT=YES" in media_lines[0]
    assert 'LANGUAGE="en"' in media_lines[1] and "DEFAULT=NO" in media_lines[1]
    streams = [line for line in lines if line.startswith("#EXT-X-STREAM-INF:")]
    assert len(streams) == 2 and all(line.endswith(',SUBTITLES="subs"') for line in streams)
    assert "#EXT-X-START" not in master.text  # no t: from the start

    base = play.json()["hls_url"].rsplit("/", 1)[0]
    uri = media_lines[0].split('URI="')[1].rstrip('"')
    playlist = fetch(client, f"{base}/{uri}")
    assert playlist.status_code == 200 and playlist.headers["content-type"].startswith("application/vnd.apple.mpegurl")
    # One WebVTT segment lasting the whole video.
    assert "#EXTINF:12.000," in playlist.text and "#EXT-X-ENDLIST" in playlist.text
    segment = next(line for line in playlist.text.splitlines() if line and not line.startswith("#"))
    vtt = fetch(client, f"{base}/{uri.rsplit('/', 1)[0]}/{segment}")
    assert vtt.status_code == 200 and vtt.headers["content-type"].startswith("text/vtt")
    assert vtt.headers["access-control-allow-origin"] == "*"
    assert vtt.text.startswith("WEBVTT\n\n00:00:01.000 --> 00:00:03.500\n同学们好，今天我们学习配方法\n")
    assert "00:00:04.200 --> 00:00:07.000\n先把常数项移到等号右边 &amp; 两边加上" in vtt.text
    assert "<i>这样左边就是完全平方式</i>" in vtt.text
    english_uri = media_lines[1].split('URI="')[1].rstrip('"').replace(".m3u8", ".vtt")
    english = fetch(client, f"{base}/{english_uri}")
    assert "00:00:01.000 --> 00:00:03.000 align:center\nGood morning, class" in english.text
    # A name outside the lesson's tracks is not found; the signature still guards the rest.
    assert_problem(fetch(client, f"{base}/subtitles/01NOSUCHASSET0000000000000.vtt"), 404, "subtitle.not_found")


def test_a_second_file_in_a_language_replaces_the_first(client, lesson, session):
    assert add_subtitle(client, lesson).status_code in (200, 201)
    fixed = SRT.replace("配方法".encode(), "配方".encode(), 1)
    assert add_subtitle(client, lesson, data=fixed, filename="配方法（修订）.srt").status_code in (200, 201)
    tracks = session.scalars(select(SubtitleTrack).where(SubtitleTrack.resource_id == lesson["id"])).all()
    assert len(tracks) == 1
    names = [a.filename for a in session.scalars(select(Asset).where(Asset.resource_id == lesson["id"],
                                                                      Asset.category == "subtitle"))]
    assert names == ["配方法（修订）.srt"]


@pytest.mark.parametrize("t, start", [("0", 0.0), ("5", 5.0), ("754.2e-2", 7.542), ("12", 12.0)])
def test_play_at_t_starts_the_master_there(client, lesson, t, start):
    play = client.get(f"/api/v1/resources/{lesson['id']}/play", params={"t": t}, headers=lesson["headers"])
    assert play.status_code == 200, play.text
    assert play.json()["start_s"] == start
    master = fetch(client, play.json()["hls_url"]).text
    if start:
        assert f"#EXT-X-START:TIME-OFFSET={start:.3f},PRECISE=YES" in master.splitlines()
    else:
        assert "#EXT-X-START" not in master  # the start is where players begin anyway
    assert master.splitlines()[:2] == ["#EXTM3U", "#EXT-X-VERSION:3"]


@pytest.mark.parametrize("t", ["-1", "abc", "nan", "inf", "12.5", "1e400", "5s"])
def test_a_bad_t_is_a_422_with_its_own_code(client, lesson, t):
    answer = client.get(f"/api/v1/resources/{lesson['id']}/play", params={"t": t}, headers=lesson["headers"])
    assert_problem(answer, 422, "playback.invalid_start")


# --- refusals ----------------------------------------------------------------------------

GBK_SRT = "1\n00:00:01,000 --> 00:00:02,000\n同学们好\n".encode("gbk")
UNPARSEABLE = "同学们好，这不是字幕文件\n只是一段文字\n".encode()
OUT_OF_ORDER = b"1\n00:00:05,000 --> 00:00:06,000\na\n\n2\n00:00:01,000 --> 00:00:02,000\nb\n"
ENDS_BEFORE_START = b"WEBVTT\n\n00:05.000 --> 00:04.000\na\n"


@pytest.mark.parametrize("data, filename, status, code", [
    (GBK_SRT, "gbk.srt", 422, "subtitle.bad_encoding"),
    (UNPARSEABLE, "notes.vtt", 422, "subtitle.unparseable"),
    (b"WEBVTT\n\njust text, no timing\n", "nocue.vtt", 422, "subtitle.unparseable"),
    (OUT_OF_ORDER, "order.srt", 422, "subtitle.out_of_order"),
    (ENDS_BEFORE_START, "reverse.vtt", 422, "subtitle.out_of_order"),
    ("mp4", "renamed.vtt", 415, "subtitle.binary"),
])
def test_a_bad_sidecar_is_refused_when_its_upload_ends_and_nothing_is_kept(client, app, session, lesson, tmp_path,
                                                                           data, filename, status, code):
    if data == "mp4":
        data = media.lesson_mp4(tmp_path / "clip.mp4", seconds=1).read_bytes()
    blobs_before = session.scalar(select(func.count()).select_from(Blob))
    upload_id, sent = tus_upload(client, lesson["headers"], data, filename)
    assert_problem(sent, status, code)
    session.expire_all()
    upload = session.get(Upload, upload_id)
    assert upload.status is UploadStatus.refused and upload.refusal_code == code and upload.blob_id is None
    assert session.scalar(select(func.count()).select_from(Blob)) == blobs_before
    assert [info.key for info in app.state.blob_store.list("staging/")] == []
    # The refused upload cannot be attached; the lesson is as it was.
    attach = client.post(f"/api/v1/resources/{lesson['id']}/assets", headers=lesson["headers"],
                         json={"upload_ids": [upload_id]})
    assert_problem(attach, 422, "resource.upload_not_usable")
    assert session.scalar(select(func.count()).select_from(SubtitleTrack)) == 0


def test_a_sidecar_over_the_size_limit_is_refused_before_any_byte(client, lesson):
    created = client.post(UPLOADS, headers={**lesson["headers"], **TUS, "Upload-Length": str(3 * 1024 * 1024),
                                            "Upload-Metadata": metadata(filename="huge.srt")})
    assert_problem(created, 413, "upload.too_large")


def test_a_language_that_is_not_a_tag_is_refused(client, lesson):
    _, sent = tus_upload(client, lesson["headers"], SRT, "x.srt", language="中文字幕")
    assert_problem(sent, 422, "subtitle.bad_language")


def test_cues_past_the_end_of_the_video_are_refused_and_the_lesson_is_unchanged(client, lesson, session):
    late = SRT + b"\r\n4\r\n00:00:20,000 --> 00:00:25,000\r\n\xe4\xb8\x8b\xe8\xaf\xbe\r\n"
    answer = add_subtitle(client, lesson, data=late)
    assert_problem(answer, 422, "subtitle.beyond_video")
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Asset).where(Asset.resource_id == lesson["id"])) == 1
    assert session.scalar(select(func.count()).select_from(SubtitleTrack)) == 0


def test_a_subtitle_without_a_video_is_refused(client, factory):
    teacher = factory.user()
    factory.commit()
    headers = factory.headers(teacher)
    upload_id, sent = tus_upload(client, headers, SRT, "lonely.srt")
    assert sent.status_code == 204, sent.text
    created = client.post("/api/v1/resources", headers=headers, json={
        "title": "只有字幕", "kind": "micro_lesson", "upload_ids": [upload_id]})
    assert_problem(created, 422, "subtitle.no_video")


def test_a_lesson_uploaded_with_its_sidecar_gets_both(client, factory, session, tmp_path):
    """The video and its subtitle in one `POST /resources`, the subtitle listed first."""
    teacher = factory.user()
    factory.commit()
    headers = factory.headers(teacher)
    video = media.lesson_mp4(tmp_path / "课.mp4", seconds=3).read_bytes()
    short = b"1\n00:00:00,500 --> 00:00:02,500\n\xe5\xa5\xbd\n"
    subtitle_id, sent = tus_upload(client, headers, short, "课.en.srt")
    assert sent.status_code == 204, sent.text
    video_id, sent = tus_upload(client, headers, video, "课.mp4", content_type="video/mp4")
    assert sent.status_code == 204, sent.text
    created = client.post("/api/v1/resources", headers=headers, json={
        "title": "凑十法", "kind": "micro_lesson", "upload_ids": [subtitle_id, video_id]})
    assert created.status_code == 201, created.text
    roles = {a.category: a.role for a in session.scalars(select(Asset).where(Asset.resource_id == created.json()["id"]))}
    assert roles == {"video": "main", "subtitle": "subtitle"}
    assert session.scalars(select(SubtitleTrack.language)).all() == ["en"]  # from the file name


def test_the_moderation_queue_finds_sensitive_words_in_subtitles_with_their_time(client, factory, lesson):
    from services.api.orgs.models import Role
    admin, moderator = factory.user(roles=(Role.district_admin,)), factory.user(roles=(Role.moderator,))
    factory.commit()
    lexicon = client.put("/api/v1/moderation/lexicon?mode=replace", content="六合彩\n".encode(),
                         headers={**factory.headers(admin), "Content-Type": "text/plain"})
    assert lexicon.status_code == 200, lexicon.text
    tainted = SRT.replace("常数项".encode(), "六合彩".encode())
    assert add_subtitle(client, lesson, data=tainted).status_code in (200, 201)
    queue = client.get("/api/v1/moderation/queue?size=100", headers=factory.headers(moderator))
    assert queue.status_code == 200, queue.text
    [item] = [item for item in queue.json()["items"] if item["id"] == lesson["id"]]
    [words] = [check for check in item["automatic_checks"] if check["check"] == "sensitive_words"]
    assert words["result"] == "flag"
    assert [(hit["word"], hit["where"], hit["at_s"]) for hit in words["facts"]["hits"]] == [("六合彩", "subtitle", 4.2)]
