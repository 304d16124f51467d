"""What each VyOS release accepts, in one place: validation refuses what a release cannot take,
render (nornir_anycast.render.vyos) writes the syntax of the release's family.

`os_version` in the inventory selects the release (`1.1.7`, `1.2`, `1.4.2`, `1.5`: major.minor
counts). The `set` syntax families, checked against VyOS's own documentation and configuration
templates for each release (docs/vyos.md lists the sources):

- `1.1` (VyOS 1.1.x, Quagga): `protocols bgp <asn> ...`, every neighbor option flat
  (`neighbor X route-map export M`, `neighbor X maximum-prefix N`), `network` flat; DNS
  forwarding by interface (`listen-on`); no BFD.
- `1.2` (VyOS 1.2.x "crux", FRR): still `protocols bgp <asn>` and flat `maximum-paths`, but
  `network` and a neighbor's `maximum-prefix` / `route-map` under `address-family ipv4-unicast`
  (VyOS 1.2.0's migration quagga/2-to-3, T849); BFD; DNS forwarding (PowerDNS) by
  `listen-address` / `allow-from` (`listen-on` kept for compatibility).
- `1.4` (VyOS 1.4 "sagitta" and 1.5 "circinus", FRR 9/10): `protocols bgp system-as <asn>`,
  neighbors under `protocols bgp neighbor X`, activated per address family
  (`neighbor X address-family ipv4-unicast`: 1.4 no longer activates IPv4 by default),
  `maximum-paths` under `address-family ipv4-unicast`; NAT matches interfaces with
  `outbound-interface name X` / `inbound-interface name X`; DNS forwarding needs a
  `listen-address` and an `allow-from`. VyOS 1.5 has no migration of these nodes after 1.4, so
  both take the same lines.

VyOS 1.3 ("equuleus") is not rendered: it has `protocols bgp <asn>` with 1.4's address-family
layout, a third dialect nobody asked for.
"""

from __future__ import annotations

import ipaddress
import re

from nornir_anycast.design.model import HostModel

#: Release (major, minor) -> the `set` syntax family the templates write for it.
VYOS_SYNTAX: dict[tuple[int, int], str] = {
    (1, 1): "1.1", (1, 2): "1.2", (1, 4): "1.4", (1, 5): "1.4",
}

#: The releases, as users write them, for messages.
VYOS_RELEASES = "1.1, 1.2, 1.4 and 1.5"

_MAJOR_MINOR = re.compile(r"^(\d+)\.(\d+)")


def vyos_release(os_version: str | None) -> tuple[int, int] | None:
    """`1.4.2` -> (1, 4); None or junk -> None."""
    m = _MAJOR_MINOR.match(os_version or "")
    return (int(m.group(1)), int(m.group(2))) if m else None


def vyos_syntax(os_version: str | None) -> str | None:
    """The syntax family (`1.1`, `1.2`, `1.4`) of a VyOS release, None when not rendered."""
    release = vyos_release(os_version)
    return VYOS_SYNTAX.get(release) if release is not None else None


def _listen_on_addresses(
        host: HostModel) -> list[ipaddress.IPv4Interface | ipaddress.IPv6Interface]:
    """The static addresses of the DNS forwarder's `listen_on` interfaces, in their order."""
    assert host.dns_forwarding is not None
    by_name = {i.name: i for i in host.interfaces}
    return [a for name in host.dns_forwarding.listen_on if name in by_name
            for a in by_name[name].interfaces()]


def dns_listen_addresses(host: HostModel) -> list[str]:
    """`listen-address` values (VyOS 1.4+): the inventory's `dns_forwarding.listen_addresses`,
    else the static addresses of the `listen_on` interfaces (what VyOS's own migration
    dns-forwarding/1-to-2 did when 1.3 removed `listen-on`)."""
    dns = host.dns_forwarding
    if dns is None:
        return []
    if dns.listen_addresses:
        return list(dns.listen_addresses)
    return [str(a.ip) for a in _listen_on_addresses(host)]


def dns_allow_from(host: HostModel) -> list[str]:
    """`allow-from` networks (VyOS 1.4+): the inventory's `dns_forwarding.allow_from`, else the
    connected networks of the `listen_on` interfaces (VyOS's migration dns-forwarding/0-to-1
    allowed 0.0.0.0/0 and ::/0 instead: an open resolver on an edge router)."""
    dns = host.dns_forwarding
    if dns is None:
        return []
    if dns.allow_from:
        return list(dns.allow_from)
    nets: list[str] = []
    for a in _listen_on_addresses(host):
        net = str(ipaddress.ip_network(a.network))
        if net not in nets:
            nets.append(net)
    return nets
