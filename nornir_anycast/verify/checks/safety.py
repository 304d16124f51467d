"""Route safety on the edge, per server: the server announces only its own anycast prefixes,
and the edge's import filter keeps anything else out of its table."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from typing import Any

from nornir_anycast.design.model import Design, HostModel
from nornir_anycast.verify.checks import Check, fmt


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
               + fmt(_net_sort(_prefixes(received))))
    else:
        parts = []
        if rogue:
            parts.append(f"{server.name} ({neighbor}) announces prefixes it may not: "
                         + ", ".join(rogue) + f" (allowed: {fmt(_net_sort(allowed))})")
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
