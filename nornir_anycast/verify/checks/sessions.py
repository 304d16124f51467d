"""BGP sessions: a server's session to its edge (and what it exports), a router's to every
configured neighbor."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nornir_anycast.design.model import Design, HostModel
from nornir_anycast.verify.checks import Check, drained_servers, fmt


def bird_session_to(protocols: Mapping[str, Any], neighbor: str) -> dict[str, Any] | None:
    """The BIRD BGP protocol (from `show protocols all`) whose neighbor is `neighbor`."""
    for proto in protocols.get("protocols", []):
        is_bgp = str(proto.get("proto", "")).upper() == "BGP"
        if is_bgp and proto.get("neighbor_address") == neighbor:
            return dict(proto)
    return None


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
                     f"{fmt([a.prefix for a in server.anycast])}"),
        ))
    return checks


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
