"""Shared pieces of the benchmarks in bench/: server subprocesses, a load generator, statistics
and a description of the machine. Used by api_read.py and upload.py: keep the names and
signatures they import stable.

Everything here is standard library only (plus httpx, already a project dependency, for the
optional `httpx` client), so a benchmark runs from a plain `make setup` venv.

The load generator is a closed loop: `concurrency` keep-alive connections, each sending its
next request as soon as the previous response has been read. It runs in the benchmark's own
process, never in a server's. Two clients are available:

* `raw` (default): asyncio streams speaking HTTP/1.1 with pre-built request bytes. It costs
  the machine a fraction of what httpx does per request, which matters on a 2-core box
  where the client and the server share the CPU.
* `httpx`: httpx.AsyncClient, for comparison.
"""
from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = REPO_ROOT / "bench" / "results"
_CLK_TCK = os.sysconf("SC_CLK_TCK")


# --------------------------------------------------------------------------- processes

def venv_script(name: str) -> str | None:
    """A console script installed next to the running interpreter (the project venv)."""
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _die_with_parent() -> None:  # runs in the child between fork and exec
    os.setsid()
    with contextlib.suppress(Exception):
        # PR_SET_PDEATHSIG: the kernel sends SIGTERM to the server if the benchmark dies, even
        # by SIGKILL, so no server outlives its run.
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)


class Server:
    """A server in its own process group, logging to a file; `stop()` ends the whole group."""

    def __init__(self, name: str, argv: Sequence[str], *, env: dict[str, str], cwd: Path, log_path: Path,
                 port: int, cpus: set[int] | None = None) -> None:
        self.name, self.argv, self.port, self.log_path = name, list(argv), port, log_path
        self._log = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(self.argv, env=env, cwd=cwd, stdout=self._log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)
        if cpus:
            os.sched_setaffinity(self.process.pid, cpus)
        _LIVE.add(self)

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def cpu_seconds(self) -> float:
        """User + system CPU of the server process, all its threads included."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _CLK_TCK

    def log_tail(self, lines: int = 40) -> str:
        self._log.flush()
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def wait_ready(self, timeout: float = 90.0) -> None:
        """Waits until the server answers any HTTP request (any status) on its port."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}")
            with contextlib.suppress(OSError):
                with socket.create_connection(("127.0.0.1", self.port), timeout=2) as sock:
                    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
                    if sock.recv(16).startswith(b"HTTP/1.1 "):
                        return
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not answer on port {self.port} within {timeout:.0f}s:\n{self.log_tail()}")

    def stop(self) -> None:
        _LIVE.discard(self)
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self._log.close()


_LIVE: set[Server] = set()


def stop_all_servers() -> None:
    for server in list(_LIVE):
        with contextlib.suppress(Exception):
            server.stop()


def install_cleanup() -> None:
    """Ctrl-C and SIGTERM unwind through `finally` blocks (and stop the servers) like an error."""
    def _raise(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, _raise)
    signal.signal(signal.SIGHUP, _raise)
    import atexit
    atexit.register(stop_all_servers)


def run_checked(argv: Sequence[str], *, env: dict[str, str], cwd: Path, what: str) -> None:
    done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")


# --------------------------------------------------------------------------- load generator

@dataclass
class Phase:
    """What one target did during one measured (or warm-up) period."""

    target: str
    requests: int = 0
    errors: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    error_samples: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)  # seconds, one per completed request
    body_bytes: int = 0
    elapsed: float = 0.0
    server_cpu: float = 0.0
    client_cpu: float = 0.0
    timeouts: int = 0  # connections cancelled while waiting for a response

    def error(self, what: str) -> None:
        self.errors += 1
        self.statuses[what] += 1
        if len(self.error_samples) < 5:
            self.error_samples.append(what)


def build_requests(host: str, port: int, paths: Sequence[str], headers: dict[str, str]) -> list[bytes]:
    extra = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    return [(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{extra}\r\n").encode("latin-1") for path in paths]


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, int, bool]:
    """Reads one HTTP/1.1 response; returns (status, body length, server keeps the connection)."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    lower = head.lower()
    keep_alive = b"\r\nconnection: close" not in lower
    at = lower.find(b"\r\ncontent-length:")
    if at >= 0:
        length = int(lower[at + 17:lower.index(b"\r\n", at + 2)])
        await reader.readexactly(length)
        return status, length, keep_alive
    if b"\r\ntransfer-encoding: chunked" in lower:
        length = 0
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            length += size
            if size == 0:
                return status, length, keep_alive
    return status, len(await reader.read()), False  # body ends when the server closes


async def _raw_connection(host: str, port: int, requests: list[bytes], first: int, deadline: float,
                          phase: Phase) -> None:
    clock = time.perf_counter
    reader = writer = None
    index, count = first, len(requests)
    try:
        while clock() < deadline:
            if writer is None:
                try:
                    reader, writer = await asyncio.open_connection(host, port)
                except OSError as exc:
                    phase.error(f"connect: {type(exc).__name__}: {exc}")
                    await asyncio.sleep(0.05)
                    continue
            request = requests[index % count]
            index += 1
            started = clock()
            try:
                writer.write(request)
                status, length, keep_alive = await _read_response(reader)
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
                phase.error(f"{type(exc).__name__}: {exc}"[:200])
                writer.close()
                reader = writer = None
                continue
            phase.latencies.append(clock() - started)
            phase.requests += 1
            phase.body_bytes += length
            if status != 200:
                phase.error(str(status))
            else:
                phase.statuses["200"] += 1
            if not keep_alive:
                writer.close()
                reader = writer = None
    finally:
        if writer is not None:
            writer.close()


async def _httpx_connection(client: object, paths: Sequence[str], first: int, deadline: float,
                            phase: Phase) -> None:
    import httpx

    clock = time.perf_counter
    index, count = first, len(paths)
    while clock() < deadline:
        path = paths[index % count]
        index += 1
        started = clock()
        try:
            response = await client.get(path)  # type: ignore[attr-defined]
        except httpx.HTTPError as exc:
            phase.error(f"{type(exc).__name__}: {exc}"[:200])
            await asyncio.sleep(0.01)
            continue
        phase.latencies.append(clock() - started)
        phase.requests += 1
        phase.body_bytes += len(response.content)
        if response.status_code != 200:
            phase.error(str(response.status_code))
        else:
            phase.statuses["200"] += 1


async def _drive(client: str, host: str, port: int, paths: Sequence[str], headers: dict[str, str],
                 concurrency: int, seconds: float, timeout: float, phase: Phase) -> None:
    """Runs the connections for `seconds`; a connection still waiting for a response `timeout`
    seconds after that is cancelled and counted as an error, so a stalled server cannot hang
    the benchmark."""
    if client == "raw":
        requests = build_requests(host, port, paths, headers)
        deadline = time.perf_counter() + seconds
        await _supervise([_raw_connection(host, port, requests, i, deadline, phase) for i in range(concurrency)],
                         seconds + timeout, phase)
        return
    import httpx

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=f"http://{host}:{port}", headers=headers, limits=limits,
                                 timeout=timeout) as http:
        deadline = time.perf_counter() + seconds
        await _supervise([_httpx_connection(http, paths, i, deadline, phase) for i in range(concurrency)],
                         seconds + timeout, phase)


async def _supervise(connections: list, limit: float, phase: Phase) -> None:
    tasks = [asyncio.ensure_future(connection) for connection in connections]
    _done, pending = await asyncio.wait(tasks, timeout=limit)
    for task in pending:
        task.cancel()
        phase.timeouts += 1
        phase.error(f"timeout: no response {limit:.0f}s after the phase began")
    await asyncio.gather(*tasks, return_exceptions=True)


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop when installed (it is, with uvicorn[standard]): a cheaper client."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def run_phase(loop: asyncio.AbstractEventLoop, server: Server, *, target: str, client: str, paths: Sequence[str],
              headers: dict[str, str], concurrency: int, seconds: float, timeout: float = 15.0) -> Phase:
    """Loads `server` for `seconds` and measures it, including the CPU both sides spent."""
    phase = Phase(target=target)
    server_cpu, client_cpu, started = server.cpu_seconds(), time.process_time(), time.perf_counter()
    loop.run_until_complete(_drive(client, "127.0.0.1", server.port, paths, headers, concurrency, seconds, timeout, phase))
    phase.elapsed = time.perf_counter() - started
    phase.client_cpu = time.process_time() - client_cpu
    phase.server_cpu = server.cpu_seconds() - server_cpu
    if not server.alive():
        raise RuntimeError(f"{server.name} died during the run:\n{server.log_tail()}")
    return phase


# --------------------------------------------------------------------------- statistics

def percentile(ordered: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile of an ascending sequence."""
    if not ordered:
        return None
    rank = max(1, min(len(ordered), int(-(-q * len(ordered) // 100))))
    return ordered[rank - 1]


def _ms(seconds: float | None, digits: int = 3) -> float | None:
    return None if seconds is None else round(seconds * 1000.0, digits)


def _per(total: float, count: float, digits: int) -> float | None:
    return round(total / count, digits) if count else None


def summarize(phases: Sequence[Phase]) -> dict:
    """One target over several rounds: pooled requests and latencies, plus each round."""
    latencies = sorted(x for p in phases for x in p.latencies)
    requests = sum(p.requests for p in phases)
    elapsed = sum(p.elapsed for p in phases)
    server_cpu = sum(p.server_cpu for p in phases)
    client_cpu = sum(p.client_cpu for p in phases)
    statuses: Counter[str] = Counter()
    for p in phases:
        statuses.update(p.statuses)
    return {
        "requests": requests,
        "errors": sum(p.errors for p in phases),
        "timeouts": sum(p.timeouts for p in phases),
        "statuses": dict(statuses),
        "error_samples": [s for p in phases for s in p.error_samples][:5],
        "seconds": round(elapsed, 3),
        "rps": _per(requests, elapsed, 1) or 0.0,
        "latency_ms": {
            "mean": _ms(_per(sum(latencies), len(latencies), 9)),
            "p50": _ms(percentile(latencies, 50)),
            "p90": _ms(percentile(latencies, 90)),
            "p99": _ms(percentile(latencies, 99)),
            "max": _ms(latencies[-1] if latencies else None),
        },
        "response_body_bytes": round(sum(p.body_bytes for p in phases) / requests) if requests else None,
        "server_cpu_ms_per_request": _per(server_cpu * 1000.0, requests, 4),
        "server_cpu_utilisation": _per(server_cpu, elapsed, 2),
        "client_cpu_ms_per_request": _per(client_cpu * 1000.0, requests, 4),
        "client_cpu_utilisation": _per(client_cpu, elapsed, 2),
        "rounds": [{"rps": _per(p.requests, p.elapsed, 1), "p50_ms": _ms(percentile(sorted(p.latencies), 50)),
                    "p99_ms": _ms(percentile(sorted(p.latencies), 99)), "errors": p.errors} for p in phases],
    }


# --------------------------------------------------------------------------- reporting

def _cpu_model() -> str | None:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return None


def machine_info() -> dict:
    versions = {}
    for package in ("fastapi", "starlette", "uvicorn", "uvloop", "httptools", "pydantic", "sqlalchemy", "httpx"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[package] = metadata.version(package)
    return {
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)),
        "cpu": _cpu_model(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "packages": versions,
    }


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def write_json(path: Path, document: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
