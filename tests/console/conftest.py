"""The web console in a real browser: `lb dev` (what `make run` starts: API with the console,
search service and transcoder, on embedded defaults, with the demo district) and Debian's
Chromium driven by Playwright through `executable_path` (no browser download). Every page a test
visits is saved as a screenshot under $LB_ARTIFACTS/console (default tests/console/artifacts/)."""
from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.conftest import REQUIRE_SERVERS

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "console-demo-password"
VENDOR = ROOT / "services" / "console" / "static" / "vendor" / "uppy" / "uppy.min.mjs"
ARTIFACTS = Path(os.environ.get("LB_ARTIFACTS", ROOT / "tests" / "console" / "artifacts")) / "console"
# As root, in a closed network: no sandbox, no background calls home (as tests/e2e/test_playback.py).
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--autoplay-policy=no-user-gesture-required"]
PROJECTOR = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _missing(what: str) -> None:
    message = f"console leg skipped: {what}"
    if REQUIRE_SERVERS:
        pytest.fail(message.replace("skipped", "required"))
    pytest.skip(message)


def chromium_path() -> str:
    path = shutil.which("chromium")
    if path is None:
        _missing("Chromium missing (run infra/browser.sh install)")
    if not VENDOR.exists():
        _missing("the console's libraries are missing (run infra/console.sh install)")
    return path


@dataclass
class DevStack:
    """`lb dev` in its own process group, on free ports and a fresh data dir."""

    data_dir: Path
    ports: dict[str, int] = field(default_factory=lambda: {
        "LB_API_PORT": _free_port(), "LB_SEARCH_PORT": _free_port(), "LB_TRANSCODER_PORT": _free_port()})
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.ports['LB_API_PORT']}"

    def start(self, timeout: float = 180) -> DevStack:
        env = {**{k: v for k, v in os.environ.items() if not k.startswith("LB_")},
               **{k: str(v) for k, v in self.ports.items()}, "LB_DATA_DIR": str(self.data_dir),
               "LB_DEMO_PASSWORD": PASSWORD, "LB_MEDIA_POLL_S": "0.5", "LB_SEARCH_RELAY_S": "0.5",
               "LB_SECRET_KEY": "console-tests-master-secret-long-enough-0123456789"}
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log = (self.data_dir.parent / "dev.log").open("w")
        self.process = subprocess.Popen([str(Path(sys.executable).parent / "lb"), "dev"], cwd=ROOT, env=env,
                                        stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        for url in (f"{self.url}/readyz", f"http://127.0.0.1:{self.ports['LB_SEARCH_PORT']}/readyz",
                    f"http://127.0.0.1:{self.ports['LB_TRANSCODER_PORT']}/readyz"):
            while True:
                if self.process.poll() is not None:
                    raise RuntimeError(f"lb dev exited with {self.process.returncode}: {self.log_tail()}")
                try:
                    if httpx.get(url, timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{url} never became ready: {self.log_tail()}")
                time.sleep(0.3)
        return self

    def log_tail(self) -> str:
        self.log.flush()
        return (self.data_dir.parent / "dev.log").read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)  # Ctrl-C, as in a terminal
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self.log.close()

    def token(self, username: str) -> dict[str, str]:
        response = httpx.post(f"{self.url}/api/v1/auth/token", data={"username": username, "password": PASSWORD})
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture(scope="module")
def dev_stack(tmp_path_factory) -> Iterator[DevStack]:
    chromium_path()
    stack = DevStack(data_dir=tmp_path_factory.mktemp("console") / "data").start()
    yield stack
    stack.stop()


@pytest.fixture(scope="module")
def browser(dev_stack):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


class ConsolePage:
    """One browser tab on the console; `visit` and `shot` save a screenshot per page seen."""

    def __init__(self, page, base: str, test_name: str) -> None:
        self.page, self.base, self.test_name = page, base, re.sub(r"[^\w.-]+", "_", test_name)
        self.shots = 0
        self.errors: list[str] = []
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("console", self._console)

    def _console(self, message) -> None:
        """Errors in the console, except the API's own answers (a 409 while a video processes is
        an answer the page shows, not a fault)."""
        where = message.location.get("url", "")
        if message.type == "error" and not (message.text.startswith("Failed to load resource") and "/api/v1/" in where):
            self.errors.append(f"{message.text} ({where})")

    def visit(self, hash_: str, *, shot: str | None = None) -> None:
        self.page.goto(f"{self.base}/console/{hash_}")
        self.wait_ready()
        self.shot(shot or hash_)
        self.assert_labelled()

    def assert_labelled(self) -> None:
        """Every control of the page has an accessible name (a <label>, aria-label(ledby) or text);
        Uppy's own widgets are Uppy's business."""
        unnamed = self.page.evaluate("""() => [...document.querySelectorAll(
                'main input:not([type=hidden]), main select, main textarea, main button, header select, header button')]
            .filter((el) => !el.closest('.uppy-Root') && el.offsetParent !== null)
            .filter((el) => !(el.labels?.length || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby')
                              || (el.tagName === 'BUTTON' && el.textContent.trim())))
            .map((el) => el.outerHTML.slice(0, 120))""")
        assert not unnamed, f"controls without an accessible name: {unnamed}"

    def wait_ready(self, timeout: float = 30_000) -> None:
        """The router marks the page it finished rendering with data-ready."""
        self.page.wait_for_selector("main .page[data-ready]", timeout=timeout)

    def shot(self, name: str) -> Path:
        self.shots += 1
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        slug = re.sub(r"[^\w.-]+", "_", name).strip("_")
        path = ARTIFACTS / f"{self.test_name}-{self.shots:02d}-{slug}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def sign_in(self, username: str, password: str = PASSWORD) -> None:
        self.visit("#/signin", shot="signin")
        self.page.get_by_label(re.compile("用户名|Username")).fill(username)
        self.page.get_by_label(re.compile("密码|Password")).fill(password)
        self.page.get_by_role("button", name=re.compile("登录|Sign in")).click()
        self.page.wait_for_function("!location.hash.startsWith('#/signin')")
        self.wait_ready()
        self.shot(f"home-{username}")


@pytest.fixture
def console(browser, dev_stack, request) -> Iterator[ConsolePage]:
    context = browser.new_context(viewport=PROJECTOR, locale="zh-CN")
    page = context.new_page()
    tab = ConsolePage(page, dev_stack.url, request.node.name)
    for old in ARTIFACTS.glob(f"{tab.test_name}-*.png"):  # a rerun's shots replace the last run's
        old.unlink()
    yield tab
    if getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed:
        tab.shot("failure")
    context.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.rep_call = report
    return report
