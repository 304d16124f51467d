"""BIRD on a server (1.6, 2 or 3): `bird.conf`, announcing the anycast prefixes to the edge, in a
drain phase when the server is drained."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from nornir_anycast.design import healthcheck
from nornir_anycast.design.model import Design, HostModel
from nornir_anycast.exceptions import TemplateError
from nornir_anycast.render.files import Checker, TemplateFile
from nornir_anycast.render.healthchecker import initial_include, initial_state
from nornir_anycast.render.neighbors import neighbor_views, prefix_version, timers_set

#: The checker of each BIRD version's config (nornir_anycast.render.checkers).
BIRD_CHECKERS: dict[int, Checker] = {1: "bird1", 2: "bird2", 3: "bird3"}

#: Drain phases a server's BIRD config is rendered in (nornir_anycast.drain.runner).
DRAIN_PHASES = ("lowered", "withdrawn")


@dataclass(frozen=True)
class DefaultRoute:
    """One family's default route in BIRD (a server with several gateways, docs/sites.md).

    Attributes:
        prefix: `0.0.0.0/0` or `::/0`.
        channel: `ipv4` or `ipv6` (the static and kernel protocols' channel).
        static: the `protocol static` holding the route (`static_default`, `static_default6`).
        kernel: the `protocol kernel` exporting only that route (`kernel_default[6]`).
        next_hops: the gateways, in inventory order (one per edge).
        bfd: a BFD session per next hop (the server runs BFD).
        interface: the interface the gateways are on (for `protocol bfd`).
    """

    prefix: str
    channel: str
    static: str
    kernel: str
    next_hops: tuple[str, ...]
    bfd: bool
    interface: str


#: Per IP version: (default prefix, channel, protocol name suffix).
_FAMILIES = {4: ("0.0.0.0/0", "ipv4", ""), 6: ("::/0", "ipv6", "6")}


def server_gateways(host: HostModel) -> list[tuple[str, str]]:
    """(interface, gateway address) of every gateway of the host, in inventory order: the
    source of `default_routes` (one place to read the gateway fields of each family): `gateway`
    (IPv4) and `gateway6` (IPv6, docs/ipv6.md)."""
    return [(itf.name, g) for itf in host.interfaces
            for g in (*itf.gateways(), *itf.gateways6())]


def default_routes(host: HostModel) -> list[DefaultRoute]:
    """The default routes BIRD installs on a server: one per IP family with several gateways
    (one per edge of its site), a multipath route with BFD on each next hop when the server
    runs BFD, exported to the kernel (`persist`: kept while BIRD restarts). A family with one
    gateway or none gets nothing here (ifupdown / `ip route` set that one)."""
    if host.role != "server":
        return []
    by_family: dict[int, list[tuple[str, str]]] = {}
    for interface, gateway in server_gateways(host):
        try:
            version = ipaddress.ip_address(gateway).version
        except ValueError:
            continue  # validation names it
        by_family.setdefault(version, []).append((interface, gateway))
    out = []
    for family, hops in sorted(by_family.items()):
        if len(hops) < 2:
            continue
        prefix, channel, suffix = _FAMILIES[family]
        out.append(DefaultRoute(prefix=prefix, channel=channel, static=f"static_default{suffix}",
                                kernel=f"kernel_default{suffix}",
                                next_hops=tuple(g for _, g in hops), bfd=host.bfd.enabled,
                                interface=hops[0][0]))
    return out


def plan_bird(host: HostModel, design: Design, drain: str | None = None
              ) -> dict[str, TemplateFile]:
    """`bird.conf` (`bird/bird<version>.conf.j2`, checker `bird<version>`; with the
    healthchecker, checked with its initial include beside it, and with the event path's
    state file, included in `static_bgp`; with IPv6 anycast prefixes, also the IPv6 include and
    `static_bgp6`, docs/ipv6.md)."""
    if drain is not None and drain not in DRAIN_PHASES:
        raise TemplateError(f"{host.name}: drain phase {drain!r}: must be one of "
                            f"{', '.join(DRAIN_PHASES)}")
    neighbors = neighbor_views(host, design, frr_policy=False)
    routes = default_routes(host)
    bfd_interfaces = sorted({n.interface for n in neighbors if n.interface is not None}
                            | {r.interface for r in routes if r.bfd})
    checked = healthcheck.enabled(host)
    watched = healthcheck.watched(host)
    anycast6 = [a for a in host.anycast if prefix_version(a.prefix) == 6]
    context = dict(design=design, neighbors=neighbors, timers=timers_set(host),
                   bfd_interfaces=bfd_interfaces, healthcheck=checked, watch=watched,
                   drain=drain, default_routes=routes, anycast6=anycast6)
    includes: tuple[tuple[str, str], ...] = ()
    if checked:
        includes = ((host.paths.healthchecker_include, initial_include(host)),)
        if anycast6:
            includes += ((host.paths.healthchecker_include6, initial_include(host, 6)),)
    if watched:
        includes += ((host.paths.service_state, initial_state(host)),)
    return {"bird.conf": TemplateFile(
        f"bird/bird{host.bird_version}.conf.j2", context, host.paths.bird_conf,
        BIRD_CHECKERS[host.bird_version], includes=includes)}
