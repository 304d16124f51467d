"""The routers' own session counters: how often a BFD or BGP session went down.

    from nornir_anycast.parsing import parse_output
    from nornir_anycast.parsing.counters import session_counters

    bfd = parse_output("frr", "show bfd peers counters", text)   # {"peers": [...]}
    bgp = parse_output("frr", "show ip bgp neighbors", text)     # {"neighbors": [...]}
    session_counters(bfd=bfd, bgp=bgp)
    -> {"10.12.12.1": {"bfd_down": 1, "bgp_dropped": 1}, "172.16.42.2": {"bfd_down": None, ...}}

Parsers (registered in nornir_anycast.parsing for `frr` and `vyos`: VyOS 1.3+ runs the same
vtysh commands underneath, VyOS 1.1.7's Quagga prints the same `Connections` line and has no
BFD):

- `show bfd peers counters` (TTP `frr_show_bfd_peers_counters.ttp`): every line must be
  recognised, so another command's output raises ParseError; `BFD Peers:` alone is no peer.
- `show ip bgp neighbors` (TTP `frr_show_ip_bgp_neighbors.ttp`): only the lines that open a
  neighbor's block, its state, its `Connections established N; dropped M` and its graceful
  restart lines are read; text without any `BGP neighbor is` line raises ParseError, empty
  output is no neighbor.
- `show ip bgp neighbors json` (FRR): the same shape from FRR's JSON.

Graceful restart, per neighbor (both forms give the same values; read by
nornir_anycast.verify.checks.graceful_restart):
- `graceful_restart`: the capability, `"advertised and received"`, `"advertised"` (the peer
  sent none: BIRD `graceful restart off`), `"received"`, or None (no such line).
- `graceful_restart_local` / `graceful_restart_remote`: FRR's `Local GR Mode` / `Remote GR
  Mode` without the `*` that marks an inherited mode: `"Restart"` (for the remote: its
  capability named address families, so FRR keeps its routes while it restarts), `"Helper"`
  (the capability without any address family: BIRD's default `graceful restart aware`, FRR's
  default helper mode), `"Disable"` (no capability), or None. Beware: FRR prints
  `advertised and received` for two helpers as well (every FRR and BIRD sends the capability by
  default), so the capability alone does not say graceful restart will work; the remote mode
  does. FRR shows its local mode from its configuration, not from what it sent when the
  session opened (checked: `bgp graceful-restart` added to a running FRR 8.4 left the sessions
  up and showed `Restart*` at once).

BIRD keeps no such counter (its `show protocols all` has a state and a `since` time only), so a
server's sessions are covered by its edge's counters for that neighbor.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, TypedDict

from nornir_anycast.parsing._common import Ctx, clean_lines, first_text, run_ttp


class SessionCounters(TypedDict):
    """The down counters of one session of a router, by its peer address.

    `bfd_down`: bfdd's `Session down events`; `bgp_dropped`: bgpd's `Connections established N;
    dropped M` (M). None: the router has no such session (no BFD peer, no BGP neighbor) or
    its counters were not read.
    """

    bfd_down: int | None
    bgp_dropped: int | None


#: `show bfd peers counters` keys -> result keys.
_BFD_KEYS = {
    "Control packet input": "control_input", "Control packet output": "control_output",
    "Echo packet input": "echo_input", "Echo packet output": "echo_output",
    "Session up events": "up_events", "Session down events": "down_events",
    "Zebra notifications": "zebra_notifications",
}
#: Counters FRR 10 prints beside those of FRR 8.4, read and left out so that a peer has the same
#: keys on every version (`Tx fail packet`: control packets bfdd failed to send).
_BFD_IGNORED = frozenset(("Tx fail packet",))


def parse_bfd_counters(ctx: Ctx, text: str) -> dict[str, Any]:
    """`show bfd peers counters`: {"peers": [{peer, local_address, vrf, interface, multihop,
    control_input, control_output, echo_input, echo_output, up_events, down_events,
    zebra_notifications}]}: packet and event counts as ints."""
    from nornir_anycast.parsing.bfd import peer_line

    lines = clean_lines(text, ctx)
    significant = [ln for ln in lines if ln.strip()]
    if not significant:
        raise ctx.error("empty output (FRR prints `BFD Peers:` even with no session)")
    records = run_ttp("frr_show_bfd_peers_counters", "\n".join(lines))
    if not records or "title" not in records[0]:
        raise ctx.error("no `BFD Peers:` title", first_text(lines))
    if len(records) != len(significant):
        known = {" ".join(str(v).split()) for r in records for k, v in r.items() if k != "unit"}
        bad = next((ln for ln in significant
                    if not any(s and s in " ".join(ln.split()) for s in known)), None)
        raise ctx.error(f"{len(significant) - len(records)} line(s) not recognised", bad)
    peers: list[dict[str, Any]] = []
    for rec in records[1:]:
        if "peer" in rec:
            peer = peer_line(ctx, rec["peer"])
            peer.update(dict.fromkeys(_BFD_KEYS.values()))
            peers.append(peer)
            continue
        if "key" not in rec:  # a second `BFD Peers:` title, say
            raise ctx.error("a title where a peer or counter line belongs",
                            " ".join(str(v) for v in rec.values()))
        key = rec["key"].strip()
        if not peers:
            raise ctx.error("counter line before any peer line", f"{key}: {rec['value']}")
        if key in _BFD_IGNORED:
            continue
        if key not in _BFD_KEYS:
            raise ctx.error("unknown counter", f"{key}: {rec['value']}")
        peers[-1][_BFD_KEYS[key]] = int(rec["value"])
    return {"peers": peers}


#: FRR's JSON spelling of the graceful restart capability -> the text's.
_GR_CAPABILITY = {"advertisedAndReceived": "advertised and received",
                  "advertised": "advertised", "received": "received"}


def _neighbor(address: str, remote_as: int | None, local_as: int | None, state: str | None,
              established: int | None, dropped: int | None, *,
              graceful_restart: str | None = None, graceful_restart_local: str | None = None,
              graceful_restart_remote: str | None = None) -> dict[str, Any]:
    return {"address": address, "remote_as": remote_as, "local_as": local_as, "state": state,
            "established": established, "dropped": dropped,
            "graceful_restart": graceful_restart,
            "graceful_restart_local": graceful_restart_local,
            "graceful_restart_remote": graceful_restart_remote}


def _gr_mode(value: Any) -> str | None:
    """`Restart*` -> `Restart` (the `*`: inherited from the global mode); None if not text."""
    return value.rstrip("*").strip() or None if isinstance(value, str) else None


def parse_bgp_neighbors(ctx: Ctx, text: str) -> dict[str, Any]:
    """`show ip bgp neighbors`: {"neighbors": [{address, remote_as, local_as, state,
    established, dropped, graceful_restart, graceful_restart_local, graceful_restart_remote}]}:
    `state` as printed (`Established`, `Active`, `Idle`, ...), `established`/`dropped` from
    `Connections established N; dropped M`, the graceful restart keys as in the module
    docstring (each None when the block has no such line)."""
    lines = clean_lines(text, ctx)
    if not any(ln.strip() for ln in lines):
        return {"neighbors": []}
    neighbors: list[dict[str, Any]] = []
    for rec in run_ttp("frr_show_ip_bgp_neighbors", "\n".join(lines)):
        if "address" in rec:
            neighbors.append(_neighbor(rec["address"], int(rec["remote_as"]),
                                       int(rec["local_as"]), None, None, None))
        elif not neighbors:
            raise ctx.error("neighbor detail before any `BGP neighbor is` line",
                            str(next(iter(rec.values()))))
        elif "state" in rec:
            neighbors[-1]["state"] = rec["state"]
        elif "graceful_restart" in rec:
            neighbors[-1]["graceful_restart"] = rec["graceful_restart"]
        elif "gr_local" in rec:
            neighbors[-1]["graceful_restart_local"] = _gr_mode(rec["gr_local"])
        elif "gr_remote" in rec:
            neighbors[-1]["graceful_restart_remote"] = _gr_mode(rec["gr_remote"])
        else:
            neighbors[-1]["established"] = int(rec["established"])
            neighbors[-1]["dropped"] = int(rec["dropped"])
    if not neighbors:
        raise ctx.error("no `BGP neighbor is` line", first_text(lines))
    return {"neighbors": neighbors}


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def parse_bgp_neighbors_json(ctx: Ctx, text: str) -> dict[str, Any]:
    """FRR `show ip bgp neighbors json`: the shape of `parse_bgp_neighbors`, from
    remoteAs/localAs/bgpState/connectionsEstablished/connectionsDropped and, for graceful
    restart, neighborCapabilities.gracefulRestart (`advertisedAndReceived`; FRR 8.4 and 10.3
    name a one-sided capability `gracefulRestartCapability` instead: `advertised`) and
    gracefulRestartInfo.localGrMode/remoteGrMode."""
    lines = clean_lines(text, ctx)
    body = "\n".join(lines).strip()
    try:
        data = json.loads(body) if body else {}
    except json.JSONDecodeError as exc:
        raise ctx.error(f"not JSON ({exc.msg})", first_text(lines)) from None
    if not isinstance(data, dict):
        raise ctx.error("not a JSON object of neighbors", first_text(lines))
    neighbors = []
    for address, nb in data.items():
        if not isinstance(nb, dict) or "bgpState" not in nb:
            raise ctx.error("not a neighbor", f"{address}: {str(nb)[:80]}")
        caps = nb.get("neighborCapabilities")
        caps = caps if isinstance(caps, dict) else {}
        cap = caps.get("gracefulRestart", caps.get("gracefulRestartCapability"))
        info = nb.get("gracefulRestartInfo")
        info = info if isinstance(info, dict) else {}
        neighbors.append(_neighbor(
            address, _int(nb.get("remoteAs")), _int(nb.get("localAs")), nb.get("bgpState"),
            _int(nb.get("connectionsEstablished")), _int(nb.get("connectionsDropped")),
            graceful_restart=_GR_CAPABILITY.get(cap) if isinstance(cap, str) else None,
            graceful_restart_local=_gr_mode(info.get("localGrMode")),
            graceful_restart_remote=_gr_mode(info.get("remoteGrMode"))))
    return {"neighbors": neighbors}


def session_counters(bfd: Mapping[str, Any] | None = None,
                     bgp: Mapping[str, Any] | None = None) -> dict[str, SessionCounters]:
    """The down counters of every session of one router, by peer address.

    Args:
        bfd: parsed `show bfd peers counters` ({"peers": [...]}), or None (not read: BFD off).
        bgp: parsed `show ip bgp neighbors` (or its `json` form) ({"neighbors": [...]}), or None.

    Returns:
        {peer address: {"bfd_down": int | None, "bgp_dropped": int | None}} for every address
        either output names, in address order of appearance (BGP neighbors first).
    """
    out: dict[str, SessionCounters] = {}
    for nb in (bgp or {}).get("neighbors", []):
        entry = out.setdefault(str(nb["address"]), {"bfd_down": None, "bgp_dropped": None})
        entry["bgp_dropped"] = _int(nb.get("dropped"))
    for peer in (bfd or {}).get("peers", []):
        entry = out.setdefault(str(peer["peer"]), {"bfd_down": None, "bgp_dropped": None})
        entry["bfd_down"] = _int(peer.get("down_events"))
    return out
