"""`make run`'s last step, `lb dev`, for real: every process starts on embedded defaults, the
demo accounts log in, and Ctrl-C (SIGINT to the process group) stops everything."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "demo-password-for-tests"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_ready(url: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"{url} never became ready")


def _is_search_process(cmdline: Path, port: int) -> bool:
    try:
        args = cmdline.read_text().split("\0")
    except OSError:  # gone meanwhile
        return False
    return any(a.endswith("bin/uvicorn") for a in args[:2]) and "services.search.app:create_app_from_env" in args \
        and str(port) in args


def test_dev_stack_serves_the_demo_district_and_stops_on_ctrl_c(tmp_path):
    ports = {"LB_API_PORT": free_port(), "LB_SEARCH_PORT": free_port(), "LB_TRANSCODER_PORT": free_port()}
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("LB_")},
           **{k: str(v) for k, v in ports.items()}, "LB_DATA_DIR": str(tmp_path / "data"),
           "LB_DEMO_PASSWORD": PASSWORD, "LB_SECRET_KEY": "dev-stack-master-secret-long-enough-0123456789"}
    log = (tmp_path / "dev.log").open("w")
    process = subprocess.Popen([str(Path(sys.executable).parent / "lb"), "dev"], cwd=ROOT, env=env, stdout=log,
                               stderr=subprocess.STDOUT, start_new_session=True)
    api = f"http://127.0.0.1:{ports['LB_API_PORT']}"
    try:
        deadline = time.monotonic() + 120
        wait_ready(f"{api}/readyz", deadline)
        wait_ready(f"http://127.0.0.1:{ports['LB_SEARCH_PORT']}/readyz", deadline)
        wait_ready(f"http://127.0.0.1:{ports['LB_TRANSCODER_PORT']}/readyz", deadline)
        kinds = {}
        for username in ("district-admin", "moderator", "teacher-urban", "teacher-rural"):
            token = httpx.post(f"{api}/api/v1/auth/token", data={"username": username, "password": PASSWORD})
            assert token.status_code == 200, (username, token.text)
            headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
            me = httpx.get(f"{api}/api/v1/me", headers=headers).json()
            kinds[username] = me["school"]["kind"] if me["school"] else None
        assert kinds == {"district-admin": None, "moderator": None, "teacher-urban": "urban",
                         "teacher-rural": "rural"}
        # The search service holds its own key and not the master secret, and the API's signed
        # principals still pass: a search through the API answers.
        search_pid = next(path.parent for path in Path("/proc").glob("[0-9]*/cmdline")
                          if _is_search_process(path, ports["LB_SEARCH_PORT"]))
        search_env = dict(item.split("=", 1) for item in
                          (search_pid / "environ").read_text().split("\0") if "=" in item)
        assert "LB_SECRET_KEY" not in search_env and search_env["LB_SEARCH_PRINCIPAL_KEY"]
        found = httpx.get(f"{api}/api/v1/search", params={"q": "数学"}, headers=headers)
        assert found.status_code == 200, found.text
        banner = (tmp_path / "dev.log").read_text()
        assert PASSWORD in banner and f"{api}/api/v1" in banner
    finally:
        os.killpg(process.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
        try:
            code = process.wait(timeout=30)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
            log.close()
    assert code in (0, 130, -signal.SIGINT), (tmp_path / "dev.log").read_text()[-3000:]
    # Nothing of the stack is left behind.
    leftovers = subprocess.run(["pgrep", "-g", str(process.pid)], capture_output=True, text=True).stdout
    assert leftovers == "", leftovers
