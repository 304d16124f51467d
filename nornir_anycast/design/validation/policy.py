"""Policy rules: route maps, NAT, DNS forwarding."""

from __future__ import annotations

from nornir_anycast.design.model import Design
from nornir_anycast.design.validation.common import (
    NAT_RULE,
    Report,
    join_names,
    parse_address,
    parse_network,
)


def rule_route_maps(design: Design, r: Report) -> None:
    """Neighbors' route maps are defined on the host; route-map rules parse and are unique."""
    for h in design.hosts.values():
        for n, nb in enumerate(h.bgp.neighbors):
            for attr in ("route_map_in", "route_map_out"):
                name = getattr(nb, attr)
                if name is not None and name not in h.route_maps:
                    defined = join_names(sorted(h.route_maps)) or "none"
                    r.error(h.name, f"bgp.neighbors.{n}.{attr}", name,
                            f"no route map of that name in route_maps (defined: {defined})")
        for name, rules in h.route_maps.items():
            seen: set[int] = set()
            for k, rule in enumerate(rules):
                base = f"route_maps.{name}.{k}"
                if not 1 <= rule.rule <= 65535:
                    r.error(h.name, f"{base}.rule", rule.rule,
                            "route-map rule numbers are 1..65535")
                if rule.rule in seen:
                    r.error(h.name, f"{base}.rule", rule.rule,
                            f"rule {rule.rule} appears twice in route map {name}")
                seen.add(rule.rule)
                if rule.match_prefix is not None and parse_network(rule.match_prefix) is None:
                    r.error(h.name, f"{base}.match_prefix", rule.match_prefix,
                            "not a prefix such as 10.13.13.1/32 (host bits must be zero)")


def rule_nat(design: Design, r: Report) -> None:
    """NAT rules: addresses parse, ports and rule numbers are in range, interfaces exist."""
    for h in design.hosts.values():
        ifnames = {i.name for i in h.interfaces}
        lo, hi = NAT_RULE
        numbers = {
            "source": [rule.rule for rule in h.nat.source],
            "destination": [rule.rule for rule in h.nat.destination],
        }
        for kind, rules in numbers.items():
            seen: set[int] = set()
            for k, number in enumerate(rules):
                base = f"nat.{kind}.{k}"
                if not lo <= number <= hi:
                    r.error(h.name, f"{base}.rule", number, f"NAT rule numbers are {lo}..{hi}")
                if number in seen:
                    r.error(h.name, f"{base}.rule", number,
                            f"{kind} NAT rule {number} is defined twice")
                seen.add(number)
        for k, s in enumerate(h.nat.source):
            base = f"nat.source.{k}"
            if parse_network(s.source_address, strict=False) is None and parse_address(
                    s.source_address) is None:
                r.error(h.name, f"{base}.source_address", s.source_address,
                        "not an address or prefix such as 10.12.12.0/24")
            if s.translation != "masquerade" and parse_address(s.translation) is None:
                r.error(h.name, f"{base}.translation", s.translation,
                        "must be 'masquerade' or an IP address")
            if s.outbound_interface not in ifnames:
                r.error(h.name, f"{base}.outbound_interface", s.outbound_interface,
                        f"{h.name} has no interface of that name "
                        f"({join_names(sorted(ifnames)) or 'none'})")
        for k, d in enumerate(h.nat.destination):
            base = f"nat.destination.{k}"
            if parse_address(d.destination_address) is None:
                r.error(h.name, f"{base}.destination_address", d.destination_address,
                        "not an IP address")
            if parse_address(d.translation_address) is None:
                r.error(h.name, f"{base}.translation_address", d.translation_address,
                        "not an IP address")
            if not 1 <= d.destination_port <= 65535:
                r.error(h.name, f"{base}.destination_port", d.destination_port,
                        "ports are 1..65535")
            if d.inbound_interface != "any" and d.inbound_interface not in ifnames:
                r.error(h.name, f"{base}.inbound_interface", d.inbound_interface,
                        f"{h.name} has no interface of that name (use 'any' or one of "
                        f"{join_names(sorted(ifnames)) or 'none'})")


def rule_dns_forwarding(design: Design, r: Report) -> None:
    """DNS forwarding listens on interfaces of the host and forwards to IP addresses."""
    for h in design.hosts.values():
        dns = h.dns_forwarding
        if dns is None:
            continue
        ifnames = {i.name for i in h.interfaces}
        for k, name in enumerate(dns.listen_on):
            if name not in ifnames:
                r.error(h.name, f"dns_forwarding.listen_on.{k}", name,
                        f"{h.name} has no interface of that name "
                        f"({join_names(sorted(ifnames)) or 'none'})")
        for k, ns in enumerate(dns.name_servers):
            if parse_address(ns) is None:
                r.error(h.name, f"dns_forwarding.name_servers.{k}", ns, "not an IP address")
        for k, addr in enumerate(dns.listen_addresses):
            if parse_address(addr) is None:
                r.error(h.name, f"dns_forwarding.listen_addresses.{k}", addr,
                        "not an IP address")
        for k, net in enumerate(dns.allow_from):
            if parse_network(net) is None:
                r.error(h.name, f"dns_forwarding.allow_from.{k}", net,
                        "not a network such as 10.12.12.0/24")
        if dns.cache_size < 0:
            r.error(h.name, "dns_forwarding.cache_size", dns.cache_size, "cannot be negative")
