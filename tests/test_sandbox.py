"""The converter sandbox (services/common/sandbox.py), proved with processes that would leak or
hang without it: one reads its environment, one dials out, one forks a child that outlives it."""
from __future__ import annotations

import os
import socket
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from services.common import sandbox

PYTHON = sys.executable


@pytest.fixture
def scratch(tmp_path):
    return tmp_path / "scratch"


@pytest.fixture
def listener():
    """A local HTTP server that counts the requests it gets (none should arrive)."""
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"#EXTM3U\n")

        def log_message(self, *_args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], hits
    server.shutdown()
    server.server_close()


def test_a_converter_sees_none_of_the_services_secrets(scratch, monkeypatch):
    monkeypatch.setenv("LB_SECRET_KEY", "the-api-signing-secret-0123456789abcdef")
    monkeypatch.setenv("LB_S3_SECRET_KEY", "minio-secret")
    monkeypatch.setenv("LB_DATABASE_URL", "postgresql://lb:db-password@127.0.0.1/lb")
    result = sandbox.run(["env"], scratch=scratch, limits=sandbox.Limits(time_s=30), text=True)
    assert result.returncode == 0
    seen = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    assert not any(name.startswith("LB_") for name in seen)
    assert "secret" not in result.stdout.lower() and "password" not in result.stdout
    assert seen["HOME"].startswith(str(scratch)) and seen["PATH"] == sandbox.SYSTEM_PATH


def test_a_converter_cannot_reach_the_network(scratch, listener):
    port, hits = listener
    if sandbox.isolation().method == "none":
        pytest.fail(f"no network isolation on this machine: {sandbox.isolation().detail}")
    dial = ("import socket,sys\n"
            "s = socket.socket(); s.settimeout(5)\n"
            f"sys.exit(s.connect_ex(('127.0.0.1', {port})))\n")
    result = sandbox.run([PYTHON, "-c", dial], scratch=scratch, limits=sandbox.Limits(time_s=30), text=True)
    assert result.returncode != 0, "connected to a server outside the sandbox"
    assert hits == []
    # The same program outside the sandbox does connect: the port was really open.
    with socket.create_connection(("127.0.0.1", port), timeout=5):
        pass


def test_a_converter_writes_only_in_its_scratch_directory(scratch, tmp_path):
    outside = tmp_path / "outside.txt"
    write = f"open({str(outside)!r}, 'w').write('x')"
    result = sandbox.run([PYTHON, "-c", write], scratch=scratch, limits=sandbox.Limits(time_s=30), text=True)
    assert result.returncode != 0 and not outside.exists()
    inside = sandbox.run([PYTHON, "-c", f"open({str(scratch / 'in.txt')!r}, 'w').write('x')"], scratch=scratch,
                         limits=sandbox.Limits(time_s=30))
    assert inside.returncode == 0 and (scratch / "in.txt").read_text() == "x"


def _alive_with(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            status = (entry / "status").read_text()
        except OSError:
            continue
        if marker.encode() in cmdline and "State:\tZ" not in status:
            found.append(int(entry.name))
    return found


def test_on_timeout_every_descendant_dies_even_one_that_left_the_group(scratch):
    marker = f"lb-orphan-{uuid.uuid4().hex}"
    # The child leaves the process group (setsid) and ignores the signals a dying parent sends.
    orphan = (f"import os, signal, time\n"
              f"signal.signal(signal.SIGHUP, signal.SIG_IGN); signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
              f"os.setsid()\n"
              f"time.sleep(600)  # {marker}\n")
    parent = (f"import subprocess, sys, time\n"
              f"subprocess.Popen([sys.executable, '-c', {orphan!r}, {marker!r}])\n"
              f"subprocess.Popen(['sleep', '600', {marker!r}])\n"
              f"time.sleep(600)\n")
    started = time.monotonic()
    with pytest.raises(sandbox.SandboxTimeout):
        sandbox.run([PYTHON, "-c", parent, marker], scratch=scratch, limits=sandbox.Limits(time_s=3))
    assert time.monotonic() - started < 30
    deadline = time.monotonic() + 20
    while _alive_with(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _alive_with(marker) == []


def test_memory_and_file_size_are_limited(scratch):
    hog = "b = bytearray(3 * 1024 ** 3)"
    result = sandbox.run([PYTHON, "-c", hog], scratch=scratch,
                         limits=sandbox.Limits(time_s=30, memory_bytes=1024 * sandbox.MiB), text=True)
    assert result.returncode != 0 and "MemoryError" in result.stderr
    big = f"open({str(scratch / 'big')!r}, 'wb').write(bytes(8 * 1024 * 1024))"
    result = sandbox.run([PYTHON, "-c", big], scratch=scratch,
                         limits=sandbox.Limits(time_s=30, file_bytes=1024 * 1024), text=True)
    assert result.returncode != 0
    assert os.path.getsize(scratch / "big") <= 1024 * 1024


def test_no_service_starts_a_process_but_through_the_sandbox():
    """The invariant, kept by a test rather than by remembering: services/common/sandbox.py is
    the only module that starts processes (a converter started elsewhere would get the
    service's environment, network and no limits)."""
    root = Path(__file__).resolve().parents[1] / "services"
    allowed = {root / "common" / "sandbox.py"}
    # Processes that never read an uploaded file: `lb dev` replaces itself with its supervisor;
    # `lb backup` runs pg_dump/pg_restore on the platform's own database.
    exceptions = {"services/api/cli.py: os.exec", "services/api/backups/database.py: import subprocess"}
    starters = ("import subprocess", "from subprocess", "os.system(", "os.popen(", "os.exec", "os.spawn",
                "create_subprocess_exec", "create_subprocess_shell")
    offenders = []
    for source in root.rglob("*.py"):
        if source in allowed:
            continue
        text = source.read_text(encoding="utf-8")
        offenders += [f"{source.relative_to(root.parent)}: {starter}" for starter in starters if starter in text]
    assert set(offenders) - exceptions == set(), offenders
