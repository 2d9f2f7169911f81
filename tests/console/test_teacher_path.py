"""A teacher's path through the console in Chromium, against `lb dev` (API, search service and
transcoder on embedded defaults): upload a lesson video and its slides with Uppy over tus,
describe it with the taxonomy pickers, watch it process, (a moderator approves it through the
API), find it by pinyin suggestion, and play it with hls.js beside the document preview. Then a
rural classroom plays a lesson on the big screen, starting on the rung its link can carry."""
from __future__ import annotations

import re
import time

import httpx
import pytest
from tusclient import client as tus_client

from tests import media
from tests.console.conftest import PHONE

pytestmark = pytest.mark.slow
API = "/api/v1"


def wait_for(check, *, timeout: float = 120, every: float = 0.5, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(every)


def api_get(stack, path, headers, **params):
    response = httpx.get(f"{stack.url}{API}{path}", headers=headers, params=params, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def approve(stack, resource_id):
    moderator = stack.token("moderator")
    wait_for(lambda: api_get(stack, f"/resources/{resource_id}", moderator)["status"] == "pending_review",
             what="pending_review")
    decision = httpx.post(f"{stack.url}{API}/moderation/resources/{resource_id}/decision", headers=moderator,
                          json={"action": "approve"})
    assert decision.status_code == 200, decision.text
    assert decision.json()["status"] == "published"


def player_state(page):
    return page.evaluate("window.lbPlayer && {...window.lbPlayer, time: document.querySelector('video').currentTime}")


def test_teacher_uploads_describes_finds_and_plays_a_lesson(console, dev_stack, tmp_path):
    page = console.page
    video = media.lesson_mp4(tmp_path / "凑十法微课.mp4", seconds=6, size="640x360")
    slides = media.text_pdf(tmp_path / "凑十法课件.pdf", text="make ten: 9 + 4 = 10 + 3")
    console.sign_in("teacher-urban")

    # 1. Upload two files at once through Uppy's Dashboard (tus).
    console.visit("#/upload", shot="upload-empty")
    page.locator("input.uppy-Dashboard-input").first.set_input_files([str(video), str(slides)])
    page.wait_for_function("document.querySelectorAll('.uploaded li').length === 2", timeout=60_000)
    console.shot("upload-done")
    states = page.evaluate("window.lbUppy.getFiles().map(f => [f.name, f.progress.uploadComplete])")
    assert sorted(states) == [["凑十法微课.mp4", True], ["凑十法课件.pdf", True]]

    # 2. Describe it: the pickers are filled from the taxonomy routes, no codes typed.
    page.get_by_label("标题").fill("凑十法 优课（控制台）")
    page.get_by_label("类型", exact=True).select_option("excellent_lesson")  # a video with its slides
    page.get_by_label("学科", exact=True).select_option(label="数学")
    page.get_by_label("年级", exact=True).select_option(label="一年级")
    page.get_by_label("教材版本").select_option("pep")
    page.wait_for_function("document.querySelector('select[name=volume]').options.length > 1")
    page.get_by_label("册次").select_option(label="一年级上册")
    page.wait_for_function("document.querySelector('select[name=chapter]').options.length > 1")
    chapter = page.locator("select[name=chapter] option").nth(1).get_attribute("value")
    page.get_by_label("章节").select_option(chapter)
    page.get_by_label("查找知识点").fill("凑十")
    page.get_by_role("button", name=re.compile("选择 .*凑十法")).first.click()
    assert "凑十法" in page.locator("#kp-chosen").inner_text()
    page.get_by_label("谁能看到").select_option("paired")
    console.shot("describe-filled")
    page.get_by_role("button", name="创建资源").click()
    page.wait_for_function(r"/^#\/resources\/\w+$/.test(location.hash)")
    resource_id = page.url.rsplit("/", 1)[1]
    console.wait_ready()
    console.shot("resource-processing")

    created = api_get(dev_stack, f"/resources/{resource_id}", dev_stack.token("teacher-urban"))
    assert created["subject"] == "math" and created["grade"] == "g1" and created["edition"] == "pep"
    assert created["volume"] == "pep-math-g1a" and created["chapter"] == chapter
    assert [kp["name"] for kp in created["knowledge_points"]] == ["凑十法"] or \
        "凑十法" in created["knowledge_points"][0]["name"]
    assert sorted(a["filename"] for a in created["assets"]) == ["凑十法微课.mp4", "凑十法课件.pdf"]

    # 3. My resources shows it with its status (processing, then awaiting review).
    approve(dev_stack, resource_id)  # the moderator's part, through the API
    console.visit("#/my", shot="my-resources")
    assert page.locator(f"tr[data-id='{resource_id}'] .badge").inner_text() == "已发布"

    # 4. Search: pinyin initials suggest it as you type; the hit is highlighted.
    console.visit("#/search", shot="search-empty")

    def suggested():
        page.locator("#q").fill("")
        page.locator("#q").press_sequentially("csf", delay=60)
        try:
            page.wait_for_selector("#suggestions li", timeout=3000)
        except Exception:  # noqa: BLE001 - not indexed yet: type again
            return False
        return "凑十法" in page.locator("#suggestions").inner_text()

    wait_for(suggested, timeout=90, what="a pinyin suggestion")
    console.shot("search-suggest")
    page.locator("#q").fill("凑十法 优课")
    page.locator("#q").press("Enter")

    def found():
        console.wait_ready()
        if page.locator(f".hit[data-id='{resource_id}']").count():
            return True
        page.reload()
        return False

    wait_for(found, timeout=90, what="the hit")
    assert page.locator(f".hit[data-id='{resource_id}'] mark").count() >= 1
    assert page.locator(".facet[data-facet=subject]").count() or page.locator(".chips.chosen li").count()
    console.shot("search-results")
    console.assert_labelled()
    page.locator(".facet[data-facet=kind] a").first.click()
    console.wait_ready()
    console.shot("search-facet")

    # 5. The resource page: hls.js plays the lesson; the slides show as page images.
    page.goto(f"{dev_stack.url}/console/#/resources/{resource_id}")
    console.wait_ready()
    page.wait_for_function("window.lbPlayer && window.lbPlayer.levels.length > 0", timeout=30_000)
    # Press play without waiting on play()'s promise: when the start rule (startup.js) holds a play
    # asked for before 4 s are buffered, it pauses the video, which rejects that promise by the
    # HTML spec (AbortError), and plays it once the buffer is in. The wait below is what counts.
    page.evaluate("{ const video = document.querySelector('video'); video.muted = true;"
                  "  video.play().catch(() => {}); }")
    page.wait_for_function("document.querySelector('video').currentTime > 1", timeout=60_000)
    state = player_state(page)
    assert sorted(height for height, _ in state["levels"]) == [240, 360], state
    assert not [e for e in state["errors"] if e.startswith("fatal")], state
    assert page.locator(".player select.rung option").count() == 3  # auto + two rungs
    page.wait_for_function("document.querySelectorAll('.pages img').length >= 1 && "
                           "document.querySelector('.pages img').naturalWidth > 0", timeout=30_000)
    console.shot("resource-playing")
    console.assert_labelled()
    page.locator(".player select.rung").select_option(str(state["levels"].index(min(state["levels"]))))
    page.wait_for_function("window.lbPlayer.currentLevel === window.lbPlayer.levels.findIndex("
                           "l => l[0] === 240)", timeout=30_000)
    page.set_viewport_size(PHONE)
    console.shot("resource-phone")
    assert not console.errors, console.errors


@pytest.fixture(scope="module")
def published_lesson(dev_stack, tmp_path_factory):
    """A paired lesson of the urban school, uploaded with tuspy and approved, for the rural school."""
    headers = dev_stack.token("teacher-urban")
    path = media.lesson_mp4(tmp_path_factory.mktemp("lesson") / "认识钟表.mp4", seconds=6, size="640x360")
    uploader = tus_client.TusClient(f"{dev_stack.url}{API}/uploads/", headers=headers).uploader(
        str(path), metadata={"filename": path.name, "content_type": "video/mp4"}, chunk_size=4 * 1024 * 1024)
    uploader.upload()
    upload_id = uploader.url.rstrip("/").rsplit("/", 1)[1]
    point = api_get(dev_stack, "/taxonomy/knowledge-points", headers, q="math.p.num.qty.clock")["items"][0]  # 认识整时
    created = httpx.post(f"{dev_stack.url}{API}/resources", headers=headers, json={
        "title": "认识钟表（大屏）", "kind": "micro_lesson", "visibility": "paired", "upload_ids": [upload_id],
        "subject": point["subject_code"], "stage": point["stage_code"], "knowledge_point_ids": [point["id"]]})
    assert created.status_code == 201, created.text
    approve(dev_stack, created.json()["id"])
    return {"id": created.json()["id"], "point": point["id"]}


def set_rural_link(stack, kbps):
    admin = stack.token("district-admin")
    school = api_get(stack, "/me", stack.token("teacher-rural"))["school"]
    response = httpx.patch(f"{stack.url}{API}/schools/{school['id']}", headers=admin, json={"bandwidth_kbps": kbps})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(("kbps", "start_height"), [(8000, 360), (300, 240)])
def test_rural_classroom_big_screen_starts_on_the_rung_its_link_carries(console, dev_stack, published_lesson,
                                                                        kbps, start_height):
    lesson = published_lesson["id"]
    set_rural_link(dev_stack, kbps)
    rural = dev_stack.token("teacher-rural")
    listed = api_get(dev_stack, f"/resources/{lesson}/play", rural)["renditions"]
    assert listed[0]["height"] == start_height  # the API's choice for this link
    page = console.page
    console.sign_in("teacher-rural")
    console.visit(f"#/classroom/{lesson}", shot=f"classroom-{kbps}kbps")
    page.wait_for_function("window.lbPlayer && window.lbPlayer.currentLevel !== null", timeout=30_000)
    page.keyboard.press("Space")  # the big screen's keyboard: play
    page.wait_for_function("document.querySelector('video').currentTime > 1", timeout=60_000)
    state = player_state(page)
    assert state["levels"][state["startLevel"]][0] == start_height, state
    assert state["firstPlayed"] == start_height, state
    assert page.locator(".lesson-title").inner_text() == "认识钟表（大屏）"
    assert page.locator(".topbar").is_hidden()
    console.shot(f"classroom-playing-{kbps}kbps")
    console.assert_labelled()
    page.evaluate("document.querySelector('video').pause()")
    page.get_by_role("link", name="退出大屏").click()
    console.wait_ready()
    console.shot("classroom-chooser")
    assert page.locator(".lesson-pick li").count() >= 1


def test_rural_classroom_plays_a_units_lessons_in_order(console, dev_stack, published_lesson):
    """A pack of lessons: those of a knowledge point (the unit), as search finds them for the school."""
    rural = dev_stack.token("teacher-rural")
    wait_for(lambda: api_get(dev_stack, "/search", rural, knowledge_point=published_lesson["point"])["total"] >= 1,
             what="the lesson in the rural school's search")
    console.sign_in("teacher-rural")
    console.visit(f"#/classroom?kp={published_lesson['point']}", shot="classroom-unit")
    page = console.page
    page.wait_for_function("window.lbPlayer && window.lbPlayer.levels.length > 0", timeout=30_000)
    assert page.locator(".lesson-title").inner_text() == "认识钟表（大屏）"
    assert not console.errors, console.errors
