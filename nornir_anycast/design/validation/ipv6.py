"""IPv6 rules (docs/ipv6.md): one BGP session per family, single-hop on a shared subnet; the
IPv6 default route (`gateway6`); what each family's sessions can carry; what stays IPv4 only
(DNAT, VyOS's BGP, BIRD 1.6); and the dual-stack warning."""

from __future__ import annotations

from nornir_anycast.design.model import Design, HostModel
from nornir_anycast.design.validation.common import (
    IPNetwork,
    Report,
    address_owners,
    interface_ips,
    join_names,
    names_capped,
    parse_address,
    parse_interface,
    parse_network,
)


def _subnets(host: HostModel, version: int) -> list[IPNetwork]:
    """The host's interface subnets of one family, in inventory order, each once."""
    return list(dict.fromkeys(i.network for i in interface_ips(host) if i.version == version))


def rule_ipv6_neighbors_on_link(design: Design, r: Report) -> None:
    """An IPv6 BGP neighbor is on one of this host's IPv6 subnets: IPv6 sessions are single-hop
    (BIRD's `direct`, BFD single-hop) and the next hops are the link's own addresses."""
    for h in design.hosts.values():
        nets = _subnets(h, 6)
        for n, nb in enumerate(h.bgp.neighbors):
            ip = parse_address(nb.address)
            if ip is None or ip.version != 6:
                continue  # rule_neighbor_owners reports what does not parse
            if not any(ip in net for net in nets):
                have = join_names(str(net) for net in nets) or "none"
                r.error(h.name, f"bgp.neighbors.{n}.address", nb.address,
                        f"is not on any IPv6 subnet of {h.name} (its IPv6 subnets: {have}); "
                        "IPv6 sessions are single-hop, with the link's addresses as next hops")


def rule_gateway6(design: Design, r: Report) -> None:
    """`gateway6` is an IPv6 address inside an IPv6 subnet of its interface (not the host's
    own); `gateway` is the IPv4 one (an IPv6 address belongs in gateway6)."""
    for h in design.hosts.values():
        for i, itf in enumerate(h.interfaces):
            several = not isinstance(itf.gateway, str)
            for k, text in enumerate(itf.gateways()):
                gw4 = parse_address(text)
                if gw4 is not None and gw4.version == 6:
                    r.error(h.name, f"interfaces.{i}.gateway" + (f".{k}" if several else ""),
                            text, "is an IPv6 address: the IPv6 default route's next hop is "
                            "gateway6 (gateway is the IPv4 one)")
            if itf.gateway6 is None:
                continue
            many = not isinstance(itf.gateway6, str)
            for k, text in enumerate(itf.gateways6()):
                field = f"interfaces.{i}.gateway6" + (f".{k}" if many else "")
                _one_gateway6(r, h.name, field, itf.name, itf.addresses, text)
            if many and not itf.gateways6():
                r.error(h.name, f"interfaces.{i}.gateway6", [],
                        "an empty list: give one IPv6 gateway, or one per edge, or none")


def _one_gateway6(r: Report, host: str, field: str, ifname: str, addresses: list[str],
                  text: str) -> None:
    gw = parse_address(text)
    if gw is None or gw.version != 6:
        r.error(host, field, text,
                "not an IPv6 address (gateway6 is the IPv6 default route's next hop)")
        return
    own = [p for p in (parse_interface(a) for a in addresses) if p is not None and p.version == 6]
    if not own:
        r.error(host, field, text,
                f"interface {ifname} has no static IPv6 address, so no IPv6 subnet to reach "
                "the gateway in")
    elif gw in {p.ip for p in own}:
        r.error(host, field, text, f"is this host's own address on {ifname}")
    elif not any(gw in p.network for p in own):
        nets = join_names(dict.fromkeys(str(p.network) for p in own))
        r.error(host, field, text, f"is outside the IPv6 subnets of {ifname} ({nets})")


def _edge_sessions(design: Design, server: HostModel) -> set[int]:
    """The families (4, 6) of the server's BGP sessions to an edge."""
    owners = address_owners(design)
    out: set[int] = set()
    for nb in server.bgp.neighbors:
        ip = parse_address(nb.address)
        if ip is not None and any(design.hosts[o].role == "edge" for o in owners.get(ip, [])):
            out.add(ip.version)
    return out


def rule_family_sessions(design: Design, r: Report) -> None:
    """Each anycast prefix of a server has a session of its family to an edge: a /128 goes
    over an IPv6 session, a /32 over an IPv4 one (one session per family)."""
    for h in design.hosts.values():
        if h.role != "server":
            continue
        sessions = _edge_sessions(design, h)
        if not sessions:
            continue  # rule_role_fields: a server needs an edge neighbor
        for a, any_ in enumerate(h.anycast):
            net = parse_network(any_.prefix, strict=False)
            if net is None or net.version in sessions:
                continue
            r.error(h.name, f"anycast.{a}.prefix", any_.prefix,
                    f"is an IPv{net.version} prefix, but {h.name} has no IPv{net.version} BGP "
                    f"neighbor that is an edge: each family is announced over a session of "
                    f"its own (add the edge's IPv{net.version} address to bgp.neighbors)")


def rule_ipv4_only_features(design: Design, r: Report) -> None:
    """What stays IPv4 only: DNAT (on every platform; FRR routers' NAT is refused by
    rule_renderable already), VyOS's BGP, networks and static routes (the VyOS templates
    write IPv4 unicast only), BIRD 1.6 (its IPv6 is a second daemon, bird6)."""
    for h in design.hosts.values():
        if h.platform != "frr":
            for k, d in enumerate(h.nat.destination):
                for key in ("destination_address", "translation_address"):
                    text = getattr(d, key)
                    ip = parse_address(text)
                    if ip is not None and ip.version == 6:
                        r.error(h.name, f"nat.destination.{k}.{key}", text,
                                "destination NAT is IPv4 only (docs/ipv6.md): IPv6 anycast "
                                "addresses are announced and served as they are")
        if h.platform == "vyos":
            v6 = [(f"bgp.neighbors.{n}.address", nb.address)
                  for n, nb in enumerate(h.bgp.neighbors) if ":" in nb.address]
            v6 += [(f"bgp.networks.{k}", net) for k, net in enumerate(h.bgp.networks)
                   if ":" in net]
            v6 += [(f"static_routes.{k}.prefix", s.prefix)
                   for k, s in enumerate(h.static_routes) if ":" in s.prefix]
            for field, text in v6:
                r.error(h.name, field, text,
                        "the VyOS templates render IPv4 unicast only (no IPv6 BGP, networks or "
                        "static routes on VyOS yet, docs/ipv6.md); use platform frr for a "
                        "dual-stack router")
        if h.role == "server" and h.bird_version == 1:
            for a, any_ in enumerate(h.anycast):
                if ":" in any_.prefix:
                    r.error(h.name, f"anycast.{a}.prefix", any_.prefix,
                            "bird_version 1 announces IPv4 only (BIRD 1.6 runs IPv6 in a "
                            "second daemon, bird6, which is not rendered); use bird_version "
                            "2 or 3")


def _families(host: HostModel) -> set[int]:
    return {net.version for a in host.anycast
            if (net := parse_network(a.prefix, strict=False)) is not None}


def rule_dual_stack(design: Design, r: Report) -> None:
    """Warning: the service is dual-stack (some server announces anycast prefixes of both
    families) but a server announces one family only: clients of the other family never
    reach it, and it takes that family's share of nobody's traffic."""
    servers = [h for h in design.hosts.values() if h.role == "server"]
    both = [h.name for h in servers if _families(h) == {4, 6}]
    if not both:
        return
    for h in servers:
        families = _families(h)
        if len(families) != 1:
            continue
        have = next(iter(families))
        missing = 6 if have == 4 else 4
        r.warning(h.name, "anycast", [a.prefix for a in h.anycast],
                  f"announces IPv{have} anycast prefixes only, but the service is dual-stack "
                  f"({names_capped(both)} announce{'s' if len(both) == 1 else ''} IPv4 and "
                  f"IPv6): IPv{missing} clients are never sent to {h.name}")
