"""Revocable links (resources/links.py): a playback link, and the poster, download and segments
reached through it, stop working at once after a take-down, a narrowing of visibility or the end
of a pairing, instead of playing on until they expire hours later."""
from __future__ import annotations

import io
import json
from urllib.parse import urlsplit

import pytest

from services.api.orgs.models import Role, SchoolKind
from services.api.resources.models import Asset, Resource, ResourceKind, ResourceStatus, Visibility
from services.api.uploads.models import Blob
from tests.helpers import assert_problem

PREFIX = "media/revocable/ladder"
FILES = {
    "manifest.json": json.dumps({"kind": "hls", "prefix": PREFIX,
                                 "tracks": [{"variants": [{"uri": "240p/index.m3u8", "bandwidth": 200_000,
                                                          "average_bandwidth": 180_000, "codecs": "avc1.42c01e",
                                                          "width": 426, "height": 240}]}]}),
    "240p/index.m3u8": "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4.0,\nseg0.ts\n#EXT-X-ENDLIST\n",
    "240p/seg0.ts": "segment bytes",
    "poster.jpg": "poster bytes",
    "lesson.mp4": "mp4 bytes",
}


@pytest.fixture
def lesson(app, factory, session):
    """A published lesson of an urban school, shared with its paired rural school, and a rural
    teacher watching it."""
    store = app.state.blob_store
    for name, text in FILES.items():
        data = text.encode()
        store.put(f"{PREFIX}/{name}", io.BytesIO(data), length=len(data), content_type="application/octet-stream")
    urban, rural = factory.school(), factory.school(kind=SchoolKind.rural)
    pairing = factory.pairing(urban, rural)
    owner, viewer = factory.user(school=urban), factory.user(school=rural)
    admin = factory.user(roles=(Role.district_admin,))
    moderator = factory.user(roles=(Role.moderator,))
    blob = Blob(sha256="ab" * 32, size=9, media_type="video/mp4", backend="local", key="blobs/ab/revocable")
    resource = Resource(title="认识钟表", kind=ResourceKind.micro_lesson, visibility=Visibility.paired,
                        license="cc-by-4.0", owner_id=owner.id, school_id=urban.id, district_id=urban.district_id,
                        status=ResourceStatus.published)
    session.add_all([blob, resource])
    session.flush()
    rendition = {"job": "ladder", "kind": "hls", "prefix": PREFIX, "poster": "poster.jpg", "files": list(FILES),
                 "tracks": [{"variants": json.loads(FILES["manifest.json"])["tracks"][0]["variants"],
                             "download": "lesson.mp4"}]}
    session.add(Asset(resource_id=resource.id, blob_id=blob.id, role="main", filename="第一课.mp4",
                      media_type="video/mp4", category="video", size=9, sha256=blob.sha256, renditions=[rendition]))
    factory.commit()
    return {"id": resource.id, "pairing": pairing.id, "viewer": factory.headers(viewer),
            "owner": factory.headers(owner), "admin": factory.headers(admin), "moderator": factory.headers(moderator)}


def links_of(client, lesson):
    play = client.get(f"/api/v1/resources/{lesson['id']}/play", headers=lesson["viewer"])
    assert play.status_code == 200, play.text
    body = play.json()
    base = body["hls_url"].rsplit("/", 1)[0]
    return [body["hls_url"], f"{base}/240p/index.m3u8", f"{base}/240p/seg0.ts", body["poster_url"],
            body["download_url"]]


def fetch(client, url):
    parts = urlsplit(url)
    return client.get(parts.path + (f"?{parts.query}" if parts.query else ""), follow_redirects=False)


def assert_working(client, urls):
    master, media, segment, poster, download = (fetch(client, url) for url in urls)
    assert master.status_code == 200 and "240p/index.m3u8" in master.text
    # Segments stay relative: each is asked of the play route, which checks the link first.
    assert media.status_code == 200 and "\nseg0.ts\n" in media.text
    for redirect, expected in ((segment, b"segment bytes"), (poster, b"poster bytes"), (download, b"mp4 bytes")):
        assert redirect.status_code == 307, redirect.text
        assert fetch(client, redirect.headers["location"]).content == expected


def assert_revoked(client, urls):
    for url in urls:
        assert_problem(fetch(client, url), 403, "resource.link_revoked")


def test_a_take_down_revokes_links_already_handed_out(client, lesson):
    urls = links_of(client, lesson)
    assert_working(client, urls)
    decided = client.post(f"/api/v1/moderation/resources/{lesson['id']}/decision", headers=lesson["moderator"],
                          json={"action": "take_down", "reason_code": "copyright"})
    assert decided.status_code == 200, decided.text
    assert_revoked(client, urls)
    # Restored, the resource plays again, through new links only.
    restored = client.post(f"/api/v1/moderation/resources/{lesson['id']}/decision", headers=lesson["moderator"],
                           json={"action": "restore"})
    assert restored.status_code == 200, restored.text
    assert_revoked(client, urls)
    assert_working(client, links_of(client, lesson))


def test_narrowing_visibility_revokes_links_and_widening_does_not(client, lesson):
    urls = links_of(client, lesson)
    widened = client.patch(f"/api/v1/resources/{lesson['id']}", headers=lesson["owner"], json={"visibility": "district"})
    assert widened.status_code == 200, widened.text
    assert_working(client, urls)
    narrowed = client.patch(f"/api/v1/resources/{lesson['id']}", headers=lesson["owner"], json={"visibility": "school"})
    assert narrowed.status_code == 200, narrowed.text
    assert_revoked(client, urls)


def test_ending_a_pairing_revokes_links_to_paired_resources(client, lesson):
    urls = links_of(client, lesson)
    assert_working(client, urls)
    assert client.delete(f"/api/v1/pairings/{lesson['pairing']}", headers=lesson["admin"]).status_code == 204
    assert_revoked(client, urls)
    # And the rural teacher cannot ask for a new one.
    assert client.get(f"/api/v1/resources/{lesson['id']}/play", headers=lesson["viewer"]).status_code == 404


def test_a_deleted_resource_revokes_its_links(client, lesson):
    urls = links_of(client, lesson)
    assert client.delete(f"/api/v1/resources/{lesson['id']}", headers=lesson["owner"]).status_code == 204
    assert_revoked(client, urls)
