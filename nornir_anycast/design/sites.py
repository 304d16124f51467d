"""Sites: which hosts belong together, and who peers with whom (docs/sites.md).

A site is the `site` of its hosts: its edge routers, the servers behind them, the upstream
routers (role `isp`) that serve its edges, and its clients. Hosts without `site` form one
implicit site (`None`): today's one-edge inventories are that site.

- `sites(design)`: every site, its hosts by role, in inventory order;
- `peers(design, host)`: the hosts a host has BGP neighbours on (the owner of each neighbour
  address), in neighbour order.

Validation (nornir_anycast.design.validation.sites), rendering (the standby prepend) and the
expected upstream state (nornir_anycast.design.ecmp.derive_upstream_routes) read sites from here.
"""

from __future__ import annotations

import functools
import ipaddress
from dataclasses import dataclass

from nornir_anycast.design.model import Design, HostModel

# Not nornir_anycast.design.validation.common's parsers: validation imports this module.
_IP = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class Site:
    """One site's hosts by role (names, inventory order).

    Attributes:
        name: the `site` value; None for the implicit site of hosts without one.
        edges, servers, upstreams, clients: the site's hosts of each role.
    """

    name: str | None
    edges: tuple[str, ...] = ()
    servers: tuple[str, ...] = ()
    upstreams: tuple[str, ...] = ()
    clients: tuple[str, ...] = ()


_ROLE_FIELD = {"edge": "edges", "server": "servers", "isp": "upstreams", "client": "clients"}


def sites(design: Design) -> dict[str | None, Site]:
    """Every site of the design, in the order its first host appears."""
    members: dict[str | None, dict[str, list[str]]] = {}
    for h in design.hosts.values():
        roles = members.setdefault(h.site, {f: [] for f in _ROLE_FIELD.values()})
        roles[_ROLE_FIELD[h.role]].append(h.name)
    return {name: Site(name=name, **{k: tuple(v) for k, v in roles.items()})
            for name, roles in members.items()}


def site_label(site: str | None) -> str:
    """How messages name a site: `site s1`, or `the hosts without a site`."""
    return f"site {site}" if site is not None else "the hosts without a site"


@functools.lru_cache(maxsize=65536)
def _ip(text: str, interface: bool = False) -> _IP | None:
    try:
        return ipaddress.ip_interface(text).ip if interface else ipaddress.ip_address(text)
    except ValueError:
        return None


def _interface_owners(design: Design) -> dict[_IP, list[str]]:
    owners: dict[_IP, list[str]] = {}
    for h in design.hosts.values():
        for itf in h.interfaces:
            for a in itf.addresses:
                ip = _ip(a, interface=True) if "/" in a else None
                if ip is not None and h.name not in owners.setdefault(ip, []):
                    owners[ip].append(h.name)
    return owners


def peers(design: Design, host: HostModel) -> list[tuple[int, str, HostModel]]:
    """(neighbour index, neighbour address, owning host) for each of `host`'s BGP neighbours
    whose address is on an interface of exactly one other host (the others are validation's
    to report)."""
    owners = _interface_owners(design)
    out = []
    for n, nb in enumerate(host.bgp.neighbors):
        ip = _ip(nb.address)
        found = owners.get(ip, []) if ip is not None else []
        if len(found) == 1 and found[0] != host.name:
            out.append((n, nb.address, design.hosts[found[0]]))
    return out


def is_ebgp(host: HostModel, neighbor_index: int) -> bool:
    """Whether `host`'s neighbour `neighbor_index` is in another AS."""
    return host.asn is not None and host.bgp.neighbors[neighbor_index].remote_as != host.asn


def standby(host: HostModel) -> bool:
    """Whether an edge announces its site's prefixes as standby (prepended to the upstreams)."""
    return host.role == "edge" and host.site_standby
