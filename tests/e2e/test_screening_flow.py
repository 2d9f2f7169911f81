"""Pre-screening end to end: files uploaded with tuspy to the API process, processed by the
transcoder's real job code (ffmpeg, pdfium) on the same database and storage (local disk and a
real S3 server), folded by the API's media janitor; the moderation queue then shows what the
transcoder found and the district lexicon matched in the extracted text."""
from __future__ import annotations

import httpx
import pytest
from sqlalchemy.orm import Session

from services.api.orgs.models import Role
from tests import media
from tests.conftest import SECRET
from tests.e2e.test_playback import run_jobs, stack, upload, wait_for_status  # noqa: F401 - fixture
from tests.factories import Factory


@pytest.fixture
def people(stack):  # noqa: F811
    with Session(stack["engine"]) as session:
        factory = Factory(session=session, secret=SECRET)
        teacher = factory.user()
        moderator = factory.user(roles=(Role.moderator,))
        admin = factory.user(roles=(Role.district_admin,))
        session.commit()
        return {name: factory.headers(user) for name, user in
                (("teacher", teacher), ("moderator", moderator), ("admin", admin))}


def queued_checks(api, headers, resource_id):
    queue = httpx.get(f"{api.url}/api/v1/moderation/queue?size=100", headers=headers)
    assert queue.status_code == 200, queue.text
    [item] = [item for item in queue.json()["items"] if item["id"] == resource_id]
    return {check["check"]: check for check in item["automatic_checks"]}


def test_the_queue_shows_what_processing_and_the_lexicon_found(stack, people, tmp_path):  # noqa: F811
    api = stack["api"]
    lexicon = httpx.put(f"{api.url}/api/v1/moderation/lexicon", content="gamble\n".encode(),
                        headers={**people["admin"], "Content-Type": "text/plain"})
    assert lexicon.status_code == 200, lexicon.text

    handout = upload(api, people["teacher"], media.text_pdf(tmp_path / "handout.pdf", text="Never GAMBLE"),
                     content_type="application/pdf")
    scan = upload(api, people["teacher"], media.text_pdf(tmp_path / "scan.pdf", text=None),
                  content_type="application/pdf")
    recording = upload(api, people["teacher"], media.screening_clip(tmp_path / "dark.mp4", video=media.BLACK))
    created = {}
    for name, kind, upload_id in (("handout", "courseware", handout), ("scan", "courseware", scan),
                                  ("recording", "lesson_recording", recording)):
        response = httpx.post(f"{api.url}/api/v1/resources", headers=people["teacher"], json={
            "title": f"screening {name}", "kind": kind, "visibility": "district", "upload_ids": [upload_id]})
        assert response.status_code == 201, response.text
        created[name] = response.json()["id"]
        assert set(run_jobs(stack, created[name])) == {"done"}
        wait_for_status(api, people["teacher"], created[name], "pending_review")

    checks = queued_checks(api, people["moderator"], created["handout"])
    assert checks["document_text"]["result"] == "pass"
    assert checks["sensitive_words"]["result"] == "flag"
    [hit] = checks["sensitive_words"]["facts"]["hits"]
    assert (hit["word"], hit["where"], hit["page"]) == ("gamble", "document", 1)
    assert checks["blocked_content"]["result"] == "pass"

    checks = queued_checks(api, people["moderator"], created["scan"])
    assert checks["document_text"]["result"] == "flag" and checks["sensitive_words"]["result"] == "pass"

    checks = queued_checks(api, people["moderator"], created["recording"])
    assert checks["black_video"]["result"] == "flag" and checks["silent_audio"]["result"] == "pass"
    assert checks["duration"]["result"] == "flag"  # eight seconds is no class period
