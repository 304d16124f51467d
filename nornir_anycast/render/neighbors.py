"""BGP facts every routing daemon's templates share: neighbors classified, and the policies
(prefix lists, route-maps) as the templates write them.

An FRR edge filters what each server may announce (`SERVERS-IN-<server>` permitting
`ANYCAST-<server>`), and FRR 8.4 wants a policy on every eBGP session (`EBGP-IN`, `EBGP-OUT`):
`neighbor_views(..., frr_policy=True)` fills those names in where the inventory names none
(nornir_anycast.render.frr renders the policies themselves). Every edge, FRR or VyOS, sends its
servers nothing (`SERVERS-OUT`, a deny-all route-map, see `servers_out_policy`).

IPv6 (docs/ipv6.md): an IPv6 neighbor is a session of its own, carrying IPv6 only. Its policies
are IPv6 ones of their own (`SERVERS-IN6-<server>` permitting `ANYCAST6-<server>`, `EBGP-OUT6`
permitting `ANYCAST6`), so that no route-map ever matches across families; `EBGP-IN` and
`SERVERS-OUT` match nothing and serve both.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

from nornir_anycast.design.model import BgpTimers, Design, HostModel, RouteMapRule
from nornir_anycast.inventory.passwords import neighbor_password

#: Names of the policies rendered for FRR when the inventory names none.
ANYCAST_PREFIX_LIST = "ANYCAST"
SERVERS_IN = "SERVERS-IN"
#: ... and their IPv6 counterparts (IPv6 sessions).
ANYCAST6_PREFIX_LIST = "ANYCAST6"
SERVERS_IN6 = "SERVERS-IN6"
EBGP_OUT6 = "EBGP-OUT6"
#: Extra prefixes a server session on an edge may carry beyond the server's own anycast
#: prefixes before FRR tears it down (`maximum-prefix N restart 1 force`, see docs/safety.md);
#: the inventory's `bgp.maximum_prefix` replaces the computed limit.
SERVER_MAXIMUM_PREFIX_MARGIN = 10
#: Minutes FRR waits before re-opening a session torn down by maximum-prefix.
SERVER_MAXIMUM_PREFIX_RESTART = 1
EBGP_IN = "EBGP-IN"
EBGP_OUT = "EBGP-OUT"
#: The edge's export route-map on every server session where the inventory names no
#: `route_map_out`: deny everything (servers need nothing from the edge, see servers_out_policy).
SERVERS_OUT = "SERVERS-OUT"


@dataclass(frozen=True)
class NeighborView:
    """A BGP neighbor with what the templates need resolved."""

    address: str
    remote_as: int
    update_source: str | None
    description: str | None
    ibgp: bool
    to_server: bool
    peer: str | None  # the inventory host that owns the address
    route_map_in: str | None
    route_map_out: str | None
    password: str | None
    ttl_security: bool
    bird_name: str  # a BIRD protocol name
    interface: str | None  # the local interface facing the neighbor (for BFD)
    # FRR edge -> server sessions (route safety): keep what the server sent, rejected or not
    # (`soft-reconfiguration inbound`), and the `maximum-prefix` arguments ("11 restart 1 force").
    soft_reconfiguration: bool = False
    maximum_prefix: str | None = None
    #: The session's address family (4 or 6): an IPv6 neighbor carries IPv6 routes only.
    version: int = 4


@dataclass(frozen=True)
class PolicyRule:
    """One rule of a rendered route-map; `prefix_list` is matched when set (an IPv6 prefix list
    with `ipv6`); `sets` are `set ...` lines (without `set`)."""

    seq: int
    action: str
    prefix_list: str | None = None
    ipv6: bool = False
    sets: tuple[str, ...] = ()
    # `set as-path prepend ...` (a standby site's edge towards its upstreams, docs/sites.md).
    prepend: str | None = None


@dataclass(frozen=True)
class Policies:
    """Prefix lists (IPv4, IPv6) and route-maps a router's config defines, in rendering order."""

    prefix_lists: dict[str, list[str]] = field(default_factory=dict)
    route_maps: dict[str, list[PolicyRule]] = field(default_factory=dict)
    prefix_lists6: dict[str, list[str]] = field(default_factory=dict)


def _bird_identifier(text: str) -> str:
    out = "".join(ch if ch.isalnum() else "_" for ch in text)
    return out if out and out[0].isalpha() else f"p_{out}"


def _interface_towards(host: HostModel, address: str) -> str | None:
    ip = ipaddress.ip_address(address)
    for itf in host.interfaces:
        for i in itf.interfaces():
            if i.version == ip.version and ip in i.network:
                return itf.name
    return None


def neighbor_views(host: HostModel, design: Design, *, frr_policy: bool) -> list[NeighborView]:
    """The host's neighbors, classified; with `frr_policy`, default route-maps filled in.

    FRR 8.4 refuses to exchange routes with an eBGP peer without policies in both directions,
    and an edge must accept from its servers only the anycast prefixes: where the inventory
    names no route-map, EBGP-IN / EBGP-OUT / SERVERS-IN are used (see
    nornir_anycast.render.frr.frr_policies). On every edge (any platform) a server session
    without the inventory's `route_map_out` exports through SERVERS-OUT (`servers_out_policy`).
    """
    views: list[NeighborView] = []
    used: set[str] = set()
    for index, nb in enumerate(host.bgp.neighbors):
        owner = design.owner_of(nb.address)
        ibgp = host.asn is not None and nb.remote_as == host.asn
        to_server = ibgp and owner is not None and owner.role == "server"
        version = address_version(nb.address)
        rm_in, rm_out = nb.route_map_in, nb.route_map_out
        if to_server and host.role == "edge":
            rm_out = rm_out or SERVERS_OUT
        if frr_policy:
            if not ibgp:
                rm_in = rm_in or EBGP_IN
                rm_out = rm_out or (EBGP_OUT6 if version == 6 and host.role == "edge"
                                    else EBGP_OUT)
            elif to_server and host.role == "edge" and owner is not None:
                rm_in = rm_in or server_route_map(owner.name, version)
        base = _bird_identifier(owner.name if owner is not None else f"bgp_{nb.address}")
        if version == 6 and owner is not None:
            base = f"{base}_v6"  # the IPv6 session of the same pair (one session per family)
        name, n = base, 1
        while name in used:
            n += 1
            name = f"{base}_{n}"
        used.add(name)
        views.append(NeighborView(
            address=nb.address, remote_as=nb.remote_as, update_source=nb.update_source,
            description=nb.description, ibgp=ibgp, to_server=to_server,
            peer=owner.name if owner is not None else None,
            route_map_in=rm_in, route_map_out=rm_out,
            password=neighbor_password(host, index, nb),
            ttl_security=nb.ttl_security, bird_name=name,
            interface=_interface_towards(host, nb.address),
            soft_reconfiguration=frr_policy and to_server and host.role == "edge",
            maximum_prefix=_maximum_prefix(host, owner if to_server else None, frr_policy,
                                           version),
            version=version,
        ))
    return views


def address_version(address: str) -> int:
    """4 or 6: the family of a neighbor address (6 for anything with a colon, so that an address
    validation reports is still rendered in one family)."""
    return 6 if ":" in address else 4


def prefix_version(prefix: str) -> int:
    """4 or 6: the family of a prefix (`fd00:13::1/128` -> 6)."""
    return 6 if ":" in prefix else 4


def servers_out_policy(host: HostModel,
                       neighbors: list[NeighborView]) -> dict[str, list[PolicyRule]]:
    """The SERVERS-OUT route-map, when a server session of this edge uses it and the inventory
    defines no route-map of that name (the inventory's wins): one `deny` rule, no match.

    Servers get nothing from the edge, not even a default route. A server forwards (its return
    traffic) by its static or connected default towards the edge, never by BGP (its BIRD imports
    nothing and has no kernel protocol): a default learnt over the session would tie return
    traffic to the very session a drill or a drain takes down. Without this policy an edge
    re-advertises over iBGP everything it learns from the ISP, and each server's BIRD receives
    and processes every update of a full table only to drop it. A user who wants routes on a
    server names their own `route_map_out` on that neighbor.
    """
    if host.role != "edge" or SERVERS_OUT in host.route_maps:
        return {}
    if not any(n.to_server and n.route_map_out == SERVERS_OUT for n in neighbors):
        return {}
    return {SERVERS_OUT: [PolicyRule(seq=10, action="deny")]}


def server_route_map(server: str, version: int = 4) -> str:
    """The edge's import route-map for one server's session (`SERVERS-IN-<server>`; the IPv6
    session's `SERVERS-IN6-<server>`)."""
    return f"{SERVERS_IN6 if version == 6 else SERVERS_IN}-{server}"


def server_prefix_list(server: str, version: int = 4) -> str:
    """The edge's prefix-list of what one server may announce (`ANYCAST-<server>`; IPv6:
    `ANYCAST6-<server>`)."""
    return f"{ANYCAST6_PREFIX_LIST if version == 6 else ANYCAST_PREFIX_LIST}-{server}"


def server_allowed_prefixes(server: HostModel, version: int | None = None) -> list[str]:
    """What an edge accepts from `server`: its own anycast prefixes, as given by the inventory
    (drained or not: draining changes what the server announces, never the edge's filter); with
    `version`, those of that family only (what one session may carry)."""
    return sorted({a.prefix for a in server.anycast
                   if version is None or prefix_version(a.prefix) == version},
                  key=lambda p: (ipaddress.ip_network(p).version, ipaddress.ip_network(p)))


def _maximum_prefix(host: HostModel, server: HostModel | None, frr_policy: bool,
                    version: int = 4) -> str | None:
    """`maximum-prefix` arguments for one neighbor (None: no line).

    The inventory's `bgp.maximum_prefix`, when set, applies to every neighbor as written. Else an
    FRR edge limits each server session to the server's anycast prefixes plus
    SERVER_MAXIMUM_PREFIX_MARGIN, counting rejected routes too (`force`: soft-reconfiguration
    keeps them in memory), and re-opens a session torn down by the limit after
    SERVER_MAXIMUM_PREFIX_RESTART minute(s): a flood drops that server's session, loudly (verify's
    session checks fail, FRR logs it), instead of growing the edge's memory. An IPv6 session
    counts the server's IPv6 prefixes, an IPv4 one its IPv4 prefixes (what each may carry).
    """
    if host.bgp.maximum_prefix is not None:
        return str(host.bgp.maximum_prefix)
    if not frr_policy or server is None or host.role != "edge":
        return None
    limit = len(server_allowed_prefixes(server, version)) + SERVER_MAXIMUM_PREFIX_MARGIN
    return f"{limit} restart {SERVER_MAXIMUM_PREFIX_RESTART} force"


def edge_anycast_prefixes(host: HostModel, design: Design) -> list[str]:
    """The anycast prefixes the servers behind this edge announce (sorted, unique)."""
    prefixes = {s.prefix for s in design.services if s.edge == host.name}
    return sorted(prefixes, key=lambda p: (ipaddress.ip_network(p).version,
                                           ipaddress.ip_network(p)))


def model_route_map(name: str, rules: list[RouteMapRule], policies: Policies) -> None:
    """Add the inventory's route-map `name` (and a prefix list per matching rule) to
    `policies`."""
    out: list[PolicyRule] = []
    for r in sorted(rules, key=lambda r: r.rule):
        plist = None
        ipv6 = r.match_prefix is not None and prefix_version(r.match_prefix) == 6
        if r.match_prefix is not None:
            plist = f"{name}-{r.rule}"
            (policies.prefix_lists6 if ipv6 else policies.prefix_lists)[plist] = [r.match_prefix]
        out.append(PolicyRule(seq=r.rule, action=r.action, prefix_list=plist, ipv6=ipv6))
    policies.route_maps[name] = out


def timers_set(host: HostModel) -> dict[str, Any]:
    """The BGP timers the inventory sets explicitly (unset ones keep the daemon's default)."""
    t: BgpTimers = host.bgp_timers
    return {k: getattr(t, k) for k in sorted(t.model_fields_set)}
