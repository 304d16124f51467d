"""`drill EDGE --mode full-table`: the upstream sends a full table, under the usual HTTP load.

Timeline: a quiet verify (timed: the reference); the ISP's kernel gets N generated routes
(nornir_anycast.drill.upstream; not part of the clock, the upstream's own business); the edge's
counters are read (BFD session-down events per server peer from `show bfd peers counters`, BGP
connections dropped per server neighbor from `show ip bgp neighbors`); the load starts (the
crash drills' generator, stopped when the drill is done); then three phases, each timed until
the edge has converged: announce (N routes arrive at once, as when an upstream session comes
up; one verify runs while they arrive), withdraw (they all leave: the upstream session flaps)
and announce again. Once converged, verify is timed again; the counters are read again; the
load stops; the ISP withdraws the routes, the edge drops them, the ISP's kernel forgets them.

Every down event counted on a server session is a false alarm: no server failed.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from nornir.core import Nornir

from nornir_anycast.design.model import Design, HostModel
from nornir_anycast.drill import upstream
from nornir_anycast.drill.runner import LOAD_SCRIPT, _bad, _target, lab_host, script_argv
from nornir_anycast.exceptions import LabError
from nornir_anycast.lab import hosts as lab_hosts
from nornir_anycast.lab import status as lab_status
from nornir_anycast.parsing import parse_output
from nornir_anycast.parsing.counters import session_counters

MODE = "full-table"
DEFAULT_ROUTES = 1_000_000
#: verify once the edge has converged: at most this many times its quiet duration.
VERIFY_RATIO_TARGET = 1.5
#: The load runs until the drill stops it; this only bounds a drill that hangs.
LOAD_CAP_S = 600.0
PHASES = ("announce", "withdraw", "announce_again")
REPORT_KEYS = ("mode", "host", "routes", "duration_s", "requests_sent", "requests_failed",
               "outage_ms", "server_bgp_down_events", "server_bfd_down_events", "sessions",
               "converge_s", "peak_memory_kb", "verify_quiet_s", "verify_during_s",
               "verify_after_s", "verify_after_ratio", "long_lived_total", "long_lived_broken",
               "target", "met")


@dataclass(frozen=True)
class Upstream:
    """The edge's session to the lab's ISP: who announces the table."""

    isp: str
    isp_asn: int
    address: str  # the ISP's address, as the edge's neighbor


@dataclass
class FullTableOutcome:
    """The report (`--json`) and what the terminal summary also tells."""

    report: dict[str, Any]
    target_url: str
    install_s: float
    errors: dict[str, int]
    verify_ok: bool = False
    verify_failures: list[str] = field(default_factory=list)
    cleanup: list[str] = field(default_factory=list)


def upstream_of(edge: HostModel, design: Design) -> Upstream:
    """The ISP session of `edge` (its first eBGP neighbor owned by an ISP lab host)."""
    for nb in edge.bgp.neighbors:
        owner = design.owner_of(nb.address)
        if owner is not None and owner.role == "isp" and owner.asn is not None:
            return Upstream(isp=owner.name, isp_asn=owner.asn, address=nb.address)
    raise _bad(edge.name, "bgp.neighbors", [n.address for n in edge.bgp.neighbors],
               "no BGP session to an ISP host of the inventory: nothing can send a full table")


def server_peers(edge: HostModel, design: Design) -> dict[str, str]:
    """{neighbor address: server name} of the edge's sessions to servers."""
    out: dict[str, str] = {}
    for nb in edge.bgp.neighbors:
        owner = design.owner_of(nb.address)
        if owner is not None and owner.role == "server":
            out[nb.address] = owner.name
    return out


def read_counters(edge: HostModel) -> dict[str, dict[str, int | None]]:
    """{peer address: {"bfd_down", "bgp_dropped"}} from the edge's own counters."""
    bgp = parse_output("frr", "show ip bgp neighbors json",
                       upstream.vtysh(edge.name, "show ip bgp neighbors json"))
    bfd = None
    if edge.bfd.enabled:
        bfd = parse_output("frr", "show bfd peers counters",
                           upstream.vtysh(edge.name, "show bfd peers counters"))
    counters = session_counters(bfd=bfd, bgp=bgp)
    return {peer: {"bfd_down": c["bfd_down"], "bgp_dropped": c["bgp_dropped"]}
            for peer, c in counters.items()}


def counter_deltas(before: Mapping[str, Mapping[str, int | None]],
                   after: Mapping[str, Mapping[str, int | None]],
                   peers: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """Per server session: how many BFD down events and BGP drops happened between the two
    readings (None where a counter is missing; a counter that went back, a restarted daemon,
    counts from zero)."""
    out: dict[str, dict[str, Any]] = {}
    for address, name in sorted(peers.items()):
        row: dict[str, Any] = {"server": name}
        for key in ("bfd_down", "bgp_dropped"):
            b = (before.get(address) or {}).get(key)
            a = (after.get(address) or {}).get(key)
            row[key] = None if a is None else (a if b is None or a < b else a - b)
        out[address] = row
    return out


def _spawn_load(client: str, spec: Mapping[str, Any]) -> subprocess.Popen[str]:
    lab_host, pid = lab_status.resolve(client)
    return subprocess.Popen(
        lab_hosts.nsenter_argv(pid, script_argv(LOAD_SCRIPT, json.dumps(dict(spec)))),
        env=lab_hosts.host_env(lab_host), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        stdin=subprocess.PIPE, text=True)


def _timed_verify(nr: Nornir, design: Design) -> tuple[float, bool, list[str]]:
    from nornir_anycast.verify.runner import run_verify

    start = time.monotonic()
    try:
        report = run_verify(nr, design)
    finally:
        nr.close_connections()
    failures = [f"{c['host']} {c['name']}: {c['message']}" for c in report.checks
                if not c["passed"]]
    return round(time.monotonic() - start, 3), report.ok, failures


class _Waiter(threading.Thread):
    """upstream.wait_converged in a thread (verify runs meanwhile)."""

    def __init__(self, edge: str, address: str, **kwargs: Any) -> None:
        super().__init__(daemon=True)
        self.args = (edge, address)
        self.kwargs = kwargs
        self.result: upstream.Convergence | None = None
        self.error: LabError | None = None

    def run(self) -> None:
        try:
            self.result = upstream.wait_converged(*self.args, **self.kwargs)
        except LabError as exc:
            self.error = exc


def targets(report: Mapping[str, Any]) -> dict[str, Any]:
    """The issue's targets for one full-table drill, each {"value", "target", "met"}."""
    ratio = report.get("verify_after_ratio")
    return {
        "server_bgp_down_events": {"value": report["server_bgp_down_events"], "target": 0,
                                   "met": report["server_bgp_down_events"] == 0},
        "server_bfd_down_events": {"value": report["server_bfd_down_events"], "target": 0,
                                   "met": report["server_bfd_down_events"] == 0},
        "requests_failed": {"value": report["requests_failed"], "target": 0,
                            "met": report["requests_failed"] == 0},
        "verify_after_ratio": {"value": ratio, "target": VERIFY_RATIO_TARGET,
                               "met": ratio is not None and ratio <= VERIFY_RATIO_TARGET},
    }


def _sum(deltas: Mapping[str, Mapping[str, Any]], key: str) -> int:
    return sum(int(row[key] or 0) for row in deltas.values())


def build_report(*, host: str, routes: int, duration_s: float, load: Mapping[str, Any],
                 deltas: dict[str, dict[str, Any]], converge: dict[str, dict[str, float]],
                 memory: dict[str, dict[str, int]], verify_quiet_s: float,
                 verify_during_s: float | None, verify_after_s: float | None) -> dict[str, Any]:
    """The drill's JSON report (REPORT_KEYS), from the load's records and the readings."""
    short = load.get("short", [])
    failed = [r for r in short if not r.get("ok")]
    t_start = float(load.get("start", 0.0))
    outage = 0.0
    if failed:
        outage = round((max(float(r["t0"]) for r in failed)
                        - min(float(r["t0"]) for r in failed)) * 1000.0, 1)
    long_lived = load.get("long_lived", [])
    report: dict[str, Any] = {
        "mode": MODE, "host": host, "routes": routes, "duration_s": round(duration_s, 1),
        "requests_sent": len(short), "requests_failed": len(failed),
        "outage_ms": outage,
        "first_failure_at_s": (round(min(float(r["t0"]) for r in failed) - t_start, 3)
                               if failed else None),
        "server_bgp_down_events": _sum(deltas, "bgp_dropped"),
        "server_bfd_down_events": _sum(deltas, "bfd_down"),
        "sessions": deltas, "converge_s": converge, "peak_memory_kb": memory,
        "verify_quiet_s": verify_quiet_s, "verify_during_s": verify_during_s,
        "verify_after_s": verify_after_s,
        "verify_after_ratio": (round(verify_after_s / verify_quiet_s, 3)
                               if verify_after_s is not None and verify_quiet_s else None),
        "long_lived_total": len(long_lived),
        "long_lived_broken": sum(1 for r in long_lived if r.get("broken")),
    }
    report["target"] = targets(report)
    report["met"] = all(t["met"] for t in report["target"].values())
    return report


def _check(design: Design, host: str, routes: int) -> tuple[HostModel, Upstream, HostModel]:
    me = lab_host(design, host, "edge", "a full-table drill runs on an edge")
    if me.platform != "frr":
        raise _bad(host, "platform", me.platform, "the full-table drill reads FRR's counters "
                   "over vtysh: a lab edge runs FRR")
    if not 1 <= routes <= upstream.MAX_ROUTES:
        raise _bad(host, "--routes", routes, f"must be 1..{upstream.MAX_ROUTES:,}")
    up = upstream_of(me, design)
    client = next(iter(design.by_role("client")), None)
    if client is None:
        raise _bad(host, "role", "client", "the inventory has no client to send load from")
    return me, up, client


def run_full_table_drill(nr: Nornir, design: Design, host: str, *,
                         routes: int = DEFAULT_ROUTES, rate: float = 100.0,
                         long_lived: int = 8, converge_timeout: float = 900.0,
                         on_step: Callable[[str], None] | None = None,
                         during: Callable[[], None] | None = None,
                         keep_routes: bool = False) -> FullTableOutcome:
    """Run the drill (module docstring); `during`, when given, runs once right after the first
    announcement (the BFD sweep crashes a server there); `keep_routes` leaves the generated
    routes in the ISP's kernel (withdrawn from BGP) for the next drill.

    Raises:
        InventoryError: `host` is not a lab FRR edge with an ISP session, or `routes` is out of
            range (exit 2).
        LabError: the lab misbehaved (not healthy before the drill, did not converge).
    """
    step = on_step or (lambda _msg: None)
    me, up, client = _check(design, host, routes)
    peers = server_peers(me, design)
    service = next((s for s in design.services if s.edge == host), None)
    if service is None:
        raise _bad(host, "anycast", [], "no anycast service behind this edge")
    address, port = _target(design, service)
    sources = [str(i.ip) for itf in client.interfaces for i in itf.interfaces()]

    step("verify (quiet)")
    quiet_s, ok, failures = _timed_verify(nr, design)
    if not ok:
        raise LabError("the lab does not pass verify before the drill: "
                       + "; ".join(failures[:5]))
    if upstream.kernel_route_count(up.isp):  # left by a drill that did not finish
        step(f"{up.isp}: withdrawing generated routes a previous drill left")
        upstream.redistribute(up.isp, up.isp_asn, False)
    before_table = upstream.settle(host, up.address, timeout=converge_timeout)
    step(f"{up.isp}: {routes:,} generated routes into its kernel")
    install_s = upstream.install(up.isp, routes)
    try:
        return _drill(nr, design, me, up, client.name, peers, routes, before_table, install_s,
                      address=address, port=port, sources=sources, rate=rate,
                      long_lived=long_lived, converge_timeout=converge_timeout, step=step,
                      during=during, keep_routes=keep_routes, quiet_s=quiet_s)
    except BaseException:
        step(f"the drill failed: {up.isp} withdraws the generated routes")
        upstream.redistribute(up.isp, up.isp_asn, False)
        if not keep_routes:
            upstream.remove(up.isp)
        raise


def _drill(nr: Nornir, design: Design, me: HostModel, up: Upstream, client: str,
           peers: dict[str, str], routes: int, before_table: upstream.EdgeTable,
           install_s: float, *, address: str, port: int, sources: list[str], rate: float,
           long_lived: int, converge_timeout: float, step: Callable[[str], None],
           during: Callable[[], None] | None, keep_routes: bool,
           quiet_s: float) -> FullTableOutcome:
    host = me.name
    before = read_counters(me)
    spec = {"address": address, "port": port, "path": "/file", "sources": sources,
            "duration_s": LOAD_CAP_S, "rate": rate, "workers": 24, "long_lived": long_lived,
            "long_interval_ms": [50, 100], "connect_timeout_s": 0.2, "read_timeout_s": 1.0,
            "stop_on_eof": True}
    step(f"load: {rate:.0f} new connections/s + {long_lived} keep-alive connections to "
         f"http://{address}:{port}/file from {', '.join(sources)}")
    loader = _spawn_load(client, spec)
    converge: dict[str, dict[str, float]] = {}
    verify_during: float | None = None
    verify_after: float | None = None
    start = time.monotonic()
    load_out = ""
    try:
        assert loader.stdout is not None and loader.stdin is not None
        if not loader.stdout.readline():
            raise LabError("the load generator did not start")
        time.sleep(2.0)
        full = {"received": before_table.received + routes, "fib": before_table.fib + routes}
        empty = {"received": before_table.received, "fib": before_table.fib}
        for phase in PHASES:
            on = phase != "withdraw"
            step(f"{phase}: {up.isp} {'announces' if on else 'withdraws'} {routes:,} routes")
            t0 = upstream.redistribute(up.isp, up.isp_asn, on)
            waiter = _Waiter(host, up.address, since=t0, more=on, timeout=converge_timeout,
                             **(full if on else empty))
            waiter.start()
            if phase == "announce":
                if during is not None:
                    during()
                step("verify while the routes arrive")
                verify_during = _timed_verify(nr, design)[0]
            waiter.join()
            if waiter.error is not None:
                raise waiter.error
            assert waiter.result is not None
            converge[phase] = waiter.result.as_dict()
        step("verify (converged, full table)")
        verify_after = _timed_verify(nr, design)[0]
        time.sleep(1.0)
    finally:
        try:  # closing its stdin (communicate does) stops the load
            load_out, err = loader.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            loader.kill()
            load_out, err = loader.communicate()
        duration = time.monotonic() - start
    after = read_counters(me)
    memory = {host: upstream.peak_memory_kb(host, ("bgpd", "zebra", "bfdd"))}
    for name in sorted(set(peers.values())):
        memory[name] = upstream.peak_memory_kb(name, ("bird",))
    lines = [ln for ln in load_out.splitlines() if ln.strip()]
    if loader.returncode != 0 or not lines:  # ("started" was read already)
        raise LabError(f"the load generator exited {loader.returncode}: {err.strip()[-500:]}")
    load = json.loads(lines[-1])
    report = build_report(host=host, routes=routes, duration_s=duration, load=load,
                          deltas=counter_deltas(before, after, peers), converge=converge,
                          memory=memory, verify_quiet_s=quiet_s,
                          verify_during_s=verify_during, verify_after_s=verify_after)
    errors: dict[str, int] = {}
    for r in load["short"]:
        if not r["ok"]:
            errors[str(r["error"])] = errors.get(str(r["error"]), 0) + 1
    outcome = FullTableOutcome(report=report, target_url=f"http://{address}:{port}/file",
                               install_s=round(install_s, 1), errors=errors)
    outcome.cleanup = cleanup(me, up, before_table, converge_timeout, step,
                              keep_routes=keep_routes)
    step("verify after the drill")
    _, outcome.verify_ok, outcome.verify_failures = _timed_verify(nr, design)
    return outcome


def cleanup(me: HostModel, up: Upstream, empty: upstream.EdgeTable, timeout: float,
            step: Callable[[str], None], *, keep_routes: bool = False) -> list[str]:
    """The ISP withdraws the generated routes, the edge drops them, the ISP's kernel forgets
    them; what was done, in words."""
    step(f"clean up: {up.isp} withdraws the generated routes")
    t0 = upstream.redistribute(up.isp, up.isp_asn, False)
    upstream.wait_converged(me.name, up.address, since=t0, received=empty.received,
                            fib=empty.fib, more=False, timeout=timeout)
    if not keep_routes:
        upstream.remove(up.isp)
    return [f"{up.isp} withdrew the generated routes"
            + ("" if keep_routes else " and removed them from its kernel")
            + f"; {me.name} holds {empty.received} routes from {up.address} again"]
