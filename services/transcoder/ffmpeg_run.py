"""Running ffmpeg as a child process: progress from `-progress pipe:1`, a hard time limit, and
cancellation when the worker loses its claim on the job. Every run is sandboxed
(services/common/sandbox.py): killing it kills its whole process tree."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from services.common import sandbox
from services.common.jobs import JobFailed

# Address space for one ffmpeg: a five-rung ladder of a 1080p source stays far below it.
FFMPEG_MEMORY = 6 * sandbox.GiB


# How every tracked ffmpeg run starts: quiet, overwriting, progress as key=value lines on stdout.
FFMPEG_WITH_PROGRESS = ["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-y", "-progress", "pipe:1", "-nostats"]


class Cancelled(Exception):
    """The job was taken from this worker; its output must not be published."""


def run_tool(args: list[str], *, scratch: Path, time_limit_s: float, network: bool = False) -> None:
    """A short ffmpeg/ffprobe run without progress (a poster, a remux), sandboxed; raises
    JobFailed with its last error line, or on the time limit."""
    try:
        result = sandbox.run(args, scratch=scratch, network=network, text=True,
                             limits=sandbox.Limits(time_s=time_limit_s, memory_bytes=FFMPEG_MEMORY))
    except sandbox.SandboxTimeout:
        raise JobFailed(f"{args[0]} took longer than its limit of {time_limit_s:.0f} s / 处理超时") from None
    if result.returncode != 0:
        last = next((line.strip() for line in reversed(result.stderr.splitlines()) if line.strip()),
                    f"exit status {result.returncode}")
        raise JobFailed(f"{args[0]} failed: {last[:300]}")


def run_ffmpeg(args: list[str], *, scratch: Path, duration_s: float, time_limit_s: float, network: bool = False,
               on_progress: Callable[[float], None] = lambda _fraction: None,
               should_stop: Callable[[], bool] = lambda: False) -> None:
    """Runs ffmpeg (whose args must include `-progress pipe:1`) in the sandbox, writing under
    `scratch`; raises JobFailed with ffmpeg's last error line, or on the time limit, and
    Cancelled when `should_stop()` turns true."""
    started = time.monotonic()
    killed_for = None
    errors: list[str] = []
    # The watchdog below keeps the time; the sandbox's own limit is a backstop past it.
    with sandbox.start(args, scratch=scratch, network=network, text=True,
                       limits=sandbox.Limits(time_s=time_limit_s + 60, memory_bytes=FFMPEG_MEMORY)) as sandboxed:
        process = sandboxed.process
        reader = threading.Thread(target=lambda: errors.extend(process.stderr or []), daemon=True)
        reader.start()
        # A watchdog, because ffmpeg can hang without writing progress (a stalled network read).
        deadline = started + time_limit_s

        def watchdog() -> None:
            nonlocal killed_for
            while process.poll() is None:
                if time.monotonic() > deadline:
                    killed_for = "time"
                elif should_stop():
                    killed_for = "cancel"
                if killed_for:
                    sandboxed.kill()  # the whole process tree, not only ffmpeg itself
                    return
                time.sleep(0.5)

        guard = threading.Thread(target=watchdog, daemon=True)
        guard.start()
        assert process.stdout is not None
        for line in process.stdout:
            key, _, value = line.strip().partition("=")
            if key == "out_time_us" and value.isdigit() and duration_s > 0:
                on_progress(min(int(value) / 1e6 / duration_s, 1.0))
        process.wait()
        guard.join(timeout=5)
        reader.join(timeout=5)
    if killed_for == "cancel":
        raise Cancelled()
    if killed_for == "time":
        raise JobFailed(f"processing took longer than its limit of {time_limit_s / 60:.0f} min / 处理超时")
    if process.returncode != 0:
        last = next((line.strip() for line in reversed(errors) if line.strip()), f"exit status {process.returncode}")
        raise JobFailed(f"ffmpeg failed: {last[:300]}")
