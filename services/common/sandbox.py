"""The one way a converter runs: ffmpeg, ffprobe, LibreOffice, the PDF page renderer and the
upload inspector all read hostile files, so each runs here and nowhere else (docs/security.md,
"Hostile files and converters").

A sandboxed process gets
* an empty environment: PATH, LANG, HOME and TMPDIR in its scratch directory, and only the
  variables its caller names (never the service's secret key, database or storage credentials);
* no network (a network namespace of its own, via bubblewrap, or `unshare` as root), unless the
  caller needs one to read its source (a presigned object-storage URL);
* a read-only view of the machine with one writable scratch directory, its own process ids, and
  no core dumps;
* limits on address space, CPU time and file size (prlimit);
* a wall-clock limit, after which its whole process group (and, in its own process ids, every
  descendant, even one that left the group) is killed.
"""
from __future__ import annotations

import functools
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import structlog

log = structlog.get_logger("sandbox")

MiB = 1024 * 1024
GiB = 1024 * MiB
SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"


@dataclass(frozen=True)
class Limits:
    time_s: float                      # wall clock; the process group is killed after it
    memory_bytes: int = 2 * GiB        # address space (RLIMIT_AS)
    file_bytes: int = 16 * GiB         # the largest file it may write (RLIMIT_FSIZE)
    cpu_s: int | None = None           # CPU seconds; default: the wall clock on every core

    def prlimit_args(self) -> list[str]:
        cpu = self.cpu_s or math.ceil(self.time_s * (os.cpu_count() or 1)) + 10
        return ["prlimit", f"--as={self.memory_bytes}", f"--fsize={self.file_bytes}", f"--cpu={cpu}", "--core=0",
                "--"]


class SandboxTimeout(Exception):
    """The process outlived its wall-clock limit and was killed with all its descendants."""

    def __init__(self, limit_s: float) -> None:
        super().__init__(f"killed after {limit_s:.0f} s")
        self.limit_s = limit_s


@dataclass(frozen=True)
class Isolation:
    """How this machine can take a process off the network: "bwrap", "unshare" or "none"."""

    method: str
    detail: str = ""


@functools.cache
def isolation() -> Isolation:
    """Probed once per process: the first method that really works here."""
    probes = {"bwrap": [*_bwrap_prefix(Path("/"), network=False, writable=False), "true"],
              "unshare": ["unshare", "--net", "--pid", "--fork", "--kill-child", "true"]}
    failures = []
    for method, argv in probes.items():
        if shutil.which(argv[0]) is None:
            failures.append(f"{argv[0]} not installed")
            continue
        try:
            probe = subprocess.run(argv, capture_output=True, text=True, timeout=10, env={"PATH": SYSTEM_PATH},
                                   stdin=subprocess.DEVNULL)
        except (OSError, subprocess.TimeoutExpired) as error:
            failures.append(f"{method}: {error}")
            continue
        if probe.returncode == 0:
            return Isolation(method)
        failures.append(f"{method}: {probe.stderr.strip()[:200]}")
    # Every other control still applies; this one is missing, and said so (here, and in the
    # transcoder's start-up log).
    log.error("sandbox_network_isolation_unavailable", failures=failures)
    return Isolation("none", "; ".join(failures))


def _bwrap_prefix(scratch: Path, *, network: bool, writable: bool = True, private_tmp: bool = False) -> list[str]:
    argv = ["bwrap", "--die-with-parent", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
            "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
    if private_tmp:
        argv += ["--tmpfs", "/tmp"]
    if not network:
        argv.append("--unshare-net")
    if writable:
        argv += ["--bind", str(scratch), str(scratch)]
    return [*argv, "--chdir", str(scratch), "--"]


def environment(scratch: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """What a sandboxed process may see of an environment: nothing of its parent's."""
    home, tmp = scratch / "home", scratch / "tmp"
    home.mkdir(parents=True, exist_ok=True)
    tmp.mkdir(parents=True, exist_ok=True)
    # MALLOC_ARENA_MAX: glibc reserves 64 MiB of address space per thread arena, which a
    # multithreaded encoder would spend against its address-space limit for nothing.
    return {"PATH": SYSTEM_PATH, "LANG": "C.UTF-8", "HOME": str(home), "TMPDIR": str(tmp), "MALLOC_ARENA_MAX": "2",
            **(extra or {})}


def command(argv: list[str], *, scratch: Path, limits: Limits, network: bool = False,
            private_tmp: bool = False) -> list[str]:
    """The full command line that runs `argv` inside the sandbox. `private_tmp`: an empty,
    writable /tmp of its own (LibreOffice insists on one), which hides the machine's /tmp, so
    everything the program reads must then be in `scratch`."""
    method = isolation().method
    if method == "bwrap":
        wrapped = [*_bwrap_prefix(scratch, network=network, private_tmp=private_tmp), *argv]
    elif method == "unshare" and not network:
        wrapped = ["unshare", "--net", "--pid", "--fork", "--kill-child", "--mount-proc", *argv]
    else:
        wrapped = list(argv)
    return [*limits.prlimit_args(), *wrapped]


@dataclass
class Sandboxed:
    """A running sandboxed process (`start`), used as a context manager: on leaving it, whatever
    is left of the process tree is killed and the pipes are closed."""

    process: subprocess.Popen[Any]
    limits: Limits

    def kill(self) -> None:
        """Kills the process group (the bubblewrap parent takes its whole pid namespace with it)."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def __enter__(self) -> Sandboxed:
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.process.poll() is None:
            self.kill()
            self.process.wait()
        else:
            self.kill()  # the leader is gone; anything it left in its group goes too
        for stream in (self.process.stdout, self.process.stderr, self.process.stdin):
            if stream is not None:
                stream.close()


def start(argv: list[str], *, scratch: Path, limits: Limits, network: bool = False, private_tmp: bool = False,
          env: dict[str, str] | None = None, stdout: int | IO[Any] | None = subprocess.PIPE,
          stderr: int | IO[Any] | None = subprocess.PIPE, text: bool = False) -> Sandboxed:
    """Starts `argv` sandboxed, in a new session (its own process group), stdin closed."""
    scratch.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(command(argv, scratch=scratch, limits=limits, network=network, private_tmp=private_tmp),
                               stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr, text=text,
                               env=environment(scratch, env), cwd=scratch, start_new_session=True)
    return Sandboxed(process=process, limits=limits)


def run(argv: list[str], *, scratch: Path | None, limits: Limits, network: bool = False, private_tmp: bool = False,
        env: dict[str, str] | None = None, text: bool = False) -> subprocess.CompletedProcess[Any]:
    """Runs `argv` sandboxed to its end and returns its output; raises SandboxTimeout. Without
    a scratch directory, it gets a temporary one."""
    if scratch is None:
        with tempfile.TemporaryDirectory(prefix="lb-sandbox-") as temporary:
            return run(argv, scratch=Path(temporary), limits=limits, network=network, private_tmp=private_tmp,
                       env=env, text=text)
    with start(argv, scratch=scratch, limits=limits, network=network, private_tmp=private_tmp, env=env,
               text=text) as sandboxed:
        try:
            stdout, stderr = sandboxed.process.communicate(timeout=limits.time_s)
        except subprocess.TimeoutExpired:
            sandboxed.kill()
            sandboxed.process.communicate()
            raise SandboxTimeout(limits.time_s) from None
        return subprocess.CompletedProcess(sandboxed.process.args, sandboxed.process.returncode, stdout, stderr)


def python_module(module: str, *args: str) -> tuple[list[str], dict[str, str]]:
    """The argv and environment that run one of our own modules (`python -m`) in the sandbox:
    for parsing done with Python libraries (page rendering, upload inspection)."""
    root = Path(__file__).resolve().parents[2]  # the directory holding `services`
    return [sys.executable, "-B", "-m", module, *args], {"PYTHONPATH": str(root)}
