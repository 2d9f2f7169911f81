"""The moderator's and the administrator's console pages in Chromium, against `lb dev` with the
demo district: a review done from the keyboard (approve, reject with a reason, a revision's
diff, a document's page images), reports and take-downs, then schools, users, devices and their
timetables, pairings, and the statistics charts with the CSV export. After each action the API
itself is asked what happened; every page is kept as a screenshot."""
from __future__ import annotations

import csv
import io
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest
from tusclient import client as tus_client

from tests import media
from tests.console.conftest import PHONE, PROJECTOR

pytestmark = pytest.mark.slow

API = "/api/v1"


def _json(response: httpx.Response, status: int = 200):
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def _resource(dev_stack, headers, resource_id):
    return _json(httpx.get(f"{dev_stack.url}{API}/resources/{resource_id}", headers=headers))


def _wait_status(dev_stack, headers, resource_id, wanted, timeout=180):
    deadline = time.monotonic() + timeout
    while True:
        detail = _resource(dev_stack, headers, resource_id)
        if detail["status"] == wanted:
            return detail
        assert detail["status"] not in {"failed", "rejected"}, detail
        assert time.monotonic() < deadline, f"stayed {detail['status']}, wanted {wanted}"
        time.sleep(0.3)


def _submitted(dev_stack, headers, title):
    """A described resource without files, sent for review (draft → pending_review)."""
    created = _json(httpx.post(f"{dev_stack.url}{API}/resources", headers=headers, json={
        "title": title, "kind": "courseware", "subject": "math", "stage": "primary",
        "description": "送审测试", "visibility": "district"}), 201)
    submitted = _json(httpx.post(f"{dev_stack.url}{API}/resources/{created['id']}/submit", headers=headers))
    assert submitted["status"] == "pending_review"
    return created["id"]


def _uploaded(dev_stack, headers, path, content_type, *, title, kind):
    """A file over tus, described; the dev stack's transcoder processes it (not waited for)."""
    client = tus_client.TusClient(f"{dev_stack.url}{API}/uploads/", headers=headers)
    uploader = client.uploader(str(path), metadata={"filename": path.name, "content_type": content_type})
    uploader.upload()
    upload_id = uploader.url.rstrip("/").rsplit("/", 1)[1]
    return _json(httpx.post(f"{dev_stack.url}{API}/resources", headers=headers, json={
        "title": title, "kind": kind, "visibility": "district", "upload_ids": [upload_id]}), 201)["id"]


def _select(page, resource_id):
    """Moves the queue's selection with j/k until it is on `resource_id`."""
    ids = page.locator("#queue-list li[data-resource-id]").evaluate_all("nodes => nodes.map(n => n.dataset.resourceId)")
    assert resource_id in ids, ids
    current = page.locator("#queue-list li[aria-selected=true]").get_attribute("data-resource-id")
    steps = ids.index(resource_id) - ids.index(current)
    for _ in range(abs(steps)):
        page.keyboard.press("j" if steps > 0 else "k")
    page.wait_for_selector(f"#queue-list li[aria-selected=true][data-resource-id='{resource_id}']")
    page.wait_for_selector(f"#queue-detail [data-resource-id='{resource_id}']")


def test_a_moderator_reviews_from_the_keyboard(console, dev_stack, tmp_path):
    teacher = dev_stack.token("teacher-urban")
    to_approve = _submitted(dev_stack, teacher, "送审：分数的初步认识")
    to_reject = _submitted(dev_stack, teacher, "送审：重复上传的课件")
    with_pages = _uploaded(dev_stack, teacher, media.lesson_pdf(tmp_path / "教案.pdf"), "application/pdf",
                           title="送审：带预览的教案", kind="lesson_plan")
    with_video = _uploaded(dev_stack, teacher, media.lesson_mp4(tmp_path / "微课.mp4", seconds=4), "video/mp4",
                           title="送审：带视频的微课", kind="micro_lesson")
    for processed in (with_pages, with_video):
        _wait_status(dev_stack, teacher, processed, "pending_review")
    # A change to an approved resource: a pending revision, its title old → new.
    published = _json(httpx.get(f"{dev_stack.url}{API}/resources", headers=teacher,
                                params={"status": "published", "mine": "true"}))["items"]
    revised = next(r for r in published if "认识钟表" in r["title"])
    _json(httpx.patch(f"{dev_stack.url}{API}/resources/{revised['id']}", headers=teacher,
                      json={"title": "认识钟表 微课（修订版）"}))

    console.sign_in("moderator")
    page = console.page
    console.visit("#/review", shot="review-queue")
    assert page.locator("h1").inner_text() == "审核队列"
    queued = page.locator("#queue-list li[data-resource-id]").evaluate_all("nodes => nodes.map(n => n.dataset.resourceId)")
    assert {to_approve, to_reject, with_pages, with_video, revised["id"]} <= set(queued)
    assert page.locator("#queue-list").evaluate("node => node === document.activeElement")  # keys work at once

    # The revision: its change shown field by field, old beside new.
    _select(page, revised["id"])
    diff = page.locator("#revision-diff")
    diff.wait_for()
    assert "认识钟表 微课" in diff.locator(".sk-diff-before").first.inner_text()
    assert "认识钟表 微课（修订版）" in diff.locator(".sk-diff-after").first.inner_text()
    console.shot("review-revision-diff")

    # The document: its automatic checks and its page image, loaded.
    _select(page, with_pages)
    page.wait_for_function("""() => { const img = document.querySelector('#queue-preview img');
                                       return img && img.complete && img.naturalWidth > 0; }""", timeout=30_000)
    assert page.locator("#queue-detail table").first.locator("tbody tr").count() >= 1  # automatic checks
    console.shot("review-document-preview")

    # The lesson plays only when asked (a play link counts as a view): p.
    _select(page, with_video)
    page.locator("#queue-preview .sk-play").wait_for()
    assert page.locator("#queue-preview video").count() == 0
    page.keyboard.press("p")
    page.wait_for_function("() => { const v = document.querySelector('#queue-preview video'); return v && v.readyState >= 2; }",
                           timeout=60_000)
    console.shot("review-video-player")

    # a: approve.
    _select(page, to_approve)
    page.keyboard.press("a")
    page.wait_for_selector("#moderation-queue .sk-status[data-kind=ok]")
    assert "已通过" in page.locator("#moderation-queue .sk-status").inner_text()
    assert _resource(dev_stack, teacher, to_approve)["status"] == "published"
    assert page.locator(f"#queue-list li[data-resource-id='{to_approve}']").count() == 0

    # r, a note, then 6 (重复资源): rejected with that reason, the note shown to the owner.
    _select(page, to_reject)
    page.keyboard.press("r")
    picker = page.locator("#reject-picker")
    picker.wait_for()
    console.shot("review-reject-picker")
    page.get_by_label("说明（可选，将告知上传者）").fill("与已发布的课件重复")
    page.locator("#reject-picker button[data-reason]").first.focus()
    page.keyboard.press("6")
    page.wait_for_selector("#moderation-queue .sk-status[data-kind=ok]:has-text('已驳回')")
    rejected = _resource(dev_stack, teacher, to_reject)
    assert rejected["status"] == "rejected"
    assert rejected["review"]["reason_code"] == "duplicate" and rejected["review"]["note"] == "与已发布的课件重复"

    # The revision, approved from the keyboard: the new title goes live.
    _select(page, revised["id"])
    page.keyboard.press("a")
    page.wait_for_selector("#moderation-queue .sk-status[data-kind=ok]:has-text('已通过：认识钟表')")
    assert _resource(dev_stack, teacher, revised["id"])["title"] == "认识钟表 微课（修订版）"
    console.shot("review-after-decisions")
    page.set_viewport_size(PHONE)
    console.shot("review-queue-phone")
    page.set_viewport_size(PROJECTOR)
    assert not console.errors, console.errors


def test_a_moderator_upholds_a_report_and_restores_the_resource(console, dev_stack):
    teacher = dev_stack.token("teacher-urban")
    reporter = dev_stack.token("teacher-rural")
    hits = _json(httpx.get(f"{dev_stack.url}{API}/resources", headers=teacher, params={"status": "published", "mine": "true"}))["items"]
    lens = next(r for r in hits if "凸透镜" in r["title"])
    _json(httpx.post(f"{dev_stack.url}{API}/resources/{lens['id']}/reports", headers=reporter,
                     json={"reason": "factual_error", "detail": "成像规律表述有误"}), 201)

    console.sign_in("moderator")
    page = console.page
    console.visit("#/reports", shot="reports")
    report = page.locator(f"article[data-resource-id='{lens['id']}']")
    assert "成像规律表述有误" in report.inner_text()
    report.get_by_label("处理说明").fill("经核实属实")
    report.locator("select[name=reason_code]").select_option("inaccurate")
    report.get_by_role("button", name="提交处理").click()
    page.wait_for_selector("#moderation-reports .sk-status[data-kind=ok]")
    assert _resource(dev_stack, teacher, lens["id"])["status"] == "taken_down"
    console.shot("reports-resolved")

    console.visit("#/takedowns", shot="takedowns")
    page.get_by_label("资源编号").fill(lens["id"])
    page.get_by_role("button", name="查询").click()
    page.get_by_role("button", name="恢复上架").click()
    page.wait_for_selector("#moderation-takedowns .sk-status[data-kind=ok]")
    assert _resource(dev_stack, teacher, lens["id"])["status"] == "published"
    assert "已发布" in page.locator("#restore-result").inner_text()
    console.shot("takedowns-restored")

    # Found again by search (once the index has it back), and taken down from there.
    page.get_by_label("关键词").fill("凸透镜")
    found = page.locator(f"#takedown-hits form[data-resource-id='{lens['id']}']")
    deadline = time.monotonic() + 60
    while not found.count():
        assert time.monotonic() < deadline, page.locator("#takedown-hits").inner_text()
        page.get_by_role("button", name="搜索").click()
        page.wait_for_timeout(500)
    found.get_by_label("下架原因").select_option("copyright")
    found.get_by_role("button", name="下架").click()
    page.wait_for_selector("#moderation-takedowns .sk-status[data-kind=ok]:has-text('已下架')")
    taken = _resource(dev_stack, teacher, lens["id"])
    assert taken["status"] == "taken_down" and taken["review"]["reason_code"] == "copyright"
    console.shot("takedowns-taken-down")
    assert not console.errors, console.errors


def test_an_administrator_manages_schools_users_devices_and_pairings(console, dev_stack):
    admin = dev_stack.token("district-admin")
    console.sign_in("district-admin")
    page = console.page

    console.visit("#/admin/schools", shot="admin-schools")
    page.get_by_label("校名").fill("北坡教学点")
    page.get_by_label("类型").select_option("teaching_point")
    page.get_by_label("出口带宽（kbit/s）").fill("4000")
    page.get_by_role("button", name="保存").click()
    page.wait_for_selector("#admin-schools .sk-status[data-kind=ok]")
    schools = _json(httpx.get(f"{dev_stack.url}{API}/schools", headers=admin, params={"size": 100}))["items"]
    new_school = next(s for s in schools if s["name"] == "北坡教学点")
    assert new_school["kind"] == "teaching_point" and new_school["bandwidth_kbps"] == 4000
    page.locator("#schools-list tr", has_text="北坡教学点").get_by_role("button").click()
    page.get_by_label("出口带宽（kbit/s）").fill("6000")
    page.get_by_role("button", name="保存").click()
    page.wait_for_selector("#admin-schools .sk-status[data-kind=ok]:has-text('已保存')")
    assert _json(httpx.get(f"{dev_stack.url}{API}/schools/{new_school['id']}", headers=admin))["bandwidth_kbps"] == 6000
    console.shot("admin-schools-saved")

    console.visit("#/admin/users", shot="admin-users")
    page.get_by_label("登录名").fill("teacher-beipo")
    page.get_by_label("真实姓名").fill("孙老师")
    page.get_by_label("初始密码").fill("beipo-password-1")
    page.get_by_label("学校", exact=True).select_option(label="北坡教学点")
    page.get_by_role("button", name="保存").click()
    page.wait_for_selector("#admin-users .sk-status[data-kind=ok]")
    users = _json(httpx.get(f"{dev_stack.url}{API}/users", headers=admin, params={"size": 100}))["items"]
    sun = next(u for u in users if u["username"] == "teacher-beipo")
    assert sun["roles"] == ["teacher"] and sun["school_id"] == new_school["id"] and sun["real_name"] == "孙老师"

    console.visit("#/admin/devices", shot="admin-devices")
    page.get_by_label("学校", exact=True).select_option(label="北坡教学点")
    page.get_by_label("教室").fill("一年级教室")
    page.get_by_label("设备名称").fill("北坡录播一号")
    page.get_by_role("button", name="登记设备").click()
    token = page.locator("#device-token .sk-token")
    token.wait_for()
    assert token.inner_text().strip()
    devices = _json(httpx.get(f"{dev_stack.url}{API}/devices", headers=admin, params={"size": 100}))["items"]
    device = next(d for d in devices if d["name"] == "北坡录播一号")
    page.get_by_role("button", name="课表 北坡录播一号").click()
    page.locator("#add-slot").click()
    slot = page.locator("#timetable tr.slot").last
    slot.get_by_label("教师（登录名或编号）").fill("teacher-beipo")
    slot.get_by_label("学科").select_option("math")
    starts = (datetime.now() + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
    slot.get_by_label("开始").fill(starts.strftime("%Y-%m-%dT%H:%M"))
    slot.get_by_label("结束").fill((starts + timedelta(minutes=40)).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="保存课表（整体替换）").click()
    page.wait_for_selector("#admin-devices .sk-status[data-kind=ok]:has-text('课表已保存')")
    schedule = _json(httpx.get(f"{dev_stack.url}{API}/devices/{device['id']}/schedule", headers=admin))
    assert [(s["teacher_id"], s["subject"]) for s in schedule["slots"]] == [(sun["id"], "math")]
    start = datetime.fromisoformat(schedule["slots"][0]["start"].replace("Z", "+00:00"))
    assert start == starts.astimezone(timezone.utc)  # the browser's local time, sent with its zone
    # Read back, the slot names its teacher by username (the API answers with the id).
    assert page.locator("#timetable tr.slot input[name=teacher]").input_value() == "teacher-beipo"
    console.shot("admin-devices-timetable")

    console.visit("#/admin/pairings", shot="admin-pairings")
    page.get_by_label("帮扶学校（城）").select_option(label="青山区实验小学")
    page.get_by_label("受援学校（乡）").select_option(label="北坡教学点")
    page.get_by_role("button", name="新建结对").click()
    page.wait_for_selector("#admin-pairings .sk-status[data-kind=ok]")
    pairings = _json(httpx.get(f"{dev_stack.url}{API}/pairings", headers=admin, params={"school_id": new_school["id"]}))["items"]
    assert len(pairings) == 1
    page.locator("#pairings-list tr", has_text="北坡教学点").get_by_role("button", name="学期计划").click()
    page.get_by_label("学期").fill("2026-fall")
    page.get_by_label("目标交流次数").fill("3")
    page.locator("#plan-form input[type=checkbox][value=math]").check()
    page.get_by_role("button", name="保存计划").click()
    page.wait_for_selector("#admin-pairings .sk-status[data-kind=ok]:has-text('计划已保存')")
    plans = _json(httpx.get(f"{dev_stack.url}{API}/pairings/{pairings[0]['id']}/plans", headers=admin))
    assert [(p["semester"], p["goal_exchanges"], p["subjects"]) for p in plans] == [("2026-fall", 3, ["math"])]
    console.shot("admin-pairings-plan")
    page.set_viewport_size(PHONE)
    console.shot("admin-pairings-phone")
    assert not console.errors, console.errors


def _painted(page, selector):
    """How many pixels of the chart's canvas are painted (not transparent)."""
    return page.evaluate("""(selector) => {
        const canvas = document.querySelector(selector + ' canvas');
        if (!canvas || !canvas.width) return 0;
        const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        let painted = 0;
        for (let i = 3; i < data.length; i += 4) if (data[i] > 0) painted++;
        return painted; }""", selector)


def test_an_administrator_sees_charts_and_downloads_the_csv(console, dev_stack):
    admin = dev_stack.token("district-admin")
    console.sign_in("district-admin")
    page = console.page
    console.visit("#/admin/stats", shot="admin-stats")
    for chart in ("#coverage-chart", "#coverage-pie", "#participation-chart"):
        page.wait_for_selector(f"{chart}[data-rendered] canvas")
        assert _painted(page, chart) > 1000, chart
    coverage = _json(httpx.get(f"{dev_stack.url}{API}/statistics/coverage", headers=admin,
                               params={"subject": "math", "stage": "primary"}))
    assert coverage["points_covered"] >= 2  # the demo's two math lessons
    summary = page.locator("#coverage-summary").inner_text()
    assert f"{coverage['points_covered']} / {coverage['points_total']}" in summary, summary
    # The bars are the API's counts: the chart's data table (second level of the tree, by default).
    depths = sorted({p["depth"] for p in coverage["points"]})
    expected = [f"{p['name']}\t{p['count']}" for p in coverage["points"] if p["depth"] == depths[1]]
    rows = page.locator("#admin-stats details").first.locator("tbody tr").evaluate_all(
        "rows => rows.map(r => [...r.cells].map(c => c.textContent.replace(/^\u3000+/, '').trim()).join('\\t'))")
    assert rows == expected
    participation = _json(httpx.get(f"{dev_stack.url}{API}/statistics/participation/schools", headers=admin,
                                    params={"size": 100}))
    names = [s["school_name"] for s in participation["items"]]
    table_text = page.locator("#admin-stats details").last.text_content()
    assert all(name in table_text for name in names), table_text

    with page.expect_download() as waiting:
        page.get_by_role("button", name="导出各校 CSV").click()
    download = waiting.value
    assert download.suggested_filename.startswith("participation-schools-") and download.suggested_filename.endswith(".csv")
    raw = Path(download.path()).read_bytes()
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert len(rows) >= 1 + len(names)
    text = "\n".join(",".join(r) for r in rows)
    assert all(name in text for name in names), text
    # The same bytes the API exports for this administrator, in Chinese (the console's language).
    direct = httpx.get(f"{dev_stack.url}{API}/statistics/participation/schools", headers={**admin, "Accept-Language": "zh-CN"},
                       params={"format": "csv"})
    assert direct.status_code == 200
    assert raw == direct.content
    page.wait_for_selector("#admin-stats .sk-status[data-kind=ok]")
    console.shot("admin-stats-csv")
    # Coverage too: the API's own CSV for the subject and stage shown.
    with page.expect_download() as waiting:
        page.get_by_role("button", name="导出覆盖率 CSV").click()
    raw = Path(waiting.value.path()).read_bytes()
    direct = httpx.get(f"{dev_stack.url}{API}/statistics/coverage", headers={**admin, "Accept-Language": "zh-CN"},
                       params={"format": "csv", "subject": page.locator("#coverage-subject").input_value(),
                               "stage": page.locator("#coverage-stage").input_value()})
    assert direct.status_code == 200 and raw == direct.content
    assert {row["知识点编码"] for row in csv.DictReader(io.StringIO(raw.decode("utf-8-sig")))} == {
        p["code"] for p in coverage["points"]}

    page.select_option("#lang", "en")
    console.wait_ready()
    page.wait_for_selector("#participation-chart[data-rendered] canvas")
    assert page.locator("h1").inner_text() == "Statistics: coverage and participation"
    console.shot("admin-stats-en")
    page.set_viewport_size(PHONE)
    console.shot("admin-stats-phone")
    assert not console.errors, console.errors
