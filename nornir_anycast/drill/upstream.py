"""A full table from the upstream: the lab's ISP announces N extra routes to an edge.

The routes are generated the way bench/deploy_bench.py always has: /32 blackholes from
100.64.0.0 up (the shared address space of RFC 6598, never the lab's own), put into the ISP's
kernel with one `ip -batch` and redistributed into BGP (`redistribute kernel`). They carry their
own routing protocol number (ROUTE_PROTO) and all lie in GENERATED (the lab uses none of it), so
removing them touches nothing else the ISP has (its default route is a blackhole too).
Announcing and withdrawing is switching the redistribution on and off, which is what an
upstream session coming up or flapping looks like to
the edge: N prefixes arriving, or leaving, at once.

The edge has converged when its BGP table holds the ISP's routes (`pfxRcd` of the session) and
zebra has them in the kernel's FIB (`routesTotalFib` of `show ip route summary json`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass

from nornir_anycast.exceptions import LabError
from nornir_anycast.lab import status as lab_status

#: The iproute2 protocol number of the generated routes (not one zebra or the lab uses).
ROUTE_PROTO = 99
#: 100.64.0.0/10 holds 4,194,304 addresses; the drill stops well below (memory: FRR's bgpd and
#: zebra each take about 600 MB per million routes, on the ISP and on the edge).
MAX_ROUTES = 2_000_000
FIRST_OCTETS = (100, 64)
GENERATED = "100.64.0.0/10"


def route_address(i: int) -> str:
    """The i-th generated prefix: 100.64.0.0/32, 100.64.0.1/32, ... (i < 4,194,304)."""
    second = FIRST_OCTETS[1] + i // 65536
    return f"{FIRST_OCTETS[0]}.{second}.{(i // 256) % 256}.{i % 256}/32"


def route_batch(count: int, *, verb: str = "add") -> str:
    """`ip -batch` input adding (or deleting) the first `count` generated routes."""
    if not 0 < count <= MAX_ROUTES:
        raise ValueError(f"count must be 1..{MAX_ROUTES}, not {count}")
    return "".join(f"route {verb} blackhole {route_address(i)} proto {ROUTE_PROTO}\n"
                   for i in range(count))


def _run(host: str, argv: list[str], *, input: str | None = None, timeout: float = 60) -> str:
    proc = lab_status.run(host, argv, input=input, timeout=timeout)
    if proc.returncode != 0:
        raise LabError(f"{host}: `{' '.join(argv[:4])}...` exited {proc.returncode}: "
                       f"{(proc.stderr or proc.stdout).strip()[-400:]}")
    return proc.stdout


def vtysh(host: str, *commands: str, timeout: float = 60) -> str:
    """Output of vtysh -c C1 -c C2 ... on a lab router."""
    argv = ["vtysh"]
    for c in commands:
        argv += ["-c", c]
    return _run(host, argv, timeout=timeout)


def vtysh_json(host: str, command: str) -> object:
    text = vtysh(host, command)
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise LabError(f"{host}: `{command}` did not answer JSON: {text.strip()[:200]}") from None


def kernel_route_count(isp: str) -> int:
    """How many generated routes the ISP's kernel holds."""
    out = _run(isp, ["sh", "-c", f"ip -4 route show root {GENERATED} | wc -l"], timeout=300)
    return int(out.strip() or 0)


def install(isp: str, count: int) -> float:
    """Put the generated routes into the ISP's kernel (once; kept until `remove`); seconds."""
    start = time.monotonic()
    have = kernel_route_count(isp)
    if have == count:
        return 0.0
    if have:
        remove(isp)
    _run(isp, ["ip", "-batch", "-"], input=route_batch(count), timeout=900)
    return time.monotonic() - start


def remove(isp: str) -> None:
    """Delete every route in GENERATED from the ISP's kernel (also one an older generator left
    with another protocol number)."""
    _run(isp, ["ip", "-4", "route", "flush", "root", GENERATED], timeout=900)


def redistribute(isp: str, asn: int, on: bool) -> float:
    """Switch the ISP's `redistribute kernel` on or off; the time (time.time()) it was sent."""
    t = time.time()
    vtysh(isp, "configure terminal", f"router bgp {asn}", "address-family ipv4 unicast",
          "redistribute kernel" if on else "no redistribute kernel")
    return t


@dataclass(frozen=True)
class EdgeTable:
    """What the edge holds: routes received from the upstream session, routes in the FIB."""

    received: int
    fib: int


def edge_table(edge: str, upstream: str) -> EdgeTable:
    """The edge's count of routes from `upstream` (its address) and of FIB routes."""
    summary = vtysh_json(edge, "show ip bgp summary json")
    peers = summary.get("ipv4Unicast", {}).get("peers", {}) if isinstance(summary, dict) else {}
    received = int(peers.get(upstream, {}).get("pfxRcd", 0))
    routes = vtysh_json(edge, "show ip route summary json")
    fib = int(routes.get("routesTotalFib", 0)) if isinstance(routes, dict) else 0
    return EdgeTable(received=received, fib=fib)


@dataclass(frozen=True)
class Convergence:
    """Seconds from the change until the edge's BGP table, and then its FIB, matched it."""

    bgp_s: float
    fib_s: float

    def as_dict(self) -> dict[str, float]:
        return {"bgp_s": self.bgp_s, "fib_s": self.fib_s}


def wait_converged(edge: str, upstream: str, *, since: float, received: int, fib: int,
                   more: bool, timeout: float, interval: float = 1.0,
                   clock: Callable[[], float] = time.time) -> Convergence:
    """Poll the edge until it holds at least (`more`) or at most (not `more`) `received` routes
    from `upstream` and `fib` FIB routes.

    Raises:
        LabError: not converged within `timeout` seconds (with what the edge held).
    """
    def reached(have: int, want: int) -> bool:
        return have >= want if more else have <= want

    bgp_s: float | None = None
    table = EdgeTable(0, 0)
    while clock() - since < timeout:
        table = edge_table(edge, upstream)
        now = clock()
        if bgp_s is None and reached(table.received, received):
            bgp_s = now - since
        if bgp_s is not None and reached(table.fib, fib):
            return Convergence(bgp_s=round(bgp_s, 2), fib_s=round(now - since, 2))
        time.sleep(interval)
    raise LabError(f"{edge} did not converge within {timeout:.0f} s: {table.received} routes "
                   f"from {upstream} (want {'>=' if more else '<='} {received}), {table.fib} in "
                   f"the FIB (want {'>=' if more else '<='} {fib})")


def settle(edge: str, upstream: str, *, timeout: float, interval: float = 1.0) -> EdgeTable:
    """Wait until two readings of the edge's table in a row agree; that table.

    Raises:
        LabError: still changing after `timeout` seconds.
    """
    start = time.monotonic()
    last = edge_table(edge, upstream)
    while time.monotonic() - start < timeout:
        time.sleep(interval)
        now = edge_table(edge, upstream)
        if now == last:
            return now
        last = now
    raise LabError(f"{edge}'s routing table was still changing after {timeout:.0f} s "
                   f"({last.received} routes from {upstream}, {last.fib} in the FIB)")


def peak_memory_kb(host: str, names: tuple[str, ...]) -> dict[str, int]:
    """Peak resident memory (VmHWM, kB) of each named process running in `host`."""
    script = ("for n in " + " ".join(names) + "; do for p in $(pidof $n); do "
              "echo $n $(awk '/^VmHWM/ {print $2}' /proc/$p/status); done; done")
    out: dict[str, int] = {}
    for line in _run(host, ["sh", "-c", script]).splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit():
            out[parts[0]] = max(out.get(parts[0], 0), int(parts[1]))
    return out
