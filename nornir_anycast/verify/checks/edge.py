"""The edge: its BGP multipath set and kernel route per anycast prefix, against the expected
ECMP set; backups stay backups."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from nornir_anycast.design.ecmp import expected_for
from nornir_anycast.design.model import AnycastService, HostModel
from nornir_anycast.verify.checks import Check, fmt, ip_sort


def selected_paths(paths: Sequence[Mapping[str, Any]], platform: str, os_version: str | None,
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


def compare_set(service: AnycastService, edge: HostModel,
                 actual: list[str]) -> tuple[bool, dict[str, Any], str]:
    """Compare an actual next-hop set with the service's expected ECMP set.

    The expected set is the ECMP rule's (nornir_anycast.design.ecmp.expected_for): the best
    local_pref group, capped by the edge's maximum-paths. When more servers share the best
    preference than the cap allows (`router_chooses`), the router may pick any of them: then
    the actual set must be that many of the best group.
    """
    rule = expected_for(service, edge)
    cap = rule.cap
    best_group = ip_sort(p.next_hop for p in rule.best_group)
    expected_set = ip_sort(p.next_hop for p in rule.ecmp)
    actual_set = ip_sort(actual)
    if rule.router_chooses:
        ok = len(actual_set) == cap and set(actual_set) <= set(best_group)
        expected: dict[str, Any] = {"next_hops_any_of": best_group, "count": cap}
    else:
        ok = actual_set == expected_set
        expected = {"next_hops": expected_set}
    missing = [] if rule.router_chooses else [a for a in expected_set if a not in actual_set]
    extra = [a for a in actual_set if a not in best_group]
    drained = {p.next_hop: p.host for p in service.drained}
    if drained:
        expected["drained"] = ip_sort(drained)
    if ok:
        msg = f"prefix {service.prefix}: next hops {fmt(actual_set)} as expected"
        if drained:
            msg += " (" + ", ".join(f"{h} drained" for h in sorted(drained.values())) + ")"
    else:
        names = {p.next_hop: p.host for p in service.announcers}
        names.update({hop: f"{host}, drained" for hop, host in drained.items()})
        want = f"{cap} of {fmt(best_group)}" if rule.router_chooses else fmt(expected_set)
        parts = [f"prefix {service.prefix}: expected next hops {want}; "
                 f"{edge.name} has {fmt(actual_set)}"]
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
    rule = expected_for(service, edge)
    selected = selected_paths(paths, edge.platform, edge.os_version, rule.cap)
    ok, expected, msg = compare_set(service, edge, [str(p["next_hop"]) for p in selected])
    checks = [Check(
        name="edge_multipath", host=edge.name, passed=ok, expected=expected,
        actual={"next_hops": ip_sort(str(p["next_hop"]) for p in selected),
                "paths": [dict(p) for p in paths]},
        message=msg,
    )]
    by_hop = {str(p.get("next_hop")): p for p in paths}
    selected_hops = {str(p["next_hop"]) for p in selected}
    for backup in rule.backups:
        if backup.local_pref == rule.best_local_pref:
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
    ok, expected, msg = compare_set(service, edge, hops)
    return Check(name="edge_kernel_route", host=edge.name, passed=ok, expected=expected,
                 actual={"next_hops": ip_sort(hops),
                         "protocol": entries[0].get("protocol") if entries else None},
                 message=msg.replace(f"; {edge.name} has", f"; {edge.name}'s kernel has"))
