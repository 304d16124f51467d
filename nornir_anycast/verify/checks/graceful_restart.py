"""Graceful restart on the edge's server sessions: negotiated, so that the edge keeps a
server's routes (and goes on forwarding to it) while the server's BIRD restarts.

`graceful_restart_pairs(edge, design)` names the sessions to check: every server neighbor of an
FRR edge where both the edge and that server have `bgp.graceful_restart: true`.
`check_graceful_restart(design, edge, neighbors)` judges them from the edge's parsed `show ip
bgp neighbors` (or its `json` form; nornir_anycast.parsing.counters), one `edge_graceful_restart`
check per session. It passes when FRR shows all three of:

- `Graceful Restart Capability: advertised and received`;
- `Remote GR Mode: Restart`: the server's capability names its address family (BIRD `graceful
  restart on`), so FRR, as helper, keeps its routes as stale while it restarts. This is the
  part the restart drill needs, and the capability line alone does not show it: every FRR and
  every BIRD sends the capability by default (BIRD's `graceful restart aware`: no address
  family, FRR `Remote GR Mode: Helper`), so FRR prints `advertised and received` for two
  helpers as well (tests/captures/frr/gr_server_aware/);
- `Local GR Mode: Restart`: the edge runs with `bgp graceful-restart`.

A failure names the edge, the server, its address, what FRR says, and the fix:
- capability `advertised` only (the server sent none): the session predates the change, or
  the server's BIRD runs with `graceful restart off`: reset it (`clear bgp ADDRESS`), and
  deploy the server if it stays so;
- remote mode `Helper` (BIRD's default, `aware`): the server's BIRD runs without `graceful
  restart on`: deploy the server (BIRD restarts the session itself on `birdc configure`);
- local mode not `Restart` or capability `received` only: the edge runs without `bgp
  graceful-restart`: deploy the edge, then reset the session.

What FRR cannot show: its local mode is read from its configuration, not from what it sent when
the session opened. FRR 8.4 keeps the sessions up when `bgp graceful-restart` is added and
shows `Restart*` at once (tests/captures/frr/gr_edge_late/); FRR 10.3 resets every session
itself (frr10/gr_edge_late/). Either way the server's side, which the drill needs, is shown as
it was negotiated: BIRD restarts a session whose options changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nornir_anycast.design.model import Design, HostModel
from nornir_anycast.verify.checks import Check
from nornir_anycast.verify.checks.safety import server_neighbors

NAME = "edge_graceful_restart"
NEGOTIATED = "advertised and received"
EXPECTED = {"graceful_restart": NEGOTIATED, "graceful_restart_local": "Restart",
            "graceful_restart_remote": "Restart"}


def graceful_restart_pairs(edge: HostModel, design: Design) -> list[tuple[HostModel, str]]:
    """(server, neighbor address) for each server session of the FRR edge `edge` where both
    ends have `bgp.graceful_restart` on; [] for anything else (no command need be sent)."""
    if edge.role != "edge" or edge.platform != "frr" or not edge.bgp.graceful_restart:
        return []
    return [(server, address) for server, address in server_neighbors(edge, design)
            if server.bgp.graceful_restart]


def _said(nb: Mapping[str, Any]) -> str:
    """What FRR says, in its words: `capability advertised, local mode Restart, remote mode
    Disable`."""
    return (f"capability {nb.get('graceful_restart') or 'not shown'}, local mode "
            f"{nb.get('graceful_restart_local') or 'not shown'}, remote mode "
            f"{nb.get('graceful_restart_remote') or 'not shown'}")


def _fix(edge: HostModel, server: HostModel, address: str, nb: Mapping[str, Any]) -> str:
    state = nb.get("state")
    if state not in (None, "Established"):
        return (f"the session is {state}, not Established: graceful restart is negotiated when "
                "it opens (see router_bgp_session)")
    cap = nb.get("graceful_restart")
    if cap == "advertised":
        return ("the session predates the change: reset it (`clear bgp "
                f"{address}`) to negotiate graceful restart; if it stays so, {server.name}'s "
                f"BIRD runs without `graceful restart on`: deploy {server.name}")
    if cap == "received" or nb.get("graceful_restart_local") != "Restart":
        return (f"{edge.name} runs without `bgp graceful-restart`: deploy {edge.name}, then "
                f"reset the session (`clear bgp {address}`)")
    if nb.get("graceful_restart_remote") != "Restart":
        return (f"{server.name}'s capability names no address family, so {edge.name} would "
                f"drop its routes when its BIRD restarts: {server.name}'s BIRD runs without "
                f"`graceful restart on` (BIRD's default is `aware`): deploy {server.name}")
    return f"FRR shows no graceful restart capability: reset the session (`clear bgp {address}`)"


def check_graceful_restart(design: Design, edge: HostModel,
                           neighbors: Mapping[str, Any]) -> list[Check]:
    """One `edge_graceful_restart` check per session of `graceful_restart_pairs(edge, design)`.

    Args:
        design: the whole design.
        edge: the FRR edge whose output this is.
        neighbors: its parsed `show ip bgp neighbors` [`json`] ({"neighbors": [...]}).

    Returns:
        The checks, in the edge's neighbor order; [] when no pair has graceful restart on.
    """
    by_address = {str(nb.get("address")): nb for nb in neighbors.get("neighbors", [])}
    out: list[Check] = []
    for server, address in graceful_restart_pairs(edge, design):
        who = f"{edge.name}'s session to {server.name} ({address})"
        nb = by_address.get(address)
        if nb is None:
            out.append(Check(name=NAME, host=edge.name, passed=False, expected=EXPECTED,
                             actual=None,
                             message=f"{who}: FRR shows no such neighbor, so graceful "
                                     "restart cannot be negotiated"))
            continue
        actual = {k: nb.get(k) for k in EXPECTED}
        ok = actual == EXPECTED and nb.get("state") in (None, "Established")
        if ok:
            msg = f"{who}: graceful restart negotiated (FRR: {_said(nb)})"
        else:
            msg = (f"{who}: graceful restart not negotiated (FRR: {_said(nb)}): "
                   + _fix(edge, server, address, nb))
        out.append(Check(name=NAME, host=edge.name, passed=ok, expected=EXPECTED,
                         actual=actual, message=msg))
    return out
