"""VyOS routers (isp, edge): `config.vyos`, the `set` commands configure mode takes, in the
syntax of the host's release (`os_version`: 1.1, 1.2, 1.4, 1.5; the families are described in
nornir_anycast.design.vyos, their sources in docs/vyos.md)."""

from __future__ import annotations

from nornir_anycast.design.model import Design, HostModel
from nornir_anycast.design.vyos import (
    VYOS_RELEASES,
    dns_allow_from,
    dns_listen_addresses,
    vyos_syntax,
)
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


def vyos_layer4_hashing(host: HostModel) -> bool:
    """`set system ip multipath layer4-hashing`: as set, else on VyOS 1.2+ edges (the seed's)."""
    if host.multipath_layer4_hashing is not None:
        return host.multipath_layer4_hashing
    return host.role == "edge" and version_tuple(host.os_version) >= (1, 2)


def plan_vyos(host: HostModel, design: Design) -> dict[str, TemplateFile]:
    """`config.vyos` (`vyos/<role>.vyos.j2`; no path: entered, not copied; no checker)."""
    version = version_tuple(host.os_version)
    syntax = vyos_syntax(host.os_version)
    if syntax is None:
        raise TemplateError(
            f"{host.name}: os_version={host.os_version!r}: the VyOS templates write the syntax of "
            f"VyOS {VYOS_RELEASES} only")
    if host.bfd.enabled and syntax == "1.1":
        raise TemplateError(
            f"{host.name}: bfd.enabled=True: VyOS {host.os_version} has no BFD (1.2+ has)")
    if syntax == "1.1" and host.multipath_layer4_hashing:
        raise TemplateError(
            f"{host.name}: multipath_layer4_hashing=True: VyOS {host.os_version} has no "
            "`system ip multipath` (1.2+ has)")
    listen, allow = dns_listen_addresses(host), dns_allow_from(host)
    if syntax == "1.4" and host.dns_forwarding is not None and not (listen and allow):
        raise TemplateError(
            f"{host.name}: dns_forwarding.listen_addresses={listen!r}, allow_from={allow!r}: "
            f"VyOS {host.os_version} needs both (none come from listen_on either)")
    neighbors = neighbor_views(host, design, frr_policy=False)
    policies = Policies()
    for name in sorted(host.route_maps):
        model_route_map(name, host.route_maps[name], policies)
    # An edge sends its servers nothing (SERVERS-OUT, deny-all), as on FRR.
    policies.route_maps.update(servers_out_policy(host, neighbors))
    context = dict(design=design, neighbors=neighbors, policies=policies,
                   timers=timers_set(host), layer4_hashing=vyos_layer4_hashing(host),
                   version=version, syntax=syntax,
                   dns_listen_addresses=listen, dns_allow_from=allow)
    return {"config.vyos": TemplateFile(f"vyos/{host.role}.vyos.j2", context, None, None)}
