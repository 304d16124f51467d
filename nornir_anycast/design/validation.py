"""Cross-host and per-host checks of a `Design` (see nornir_anycast.design.model).

`validate()` returns every problem found; errors stop a run before any device is touched,
warnings are only reported. Each problem names the host, the dotted field path
(`interfaces.0.addresses.1`, `bgp.neighbors.2.address`), the bad value, and says in words what
is wrong. Type errors and unknown keys are caught earlier, when the inventory is converted
(`nornir_anycast.design.build.host_model`), and come out as the same kind of Problem.

The rules, one function each below (README "Inventory keys" lists what they check):

 1. interface addresses are address/length, host addresses (`dhcp` only on VyOS)
 2. interface gateways are addresses inside a subnet of their interface
 3. AS numbers (own and remote) are in 1..4294967295
 4. router ids are IPv4 addresses, unique across hosts
 5. no interface address is configured twice (on one host or across hosts)
 6. BGP neighbors are addresses owned by another host of the inventory, listed once
 7. a neighbor's remote_as is the AS of the host that owns the address
 8. update_source is an address of this host, of the neighbor's family
 9. BGP sessions are configured on both ends
10. anycast prefixes are host routes (/32, /128), only on servers
11. each server holds each of its anycast addresses on loopback (`loopback` entries parse)
12. local_pref is in 0..4294967295
13. the edge's maximum_paths_ibgp covers the servers sharing the best preference (warning)
14. role-required fields (servers, edges, ISP routers, clients)
15. servers are in the AS of their edge (the design is iBGP multipath)
16. route_map_in / route_map_out name a route map defined on the host; route maps parse
17. BGP timers are sane (hold 0 or 3..65535, keepalive <= hold, ...)
18. BFD interval and multiplier are in range
19. NAT rules: addresses parse, ports and rule numbers in range, interfaces exist
20. static routes: prefix parses, exactly one of next_hop / blackhole
21. BGP networks are prefixes
22. platform, os and role fit together (servers run BIRD on Linux; VyOS needs os_version)
23. DNS forwarding: listen_on interfaces exist, name servers are addresses
24. BFD on a server but not on its edge (warning)
25. password_env is the name of an environment variable, password_file a path (one of them;
    the password itself is never printed)
26. names and text that end up in configuration files are single words or single lines
    (host, interface and route-map names; descriptions; paths): nothing can inject a line
27. what the templates can render: VyOS 1.1 / 1.2 syntax, BFD on VyOS 1.2+, NAT on FRR (Linux)
    routers IPv4 only, DNS forwarding on VyOS only (caught here instead of failing at render)
28. healthcheck (anycast-healthchecker): servers only; interval, timeout > 0, rise, fall >= 1
    (server-wide and per prefix); url http(s), command and binary on one line; binary absolute
    (relative only on lab hosts); IPv4 anycast prefixes only; the dummy prefix is an IPv4
    prefix used nowhere; the variable is a BIRD name
"""

from __future__ import annotations

import difflib
import functools
import ipaddress
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import yaml

from nornir_anycast.design.model import Design, HostModel
from nornir_anycast.exceptions import Problem

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPInterface = ipaddress.IPv4Interface | ipaddress.IPv6Interface
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

ASN_MAX = 4294967295
LOCAL_PREF_MAX = 4294967295
BFD_INTERVAL_MS = (10, 60000)  # FRR bfdd's range (BIRD accepts more)
BFD_MULTIPLIER = (2, 255)  # FRR bfdd's range
NAT_RULE = (1, 9999)  # VyOS rule numbers
ROUTERS = ("isp", "edge")


class _Report:
    """Collects problems; one instance per validate() call."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def error(self, host: str, field: str, value: object, message: str) -> None:
        self.problems.append(Problem(host, field, value, message))

    def warning(self, host: str, field: str, value: object, message: str) -> None:
        self.problems.append(Problem(host, field, value, message, severity="warning"))


# ---------------------------------------------------------------------------------------------
# Parsing helpers: None when the text does not parse (the rule that owns the field reports it).
# Cached: every rule parses the same few strings (ipaddress objects are immutable).


@functools.lru_cache(maxsize=65536)
def parse_interface(text: str) -> IPInterface | None:
    """`172.16.42.3/31` -> IPv4Interface; None for anything without an explicit /length."""
    if "/" not in text:
        return None
    try:
        return ipaddress.ip_interface(text)
    except ValueError:
        return None


@functools.lru_cache(maxsize=65536)
def parse_address(text: str | None) -> IPAddress | None:
    if text is None:
        return None
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


@functools.lru_cache(maxsize=65536)
def parse_network(text: str, *, strict: bool = True) -> IPNetwork | None:
    """A prefix (`10.12.12.0/24`); with strict=False host bits may be set (`172.16.42.3/31`)."""
    if "/" not in text:
        return None
    try:
        return ipaddress.ip_network(text, strict=strict)
    except ValueError:
        return None


def interface_ips(host: HostModel) -> list[IPInterface]:
    """Every interface address of `host` that parses (`dhcp` and bad ones left out)."""
    out = []
    for itf in host.interfaces:
        for a in itf.addresses:
            parsed = parse_interface(a)
            if parsed is not None:
                out.append(parsed)
    return out


def loopback_ips(host: HostModel) -> list[IPInterface]:
    return [p for p in (parse_interface(a) for a in host.loopback) if p is not None]


def _own_addresses(host: HostModel) -> set[IPAddress]:
    return {i.ip for i in interface_ips(host)} | {i.ip for i in loopback_ips(host)}


def _owners(design: Design) -> dict[IPAddress, list[str]]:
    """Address -> hosts holding it on an interface (loopbacks too when held by one host only)."""
    owners: dict[IPAddress, list[str]] = defaultdict(list)
    for h in design.hosts.values():
        for ip in {i.ip for i in interface_ips(h)}:
            owners[ip].append(h.name)
    loop: dict[IPAddress, list[str]] = defaultdict(list)
    for h in design.hosts.values():
        for ip in {i.ip for i in loopback_ips(h)}:
            loop[ip].append(h.name)
    for ip, names in loop.items():
        if ip not in owners and len(names) == 1:  # anycast addresses are nobody's own
            owners[ip] = names
    return owners


def _names_capped(names: list[str], cap: int = 10) -> str:
    """At most `cap` names, then how many more."""
    if len(names) <= cap:
        return _names(names)
    return f"{_names(names[:cap])} and {len(names) - cap} more"


def _a(word: str) -> str:
    return f"{'an' if word[:1] in 'aeiou' else 'a'} {word}"


def _names(names: Iterable[str]) -> str:
    return ", ".join(names)


# ---------------------------------------------------------------------------------------------
# Rules. Each takes the design and the report, and checks every host.


def check_interface_addresses(design: Design, r: _Report) -> None:
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


def check_gateways(design: Design, r: _Report) -> None:
    """A gateway is an address inside the subnet of one of its interface's static addresses."""
    for h in design.hosts.values():
        for i, itf in enumerate(h.interfaces):
            if itf.gateway is None:
                continue
            field = f"interfaces.{i}.gateway"
            gw = parse_address(itf.gateway)
            if gw is None:
                r.error(h.name, field, itf.gateway, "not an IP address")
                continue
            nets = [p for p in (parse_interface(a) for a in itf.addresses) if p is not None]
            if not nets:
                r.error(h.name, field, itf.gateway,
                        f"interface {itf.name} has no static address, so no subnet to reach "
                        "the gateway in")
                continue
            if gw in {n.ip for n in nets}:
                r.error(h.name, field, itf.gateway,
                        f"is this host's own address on {itf.name}")
            elif not any(gw in n.network for n in nets):
                r.error(h.name, field, itf.gateway,
                        f"is outside the subnets of {itf.name} "
                        f"({_names(dict.fromkeys(str(n.network) for n in nets))})")


def check_asns(design: Design, r: _Report) -> None:
    """AS numbers, own and remote, are in 1..4294967295."""
    for h in design.hosts.values():
        if h.asn is not None and not 1 <= h.asn <= ASN_MAX:
            r.error(h.name, "asn", h.asn, f"AS number must be in 1..{ASN_MAX}")
        for n, nb in enumerate(h.bgp.neighbors):
            if not 1 <= nb.remote_as <= ASN_MAX:
                r.error(h.name, f"bgp.neighbors.{n}.remote_as", nb.remote_as,
                        f"AS number must be in 1..{ASN_MAX}")


def check_router_ids(design: Design, r: _Report) -> None:
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
                        f"router id is also used by {_names(others)}; router ids must be unique")


def check_duplicate_addresses(design: Design, r: _Report) -> None:
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
                    f"address {ip} is also configured on {_names(others)}")


def check_neighbor_owners(design: Design, r: _Report) -> None:
    """Every BGP neighbor is an address owned by another host of the inventory, listed once."""
    owners = _owners(design)
    for h in design.hosts.values():
        seen: set[IPAddress] = set()
        for n, nb in enumerate(h.bgp.neighbors):
            field = f"bgp.neighbors.{n}.address"
            ip = parse_address(nb.address)
            if ip is None:
                r.error(h.name, field, nb.address, "not an IP address")
                continue
            if ip in seen:
                r.error(h.name, field, nb.address, "neighbor is listed twice")
            seen.add(ip)
            found = owners.get(ip, [])
            if not found:
                r.error(h.name, field, nb.address,
                        "no host of the inventory has this address on an interface")
            elif found == [h.name]:
                r.error(h.name, field, nb.address, "is this host's own address")


def check_neighbor_remote_as(design: Design, r: _Report) -> None:
    """A neighbor's remote_as is the AS of the host that owns the neighbor address."""
    owners = _owners(design)
    for h in design.hosts.values():
        for n, nb in enumerate(h.bgp.neighbors):
            ip = parse_address(nb.address)
            found = owners.get(ip, []) if ip is not None else []
            if len(found) != 1:
                continue
            peer = design.hosts[found[0]]
            if peer.asn is not None and nb.remote_as != peer.asn:
                r.error(h.name, f"bgp.neighbors.{n}.remote_as", nb.remote_as,
                        f"neighbor {nb.address} is {peer.name}, whose asn is {peer.asn}")


def check_update_source(design: Design, r: _Report) -> None:
    """update_source is an address of this host (interface or loopback), of the peer's family."""
    for h in design.hosts.values():
        own = _own_addresses(h)
        for n, nb in enumerate(h.bgp.neighbors):
            if nb.update_source is None:
                continue
            field = f"bgp.neighbors.{n}.update_source"
            src = parse_address(nb.update_source)
            if src is None:
                r.error(h.name, field, nb.update_source, "not an IP address")
                continue
            if src not in own:
                r.error(h.name, field, nb.update_source,
                        f"is not an address of {h.name} (it has "
                        f"{_names(str(a) for a in sorted(own, key=_sort_key)) or 'none'})")
                continue
            peer_ip = parse_address(nb.address)
            if peer_ip is not None and peer_ip.version != src.version:
                r.error(h.name, field, nb.update_source,
                        f"is IPv{src.version} but neighbor {nb.address} is IPv{peer_ip.version}")


def check_sessions_both_ends(design: Design, r: _Report) -> None:
    """A BGP session is configured on both ends: the peer lists this host's source address."""
    owners = _owners(design)
    lists = {name: {ip for nb in h.bgp.neighbors if (ip := parse_address(nb.address))}
             for name, h in design.hosts.items()}
    for h in design.hosts.values():
        own = _own_addresses(h)
        for n, nb in enumerate(h.bgp.neighbors):
            ip = parse_address(nb.address)
            found = owners.get(ip, []) if ip is not None else []
            if len(found) != 1 or found[0] == h.name:
                continue
            peer = design.hosts[found[0]]
            src = parse_address(nb.update_source)
            back = lists[peer.name]
            if src is not None:
                if src in own and src not in back:
                    r.error(h.name, f"bgp.neighbors.{n}.address", nb.address,
                            f"{peer.name} has no BGP neighbor {src} (this end's update_source): "
                            "the session cannot come up")
            elif not back & own:
                r.error(h.name, f"bgp.neighbors.{n}.address", nb.address,
                        f"{peer.name} has no BGP neighbor pointing at any address of {h.name}: "
                        "the session cannot come up")


def check_anycast_prefixes(design: Design, r: _Report) -> None:
    """Anycast prefixes are host routes (/32, /128), announced by servers only."""
    for h in design.hosts.values():
        for a, any_ in enumerate(h.anycast):
            field = f"anycast.{a}.prefix"
            net = parse_network(any_.prefix, strict=False)
            if net is None:
                r.error(h.name, field, any_.prefix, "not a prefix such as 10.13.13.1/32")
                continue
            if net.prefixlen != net.max_prefixlen:
                r.error(h.name, field, any_.prefix,
                        f"anycast prefixes must be host routes (/{net.max_prefixlen})")
            if h.role != "server":
                r.error(h.name, field, any_.prefix,
                        f"only servers announce anycast prefixes (role is {h.role})")


def check_anycast_on_loopback(design: Design, r: _Report) -> None:
    """Each server holds each anycast address on loopback; loopback entries are address/length.

    An anycast /32 inside a loopback address's subnet counts as held: the seed puts
    10.13.13.1/24 on lo and Linux answers for the whole /24.
    """
    for h in design.hosts.values():
        loops = []
        for i, text in enumerate(h.loopback):
            parsed = parse_interface(text)
            if parsed is None:
                r.error(h.name, f"loopback.{i}", text,
                        "not an address/length such as 10.13.13.1/32")
            else:
                loops.append(parsed)
        if h.role != "server":
            continue
        for a, any_ in enumerate(h.anycast):
            net = parse_network(any_.prefix, strict=False)
            if net is None:
                continue
            if not any(net.network_address == lo.ip or net.subnet_of(lo.network)  # type: ignore[arg-type]
                       for lo in loops if lo.version == net.version):
                have = _names(h.loopback) or "nothing"
                r.error(h.name, f"anycast.{a}.prefix", any_.prefix,
                        f"{net.network_address} is not on the loopback (loopback has {have}); "
                        "the server would drop the traffic it attracts")


def check_local_pref(design: Design, r: _Report) -> None:
    """local_pref is in 0..4294967295."""
    for h in design.hosts.values():
        if not 0 <= h.local_pref <= LOCAL_PREF_MAX:
            r.error(h.name, "local_pref", h.local_pref,
                    f"local preference must be in 0..{LOCAL_PREF_MAX}")


def check_maximum_paths(design: Design, r: _Report) -> None:
    """maximum_paths_ibgp is >= 1 and covers the servers sharing the best preference (warning)."""
    for h in design.hosts.values():
        mp = h.bgp.maximum_paths_ibgp
        if mp is not None and mp < 1:
            r.error(h.name, "bgp.maximum_paths_ibgp", mp, "must be at least 1")
    for svc in design.services:
        edge = design.hosts[svc.edge]
        best = max(p.local_pref for p in svc.announcers)
        group = [p for p in svc.announcers if p.local_pref == best]
        idle = [p for p in group if p not in svc.ecmp]
        if idle:
            cap = edge.bgp.maximum_paths_ibgp
            r.warning(edge.name, "bgp.maximum_paths_ibgp", cap,
                      f"{len(group)} servers share the best local_pref {best} for {svc.prefix} "
                      f"but only {len(svc.ecmp)} "
                      f"{'path is' if len(svc.ecmp) == 1 else 'paths are'} used: "
                      f"{_names_capped([f'{p.host} ({p.next_hop})' for p in idle])} will "
                      "not carry traffic")


def check_role_fields(design: Design, r: _Report) -> None:
    """Fields each role needs: servers asn/anycast/an edge neighbor, routers asn/router_id, ..."""
    owners = _owners(design)
    for h in design.hosts.values():
        if h.role in ("server", *ROUTERS) and h.asn is None:
            r.error(h.name, "asn", None, f"{_a(h.role)} needs an AS number")
        if h.role in ROUTERS and h.router_id is None:
            r.error(h.name, "router_id", None, f"{_a(h.role)} router needs a router id")
        if h.role == "edge" and h.bgp.maximum_paths_ibgp is None:
            r.error(h.name, "bgp.maximum_paths_ibgp", None,
                    "the edge needs maximum_paths_ibgp (the seed uses 2) to spread traffic")
        if h.role == "server":
            if not h.anycast:
                r.error(h.name, "anycast", [], "a server needs at least one anycast prefix")
            edges = [
                nb.address for nb in h.bgp.neighbors
                if (ip := parse_address(nb.address)) is not None
                and any(design.hosts[o].role == "edge" for o in owners.get(ip, []))
            ]
            if not edges:
                r.error(h.name, "bgp.neighbors",
                        [nb.address for nb in h.bgp.neighbors],
                        "a server needs a BGP neighbor that is an address of an edge router")
        if h.role == "client" and not interface_ips(h):
            r.error(h.name, "interfaces", [i.name for i in h.interfaces],
                    "a client needs at least one interface address")


def check_server_as(design: Design, r: _Report) -> None:
    """Servers are in their edge's AS: the design is iBGP multipath (maximum-paths ibgp)."""
    owners = _owners(design)
    for h in design.hosts.values():
        if h.role != "server" or h.asn is None:
            continue
        for n, nb in enumerate(h.bgp.neighbors):
            ip = parse_address(nb.address)
            found = owners.get(ip, []) if ip is not None else []
            if len(found) != 1:
                continue
            edge = design.hosts[found[0]]
            if edge.role == "edge" and edge.asn is not None and edge.asn != h.asn:
                r.error(h.name, "asn", h.asn,
                        f"server is not in the AS of its edge {edge.name} ({edge.asn}); the "
                        f"design is iBGP so that maximum_paths_ibgp applies (neighbor {n})")


def check_route_maps(design: Design, r: _Report) -> None:
    """Neighbors' route maps are defined on the host; route-map rules parse and are unique."""
    for h in design.hosts.values():
        for n, nb in enumerate(h.bgp.neighbors):
            for attr in ("route_map_in", "route_map_out"):
                name = getattr(nb, attr)
                if name is not None and name not in h.route_maps:
                    defined = _names(sorted(h.route_maps)) or "none"
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


def check_timers(design: Design, r: _Report) -> None:
    """BGP timers as FRR and BIRD accept them: hold 0 or 3..65535, keepalive <= hold, ..."""
    for h in design.hosts.values():
        t = h.bgp_timers
        if not (t.hold == 0 or 3 <= t.hold <= 65535):
            r.error(h.name, "bgp_timers.hold", t.hold,
                    "hold time must be 0 (no hold timer) or 3..65535 seconds")
        if not 0 <= t.keepalive <= 65535:
            r.error(h.name, "bgp_timers.keepalive", t.keepalive,
                    "keepalive must be 0..65535 seconds")
        elif t.keepalive > t.hold:
            r.error(h.name, "bgp_timers.keepalive", t.keepalive,
                    f"keepalive must not exceed the hold time ({t.hold} s)")
        if not 1 <= t.connect_retry <= 65535:
            r.error(h.name, "bgp_timers.connect_retry", t.connect_retry,
                    "connect retry must be 1..65535 seconds")
        if not 1 <= t.connect_delay <= 65535:
            r.error(h.name, "bgp_timers.connect_delay", t.connect_delay,
                    "connect delay must be 1..65535 seconds (BIRD 1.6 refuses 0)")
        lo, hi = t.error_wait
        if lo < 0 or hi < 0:
            r.error(h.name, "bgp_timers.error_wait", list(t.error_wait),
                    "error wait times cannot be negative")
        elif lo > hi:
            r.error(h.name, "bgp_timers.error_wait", list(t.error_wait),
                    "the first (minimum) error wait must not exceed the second (maximum)")


def check_bfd(design: Design, r: _Report) -> None:
    """BFD interval and multiplier are in FRR's ranges (10..60000 ms, 2..255)."""
    for h in design.hosts.values():
        lo, hi = BFD_INTERVAL_MS
        if not lo <= h.bfd.interval_ms <= hi:
            r.error(h.name, "bfd.interval_ms", h.bfd.interval_ms,
                    f"BFD interval must be {lo}..{hi} ms")
        lo, hi = BFD_MULTIPLIER
        if not lo <= h.bfd.multiplier <= hi:
            r.error(h.name, "bfd.multiplier", h.bfd.multiplier,
                    f"BFD multiplier must be {lo}..{hi}")


def check_nat(design: Design, r: _Report) -> None:
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
                        f"({_names(sorted(ifnames)) or 'none'})")
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
                        f"{_names(sorted(ifnames)) or 'none'})")


def check_static_routes(design: Design, r: _Report) -> None:
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


def check_bgp_networks(design: Design, r: _Report) -> None:
    """BGP networks are prefixes with the host bits zero (`0.0.0.0/0`)."""
    for h in design.hosts.values():
        for k, text in enumerate(h.bgp.networks):
            if parse_network(text) is None:
                r.error(h.name, f"bgp.networks.{k}", text,
                        "not a prefix such as 0.0.0.0/0 (host bits must be zero)")
        if h.bgp.maximum_prefix is not None and not 1 <= h.bgp.maximum_prefix <= ASN_MAX:
            r.error(h.name, "bgp.maximum_prefix", h.bgp.maximum_prefix,
                    f"must be in 1..{ASN_MAX}")


_VYOS_VERSION = re.compile(r"^\d+\.\d+(\.\d+)?")


def check_platform(design: Design, r: _Report) -> None:
    """Platform, os and role fit: servers run BIRD on Linux, routers FRR or VyOS, ..."""
    for h in design.hosts.values():
        if h.role == "server" and h.platform != "linux":
            r.error(h.name, "platform", h.platform,
                    "servers run BIRD on Linux: platform must be linux")
        if h.role in ROUTERS and h.platform not in ("frr", "vyos"):
            r.error(h.name, "platform", h.platform,
                    f"{_a(h.role)} router is configured as frr or vyos")
        if h.platform == "vyos":
            if h.os not in (None, "vyos"):
                r.error(h.name, "os", h.os, "platform vyos runs os vyos")
            if h.os_version is None or not _VYOS_VERSION.match(h.os_version):
                r.error(h.name, "os_version", h.os_version,
                        "VyOS hosts need os_version such as '1.1.7' or '1.2' (it selects the "
                        "syntax)")
        elif h.os == "vyos":
            r.error(h.name, "os", h.os, f"os vyos needs platform vyos (platform is {h.platform})")


def check_dns_forwarding(design: Design, r: _Report) -> None:
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
                        f"({_names(sorted(ifnames)) or 'none'})")
        for k, ns in enumerate(dns.name_servers):
            if parse_address(ns) is None:
                r.error(h.name, f"dns_forwarding.name_servers.{k}", ns, "not an IP address")
        if dns.cache_size < 0:
            r.error(h.name, "dns_forwarding.cache_size", dns.cache_size, "cannot be negative")


def check_bfd_both_ends(design: Design, r: _Report) -> None:
    """BFD enabled on a server but not on its edge gives no fast failover (warning)."""
    owners = _owners(design)
    for h in design.hosts.values():
        if h.role != "server" or not h.bfd.enabled:
            continue
        for n, nb in enumerate(h.bgp.neighbors):
            ip = parse_address(nb.address)
            found = owners.get(ip, []) if ip is not None else []
            if len(found) == 1 and design.hosts[found[0]].role == "edge":
                edge = design.hosts[found[0]]
                if not edge.bfd.enabled:
                    r.warning(h.name, "bfd.enabled", True,
                              f"BFD is on here but off on {edge.name} (neighbor {n}): the "
                              "session stays down and failover waits for the BGP hold timer")


_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def check_password_env(design: Design, r: _Report) -> None:
    """password_env names an environment variable; it must not hold the secret itself.
    password_file is a path; a neighbor takes its password from one of the two."""
    for h in design.hosts.values():
        for n, nb in enumerate(h.bgp.neighbors):
            if nb.password_env is not None and not _ENV_NAME.match(nb.password_env):
                r.error(h.name, f"bgp.neighbors.{n}.password_env", "(hidden)",
                        "must be the NAME of an environment variable holding the password "
                        "(letters, digits, _), not the password itself")
            if nb.password_file is not None:
                if nb.password_env is not None:
                    r.error(h.name, f"bgp.neighbors.{n}.password_file", nb.password_file,
                            "give password_env or password_file, not both")
                if not nb.password_file.strip() or _CONTROL.search(nb.password_file):
                    r.error(h.name, f"bgp.neighbors.{n}.password_file", "(hidden)",
                            "must be the path of a file holding the password")


#: Host, interface and route-map names go into configs and shell commands as single words.
_HOST_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
_IFNAME = re.compile(r"^[A-Za-z0-9_.-]{1,15}$")  # Linux IFNAMSIZ - 1
_ROUTE_MAP_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,63}$")


def _one_line(r: _Report, host: str, field: str, text: str | None) -> None:
    """Free text written into a config line: no control characters (a newline would start a
    configuration line of its own), no double quote (BIRD quotes descriptions)."""
    if text is None:
        return
    if _CONTROL.search(text):
        r.error(host, field, text, "must be one line of text without control characters "
                                   "(a newline would inject a line into the configuration)")
    elif '"' in text:
        r.error(host, field, text, 'must not contain a double quote (")')


def check_text_fields(design: Design, r: _Report) -> None:
    """Names and free text that end up in configuration files cannot break out of their line."""
    for h in design.hosts.values():
        if not _HOST_NAME.match(h.name):
            r.error(h.name, "name", h.name,
                    "host names are written into configs: letters, digits, '-', '_', '.' "
                    "(at most 63, starting with a letter or digit)")
        for i, itf in enumerate(h.interfaces):
            if not _IFNAME.match(itf.name):
                r.error(h.name, f"interfaces.{i}.name", itf.name,
                        "not an interface name: 1..15 letters, digits, '-', '_', '.'")
            _one_line(r, h.name, f"interfaces.{i}.description", itf.description)
        for n, nb in enumerate(h.bgp.neighbors):
            _one_line(r, h.name, f"bgp.neighbors.{n}.description", nb.description)
        for k, d in enumerate(h.nat.destination):
            _one_line(r, h.name, f"nat.destination.{k}.description", d.description)
        for name in h.route_maps:
            if not _ROUTE_MAP_NAME.match(name):
                r.error(h.name, f"route_maps.{name}", name,
                        "route-map names are 1..63 letters, digits, '-', '_', '.'")
        for key, path in h.paths.model_dump().items():
            for k, one in enumerate(path if isinstance(path, list) else [path]):
                field = f"paths.{key}" + (f".{k}" if isinstance(path, list) else "")
                if not str(one).startswith("/") or _CONTROL.search(str(one)):
                    r.error(h.name, field, one,
                            "must be an absolute path (/...) without control characters")


_VYOS_MAJOR_MINOR = re.compile(r"^(\d+)\.(\d+)")


def check_renderable(design: Design, r: _Report) -> None:
    """What the templates can render, so that render and deploy never refuse a valid inventory.

    VyOS: the `set` syntax of 1.1 and 1.2 only; BFD from 1.2 on. FRR (Linux) routers: NAT in an
    nftables `ip` table (IPv4), no DNS forwarding.
    """
    for h in design.hosts.values():
        version = _VYOS_MAJOR_MINOR.match(h.os_version or "")
        if h.platform == "vyos" and version is not None:
            major_minor = (int(version.group(1)), int(version.group(2)))
            if major_minor not in ((1, 1), (1, 2)):
                r.error(h.name, "os_version", h.os_version,
                        "the VyOS templates write the syntax of VyOS 1.1 and 1.2 only")
            elif major_minor < (1, 2) and h.bfd.enabled:
                r.error(h.name, "bfd.enabled", True,
                        f"VyOS {h.os_version} has no BFD (1.2 and later have)")
        if h.platform != "frr":
            continue
        if h.dns_forwarding is not None:
            r.error(h.name, "dns_forwarding", h.dns_forwarding.model_dump(),
                    "platform frr renders no DNS forwarding (only VyOS routers do); remove it")
        nat_fields = [
            *((f"nat.destination.{k}.destination_address", d.destination_address)
              for k, d in enumerate(h.nat.destination)),
            *((f"nat.destination.{k}.translation_address", d.translation_address)
              for k, d in enumerate(h.nat.destination)),
            *((f"nat.source.{k}.translation", s.translation)
              for k, s in enumerate(h.nat.source) if s.translation != "masquerade"),
        ]
        for field, text in nat_fields:
            ip = parse_address(text)
            if ip is not None and ip.version != 4:
                r.error(h.name, field, text,
                        "NAT on platform frr is an nftables `ip` table: IPv4 only")
        for k, s in enumerate(h.nat.source):
            net = parse_network(s.source_address, strict=False) or parse_address(
                s.source_address)
            if net is not None and net.version != 4:
                r.error(h.name, f"nat.source.{k}.source_address", s.source_address,
                        "NAT on platform frr is an nftables `ip` table: IPv4 only")


_BIRD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


def _check_timing(r: _Report, host: str, field: str, check: Any) -> None:
    """interval and timeout (seconds, fractions allowed) > 0; rise and fall >= 1."""
    for key in ("interval", "timeout"):
        value = getattr(check, key)
        if value is not None and not value > 0:
            r.error(host, f"{field}.{key}", value, "must be more than 0 seconds")
    for key in ("rise", "fall"):
        value = getattr(check, key)
        if value is not None and value < 1:
            r.error(host, f"{field}.{key}", value, "must be at least 1 (checks in a row)")
    url = getattr(check, "url", None)
    if url is not None and (not re.match(r"^https?://\S+$", url) or _CONTROL.search(url)):
        r.error(host, f"{field}.url", url, "must be an http:// or https:// URL without spaces")
    command = getattr(check, "command", None)
    if command is not None and (not command.strip() or _CONTROL.search(command)):
        r.error(host, f"{field}.command", command,
                "must be one line: the command whose exit status 0 means healthy")


def check_healthcheck(design: Design, r: _Report) -> None:
    """anycast-healthchecker settings make sense and can be rendered (rule 28)."""
    anycast = {a.prefix for h in design.hosts.values() for a in h.anycast}
    for h in design.hosts.values():
        hc = h.healthcheck
        if not hc.enabled:
            continue
        if h.role != "server":
            r.error(h.name, "healthcheck.enabled", True,
                    "only servers run anycast-healthchecker (they announce the anycast prefixes)")
            continue
        _check_timing(r, h.name, "healthcheck", hc)
        if (not hc.binary.strip() or _CONTROL.search(hc.binary) or " " in hc.binary
                or (not hc.binary.startswith("/") and not h.lab)):
            r.error(h.name, "healthcheck.binary", hc.binary,
                    "must be the absolute path of anycast-healthchecker on the server "
                    "(a relative path, under the project root, only for lab hosts)")
        if not _BIRD_NAME.match(hc.variable):
            r.error(h.name, "healthcheck.variable", hc.variable,
                    "must be a BIRD name: letters, digits, '_', not starting with a digit")
        dummy = parse_network(hc.dummy_prefix, strict=False)
        if dummy is None or dummy.version != 4 or "/" not in hc.dummy_prefix:
            r.error(h.name, "healthcheck.dummy_prefix", hc.dummy_prefix,
                    "must be an IPv4 prefix (address/length)")
        elif hc.dummy_prefix in anycast or str(dummy) in anycast:
            r.error(h.name, "healthcheck.dummy_prefix", hc.dummy_prefix,
                    "is an anycast prefix: the dummy entry of the prefix set must be used "
                    "nowhere (it is always announced as healthy)")
        for k, a in enumerate(h.anycast):
            net = parse_network(a.prefix, strict=False)
            if net is not None and net.version != 4:
                r.error(h.name, f"anycast.{k}.prefix", a.prefix,
                        "health-checked announcements are IPv4 only (anycast-healthchecker's "
                        "IPv6 file is not wired into BIRD yet); set healthcheck.enabled: false")
            if a.healthcheck is not None:
                _check_timing(r, h.name, f"anycast.{k}.healthcheck", a.healthcheck)


RULES: tuple[Callable[[Design, _Report], None], ...] = (
    check_interface_addresses,
    check_gateways,
    check_asns,
    check_router_ids,
    check_duplicate_addresses,
    check_neighbor_owners,
    check_neighbor_remote_as,
    check_update_source,
    check_sessions_both_ends,
    check_anycast_prefixes,
    check_anycast_on_loopback,
    check_local_pref,
    check_maximum_paths,
    check_role_fields,
    check_server_as,
    check_route_maps,
    check_timers,
    check_bfd,
    check_nat,
    check_static_routes,
    check_bgp_networks,
    check_platform,
    check_dns_forwarding,
    check_bfd_both_ends,
    check_password_env,
    check_text_fields,
    check_renderable,
    check_healthcheck,
)


def validate(design: Design) -> list[Problem]:
    """Check the whole design with every rule in RULES.

    Returns:
        every problem found (Problem.severity is "error" or "warning"): errors first, then
        warnings; each group by host in inventory order, then in rule order.
    """
    report = _Report()
    for rule in RULES:
        rule(design, report)
    order = {name: i for i, name in enumerate(design.hosts)}

    def key(p: Problem) -> tuple[int, int]:
        return (p.severity != "error", order.get(p.host, len(order)))

    return sorted(report.problems, key=key)


def _sort_key(ip: IPAddress) -> tuple[int, int]:
    return (ip.version, int(ip))


# Attributes Nornir's SimpleInventory reads from an entry of hosts.yaml / groups.yaml /
# defaults.yaml. It silently ignores anything else, so a misspelt `grups:` would drop the
# host's groups (and with them its role and platform) without a word.
_NORNIR_ATTRIBUTES = ("hostname", "port", "username", "password", "platform", "groups", "data",
                      "connection_options")


def check_inventory_files(directory: str | Path) -> list[Problem]:
    """Unknown attributes in the inventory's YAML files, which Nornir would silently ignore.

    Returns one error per unknown key, naming the host (or `group NAME`, `defaults`), the key
    and the file. Files that do not parse are left to the loader to report.
    """
    inv = Path(directory)
    problems: list[Problem] = []

    def one(owner: str, entry: Any, allowed: tuple[str, ...], file: str) -> None:
        if not isinstance(entry, dict):
            return
        for key, value in entry.items():
            if key in allowed:
                continue
            close = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else (
                "; data keys go under 'data:'")
            shown = "(hidden)" if key in ("password", "secret") else value
            problems.append(Problem(owner, str(key), shown,
                                    f"unknown key '{key}' in {file} (Nornir would ignore it)"
                                    f"{hint}"))

    for file, kind in (("hosts.yaml", "host"), ("groups.yaml", "group")):
        for name, entry in (_load_yaml(inv / file) or {}).items():
            owner = str(name) if kind == "host" else f"group {name}"
            one(owner, entry, _NORNIR_ATTRIBUTES, file)
    defaults = _load_yaml(inv / "defaults.yaml")
    one("defaults", defaults, tuple(a for a in _NORNIR_ATTRIBUTES if a != "groups"),
        "defaults.yaml")
    return problems


def _load_yaml(path: Path) -> Any:
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError):
        return None
    return data if isinstance(data, dict) else None
