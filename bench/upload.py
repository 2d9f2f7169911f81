"""Upload benchmark (issue 3): a tus upload of a large file against copying the same bytes over
loopback, and the API process's peak RSS growth for a small and a large upload.

    .venv/bin/python bench/upload.py [--size-mib 2048] [--rounds 1] [--chunk-mib 64]
                                     [--clients tuspy,tuspy-chunked,httpx] [--s3-url URL | --no-s3] [--profile DIR]

For each storage backend (local disk, then S3/MinIO when one is reachable) a fresh API process
runs as deployed (`uvicorn --factory services.api.app:create_app_from_env`, one worker,
LB_ENV=test, LB_LOG_LEVEL=WARNING, a fresh migrated SQLite database; tests/live.py ApiProcess)
with its data directory in this run's temporary directory. One file is used throughout: a real
H.264/AAC MP4 from ffmpeg padded to `--size-mib` with a `free` box (tests/media.py), so it
passes the API's content checks. Before every upload 32 random bytes in the padding change, so
every upload is new content (no de-duplication shortcut) while the size and the bytes on the
wire stay the same.

* baseline   "copying the same bytes over loopback": a minimal receiver in its own process (the
             hidden `--receiver` mode of this script) accepts one HTTP/1.1 PUT on 127.0.0.1,
             reads the body with recv_into() into a 1 MiB buffer, os.write()s it to a new file
             in the same directory tree as the API's data (same disk), fsyncs it, and answers
             204. The sender here streams the file with socket.sendfile(). Timed from connect
             to the 204. `ratio` is against this copy, as the issue defines it.
* baseline_direct  the same copy with the receiver writing past the page cache (O_DIRECT,
             services/common/direct_io.py), as the API itself writes uploads on local disk: on
             machines where new page-cache pages are dear, the plain copy is the slower of the
             two, so `ratio_vs_direct_copy` is the stricter figure and is reported beside it.
* tuspy      the official tus client (tuspy, unmodified, `requests` underneath) with its default
             chunk_size, which is the whole file: creation POST, one PATCH for all but the last
             byte, then one PATCH with the last byte. That last PATCH is the server's completion
             step (assemble, ffprobe, hash, keep), so it is timed separately: `completion_s`.
             Timed from the creation POST to the final 204. (tus-js-client's default is the same:
             one PATCH, resumed from HEAD's offset after a cut.)
* tuspy-chunked  tuspy with `--chunk-mib` PATCHes (64): what a client behind a proxy that caps
             request bodies would do; every PATCH pays a new connection on the client's side
             and a durable commit on ours.
* httpx      the same protocol as tuspy's default, httpx streaming the file 1 MiB at a time.

Rates are MB/s (10^6 bytes per second) of the file's size over the whole time, completion
included; `ratio` = tus MB/s / baseline MB/s (goal >= 0.8). `*_transfer_*` leaves the completion
step out. Rounds alternate baseline, then each client. Every tus upload is checked afterwards (status
complete, sha256 equal to the file's); its stored blob is then deleted to keep the disk free.

RSS: the API's VmHWM is reset (/proc/PID/clear_refs = 5) before each upload and read after it;
growth = peak - VmRSS just before. A warm-up upload (8 MiB, not recorded) comes first, then one
upload of `--rss-small-mib` (100), then the measured large uploads. Goal: growth for the large
file <= 64 MiB, and about the same as for the small one.

Results: bench/results/upload.json. Exit status 1 if an upload failed.
"""
from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urljoin, urlparse

sys.dont_write_bytecode = True  # no __pycache__ left in bench/ or tests/
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))  # tests.live, tests.media, services

from _common import (REPO_ROOT, RESULTS_DIR, Server, free_port, install_cleanup,  # noqa: E402
                     machine_info, stop_all_servers, utc_now, venv_script, write_json)

MiB = 1024 * 1024
GOAL_RATIO = 0.8
GOAL_RSS_MIB = 64
SECRET = "bench-upload-secret-key-that-is-long-enough-0123456789"
TUS_HEADERS = {"Tus-Resumable": "1.0.0"}
RECEIVER_BUFFER = 1 * MiB
TAG_BYTES = 32
CLIENTS = ("tuspy", "tuspy-chunked", "httpx")
_CLK_TCK = os.sysconf("SC_CLK_TCK")


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- baseline receiver

def receiver_main(port: int, directory: Path) -> None:
    """The baseline's other end: one HTTP/1.1 PUT at a time, body to a new file, fsync, 204.
    Any other request (the readiness probe) gets an empty 200."""
    listener = socket.create_server(("127.0.0.1", port))
    buffer = bytearray(RECEIVER_BUFFER)
    view = memoryview(buffer)
    count = 0
    while True:
        connection, _ = listener.accept()
        with connection:
            head = b""
            while b"\r\n\r\n" not in head:
                data = connection.recv(65536)
                if not data:
                    break
                head += data
            header, _, rest = head.partition(b"\r\n\r\n")
            lines = header.split(b"\r\n")
            if not lines[0].startswith(b"PUT "):
                connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                continue
            length = next(int(line.split(b":", 1)[1]) for line in lines[1:]
                          if line.lower().startswith(b"content-length:"))
            count += 1
            path = directory / f"received-{count}"
            if lines[0].startswith(b"PUT /direct "):
                # The same copy written past the page cache, as the API writes uploads on local
                # disk (services/common/direct_io.py): the stricter reference.
                from services.common.direct_io import Appender

                writer = Appender(path, offset=0)
                write, finish = writer.write, writer.sync
            else:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                write, finish = (lambda data: _write_all(fd, data)), (lambda: os.fsync(fd))
                writer = None
            try:
                write(rest)
                remaining = length - len(rest)
                while remaining > 0:
                    got = connection.recv_into(view, min(len(buffer), remaining))
                    if not got:
                        raise ConnectionError(f"sender left {remaining} bytes short")
                    write(view[:got])
                    remaining -= got
                finish()
            finally:
                if writer is not None:
                    writer.close()
                else:
                    os.close(fd)
            connection.sendall(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            path.unlink()  # after the answer: the sender's clock has stopped


def _write_all(fd: int, data: bytes | memoryview) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def send_baseline(port: int, path: Path, *, direct: bool = False) -> float:
    """Streams `path` to the receiver; returns the seconds from connect to its 204."""
    size = path.stat().st_size
    started = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port)) as sock, path.open("rb") as source:
        sock.sendall(f"PUT /{'direct' if direct else 'file'} HTTP/1.1\r\nHost: bench\r\nContent-Length: {size}\r\n\r\n".encode())
        sock.sendfile(source)
        answer = sock.recv(4096)
    elapsed = time.perf_counter() - started
    if not answer.startswith(b"HTTP/1.1 204"):
        raise RuntimeError(f"baseline receiver answered {answer[:100]!r}")
    return elapsed


# --------------------------------------------------------------------------- /proc readings

def _status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def cpu_times(pid: int) -> dict[str, float]:
    """CPU seconds of a process (all its threads): user, system, and its waited-for children's
    (ffprobe), from /proc/PID/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return {"user": int(fields[11]) / _CLK_TCK, "system": int(fields[12]) / _CLK_TCK,
            "children": (int(fields[13]) + int(fields[14])) / _CLK_TCK}


def _cpu_delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {k: round(after[k] - before[k], 2) for k in before}


def io_counters(pid: int) -> dict[str, int]:
    """wchar: bytes passed to write(); write_bytes: bytes it caused to be written to storage."""
    with contextlib.suppress(OSError):
        pairs = (line.split(":") for line in Path(f"/proc/{pid}/io").read_text().splitlines())
        return {k.strip(): int(v) for k, v in pairs}
    return {}


class RssWatch:
    """Peak RSS of a process over a block: VmHWM after a reset, cross-checked by sampling."""

    def __init__(self, pid: int, interval: float = 0.02) -> None:
        self.pid, self.interval = pid, interval
        self.sampled_peak_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(OSError, KeyError):
                self.sampled_peak_kib = max(self.sampled_peak_kib, _status_kib(self.pid, "VmRSS"))
            self._stop.wait(self.interval)

    def __enter__(self) -> RssWatch:
        self.hwm_reset = True
        try:
            Path(f"/proc/{self.pid}/clear_refs").write_text("5")
        except OSError:
            self.hwm_reset = False  # VmHWM then covers the process's whole life; sampling still works
        self.before_kib = _status_kib(self.pid, "VmRSS")
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.after_kib = _status_kib(self.pid, "VmRSS")
        self.hwm_kib = _status_kib(self.pid, "VmHWM")

    def result(self) -> dict:
        peak = max(self.hwm_kib if self.hwm_reset else 0, self.sampled_peak_kib, self.after_kib)
        return {"before_mib": _mib(self.before_kib), "peak_mib": _mib(peak), "after_mib": _mib(self.after_kib),
                "growth_mib": _mib(peak - self.before_kib), "vmhwm_reset": self.hwm_reset,
                "sampled_peak_mib": _mib(self.sampled_peak_kib)}


def _mib(kib: int) -> float:
    return round(kib / 1024, 1)


# --------------------------------------------------------------------------- files

def make_lesson(directory: Path, name: str, size: int) -> tuple[Path, int]:
    """A real MP4 padded to `size` bytes; returns it and where its 32 changeable bytes start."""
    from tests import media

    clip = directory / "clip.mp4"
    if not clip.exists():
        media.lesson_mp4(clip)
    path = media.padded_mp4(clip, directory / name, total_bytes=size)
    with path.open("rb+") as handle:
        os.fsync(handle.fileno())
    return path, clip.stat().st_size + 8 + 4096  # inside the free box's payload


def retag(path: Path, tag_offset: int) -> str:
    """New content (32 random bytes in the padding), same size; returns the file's sha256."""
    fd = os.open(path, os.O_WRONLY)
    try:
        os.pwrite(fd, os.urandom(TAG_BYTES), tag_offset)
    finally:
        os.close(fd)
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(4 * MiB):
            digest.update(chunk)
    return digest.hexdigest()


def settle() -> None:
    """No writeback from the previous step is left to compete with the next measurement."""
    os.sync()
    time.sleep(1.0)


# --------------------------------------------------------------------------- tus clients

def upload_tuspy(base_url: str, headers: dict[str, str], path: Path, chunk: int | None) -> dict:
    """`chunk` None: tuspy's own default chunk_size."""
    from tusclient import client as tus_client

    size = path.stat().st_size
    options = {} if chunk is None else {"chunk_size": chunk}
    uploader = tus_client.TusClient(f"{base_url}/api/v1/uploads/", headers=headers).uploader(
        str(path), metadata={"filename": "x.mp4", "content_type": "video/mp4"}, **options)
    clock = time.perf_counter
    started = clock()
    uploader.set_url(uploader.create_url())
    uploader.offset = 0
    created = clock()
    patches: list[float] = []
    uploader.stop_at = size - 1
    while uploader.offset < size - 1:
        before = clock()
        uploader.upload_chunk()
        patches.append(clock() - before)
    transferred = clock()
    uploader.stop_at = size
    uploader.upload_chunk()  # the last byte: the server assembles, checks, hashes and keeps
    done = clock()
    if uploader.offset != size:
        raise RuntimeError(f"tuspy stopped at {uploader.offset} of {size}")
    return {"url": uploader.url, "seconds": done - started, "transfer_seconds": transferred - started,
            "completion_seconds": done - transferred, "create_seconds": created - started,
            "patches": len(patches) + 1, "patch_seconds": _spread(patches)}


def upload_httpx(base_url: str, headers: dict[str, str], path: Path) -> dict:
    import base64

    import httpx

    size = path.stat().st_size
    metadata = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}"
                        for k, v in {"filename": "x.mp4", "content_type": "video/mp4"}.items())

    def body(limit: int):
        with path.open("rb") as source:
            remaining = limit
            while remaining > 0:
                piece = source.read(min(MiB, remaining))
                if not piece:
                    raise RuntimeError("file shrank")
                remaining -= len(piece)
                yield piece

    def patch(http: httpx.Client, url: str, offset: int, content, length: int) -> None:
        answer = http.patch(url, content=content, headers={
            **headers, **TUS_HEADERS, "Content-Type": "application/offset+octet-stream",
            "Upload-Offset": str(offset), "Content-Length": str(length)})
        if answer.status_code != 204 or int(answer.headers["upload-offset"]) != offset + length:
            raise RuntimeError(f"PATCH at {offset}: {answer.status_code} {answer.text[:300]}")

    clock = time.perf_counter
    with httpx.Client(timeout=httpx.Timeout(600.0)) as http:
        started = clock()
        created = http.post(f"{base_url}/api/v1/uploads/", headers={
            **headers, **TUS_HEADERS, "Upload-Length": str(size), "Upload-Metadata": metadata})
        if created.status_code != 201:
            raise RuntimeError(f"creation: {created.status_code} {created.text[:300]}")
        url = urljoin(f"{base_url}/api/v1/uploads/", created.headers["location"])
        patch(http, url, 0, body(size - 1), size - 1)
        transferred = clock()
        with path.open("rb") as source:
            source.seek(size - 1)
            patch(http, url, size - 1, source.read(1), 1)
        done = clock()
    return {"url": url, "seconds": done - started, "transfer_seconds": transferred - started,
            "completion_seconds": done - transferred, "patches": 2}


def _spread(values: list[float]) -> dict | None:
    if not values:
        return None
    return {"min": round(min(values), 3), "median": round(statistics.median(values), 3),
            "max": round(max(values), 3)}


# --------------------------------------------------------------------------- one backend

class Backend:
    """One API process (local or S3 storage) and what the benchmark needs of it."""

    def __init__(self, name: str, workdir: Path, s3_url: str | None) -> None:
        from sqlalchemy.orm import Session

        from services.common.db import create_db_engine
        from tests.factories import Factory
        from tests.live import ApiProcess, fresh_database, s3_environment

        self.name, self.s3_url = name, s3_url
        self.s3_pid = _local_s3_server_pid(s3_url) if s3_url else None
        self.root = workdir / name
        self.root.mkdir(parents=True)
        self.bucket = f"bench-upload-{uuid.uuid4().hex[:10]}" if s3_url else None
        env = s3_environment(s3_url, bucket=self.bucket) if s3_url else {}
        self.database_url = fresh_database("sqlite://", self.root)
        self.api = ApiProcess(database_url=self.database_url, data_dir=self.root / "data", secret=SECRET,
                              extra_env=env)
        self.api.start(timeout=90)
        engine = create_db_engine(self.database_url)
        try:
            with Session(engine) as session:
                factory = Factory(session=session, secret=SECRET)
                user = factory.user()
                session.commit()
                self.headers = factory.headers(user, ttl_s=24 * 3600)
        finally:
            engine.dispose()

    @property
    def pid(self) -> int:
        assert self.api.process is not None
        return self.api.process.pid

    def check(self, url: str, sha256: str) -> None:
        import httpx

        upload_id = urlparse(url).path.rstrip("/").rsplit("/", 1)[-1]
        view = httpx.get(f"{self.api.url}/api/v1/uploads/{upload_id}", headers=self.headers, timeout=30).json()
        if view.get("status") != "complete" or view.get("sha256") != sha256:
            raise RuntimeError(f"{self.name}: upload {upload_id} ended {view.get('status')} "
                               f"(refusal {view.get('refusal_code')}), sha256 {view.get('sha256')} != {sha256}")
        self._drop_blob(upload_id, sha256)

    def _drop_blob(self, upload_id: str, sha256: str) -> None:
        """The stored copy is not needed once checked: keeps 2 GiB files from piling up."""
        from services.api.uploads.service import content_key

        if self.s3_url:  # on S3 a blob stays at the key it was assembled at (BlobStore.keep)
            with contextlib.suppress(Exception):
                self._minio().remove_object(self.bucket, f"staging/uploads/{upload_id}")
            return
        key = content_key(sha256)
        path = self.root / "data" / "blobs" / "objects" / key
        path.unlink(missing_ok=True)
        path.with_name(path.name + ".type").unlink(missing_ok=True)

    def _minio(self):  # noqa: ANN202
        from minio import Minio

        parsed = urlparse(self.s3_url)
        return Minio(f"{parsed.hostname}:{parsed.port}", access_key=parsed.username or "",
                     secret_key=parsed.password or "", secure=parsed.scheme == "https")

    def close(self) -> None:
        self.api.stop()
        if self.s3_url and self.bucket:  # best effort: the bucket this run made, and all in it
            client = self._minio()
            with contextlib.suppress(Exception):
                for found in client.list_objects(self.bucket, recursive=True):
                    client.remove_object(self.bucket, found.object_name)
            with contextlib.suppress(Exception):
                for pending in client._list_multipart_uploads(self.bucket).uploads:
                    client._abort_multipart_upload(self.bucket, pending.object_name, pending.upload_id)
            with contextlib.suppress(Exception):
                client.remove_bucket(self.bucket)


def _local_s3_server_pid(url: str) -> int | None:
    """The MinIO process serving `url` if it runs on this machine (its CPU time is part of every
    S3 upload's cost here), found by its --address."""
    port = urlparse(url).port
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            if argv and b"minio" in Path(argv[0].decode(errors="replace")).name.encode() and b"server" in argv:
                address = argv[argv.index(b"--address") + 1].decode() if b"--address" in argv else ":9000"
                if address.rsplit(":", 1)[-1] == str(port):
                    return int(entry.name)
    return None


def measured_upload(backend: Backend, client: str, path: Path, tag_offset: int, chunk: int) -> dict:
    """One upload of new content, with the API's RSS, CPU and write counters around it."""
    sha256 = retag(path, tag_offset)
    settle()
    pid = backend.pid
    server_cpu = cpu_times(backend.s3_pid) if backend.s3_pid else None
    cpu, io, client_cpu = cpu_times(pid), io_counters(pid), time.process_time()
    with RssWatch(pid) as watch:
        if client == "tuspy":
            result = upload_tuspy(backend.api.url, backend.headers, path, None)
        elif client == "tuspy-chunked":
            result = upload_tuspy(backend.api.url, backend.headers, path, chunk)
        else:
            result = upload_httpx(backend.api.url, backend.headers, path)
    client_cpu = time.process_time() - client_cpu
    if server_cpu is not None:
        result["s3_server_cpu_seconds"] = round(sum(_cpu_delta(server_cpu, cpu_times(backend.s3_pid)).values()), 2)
    after_io = io_counters(pid)
    result["api_cpu"] = _cpu_delta(cpu, cpu_times(pid))
    result["api_cpu_seconds"] = round(sum(result["api_cpu"].values()), 2)
    result["client_cpu_seconds"] = round(client_cpu, 2)
    result["api_io"] = {k: after_io[k] - io[k] for k in ("wchar", "write_bytes", "read_bytes") if k in io}
    result["rss"] = watch.result()
    backend.check(result["url"], sha256)
    size = path.stat().st_size
    result["mb_s"] = round(size / result["seconds"] / 1e6, 1)
    result["transfer_mb_s"] = round(size / result["transfer_seconds"] / 1e6, 1)
    for key in ("seconds", "transfer_seconds", "completion_seconds", "create_seconds"):
        if key in result:
            result[key] = round(result[key], 3)
    result.pop("url")
    return result


def measured_baseline(receiver: Server, path: Path, *, direct: bool = False) -> dict:
    settle()
    cpu, io, client_cpu = cpu_times(receiver.pid), io_counters(receiver.pid), time.process_time()
    seconds = send_baseline(receiver.port, path, direct=direct)
    client_cpu = time.process_time() - client_cpu
    after_io = io_counters(receiver.pid)
    receiver_cpu = _cpu_delta(cpu, cpu_times(receiver.pid))
    return {"seconds": round(seconds, 3), "mb_s": round(path.stat().st_size / seconds / 1e6, 1),
            "receiver_cpu": receiver_cpu, "receiver_cpu_seconds": round(sum(receiver_cpu.values()), 2),
            "client_cpu_seconds": round(client_cpu, 2),
            "receiver_io": {k: after_io[k] - io[k] for k in ("wchar", "write_bytes") if k in io}}


def measured_s3_direct(backend: Backend, path: Path, number: int) -> dict:
    """The same file put straight into MinIO by its own client (16 MiB parts, as the API sends):
    what the S3 server takes on this machine, a ceiling for any upload that ends in it."""
    minio = backend._minio()
    key = f"bench/direct-{number}"
    settle()
    server_cpu = cpu_times(backend.s3_pid) if backend.s3_pid else None
    client_cpu = time.process_time()
    started = time.perf_counter()
    minio.fput_object(backend.bucket, key, str(path), part_size=16 * MiB)
    seconds = time.perf_counter() - started
    result = {"seconds": round(seconds, 3), "mb_s": round(path.stat().st_size / seconds / 1e6, 1),
              "client_cpu_seconds": round(time.process_time() - client_cpu, 2)}
    if server_cpu is not None:
        result["s3_server_cpu_seconds"] = round(sum(_cpu_delta(server_cpu, cpu_times(backend.s3_pid)).values()), 2)
    minio.remove_object(backend.bucket, key)
    return result


def run_backend(name: str, s3_url: str | None, args: argparse.Namespace, workdir: Path, files: dict) -> dict:
    big, big_tag = files["large"]
    small, small_tag = files["small"]
    warm, warm_tag = files["warm"]
    size = big.stat().st_size
    chunk = args.chunk_mib * MiB

    backend = Backend(name, workdir, s3_url)
    receive_dir = workdir / name / "baseline"
    receive_dir.mkdir()
    port = free_port()
    receiver = Server(f"receiver-{name}", [sys.executable, str(Path(__file__).resolve()), "--receiver",
                                           str(receive_dir)],
                      env={**os.environ, "BENCH_RECEIVER_PORT": str(port)}, cwd=REPO_ROOT,
                      log_path=workdir / name / "receiver.log", port=port)
    try:
        receiver.wait_ready(timeout=30)
        _say(f"[{name}] api pid {backend.pid} on {backend.api.url}; receiver pid {receiver.pid} port {receiver.port}")

        measured_upload(backend, "tuspy", warm, warm_tag, chunk)  # warm-up, not recorded
        send_baseline(receiver.port, warm)
        small_run = measured_upload(backend, "tuspy", small, small_tag, chunk)
        _say(f"[{name}] rss {small.stat().st_size // MiB} MiB upload: growth {small_run['rss']['growth_mib']} MiB")

        rounds: list[dict] = []
        for number in range(1, args.rounds + 1):
            entry: dict = {"round": number, "baseline": measured_baseline(receiver, big),
                           "baseline_direct": measured_baseline(receiver, big, direct=True)}
            _say(f"[{name}] round {number}/{args.rounds} baseline {entry['baseline']['mb_s']:8.1f} MB/s "
                 f"({entry['baseline']['seconds']:.1f} s); with O_DIRECT {entry['baseline_direct']['mb_s']:8.1f} MB/s")
            if s3_url:
                entry["s3_direct"] = measured_s3_direct(backend, big, number)
                _say(f"[{name}] round {number}/{args.rounds} minio fput {entry['s3_direct']['mb_s']:8.1f} MB/s")
            for client in args.clients:
                entry[client] = measured_upload(backend, client, big, big_tag, chunk)
                got = entry[client]
                _say(f"[{name}] round {number}/{args.rounds} {client:8s} {got['mb_s']:8.1f} MB/s "
                     f"({got['seconds']:.1f} s; transfer {got['transfer_mb_s']:.1f} MB/s; completion "
                     f"{got['completion_seconds']:.2f} s; api cpu {got['api_cpu_seconds']:.1f} s; "
                     f"rss growth {got['rss']['growth_mib']} MiB)")
            rounds.append(entry)

        profile = None
        if args.profile:
            profile = profile_upload(backend, big, big_tag, chunk, args.profile / f"{name}-tuspy.speedscope.json")
    finally:
        receiver.stop()
        backend.close()

    return summarize_backend(name, rounds, small_run, size, small.stat().st_size, args, profile)


def profile_upload(backend: Backend, path: Path, tag_offset: int, chunk: int, output: Path) -> dict | None:
    """One extra tuspy upload, not measured, with py-spy recording the API process."""
    spy = venv_script("py-spy") or shutil.which("py-spy")
    if not spy:
        _say("--profile: py-spy is not installed (.venv/bin/uv pip install --python .venv/bin/python py-spy)")
        return None
    output.parent.mkdir(parents=True, exist_ok=True)
    sha256 = retag(path, tag_offset)
    settle()
    recorder = subprocess.Popen([spy, "record", "-p", str(backend.pid), "-o", str(output), "--format", "speedscope",
                                 "--rate", "100", "--threads", "--idle", "--subprocesses"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(2.0)
    try:
        result = upload_tuspy(backend.api.url, backend.headers, path, chunk)
    finally:
        recorder.send_signal(2)  # SIGINT: py-spy writes its file and exits
        _, errors = recorder.communicate(timeout=60)
    backend.check(result["url"], sha256)
    _say(f"[{backend.name}] profile of one tuspy upload ({result['seconds']:.1f} s under py-spy): {output}")
    if recorder.returncode not in (0, None) and not output.exists():
        _say(errors.decode(errors="replace")[-2000:])
    return {"file": str(output), "seconds_under_py_spy": round(result["seconds"], 2)}


def summarize_backend(name: str, rounds: list[dict], small_run: dict, size: int, small_size: int,
                      args: argparse.Namespace, profile: dict | None) -> dict:
    def rate(runs: list[dict], key: str) -> float:
        return round(size * len(runs) / sum(r[key] for r in runs) / 1e6, 1)

    baselines = [r["baseline"] for r in rounds]
    baseline_mb_s = rate(baselines, "seconds")
    direct_mb_s = rate([r["baseline_direct"] for r in rounds], "seconds")
    document: dict = {"baseline_mb_s": baseline_mb_s, "baseline_receiver_cpu_s_per_gib": round(
        statistics.median(b["receiver_cpu_seconds"] for b in baselines) * 1024 ** 3 / size, 2),
        "baseline_direct_mb_s": direct_mb_s, "baseline_direct_receiver_cpu_s_per_gib": _per_gib(
            [r["baseline_direct"] for r in rounds], "receiver_cpu_seconds", size)}
    for client in args.clients:
        runs = [r[client] for r in rounds]
        mb_s, transfer = rate(runs, "seconds"), rate(runs, "transfer_seconds")
        document[client] = {
            "mb_s": mb_s, "ratio": round(mb_s / baseline_mb_s, 3),
            "transfer_mb_s": transfer, "ratio_without_completion": round(transfer / baseline_mb_s, 3),
            "completion_s": round(statistics.median(r["completion_seconds"] for r in runs), 3),
            "api_cpu_s_per_gib": round(statistics.median(r["api_cpu_seconds"] for r in runs) * 1024 ** 3 / size, 2),
            "api_io_written_per_byte": round(statistics.median(
                r["api_io"].get("write_bytes", 0) for r in runs) / size, 2),
            "ratio_rounds": [round(r[client]["mb_s"] / r["baseline"]["mb_s"], 3) for r in rounds],
            "ratio_vs_direct_copy": round(mb_s / direct_mb_s, 3),
        }
        if all("s3_server_cpu_seconds" in r for r in runs):
            document[client]["s3_server_cpu_s_per_gib"] = _per_gib(runs, "s3_server_cpu_seconds", size)
            document[client]["client_cpu_s_per_gib"] = _per_gib(runs, "client_cpu_seconds", size)
    main = args.clients[0]
    document.update({
        "client": main,
        "tus_mb_s": document[main]["mb_s"], "ratio": document[main]["ratio"],
        "tus_transfer_mb_s": document[main]["transfer_mb_s"],
        "ratio_without_completion": document[main]["ratio_without_completion"],
        "completion_s": document[main]["completion_s"],
    })
    large_rss = [r[c]["rss"] for r in rounds for c in args.clients]
    worst = max(large_rss, key=lambda x: x["growth_mib"])
    document["rss"] = {
        _label(small_size): {k: small_run["rss"][k] for k in ("before_mib", "peak_mib", "growth_mib")},
        _label(size): {**{k: worst[k] for k in ("before_mib", "peak_mib", "growth_mib")},
                       "note": "the largest growth over every large upload (all clients, all rounds)",
                       "every_upload_mib": [x["growth_mib"] for x in large_rss]},
    }
    if all("s3_direct" in r for r in rounds):
        direct = rate([r["s3_direct"] for r in rounds], "seconds")
        runs = [r["s3_direct"] for r in rounds]
        document["s3_direct"] = {"mb_s": direct, "ratio": round(direct / baseline_mb_s, 3),
                                 "note": "minio fput_object of the same file: the S3 server's own ceiling here"}
        if all("s3_server_cpu_seconds" in r for r in runs):
            document["s3_direct"]["s3_server_cpu_s_per_gib"] = _per_gib(runs, "s3_server_cpu_seconds", size)
            document["s3_direct"]["client_cpu_s_per_gib"] = _per_gib(runs, "client_cpu_seconds", size)
        for client in args.clients:
            document[client]["ratio_vs_s3_direct"] = round(document[client]["mb_s"] / direct, 3)
    if all("s3_server_cpu_s_per_gib" in document[c] for c in args.clients):
        document["cpu_bound"] = _cpu_bound(document, args.clients, baseline_mb_s, size)
    document["rounds"] = rounds
    document["rss_small_upload"] = small_run
    if profile:
        document["profile"] = profile
    document["meets_goals"] = {"ratio": document["ratio"] >= GOAL_RATIO,
                               "rss_growth": worst["growth_mib"] <= GOAL_RSS_MIB}
    document["label"] = name
    return document


def _per_gib(runs: list[dict], key: str, size: int) -> float:
    return round(statistics.median(r[key] for r in runs) * 1024 ** 3 / size, 2)


def _cpu_bound(document: dict, clients: list[str], baseline_mb_s: float, size: int) -> dict:
    """The best ratio the machine's cores allow: client, API and S3 server all run here, so an
    upload can never take less wall time than their CPU time spread over every core."""
    cores = os.cpu_count() or 1
    bound: dict = {"cores": cores, "note": "ratio no upload can beat here: (client + API + S3 server CPU-s per "
                   "GiB) / cores is the least wall time per GiB; compared with the baseline's time per GiB"}
    for client in clients:
        c = document[client]
        cpu = c["client_cpu_s_per_gib"] + c["api_cpu_s_per_gib"] + c["s3_server_cpu_s_per_gib"]
        best_mb_s = 1024 ** 3 / (cpu / cores) / 1e6
        bound[client] = {"cpu_s_per_gib": round(cpu, 2), "best_mb_s": round(best_mb_s, 1),
                         "best_ratio": round(best_mb_s / baseline_mb_s, 3)}
    return bound


def _label(size: int) -> str:
    mib = size / MiB
    return f"{mib / 1024:g}GiB" if mib >= 1024 and mib % 1024 == 0 else f"{mib:g}MiB"


# --------------------------------------------------------------------------- S3 discovery

def find_s3(args: argparse.Namespace) -> tuple[str | None, str]:
    """The MinIO URL to use, or None and why not."""
    if args.no_s3:
        return None, "--no-s3"
    url = args.s3_url or os.environ.get("LB_BENCH_S3_URL") or os.environ.get("LB_TEST_S3_URL")
    source = "--s3-url / LB_BENCH_S3_URL / LB_TEST_S3_URL"
    script = REPO_ROOT / "infra" / "minio.sh"
    if not url and script.exists():
        status = subprocess.run([str(script), "status"], capture_output=True, text=True, cwd=REPO_ROOT)
        if status.returncode == 0:
            url = subprocess.run([str(script), "url"], capture_output=True, text=True, cwd=REPO_ROOT).stdout.strip()
            source = "infra/minio.sh url"
        else:
            return None, f"infra/minio.sh status: not running ({(status.stdout + status.stderr).strip()[:200]})"
    if not url:
        return None, ("no MinIO: infra/minio.sh does not exist and none of --s3-url, LB_BENCH_S3_URL, "
                      "LB_TEST_S3_URL is set")
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname, parsed.port or 9000), timeout=3):
            pass
    except OSError as error:
        return None, f"MinIO at {parsed.hostname}:{parsed.port} (from {source}) does not answer: {error}"
    return url, source


# --------------------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--receiver"]:
        # Hidden mode: the baseline receiver, started by the benchmark itself (port in the env).
        receiver_main(int(os.environ["BENCH_RECEIVER_PORT"]), Path(argv[1]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mib", type=int, default=2048, help="size of the measured upload (2048)")
    parser.add_argument("--rss-small-mib", type=int, default=100, help="size of the small RSS upload (100)")
    parser.add_argument("--rounds", type=int, default=1, help="alternating rounds: baseline, then each client (1)")
    parser.add_argument("--chunk-mib", type=int, default=64, help="tuspy-chunked's chunk_size, one PATCH each (64)")
    parser.add_argument("--clients", default=",".join(CLIENTS),
                        help=f"tus clients, comma-separated, the first is the headline ({','.join(CLIENTS)})")
    parser.add_argument("--s3-url", help="MinIO as http://user:password@host:port (else LB_BENCH_S3_URL, "
                                         "LB_TEST_S3_URL, infra/minio.sh url)")
    parser.add_argument("--no-s3", action="store_true", help="local backend only")
    parser.add_argument("--no-local", action="store_true", help="S3 backend only")
    parser.add_argument("--workdir", type=Path, default=None,
                        help="where files and data dirs go (a new temporary directory; same disk as the API's data)")
    parser.add_argument("--profile", type=Path, default=None,
                        help="after the measured rounds, record one extra (unmeasured) tuspy upload per backend "
                             "with py-spy into this directory (speedscope JSON)")
    parser.add_argument("--output", type=Path, default=RESULTS_DIR / "upload.json")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args(argv)
    args.clients = [c.strip() for c in args.clients.split(",") if c.strip()]
    if not args.clients or any(c not in CLIENTS for c in args.clients):
        parser.error(f"--clients takes some of {', '.join(CLIENTS)}")

    install_cleanup()
    workdir = Path(tempfile.mkdtemp(prefix="lb-bench-upload-", dir=args.workdir))
    try:
        return _run(args, workdir)
    except KeyboardInterrupt:
        _say("\ninterrupted; servers stopped")
        return 130
    finally:
        stop_all_servers()
        if args.keep:
            _say(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def _run(args: argparse.Namespace, workdir: Path) -> int:
    size = args.size_mib * MiB
    free = shutil.disk_usage(workdir).free
    needed = 4 * size + args.rss_small_mib * MiB + 512 * MiB
    if free < needed:
        raise SystemExit(f"{workdir}: {free / 2**30:.1f} GiB free, the run needs about {needed / 2**30:.1f} GiB")
    machine = machine_info()
    for package in ("tuspy", "minio", "requests"):
        with contextlib.suppress(Exception):
            from importlib import metadata
            machine["packages"][package] = metadata.version(package)
    machine["disk_free_gib_at_start"] = round(free / 2**30, 1)

    s3_url, s3_reason = find_s3(args)
    _say(f"workdir {workdir}; making the {args.size_mib} MiB lesson file")
    media_dir = workdir / "media"
    media_dir.mkdir()
    files = {"large": make_lesson(media_dir, "large.mp4", size),
             "small": make_lesson(media_dir, "small.mp4", args.rss_small_mib * MiB),
             "warm": make_lesson(media_dir, "warm.mp4", 8 * MiB)}

    document: dict = {
        "benchmark": "upload",
        "date": utc_now(),
        "machine": machine,
        "config": {
            "size_mib": args.size_mib, "size_bytes": size, "rss_small_mib": args.rss_small_mib,
            "rounds": args.rounds, "clients": args.clients, "headline_client": args.clients[0],
            "tuspy_chunk_mib": args.chunk_mib,
            "order": "per round: baseline, (S3: minio fput of the same file), then " + ", ".join(args.clients),
            "file": "H.264/AAC MP4 (ffmpeg testsrc2, 3 s) padded with a free box; 32 bytes of padding changed "
                    "before every upload, so each upload is new content",
            "baseline": "HTTP/1.1 PUT over 127.0.0.1 to a receiver process: recv_into a 1 MiB buffer, "
                        "os.write to a new file on the API's disk, fsync, 204; sender socket.sendfile()",
            "baseline_direct": "the same, the receiver writing through services.common.direct_io.Appender "
                               "(O_DIRECT, as the API does on local disk), then fdatasync",
            "tuspy": "tuspy with its default chunk_size (the whole file): POST, one PATCH of size-1 bytes, then a "
                     "1-byte PATCH (the completion step: assemble, ffprobe, hash, keep)",
            "tuspy-chunked": f"tuspy, chunk_size {args.chunk_mib} MiB: POST, PATCHes to size-1, then a 1-byte PATCH",
            "httpx": "POST, one streaming PATCH of size-1 bytes (1 MiB reads), then a 1-byte PATCH",
            "api": "uvicorn --factory services.api.app:create_app_from_env, 1 worker, LB_ENV=test, "
                   "LB_LOG_LEVEL=WARNING, --no-access-log, fresh SQLite (tests/live.py ApiProcess)",
            "rate_unit": "MB/s = 10^6 bytes/s of the file's size over the whole time",
            "workdir_filesystem": _filesystem(workdir),
            "s3_source": s3_reason if s3_url else None,
        },
        "goals": {"ratio": GOAL_RATIO, "rss_growth_mib": GOAL_RSS_MIB},
    }
    failed = False
    backends = ([] if args.no_local else [("local", None)]) + ([("s3", s3_url)] if s3_url else [])
    for name, url in backends:
        try:
            document[name] = run_backend(name, url, args, workdir, files)
        except (RuntimeError, OSError) as error:
            failed = True
            document[name] = {"error": f"{type(error).__name__}: {error}"[:2000]}
            _say(f"[{name}] FAILED: {error}")
    if args.no_local:
        document["local"] = {"skipped": "--no-local"}
    if not s3_url:
        document["s3"] = {"skipped": s3_reason}
    document["meets_goals"] = {name: document[name]["meets_goals"] for name in ("local", "s3")
                               if "meets_goals" in document.get(name, {})}
    machine["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    write_json(args.output, document)
    _print_summary(document, args.output)
    return 1 if failed else 0


def _filesystem(path: Path) -> str | None:
    with contextlib.suppress(Exception):
        out = subprocess.run(["df", "--output=source,fstype", str(path)], capture_output=True, text=True).stdout
        return " ".join(out.splitlines()[-1].split())
    return None


def _print_summary(doc: dict, output: Path) -> None:
    print(f"\nUploads: {doc['config']['size_mib']} MiB, tus vs copy over loopback "
          f"({doc['config']['rounds']} round(s); MB/s = 10^6 B/s)")
    for name in ("local", "s3"):
        section = doc.get(name, {})
        if "skipped" in section or "error" in section:
            print(f"  {name:5s} {section.get('skipped') and 'skipped: ' + section['skipped'] or 'ERROR: ' + section['error']}")
            continue
        print(f"  {name:5s} baseline {section['baseline_mb_s']:7.1f} MB/s  (the same copy with O_DIRECT: "
              f"{section['baseline_direct_mb_s']:.1f} MB/s)")
        if "s3_direct" in section:
            direct = section["s3_direct"]
            print(f"  {name:5s} minio fput {direct['mb_s']:7.1f} MB/s  ratio {direct['ratio']:.3f}  (the S3 server's "
                  f"own ceiling, no API; MinIO cpu {direct.get('s3_server_cpu_s_per_gib', '?')} s/GiB)")
        for client in doc["config"]["clients"]:
            c = section[client]
            print(f"  {name:5s} {client:8s} {c['mb_s']:7.1f} MB/s  ratio {c['ratio']:.3f}  (without completion "
                  f"{c['transfer_mb_s']:.1f} MB/s, {c['ratio_without_completion']:.3f}; completion "
                  f"{c['completion_s']:.2f} s; api cpu {c['api_cpu_s_per_gib']:.2f} s/GiB; "
                  f"vs O_DIRECT copy {c['ratio_vs_direct_copy']:.3f}"
                  + (f"; MinIO cpu {c['s3_server_cpu_s_per_gib']:.2f} s/GiB; vs minio fput {c['ratio_vs_s3_direct']:.3f}"
                     if "s3_server_cpu_s_per_gib" in c else "") + ")")
        if "cpu_bound" in section:
            print(f"  {name:5s} cpu bound: " + "  ".join(
                f"{client} {v['cpu_s_per_gib']} CPU-s/GiB -> ratio <= {v['best_ratio']:.3f}"
                for client, v in section["cpu_bound"].items() if isinstance(v, dict)))
        rss = "  ".join(f"{label}: +{v['growth_mib']} MiB" for label, v in section["rss"].items())
        goals = section["meets_goals"]
        print(f"  {name:5s} rss growth {rss}   goals: ratio >= {GOAL_RATIO} "
              f"{'met' if goals['ratio'] else 'NOT met'}, rss <= {GOAL_RSS_MIB} MiB "
              f"{'met' if goals['rss_growth'] else 'NOT met'}")
    print(f"  wrote {output}")


if __name__ == "__main__":
    sys.exit(main())
