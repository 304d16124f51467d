"""verify in a design with sites (issue 13): what each upstream and each client should see.

The design is tests/inventories/two-sites (2 sites x 2 edges x 2 servers, site s2 standby).
The upstream checks get parsed `show ip bgp <prefix>` answers in the parser's result shape,
built here for each case (the real daemons' output is checked end to end by the sites lab test).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from paths import ROOT, TESTS

from nornir_anycast.design.build import load_design
from nornir_anycast.design.ecmp import derive_upstream_routes, with_drained
from nornir_anycast.design.model import Design, UpstreamRoute
from nornir_anycast.inventory.loader import load_nornir
from nornir_anycast.verify.checks.isp import check_upstream_route, has_sites
from nornir_anycast.verify.host import anycast_url, client_upstream, expected_site_servers

PREFIX = "10.13.13.1/32"


@pytest.fixture(scope="module")
def two_sites() -> Design:
    design, _ = load_design(load_nornir(TESTS / "inventories" / "two-sites"))
    return design


def _route(design: Design, upstream: str) -> UpstreamRoute:
    return next(r for r in derive_upstream_routes(design)
                if r.upstream == upstream and r.prefix == PREFIX)


def _detail(*paths: tuple[str, list[int], bool, bool]) -> dict[str, Any]:
    """A parsed `show ip bgp PREFIX`: (next hop, AS path, best, multipath) per path."""
    return {"routes": [{"prefix": PREFIX, "paths": [
        {"next_hop": nh, "as_path": asp, "valid": True, "best": best, "multipath": mp}
        for nh, asp, best, mp in paths]}]}


def test_sites_are_recognised(two_sites: Design) -> None:
    assert has_sites(two_sites)


def test_each_client_is_behind_its_sites_upstream(two_sites: Design) -> None:
    assert [client_upstream(two_sites, two_sites.hosts[c]).name  # type: ignore[union-attr]
            for c in ("client-1", "client-2")] == ["upstream-1", "upstream-2"]


def test_clients_of_both_sites_expect_the_active_sites_servers(two_sites: Design) -> None:
    """s2 is standby: upstream-2 prefers s1 through upstream-1, so client-2 too is served by
    s1's servers."""
    for client in ("client-1", "client-2"):
        assert expected_site_servers(two_sites, two_sites.hosts[client]) == {
            PREFIX: ["s1-server-1", "s1-server-2"]}, client


def test_a_site_with_every_server_drained_hands_its_clients_to_the_other(
        two_sites: Design) -> None:
    dark = with_drained(two_sites, ["s1-server-1", "s1-server-2"])
    for client in ("client-1", "client-2"):
        assert expected_site_servers(dark, dark.hosts[client]) == {
            PREFIX: ["s2-server-1", "s2-server-2"]}, client


def test_upstream_of_the_active_site_uses_both_its_edges(two_sites: Design) -> None:
    route = _route(two_sites, "upstream-1")
    assert route.via == "edges" and route.as_path_length == 1
    edges = route.next_hops
    assert len(edges) == 2
    ok = check_upstream_route(route, two_sites.hosts["upstream-1"], _detail(
        (edges[0], [65500], True, True), (edges[1], [65500], False, True),
        ("172.16.0.2", [65001, 65500], False, False)))
    assert ok.passed, ok.message
    assert ok.message.startswith(f"prefix {PREFIX}: prefers site s1 via ")
    one = check_upstream_route(route, two_sites.hosts["upstream-1"], _detail(
        (edges[0], [65500], True, True)))
    assert not one.passed
    assert f"expected site s1 via {edges[0]}, {edges[1]} (its edges)" in one.message


def test_upstream_of_the_standby_site_goes_through_the_other_upstream(
        two_sites: Design) -> None:
    route = _route(two_sites, "upstream-2")
    assert route.via == "upstreams" and route.sites == ["s1"] and route.as_path_length == 2
    via = route.next_hops[0]
    good = check_upstream_route(route, two_sites.hosts["upstream-2"], _detail(
        (via, [65000, 65500], True, False)))
    assert good.passed, good.message
    own_site = [nh for nh in _route(two_sites, "upstream-2").candidates if nh != via]
    assert not own_site  # the standby site's longer paths are no candidates
    wrong = check_upstream_route(route, two_sites.hosts["upstream-2"], _detail(
        ("172.16.43.3", [65501, 65501, 65501, 65501], True, False)))
    assert not wrong.passed
    assert "172.16.43.3 AS path 65501 65501 65501 65501 (used)" in wrong.message


def test_nobody_announcing_means_no_path(two_sites: Design) -> None:
    dark = with_drained(two_sites, [h.name for h in two_sites.by_role("server")])
    route = _route(dark, "upstream-1")
    assert route.via == "none"
    assert check_upstream_route(route, dark.hosts["upstream-1"], {"routes": []}).passed
    stale = check_upstream_route(route, dark.hosts["upstream-1"], _detail(
        ("172.16.42.3", [65500], True, False)))
    assert not stale.passed


def test_urls_bracket_ipv6() -> None:
    assert anycast_url("10.13.13.1") == "http://10.13.13.1/file"
    assert anycast_url("fd00:13::1") == "http://[fd00:13::1]/file"
    assert anycast_url("10.13.13.1", 8080) == "http://10.13.13.1:8080/file"


def test_dual_stack_routes_go_over_sessions_of_their_family(tmp_path: Path) -> None:
    """The generated 2x2x2 lab (one session per family): each upstream's route for the /32
    goes to its edges' IPv4 addresses and the /128's to their IPv6 ones, multipath, no tie."""
    from nornir_anycast.lab.inventory_gen import write_site_inventory

    design, _ = load_design(load_nornir(write_site_inventory(
        ROOT / "inventory", 2, 2, 2, dest=tmp_path / "gen")))
    routes = {(r.upstream, r.prefix): r for r in derive_upstream_routes(design)}
    assert sorted(routes) == [(u, p) for u in ("upstream-1", "upstream-2")
                              for p in (PREFIX, "fd00:13::1/128")]
    for (upstream, prefix), r in routes.items():
        k = int(upstream[-1])
        want = ([f"172.16.4{k + 1}.3", f"172.16.4{k + 1}.5"] if prefix == PREFIX
                else [f"fd00:172:16:4{k + 1}::3", f"fd00:172:16:4{k + 1}::5"])
        assert (r.via, r.next_hops, r.router_chooses, r.sites) == (
            "edges", want, False, [f"s{k}"]), (upstream, prefix)
