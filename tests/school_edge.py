"""A real school edge for tests and benchmarks: infra/edge.sh runs a private nginx (its own
prefix, config and cache in a directory of the caller's) in front of an API process."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import REQUIRE_SERVERS
from tests.live import ROOT, free_port

EDGE_SCRIPT = ROOT / "infra" / "edge.sh"


def nginx_or_skip() -> None:
    """nginx from Debian, or a skip (a failure in CI) saying how to install it."""
    if shutil.which("nginx") or Path("/usr/sbin/nginx").exists():
        return
    message = "edge leg skipped: nginx is not installed (install it: infra/edge.sh install)"
    if REQUIRE_SERVERS:
        pytest.fail(message.replace("skipped", "required"))
    pytest.skip(message)


def edge_state_dir() -> Path:
    """A state directory nginx's workers can reach (pytest's are private to the user that ran
    it, and a root-started nginx runs its workers as www-data)."""
    path = Path(tempfile.mkdtemp(prefix="lb-edge-"))
    path.chmod(0o755)
    return path


@dataclass
class SchoolEdge:
    upstream: str
    state_dir: Path = field(default_factory=edge_state_dir)
    port: int = field(default_factory=free_port)

    @property
    def pack_dir(self) -> Path:
        """Where `lb pack import --into DIR --warm` pre-warms this edge."""
        return self.state_dir / "edge" / "packs"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        env = {**os.environ, "LB_INFRA_DIR": str(self.state_dir), "LB_EDGE_PORT": str(self.port),
               "LB_EDGE_UPSTREAM": self.upstream, "LB_EDGE_RESOLVER": "127.0.0.1"}
        return env

    def start(self) -> SchoolEdge:
        started = subprocess.run([str(EDGE_SCRIPT), "start"], env=self.env, capture_output=True, text=True, timeout=60)
        if started.returncode != 0:
            raise RuntimeError(f"infra/edge.sh start failed:\n{started.stderr}")
        return self

    def stop(self, *, remove: bool = True) -> None:
        subprocess.run([str(EDGE_SCRIPT), "stop"], env=self.env, check=True, capture_output=True, timeout=60)
        if remove:
            shutil.rmtree(self.state_dir, ignore_errors=True)

    def log_lines(self, name: str) -> list[str]:
        path = self.state_dir / "edge" / "logs" / name
        return path.read_text().splitlines() if path.exists() else []

    def wait_for_line(self, name: str, needle: str, *, timeout: float = 120) -> None:
        """Until a line of log `name` contains `needle` (work the edge does beside an answer,
        such as warming, is logged when it ends); a generous bound, for a loaded machine."""
        deadline = time.monotonic() + timeout
        while not any(needle in line for line in self.log_lines(name)):
            if time.monotonic() > deadline:
                raise AssertionError(f"no line with {needle!r} in {name} within {timeout:g} s: {self.log_lines(name)}")
            time.sleep(0.05)

    def upstream_fetches(self, file: str) -> list[str]:
        """The requests for `file` the edge sent over its link (its fetcher's log)."""
        return [line for line in self.log_lines("upstream.log") if re.search(rf"/{re.escape(file)}(\?[^\"]*)?\"", line)]

    def upstream_bytes(self) -> int:
        """Every byte the edge received over its link: fetches and token checks (nginx's
        $upstream_bytes_received, headers included)."""
        total = 0
        for name in ("upstream.log", "check.log", "passthrough.log"):
            for line in self.log_lines(name):
                match = re.search(r"up_bytes=(.*?) rt=", line)
                if match:
                    total += sum(int(part) for part in re.split(r"[ ,:]+", match.group(1)) if part.isdigit())
        return total
