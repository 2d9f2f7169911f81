"""A village school's link, made of real kernel parts: a client network namespace joined to this
host by a veth pair, shaped by `tc` and delayed/lossy through NFQUEUE. Needs root, `ip`, `tc`,
`iptables` (Debian's, nf_tables backend) and `ethtool`; standard library only.

Usage (any benchmark, e.g. bench/weaklink.py, or an edge-cache benchmark):

    import sys; sys.path.insert(0, REPO_ROOT)            # so `bench.weaklink` imports
    from bench.weaklink.netns import shaped_link

    with shaped_link(rate_kbit=4000, rtt_ms=80, loss=0.01) as link:
        # Servers of the "centre" run on this host; bind them to link.server_ip (or 0.0.0.0).
        # Whatever runs in the school runs in the namespace, e.g. players or an nginx edge:
        subprocess.run(link.argv("curl", f"http://{link.server_ip}:8000/healthz"), check=True)
        proc = link.popen(["ffmpeg", "-i", url, "-f", "null", "-"])   # subprocess.Popen kwargs pass through
        before = link.counters(); ...; after = link.counters()       # bytes that crossed the link
    # namespace, veth pair, qdiscs, iptables rules and the delay process are gone here, even on error

What the link is:

* down (host -> school) and up (school -> host): each a `tbf` of `rate_kbit` on the egress of its
  end of the veth pair (a bottleneck queue of `queue_ms` at that rate); offloads (TSO/GSO/GRO)
  are off on both ends so the qdisc and the delay see real 1500-byte packets.
* delay and loss: this kernel has no netem (nor fq, so no BPF departure times), so iptables in the
  namespace sends every packet crossing the veth (INPUT and OUTPUT on its interface; loopback is
  not touched) to NFQUEUE, where `nfq_delay.py` (user space) holds it `rtt_ms / 2` and drops it
  with probability `loss`. Both directions: ping shows ~rtt_ms, and a packet is lost with
  probability `loss` each way. The delay comes after the down-link tbf and before the up-link one.
* the namespace's default route is this host's end: it reaches any address of this host (a
  server bound to 0.0.0.0 or to another link's server_ip) over the shaped link; nothing beyond.
* traffic inside the namespace (e.g. classrooms to an edge cache on 127.0.0.1 there) is unshaped:
  that is the school's LAN.

Several links may exist at once (other engineers, other benchmarks): each gets its own
namespace `lbwl-<pid>-<n>`, interfaces `wl<pid>x<n>`, and a free 10.213.x.y/30.
`cleanup_stale()` removes links whose creating process is dead (a run killed with SIGKILL).
"""
from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_DELAY = Path(__file__).resolve().with_name("nfq_delay.py")
_COUNTER = itertools.count()
_PREFIX = "lbwl-"
CLIENT_DEV = "wl0"


def _run(argv: Sequence[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(list(argv), capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if check and done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.strip()}")
    return done


@dataclass
class ShapedLink:
    namespace: str
    host_dev: str         # this host's end of the veth pair
    server_ip: str        # this host's address on the link: what the school reaches the centre at
    client_ip: str        # the namespace's address
    rate_kbit: int
    rtt_ms: float
    loss: float
    _delay: subprocess.Popen[str] | None = field(default=None, repr=False)
    delay_counts: dict[str, int] = field(default_factory=dict)

    def argv(self, *command: str) -> list[str]:
        """A command line that runs `command` inside the school's namespace."""
        return ["ip", "netns", "exec", self.namespace, *command]

    def popen(self, command: Sequence[str], **kwargs: Any) -> subprocess.Popen[Any]:
        """subprocess.Popen of `command` inside the namespace (kwargs pass through). Stopping it
        is the caller's job; the namespace going away does not kill its processes."""
        return subprocess.Popen(self.argv(*command), **kwargs)

    def run(self, command: Sequence[str], **kwargs: Any) -> subprocess.CompletedProcess[Any]:
        return subprocess.run(self.argv(*command), **kwargs)

    def counters(self) -> dict[str, int]:
        """Bytes and packets that crossed the link so far, at this host's end (down = to the school)."""
        base = Path(f"/sys/class/net/{self.host_dev}/statistics")
        value = lambda name: int((base / name).read_text())  # noqa: E731
        return {"down_bytes": value("tx_bytes"), "up_bytes": value("rx_bytes"),
                "down_packets": value("tx_packets"), "up_packets": value("rx_packets")}

    def describe(self) -> dict[str, Any]:
        return {"rate_kbit": self.rate_kbit, "rtt_ms": self.rtt_ms, "loss": self.loss,
                "shaping": "tbf each direction on the veth pair's egress",
                "delay_and_loss": "NFQUEUE in the client namespace, user space (bench/weaklink/nfq_delay.py)"}


def _free_subnet() -> tuple[str, str]:
    used = _run(["ip", "-o", "-4", "addr", "show"]).stdout
    for third, fourth in itertools.product(range(256), range(0, 256, 4)):
        host, client = f"10.213.{third}.{fourth + 1}", f"10.213.{third}.{fourth + 2}"
        if f" {host}/" not in used and f" {client}/" not in used:
            return host, client
    raise RuntimeError("no free /30 in 10.213.0.0/16")


@contextlib.contextmanager
def shaped_link(rate_kbit: int = 4000, rtt_ms: float = 80.0, loss: float = 0.01, *, queue_ms: int = 100,
                seed: int | None = None) -> Iterator[ShapedLink]:
    """A client namespace behind a `rate_kbit` link with `rtt_ms` round trip and `loss` per packet
    each way; torn down on exit, whatever happened. See the module docstring."""
    if os.geteuid() != 0:
        raise PermissionError("a shaped link needs root (ip netns, tc, iptables)")
    n = next(_COUNTER)
    namespace, host_dev = f"{_PREFIX}{os.getpid()}-{n}", f"wl{os.getpid()}x{n}"[:15]
    server_ip, client_ip = _free_subnet()
    link = ShapedLink(namespace=namespace, host_dev=host_dev, server_ip=server_ip, client_ip=client_ip,
                      rate_kbit=rate_kbit, rtt_ms=rtt_ms, loss=loss)
    try:
        _run(["ip", "netns", "add", namespace])
        _run(["ip", "link", "add", host_dev, "type", "veth", "peer", "name", CLIENT_DEV, "netns", namespace])
        _run(["ip", "addr", "add", f"{server_ip}/30", "dev", host_dev])
        _run(["ip", "link", "set", host_dev, "up"])
        _run(link.argv("ip", "addr", "add", f"{client_ip}/30", "dev", CLIENT_DEV))
        _run(link.argv("ip", "link", "set", CLIENT_DEV, "up"))
        _run(link.argv("ip", "link", "set", "lo", "up"))
        # Every address of this host (another link's server_ip too) is reached over this link.
        _run(link.argv("ip", "route", "add", "default", "via", server_ip))
        for argv in (["ethtool", "-K", host_dev], link.argv("ethtool", "-K", CLIENT_DEV)):
            _run([*argv, "tso", "off", "gso", "off", "gro", "off"], check=False)
        burst = max(3000, rate_kbit * 1000 // 8 // 250)  # 4 ms of the rate, at least two packets
        shape = ["qdisc", "replace", "dev"]
        tbf = ["root", "tbf", "rate", f"{rate_kbit}kbit", "burst", str(burst), "latency", f"{queue_ms}ms"]
        _run(["tc", *shape, host_dev, *tbf])
        _run(link.argv("tc", *shape, CLIENT_DEV, *tbf))
        if rtt_ms > 0 or loss > 0:
            for chain, flag in (("INPUT", "-i"), ("OUTPUT", "-o")):
                _run(link.argv("iptables", "-A", chain, flag, CLIENT_DEV, "-j", "NFQUEUE", "--queue-num", "0"))
            argv = [sys.executable, str(_DELAY), "--queue", "0", "--delay-ms", str(rtt_ms / 2), "--loss", str(loss)]
            if seed is not None:
                argv += ["--seed", str(seed)]
            link._delay = subprocess.Popen(link.argv(*argv), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                           stdin=subprocess.DEVNULL, text=True)
            line = link._delay.stdout.readline() if link._delay.stdout else ""
            if line.strip() != "ready":
                error = link._delay.stderr.read() if link._delay.stderr else ""
                raise RuntimeError(f"nfq_delay did not start: {line}{error}")
        yield link
    finally:
        _teardown(link)


def _teardown(link: ShapedLink) -> None:
    if link._delay is not None:
        if link._delay.poll() is None:
            link._delay.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired, ValueError):
            out, _ = link._delay.communicate(timeout=10)
            with contextlib.suppress(ValueError, IndexError):
                link.delay_counts = json.loads(out.strip().splitlines()[-1])
        if link._delay.poll() is None:
            link._delay.kill()
            link._delay.wait()
    _run(["ip", "netns", "del", link.namespace], check=False)
    _run(["ip", "link", "del", link.host_dev], check=False)  # gone with the namespace's end, normally


def cleanup_stale() -> list[str]:
    """Removes the links of processes that no longer exist (namespace and host interface)."""
    removed = []
    for name in _run(["ip", "netns", "list"]).stdout.split():
        match = re.fullmatch(rf"{_PREFIX}(\d+)-(\d+)", name)
        if match and not Path(f"/proc/{match[1]}").exists():
            _run(["ip", "netns", "del", name], check=False)
            _run(["ip", "link", "del", f"wl{match[1]}x{match[2]}"[:15]], check=False)
            removed.append(name)
    return removed


def measure(link: ShapedLink, *, port: int, seconds: float = 5.0) -> dict[str, Any]:
    """What the link does, measured: the round trip of TCP connects from the namespace, and the
    down rate of one TCP stream for `seconds` (a throwaway server on this host sending zeros; ports
    `port` and `port + 1`).
    Loss is counted by the delay process itself (`link.delay_counts` after the link is gone)."""
    import socket
    import threading

    with socket.create_server((link.server_ip, port), backlog=64) as server:
        # Round trip: TCP connects from the namespace (SYN out, SYN-ACK back), the median of 20.
        code = ("import socket,time,statistics\nr=[]\nfor _ in range(20):\n t=time.monotonic()\n"
                " socket.create_connection(('%s',%d)).close()\n r.append((time.monotonic()-t)*1000)\n"
                "print(statistics.median(r))") % (link.server_ip, port)
        threading.Thread(target=lambda: [server.accept()[0].close() for _ in range(20)], daemon=True).start()
        connect = link.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    rtt = float(connect.stdout.strip()) if connect.returncode == 0 else None
    with socket.create_server((link.server_ip, port + 1)) as server:
        def _send() -> None:
            connection, _ = server.accept()
            with connection, contextlib.suppress(OSError):
                deadline = time.monotonic() + seconds
                chunk = b"\0" * 65536
                while time.monotonic() < deadline:
                    connection.sendall(chunk)
        thread = threading.Thread(target=_send, daemon=True)
        thread.start()
        code = ("import socket,time\ns=socket.create_connection(('%s',%d))\nt=time.monotonic();n=0\n"
                "while True:\n b=s.recv(65536)\n if not b: break\n n+=len(b)\n"
                "print(n*8/(time.monotonic()-t)/1000)") % (link.server_ip, port + 1)
        got = link.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=seconds + 30)
        thread.join(timeout=5)
    return {"tcp_connect_rtt_ms_median": round(rtt, 1) if rtt else None,
            "tcp_down_kbit": round(float(got.stdout.strip() or 0), 1)}


if __name__ == "__main__":  # a quick look: python bench/weaklink/netns.py
    with shaped_link() as _link:
        print(json.dumps({"link": _link.describe(), "measured": measure(_link, port=47123)}, indent=2))
        print(_link.counters())
    print(_link.delay_counts)
