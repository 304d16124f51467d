"""Issue 13's drills on sites: an edge router crashing, a whole site going dark.

edge-crash (HOST: an edge of a site with two or more edges): every link of the edge is cut
with no goodbye (drill.faults: its switch port, and its point-to-point links to the upstream
dropped on both ends by nftables netdev ingress chains, no carrier change) while the load runs
from the site's client. Pollers watch the upstream's kernel route for the anycast prefix (the
report's `kernel_drop_ms`: when it lost the edge's next hop) and each of the site's servers'
default route (when it lost the edge's LAN address: BIRD's static multipath default with BFD).

site-down (HOST: a site): every server of the site crashed at once (their switch ports cut in
one nftables table). The site's clients must be served by the next site: one load generator
per client of the site, a poller on each upstream the site's clients sit behind (when its
route lost every edge of the dead site). One report per client (REPORT_KEYS + `client`).

Both restore everything (tables removed), then verify runs until it passes, as in every drill.
"""

from __future__ import annotations

import ipaddress
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from nornir.core import Nornir

from nornir_anycast.design.ecmp import derive_upstream_routes, with_drained
from nornir_anycast.design.model import Design, HostModel
from nornir_anycast.design.sites import peers
from nornir_anycast.drill import faults, measure
from nornir_anycast.drill.runner import (
    DEFAULT_LONG_LIVED,
    DEFAULT_RATE,
    LOAD_SCRIPT,
    MAX_DURATION_S,
    MIN_DURATION_S,
    POLL_INTERVAL_MS,
    POLL_SCRIPT,
    _bad,
    _finish,
    _spawn,
    script_argv,
    verify_result,
)
from nornir_anycast.exceptions import LabError
from nornir_anycast.verify.checks.isp import exports_anycast


@dataclass
class ClientFigures:
    """One client's load during a site drill, beside its report."""

    client: str
    report: dict[str, Any]
    errors: dict[str, int]
    last_second_requests: int
    last_second_failed: int
    served_after: dict[str, int]  # ok requests started after the fault, by answering page


@dataclass
class SiteDrillOutcome:
    """What an edge-crash or site-down drill measured (reports: one per client)."""

    mode: str
    host: str
    prefix: str
    target: str
    bfd: bool
    bfd_detect_ms: float | None
    fault_at_s: float
    fault_apply_ms: float
    upstream: str  # whose kernel route `kernel_drop_ms` watches
    gone_hops: list[str]  # the next hops that route had to lose
    clients: list[ClientFigures]
    #: edge-crash: per server of the site, ms from the fault to its default route without the
    #: edge (None: kept it until the end of the drill)
    server_default_drop_ms: dict[str, float | None] = field(default_factory=dict)
    restore: list[str] = field(default_factory=list)
    verify_ok: bool = False
    verify_failures: list[str] = field(default_factory=list)

    @property
    def reports(self) -> list[dict[str, Any]]:
        return [c.report for c in self.clients]

    @property
    def met(self) -> bool:
        return all(c.report["met"] for c in self.clients)

    def json_report(self) -> dict[str, Any] | list[dict[str, Any]]:
        """What `--json` writes: edge-crash one report (REPORT_KEYS), site-down a list of
        reports, one per client (SITE_DOWN_KEYS)."""
        return self.reports[0] if self.mode == "edge-crash" else self.reports


@dataclass
class _Plan:
    mode: str
    host: str
    prefix: str
    address: str
    clients: list[HostModel]
    upstreams: dict[str, list[str]]  # upstream name -> next hops its route must lose
    pages: set[str]  # servers counted as "the host" for long-lived connections
    other_pages: set[str]  # servers that must answer after a site-down
    cut: list[str]  # lab hosts whose links are cut
    switch_only: bool
    server_polls: dict[str, str]  # server -> the edge LAN address its default must lose
    bfd: bool
    bfd_detect_ms: float | None
    hold_ms: float
    keepalive_ms: float
    restore_hosts: list[str] = field(default_factory=list)


def _sites(design: Design) -> dict[str, list[HostModel]]:
    out: dict[str, list[HostModel]] = {}
    for h in design.hosts.values():
        if h.site is not None:
            out.setdefault(h.site, []).append(h)
    return out


def _prefix_of(design: Design, edges: list[HostModel]) -> str:
    """The site's IPv4 anycast prefix the clients can reach (the load is IPv4)."""
    names = {e.name for e in edges}
    for s in design.services:
        if s.edge in names and ":" not in s.prefix and exports_anycast(design.hosts[s.edge]):
            return s.prefix
    raise _bad(edges[0].name, "anycast", [], "no IPv4 anycast prefix of this site reaches the "
               "upstreams (nothing for the clients' load)")


def _same_family(address: str, prefix: str) -> bool:
    return ipaddress.ip_address(address).version == ipaddress.ip_network(prefix).version


def _detect(hosts: list[HostModel]) -> float:
    return float(max(h.bfd.interval_ms * h.bfd.multiplier for h in hosts))


def _lab(h: HostModel) -> None:
    if not h.lab:
        raise _bad(h.name, "lab", h.lab, "drills run on the built-in lab only")


def plan_edge_crash(design: Design, host: str) -> _Plan:
    """What an edge-crash drill on `host` cuts and watches; InventoryError (host, field and
    value named) when `host` is not an edge of a site with two or more edges."""
    me = design.hosts.get(host)
    if me is None or me.role != "edge":
        names = ", ".join(h.name for h in design.by_role("edge"))
        raise _bad(host, "HOST", host, f"not an edge of the inventory; edges: {names}")
    _lab(me)
    edges = [e for e in design.by_role("edge") if e.site == me.site]
    if me.site is None or len(edges) < 2:
        raise _bad(host, "site", me.site, f"edge-crash needs a site with two or more edges "
                   f"(site {me.site or '(none)'} has {len(edges)}): nothing would take over")
    prefix = _prefix_of(design, [me])
    upstream_hops: dict[str, list[str]] = {}
    for route in derive_upstream_routes(design):
        if route.prefix != prefix:
            continue
        mine = [a for _, a, peer in peers(design, design.hosts[route.upstream])
                if peer.name == host and a in route.next_hops and _same_family(a, prefix)]
        if mine:
            upstream_hops[route.upstream] = mine
    if not upstream_hops:
        raise _bad(host, "bgp.neighbors", [n.address for n in me.bgp.neighbors],
                   "no upstream forwards the anycast prefix to this edge: nothing to move")
    clients = [c for c in design.by_role("client") if c.site == me.site]
    if not clients:
        raise _bad(host, "site", me.site, "the site has no client to send load from")
    servers = [s for s in design.by_role("server") if s.site == me.site]
    lan = {str(i.ip) for itf in me.interfaces for i in itf.interfaces()}
    polls = {}
    for s in servers:
        gws = [g for itf in s.interfaces for g in itf.gateways() if str(g) in lan]
        if gws:
            polls[s.name] = str(gws[0])
    upstreams = [design.hosts[u] for u in upstream_hops]
    bfd_hosts = [me, *upstreams, *servers]
    bfd = all(h.bfd.enabled for h in bfd_hosts)
    return _Plan(
        mode="edge-crash", host=host, prefix=prefix, address=prefix.split("/")[0],
        clients=clients, upstreams=upstream_hops,
        pages={s.page_text for s in servers}, other_pages=set(), cut=[host],
        switch_only=False, server_polls=polls, bfd=bfd,
        bfd_detect_ms=_detect(bfd_hosts) if bfd else None,
        hold_ms=min(h.bgp_timers.hold for h in [me, *upstreams]) * 1000.0,
        keepalive_ms=min(h.bgp_timers.keepalive for h in [me, *upstreams]) * 1000.0)


def plan_site_down(design: Design, site: str) -> _Plan:
    """What a site-down drill on `site` cuts and watches; InventoryError when `site` is not a
    site of the inventory, or no other site could take over."""
    sites = _sites(design)
    if site not in sites:
        raise _bad(site, "site", site, f"not a site of the inventory; sites: "
                   f"{', '.join(sorted(sites)) or '(none)'}")
    servers = [h for h in sites[site] if h.role == "server"]
    edges = [h for h in sites[site] if h.role == "edge"]
    for h in servers:
        _lab(h)
    if not servers or not edges:
        raise _bad(site, "site", site, "the site has no servers or no edge: nothing to take down")
    prefix = _prefix_of(design, edges)
    others = [s for s in design.by_role("server") if s.site not in (site, None)
              and any(a.prefix == prefix for a in s.anycast)]
    if not others:
        raise _bad(site, "site", site, "no other site announces the prefix: nobody could take "
                   "over (site-down needs two or more sites)")
    clients = [c for c in design.by_role("client") if c.site == site]
    if not clients:
        raise _bad(site, "site", site, "the site has no client to send load from")
    edge_names = {e.name for e in edges}
    after = {r.upstream: r for r in derive_upstream_routes(
        with_drained(design, [s.name for s in servers])) if r.prefix == prefix}
    upstream_hops: dict[str, list[str]] = {}
    for route in derive_upstream_routes(design):
        if route.prefix != prefix:
            continue
        dead = [a for _, a, peer in peers(design, design.hosts[route.upstream])
                if peer.name in edge_names and a in route.next_hops
                and _same_family(a, prefix)]
        if dead and after[route.upstream].next_hops:
            upstream_hops[route.upstream] = dead
    if not upstream_hops:
        raise _bad(site, "site", site, "no upstream forwards the prefix to this site and could "
                   "forward it elsewhere: nothing to move")
    bfd_hosts = [*servers, *edges]
    bfd = all(h.bfd.enabled for h in bfd_hosts)
    return _Plan(
        mode="site-down", host=site, prefix=prefix, address=prefix.split("/")[0],
        clients=clients, upstreams=upstream_hops, pages={s.page_text for s in servers},
        other_pages={s.page_text for s in others}, cut=[s.name for s in servers],
        switch_only=True, server_polls={}, bfd=bfd,
        bfd_detect_ms=_detect(bfd_hosts) if bfd else None,
        hold_ms=min(h.bgp_timers.hold for h in bfd_hosts) * 1000.0,
        keepalive_ms=min(h.bgp_timers.keepalive for h in bfd_hosts) * 1000.0)


def _poll_lines(out: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    lines = [json.loads(ln) for ln in out.splitlines() if ln.strip()]
    return ([ln for ln in lines if "hops" in ln],
            next((ln for ln in lines if "samples" in ln), {}))


def _client_upstream(design: Design, client: HostModel, plan: _Plan) -> str | None:
    """The watched upstream whose LAN the client's default gateway is on, if any."""
    for itf in client.interfaces:
        for gw in itf.gateways():
            owner = design.owner_of(gw)
            if owner is not None and owner.name in plan.upstreams:
                return owner.name
    return None


def restore(plan: _Plan) -> list[str]:
    """Remove the drill's drop tables (also after a half-finished drill); what was done."""
    return [f"links forward again in {ns}" for ns in faults.restore_links(plan.cut)]


def run_site_drill(nr: Nornir, design: Design, host: str, mode: str, *,
                   duration_s: float = 10.0, rate: float = DEFAULT_RATE,
                   long_lived: int = DEFAULT_LONG_LIVED, verify_wait: float = 90.0,
                   on_step: Callable[[str], None] | None = None) -> SiteDrillOutcome:
    """Run an edge-crash (HOST an edge) or site-down (HOST a site) drill: load from the
    site's client(s), the fault, figures, restore, verify.

    Raises:
        InventoryError: bad HOST, mode or duration (host, field and value named; exit 2),
            before anything is touched.
        LabError: the lab misbehaved.
    """
    step = on_step or (lambda _msg: None)
    if mode not in measure.SITE_MODES:
        raise _bad(host, "--mode", mode, f"one of {', '.join(measure.SITE_MODES)}")
    if not MIN_DURATION_S <= duration_s <= MAX_DURATION_S:
        raise _bad(host, "--duration", duration_s,
                   f"must be {MIN_DURATION_S:.0f}..{MAX_DURATION_S:.0f} seconds")
    plan = plan_edge_crash(design, host) if mode == "edge-crash" else plan_site_down(design, host)
    warmup = min(2.0, duration_s / 3)
    restore(plan)  # an interrupted drill must not skew this one
    pollers = {u: _spawn(u, script_argv(POLL_SCRIPT, plan.prefix, str(POLL_INTERVAL_MS),
                                        str(duration_s + 3))) for u in plan.upstreams}
    server_pollers = {s: _spawn(s, script_argv(POLL_SCRIPT, "0.0.0.0/0", str(POLL_INTERVAL_MS),
                                               str(duration_s + 3))) for s in plan.server_polls}
    loaders = {}
    for c in plan.clients:
        sources = [str(i.ip) for itf in c.interfaces for i in itf.interfaces()
                   if i.version == 4]
        spec = {"address": plan.address, "port": 80, "path": "/file", "sources": sources,
                "duration_s": duration_s, "rate": rate, "workers": 24,
                "long_lived": long_lived, "long_interval_ms": [50, 100],
                "connect_timeout_s": 0.2, "read_timeout_s": 1.0}
        step(f"load: {rate:.0f} new connections/s + {long_lived} keep-alive connections to "
             f"http://{plan.address}/file from {c.name} ({', '.join(sources)}) for "
             f"{duration_s:.0f} s")
        loaders[c.name] = _spawn(c.name, script_argv(LOAD_SCRIPT, json.dumps(spec)))
    procs = [*pollers.values(), *server_pollers.values(), *loaders.values()]
    t_fault = 0.0
    apply_ms = 0.0
    loads: dict[str, Any] = {}
    polls: dict[str, str] = {}
    spolls: dict[str, str] = {}
    try:
        started = []
        for name, loader in loaders.items():
            assert loader.stdout is not None
            first = loader.stdout.readline()
            if not first:
                raise LabError(f"the load generator on {name} did not start: "
                               f"{_finish(loader, 'load', 10)}")
            started.append(float(json.loads(first)["started"]))
        time.sleep(max(0.0, max(started) + warmup - time.time()))
        step(f"fault: {mode} on {host} (cut: {', '.join(plan.cut)})")
        t_fault = faults.cut_links(plan.cut, switch_only=plan.switch_only)
        apply_ms = round((time.time() - t_fault) * 1000, 1)
        for name, loader in loaders.items():
            loads[name] = json.loads(_finish(loader, f"load generator on {name}",
                                             duration_s + 30).strip().splitlines()[-1])
        for name, poller in pollers.items():
            polls[name] = _finish(poller, f"route poller on {name}", duration_s + 30)
        for name, poller in server_pollers.items():
            spolls[name] = _finish(poller, f"route poller on {name}", duration_s + 30)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.communicate()
        step(f"restore {host}")
        restored = restore(plan)
    first_up = next(iter(plan.upstreams))
    first_load = loads[plan.clients[0].name]
    clients = []
    for c in plan.clients:
        load = loads[c.name]
        upstream = _client_upstream(design, c, plan) or first_up
        changes, _ = _poll_lines(polls[upstream])
        report, _ = measure.build_report(
            mode=mode, host=host, host_page=plan.pages, duration_s=duration_s, t_fault=t_fault,
            next_hop=plan.upstreams[upstream], load=load, changes=changes, bfd=plan.bfd,
            hold_ms=plan.hold_ms, keepalive_ms=plan.keepalive_ms,
            bfd_detect_ms=plan.bfd_detect_ms, client=c.name if mode == "site-down" else None)
        if mode == "site-down":
            report["met"] = report["met"] and bool(measure.served_after(
                load["short"], t_fault, plan.other_pages))
        errors: dict[str, int] = {}
        for r in load["short"]:
            if not r["ok"]:
                errors[str(r["error"])] = errors.get(str(r["error"]), 0) + 1
        tail = [r for r in load["short"] if r["t0"] >= load["end"] - 1.0]
        clients.append(ClientFigures(
            client=c.name, report=report, errors=errors, last_second_requests=len(tail),
            last_second_failed=sum(1 for r in tail if not r["ok"]),
            served_after=measure.served_after(load["short"], t_fault)))
    server_drop: dict[str, float | None] = {}
    for name, out in spolls.items():
        sch, _ = _poll_lines(out)
        drop = measure.kernel_drop(sch, t_fault, plan.server_polls[name])
        server_drop[name] = None if drop is None else drop.ms
    outcome = SiteDrillOutcome(
        mode=mode, host=host, prefix=plan.prefix, target=f"http://{plan.address}/file",
        bfd=plan.bfd, bfd_detect_ms=plan.bfd_detect_ms,
        fault_at_s=round(t_fault - first_load["start"], 3), fault_apply_ms=apply_ms,
        upstream=first_up, gone_hops=plan.upstreams[first_up], clients=clients,
        server_default_drop_ms=server_drop, restore=restored)
    step("verify")
    _verify(nr, design, outcome, verify_wait)
    return outcome


def _verify(nr: Nornir, design: Design, outcome: SiteDrillOutcome, wait: float) -> None:
    from nornir_anycast.verify.runner import run_verify

    try:
        report = run_verify(nr, design, wait=wait)
    finally:
        nr.close_connections()
    outcome.verify_ok, outcome.verify_failures = verify_result(report)
