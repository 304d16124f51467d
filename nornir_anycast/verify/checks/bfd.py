"""BFD checks: expected sessions from the Design, compared with parsed device state.

`edge_bfd_session` (one per server of an FRR edge, `show bfd peers`): the peer is `up` with the
edge's inventory timers. `server_bfd_session` (one per edge neighbor of a BIRD server,
`birdc show bfd sessions`): the session to the edge is `Up`. A session is expected only where
BFD is enabled on both ends (otherwise neither side asks for one). Pure functions, replayed on
captured output in the tests, like the other modules of nornir_anycast.verify.checks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nornir_anycast.design.model import Design, HostModel
from nornir_anycast.verify.checks import Check


def bfd_pairs(host: HostModel, design: Design) -> list[tuple[str, HostModel]]:
    """(neighbor address, neighbor host) of every BGP session of `host` that should run BFD:
    edge <-> server, BFD enabled at both ends."""
    if not host.bfd.enabled or host.role not in ("edge", "server"):
        return []
    want = "server" if host.role == "edge" else "edge"
    out = []
    for nb in host.bgp.neighbors:
        owner = design.owner_of(nb.address)
        if owner is not None and owner.role == want and owner.bfd.enabled:
            out.append((nb.address, owner))
    return out


def check_edge_bfd(edge: HostModel, design: Design, peers: Mapping[str, Any]) -> list[Check]:
    """One `edge_bfd_session` per BFD-enabled server: status up, timers as in the inventory."""
    by_peer = {str(p.get("peer")): p for p in peers.get("peers", [])}
    want_timers = {"detect_multiplier": edge.bfd.multiplier,
                   "receive_interval_ms": edge.bfd.interval_ms,
                   "transmit_interval_ms": edge.bfd.interval_ms}
    checks = []
    for address, server in bfd_pairs(edge, design):
        p = by_peer.get(address)
        status = None if p is None else p.get("status")
        local = {} if p is None else dict(p.get("local") or {})
        timers = {k: local.get(k) for k in want_timers}
        up = status == "up"
        timers_ok = timers == want_timers
        ok = up and timers_ok
        if ok:
            msg = (f"BFD session to {server.name} ({address}) up, "
                   f"{edge.bfd.interval_ms} ms x {edge.bfd.multiplier}")
        elif p is None:
            msg = f"no BFD session to {server.name} ({address}) (is bfdd running?)"
        elif not up:
            diag = p.get("diagnostics")
            msg = (f"BFD session to {server.name} ({address}) is {status}"
                   + (f" ({diag})" if diag and diag != "ok" else ""))
        else:
            msg = (f"BFD session to {server.name} ({address}) up but with timers "
                   f"{timers}, expected {want_timers}")
        checks.append(Check(
            name="edge_bfd_session", host=edge.name, passed=ok,
            expected={"peer": address, "server": server.name, "status": "up", **want_timers},
            actual=None if p is None else {
                "peer": address, "status": status, "diagnostics": p.get("diagnostics"),
                "uptime": p.get("uptime"), "downtime": p.get("downtime"), **timers},
            message=msg,
        ))
    return checks


def check_server_bfd(server: HostModel, design: Design,
                     sessions: Mapping[str, Any]) -> list[Check]:
    """One `server_bfd_session` per BFD-enabled edge neighbor: BIRD's session state `Up`."""
    by_addr = {str(s.get("address")): s for s in sessions.get("sessions", [])}
    checks = []
    for address, edge in bfd_pairs(server, design):
        s = by_addr.get(address)
        state = None if s is None else s.get("state")
        ok = state == "Up"
        not_up = list(sessions.get("protocols_not_up") or [])
        if ok:
            msg = f"BFD session to {edge.name} ({address}) Up"
        elif s is None:
            msg = (f"no BFD session to {edge.name} ({address})"
                   + (f": BFD protocol {', '.join(not_up)} is not up" if not_up else
                      " (no `protocol bfd`, or `bfd on` missing on the BGP session)"))
        else:
            msg = f"BFD session to {edge.name} ({address}) is {state}"
        checks.append(Check(
            name="server_bfd_session", host=server.name, passed=ok,
            expected={"neighbor": address, "edge": edge.name, "state": "Up"},
            actual=None if s is None else {"neighbor": address, "state": state,
                                           "since": s.get("since"),
                                           "interval_ms": s.get("interval_ms"),
                                           "timeout_ms": s.get("timeout_ms")},
            message=msg,
        ))
    return checks
