"""The expected state of a design with sites (nornir_anycast.design.ecmp): each edge's own ECMP
set from the servers of its site, and each upstream's preferred site and next hops
(`derive_upstream_routes`), over the two-sites test inventory and variants of it."""

from __future__ import annotations

from designs import design_of, replace_host

from nornir_anycast.design import derive_upstream_routes
from nornir_anycast.design.ecmp import edge_as_path_length, with_drained
from nornir_anycast.design.model import Design, UpstreamRoute

TWO_SITES = "tests/inventories/two-sites"
ANYCAST = "10.13.13.1/32"


def routes(design: Design) -> dict[str, UpstreamRoute]:
    out = {r.upstream: r for r in derive_upstream_routes(design)}
    assert all(r.prefix == ANYCAST for r in out.values())
    return out


def test_each_edge_has_its_own_ecmp_set_from_its_sites_servers() -> None:
    d = design_of(TWO_SITES)
    by_edge = {s.edge: s for s in d.services}
    assert sorted(by_edge) == ["s1-edge-1", "s1-edge-2", "s2-edge-1", "s2-edge-2"]
    assert [p.host for p in by_edge["s1-edge-2"].ecmp] == ["s1-server-1", "s1-server-2"]
    assert [p.next_hop for p in by_edge["s2-edge-1"].ecmp] == ["10.12.13.1", "10.12.13.2"]
    # Capped by the edge's own maximum_paths_ibgp: s1-edge-2 at 1, s1-edge-1 still 2.
    capped = replace_host(d, "s1-edge-2", bgp={**d.hosts["s1-edge-2"].bgp.model_dump(),
                                               "maximum_paths_ibgp": 1})
    by_edge = {s.edge: s for s in capped.services}
    assert [p.host for p in by_edge["s1-edge-2"].ecmp] == ["s1-server-1"]
    assert [p.host for p in by_edge["s1-edge-2"].backups] == ["s1-server-2"]
    assert len(by_edge["s1-edge-1"].ecmp) == 2


def test_a_server_peering_with_one_edge_is_in_that_edges_set_only() -> None:
    d = design_of(TWO_SITES)
    bgp = d.hosts["s1-server-2"].bgp.model_dump()
    bgp["neighbors"] = bgp["neighbors"][:1]  # s1-edge-1 only
    one = replace_host(d, "s1-server-2", bgp=bgp)
    by_edge = {s.edge: s for s in one.services}
    assert [p.host for p in by_edge["s1-edge-1"].announcers] == ["s1-server-1", "s1-server-2"]
    assert [p.host for p in by_edge["s1-edge-2"].announcers] == ["s1-server-1"]


def test_standby_site_is_prepended() -> None:
    d = design_of(TWO_SITES)
    assert edge_as_path_length(d.hosts["s1-edge-1"]) == 1
    assert edge_as_path_length(d.hosts["s2-edge-1"]) == 4  # 65501 and 3 prepends


def test_upstreams_prefer_the_active_site() -> None:
    r = routes(design_of(TWO_SITES))
    # upstream-1: its own site s1, eBGP multipath over both s1 edges.
    assert r["upstream-1"].sites == ["s1"]
    assert r["upstream-1"].via == "edges"
    assert r["upstream-1"].as_path_length == 1
    assert r["upstream-1"].next_hops == ["172.16.42.3", "172.16.42.5"]
    assert not r["upstream-1"].router_chooses
    # upstream-2: its own site s2 is standby (path 4 long), s1 through upstream-1 is 2.
    assert r["upstream-2"].sites == ["s1"]
    assert r["upstream-2"].via == "upstreams"
    assert r["upstream-2"].as_path_length == 2
    assert r["upstream-2"].next_hops == ["172.16.0.1"]


def test_without_standby_each_upstream_prefers_its_own_site() -> None:
    d = design_of(TWO_SITES)
    for e in ("s2-edge-1", "s2-edge-2"):
        d = replace_host(d, e, site_standby=False)
    r = routes(d)
    assert r["upstream-2"].sites == ["s2"]
    assert r["upstream-2"].next_hops == ["172.16.43.3", "172.16.43.5"]
    assert r["upstream-1"].sites == ["s1"]


def test_site_down_moves_every_upstream_to_the_standby_site() -> None:
    d = with_drained(design_of(TWO_SITES), ["s1-server-1", "s1-server-2"])
    r = routes(d)
    assert r["upstream-1"].sites == ["s2"]
    assert r["upstream-1"].via == "upstreams"
    assert r["upstream-1"].next_hops == ["172.16.0.2"]
    assert r["upstream-1"].as_path_length == 5
    assert r["upstream-2"].sites == ["s2"]
    assert r["upstream-2"].next_hops == ["172.16.43.3", "172.16.43.5"]


def test_nobody_announcing_means_no_next_hop() -> None:
    d = with_drained(design_of(TWO_SITES), [n for n in design_of(TWO_SITES).hosts
                                             if "server" in n])
    for r in routes(d).values():
        assert (r.via, r.sites, r.next_hops, r.as_path_length) == ("none", [], [], 0)


def test_upstream_maximum_paths_caps_the_edges() -> None:
    d = design_of(TWO_SITES)
    bgp = {**d.hosts["upstream-1"].bgp.model_dump(), "maximum_paths": 1}
    r = routes(replace_host(d, "upstream-1", bgp=bgp))["upstream-1"]
    assert r.router_chooses
    assert r.next_hops == r.candidates == ["172.16.42.3", "172.16.42.5"]
    unset = {**d.hosts["upstream-1"].bgp.model_dump(), "maximum_paths": None}
    r = routes(replace_host(d, "upstream-1", bgp=unset))["upstream-1"]
    assert not r.router_chooses and r.next_hops == ["172.16.42.3", "172.16.42.5"]


def test_a_tie_between_sites_is_the_routers_choice() -> None:
    d = design_of(TWO_SITES)
    for e in ("s2-edge-1", "s2-edge-2"):
        d = replace_host(d, e, site_prepend=1)  # s2 at 2 = s1 through upstream-1
    r = routes(d)["upstream-2"]
    assert r.sites == ["s1", "s2"]
    assert r.as_path_length == 2
    assert r.router_chooses
    assert r.candidates == ["172.16.0.1", "172.16.43.3", "172.16.43.5"]
    assert r.via == "edges"  # the first group: its own edges


def test_one_site_inventories_keep_their_shape() -> None:
    [r] = derive_upstream_routes(design_of("inventory"))
    assert (r.upstream, r.sites, r.via, r.next_hops) == ("isp", [None], "edges",
                                                         ["172.16.42.3"])
    assert derive_upstream_routes(design_of("tests/inventories/three-servers")) == []
