"""The drill's route poller: which next hops the kernel has for a prefix, sampled every few ms.

    python -m nornir_anycast.drill.poll PREFIX INTERVAL_MS DURATION_S

Run inside the edge's namespaces. Every INTERVAL_MS it asks `ip -j route show PREFIX` (one
long-lived `ip -batch` process answers every sample) and prints a JSON line {"t", "prev_t",
"hops"} whenever the set of next-hop addresses changes (and for the first sample); `prev_t` is
the previous sample's time, so a change happened between `prev_t` and `t`. The last line is
{"samples", "max_gap_ms", "end"}. Stops by itself after
DURATION_S. Times are time.time(). Standard library and iproute2 only.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time


class RouteReader:
    """One long-lived `ip -j -batch -` process: each query is a line in, a JSON line out, with
    no process started per sample (a fork per sample left gaps of 24-138 ms on a loaded machine;
    this answers in well under a millisecond)."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(["ip", "-j", "-batch", "-"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, bufsize=1)

    def next_hops(self, prefix: str) -> list[str]:
        """The next-hop addresses of the kernel's route to `prefix` (empty when there is none)."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(f"route show {prefix}\n")
        self.proc.stdin.flush()
        return hops_of(json.loads(self.proc.stdout.readline() or "[]"))

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait(timeout=5)


def hops_of(routes: list[dict[str, object]]) -> list[str]:
    """Next-hop addresses of `ip -j route show` output."""
    hops: set[str] = set()
    for route in routes:
        if route.get("gateway"):
            hops.add(str(route["gateway"]))
        nexthops = route.get("nexthops") or []
        assert isinstance(nexthops, list)
        for nh in nexthops:
            if nh.get("gateway"):
                hops.add(str(nh["gateway"]))
    return sorted(hops)


def next_hops(prefix: str) -> list[str]:
    """One-off query (a process of its own): the next hops of the kernel's route to `prefix`."""
    out = subprocess.run(["ip", "-j", "route", "show", prefix], capture_output=True, text=True,
                         check=False, timeout=5).stdout
    return hops_of(json.loads(out or "[]"))


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print("usage: python -m nornir_anycast.drill.poll PREFIX INTERVAL_MS DURATION_S",
              file=sys.stderr)
        return 2
    prefix, interval, duration = argv[0], float(argv[1]) / 1000, min(float(argv[2]), 900.0)
    end = time.time() + duration
    last: list[str] | None = None
    prev_t: float | None = None
    samples = 0
    max_gap = 0.0
    tick = time.time()
    reader = RouteReader()
    while True:
        t = time.time()
        if t >= end:
            break
        hops = reader.next_hops(prefix)
        samples += 1
        if prev_t is not None:
            max_gap = max(max_gap, t - prev_t)
        if hops != last:
            print(json.dumps({"t": t, "prev_t": prev_t, "hops": hops}), flush=True)
            last = hops
        prev_t = t
        tick += interval
        delay = tick - time.time()
        if delay > 0:
            time.sleep(delay)
        else:
            tick = time.time()
    reader.close()
    print(json.dumps({"samples": samples, "max_gap_ms": round(max_gap * 1000, 2),
                      "end": time.time()}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
