"""BGP sessions: a server's session to its edge (what it exports, and that it receives
nothing), a router's to every configured neighbor (and that an edge sends its servers
nothing)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nornir_anycast.design.model import Design, HostModel
from nornir_anycast.render.neighbors import SERVERS_OUT
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
        # One session per family (docs/ipv6.md): this session carries its family's prefixes.
        family = [a.prefix for a in server.anycast
                  if (":" in a.prefix) == (":" in nb.address)]
        want = len(family)
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
            expected={"neighbor": nb.address, "exported": want, "prefixes": family},
            actual={"neighbor": nb.address, "exported": exported},
            message=(f"exports {exported} route(s) to {owner.name}" if ok else
                     f"exports {exported if exported is not None else 'nothing'} to "
                     f"{owner.name}, expected its {want} anycast prefix(es) "
                     f"{fmt(family)}"),
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


def edge_export_override(edge: HostModel, server: HostModel, design: Design) -> str | None:
    """The inventory's own export policy on `edge`'s session to `server`, which replaces the
    rendered SERVERS-OUT (docs/safety.md#route-safety): the neighbor's `route_map_out`, or
    SERVERS-OUT itself when the inventory defines a route map of that name. None: the edge
    renders SERVERS-OUT, and sends that server nothing."""
    for nb in edge.bgp.neighbors:
        owner = design.owner_of(nb.address)
        if owner is not None and owner.name == server.name and nb.route_map_out:
            return nb.route_map_out
    return SERVERS_OUT if SERVERS_OUT in edge.route_maps else None


def _received(proto: Mapping[str, Any]) -> int | None:
    """Route messages BIRD counted on the protocol's import side (updates + withdrawals
    received), None when it printed no `Route change stats`. With `import none`, BIRD 2.0.12
    counts each route it receives and drops as a withdrawal (received, ignored), so both
    rows count; BIRD keeps the figures across session restarts."""
    updates = proto.get("import_updates")
    withdraws = proto.get("import_withdraws")
    if updates is None and withdraws is None:
        return None
    return int((updates or {}).get("received", 0)) + int((withdraws or {}).get("received", 0))


def check_server_receives_no_routes(server: HostModel, design: Design,
                                    protocols_all: Mapping[str, Any]) -> list[Check]:
    """Each server's BGP session to its edge carried nothing from the edge: BIRD's import
    statistics (`show protocols all`) count no route update or withdrawal received. An edge
    sends its servers nothing (SERVERS-OUT); where the inventory names its own export policy
    for that session, the count is reported and passes (the user asked for those routes)."""
    checks: list[Check] = []
    for nb in server.bgp.neighbors:
        owner = design.owner_of(nb.address)
        if owner is None or owner.role != "edge":
            continue
        proto = bird_session_to(protocols_all, nb.address)
        received = None if proto is None else _received(proto)
        override = edge_export_override(owner, server, design)
        who = f"{owner.name} ({nb.address})"
        actual = {"neighbor": nb.address, "received": received,
                  "protocol": None if proto is None else proto.get("name"),
                  "import_updates": None if proto is None else proto.get("import_updates"),
                  "import_withdraws": None if proto is None else proto.get("import_withdraws")}
        if proto is None or received is None:
            checks.append(Check(
                name="server_receives_no_routes", host=server.name, passed=False,
                expected={"neighbor": nb.address, "received": 0}, actual=actual,
                message=(f"no BGP protocol to {who}: cannot tell what it receives"
                         if proto is None else
                         f"BIRD printed no import statistics for its session to {who}")))
            continue
        if override is not None:
            checks.append(Check(
                name="server_receives_no_routes", host=server.name, passed=True,
                expected={"neighbor": nb.address, "route_map_out": override}, actual=actual,
                message=(f"received {received:,} route(s) or withdrawal(s) from {who}: the "
                         f"edge's export policy is the inventory's {override}")))
            continue
        ok = received == 0
        checks.append(Check(
            name="server_receives_no_routes", host=server.name, passed=ok,
            expected={"neighbor": nb.address, "received": 0}, actual=actual,
            message=(f"received no route from {who}" if ok else
                     f"received {received:,} route(s) or withdrawal(s) from {who}, expected "
                     f"none: the edge sends its servers nothing ({SERVERS_OUT}), deploy it "
                     f"(BIRD counts since protocol {proto.get('name')} started: "
                     f"`birdc restart {proto.get('name')}` counts afresh)")))
    return checks


def check_edge_sends_no_routes(router: HostModel, design: Design,
                               summary: Mapping[str, Any]) -> list[Check]:
    """An edge's side of server_receives_no_routes: PfxSnt of `show ip bgp summary` is 0 for
    every established server session that uses SERVERS-OUT. Nothing is claimed where the
    router prints no PfxSnt (Quagga) or the session is not Established (router_bgp_session
    says so)."""
    if router.role != "edge":
        return []
    peers = {p.get("neighbor"): p for p in summary.get("peers", [])}
    checks: list[Check] = []
    for nb in router.bgp.neighbors:
        owner = design.owner_of(nb.address)
        if owner is None or owner.role != "server":
            continue
        peer = peers.get(nb.address) or {}
        sent = peer.get("prefixes_sent")
        if peer.get("state") != "Established" or not isinstance(sent, int):
            continue
        override = edge_export_override(router, owner, design)
        who = f"{owner.name} ({nb.address})"
        ok = override is not None or sent == 0
        checks.append(Check(
            name="edge_sends_no_routes", host=router.name, passed=ok,
            expected={"neighbor": nb.address, "prefixes_sent": 0} if override is None else
            {"neighbor": nb.address, "route_map_out": override},
            actual={"neighbor": nb.address, "prefixes_sent": sent},
            message=(f"sends {who} {sent:,} prefix(es): export policy is the inventory's "
                     f"{override}" if override is not None else
                     f"sends {who} nothing" if ok else
                     f"sends {who} {sent:,} prefix(es), expected none ({SERVERS_OUT})"),
        ))
    return checks
