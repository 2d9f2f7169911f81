"""Offline packs through the API: a lesson's pack and a unit's, downloaded with Range and resumed,
verified with the public key the platform publishes; what the caller may not see is refused
with nothing built."""
from __future__ import annotations

import hashlib
import io
import zipfile

from services.api.orgs.models import School
from services.api.packs import reader, signing
from services.api.resources.models import ResourceStatus, Visibility
from tests.api.packs.conftest import CLIP_S, document, lesson, published
from tests.helpers import assert_problem

LONG_LESSON_S = 45 * 60


def public_key(client):
    response = client.get("/api/v1/packs/public-key")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["algorithm"] == "ed25519"
    return signing.load_public_key(body["public_key"])


def download_resumed(client, url: str) -> bytes:
    """The pack in two pieces: the first half, then (after 'the link dropped') the rest with Range."""
    head = client.get(url, headers={"Range": "bytes=0-99"})
    assert head.status_code == 206, head.text
    total = int(head.headers["content-range"].split("/")[1])
    etag = head.headers["etag"]
    half = total // 2
    first = client.get(url, headers={"Range": f"bytes=0-{half - 1}"})
    rest = client.get(url, headers={"Range": f"bytes={half}-", "If-Range": etag})
    assert (first.status_code, rest.status_code) == (206, 206)
    assert rest.headers["content-range"] == f"bytes {half}-{total - 1}/{total}"
    return first.content + rest.content


def stored_packs(app) -> list[str]:
    return [info.key for info in app.state.blob_store.list("packs/")]


def test_a_lessons_pack_downloads_resumes_and_verifies(client, app, factory, ladder_files, tmp_path):
    teacher = factory.user()
    colleague = factory.user(school=factory.session.get(School, teacher.school_id))
    point = factory.knowledge_point("math.p.num.int.compare")
    resource = published(factory, teacher, title="比多少 第一课时", points=[point], grade_code=None)
    video = lesson(factory, app.state.blob_store, resource, ladder_files, duration_s=LONG_LESSON_S)
    plan = document(factory, app.state.blob_store, resource)
    factory.commit()

    response = client.get(f"/api/v1/resources/{resource.id}/pack", headers=factory.headers(colleague),
                          follow_redirects=False)
    assert response.status_code == 307, response.text
    data = download_resumed(client, response.headers["location"])
    assert hashlib.sha256(data).hexdigest() == response.headers["x-pack-sha256"]

    path = tmp_path / "pack.zip"
    path.write_bytes(data)
    manifest = reader.verify_pack(path, public_key=public_key(client))
    assert manifest.title == "比多少 第一课时" and manifest.id == response.headers["x-pack-id"]
    [entry] = manifest.resources
    assert (entry.id, entry.subject, entry.kind) == (resource.id, "math", "excellent_lesson")
    assert [(k.code, k.name) for k in entry.knowledge_points] == [(point.code, point.name)]
    members = {m.role: m for m in entry.members}
    assert members["lesson"].asset_id == video.id and members["lesson"].height == 360
    assert members["document"].asset_id == plan.id and members["document"].media_type == "application/pdf"
    with zipfile.ZipFile(path) as archive:
        # Stored, not deflated, and each member the bytes processing made.
        assert {info.compress_type for info in archive.infolist()} == {zipfile.ZIP_STORED}
        assert archive.read(members["lesson"].path) == ladder_files.download.read_bytes()
        assert archive.read(members["document"].path) == b"%PDF-1.7 lesson plan"
    assert entry.notes == [] and entry.skipped == []

    # Asked again: the same pack, not built again.
    [zip_key] = [key for key in stored_packs(app) if key.endswith(".zip")]
    etag = app.state.blob_store.stat(zip_key).etag
    again = client.get(f"/api/v1/resources/{resource.id}/pack", headers=factory.headers(teacher),
                       follow_redirects=False)
    assert again.headers["x-pack-id"] == manifest.id and again.headers["x-pack-sha256"] == response.headers["x-pack-sha256"]
    assert app.state.blob_store.stat(zip_key).etag == etag and len(stored_packs(app)) == 2


def test_a_lesson_over_the_budget_gets_a_lower_rung_remuxed(client, app, factory, ladder_files, tmp_path):
    teacher = factory.user()
    resource = published(factory, teacher)
    # Four seconds may take 4 × 55.6 kB: the download MP4 (padded to 1 MB) and the 360p rung
    # (400 kbit/s = 200 kB) are over, the 240p rung (150 kbit/s = 75 kB) fits.
    lesson(factory, app.state.blob_store, resource, ladder_files, duration_s=CLIP_S, download=bytes(1_000_000))
    factory.commit()

    response = client.post("/api/v1/packs", json={"resource_ids": [resource.id]}, headers=factory.headers(teacher))
    assert response.status_code == 201, response.text
    body = response.json()
    [entry] = body["manifest"]["resources"]
    [member] = entry["members"]
    assert (member["role"], member["height"]) == ("lesson", 240)
    assert "over the budget" in entry["notes"][0] and "240p" in entry["notes"][0]
    data = client.get(body["download_url"]).content
    assert len(data) == body["size"] and hashlib.sha256(data).hexdigest() == body["sha256"]
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        mp4 = archive.read(member["path"])
    assert mp4[4:8] == b"ftyp" and len(mp4) == member["size"]  # a real MP4, remuxed from the segments


def test_a_unit_pack_holds_what_the_caller_sees_under_the_point(client, app, factory, ladder_files):
    teacher = factory.user()
    stranger = factory.user()  # another school
    parent = factory.knowledge_point("math.p.num.int")
    count, compare = factory.knowledge_point("math.p.num.int.count"), factory.knowledge_point("math.p.num.int.compare")
    store = app.state.blob_store
    second = published(factory, teacher, title="比多少", points=[compare])
    first = published(factory, teacher, title="数一数", points=[count])
    document(factory, store, first)
    document(factory, store, second, pdf=b"%PDF-1.7 second")
    published(factory, teacher, title="草稿", points=[count], status=ResourceStatus.draft)
    elsewhere = published(factory, stranger, title="别校的课", points=[compare])  # school-only, other school
    factory.commit()

    response = client.post("/api/v1/packs", json={"knowledge_point_id": parent.id, "title": "认识整数"},
                           headers=factory.headers(teacher))
    assert response.status_code == 201, response.text
    manifest = response.json()["manifest"]
    assert manifest["title"] == "认识整数"
    # In textbook order (count before compare), drafts and resources the teacher cannot see left out.
    assert [r["id"] for r in manifest["resources"]] == [first.id, second.id]
    assert elsewhere.id not in {r["id"] for r in manifest["resources"]}

    assert_problem(client.post("/api/v1/packs", json={"knowledge_point_id": factory.knowledge_point(
        "math.p.num.addsub.carry20").id}, headers=factory.headers(teacher)), 422, "pack.empty")
    assert_problem(client.post("/api/v1/packs", json={"knowledge_point_id": "nope"}, headers=factory.headers(teacher)),
                   404, "taxonomy.knowledge_point_not_found")


def test_resources_the_caller_cannot_see_are_refused_and_nothing_is_built(client, app, factory):
    teacher, stranger = factory.user(), factory.user()
    mine = published(factory, teacher)
    private = published(factory, stranger, visibility=Visibility.private)
    draft = published(factory, stranger, status=ResourceStatus.draft, visibility=Visibility.private)
    document(factory, app.state.blob_store, mine)
    document(factory, app.state.blob_store, private)
    factory.commit()

    assert_problem(client.get(f"/api/v1/resources/{private.id}/pack", headers=factory.headers(teacher)),
                   404, "resource.not_found")
    body = assert_problem(client.post("/api/v1/packs", json={"resource_ids": [mine.id, private.id]},
                                      headers=factory.headers(teacher)), 422, "pack.resource_not_found")
    assert body["errors"][0]["loc"] == ["body", "resource_ids", 1]
    assert_problem(client.get(f"/api/v1/resources/{draft.id}/pack", headers=factory.headers(stranger)),
                   422, "pack.resource_not_published")
    body = assert_problem(client.post("/api/v1/packs", json={"resource_ids": [private.id, draft.id]},
                                      headers=factory.headers(stranger)), 422, "pack.resource_not_published")
    assert body["errors"][0]["loc"] == ["body", "resource_ids", 1]
    assert_problem(client.post("/api/v1/packs", json={"resource_ids": []}, headers=factory.headers(teacher)),
                   422, "request.validation_failed")
    assert_problem(client.post("/api/v1/packs", json={"resource_ids": [mine.id], "knowledge_point_id": "x"},
                               headers=factory.headers(teacher)), 422, "request.validation_failed")
    assert_problem(client.get(f"/api/v1/resources/{mine.id}/pack"), 401, "auth.not_authenticated")
    assert stored_packs(app) == []


def test_a_unit_over_the_limits_is_refused_before_building(client, app, factory, monkeypatch):
    from services.api.packs import service

    teacher = factory.user()
    count, compare = factory.knowledge_point("math.p.num.int.count"), factory.knowledge_point("math.p.num.int.compare")
    for point in (count, compare):
        document(factory, app.state.blob_store, published(factory, teacher, points=[point]), pdf=bytes(10_000))
    factory.commit()
    unit = {"knowledge_point_id": factory.knowledge_point("math.p.num.int").id}

    monkeypatch.setattr(service, "MAX_RESOURCES", 1)
    body = assert_problem(client.post("/api/v1/packs", json=unit, headers=factory.headers(teacher)),
                          422, "pack.too_many_resources")
    assert "2" in body["detail"]
    monkeypatch.setattr(service, "MAX_RESOURCES", 200)
    monkeypatch.setattr(service, "MAX_PACK_BYTES", 15_000)
    assert_problem(client.post("/api/v1/packs", json=unit, headers=factory.headers(teacher)), 422, "pack.too_large")
    assert stored_packs(app) == []
