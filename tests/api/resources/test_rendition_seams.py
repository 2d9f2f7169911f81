"""The seam between the transcoder and the API, on the API's side (services/common/renditions.py):
renditions stored before the results were typed still show, play and preview as they did; a
malformed one is a clear problem (`resource.rendition_unreadable`, saying where and what) instead
of a KeyError deep in a route; a job result that cannot be read fails its resource with the
reason instead of being folded in."""
from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

from sqlalchemy import select

from services.api.resources import processing
from services.api.resources.models import Asset, Resource, ResourceStatus
from services.api.search.documents import _pages
from services.api.uploads.models import Blob
from services.common.jobs import JobKind, JobState, processing_jobs
from tests.api.resources.test_processing import detail, lesson, set_jobs  # noqa: F401 - the fixture
from tests.helpers import assert_problem

OLD = json.loads((Path(__file__).parents[2] / "transcoder" / "results_571e208.json").read_text("utf-8"))
API = "/api/v1/resources"


def old_rendition(job: str) -> dict:
    """As `apply_finished_jobs` stored it before (the job's result without its files)."""
    return json.loads(json.dumps({"job": job, **{key: value for key, value in OLD[job].items() if key != "files"}}))


def asset_with(factory, resource: Resource, renditions: list[dict], *, category: str = "video") -> Asset:
    digest = hashlib.sha256(json.dumps(renditions).encode() + resource.id.encode()).hexdigest()
    blob = Blob(sha256=digest, size=9, media_type="video/mp4", backend="local", key=f"blobs/{digest}")
    factory.session.add(blob)
    factory.session.flush()
    asset = Asset(resource_id=resource.id, blob_id=blob.id, role="main", filename="第一课.mp4",
                  media_type="video/mp4" if category == "video" else "application/pdf", category=category, size=9,
                  sha256=digest, renditions=renditions)
    factory.session.add(asset)
    factory.session.flush()
    return asset


def put(store, key: str, data: bytes) -> None:
    store.put(key, io.BytesIO(data), length=len(data), content_type="application/octet-stream")


def test_a_lesson_processed_before_shows_plays_and_previews_as_it_did(client, app, factory):
    teacher = factory.user()
    resource = factory.resource(teacher)
    stored = [old_rendition("first_playable"), old_rendition("ladder")]
    asset_with(factory, resource, stored)
    put(app.state.blob_store, f"{OLD['ladder']['prefix']}/manifest.json", OLD["ladder_manifest_json"].encode())
    factory.commit()
    headers = factory.headers(teacher)

    shown = client.get(f"{API}/{resource.id}", headers=headers).json()
    assert shown["assets"][0]["renditions"] == stored  # as stored, key for key
    preview = shown["assets"][0]["preview"]
    assert preview["kind"] == "hls" and "poster.jpg" in preview["url"] and "storyboard.vtt" in preview["storyboard_vtt_url"]
    play = client.get(f"{API}/{resource.id}/play", headers=headers)
    assert play.status_code == 200, play.text
    variant = OLD["ladder"]["tracks"][0]["variants"][0]
    assert play.json()["renditions"] == [{"height": 240, "bandwidth": variant["bandwidth"]}, {
        "height": None, "bandwidth": OLD["ladder"]["tracks"][0]["audio"]["bandwidth"]}]
    assert play.json()["complete"] is True
    master = client.get(play.json()["hls_url"])
    assert master.status_code == 200, master.text
    # Variants are listed under the rendition's content version (an edge caches by it).
    version = play.json()["poster_url"].split("/v/")[1].split("/")[0]
    assert master.text.splitlines()[3:] == [
        f'#EXT-X-STREAM-INF:BANDWIDTH={variant["bandwidth"]},AVERAGE-BANDWIDTH={variant["average_bandwidth"]},'
        f'CODECS="{variant["codecs"]}",RESOLUTION=320x240,FRAME-RATE=25.000', f"v/{version}/t0/240p/index.m3u8",
        f'#EXT-X-STREAM-INF:BANDWIDTH={OLD["ladder"]["tracks"][0]["audio"]["bandwidth"]},'
        f'AVERAGE-BANDWIDTH={OLD["ladder"]["tracks"][0]["audio"]["average_bandwidth"]},CODECS="mp4a.40.2"',
        f"v/{version}/t0/audio/index.m3u8"]


def test_a_malformed_rendition_is_a_clear_problem_in_the_routes_that_read_it(client, app, factory):
    teacher = factory.user()
    headers = factory.headers(teacher)
    lesson_resource, document_resource = factory.resource(teacher), factory.resource(teacher)
    ladder = old_rendition("ladder")
    del ladder["tracks"][0]["variants"][0]["bandwidth"]
    asset = asset_with(factory, lesson_resource, [ladder])
    document = {**old_rendition("document"), "page_image": "pages/{number}.jpg"}
    asset_with(factory, document_resource, [document], category="document")
    factory.commit()

    for url in (f"{API}/{lesson_resource.id}/play", f"{API}/{lesson_resource.id}"):
        problem = assert_problem(client.get(url, headers=headers, params={"lang": "en"}), 500,
                                 "resource.rendition_unreadable")
        assert asset.id in problem["detail"] and "tracks.0.variants.0.bandwidth" in problem["detail"]
    problem = assert_problem(client.get(f"{API}/{document_resource.id}/preview", headers=headers), 500,
                             "resource.rendition_unreadable")
    assert "page_image" in problem["detail"]


def test_a_manifest_json_that_does_not_read_is_a_clear_problem(client, app, factory):
    teacher = factory.user()
    resource = factory.resource(teacher)
    asset_with(factory, resource, [old_rendition("ladder")])
    put(app.state.blob_store, f"{OLD['ladder']['prefix']}/manifest.json", b'{"kind": "hls", "prefix": "x"}')
    factory.commit()
    play = client.get(f"{API}/{resource.id}/play", headers=factory.headers(teacher))
    assert play.status_code == 200, play.text
    problem = assert_problem(client.get(play.json()["hls_url"]), 500, "resource.rendition_unreadable")
    assert "manifest.json" in problem["detail"] and "tracks" in problem["detail"]


def test_a_job_result_that_does_not_read_fails_its_resource_with_the_reason(client, session, lesson):  # noqa: F811
    resource_id, headers = lesson
    set_jobs(session, resource_id, JobKind.first_playable, state=JobState.done, progress=100,
             result=OLD["first_playable"])
    broken = {key: value for key, value in OLD["ladder"].items() if key != "tracks"}
    set_jobs(session, resource_id, JobKind.ladder, state=JobState.done, progress=100, result=broken)
    assert processing.apply_finished_jobs(session)["moved"] == 1
    shown = detail(client, resource_id, headers)
    assert shown["status"] == "failed", shown
    assert "unreadable" in shown["failure_reason"] and "tracks: Field required" in shown["failure_reason"]
    assert [r["job"] for r in shown["assets"][0]["renditions"]] == ["first_playable"]
    states = dict(session.execute(select(processing_jobs.c.kind, processing_jobs.c.state)
                                  .where(processing_jobs.c.resource_id == resource_id)).all())
    assert states == {JobKind.first_playable: JobState.done, JobKind.ladder: JobState.failed}
    assert session.get(Resource, resource_id).status is ResourceStatus.failed


def test_search_goes_on_without_a_rendition_that_does_not_read(app, factory):
    """Page text is an extra: a malformed rendition beside a good one is left out (logged), the
    good one's pages still reach search."""
    teacher = factory.user()
    resource = factory.resource(teacher)
    store = app.state.blob_store
    good = old_rendition("document")
    put(store, f"{good['prefix']}/text.json", OLD["document_text_json"].encode())
    asset = asset_with(factory, resource, [{"job": "image", "kind": "image"}, good], category="document")
    assert [(p.number, p.text, p.asset_id) for p in _pages(store, [asset])] == [(1, "Lesson one", asset.id)]
