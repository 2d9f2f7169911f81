"""Delay and drop packets in user space through NFQUEUE: the part of a weak link that `tc` cannot
make on a kernel without netem (this one has tbf, htb, ifb and nfqueue, no netem, no fq).

Run inside the namespace whose packets it holds (`ip netns exec NS python nfq_delay.py ...`),
after iptables there sends them to the queue (`-j NFQUEUE --queue-num N`, see netns.py). Each
packet is held `--delay-ms` and then accepted, or dropped with probability `--loss`. The delay is
the same for every packet of a direction, so the order within a direction is kept (a FIFO). Two
hooks (input and output) through one queue with 40 ms each make an 80 ms round trip.

Standard library only: it speaks the nfnetlink queue protocol itself (copy mode META: the kernel
sends the packet id, never the payload), so no libnetfilter_queue and no compiler are needed.
It prints one line `ready` on stdout once bound, and on SIGTERM/SIGINT a JSON line of counts.
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import random
import select
import signal
import socket
import struct
import sys
import time

NETLINK_NETFILTER = 12
NFNL_SUBSYS_QUEUE = 3
NFQNL_MSG_PACKET, NFQNL_MSG_VERDICT, NFQNL_MSG_CONFIG = 0, 1, 2
NFQA_CFG_CMD, NFQA_CFG_PARAMS, NFQA_CFG_QUEUE_MAXLEN = 1, 2, 3
NFQNL_CFG_CMD_BIND, NFQNL_CFG_CMD_UNBIND = 1, 2
NFQNL_COPY_META = 1
NFQA_PACKET_HDR, NFQA_VERDICT_HDR = 1, 2
NF_DROP, NF_ACCEPT = 0, 1
NLM_F_REQUEST, NLM_F_ACK = 1, 4
NLMSG_ERROR = 2
NF_INET_LOCAL_IN, NF_INET_LOCAL_OUT = 1, 3
SO_RCVBUFFORCE = 33
SOL_NETLINK, NETLINK_NO_ENOBUFS = 270, 5


def _attr(kind: int, payload: bytes) -> bytes:
    raw = struct.pack("=HH", 4 + len(payload), kind) + payload
    return raw + b"\0" * (-len(raw) % 4)


def _message(msg: int, queue: int, attrs: bytes, *, flags: int = NLM_F_REQUEST, seq: int = 0) -> bytes:
    body = struct.pack("=BBH", socket.AF_UNSPEC, 0, socket.htons(queue)) + attrs
    return struct.pack("=IHHII", 16 + len(body), (NFNL_SUBSYS_QUEUE << 8) | msg, flags, seq, 0) + body


def _attrs(data: bytes) -> dict[int, bytes]:
    found, offset = {}, 0
    while offset + 4 <= len(data):
        length, kind = struct.unpack_from("=HH", data, offset)
        if length < 4:
            break
        found[kind & 0x7FFF] = data[offset + 4:offset + length]
        offset += (length + 3) & ~3
    return found


class Queue:
    def __init__(self, number: int) -> None:
        self.number = number
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
        self.sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 8 << 20)
        self.sock.setsockopt(SOL_NETLINK, NETLINK_NO_ENOBUFS, 1)
        self.sock.bind((0, 0))
        self._config(_attr(NFQA_CFG_CMD, struct.pack("!BxH", NFQNL_CFG_CMD_BIND, socket.AF_INET)), seq=1)
        self._config(_attr(NFQA_CFG_PARAMS, struct.pack("!IB", 0, NFQNL_COPY_META)), seq=2)
        self._config(_attr(NFQA_CFG_QUEUE_MAXLEN, struct.pack("!I", 8192)), seq=3)

    def _config(self, attrs: bytes, *, seq: int) -> None:
        self.sock.send(_message(NFQNL_MSG_CONFIG, self.number, attrs, flags=NLM_F_REQUEST | NLM_F_ACK, seq=seq))
        while True:
            data = self.sock.recv(65536)
            length, kind, _flags, got_seq, _pid = struct.unpack_from("=IHHII", data)
            if kind == NLMSG_ERROR and got_seq == seq:
                (error,) = struct.unpack_from("=i", data, 16)
                if error:
                    raise OSError(-error, f"nfqueue config {seq}: {os.strerror(-error)}")
                return

    def packets(self) -> list[tuple[int, int]]:
        """(packet id, hook) of every packet waiting on the socket now."""
        found = []
        while True:
            try:
                data = self.sock.recv(1 << 16, socket.MSG_DONTWAIT)
            except BlockingIOError:
                return found
            offset = 0
            while offset + 16 <= len(data):
                length, kind, _flags, _seq, _pid = struct.unpack_from("=IHHII", data, offset)
                if length < 16:
                    break
                if kind == (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET:
                    header = _attrs(data[offset + 20:offset + length]).get(NFQA_PACKET_HDR)
                    if header:
                        packet_id, _proto, hook = struct.unpack_from("!IHB", header)
                        found.append((packet_id, hook))
                offset += (length + 3) & ~3

    def verdict(self, packet_id: int, verdict: int) -> None:
        self.sock.send(_message(NFQNL_MSG_VERDICT, self.number,
                                _attr(NFQA_VERDICT_HDR, struct.pack("!II", verdict, packet_id))))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--queue", type=int, default=0)
    parser.add_argument("--delay-ms", type=float, default=40.0, help="held this long in each direction")
    parser.add_argument("--loss", type=float, default=0.0, help="drop probability per packet (0.01 = 1 %%)")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    queue = Queue(args.queue)
    delay = args.delay_ms / 1000
    held: collections.deque[tuple[float, int]] = collections.deque()
    counts = {"in": 0, "out": 0, "dropped_in": 0, "dropped_out": 0}
    stop = False

    def _stop(_signum: int, _frame: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    print("ready", flush=True)
    while not stop:
        now = time.monotonic()
        while held and held[0][0] <= now:
            queue.verdict(held.popleft()[1], NF_ACCEPT)
        timeout = max(0.0, held[0][0] - now) if held else 0.5
        try:
            readable, _, _ = select.select([queue.sock], [], [], timeout)
        except InterruptedError:
            continue
        if readable:
            arrived = time.monotonic()
            for packet_id, hook in queue.packets():
                side = "in" if hook == NF_INET_LOCAL_IN else "out"
                counts[side] += 1
                if args.loss and rng.random() < args.loss:
                    counts[f"dropped_{side}"] += 1
                    queue.verdict(packet_id, NF_DROP)
                else:
                    held.append((arrived + delay, packet_id))
    for _release, packet_id in held:
        queue.verdict(packet_id, NF_ACCEPT)
    print(json.dumps(counts), flush=True)
    sys.exit(0)


if __name__ == "__main__":
    main()
