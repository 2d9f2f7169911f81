"""Uploads in the console survive a dropped connection and a closed tab: on a throttled link the
teacher goes offline mid-file (tus-js-client retries once the link is back), then closes the tab;
in a new tab, adding the same file again resumes the same tus upload from where the server says
it stopped, instead of starting a new one."""
from __future__ import annotations

import httpx
import pytest

from tests import media

pytestmark = pytest.mark.slow
UPLOADS = "/api/v1/uploads/"


def throttle(page, *, upload_bytes_per_s: int, offline: bool = False):
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {"offline": offline, "latency": 20, "downloadThroughput": -1,
                                                  "uploadThroughput": upload_bytes_per_s})
    return cdp


def uploaded_bytes(page) -> int:
    return page.evaluate("(window.lbUppy?.getFiles()[0]?.progress.bytesUploaded) || 0")


def test_an_upload_resumes_after_a_dropped_link_and_a_closed_tab(console, dev_stack, tmp_path):
    source = media.lesson_mp4(tmp_path / "clip.mp4", seconds=3, size="320x240")
    big = media.padded_mp4(source, tmp_path / "长课堂实录.mp4", total_bytes=24 * 1024 * 1024)
    page = console.page
    created, patches = [], []
    page.on("response", lambda r: created.append(r.headers["location"])
            if r.request.method == "POST" and r.url.endswith(UPLOADS) and r.status == 201 else None)
    console.sign_in("teacher-urban")
    console.visit("#/upload", shot="upload-before")
    cdp = throttle(page, upload_bytes_per_s=1_500_000)
    page.locator("input.uppy-Dashboard-input").first.set_input_files(str(big))
    page.wait_for_function("(window.lbUppy.getFiles()[0]?.progress.bytesUploaded || 0) > 2 * 1024 * 1024",
                           timeout=60_000)
    # The link drops, then comes back: tus-js-client retries and goes on with the same upload.
    with page.expect_event("requestfailed", lambda r: r.method in ("PATCH", "HEAD") and UPLOADS in r.url,
                           timeout=60_000):
        cdp.send("Network.emulateNetworkConditions", {"offline": True, "latency": 0, "downloadThroughput": -1,
                                                      "uploadThroughput": -1})
    console.shot("upload-offline")
    cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 20, "downloadThroughput": -1,
                                                  "uploadThroughput": 1_500_000})
    before = uploaded_bytes(page)
    page.wait_for_function(f"(window.lbUppy.getFiles()[0]?.progress.bytesUploaded || 0) > {before} + 9 * 1024 * 1024",
                           timeout=60_000)
    assert len(created) == 1, created
    console.shot("upload-halfway")
    context = page.context
    page.close()  # the teacher closes the tab mid-file

    # A new tab of the same browser profile: sign in again, add the same file.
    tab = context.new_page()
    console.page = tab
    tab.on("response", lambda r: created.append(r.headers["location"])
           if r.request.method == "POST" and r.url.endswith(UPLOADS) and r.status == 201 else None)
    tab.on("request", lambda r: patches.append(int(r.headers.get("upload-offset", "-1")))
           if r.method == "PATCH" and UPLOADS in r.url else None)
    console.sign_in("teacher-urban")
    console.visit("#/upload", shot="upload-new-tab")
    tab.locator("input.uppy-Dashboard-input").first.set_input_files(str(big))
    tab.wait_for_function("document.querySelectorAll('.uploaded li').length === 1", timeout=120_000)
    console.shot("upload-resumed-done")
    assert len(created) == 1, f"a second upload was created instead of resuming: {created}"
    assert patches and patches[0] > 8 * 1024 * 1024, patches  # resumed past the first chunk
    upload_id = tab.locator(".uploaded li").get_attribute("data-upload-id")
    assert created[0].rstrip("/").endswith(upload_id)
    status = httpx.get(f"{dev_stack.url}/api/v1/uploads/{upload_id}", headers=dev_stack.token("teacher-urban")).json()
    assert status["status"] == "complete" and status["length"] == big.stat().st_size, status
