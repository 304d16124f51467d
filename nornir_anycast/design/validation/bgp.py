"""BGP rules: AS numbers, neighbors and both ends of each session, update_source, local_pref,
maximum-paths, iBGP servers, timers, networks, neighbor passwords."""

from __future__ import annotations

from nornir_anycast.design.model import Design
from nornir_anycast.design.validation.common import (
    ASN_MAX,
    CONTROL_CHARS,
    ENV_NAME,
    LOCAL_PREF_MAX,
    IPAddress,
    Report,
    address_owners,
    ip_sort_key,
    join_names,
    names_capped,
    own_addresses,
    parse_address,
    parse_network,
)


def rule_asns(design: Design, r: Report) -> None:
    """AS numbers, own and remote, are in 1..4294967295."""
    for h in design.hosts.values():
        if h.asn is not None and not 1 <= h.asn <= ASN_MAX:
            r.error(h.name, "asn", h.asn, f"AS number must be in 1..{ASN_MAX}")
        for n, nb in enumerate(h.bgp.neighbors):
            if not 1 <= nb.remote_as <= ASN_MAX:
                r.error(h.name, f"bgp.neighbors.{n}.remote_as", nb.remote_as,
                        f"AS number must be in 1..{ASN_MAX}")


def rule_neighbor_owners(design: Design, r: Report) -> None:
    """Every BGP neighbor is an address owned by another host of the inventory, listed once."""
    owners = address_owners(design)
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


def rule_neighbor_remote_as(design: Design, r: Report) -> None:
    """A neighbor's remote_as is the AS of the host that owns the neighbor address."""
    owners = address_owners(design)
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


def rule_update_source(design: Design, r: Report) -> None:
    """update_source is an address of this host (interface or loopback), of the peer's family."""
    for h in design.hosts.values():
        own = own_addresses(h)
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
                        f"{join_names(str(a) for a in sorted(own, key=ip_sort_key)) or 'none'})")
                continue
            peer_ip = parse_address(nb.address)
            if peer_ip is not None and peer_ip.version != src.version:
                r.error(h.name, field, nb.update_source,
                        f"is IPv{src.version} but neighbor {nb.address} is IPv{peer_ip.version}")


def rule_sessions_both_ends(design: Design, r: Report) -> None:
    """A BGP session is configured on both ends: the peer lists this host's source address."""
    owners = address_owners(design)
    lists = {name: {ip for nb in h.bgp.neighbors if (ip := parse_address(nb.address))}
             for name, h in design.hosts.items()}
    for h in design.hosts.values():
        own = own_addresses(h)
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


def rule_local_pref(design: Design, r: Report) -> None:
    """local_pref is in 0..4294967295."""
    for h in design.hosts.values():
        if not 0 <= h.local_pref <= LOCAL_PREF_MAX:
            r.error(h.name, "local_pref", h.local_pref,
                    f"local preference must be in 0..{LOCAL_PREF_MAX}")


def rule_maximum_paths(design: Design, r: Report) -> None:
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
                      f"{names_capped([f'{p.host} ({p.next_hop})' for p in idle])} will "
                      "not carry traffic")


def rule_server_as(design: Design, r: Report) -> None:
    """Servers are in their edge's AS: the design is iBGP multipath (maximum-paths ibgp)."""
    owners = address_owners(design)
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


def rule_timers(design: Design, r: Report) -> None:
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


def rule_bgp_networks(design: Design, r: Report) -> None:
    """BGP networks are prefixes with the host bits zero (`0.0.0.0/0`)."""
    for h in design.hosts.values():
        for k, text in enumerate(h.bgp.networks):
            if parse_network(text) is None:
                r.error(h.name, f"bgp.networks.{k}", text,
                        "not a prefix such as 0.0.0.0/0 (host bits must be zero)")
        if h.bgp.maximum_prefix is not None and not 1 <= h.bgp.maximum_prefix <= ASN_MAX:
            r.error(h.name, "bgp.maximum_prefix", h.bgp.maximum_prefix,
                    f"must be in 1..{ASN_MAX}")


def rule_password_env(design: Design, r: Report) -> None:
    """password_env names an environment variable; it must not hold the secret itself.
    password_file is a path; a neighbor takes its password from one of the two."""
    for h in design.hosts.values():
        for n, nb in enumerate(h.bgp.neighbors):
            if nb.password_env is not None and not ENV_NAME.match(nb.password_env):
                r.error(h.name, f"bgp.neighbors.{n}.password_env", "(hidden)",
                        "must be the NAME of an environment variable holding the password "
                        "(letters, digits, _), not the password itself")
            if nb.password_file is not None:
                if nb.password_env is not None:
                    r.error(h.name, f"bgp.neighbors.{n}.password_file", nb.password_file,
                            "give password_env or password_file, not both")
                if not nb.password_file.strip() or CONTROL_CHARS.search(nb.password_file):
                    r.error(h.name, f"bgp.neighbors.{n}.password_file", "(hidden)",
                            "must be the path of a file holding the password")
