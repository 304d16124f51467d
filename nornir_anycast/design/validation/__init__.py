"""Cross-host and per-host checks of a `Design` (see nornir_anycast.design.model).

`validate()` returns every problem found; errors stop a run before any device is touched,
warnings are only reported. Each problem names the host, the dotted field path
(`interfaces.0.addresses.1`, `bgp.neighbors.2.address`), the bad value, and says in words what
is wrong. Type errors and unknown keys are caught earlier, when the inventory is converted
(`nornir_anycast.design.build.host_model`), and come out as the same kind of Problem.

The rules, one function `rule_<what>(design, report)` each, in the module of their area
(`addressing`, `bgp`, `services`, `policy`, `platform`, `bfd`, `sites`, `ipv6`, `resilient`;
shared helpers in `common`; docs/your-network.md lists what they check):

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
    (relative only on lab hosts); the dummy prefixes (IPv4, IPv6) are prefixes of their
    family used nowhere; the variables are distinct BIRD names; the IPv6 include is a file of
    its own
29. sites (module `sites`, docs/sites.md): a server peers with an edge of its site (error),
    with every edge of it (warning); a server's site has an edge
30. the edges of a site share one AS, one site_standby / site_prepend, and each has an eBGP
    upstream (role isp) neighbour
31. issue 13's BGP options: maximum_paths >= 1, graceful_restart_time, advertisement_interval
    in FRR's ranges; what VyOS / BIRD 1.6 cannot render (graceful restart, several gateways,
    ...) refused; several gateways only on one interface of a server
32. IPv6 (docs/ipv6.md): an IPv6 neighbor is on one of the host's IPv6 subnets; each anycast
    prefix of a server has a session of its family to an edge (rule 11 holds a /128 on the
    loopback like a /32); gateway6 is an IPv6 address inside an IPv6 subnet of its interface,
    gateway an IPv4 one; DNAT rules are IPv4 only; VyOS routers render no IPv6 BGP, networks
    or static routes; a server announcing anycast prefixes of one family only, in a design
    where some server announces both (dual-stack), is warned about
33. resilient forwarding (module `resilient`, docs/resilient.md): `resilient.enabled` only on
    edges, never on VyOS; buckets 1..65535, timers 0..42949672 s; fewer buckets than
    maximum_paths_ibgp (warning)
"""

from __future__ import annotations

from collections.abc import Callable

from nornir_anycast.design.model import Design
from nornir_anycast.design.validation.addressing import (
    rule_duplicate_addresses,
    rule_gateways,
    rule_interface_addresses,
    rule_router_ids,
    rule_static_routes,
)
from nornir_anycast.design.validation.bfd import (
    rule_bfd,
    rule_bfd_both_ends,
)
from nornir_anycast.design.validation.bgp import (
    rule_asns,
    rule_bgp_networks,
    rule_local_pref,
    rule_maximum_paths,
    rule_neighbor_owners,
    rule_neighbor_remote_as,
    rule_password_env,
    rule_server_as,
    rule_sessions_both_ends,
    rule_timers,
    rule_update_source,
)
from nornir_anycast.design.validation.common import (
    IPAddress,
    IPInterface,
    IPNetwork,
    Report,
    interface_ips,
    loopback_ips,
    parse_address,
    parse_interface,
    parse_network,
)
from nornir_anycast.design.validation.ipv6 import (
    rule_dual_stack,
    rule_family_sessions,
    rule_gateway6,
    rule_ipv4_only_features,
    rule_ipv6_neighbors_on_link,
)
from nornir_anycast.design.validation.platform import (
    rule_platform,
    rule_renderable,
    rule_role_fields,
    rule_text_fields,
)
from nornir_anycast.design.validation.policy import (
    rule_dns_forwarding,
    rule_nat,
    rule_route_maps,
)
from nornir_anycast.design.validation.resilient import rule_resilient
from nornir_anycast.design.validation.services import (
    rule_anycast_on_loopback,
    rule_anycast_prefixes,
    rule_healthcheck,
)
from nornir_anycast.design.validation.sites import (
    rule_bgp_site_options,
    rule_server_site_edges,
    rule_server_site_has_edge,
    rule_site_edge_asns,
    rule_site_standby,
    rule_site_upstream,
)
from nornir_anycast.exceptions import Problem

__all__ = ["RULES", "IPAddress", "IPInterface", "IPNetwork", "Report", "interface_ips",
           "loopback_ips", "parse_address", "parse_interface", "parse_network", "validate"]

RULES: tuple[Callable[[Design, Report], None], ...] = (
    rule_interface_addresses,
    rule_gateways,
    rule_asns,
    rule_router_ids,
    rule_duplicate_addresses,
    rule_neighbor_owners,
    rule_neighbor_remote_as,
    rule_update_source,
    rule_sessions_both_ends,
    rule_anycast_prefixes,
    rule_anycast_on_loopback,
    rule_local_pref,
    rule_maximum_paths,
    rule_role_fields,
    rule_server_as,
    rule_route_maps,
    rule_timers,
    rule_bfd,
    rule_nat,
    rule_static_routes,
    rule_bgp_networks,
    rule_platform,
    rule_dns_forwarding,
    rule_bfd_both_ends,
    rule_password_env,
    rule_text_fields,
    rule_renderable,
    rule_healthcheck,
    rule_server_site_edges,
    rule_server_site_has_edge,
    rule_site_edge_asns,
    rule_site_upstream,
    rule_site_standby,
    rule_bgp_site_options,
    rule_ipv6_neighbors_on_link,
    rule_gateway6,
    rule_family_sessions,
    rule_ipv4_only_features,
    rule_dual_stack,
    rule_resilient,
)


def validate(design: Design) -> list[Problem]:
    """Check the whole design with every rule in RULES.

    Returns:
        every problem found (Problem.severity is "error" or "warning"): errors first, then
        warnings; each group by host in inventory order, then in rule order.
    """
    report = Report()
    for rule in RULES:
        rule(design, report)
    order = {name: i for i, name in enumerate(design.hosts)}

    def key(p: Problem) -> tuple[int, int]:
        return (p.severity != "error", order.get(p.host, len(order)))

    return sorted(report.problems, key=key)
