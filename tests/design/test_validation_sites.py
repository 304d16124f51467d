"""Site rules (nornir_anycast.design.validation.sites), one test each: the two-sites test
inventory broken in one place, the problem's host, field, value, severity and words asserted.
The shipped inventories stay valid with no new problem."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from paths import ROOT

from nornir_anycast.design.build import build_design, load_design
from nornir_anycast.design.sites import sites
from nornir_anycast.design.validation import sites as site_rules
from nornir_anycast.design.validation import validate
from nornir_anycast.design.validation.common import Report
from nornir_anycast.exceptions import InventoryError, Problem
from nornir_anycast.inventory.loader import load_nornir

TWO_SITES = ROOT / "tests" / "inventories" / "two-sites"
SITE_RULES = ("rule_server_site_edges", "rule_server_site_has_edge", "rule_site_edge_asns",
              "rule_site_upstream", "rule_site_standby", "rule_bgp_site_options")


def broken(mutate: Callable[[dict[str, Any]], None]) -> list[Problem]:
    """The two-sites inventory with `mutate(host data by name)` applied: its problems."""
    nr = load_nornir(TWO_SITES)
    mutate({name: host.data for name, host in nr.inventory.hosts.items()})
    try:
        design = build_design(nr)
    except InventoryError as exc:
        return exc.problems
    return validate(design)


def only(problems: list[Problem], host: str, field: str, value: object, *words: str,
         severity: str = "error") -> Problem:
    """Exactly one problem at host/field; its value, severity and words as given."""
    listing = "; ".join(str(p) for p in problems) or "no problems"
    at = [p for p in problems if p.host == host and p.field == field]
    assert len(at) == 1, f"expected one {host} {field} problem; got: {listing}"
    p = at[0]
    assert p.value == value, listing
    assert p.severity == severity, listing
    for w in words:
        assert w in p.message, f"{w!r} not in {p.message!r}"
    return p


def _neighbors(data: dict[str, Any], host: str) -> list[dict[str, Any]]:
    neighbors: list[dict[str, Any]] = data[host]["bgp"]["neighbors"]
    return neighbors


def test_two_sites_is_valid_and_has_its_sites() -> None:
    design, warnings = load_design(load_nornir(TWO_SITES))
    assert warnings == []
    by_site = sites(design)
    assert list(by_site) == ["s1", "s2"]
    assert by_site["s1"].edges == ("s1-edge-1", "s1-edge-2")
    assert by_site["s2"].servers == ("s2-server-1", "s2-server-2")
    assert by_site["s2"].upstreams == ("upstream-2",)
    assert by_site["s1"].clients == ("client-1",)
    # site_standby comes from the site-s2 group: every s2 host has it, edges read it.
    assert design.hosts["s2-edge-1"].site_standby and not design.hosts["s1-edge-1"].site_standby


@pytest.mark.parametrize("inventory", ["inventory", "inventory/lab-dnat", "inventory/vyos-seed",
                                       "inventory/vyos-seed-dnat", "inventory/lab-debian13",
                                       "tests/inventories/three-servers"])
def test_existing_inventories_get_no_site_problem(inventory: str) -> None:
    design = build_design(load_nornir(ROOT / inventory))
    found = []
    for name in SITE_RULES:
        r = Report()
        getattr(site_rules, name)(design, r)
        found += r.problems
    assert found == []
    assert all(p.severity == "warning" for p in validate(design))


def test_server_with_no_edge_of_its_site() -> None:
    def peer_with_site_2(d: dict[str, Any]) -> None:
        # s1-server-1 on s1's LAN, but told it is in site s2: its edges are s1's.
        d["s1-server-1"]["site"] = "s2"

    p = only(broken(peer_with_site_2), "s1-server-1", "bgp.neighbors",
             ["10.12.12.254", "10.12.12.253"], "no edge of site s2 among the neighbours",
             "s1-edge-1, s1-edge-2", "site s2's edges are s2-edge-1, s2-edge-2")
    assert p.severity == "error"


def test_server_peering_with_only_some_edges_of_its_site_is_a_warning() -> None:
    def one_edge(d: dict[str, Any]) -> None:
        _neighbors(d, "s1-server-2").pop(1)  # s1-edge-2
        _neighbors(d, "s1-edge-2").pop(1)  # ... on both ends

    problems = broken(one_edge)
    only(problems, "s1-server-2", "bgp.neighbors", ["10.12.12.254"],
         "peers with s1-edge-1 but not with s1-edge-2 of site s1",
         "s1-edge-2 will not carry this server's traffic", severity="warning")
    assert [p for p in problems if p.severity == "error"] == []


def test_edges_of_one_site_in_different_ases() -> None:
    def other_as(d: dict[str, Any]) -> None:
        d["s2-edge-2"]["asn"] = 65502
        for nb in _neighbors(d, "upstream-2")[1:2]:
            nb["remote_as"] = 65502

    problems = broken(other_as)
    for edge, asn in (("s2-edge-1", 65501), ("s2-edge-2", 65502)):
        only(problems, edge, "asn", asn, "the edges of site s2 are in different ASes",
             "s2-edge-1 65501, s2-edge-2 65502")


def test_site_with_no_upstream() -> None:
    def cut(d: dict[str, Any]) -> None:
        _neighbors(d, "s1-edge-2").pop(2)  # upstream-1
        _neighbors(d, "upstream-1").pop(1)  # s1-edge-2

    only(broken(cut), "s1-edge-2", "bgp.neighbors", ["10.12.12.1", "10.12.12.2"],
         "no eBGP neighbour is an upstream router (role isp)",
         "site s1 is reached from nowhere through this edge")


def test_site_standby_disagreeing_between_edges() -> None:
    def disagree(d: dict[str, Any]) -> None:
        d["s2-edge-2"]["site_standby"] = False

    problems = broken(disagree)
    only(problems, "s2-edge-1", "site_standby", True,
         "site_standby differs between the edges of site s2",
         "s2-edge-1 true, s2-edge-2 false")
    only(problems, "s2-edge-2", "site_standby", False, "a site is standby, or not, as a whole")


def test_site_prepend_range_on_standby_edges() -> None:
    def zero(d: dict[str, Any]) -> None:
        for e in ("s2-edge-1", "s2-edge-2"):
            d[e]["site_prepend"] = 0

    only(broken(zero), "s2-edge-1", "site_prepend", 0, "prepends its AS 1..10 times")


def test_server_whose_site_has_no_edge() -> None:
    def lone(d: dict[str, Any]) -> None:
        d["s2-server-2"]["site"] = "s3"

    only(broken(lone), "s2-server-2", "site", "s3", "no edge router is in site s3",
         "sites with edges: s1, s2")


def test_server_without_site_when_every_edge_has_one() -> None:
    def no_site(d: dict[str, Any]) -> None:
        d["s1-server-1"]["site"] = None

    only(broken(no_site), "s1-server-1", "site", None,
         "the server has no site, and every edge has one (s1, s2)")


def test_site_name_pattern() -> None:
    def bad(d: dict[str, Any]) -> None:
        d["client-1"]["site"] = "Site 1"

    only(broken(bad), "client-1", "site", "Site 1", "should match pattern")


@pytest.mark.parametrize(("field", "value", "words"), [
    ("maximum_paths", 0, "must be at least 1"),
    ("graceful_restart_time", 5000, "graceful restart time must be 1..4095 seconds"),
    ("advertisement_interval", 601, "advertisement interval must be 0..600 seconds"),
])
def test_bgp_option_ranges(field: str, value: int, words: str) -> None:
    def set_it(d: dict[str, Any]) -> None:
        d["upstream-1"]["bgp"][field] = value

    only(broken(set_it), "upstream-1", f"bgp.{field}", value, words)


def test_several_gateways_only_on_bird2_or_3_servers() -> None:
    def bird1(d: dict[str, Any]) -> None:
        d["s1-server-1"]["bird_version"] = 1
        d["s1-server-1"]["bgp"]["graceful_restart"] = True

    problems = broken(bird1)
    only(problems, "s1-server-1", "interfaces.0.gateway", ["10.12.12.254", "10.12.12.253"],
         "rendered for bird_version 2 and 3 only")
    only(problems, "s1-server-1", "bgp.graceful_restart", True,
         "BIRD 1.6 template renders no graceful restart")


def test_several_gateways_are_for_servers() -> None:
    def client(d: dict[str, Any]) -> None:
        d["client-1"]["interfaces"][0]["gateway"] = ["10.0.0.254", "10.0.0.253"]

    only(broken(client), "client-1", "interfaces.0.gateway", ["10.0.0.254", "10.0.0.253"],
         "several gateways are for servers")


def test_gateway_list_entries_are_checked_one_by_one() -> None:
    def bad(d: dict[str, Any]) -> None:
        d["s1-server-1"]["interfaces"][0]["gateway"] = ["10.12.12.254", "10.12.99.1",
                                                        "10.12.12.254"]

    problems = broken(bad)
    only(problems, "s1-server-1", "interfaces.0.gateway.1", "10.12.99.1",
         "outside the subnets of eth0 (10.12.12.0/24)")
    only(problems, "s1-server-1", "interfaces.0.gateway.2", "10.12.12.254",
         "gateway is listed twice")


def test_vyos_refuses_what_its_templates_do_not_render() -> None:
    nr = load_nornir(ROOT / "inventory" / "vyos-seed")
    nr.inventory.hosts["edge"].data["bgp"]["graceful_restart"] = True
    problems = validate(build_design(nr))
    only(problems, "edge", "bgp.graceful_restart", True,
         "the VyOS templates do not render this yet")


def test_gateway_of_the_wrong_kind_is_one_problem() -> None:
    def number(d: dict[str, Any]) -> None:
        d["s1-server-1"]["interfaces"][0]["gateway"] = [10, "10.12.12.253"]

    only(broken(number), "s1-server-1", "interfaces.0.gateway", [10, "10.12.12.253"],
         "must be an address, or a list of addresses")


def test_several_gateways_without_bfd_is_a_warning() -> None:
    def no_bfd(d: dict[str, Any]) -> None:
        d["s1-server-1"]["bfd"] = {"enabled": False}
        d["s1-edge-1"]["bfd"] = {"enabled": False}  # no "BFD only on one end" warning
        d["s1-edge-2"]["bfd"] = {"enabled": False}

    problems = broken(no_bfd)
    only(problems, "s1-server-1", "interfaces.0.gateway", ["10.12.12.254", "10.12.12.253"],
         "several gateways without BFD", severity="warning")


def test_standby_edge_with_its_own_route_map_out_gets_no_prepend() -> None:
    def own_policy(d: dict[str, Any]) -> None:
        d["s2-edge-1"]["route_maps"] = {"MINE": [{"rule": 10, "action": "permit"}]}
        _neighbors(d, "s2-edge-1")[2]["route_map_out"] = "MINE"

    only(broken(own_policy), "s2-edge-1", "bgp.neighbors.2.route_map_out", "MINE",
         "standby prepend is rendered in the default EBGP-OUT policy only",
         "(172.16.43.2)", severity="warning")
