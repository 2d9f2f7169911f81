"""A recording classroom's push may carry a subtitle track; and a subtitle added to a published
lesson (through its revision, as every file) reaches the index with its cue times, so a search
for something said in the lesson answers when it is said."""
from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from services.api.app import create_app
from services.api.orgs.models import Role
from services.api.resources.models import Asset, Resource, ResourceKind, ResourceStatus, Visibility
from services.api.search.models import SearchOutbox
from services.api.subtitles.models import SubtitleTrack
from services.api.uploads.models import Blob
from services.search.app import create_app as create_search_app
from tests import media
from tests.api.devices.test_recordings import LESSON, put_json_schedule, register
from tests.api.subtitles.test_subtitles import SRT, tus_upload
from tests.api.uploads.test_tus import upload_file
from tests.conftest import make_settings
from tests.helpers import assert_problem

pytestmark = pytest.mark.filterwarnings("ignore:You should not use the 'timeout' argument with the TestClient")


def test_a_recording_pushed_with_a_subtitle_track_gets_it(client, factory, session, tmp_path):
    school = factory.school()
    admin = factory.user(school=school, roles=(Role.school_admin,))
    factory.user(school=school, username="zhang.laoshi")
    factory.commit()
    device_id, device = register(client, factory, admin)
    assert put_json_schedule(client, factory, admin, device_id).status_code == 200
    location, sent = upload_file(client, device, media.lesson_mp4(tmp_path / "cam.mp4").read_bytes(), "presenter.mp4")
    assert sent.status_code == 204, sent.text
    video_id = location.rstrip("/").rsplit("/", 1)[1]
    subtitle_id, sent = tus_upload(client, device, b"1\n00:00:00,200 --> 00:00:02,800\n\xe4\xb8\x8a\xe8\xaf\xbe\n",
                                   "presenter.srt", language="zh")
    assert sent.status_code == 204, sent.text
    filed = client.post("/api/v1/recordings", headers=device, json={
        "started_at": (LESSON + timedelta(days=1, minutes=1)).isoformat(),
        "ended_at": (LESSON + timedelta(days=1, minutes=42)).isoformat(),
        "tracks": [{"role": "subtitle", "upload_id": subtitle_id}, {"role": "presenter", "upload_id": video_id}]})
    assert filed.status_code == 201, filed.text
    resource_id = filed.json()["resource_id"]
    roles = sorted((a.role, a.category) for a in session.scalars(select(Asset).where(Asset.resource_id == resource_id)))
    assert roles == [("presenter", "video"), ("subtitle", "subtitle")]
    assert session.scalars(select(SubtitleTrack.language).where(SubtitleTrack.resource_id == resource_id)).all() == ["zh"]


@pytest.fixture
def search_service(tmp_path):
    with TestClient(create_search_app(make_settings(tmp_path / "search", "sqlite://")),
                    base_url="http://search") as search:
        yield search


@pytest.fixture
def app(settings, sessions, search_service):  # type: ignore[no-untyped-def]
    app = create_app(settings, search_http=search_service)
    app.state.sessionmaker = sessions
    return app


def test_a_subtitle_added_to_a_published_lesson_reaches_the_index_with_its_cue_times(client, app, factory, session):
    owner, moderator = factory.user(), factory.user(roles=(Role.moderator,))
    reader = factory.user()
    blob = Blob(sha256="ef" * 32, size=9, media_type="video/mp4", backend="local", key="blobs/ef/published")
    resource = Resource(title="一元二次方程", kind=ResourceKind.micro_lesson, visibility=Visibility.district,
                        license="cc-by-4.0", owner_id=owner.id, school_id=owner.school_id,
                        district_id=owner.district_id, status=ResourceStatus.published)
    session.add_all([blob, resource])
    session.flush()
    session.add(Asset(resource_id=resource.id, blob_id=blob.id, role="main", filename="课.mp4", media_type="video/mp4",
                      category="video", size=9, sha256=blob.sha256, duration_s=12.0))
    factory.commit()
    relay = app.state.search_relay
    relay.run_once()

    def search(q):
        answer = client.get("/api/v1/search", params={"q": q}, headers=factory.headers(reader))
        assert answer.status_code == 200, answer.text
        return answer.json()["hits"]

    assert search("完全平方式") == []
    upload_id, sent = tus_upload(client, factory.headers(owner), SRT, "课.srt")
    assert sent.status_code == 204, sent.text
    proposed = client.post(f"/api/v1/resources/{resource.id}/assets", headers=factory.headers(owner),
                           json={"upload_ids": [upload_id]})
    assert proposed.status_code in (200, 201, 202), proposed.text
    before = session.scalar(select(Resource.version).where(Resource.id == resource.id))
    approved = client.post(f"/api/v1/moderation/resources/{resource.id}/decision", json={"action": "approve"},
                           headers=factory.headers(moderator))
    assert approved.status_code == 200, approved.text
    session.expire_all()
    version = session.scalar(select(Resource.version).where(Resource.id == resource.id))
    assert version > before
    assert session.scalars(select(SubtitleTrack.language).where(SubtitleTrack.resource_id == resource.id)).all() == ["zh"]
    outbox = session.scalars(select(SearchOutbox.version).where(SearchOutbox.resource_id == resource.id)
                             .order_by(SearchOutbox.id)).all()
    assert outbox[-1] == version
    assert relay.run_once()["delivered"] >= 1

    [hit] = search("完全平方式")
    assert hit["id"] == resource.id
    assert hit["highlight"]["at_s"] == 8.0 and hit["highlight"]["page"] is None
    assert "<em>完全平方式</em>" in hit["highlight"]["text"]
    [hit] = search("常数项")
    assert hit["highlight"]["at_s"] == 4.2


def test_a_subtitle_track_added_to_a_live_lesson_without_a_new_version_is_refused(factory, sessions):
    from services.api.search.outbox import VersionNotBumped
    owner = factory.user()
    resource = factory.resource(owner)  # published
    blob = Blob(sha256="aa" * 32, size=3, media_type="text/vtt", backend="local", key="blobs/aa/vtt")
    factory.session.add(blob)
    factory.session.flush()
    asset = Asset(resource_id=resource.id, blob_id=blob.id, role="subtitle", filename="a.vtt", media_type="text/vtt",
                  category="subtitle", size=3, sha256=blob.sha256)
    factory.session.add(asset)
    factory.commit()
    with sessions() as session:
        session.add(SubtitleTrack(resource_id=resource.id, asset_id=asset.id, language="zh", format="vtt",
                                  cue_count=1, end_s=1.0))
        with pytest.raises(VersionNotBumped, match="subtitle track zh"):
            session.commit()


def test_a_subtitle_too_long_for_a_published_lesson_is_refused_when_proposed_not_when_approved(client, factory,
                                                                                                session):
    owner = factory.user()
    resource = factory.resource(owner)  # published, with a 12-second video
    blob = Blob(sha256="bb" * 32, size=9, media_type="video/mp4", backend="local", key="blobs/bb/video")
    factory.session.add(blob)
    factory.session.flush()
    factory.session.add(Asset(resource_id=resource.id, blob_id=blob.id, role="main", filename="课.mp4",
                              media_type="video/mp4", category="video", size=9, sha256=blob.sha256, duration_s=5.0))
    factory.commit()
    upload_id, sent = tus_upload(client, factory.headers(owner), SRT, "课.srt")  # cues to 11.9 s
    assert sent.status_code == 204, sent.text
    proposed = client.post(f"/api/v1/resources/{resource.id}/assets", headers=factory.headers(owner),
                           json={"upload_ids": [upload_id]})
    assert_problem(proposed, 422, "subtitle.beyond_video")
    assert client.get(f"/api/v1/resources/{resource.id}/revisions",
                      headers=factory.headers(owner)).json()["items"] == []
