"""A lesson made by the real pipeline (tus upload, the transcoder's job code, a moderator's
approval) carried away as a pack: downloaded from the API process with Range and resumed,
verified with `lb pack verify --api` (the key fetched from the platform), imported into an edge
cache directory with `lb pack import`; on local disk and on a real S3 server."""
from __future__ import annotations

import json
import subprocess
import zipfile

import httpx
import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from services.api.cli import app as lb
from services.api.orgs.models import Role
from tests import media
from tests.conftest import SECRET
from tests.e2e.test_playback import run_jobs, stack, upload, wait_for_status  # noqa: F401 - stack is a fixture
from tests.factories import Factory

runner = CliRunner()
SECONDS = 8


@pytest.fixture
def people(stack):  # noqa: F811 - the imported fixture
    with Session(stack["engine"]) as session:
        factory = Factory(session=session, secret=SECRET)
        teacher, moderator = factory.user(school=factory.school()), factory.user(roles=(Role.moderator,))
        session.commit()
        return factory.headers(teacher, ttl_s=3600), factory.headers(moderator, ttl_s=3600)


def test_a_transcoded_lesson_packs_verifies_and_imports(stack, people, tmp_path):  # noqa: F811
    api, (headers, reviewer) = stack["api"], people
    # testsrc2 moves everywhere: its 480p download MP4 is over 150 MB per 45 minutes.
    upload_id = upload(api, headers, media.lesson_mp4(tmp_path / "认识钟表.mp4", seconds=SECONDS, size="1280x720"))
    created = httpx.post(f"{api.url}/api/v1/resources", headers=headers, json={
        "title": "认识钟表", "kind": "micro_lesson", "visibility": "school", "license": "cc-by-4.0",
        "upload_ids": [upload_id]})
    assert created.status_code == 201, created.text
    resource_id = created.json()["id"]
    assert run_jobs(stack, resource_id) == ["done", "done"]
    wait_for_status(api, headers, resource_id, "pending_review", timeout=60)
    decided = httpx.post(f"{api.url}/api/v1/moderation/resources/{resource_id}/decision",
                         json={"action": "approve"}, headers=reviewer)
    assert decided.status_code == 200, decided.text

    with httpx.Client(timeout=120) as http:
        redirect = http.get(f"{api.url}/api/v1/resources/{resource_id}/pack", headers=headers)
        assert redirect.status_code == 307, redirect.text
        url, size = redirect.headers["location"], None
        first = http.get(url, headers={"Range": "bytes=0-65535"})  # then the link drops
        assert first.status_code == 206, first.text
        size = int(first.headers["content-range"].split("/")[1])
        rest = http.get(url, headers={"Range": "bytes=65536-", "If-Range": first.headers["etag"]})
        assert rest.status_code == 206 and rest.headers["content-range"] == f"bytes 65536-{size - 1}/{size}"
    pack = tmp_path / "认识钟表.zip"
    pack.write_bytes(first.content + rest.content)

    verified = runner.invoke(lb, ["pack", "verify", str(pack), "--api", api.url])
    assert verified.exit_code == 0, verified.output
    with zipfile.ZipFile(pack) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    [entry] = manifest["resources"]
    [member] = entry["members"]
    assert member["role"] == "lesson" and member["height"] < 480 and "over the budget" in entry["notes"][0]
    assert member["size"] <= 150_000_000 * SECONDS / 2700 * 1.1, member  # within budget (TS estimate's margin)

    cache = tmp_path / "edge"
    imported = runner.invoke(lb, ["pack", "import", str(pack), "--into", str(cache), "--api", api.url])
    assert imported.exit_code == 0, imported.output
    cached = json.loads((cache / "resources" / f"{resource_id}.json").read_text())
    mp4 = cache / cached["members"][0]["blob"]
    probed = json.loads(subprocess.run(["ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json",
                                        str(mp4)], capture_output=True, text=True, check=True, timeout=60).stdout)
    assert abs(float(probed["format"]["duration"]) - SECONDS) < 1
    assert {s["codec_type"] for s in probed["streams"]} == {"video", "audio"}
    assert next(s for s in probed["streams"] if s["codec_type"] == "video")["height"] == member["height"]
