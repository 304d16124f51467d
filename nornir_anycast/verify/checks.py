"""Pure verification logic: expected state from the Design, compared with parsed device state.

Every function takes parsed output (the shapes of nornir_anycast.parsing) and returns `Check`s;
nothing here talks to a device, so the logic is tested by replaying captured output.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from nornir_anycast.design.model import AnycastService, Design, HostModel


@dataclass(frozen=True)
class Check:
    """One named check on one host, with what was expected and what was found."""

    name: str
    host: str
    passed: bool
    expected: Any
    actual: Any
    message: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _ip_sort(addresses: Iterable[str]) -> list[str]:
    return sorted(set(addresses), key=lambda a: (ipaddress.ip_address(a).version,
                                                 ipaddress.ip_address(a)))


def _fmt(addresses: Sequence[str]) -> str:
    return ", ".join(addresses) if addresses else "none"


# --- servers ---------------------------------------------------------------------------------

def bird_session_to(protocols: Mapping[str, Any], neighbor: str) -> dict[str, Any] | None:
    """The BIRD BGP protocol (from `show protocols all`) whose neighbor is `neighbor`."""
    for proto in protocols.get("protocols", []):
        is_bgp = str(proto.get("proto", "")).upper() == "BGP"
        if is_bgp and proto.get("neighbor_address") == neighbor:
            return dict(proto)
    return None


def drained_servers(design: Design) -> set[str]:
    """Servers the design has out of service (`python tasks.py drain`)."""
    return {p.host for s in design.services for p in s.drained}


def check_server_sessions(server: HostModel, design: Design,
                          protocols_all: Mapping[str, Any]) -> list[Check]:
    """Check 1: each server's BGP session to its edge is Established and exports its prefixes
    (a drained server: exports nothing). `since` (when BIRD last changed the session's state)
    in the actual shows whether the session was reset."""
    checks: list[Check] = []
    drained = server.name in drained_servers(design)
    for nb in server.bgp.neighbors:
        owner = design.owner_of(nb.address)
        if owner is None or owner.role != "edge":
            continue
        proto = bird_session_to(protocols_all, nb.address)
        state = None if proto is None else proto.get("bgp_state") or proto.get("info")
        up = proto is not None and str(state).lower() == "established"
        checks.append(Check(
            name="server_bgp_session", host=server.name, passed=up,
            expected={"neighbor": nb.address, "state": "Established"},
            actual={"neighbor": nb.address, "state": state,
                    "protocol": None if proto is None else proto.get("name"),
                    "since": None if proto is None else proto.get("since")},
            message=(f"BGP session to {owner.name} ({nb.address}) is Established" if up else
                     f"BGP session to {owner.name} ({nb.address}) is "
                     f"{'not configured' if proto is None else state}"),
        ))
        want = len(server.anycast)
        exported = None if proto is None else (proto.get("routes") or {}).get("exported")
        if drained:
            ok = up and not exported
            checks.append(Check(
                name="server_exports_anycast", host=server.name, passed=ok,
                expected={"neighbor": nb.address, "exported": 0, "drained": True},
                actual={"neighbor": nb.address, "exported": exported},
                message=(f"drained: exports nothing to {owner.name}" if ok else
                         f"drained, but exports {exported} route(s) to {owner.name}"
                         if exported else f"drained; session to {owner.name} is {state}"),
            ))
            continue
        ok = up and exported is not None and exported >= want
        checks.append(Check(
            name="server_exports_anycast", host=server.name, passed=ok,
            expected={"neighbor": nb.address, "exported": want,
                      "prefixes": [a.prefix for a in server.anycast]},
            actual={"neighbor": nb.address, "exported": exported},
            message=(f"exports {exported} route(s) to {owner.name}" if ok else
                     f"exports {exported if exported is not None else 'nothing'} to "
                     f"{owner.name}, expected its {want} anycast prefix(es) "
                     f"{_fmt([a.prefix for a in server.anycast])}"),
        ))
    return checks


def check_server_health(server: HostModel, design: Design, *, running: bool,
                        pid: int | None, include: str | None) -> Check:
    """Check `server_health`: anycast-healthchecker runs and announces every anycast prefix of
    the server (its BIRD include lists them). verify expects every configured server healthy,
    so an unhealthy one fails here, by name, besides missing from the edge's ECMP set. A
    drained server's health is reported, not required (it announces nothing anyway).

    Args:
        running: the daemon runs (pid file names a live anycast-healthchecker).
        pid: its process id, when known.
        include: the text of the include it writes (None: missing).
    """
    from nornir_anycast.design import healthcheck

    _, listed = healthcheck.parse_include(include or "")
    want = [a.prefix for a in server.anycast]
    announcing = [p for p in want if p in listed]
    withdrawn = [p for p in want if p not in listed]
    drained = server.name in drained_servers(design)
    checks_by_prefix = {c.prefix: c for c in healthcheck.prefix_checks(server)}
    actual = {"running": running, "pid": pid, "announcing": announcing,
              "withdrawn": withdrawn, "include": include is not None, "drained": drained}
    who = f"anycast-healthchecker{f' (pid {pid})' if pid else ''}"
    if not running:
        problem = "anycast-healthchecker is not running"
        if include is None:
            problem += f" and its include {server.paths.healthchecker_include} is missing"
    elif include is None:
        problem = f"{who} runs, but its include {server.paths.healthchecker_include} is missing"
    elif withdrawn:
        problem = f"{who} withdrew " + "; ".join(
            f"{p} (its check fails: {checks_by_prefix[p].check_cmd})" if p in checks_by_prefix
            else p for p in withdrawn)
    else:
        problem = ""
    passed = drained or not problem
    if drained:
        health = problem or f"{who} finds {_fmt(want)} healthy"
        message = f"drained: health not required; {health}"
    else:
        message = problem or f"{who} announces {_fmt(announcing)}: healthy"
    return Check(name="server_health", host=server.name, passed=passed,
                 expected={"running": True, "announcing": want} if not drained
                 else {"drained": True},
                 actual=actual, message=message)


# --- edge ------------------------------------------------------------------------------------

def check_router_sessions(router: HostModel, design: Design,
                          summary: Mapping[str, Any]) -> list[Check]:
    """Check 2: a router's BGP sessions to every configured neighbor are Established."""
    peers = {p.get("neighbor"): p for p in summary.get("peers", [])}
    checks = []
    for nb in router.bgp.neighbors:
        owner = design.owner_of(nb.address)
        who = owner.name if owner else nb.address
        peer = peers.get(nb.address)
        state = None if peer is None else peer.get("state")
        up = state == "Established"
        checks.append(Check(
            name="router_bgp_session", host=router.name, passed=up,
            expected={"neighbor": nb.address, "peer": who, "state": "Established"},
            actual={"neighbor": nb.address, "state": state,
                    "prefixes_received": None if peer is None else peer.get("prefixes_received"),
                    "up_down": None if peer is None else peer.get("up_down")},
            message=(f"session to {who} ({nb.address}) Established" if up else
                     f"session to {who} ({nb.address}) is "
                     f"{'missing' if peer is None else state}"),
        ))
    return checks


def _selected_paths(paths: Sequence[Mapping[str, Any]], platform: str, os_version: str | None,
                    maximum_paths: int) -> list[Mapping[str, Any]]:
    """The paths the router uses for forwarding: best plus multipath.

    Quagga-era VyOS (1.1.x) prints no multipath marker; there, paths equal to the best one in
    local preference, AS path length, origin and metric are taken as multipath, up to
    `maximum_paths`, which is what Quagga's multipath selection does for iBGP.
    """
    valid = [p for p in paths if p.get("valid")]
    quagga = platform == "vyos" and (os_version or "").startswith("1.1")
    if not quagga:
        return [p for p in valid if p.get("best") or p.get("multipath")]
    best = next((p for p in valid if p.get("best")), None)
    if best is None:
        return []

    def key(p: Mapping[str, Any]) -> tuple[Any, ...]:
        return (p.get("local_pref"), len(p.get("as_path") or []), p.get("origin"),
                p.get("metric"), p.get("internal"))

    equal = [p for p in valid if key(p) == key(best)]
    others = [p for p in equal if p is not best]
    return [best, *others][:maximum_paths]


def _compare_set(service: AnycastService, edge: HostModel,
                 actual: list[str]) -> tuple[bool, dict[str, Any], str]:
    """Compare an actual next-hop set with the service's expected ECMP set.

    When more servers share the best preference than maximum-paths allows, the router may pick
    any of them: then the actual set must be that many of the best group.
    """
    cap = edge.bgp.maximum_paths_ibgp or 1
    best_pref = max((p.local_pref for p in service.announcers), default=0)
    best_group = _ip_sort(p.next_hop for p in service.announcers if p.local_pref == best_pref)
    expected_set = _ip_sort(p.next_hop for p in service.ecmp)
    actual_set = _ip_sort(actual)
    if len(best_group) > cap:
        ok = len(actual_set) == cap and set(actual_set) <= set(best_group)
        expected: dict[str, Any] = {"next_hops_any_of": best_group, "count": cap}
    else:
        ok = actual_set == expected_set
        expected = {"next_hops": expected_set}
    missing = [a for a in expected_set if a not in actual_set] if len(best_group) <= cap else []
    extra = [a for a in actual_set if a not in best_group]
    drained = {p.next_hop: p.host for p in service.drained}
    if drained:
        expected["drained"] = _ip_sort(drained)
    if ok:
        msg = f"prefix {service.prefix}: next hops {_fmt(actual_set)} as expected"
        if drained:
            msg += " (" + ", ".join(f"{h} drained" for h in sorted(drained.values())) + ")"
    else:
        names = {p.next_hop: p.host for p in service.announcers}
        names.update({hop: f"{host}, drained" for hop, host in drained.items()})
        want = _fmt(expected_set) if len(best_group) <= cap else f"{cap} of {_fmt(best_group)}"
        parts = [f"prefix {service.prefix}: expected next hops {want}; "
                 f"{edge.name} has {_fmt(actual_set)}"]
        if missing:
            parts.append("missing " + ", ".join(f"{a} ({names.get(a, '?')})" for a in missing))
        if extra:
            parts.append("unexpected " + ", ".join(f"{a} ({names.get(a, '?')})" for a in extra))
        msg = "; ".join(parts)
    return ok, expected, msg


def check_edge_multipath(service: AnycastService, edge: HostModel,
                         prefix_detail: Mapping[str, Any]) -> list[Check]:
    """Check 3: the edge's BGP multipath set equals the expected ECMP set; backups stay backups."""
    routes = [r for r in prefix_detail.get("routes", []) if r.get("prefix") == service.prefix]
    paths = [p for r in routes for p in r.get("paths", [])]
    cap = edge.bgp.maximum_paths_ibgp or 1
    selected = _selected_paths(paths, edge.platform, edge.os_version, cap)
    ok, expected, msg = _compare_set(service, edge, [str(p["next_hop"]) for p in selected])
    checks = [Check(
        name="edge_multipath", host=edge.name, passed=ok, expected=expected,
        actual={"next_hops": _ip_sort(str(p["next_hop"]) for p in selected),
                "paths": [dict(p) for p in paths]},
        message=msg,
    )]
    by_hop = {str(p.get("next_hop")): p for p in paths}
    selected_hops = {str(p["next_hop"]) for p in selected}
    best_pref = max((p.local_pref for p in service.announcers), default=0)
    for backup in service.backups:
        if backup.local_pref == best_pref:
            continue  # equal but over maximum-paths: which ones the router uses is its choice
        p = by_hop.get(backup.next_hop)
        present = p is not None and bool(p.get("valid"))
        standby = present and backup.next_hop not in selected_hops
        checks.append(Check(
            name="edge_backup_path", host=edge.name, passed=standby,
            expected={"next_hop": backup.next_hop, "server": backup.host, "valid": True,
                      "multipath": False, "local_pref": backup.local_pref},
            actual=None if p is None else {"next_hop": backup.next_hop, "valid": p.get("valid"),
                                           "multipath": backup.next_hop in selected_hops,
                                           "local_pref": p.get("local_pref")},
            message=(f"prefix {service.prefix}: backup {backup.host} ({backup.next_hop}) "
                     + ("present, not carrying traffic" if standby else
                        "missing from the table" if p is None else
                        "not valid" if not present else "is carrying traffic")),
        ))
    return checks


def check_edge_kernel(service: AnycastService, edge: HostModel,
                      routes: Mapping[str, Any]) -> Check:
    """Check 4: the edge's kernel route for the prefix has exactly the expected next hops."""
    entries = [r for r in routes.get("routes", []) if r.get("prefix") == service.prefix]
    hops = [str(h["via"]) for r in entries for h in r.get("next_hops", []) if h.get("via")]
    ok, expected, msg = _compare_set(service, edge, hops)
    return Check(name="edge_kernel_route", host=edge.name, passed=ok, expected=expected,
                 actual={"next_hops": _ip_sort(hops),
                         "protocol": entries[0].get("protocol") if entries else None},
                 message=msg.replace(f"; {edge.name} has", f"; {edge.name}'s kernel has"))


# --- ISP -------------------------------------------------------------------------------------

def internal_prefixes(design: Design) -> list[str]:
    """Prefixes of the edge's and servers' own networks, which must never reach the ISP."""
    out: set[str] = set()
    isp_nets = {i.network for h in design.by_role("isp") for itf in h.interfaces
                for i in itf.interfaces()}
    for h in design.hosts.values():
        if h.role not in ("edge", "server"):
            continue
        for itf in h.interfaces:
            for i in itf.interfaces():
                if i.network not in isp_nets:
                    out.add(str(i.network))
    return sorted(out)


def check_isp_learned(service: AnycastService, isp: HostModel, edge: HostModel,
                      prefix_detail: Mapping[str, Any], exported: bool) -> Check:
    """Check 5a: the ISP learned the anycast prefix from the edge with AS path [edge AS].

    With `exported=False` (destination NAT: the servers' address stays internal) the ISP must
    not have it at all.
    """
    paths = [p for r in prefix_detail.get("routes", []) if r.get("prefix") == service.prefix
             for p in r.get("paths", [])]
    want_path = [edge.asn]
    good = [p for p in paths if list(p.get("as_path") or []) == want_path and p.get("valid")]
    if exported:
        ok = bool(good)
        msg = (f"prefix {service.prefix} learned from {edge.name} with AS path {edge.asn}" if ok
               else f"prefix {service.prefix}: expected from {edge.name} with AS path "
                    f"{edge.asn}; {isp.name} has "
                    + (", ".join(f"via {p.get('next_hop')} AS path {p.get('as_path')}"
                                 for p in paths) or "no path"))
    else:
        ok = not paths
        msg = (f"prefix {service.prefix} not announced to {isp.name} (destination NAT)" if ok
               else f"prefix {service.prefix} leaked to {isp.name}")
    return Check(name="isp_anycast_route" if exported else "isp_no_anycast_route",
                 host=isp.name, passed=ok,
                 expected={"prefix": service.prefix, "as_path": want_path} if exported
                 else {"prefix": service.prefix, "present": False},
                 actual={"paths": [{"next_hop": p.get("next_hop"), "as_path": p.get("as_path"),
                                    "valid": p.get("valid")} for p in paths]},
                 message=msg)


def check_isp_no_leak(isp: HostModel, leaked: Mapping[str, Mapping[str, Any]]) -> Check:
    """Check 5b: none of the internal prefixes is in the ISP's table.

    `leaked` maps each internal prefix queried to the parsed `show ip bgp <prefix>` answer.
    """
    found = sorted(p for p, parsed in leaked.items() if parsed.get("routes"))
    return Check(name="isp_no_internal_routes", host=isp.name, passed=not found,
                 expected={"absent": sorted(leaked)}, actual={"present": found},
                 message=("no internal prefix reached the ISP" if not found else
                          "internal prefixes leaked to the ISP: " + ", ".join(found)))


def routes_from_edges(design: Design, table: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The routes of the ISP's whole table (`show ip bgp`) learned through one of our edges
    (AS path holding an edge's AS) for a prefix that is none of that edge's anycast prefixes:
    a rogue server's default route or LAN, or another prefix the edge should have dropped.
    Shaped like `show ip bgp <prefix>` answers, for check_isp_no_leak."""
    allowed: dict[int, set[str]] = {}
    for edge in design.by_role("edge"):
        if edge.asn is not None:
            allowed.setdefault(edge.asn, set()).update(
                str(ipaddress.ip_network(s.prefix)) for s in design.services
                if s.edge == edge.name)
    out: dict[str, dict[str, Any]] = {}
    for route in table.get("routes", []):
        prefix = str(route.get("prefix"))
        paths = [p for p in route.get("paths", [])
                 if any(asn in allowed and prefix not in allowed[asn]
                        for asn in (p.get("as_path") or []))]
        if paths:
            out[prefix] = {"routes": [{"prefix": prefix, "paths": paths}]}
    return out


# --- route safety (edge, per server) ---------------------------------------------------------

def server_neighbors(edge: HostModel, design: Design) -> list[tuple[HostModel, str]]:
    """(server, neighbor address) for each of the edge's iBGP sessions to a server."""
    out: list[tuple[HostModel, str]] = []
    for nb in edge.bgp.neighbors:
        owner = design.owner_of(nb.address)
        if owner is not None and owner.role == "server" and nb.remote_as == edge.asn:
            out.append((owner, nb.address))
    return out


def _prefixes(table: Mapping[str, Any]) -> set[str]:
    out: set[str] = set()
    for r in table.get("routes", []):
        try:
            out.add(str(ipaddress.ip_network(str(r.get("prefix")), strict=False)))
        except ValueError:
            out.add(str(r.get("prefix")))
    return out


def _net_sort(prefixes: Iterable[str]) -> list[str]:
    def key(p: str) -> tuple[int, Any, str]:
        try:
            n = ipaddress.ip_network(p)
            return (n.version, (int(n.network_address), n.prefixlen), p)
        except ValueError:
            return (9, (0, 0), p)
    return sorted(set(prefixes), key=key)


def check_rogue_announcements(edge: HostModel, server: HostModel, neighbor: str,
                              received: Mapping[str, Any], accepted: Mapping[str, Any]) -> Check:
    """Route safety: the server announces to the edge only the anycast prefixes the inventory
    gives it, and the edge's table holds nothing else from it.

    `received` is the parsed `show ip bgp neighbors <server> received-routes` (everything the
    server sent, kept by `soft-reconfiguration inbound`), `accepted` the parsed `show ip bgp
    neighbors <server> routes` (what the edge's import filter let into its table).
    """
    allowed = {str(ipaddress.ip_network(a.prefix)) for a in server.anycast}
    rogue = _net_sort(_prefixes(received) - allowed)
    leaked = _net_sort(_prefixes(accepted) - allowed)
    ok = not rogue and not leaked
    if ok:
        msg = (f"{server.name} ({neighbor}) announces only its own prefixes: "
               + _fmt(_net_sort(_prefixes(received))))
    else:
        parts = []
        if rogue:
            parts.append(f"{server.name} ({neighbor}) announces prefixes it may not: "
                         + ", ".join(rogue) + f" (allowed: {_fmt(_net_sort(allowed))})")
        if leaked:
            parts.append(f"{edge.name} accepted from {server.name}: " + ", ".join(leaked)
                         + " (its import filter lets them through)")
        else:
            parts.append(f"{edge.name} rejected them")
        msg = "; ".join(parts)
    return Check(name="rogue_announcements", host=edge.name, passed=ok,
                 expected={"server": server.name, "neighbor": neighbor,
                           "allowed": _net_sort(allowed)},
                 actual={"server": server.name, "received": _net_sort(_prefixes(received)),
                         "rogue": rogue, "accepted_rogue": leaked},
                 message=msg)


# --- HTTP from the client ----------------------------------------------------------------------

def check_http(client: HostModel, target: str, expected_servers: Sequence[str],
               answers: Mapping[str, Sequence[str | None]], name: str = "http_anycast") -> Check:
    """Checks 6 and 7: every request answered, by every expected server and by no other.

    `answers` maps each client source address to the response bodies of its requests (stripped),
    None for a failed request. Every server must answer some source; with the edge hashing on
    ports too, each source alone usually sees them all, but hashing on addresses only is legal.
    """
    flat = [a for per_source in answers.values() for a in per_source]
    failed = sum(1 for a in flat if a is None)
    seen: dict[str, int] = {}
    for a in flat:
        if a is not None:
            seen[a] = seen.get(a, 0) + 1
    want = sorted(expected_servers)
    missing = [s for s in want if s not in seen]
    extra = sorted(s for s in seen if s not in want)
    ok = failed == 0 and not missing and not extra and bool(flat)
    problems = []
    if not flat:
        problems.append("no request was made")
    if failed:
        problems.append(f"{failed} of {len(flat)} requests failed")
    if missing:
        problems.append("never answered by " + ", ".join(missing))
    if extra:
        problems.append("answered by unexpected " + ", ".join(extra))
    per_source = {
        src: {"requests": len(a), "failed": sum(1 for x in a if x is None),
              "servers": dict(sorted({x: sum(1 for y in a if y == x)
                                      for x in a if x is not None}.items()))}
        for src, a in answers.items()
    }
    sources = ", ".join(answers) or "no source"
    return Check(
        name=name, host=client.name, passed=ok,
        expected={"target": target, "servers": want, "failed": 0},
        actual={"servers": dict(sorted(seen.items())), "failed": failed, "requests": len(flat),
                "per_source": per_source},
        message=(f"{len(flat)} requests to {target} from {sources}: answered by "
                 f"{', '.join(f'{k} ({v})' for k, v in sorted(seen.items()))}" if ok else
                 f"requests to {target} from {sources}: " + "; ".join(problems)),
    )
