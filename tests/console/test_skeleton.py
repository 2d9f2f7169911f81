"""The console's shell in Chromium: sign-in, navigation by role, language switch, problem details
shown with their code."""
from __future__ import annotations

import re

import pytest

from tests.console.conftest import PHONE

pytestmark = pytest.mark.slow


def test_teacher_signs_in_and_sees_their_resources_in_both_languages(console):
    console.sign_in("teacher-urban")
    page = console.page
    assert page.url.endswith("#/my")
    assert page.locator("h1").inner_text() == "我的资源"
    assert page.locator("table.list tbody tr").count() == 3  # the demo district's three resources
    assert page.locator("#nav a[aria-current=page]").inner_text() == "我的资源"
    page.select_option("#lang", "en")
    console.wait_ready()
    assert page.locator("h1").inner_text() == "My resources"
    assert page.locator("html").get_attribute("lang") == "en"
    console.shot("my-resources-en")
    for hash_, title in (("#/upload", "Upload"), ("#/search", "Find resources"), ("#/classroom", "Classroom screen")):
        console.visit(hash_, shot=f"{hash_}-en")
        assert page.locator("main h1").first.inner_text() == title
    assert page.locator(".uppy-Dashboard").count() == 0  # Uppy only on the upload page
    console.visit("#/upload", shot="upload-en-uppy")
    assert "browse" in page.locator(".uppy-Dashboard").inner_text().lower()  # Uppy's English strings
    console.visit("#/my", shot="my-resources-en-again")
    page.set_viewport_size(PHONE)
    console.shot("my-resources-phone")
    assert not console.errors, console.errors


def test_a_wrong_password_shows_the_problem_code(console):
    console.visit("#/signin")
    console.page.get_by_label("用户名").fill("teacher-urban")
    console.page.get_by_label("密码").fill("not-the-password")
    console.page.get_by_role("button", name="登录").click()
    flash = console.page.locator("#flash.error")
    flash.wait_for()
    assert re.search(r"\[auth\.[a-z_]+\]", flash.inner_text()), flash.inner_text()
    console.shot("signin-refused")
