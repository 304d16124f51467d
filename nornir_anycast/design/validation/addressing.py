"""Addressing rules: interface addresses, gateways, router ids, duplicates, static routes."""

from __future__ import annotations

import ipaddress
from collections import defaultdict

from nornir_anycast.design.model import Design
from nornir_anycast.design.validation.common import (
    IPAddress,
    Report,
    join_names,
    parse_address,
    parse_interface,
    parse_network,
)


def rule_interface_addresses(design: Design, r: Report) -> None:
    """Interface addresses are address/length host addresses; `dhcp` only on VyOS."""
    for h in design.hosts.values():
        for i, itf in enumerate(h.interfaces):
            for j, text in enumerate(itf.addresses):
                field = f"interfaces.{i}.addresses.{j}"
                if text == "dhcp":
                    if h.platform != "vyos":
                        r.error(h.name, field, text,
                                f"'dhcp' is accepted only on VyOS (platform is {h.platform}); "
                                "give an address/length such as 172.16.42.3/31")
                    continue
                parsed = parse_interface(text)
                if parsed is None:
                    hint = (" (the prefix length is missing)"
                            if "/" not in text and parse_address(text) else "")
                    r.error(h.name, field, text,
                            "not an address/length such as 172.16.42.3/31" + hint)
                    continue
                net = parsed.network
                if net.num_addresses > 2 and parsed.ip in (net.network_address,
                                                           net.broadcast_address):
                    which = "network" if parsed.ip == net.network_address else "broadcast"
                    r.error(h.name, field, text,
                            f"is the {which} address of {net}, not a host address")


def rule_gateways(design: Design, r: Report) -> None:
    """A gateway is an address inside the subnet of one of its interface's static addresses;
    a list of gateways (a server behind several edges) holds each one once."""
    for h in design.hosts.values():
        for i, itf in enumerate(h.interfaces):
            if itf.gateway is None:
                continue
            several = not isinstance(itf.gateway, str)
            if several and not itf.gateways():
                r.error(h.name, f"interfaces.{i}.gateway", [],
                        "an empty list: give one or more gateway addresses, or none")
            seen: set[IPAddress] = set()
            for k, text in enumerate(itf.gateways()):
                field = f"interfaces.{i}.gateway" + (f".{k}" if several else "")
                gw = parse_address(text)
                if gw is None:
                    r.error(h.name, field, text, "not an IP address")
                    continue
                if gw in seen:
                    r.error(h.name, field, text, "gateway is listed twice")
                seen.add(gw)
                nets = [p for p in (parse_interface(a) for a in itf.addresses) if p is not None]
                if not nets:
                    r.error(h.name, field, text,
                            f"interface {itf.name} has no static address, so no subnet to reach "
                            "the gateway in")
                    continue
                if gw in {n.ip for n in nets}:
                    r.error(h.name, field, text,
                            f"is this host's own address on {itf.name}")
                elif not any(gw in n.network for n in nets):
                    r.error(h.name, field, text,
                            f"is outside the subnets of {itf.name} "
                            f"({join_names(dict.fromkeys(str(n.network) for n in nets))})")


def rule_router_ids(design: Design, r: Report) -> None:
    """Router ids are IPv4 addresses, unique across all hosts."""
    seen: dict[ipaddress.IPv4Address, list[str]] = defaultdict(list)
    for h in design.hosts.values():
        if h.router_id is None:
            continue
        rid = parse_address(h.router_id)
        if not isinstance(rid, ipaddress.IPv4Address):
            r.error(h.name, "router_id", h.router_id,
                    "a router id must be an IPv4 address such as 172.16.42.3")
            continue
        seen[rid].append(h.name)
    for rid, names in seen.items():
        if len(names) > 1:
            for name in names:
                others = [n for n in names if n != name]
                r.error(name, "router_id", str(rid),
                        f"router id is also used by {join_names(others)}; "
                        "router ids must be unique")


def rule_duplicate_addresses(design: Design, r: Report) -> None:
    """No interface address is configured twice, on one host or across hosts."""
    where: dict[IPAddress, list[tuple[str, str, str]]] = defaultdict(list)
    for h in design.hosts.values():
        for i, itf in enumerate(h.interfaces):
            for j, text in enumerate(itf.addresses):
                parsed = parse_interface(text)
                if parsed is not None:
                    where[parsed.ip].append((h.name, f"interfaces.{i}.addresses.{j}", text))
    for ip, places in where.items():
        if len(places) < 2:
            continue
        for host, field, text in places:
            others = [f"{oh} {of}" for oh, of, _ in places if (oh, of) != (host, field)]
            r.error(host, field, text,
                    f"address {ip} is also configured on {join_names(others)}")


def rule_static_routes(design: Design, r: Report) -> None:
    """Static routes: the prefix parses, and exactly one of next_hop / blackhole is given."""
    for h in design.hosts.values():
        for k, s in enumerate(h.static_routes):
            base = f"static_routes.{k}"
            if parse_network(s.prefix) is None:
                r.error(h.name, f"{base}.prefix", s.prefix,
                        "not a prefix such as 0.0.0.0/0 (host bits must be zero)")
            if s.blackhole and s.next_hop is not None:
                r.error(h.name, f"{base}.next_hop", s.next_hop,
                        "a route is either a blackhole or has a next hop, not both")
            elif not s.blackhole and s.next_hop is None:
                r.error(h.name, f"{base}.next_hop", None,
                        "give a next_hop, or blackhole: true")
            elif s.next_hop is not None and parse_address(s.next_hop) is None:
                r.error(h.name, f"{base}.next_hop", s.next_hop, "not an IP address")
