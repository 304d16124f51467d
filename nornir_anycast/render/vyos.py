"""VyOS routers (isp, edge): `config.vyos`, the `set` commands configure mode takes (VyOS 1.1
and 1.2 syntax, the seed's)."""

from __future__ import annotations

from nornir_anycast.design.model import Design, HostModel
from nornir_anycast.exceptions import TemplateError
from nornir_anycast.render.environment import version_tuple
from nornir_anycast.render.files import TemplateFile
from nornir_anycast.render.neighbors import (
    Policies,
    model_route_map,
    neighbor_views,
    servers_out_policy,
    timers_set,
)

#: VyOS versions whose `set` syntax the templates write (the seed's; 1.3 moved BGP settings
#: under address-family and 1.4 to `system-as`).
VYOS_SUPPORTED = ((1, 1), (1, 2))


def vyos_layer4_hashing(host: HostModel) -> bool:
    """`set system ip multipath layer4-hashing`: as set, else on VyOS 1.2+ edges (the seed's)."""
    if host.multipath_layer4_hashing is not None:
        return host.multipath_layer4_hashing
    return host.role == "edge" and version_tuple(host.os_version) >= (1, 2)


def plan_vyos(host: HostModel, design: Design) -> dict[str, TemplateFile]:
    """`config.vyos` (`vyos/<role>.vyos.j2`; no path: entered, not copied; no checker)."""
    version = version_tuple(host.os_version)
    if version[:2] not in VYOS_SUPPORTED:
        raise TemplateError(
            f"{host.name}: os_version={host.os_version!r}: the VyOS templates write the syntax of "
            "VyOS 1.1 and 1.2 only")
    if host.bfd.enabled and version[:2] < (1, 2):
        raise TemplateError(
            f"{host.name}: bfd.enabled=True: VyOS {host.os_version} has no BFD (1.2+ has)")
    neighbors = neighbor_views(host, design, frr_policy=False)
    policies = Policies()
    for name in sorted(host.route_maps):
        model_route_map(name, host.route_maps[name], policies)
    # An edge sends its servers nothing (SERVERS-OUT, deny-all), as on FRR.
    policies.route_maps.update(servers_out_policy(host, neighbors))
    context = dict(design=design, neighbors=neighbors, policies=policies,
                   timers=timers_set(host), layer4_hashing=vyos_layer4_hashing(host),
                   version=version)
    return {"config.vyos": TemplateFile(f"vyos/{host.role}.vyos.j2", context, None, None)}
