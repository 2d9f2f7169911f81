"""Pre-screening as the moderation queue shows it (`automatic_checks`), the district lexicon's
import and export, and the blocklist: taken-down bytes cannot come back under another name."""
from __future__ import annotations

import io
import json

from sqlalchemy import event, update

from services.api.orgs.models import Role
from services.api.resources import processing
from services.common.checks import AutomaticCheck
from services.common.jobs import JobKind, JobState, processing_jobs
from tests import media
from tests.api.uploads.test_tus import TUS, upload_file
from tests.helpers import assert_problem


def put_lexicon(client, headers, body: bytes, content_type: str, mode: str = "replace"):
    return client.put(f"/api/v1/moderation/lexicon?mode={mode}", content=body,
                      headers={**headers, "Content-Type": content_type})


def checks_of(client, headers, resource_id):
    queue = client.get("/api/v1/moderation/queue?size=100", headers=headers)
    assert queue.status_code == 200, queue.text
    [item] = [item for item in queue.json()["items"] if item["id"] == resource_id]
    return {check["check"]: check for check in item["automatic_checks"]}, item["automatic_checks"]


def uploaded(client, headers, data: bytes, filename: str) -> str:
    location, response = upload_file(client, {**headers, **TUS}, data, filename)
    assert response.status_code == 204, response.text
    return location.rstrip("/").rsplit("/", 1)[1]


def finish_jobs(session, resource_id, results: dict[JobKind, dict]):
    """As the transcoder would: each job of the resource done with its manifest; then folded."""
    for kind, result in results.items():
        session.execute(update(processing_jobs).where(processing_jobs.c.resource_id == resource_id,
                                                      processing_jobs.c.kind == kind)
                        .values(state=JobState.done, progress=100, result=result))
    session.commit()
    processing.apply_finished_jobs(session)


def in_review(client, factory, session, owner, *, title="课件", description="", kind="courseware", upload_ids=(),
              results=None):
    headers = factory.headers(owner)
    created = client.post("/api/v1/resources", headers=headers, json={
        "title": title, "description": description, "kind": kind, "visibility": "district",
        "upload_ids": list(upload_ids)})
    assert created.status_code == 201, created.text
    resource_id = created.json()["id"]
    if upload_ids:
        finish_jobs(session, resource_id, results or {})
    else:
        assert client.post(f"/api/v1/resources/{resource_id}/submit", headers=headers).status_code == 200
    shown = client.get(f"/api/v1/resources/{resource_id}", headers=headers).json()
    assert shown["status"] == "pending_review", shown
    return resource_id


# --------------------------------------------------------------------------- the lexicon

def test_district_administrators_import_and_export_the_lexicon(client, factory):
    admin = factory.user(roles=(Role.district_admin,))
    moderator = factory.user(roles=(Role.moderator,))
    teacher = factory.user()
    foreign_admin = factory.user(roles=(Role.district_admin,), district=factory.district())
    factory.commit()
    headers = factory.headers(admin)
    imported = put_lexicon(client, headers, "# 区教育局敏感词\n赌博\n\n  色情  \n赌博\n".encode(), "text/plain")
    assert imported.status_code == 200, imported.text
    assert imported.json() == {"added": 2, "removed": 0, "words": 2, "revision": 1}
    # CSV as Chinese Excel saves it: GB18030, with categories; merge keeps the words not named.
    csv_gbk = "word,category\n邪教,政治\n赌博,违法\n".encode("gb18030")
    merged = put_lexicon(client, headers, csv_gbk, "text/csv", mode="merge")
    assert merged.json() == {"added": 1, "removed": 0, "words": 3, "revision": 2}
    exported = client.get("/api/v1/moderation/lexicon?format=csv", headers=factory.headers(moderator))
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    assert exported.text.splitlines()[0] == "word,category"
    assert exported.text.splitlines()[1:] == ["色情,", "邪教,政治", "赌博,违法"]
    # Replace: what the document does not name goes (UTF-8 with a BOM, as Excel writes it too).
    replaced = put_lexicon(client, headers, "\ufeffword\n邪教\n".encode(), "text/csv")
    assert replaced.json() == {"added": 0, "removed": 2, "words": 1, "revision": 3}
    assert client.get("/api/v1/moderation/lexicon?format=text", headers=headers).text == "邪教\n"
    # Another district's lexicon is its own.
    assert client.get("/api/v1/moderation/lexicon?format=text", headers=factory.headers(foreign_admin)).text == ""
    assert_problem(put_lexicon(client, factory.headers(moderator), b"x\n", "text/plain"), 403, "auth.forbidden")
    assert_problem(client.get("/api/v1/moderation/lexicon", headers=factory.headers(teacher)), 403, "auth.forbidden")
    bad = assert_problem(put_lexicon(client, headers, ("好\n" + "长" * 101 + "\n* *\n").encode(), "text/plain"),
                         422, "screening.invalid_lexicon")
    assert [error["loc"] for error in bad["errors"]] == [["body", 2], ["body", 3]]
    assert_problem(put_lexicon(client, headers, b"{}", "application/json"), 415, "screening.unsupported_lexicon_format")
    assert_problem(put_lexicon(client, headers, "词语\n邪教\n".encode(), "text/csv; charset=utf-8"), 422,
                   "screening.invalid_lexicon")  # no `word` column
    assert client.get("/api/v1/moderation/lexicon?format=text", headers=headers).text == "邪教\n"  # all or nothing


def test_the_queue_flags_sensitive_words_however_they_are_written(client, factory, session, app):
    admin = factory.user(roles=(Role.district_admin,))
    moderator = factory.user(roles=(Role.moderator,))
    teacher = factory.user()
    factory.commit()
    assert put_lexicon(client, factory.headers(admin), "赌博\n六合彩\nCasino\n".encode(), "text/plain").status_code == 200
    clean = in_review(client, factory, session, teacher, title="分数的加法")
    # Full-width letters and case, spaces between characters, a Traditional character.
    flagged = in_review(client, factory, session, teacher, title="ＣＡＳＩＮＯ 数学", description="介绍 六 合 彩 与賭博")
    mod = factory.headers(moderator)
    by_check, _ = checks_of(client, mod, clean)
    assert by_check["sensitive_words"]["result"] == "pass"
    by_check, _ = checks_of(client, mod, flagged)
    words = by_check["sensitive_words"]
    assert words["result"] == "flag"
    assert {(hit["word"], hit["where"]) for hit in words["facts"]["hits"]} == {
        ("Casino", "title"), ("六合彩", "description"), ("赌博", "description")}
    # A new lexicon revision is used at once (the matcher is rebuilt, not stale).
    assert put_lexicon(client, factory.headers(admin), "分数\n".encode(), "text/plain").status_code == 200
    by_check, _ = checks_of(client, mod, clean)
    assert by_check["sensitive_words"]["result"] == "flag"
    by_check, _ = checks_of(client, mod, flagged)
    assert by_check["sensitive_words"]["result"] == "pass"


def test_the_queue_matches_the_lexicon_in_extracted_document_text(client, factory, session, app, tmp_path):
    admin = factory.user(roles=(Role.district_admin,))
    moderator = factory.user(roles=(Role.moderator,))
    teacher = factory.user()
    factory.commit()
    assert put_lexicon(client, factory.headers(admin), "赌博\n".encode(), "text/plain").status_code == 200
    upload_id = uploaded(client, factory.headers(teacher), media.text_pdf(tmp_path / "a.pdf", text="x").read_bytes(),
                         "讲义.pdf")
    # The document job's outputs as the transcoder publishes them: text.json in the store.
    prefix = "media/test-document/document"
    pages = [{"page": 1, "text": "第一页"}, {"page": 2, "text": "远离赌博"}]
    body = json.dumps(pages, ensure_ascii=False).encode()
    app.state.blob_store.put(f"{prefix}/text.json", io.BytesIO(body), length=len(body), content_type="application/json")
    document = {"kind": "document", "prefix": prefix, "text": "text.json", "pages": 2, "files": ["text.json"],
                "checks": [AutomaticCheck(check="document_text", result="pass", facts={"characters": 7}).model_dump()]}
    resource_id = in_review(client, factory, session, teacher, title="讲义", upload_ids=[upload_id],
                            results={JobKind.document: document})
    by_check, _ = checks_of(client, factory.headers(moderator), resource_id)
    [hit] = by_check["sensitive_words"]["facts"]["hits"]
    assert (hit["word"], hit["where"], hit["page"]) == ("赌博", "document", 2)
    assert by_check["document_text"]["result"] == "pass" and by_check["document_text"]["asset_id"]


# --------------------------------------------------------------------------- media and duration

def test_media_checks_and_durations_reach_the_queue(client, factory, session, tmp_path):
    moderator = factory.user(roles=(Role.moderator,))
    teacher = factory.user()
    factory.commit()
    clip = media.screening_clip(tmp_path / "clip.mp4", seconds=3).read_bytes()
    checks = [AutomaticCheck(check="black_video", result="flag", detail="black picture / 黑屏",
                             facts={"seconds": 3.0, "share": 1.0, "longest_s": 3.0}).model_dump(),
              AutomaticCheck(check="silent_audio", result="pass").model_dump()]
    ladder = {"kind": "hls", "prefix": "media/x/ladder", "tracks": [], "files": [], "checks": checks}
    results = {JobKind.first_playable: {"skipped": "test"}, JobKind.ladder: ladder}
    recording = in_review(client, factory, session, teacher, title="第一课", kind="lesson_recording",
                          upload_ids=[uploaded(client, factory.headers(teacher), clip, "a.mp4")], results=results)
    micro = in_review(client, factory, session, teacher, title="微课", kind="micro_lesson",
                      upload_ids=[uploaded(client, factory.headers(teacher), clip + b"", "b.mp4")], results=results)
    mod = factory.headers(moderator)
    by_check, _ = checks_of(client, mod, recording)
    assert by_check["black_video"]["result"] == "flag" and by_check["black_video"]["asset_id"]
    assert by_check["silent_audio"]["result"] == "pass"
    # A three-second lesson recording is too short for a class period; a micro-lesson may be.
    assert by_check["duration"]["result"] == "flag" and by_check["duration"]["facts"]["min_s"] == 600
    by_check, _ = checks_of(client, mod, micro)
    assert by_check["duration"]["result"] == "pass"
    assert {check["result"] for check in by_check.values()} <= {"pass", "flag", "fail"}


def test_a_page_of_the_queue_costs_the_same_queries_however_many_items(client, factory, session, connection):
    admin = factory.user(roles=(Role.district_admin,))
    moderator = factory.user(roles=(Role.moderator,))
    teacher = factory.user()
    factory.commit()
    assert put_lexicon(client, factory.headers(admin), "赌博\n".encode(), "text/plain").status_code == 200
    in_review(client, factory, session, teacher, title="一")
    queue = client.get("/api/v1/moderation/queue?size=1", headers=factory.headers(moderator))  # builds the matcher
    assert queue.json()["items"][0]["automatic_checks"]
    statements = []

    def count(_connection, _cursor, statement, *_args):  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(connection, "before_cursor_execute", count)
    try:
        assert len(client.get("/api/v1/moderation/queue?size=1", headers=factory.headers(moderator)).json()["items"]) == 1
        one = len(statements)
        for title in ("二", "三", "四", "五"):
            in_review(client, factory, session, teacher, title=title)
        statements.clear()
        assert len(client.get("/api/v1/moderation/queue?size=5", headers=factory.headers(moderator)).json()["items"]) == 5
        assert len(statements) == one, statements
    finally:
        event.remove(connection, "before_cursor_execute", count)


# --------------------------------------------------------------------------- the blocklist

def test_taken_down_content_cannot_come_back_under_another_name(client, factory, session, tmp_path):
    moderator = factory.user(roles=(Role.moderator,))
    teacher, other = factory.user(), factory.user()
    factory.commit()
    mod = factory.headers(moderator)
    scan = media.text_pdf(tmp_path / "scan.pdf", text="Chapter 3").read_bytes()
    document = {"kind": "document", "prefix": "media/y/document", "files": []}
    original = in_review(client, factory, session, teacher, title="教材第三章",
                         upload_ids=[uploaded(client, factory.headers(teacher), scan, "教材.pdf")],
                         results={JobKind.document: document})
    # The same bytes, attached elsewhere before the take-down.
    twin = in_review(client, factory, session, other, title="复习资料",
                     upload_ids=[uploaded(client, factory.headers(other), scan, "复习.pdf")],
                     results={JobKind.document: document})
    by_check, _ = checks_of(client, mod, twin)
    assert by_check["blocked_content"]["result"] == "pass"
    assert client.post(f"/api/v1/moderation/resources/{original}/decision", json={"action": "approve"},
                       headers=mod).json()["status"] == "published"
    taken_down = client.post(f"/api/v1/moderation/resources/{original}/decision",
                             json={"action": "take_down", "reason_code": "copyright"}, headers=mod)
    assert taken_down.json()["status"] == "taken_down"
    by_check, _ = checks_of(client, mod, twin)
    assert by_check["blocked_content"]["result"] == "fail"
    # Renamed, by someone else, as a new resource or added to one: refused, located.
    again = uploaded(client, factory.headers(other), scan, "新名字.pdf")
    refused = client.post("/api/v1/resources", headers=factory.headers(other), json={
        "title": "换个标题", "kind": "courseware", "upload_ids": [again]})
    body = assert_problem(refused, 422, "screening.content_blocked")
    assert body["errors"][0]["loc"] == ["body", "upload_ids", 0]
    draft = client.post("/api/v1/resources", headers=factory.headers(other), json={"title": "草稿", "kind": "courseware"})
    assert_problem(client.post(f"/api/v1/resources/{draft.json()['id']}/assets", headers=factory.headers(other),
                               json={"upload_ids": [again]}), 422, "screening.content_blocked")
    # Other bytes still go through.
    fine = uploaded(client, factory.headers(other), media.text_pdf(tmp_path / "b.pdf", text="Mine").read_bytes(), "b.pdf")
    assert client.post("/api/v1/resources", headers=factory.headers(other), json={
        "title": "自己的", "kind": "courseware", "upload_ids": [fine]}).status_code == 201
    # Restored, the content is allowed again.
    assert client.post(f"/api/v1/moderation/resources/{original}/decision", json={"action": "restore"},
                       headers=mod).json()["status"] == "published"
    assert client.post("/api/v1/resources", headers=factory.headers(other), json={
        "title": "换个标题", "kind": "courseware", "upload_ids": [again]}).status_code == 201
