"""One test per validation rule: each breaks a valid inventory in one place and asserts the
problem's host, field, value and the words of its message.

Every test loads a fresh Nornir from an inventory directory (no Nornir state is shared between
tests) and mutates its host data in memory before the design is built.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from nornir.core import Nornir
from nornir.core.inventory import Host
from paths import ROOT

from nornir_anycast.design.build import build_design, load_design
from nornir_anycast.design.validation import RULES, validate
from nornir_anycast.exceptions import InventoryError, Problem
from nornir_anycast.inventory.loader import load_nornir

DEFAULT = ROOT / "inventory"
VYOS_SEED = ROOT / "inventory" / "vyos-seed"
VYOS_DNAT = ROOT / "inventory" / "vyos-seed-dnat"
THREE_SERVERS = ROOT / "tests" / "inventories" / "three-servers"


def problems_of(nr: Nornir) -> list[Problem]:
    """Conversion problems if any, else validation problems (errors and warnings)."""
    try:
        design = build_design(nr)
    except InventoryError as exc:
        return exc.problems
    return validate(design)


def broken(mutate: Callable[[dict[str, Any]], None], inventory: Path = DEFAULT) -> list[Problem]:
    """Load `inventory`, apply `mutate(host_data_by_name)`, and return the problems found."""
    nr = load_nornir(inventory)
    mutate({name: host.data for name, host in nr.inventory.hosts.items()})
    return problems_of(nr)


def assert_problem(problems: list[Problem], host: str, field: str, value: object,
                   *words: str, severity: str = "error") -> Problem:
    """Exactly one problem for host/field carries all `words`; its value and severity match."""
    listing = "; ".join(str(p) for p in problems) or "no problems"
    at = [p for p in problems if p.host == host and p.field == field]
    assert at, f"no problem for {host} {field}; got: {listing}"
    found = [p for p in at if all(w in p.message for w in words)]
    assert len(found) == 1, f"expected one {host} {field} problem saying {words}; got: {listing}"
    p = found[0]
    assert p.value == value
    assert p.severity == severity
    return p


# --- shipped inventories --------------------------------------------------------------------


@pytest.mark.parametrize("inventory", [DEFAULT, VYOS_SEED, VYOS_DNAT],
                         ids=["default", "vyos-seed", "vyos-seed-dnat"])
def test_shipped_inventories_are_clean(inventory: Path) -> None:
    design, warnings = load_design(load_nornir(inventory))
    assert warnings == []
    assert sorted(design.hosts) == ["client", "edge", "isp", "server-1", "server-2"]
    [svc] = design.services
    assert svc.prefix == "10.13.13.1/32"
    assert [p.host for p in svc.ecmp] == ["server-1", "server-2"]
    assert [p.next_hop for p in svc.ecmp] == ["10.12.12.1", "10.12.12.2"]


@pytest.mark.parametrize("inventory", sorted(p.parent for p in DEFAULT.glob("**/hosts.yaml")),
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_every_inventory_under_inventory_dir_validates(inventory: Path) -> None:
    load_design(load_nornir(inventory))  # raises InventoryError on any error


def test_there_are_at_least_15_rules() -> None:
    assert len(RULES) >= 15


# --- 1. interface addresses -----------------------------------------------------------------


def test_interface_address_must_parse() -> None:
    def m(d: dict[str, Any]) -> None:
        d["edge"]["interfaces"][1]["addresses"] = ["10.12.12.256/24"]
    ps = broken(m)
    assert_problem(ps, "edge", "interfaces.1.addresses.0", "10.12.12.256/24",
                   "not an address/length", "172.16.42.3/31")


def test_interface_address_needs_prefix_length() -> None:
    def m(d: dict[str, Any]) -> None:
        d["server-1"]["interfaces"][0]["addresses"] = ["10.12.12.1"]
    ps = broken(m)
    assert_problem(ps, "server-1", "interfaces.0.addresses.0", "10.12.12.1",
                   "prefix length is missing")


def test_interface_slash31_is_valid_and_network_address_is_not() -> None:
    def m(d: dict[str, Any]) -> None:
        d["client"]["interfaces"][0]["addresses"] = ["10.0.0.0/24", "10.0.0.2/24"]
    ps = broken(m)
    assert_problem(ps, "client", "interfaces.0.addresses.0", "10.0.0.0/24",
                   "network address of 10.0.0.0/24")
    # 172.16.42.2/31 and .3/31 (both ends of a /31) are in the default inventory, no problem:
    assert not [p for p in ps if p.host in ("isp", "edge")]


def test_dhcp_only_on_vyos() -> None:
    def m(d: dict[str, Any]) -> None:
        d["isp"]["interfaces"].append({"name": "eth0", "addresses": ["dhcp"]})
    ps = broken(m)
    assert_problem(ps, "isp", "interfaces.2.addresses.0", "dhcp",
                   "only on VyOS", "platform is frr")
    # the seed's VyOS ISP has eth0 dhcp and validates clean (test_shipped_inventories_are_clean)
    seed = load_nornir(VYOS_SEED)
    assert "dhcp" in seed.inventory.hosts["isp"].data["interfaces"][0]["addresses"]


# --- 2. gateways ----------------------------------------------------------------------------


def test_gateway_inside_interface_subnet() -> None:
    def m(d: dict[str, Any]) -> None:
        d["server-2"]["interfaces"][0]["gateway"] = "10.12.13.254"
    ps = broken(m)
    assert_problem(ps, "server-2", "interfaces.0.gateway", "10.12.13.254",
                   "outside the subnets of eth0", "10.12.12.0/24")


def test_gateway_must_be_an_address_not_own() -> None:
    def m(d: dict[str, Any]) -> None:
        d["server-1"]["interfaces"][0]["gateway"] = "10.12.12.1"
        d["server-2"]["interfaces"][0]["gateway"] = "edge"
    ps = broken(m)
    assert_problem(ps, "server-1", "interfaces.0.gateway", "10.12.12.1", "own address on eth0")
    assert_problem(ps, "server-2", "interfaces.0.gateway", "edge", "not an IP address")


# --- 3. AS numbers --------------------------------------------------------------------------


@pytest.mark.parametrize("asn", [0, 4294967296])
def test_asn_range(asn: int) -> None:
    def m(d: dict[str, Any]) -> None:
        d["isp"]["asn"] = asn
    ps = broken(m)
    assert_problem(ps, "isp", "asn", asn, "AS number must be in 1..4294967295")


def test_remote_as_range() -> None:
    def m(d: dict[str, Any]) -> None:
        d["isp"]["bgp"]["neighbors"][0]["remote_as"] = -5
    ps = broken(m)
    assert_problem(ps, "isp", "bgp.neighbors.0.remote_as", -5, "1..4294967295")


def test_asn_4_byte_is_fine() -> None:
    def m(d: dict[str, Any]) -> None:
        d["isp"]["asn"] = 4294967295
        d["edge"]["bgp"]["neighbors"][2]["remote_as"] = 4294967295
    assert broken(m) == []


# --- 4. router ids --------------------------------------------------------------------------


def test_router_id_must_be_ipv4() -> None:
    def m(d: dict[str, Any]) -> None:
        d["edge"]["router_id"] = "2001:db8::1"
    ps = broken(m)
    assert_problem(ps, "edge", "router_id", "2001:db8::1", "must be an IPv4 address")


def test_router_ids_unique() -> None:
    def m(d: dict[str, Any]) -> None:
        d["server-2"]["router_id"] = "10.12.12.1"
    ps = broken(m)
    assert_problem(ps, "server-2", "router_id", "10.12.12.1", "also used by server-1", "unique")
    assert_problem(ps, "server-1", "router_id", "10.12.12.1", "also used by server-2")


# --- 5. duplicate addresses -----------------------------------------------------------------


def test_duplicate_interface_address_across_hosts() -> None:
    def m(d: dict[str, Any]) -> None:
        d["client"]["interfaces"][0]["addresses"] = ["10.0.0.254/24"]
        d["client"]["interfaces"][0]["gateway"] = "10.0.0.1"
    ps = broken(m)
    assert_problem(ps, "client", "interfaces.0.addresses.0", "10.0.0.254/24",
                   "10.0.0.254 is also configured on isp interfaces.0.addresses.0")
    assert_problem(ps, "isp", "interfaces.0.addresses.0", "10.0.0.254/24",
                   "also configured on client interfaces.0.addresses.0")


# --- 6. neighbors are owned -----------------------------------------------------------------


def test_neighbor_address_owned_by_some_host() -> None:
    def m(d: dict[str, Any]) -> None:
        d["server-1"]["bgp"]["neighbors"][0]["address"] = "10.12.12.253"
    ps = broken(m)
    assert_problem(ps, "server-1", "bgp.neighbors.0.address", "10.12.12.253",
                   "no host of the inventory has this address")


def test_neighbor_listed_twice_and_not_own_address() -> None:
    def m(d: dict[str, Any]) -> None:
        nbs = d["edge"]["bgp"]["neighbors"]
        nbs[1]["address"] = "10.12.12.1"
        nbs.append({"address": "10.12.12.254", "remote_as": 65500})
    ps = broken(m)
    assert_problem(ps, "edge", "bgp.neighbors.1.address", "10.12.12.1", "listed twice")
    assert_problem(ps, "edge", "bgp.neighbors.3.address", "10.12.12.254",
                   "this host's own address")


# --- 7. remote_as matches the owner ---------------------------------------------------------


def test_remote_as_is_owner_asn() -> None:
    def m(d: dict[str, Any]) -> None:
        d["edge"]["bgp"]["neighbors"][2]["remote_as"] = 65001
    ps = broken(m)
    assert_problem(ps, "edge", "bgp.neighbors.2.remote_as", 65001,
                   "neighbor 172.16.42.2 is isp", "asn is 65000")


# --- 8. update_source -----------------------------------------------------------------------


def test_update_source_is_own_address() -> None:
    def m(d: dict[str, Any]) -> None:
        d["isp"]["bgp"]["neighbors"][0]["update_source"] = "172.16.42.3"
    ps = broken(m)
    assert_problem(ps, "isp", "bgp.neighbors.0.update_source", "172.16.42.3",
                   "not an address of isp", "10.0.0.254, 172.16.42.2")


def test_update_source_family() -> None:
    def m(d: dict[str, Any]) -> None:
        d["isp"]["interfaces"][1]["addresses"].append("2001:db8::2/64")
        d["isp"]["bgp"]["neighbors"][0]["update_source"] = "2001:db8::2"
    ps = broken(m)
    assert_problem(ps, "isp", "bgp.neighbors.0.update_source", "2001:db8::2",
                   "is IPv6 but neighbor 172.16.42.3 is IPv4")


# --- 9. sessions on both ends ---------------------------------------------------------------


def test_session_configured_on_both_ends() -> None:
    def m(d: dict[str, Any]) -> None:
        del d["edge"]["bgp"]["neighbors"][1]  # edge forgets server-2
    ps = broken(m)
    assert_problem(ps, "server-2", "bgp.neighbors.0.address", "10.12.12.254",
                   "edge has no BGP neighbor pointing at any address of server-2")


def test_session_from_update_source() -> None:
    def m(d: dict[str, Any]) -> None:
        d["isp"]["bgp"]["neighbors"][0]["update_source"] = "10.0.0.254"
    ps = broken(m)
    assert_problem(ps, "isp", "bgp.neighbors.0.address", "172.16.42.3",
                   "edge has no BGP neighbor 10.0.0.254", "update_source")


# --- 10. anycast prefixes are host routes ---------------------------------------------------


def test_anycast_prefix_is_host_route() -> None:
    def m(d: dict[str, Any]) -> None:
        d["server-1"]["anycast"] = [{"prefix": "10.13.13.0/24"}]
        d["server-1"]["loopback"] = ["10.13.13.1/24"]
    ps = broken(m)
    assert_problem(ps, "server-1", "anycast.0.prefix", "10.13.13.0/24",
                   "must be host routes (/32)")


def test_anycast_prefix_parses_and_only_on_servers() -> None:
    def m(d: dict[str, Any]) -> None:
        d["server-2"]["anycast"] = ["10.13.13.x/32"]
        d["edge"]["anycast"] = ["10.13.13.1/32"]
    ps = broken(m)
    assert_problem(ps, "server-2", "anycast.0.prefix", "10.13.13.x/32", "not a prefix")
    assert_problem(ps, "edge", "anycast.0.prefix", "10.13.13.1/32",
                   "only servers announce anycast prefixes", "role is edge")


# --- 11. anycast held on loopback -----------------------------------------------------------


def test_anycast_address_on_loopback() -> None:
    def m(d: dict[str, Any]) -> None:
        d["server-2"]["loopback"] = []
    ps = broken(m)
    assert_problem(ps, "server-2", "anycast.0.prefix", "10.13.13.1/32",
                   "10.13.13.1 is not on the loopback", "loopback has nothing")


def test_anycast_inside_loopback_subnet_counts_as_held() -> None:
    # The seed: 10.13.13.1 netmask 255.255.255.0 on lo.
    def m(d: dict[str, Any]) -> None:
        d["server-1"]["loopback"] = ["10.13.13.1/24"]
        d["server-2"]["loopback"] = ["10.13.12.1/24"]
    ps = broken(m)
    assert not [p for p in ps if p.host == "server-1"]
    assert_problem(ps, "server-2", "anycast.0.prefix", "10.13.13.1/32",
                   "loopback has 10.13.12.1/24")


def test_loopback_entries_parse() -> None:
    def m(d: dict[str, Any]) -> None:
        d["server-1"]["loopback"] = ["10.13.13.1/32", "lo:1"]
    ps = broken(m)
    assert_problem(ps, "server-1", "loopback.1", "lo:1", "not an address/length")


# --- 12. local_pref -------------------------------------------------------------------------


@pytest.mark.parametrize("pref", [-1, 4294967296])
def test_local_pref_range(pref: int) -> None:
    def m(d: dict[str, Any]) -> None:
        d["server-2"]["local_pref"] = pref
    ps = broken(m)
    assert_problem(ps, "server-2", "local_pref", pref, "must be in 0..4294967295")


# --- 13. maximum-paths ----------------------------------------------------------------------


def test_maximum_paths_warning_names_idle_servers() -> None:
    design, warnings = load_design(load_nornir(THREE_SERVERS))
    [w] = warnings
    assert (w.host, w.field, w.value, w.severity) == ("edge", "bgp.maximum_paths_ibgp", 2,
                                                      "warning")
    assert w.message == ("3 servers share the best local_pref 100 for 10.13.13.1/32 but only "
                         "2 paths are used: server-3 (10.12.12.3) will not carry traffic")
    assert [p.host for p in design.services[0].ecmp] == ["server-1", "server-2"]


def test_maximum_paths_enough_when_one_is_backup() -> None:
    # The seed's last variant: server-2 at local_pref 50 is a backup, one path is enough.
    def m(d: dict[str, Any]) -> None:
        d["edge"]["bgp"]["maximum_paths_ibgp"] = 1
        d["server-2"]["local_pref"] = 50
    assert broken(m) == []


def test_maximum_paths_at_least_one() -> None:
    def m(d: dict[str, Any]) -> None:
        d["edge"]["bgp"]["maximum_paths_ibgp"] = 0
    ps = broken(m)
    p = [p for p in ps if p.severity == "error"]
    assert_problem(p, "edge", "bgp.maximum_paths_ibgp", 0, "at least 1")


# --- 14. role-required fields ---------------------------------------------------------------


def test_server_requires_anycast_asn_and_edge_neighbor() -> None:
    def m(d: dict[str, Any]) -> None:
        d["server-1"]["anycast"] = []
        del d["server-2"]["asn"]
        d["server-2"]["bgp"]["neighbors"] = []
        d["edge"]["bgp"]["neighbors"].pop(1)
    ps = broken(m)
    assert_problem(ps, "server-1", "anycast", [], "needs at least one anycast prefix")
    assert_problem(ps, "server-2", "asn", None, "a server needs an AS number")
    assert_problem(ps, "server-2", "bgp.neighbors", [],
                   "needs a BGP neighbor that is an address of an edge router")


def test_edge_requires_maximum_paths_and_routers_router_id() -> None:
    def m(d: dict[str, Any]) -> None:
        del d["edge"]["bgp"]["maximum_paths_ibgp"]
        del d["isp"]["router_id"]
    ps = [p for p in broken(m) if p.severity == "error"]
    assert_problem(ps, "edge", "bgp.maximum_paths_ibgp", None, "needs maximum_paths_ibgp")
    assert_problem(ps, "isp", "router_id", None, "an isp router needs a router id")


def test_client_requires_an_address() -> None:
    def m(d: dict[str, Any]) -> None:
        d["client"]["interfaces"] = [{"name": "eth0"}]
    ps = broken(m)
    assert_problem(ps, "client", "interfaces", ["eth0"], "needs at least one interface address")


# --- 15. servers in the edge's AS -----------------------------------------------------------


def test_server_in_edge_as() -> None:
    def m(d: dict[str, Any]) -> None:
        d["server-1"]["asn"] = 65501
        d["edge"]["bgp"]["neighbors"][0]["remote_as"] = 65501
    ps = broken(m)
    assert_problem(ps, "server-1", "asn", 65501, "not in the AS of its edge edge (65500)",
                   "iBGP")


# --- 16. route maps -------------------------------------------------------------------------


def test_route_map_must_be_defined() -> None:
    def m(d: dict[str, Any]) -> None:
        d["edge"]["bgp"]["neighbors"][2]["route_map_out"] = "AS65500-OUTT"
    ps = broken(m, VYOS_DNAT)
    assert_problem(ps, "edge", "bgp.neighbors.2.route_map_out", "AS65500-OUTT",
                   "no route map of that name", "defined: AS65500-OUT")


def test_route_map_rules() -> None:
    def m(d: dict[str, Any]) -> None:
        d["edge"]["route_maps"]["AS65500-OUT"].append(
            {"rule": 20, "action": "permit", "match_prefix": "10.13.13.1/24"})
    ps = broken(m, VYOS_DNAT)
    assert_problem(ps, "edge", "route_maps.AS65500-OUT.1.rule", 20, "appears twice")
    assert_problem(ps, "edge", "route_maps.AS65500-OUT.1.match_prefix", "10.13.13.1/24",
                   "host bits must be zero")


# --- 17. timers -----------------------------------------------------------------------------


def test_timers_hold() -> None:
    nr = load_nornir(DEFAULT)
    nr.inventory.defaults.data["bgp_timers"] = {"keepalive": 1, "hold": 2}
    ps = problems_of(nr)
    for host in ("isp", "edge", "server-1", "server-2", "client"):
        assert_problem(ps, host, "bgp_timers.hold", 2, "0 (no hold timer) or 3..65535")


def test_timers_keepalive_and_error_wait() -> None:
    def m(d: dict[str, Any]) -> None:
        d["server-1"]["bgp_timers"] = {"keepalive": 10, "hold": 9, "error_wait": [5, 1]}
        d["server-2"]["bgp_timers"] = {"connect_retry": 0, "connect_delay": 0}
    ps = broken(m)
    assert_problem(ps, "server-1", "bgp_timers.keepalive", 10,
                   "must not exceed the hold time (9 s)")
    assert_problem(ps, "server-1", "bgp_timers.error_wait", [5, 1],
                   "minimum", "must not exceed")
    assert_problem(ps, "server-2", "bgp_timers.connect_retry", 0, "1..65535")
    assert_problem(ps, "server-2", "bgp_timers.connect_delay", 0, "1..65535", "BIRD 1.6")


# --- 18. BFD --------------------------------------------------------------------------------


def test_bfd_ranges() -> None:
    def m(d: dict[str, Any]) -> None:
        d["edge"]["bfd"] = {"enabled": True, "interval_ms": 5, "multiplier": 1}
    ps = broken(m)
    assert_problem(ps, "edge", "bfd.interval_ms", 5, "10..60000 ms")
    assert_problem(ps, "edge", "bfd.multiplier", 1, "2..255")


def test_bfd_on_server_but_not_edge_warns() -> None:
    def m(d: dict[str, Any]) -> None:
        d["server-1"]["bfd"] = {"enabled": True}
        d["edge"]["bfd"] = {"enabled": False}  # the lab inventory has BFD on everywhere
    ps = broken(m)
    assert_problem(ps, "server-1", "bfd.enabled", True, "off on edge", "hold timer",
                   severity="warning")
    assert [p for p in ps if p.severity == "error"] == []


# --- 19. NAT --------------------------------------------------------------------------------


def test_nat_addresses_parse() -> None:
    def m(d: dict[str, Any]) -> None:
        d["isp"]["nat"]["source"][1]["source_address"] = "172.16.42.3/33"
        d["isp"]["nat"]["source"][0]["translation"] = "masq"
        dn = d["edge"]["nat"]["destination"][0]
        dn["translation_address"] = "10.13.13"
    ps = broken(m, VYOS_DNAT)
    assert_problem(ps, "isp", "nat.source.1.source_address", "172.16.42.3/33",
                   "not an address or prefix")
    assert_problem(ps, "isp", "nat.source.0.translation", "masq",
                   "'masquerade' or an IP address")
    assert_problem(ps, "edge", "nat.destination.0.translation_address", "10.13.13",
                   "not an IP address")


def test_nat_ports_rules_interfaces() -> None:
    def m(d: dict[str, Any]) -> None:
        d["edge"]["nat"]["destination"][0]["destination_port"] = 70000
        d["edge"]["nat"]["destination"][0]["inbound_interface"] = "eth9"
        d["edge"]["nat"]["source"][0]["outbound_interface"] = "eth3"
        d["isp"]["nat"]["source"][1]["rule"] = 100
    ps = broken(m, VYOS_DNAT)
    assert_problem(ps, "edge", "nat.destination.0.destination_port", 70000, "1..65535")
    assert_problem(ps, "edge", "nat.destination.0.inbound_interface", "eth9",
                   "no interface of that name", "'any'")
    assert_problem(ps, "edge", "nat.source.0.outbound_interface", "eth3",
                   "no interface of that name (eth0, eth1)")
    assert_problem(ps, "isp", "nat.source.1.rule", 100, "source NAT rule 100 is defined twice")


# --- 20. static routes ----------------------------------------------------------------------


def test_static_routes() -> None:
    def m(d: dict[str, Any]) -> None:
        d["isp"]["static_routes"] = [
            {"prefix": "0.0.0.0/0", "blackhole": True, "next_hop": "172.16.42.3"},
            {"prefix": "10.13.13.1/24", "next_hop": "172.16.42.3"},
            {"prefix": "10.14.0.0/16"},
        ]
    ps = broken(m)
    assert_problem(ps, "isp", "static_routes.0.next_hop", "172.16.42.3", "not both")
    assert_problem(ps, "isp", "static_routes.1.prefix", "10.13.13.1/24", "host bits")
    assert_problem(ps, "isp", "static_routes.2.next_hop", None, "blackhole: true")


# --- 21. BGP networks -----------------------------------------------------------------------


def test_bgp_networks_are_prefixes() -> None:
    def m(d: dict[str, Any]) -> None:
        d["isp"]["bgp"]["networks"] = ["0.0.0.0/0", "default"]
    ps = broken(m)
    assert_problem(ps, "isp", "bgp.networks.1", "default", "not a prefix such as 0.0.0.0/0")


# --- 22. platform / os / role ---------------------------------------------------------------


def test_platform_fits_role() -> None:
    nr = load_nornir(DEFAULT)
    nr.inventory.hosts["server-1"].groups.remove(nr.inventory.groups["linux"])
    nr.inventory.hosts["server-1"].groups.append(nr.inventory.groups["frr"])
    ps = problems_of(nr)
    assert_problem(ps, "server-1", "platform", "frr", "servers run BIRD on Linux")


def test_vyos_needs_os_version() -> None:
    def m(d: dict[str, Any]) -> None:
        del d["edge"]["os_version"]
        d["isp"]["os"] = "debian"
    ps = broken(m, VYOS_SEED)
    assert_problem(ps, "edge", "os_version", None, "'1.1.7' or '1.2'")
    assert_problem(ps, "isp", "os", "debian", "platform vyos runs os vyos")


# --- 23. DNS forwarding ---------------------------------------------------------------------


def test_dns_forwarding() -> None:
    def m(d: dict[str, Any]) -> None:
        d["isp"]["dns_forwarding"]["listen_on"] = ["eth7"]
        d["isp"]["dns_forwarding"]["name_servers"] = ["8.8.8.8", "dns.google"]
    ps = broken(m, VYOS_SEED)
    assert_problem(ps, "isp", "dns_forwarding.listen_on.0", "eth7", "no interface of that name")
    assert_problem(ps, "isp", "dns_forwarding.name_servers.1", "dns.google", "not an IP address")


# --- conversion (pydantic) problems ---------------------------------------------------------


def test_wrong_type_reads_well() -> None:
    def m(d: dict[str, Any]) -> None:
        d["edge"]["asn"] = "abc"
        d["server-1"]["bfd"] = {"enabled": "maybe"}
    ps = broken(m)
    assert_problem(ps, "edge", "asn", "abc", "must be a whole number")
    assert_problem(ps, "server-1", "bfd.enabled", "maybe", "must be true or false")
    for p in ps:
        assert "pydantic" not in p.message and "http" not in p.message


def test_unknown_key_at_host_level_names_the_key() -> None:
    def m(d: dict[str, Any]) -> None:
        d["edge"]["maximum_paths"] = 2
    ps = broken(m)
    assert_problem(ps, "edge", "maximum_paths", 2, "unknown key 'maximum_paths'",
                   "set in hosts.yaml")


def test_unknown_key_in_group_names_key_and_group() -> None:
    """Reported once, where it is set (issue 10 §5; it was once per server of the group)."""
    nr = load_nornir(DEFAULT)
    nr.inventory.groups["servers"].data["localpref"] = 50
    ps = problems_of(nr)
    assert_problem(ps, "group servers", "localpref", 50, "unknown key 'localpref'",
                   "did you mean 'local_pref'?", "set in groups.yaml, for server-1, server-2")
    assert not [p for p in ps if p.host in ("server-1", "server-2")]
    assert len(ps) == 1


def test_unknown_nested_key_and_missing_required() -> None:
    def m(d: dict[str, Any]) -> None:
        nb = d["server-1"]["bgp"]["neighbors"][0]
        nb["remote-as"] = nb.pop("remote_as")
    ps = broken(m)
    assert_problem(ps, "server-1", "bgp.neighbors.0.remote-as", 65500,
                   "unknown key 'remote-as'", "did you mean 'remote_as'?")
    assert_problem(ps, "server-1", "bgp.neighbors.0.remote_as", None, "required, but not set")


def test_literal_choices_and_misplaced_platform() -> None:
    def m(d: dict[str, Any]) -> None:
        d["client"]["role"] = "customer"
        d["isp"]["platform"] = "vyos"
    ps = broken(m)
    assert_problem(ps, "client", "role", "customer",
                   "must be 'isp', 'edge', 'server' or 'client'")
    assert_problem(ps, "isp", "data.platform", "vyos", "Nornir host attribute",
                   "beside 'data:'")


def test_problems_from_all_hosts_at_once() -> None:
    def m(d: dict[str, Any]) -> None:
        d["edge"]["asn"] = "x"
        d["isp"]["router_id"] = 5
    ps = broken(m)
    assert {p.host for p in ps} == {"edge", "isp"}


# --- 25. password_env -----------------------------------------------------------------------


def test_password_env_is_a_name_and_the_secret_is_not_printed() -> None:
    def m(d: dict[str, Any]) -> None:
        d["edge"]["bgp"]["neighbors"][2]["password_env"] = "s3cr3t pass!"
        d["isp"]["bgp"]["neighbors"][0]["password_env"] = "ISP_BGP_PASSWORD"
    ps = broken(m)
    assert_problem(ps, "edge", "bgp.neighbors.2.password_env", "(hidden)",
                   "NAME of an environment variable")
    assert not [p for p in ps if p.host == "isp"]
    assert all("s3cr3t" not in str(p) for p in ps)


def test_secret_in_wrong_type_or_unknown_key_is_not_printed() -> None:
    def m(d: dict[str, Any]) -> None:
        d["edge"]["bgp"]["neighbors"][2]["password_env"] = 98765
        d["isp"]["bgp"]["neighbors"][0]["password"] = "hunter2"
    ps = broken(m)
    assert_problem(ps, "edge", "bgp.neighbors.2.password_env", "(hidden)", "must be text")
    assert_problem(ps, "isp", "bgp.neighbors.0.password", "(hidden)", "unknown key 'password'")
    assert all("98765" not in str(p) and "hunter2" not in str(p) for p in ps)


def test_maximum_paths_warning_caps_the_list_of_names() -> None:
    nr = load_nornir(THREE_SERVERS)
    inv = nr.inventory
    base, edge = inv.hosts["server-3"], inv.hosts["edge"]
    edge.data["bgp"]["maximum_paths_ibgp"] = 1
    for i in range(4, 14):
        data = copy.deepcopy(base.data)
        data["router_id"] = f"10.12.12.{i}"
        data["interfaces"][0]["addresses"] = [f"10.12.12.{i}/24"]
        inv.hosts[f"server-{i}"] = Host(name=f"server-{i}", groups=base.groups,
                                        defaults=inv.defaults, data=data)
        edge.data["bgp"]["neighbors"].append({"address": f"10.12.12.{i}", "remote_as": 65500})
    ps = problems_of(nr)
    idle = ", ".join(f"server-{i} (10.12.12.{i})" for i in range(2, 12))
    assert_problem(ps, "edge", "bgp.maximum_paths_ibgp", 1,
                   "13 servers share the best local_pref 100 for 10.13.13.1/32 but only 1 path "
                   f"is used: {idle} and 2 more will not carry traffic", severity="warning")


# --- 22b. what each VyOS release renders (nornir_anycast.design.vyos) ---------------------------

VYOS_CURRENT = ROOT / "tests" / "inventories" / "vyos-current"


def test_vyos_current_releases_validate() -> None:
    """1.4.2 and 1.5 (tests/inventories/vyos-current) are rendered releases: no problem."""
    assert [p for p in problems_of(load_nornir(VYOS_CURRENT)) if p.severity == "error"] == []


@pytest.mark.parametrize("version", ["1.3", "1.3.8", "1.6", "2.0", "1.0"])
def test_vyos_release_not_rendered_is_refused(version: str) -> None:
    def m(d: dict[str, Any]) -> None:
        d["edge"]["os_version"] = version
    assert_problem(broken(m, VYOS_CURRENT), "edge", "os_version", version,
                   "VyOS 1.1, 1.2, 1.4 and 1.5 only")


def test_vyos_11_has_no_bfd_nor_dns_listen_address() -> None:
    def m(d: dict[str, Any]) -> None:
        d["edge"]["os_version"] = "1.1.7"
        d["isp"]["os_version"] = "1.1.7"
    ps = broken(m, VYOS_CURRENT)
    assert_problem(ps, "edge", "bfd.enabled", True, "VyOS 1.1.7 has no BFD")
    assert_problem(ps, "isp", "dns_forwarding.listen_addresses", ["10.0.0.254"],
                   "VyOS 1.1.7", "came with 1.2")
    assert_problem(ps, "isp", "dns_forwarding.allow_from", ["10.0.0.0/24"], "VyOS 1.1.7")


def test_vyos_14_dns_forwarding_needs_an_address_and_allow_from() -> None:
    """1.4 has no listen-on: an interface without a static address gives neither."""
    def m(d: dict[str, Any]) -> None:
        d["isp"]["dns_forwarding"] = {"listen_on": ["eth0"], "name_servers": ["8.8.8.8"]}
    ps = broken(m, VYOS_CURRENT)
    assert_problem(ps, "isp", "dns_forwarding.listen_addresses", [],
                   "VyOS 1.4.2 needs a listen-address")
    assert_problem(ps, "isp", "dns_forwarding.allow_from", [],
                   "VyOS 1.4.2 refuses DNS forwarding without allow-from")


def test_vyos_dns_listen_addresses_and_allow_from_are_checked() -> None:
    def m(d: dict[str, Any]) -> None:
        d["isp"]["dns_forwarding"]["listen_addresses"] = ["10.0.0.254", "eth1"]
        d["isp"]["dns_forwarding"]["allow_from"] = ["10.0.0.1/24"]
    ps = broken(m, VYOS_CURRENT)
    assert_problem(ps, "isp", "dns_forwarding.listen_addresses.1", "eth1", "not an IP address")
    assert_problem(ps, "isp", "dns_forwarding.allow_from.0", "10.0.0.1/24", "not a network")


def test_vyos_11_has_no_multipath_hashing() -> None:
    """`system ip multipath` came with VyOS 1.2 (vyatta-cfg-system: helium has no node)."""
    def m(d: dict[str, Any]) -> None:
        d["isp"]["multipath_layer4_hashing"] = True
    assert_problem(broken(m, VYOS_SEED), "isp", "multipath_layer4_hashing", True,
                   "VyOS 1.1.7 has no `system ip multipath`")
