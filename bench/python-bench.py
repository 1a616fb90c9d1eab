#!/usr/bin/env python3
"""python-bench.py — the Python package on a plain queue against raw mq_send/mq_receive through ctypes.

Part "py" of `make bench` (bench/README.md): the same table as
bench/ipcbroker-bench prints, for Python. posix_ipc is not in Debian, so the
baseline B is the closest that is: the kernel's mq_send/mq_receive called
through ctypes on a plain queue with the same attributes (10 x 64 B),
blocking, receiving into a ctypes buffer and returning bytes as the package
does. X is ipcbroker.Channel.send/recv on a broker channel of a real
ipcbrokerd (started here, on a temporary socket, as the tests do).

Rows:
- one-way throughput: a sender process, the receiver times what it gets
  after a warm-up;
- ping-pong: two queues, a child echoes, the parent times each round trip
  (p50, p99);
- send+recv in one process (info): what each binding adds per call.

Rounds alternate B and X (B X, X B, ...); ratios marked * are medians of the
per-round ratios, [N pairs a-b] their quartiles. Run it through
bindings/python/run-in-tree.sh (make bench does) or with the package
installed: python3 bench/python-bench.py [--smoke] [--rounds N] [--seconds S].
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

import ipcbroker
from ipcbroker.testing import Daemon, PosixQueue

MSG = b"m" * 64
END = b"E"  # the end marker: a different length from every message
WARMUP = 2000

QUEUE = {"type": "mqueue", "max_messages": 10, "message_size": 64, "on_stop": "remove"}


# ---- the two sides, by variant ---------------------------------------------------------------------


def endpoints(variant, names, socket):
    """(send, recv, close) on each of NAMES: raw queues (kernel names) or broker channels."""
    out = []
    for name in names:
        if variant == "raw":
            q = PosixQueue(name)
            out.append((q.send, q.recv, q.close))
        else:
            ch = ipcbroker.open(name, send=True, recv=True, socket=socket)
            out.append((ch.send, ch.recv, ch.close))
    return out


def child(role, variant, socket, names, count):
    """The other process: SENDER sends WARMUP + COUNT messages then END; ECHO returns all until END."""
    eps = endpoints(variant, names, socket)
    if role == "sender":
        send = eps[0][0]
        for _ in range(WARMUP + count):
            send(MSG)
        send(END)
    else:
        (_, recv, _), (send, _, _) = eps
        while True:
            data, _ = recv()
            send(data)
            if data == END:
                break
    for _, _, close in eps:
        close()


def spawn(role, variant, socket, names, count):
    return subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), "--child", role, variant, socket, str(count), *names]
    )


# ---- measurements --------------------------------------------------------------------------------------


def throughput(variant, socket, name, count):
    """Messages a second the receiver gets from a sender process."""
    ((_, recv, close),) = endpoints(variant, [name], socket)
    p = spawn("sender", variant, socket, [name], count)
    for _ in range(WARMUP):
        recv()
    start = time.perf_counter()
    n = 0
    while recv()[0] != END:
        n += 1
    took = time.perf_counter() - start
    p.wait()
    close()
    return n / took


def pingpong(variant, socket, names, count):
    """Round-trip times in ns through an echoing child."""
    (send, _, close1), (_, recv, close2) = endpoints(variant, names, socket)
    p = spawn("echo", variant, socket, names, count)
    clock = time.perf_counter_ns
    for _ in range(WARMUP // 10):
        send(MSG)
        recv()
    times = []
    for _ in range(count):
        t = clock()
        send(MSG)
        recv()
        times.append(clock() - t)
    send(END)
    recv()
    p.wait()
    close1()
    close2()
    return times


def in_process(variant, socket, name, count):
    """send+recv pairs a second in one process (the queue never blocks)."""
    ((send, recv, close),) = endpoints(variant, [name], socket)
    start = time.perf_counter()
    for _ in range(count):
        send(MSG)
        recv()
    took = time.perf_counter() - start
    close()
    return count / took


def quantile(values, q):
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


# ---- the table (bench/bench-util.c's format) -----------------------------------------------------


def fmt(v, unit):
    if v is None:
        return "-"
    if unit == "rate":
        return f"{v / 1e6:.2f}M/s" if v >= 1e6 else f"{v / 1e3:.1f}k/s" if v >= 1e3 else f"{v:.0f}/s"
    return f"{v / 1e3:.2f} us" if v >= 1e3 else f"{v:.0f} ns"


def row(what, b, x, unit, ratios=None, target=None, smoke=False, note=""):
    """One table row; TARGET ('>=' or '<=', value) on X/B."""
    ratio = statistics.median(ratios) if ratios else (x / b if b else None)
    if target is None:
        result, tgt = "info", "-"
    else:
        tgt = f"X/B{target[0]}{target[1]:.2f}"
        ok = ratio >= target[1] if target[0] == ">=" else ratio <= target[1]
        result = "(smoke)" if smoke else "PASS" if ok else "MISS"
    r = f"{ratio:.3f}x{'*' if ratios else ''}" if ratio is not None else "-"
    spread = f"[{len(ratios)} pairs {quantile(ratios, 0.25):.2f}-{quantile(ratios, 0.75):.2f}]" if ratios else ""
    notes = " ".join(s for s in (spread, note) if s)
    print(
        f"{'py':<4} {what:<34} {'ctypes mq_send/mq_receive':<28} {fmt(b, unit):>10}  "
        f"{'ipcbroker Channel.send/recv':<28} {fmt(x, unit):>10} {r:>9}  {tgt:<24} {result:<7} {notes}",
        flush=True,
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--smoke", action="store_true", help="everything tiny (a second or two): no timing claims")
    ap.add_argument("--rounds", type=int, default=None, help="rounds per measurement and variant (default 10)")
    ap.add_argument("--messages", type=int, default=None, help="messages per throughput round (default 100000)")
    ap.add_argument("--header", action="store_true", help="print the table's header line first")
    args = ap.parse_args()
    rounds = args.rounds or (2 if args.smoke else 10)
    count = args.messages or (1000 if args.smoke else 100000)
    pings = max(100, count // 10)

    start = time.monotonic()
    with Daemon({"ping": QUEUE, "pong": QUEUE}, broker={"log_level": "notice"}) as d:
        raw = [f"/ipcbpy-bench.{os.getpid()}.{n}" for n in ("ping", "pong")]
        queues = [PosixQueue(n, create=True, max_messages=10, message_size=64) for n in raw]
        names = {"raw": raw, "lib": ["ping", "pong"]}
        try:
            tput = {"raw": [], "lib": []}
            rtt = {"raw": [], "lib": []}
            rtt_p50 = {"raw": [], "lib": []}
            local = {"raw": [], "lib": []}
            for i in range(rounds):
                order = ("raw", "lib") if i % 2 == 0 else ("lib", "raw")
                for v in order:
                    tput[v].append(throughput(v, d.socket, names[v][0], count))
                for v in order:
                    t = pingpong(v, d.socket, names[v], pings)
                    rtt[v] += t
                    rtt_p50[v].append(quantile(t, 0.5))
                for v in order:
                    local[v].append(in_process(v, d.socket, names[v][0], count))
        finally:
            for q in queues:
                q.close()

    def ratios(m):
        return [x / b for b, x in zip(m["raw"], m["lib"])]

    if args.header:
        print(
            f"{'PART':<4} {'MEASUREMENT':<34} {'BASELINE (B)':<28} {'B':>10}  {'MEASURED (X)':<28} {'X':>10} "
            f"{'X/B':>9}  {'TARGET':<24} {'RESULT':<7} NOTES"
        )
    med = statistics.median
    row("queue 64 B one-way throughput", med(tput["raw"]), med(tput["lib"]), "rate", ratios(tput), (">=", 0.90),
        args.smoke, f"{count} msgs/round, sender in another process")
    row("queue 64 B ping-pong p50", quantile(rtt["raw"], 0.5), quantile(rtt["lib"], 0.5), "ns", ratios(rtt_p50),
        ("<=", 1.11), args.smoke, f"{pings} round trips/round")
    row("queue 64 B ping-pong p99", quantile(rtt["raw"], 0.99), quantile(rtt["lib"], 0.99), "ns", smoke=args.smoke)
    row("queue 64 B send+recv, one process", med(local["raw"]), med(local["lib"]), "rate", ratios(local),
        smoke=args.smoke, note="per-call cost of each binding")
    print(f"# Python part: {sys.version.split()[0]}, posix_ipc is not in Debian: B is the kernel's "
          f"mq_send/mq_receive through ctypes; {time.monotonic() - start:.1f} s")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        role, variant, socket, count, *names = sys.argv[2:]
        child(role, variant, socket, names, int(count))
    else:
        main()
