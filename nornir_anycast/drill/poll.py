"""The drill's route poller: which next hops the kernel has for a prefix, sampled every few ms.

    python -m nornir_anycast.drill.poll PREFIX INTERVAL_MS DURATION_S

Run inside the edge's namespaces. Every INTERVAL_MS it runs `ip -j route show PREFIX` and
prints a JSON line {"t", "prev_t", "hops"} whenever the set of next-hop addresses changes (and
for the first sample); `prev_t` is the previous sample's time, so a change happened between
`prev_t` and `t`. The last line is {"samples", "max_gap_ms", "end"}. Stops by itself after
DURATION_S. Times are time.time(). Standard library and iproute2 only.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time


def next_hops(prefix: str) -> list[str]:
    """The next-hop addresses of the kernel's route to `prefix` (empty when there is none)."""
    out = subprocess.run(["ip", "-j", "route", "show", prefix], capture_output=True, text=True,
                         check=False, timeout=5).stdout
    hops: set[str] = set()
    for route in json.loads(out or "[]"):
        if route.get("gateway"):
            hops.add(str(route["gateway"]))
        for nh in route.get("nexthops", []) or []:
            if nh.get("gateway"):
                hops.add(str(nh["gateway"]))
    return sorted(hops)


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
    while True:
        t = time.time()
        if t >= end:
            break
        hops = next_hops(prefix)
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
    print(json.dumps({"samples": samples, "max_gap_ms": round(max_gap * 1000, 2),
                      "end": time.time()}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
