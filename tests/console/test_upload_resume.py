"""Uploads in the console survive a dropped connection and a closed tab. The link is cut in the
browser (Playwright aborts the requests, as a dropped link fails them): the second 8 MiB chunk's
PATCH fails once and tus-js-client retries it; then every PATCH fails and the teacher closes the
tab. In a new tab, adding the same file again resumes the same tus upload from where the server
says it stopped, instead of starting a new one.

Chrome's upload throttling is not used: it slows the progress the page reports, not the bytes
sent, so on a loaded machine the whole file could reach the server before the tab was closed."""
from __future__ import annotations

from urllib.parse import urljoin

import httpx
import pytest

from tests import media

pytestmark = pytest.mark.slow
UPLOADS = "/api/v1/uploads/"
CHUNK = 8 * 1024 * 1024  # the console's tus chunk (services/console/static/js/pages/upload.js)


class FlakyLink:
    """PATCH 1 passes, PATCH 2 is dropped, PATCH 3 (tus-js-client's retry) passes, then the link
    is gone for good. Everything else (POST, HEAD) passes."""

    def __init__(self):
        self.patches = 0

    def __call__(self, route):
        if route.request.method != "PATCH":
            route.continue_()
            return
        self.patches += 1
        if self.patches in (1, 3):
            route.continue_()
        else:
            route.abort("internetdisconnected")


def test_an_upload_resumes_after_a_dropped_link_and_a_closed_tab(console, dev_stack, tmp_path):
    source = media.lesson_mp4(tmp_path / "clip.mp4", seconds=3, size="320x240")
    big = media.padded_mp4(source, tmp_path / "长课堂实录.mp4", total_bytes=3 * CHUNK)
    page = console.page
    created, patches = [], []
    page.on("response", lambda r: created.append(r.headers["location"])
            if r.request.method == "POST" and r.url.endswith(UPLOADS) and r.status == 201 else None)
    console.sign_in("teacher-urban")
    console.visit("#/upload", shot="upload-before")
    link = FlakyLink()
    page.route(f"**{UPLOADS}**", link)
    # The second chunk is dropped once and retried; the third is dropped for good (the fourth PATCH).
    with page.expect_event("requestfailed", lambda r: r.method == "PATCH" and link.patches >= 4, timeout=120_000):
        page.locator("input.uppy-Dashboard-input").first.set_input_files(str(big))
    assert len(created) == 1, created
    teacher = dev_stack.token("teacher-urban")
    held = httpx.head(urljoin(f"{dev_stack.url}/", created[0]), headers={**teacher, "Tus-Resumable": "1.0.0"})
    assert held.status_code in (200, 204), held.text
    held_offset = int(held.headers["upload-offset"])
    assert held_offset == 2 * CHUNK, held_offset  # the first chunk, and the second through the retry
    context = page.context
    console.shot("upload-halfway")
    page.close()  # the teacher gives up and closes the tab mid-file

    # A new tab of the same browser profile: sign in again, add the same file.
    tab = context.new_page()
    console.page = tab
    tab.on("response", lambda r: created.append(r.headers["location"])
           if r.request.method == "POST" and r.url.endswith(UPLOADS) and r.status == 201 else None)
    tab.on("request", lambda r: patches.append(int(r.headers.get("upload-offset", "-1")))
           if r.method == "PATCH" and UPLOADS in r.url else None)
    console.sign_in("teacher-urban")
    console.visit("#/upload", shot="upload-new-tab")
    # Where the server stands now: a request of the closed tab may have landed part of a chunk.
    resumed_at = int(httpx.head(urljoin(f"{dev_stack.url}/", created[0]),
                                headers={**teacher, "Tus-Resumable": "1.0.0"}).headers["upload-offset"])
    assert held_offset <= resumed_at < big.stat().st_size, (held_offset, resumed_at)
    tab.locator("input.uppy-Dashboard-input").first.set_input_files(str(big))
    tab.wait_for_function("document.querySelectorAll('.uploaded li').length === 1", timeout=120_000)
    console.shot("upload-resumed-done")
    assert len(created) == 1, f"a second upload was created instead of resuming: {created}"
    assert patches and patches[0] == resumed_at, (patches, resumed_at)  # resumed where the server stopped
    upload_id = tab.locator(".uploaded li").get_attribute("data-upload-id")
    assert created[0].rstrip("/").endswith(upload_id)
    status = httpx.get(f"{dev_stack.url}/api/v1/uploads/{upload_id}", headers=teacher).json()
    assert status["status"] == "complete" and status["length"] == big.stat().st_size, status
