"""BIRD on a server (1.6, 2 or 3): `bird.conf`, announcing the anycast prefixes to the edge, in a
drain phase when the server is drained."""

from __future__ import annotations

from nornir_anycast.design import healthcheck
from nornir_anycast.design.model import Design, HostModel
from nornir_anycast.exceptions import TemplateError
from nornir_anycast.render.files import Checker, TemplateFile
from nornir_anycast.render.healthchecker import initial_include, initial_state
from nornir_anycast.render.neighbors import neighbor_views, timers_set

#: The checker of each BIRD version's config (nornir_anycast.render.checkers).
BIRD_CHECKERS: dict[int, Checker] = {1: "bird1", 2: "bird2", 3: "bird3"}

#: Drain phases a server's BIRD config is rendered in (nornir_anycast.drain.runner).
DRAIN_PHASES = ("lowered", "withdrawn")


def default_route(host: HostModel) -> list[dict[str, str | bool]]:
    """The next hops of BIRD's default route (`static_default`, docs/sites.md): a server's
    gateways when it has several (one per edge), each with BFD when the server runs BFD;
    empty with one or none (ifupdown / `ip route` set that one)."""
    for itf in host.interfaces:
        gateways = itf.gateways()
        if len(gateways) > 1:
            return [{"via": g, "bfd": host.bfd.enabled, "interface": itf.name}
                    for g in gateways]
    return []


def plan_bird(host: HostModel, design: Design, drain: str | None = None
              ) -> dict[str, TemplateFile]:
    """`bird.conf` (`bird/bird<version>.conf.j2`, checker `bird<version>`; with the
    healthchecker, checked with its initial include beside it, and with the event path's
    state file, included in `static_bgp`)."""
    if drain is not None and drain not in DRAIN_PHASES:
        raise TemplateError(f"{host.name}: drain phase {drain!r}: must be one of "
                            f"{', '.join(DRAIN_PHASES)}")
    neighbors = neighbor_views(host, design, frr_policy=False)
    routes = default_route(host)
    bfd_interfaces = sorted({n.interface for n in neighbors if n.interface is not None}
                            | {r["interface"] for r in routes if r["bfd"]})
    checked = healthcheck.enabled(host)
    watched = healthcheck.watched(host)
    context = dict(design=design, neighbors=neighbors, timers=timers_set(host),
                   bfd_interfaces=bfd_interfaces, healthcheck=checked, watch=watched,
                   drain=drain, default_route=routes)
    includes: tuple[tuple[str, str], ...] = ()
    if checked:
        includes = ((host.paths.healthchecker_include, initial_include(host)),)
    if watched:
        includes += ((host.paths.service_state, initial_state(host)),)
    return {"bird.conf": TemplateFile(
        f"bird/bird{host.bird_version}.conf.j2", context, host.paths.bird_conf,
        BIRD_CHECKERS[host.bird_version], includes=includes)}
