"""The edge sends its servers nothing: `SERVERS-OUT` (a deny-all route-map) on every server
session of every edge platform rendered (FRR, VyOS), unless the inventory names the neighbor's
own `route_map_out` (docs/safety.md#route-safety). Rendering only; the same on the lab:
tests/verify/test_server_receives_no_routes_lab.py, frr-reload stability:
tests/render/test_render_frr_reload.py."""

from __future__ import annotations

from typing import Any

from designs import design_of, replace_host

from nornir_anycast.design.model import Design
from nornir_anycast.render import render_host
from nornir_anycast.render.checkers import check_frr

SERVERS = {"10.12.12.1": "server-1", "10.12.12.2": "server-2"}
DEFAULT_ONLY = {"DEFAULT-ONLY": [{"rule": 10, "action": "permit", "match_prefix": "0.0.0.0/0"}]}


def frr_edge(design: Design) -> list[str]:
    return render_host(design.hosts["edge"], design)["frr.conf"].content.splitlines()


def vyos_edge(design: Design) -> list[str]:
    return render_host(design.hosts["edge"], design)["config.vyos"].content.splitlines()


def with_route_map_out(design: Design, addresses: set[str], name: str,
                       route_maps: dict[str, Any]) -> Design:
    """The design with the edge's neighbors at `addresses` exporting through `name`."""
    edge = design.hosts["edge"]
    bgp = edge.bgp.model_dump(exclude_unset=True)
    for nb in bgp["neighbors"]:
        if nb["address"] in addresses:
            nb["route_map_out"] = name
    return replace_host(design, "edge", bgp=bgp, route_maps=route_maps)


def route_map_block(lines: list[str], header: str) -> list[str]:
    """The lines of one FRR route-map entry after its header, up to its `exit`."""
    start = lines.index(header)
    end = lines.index("exit", start)
    return lines[start + 1:end]


# ------------------------------------------------------------------ FRR

def test_frr_edge_denies_everything_to_every_server() -> None:
    lines = frr_edge(design_of())
    assert "route-map SERVERS-OUT deny 10" in lines
    assert route_map_block(lines, "route-map SERVERS-OUT deny 10") == []  # no match: all
    assert not any(ln.startswith("route-map SERVERS-OUT permit") for ln in lines)
    for address in SERVERS:
        assert f"  neighbor {address} route-map SERVERS-OUT out" in lines
    # the ISP session keeps its own export policy
    assert "  neighbor 172.16.42.2 route-map EBGP-OUT out" in lines
    assert "  neighbor 172.16.42.2 route-map SERVERS-OUT out" not in lines
    # under the address family, where FRR prints it (frr-reload compares that form)
    af = lines[lines.index(" address-family ipv4 unicast"):lines.index(" exit-address-family")]
    assert "  neighbor 10.12.12.1 route-map SERVERS-OUT out" in af
    check_frr("\n".join(lines) + "\n")


def test_frr_every_server_of_a_bigger_edge_gets_it() -> None:
    d = design_of("tests/inventories/three-servers")
    lines = frr_edge(d)
    servers = [n for n in d.hosts["edge"].bgp.neighbors
               if (o := d.owner_of(n.address)) is not None and o.role == "server"]
    assert len(servers) == 3
    for nb in servers:
        assert f"  neighbor {nb.address} route-map SERVERS-OUT out" in lines
    assert lines.count("route-map SERVERS-OUT deny 10") == 1


def test_frr_inventory_route_map_out_wins_for_its_neighbor_only() -> None:
    d = with_route_map_out(design_of(), {"10.12.12.1"}, "DEFAULT-ONLY", DEFAULT_ONLY)
    lines = frr_edge(d)
    assert "  neighbor 10.12.12.1 route-map DEFAULT-ONLY out" in lines
    assert "  neighbor 10.12.12.1 route-map SERVERS-OUT out" not in lines
    assert "  neighbor 10.12.12.2 route-map SERVERS-OUT out" in lines
    assert "route-map SERVERS-OUT deny 10" in lines  # still used by server-2
    assert route_map_block(lines, "route-map DEFAULT-ONLY permit 10") == [
        " match ip address prefix-list DEFAULT-ONLY-10"]
    assert "ip prefix-list DEFAULT-ONLY-10 seq 5 permit 0.0.0.0/0" in lines
    check_frr("\n".join(lines) + "\n")


def test_frr_no_servers_out_when_every_server_has_its_own() -> None:
    d = with_route_map_out(design_of(), set(SERVERS), "DEFAULT-ONLY", DEFAULT_ONLY)
    text = "\n".join(frr_edge(d))
    assert "SERVERS-OUT" not in text
    for address in SERVERS:
        assert f"  neighbor {address} route-map DEFAULT-ONLY out" in text.splitlines()


def test_frr_an_inventory_route_map_named_servers_out_is_the_inventorys() -> None:
    own = {"SERVERS-OUT": [{"rule": 5, "action": "permit", "match_prefix": "0.0.0.0/0"}]}
    d = replace_host(design_of(), "edge", route_maps=own)
    lines = frr_edge(d)
    assert "route-map SERVERS-OUT deny 10" not in lines
    assert route_map_block(lines, "route-map SERVERS-OUT permit 5") == [
        " match ip address prefix-list SERVERS-OUT-5"]
    for address in SERVERS:  # the default name is used, with the inventory's rules
        assert f"  neighbor {address} route-map SERVERS-OUT out" in lines


def test_frr_isp_router_has_no_servers_out() -> None:
    d = design_of()
    text = render_host(d.hosts["isp"], d)["frr.conf"].content
    assert "SERVERS-OUT" not in text


# ------------------------------------------------------------------ VyOS

def test_vyos_edge_denies_everything_to_every_server() -> None:
    for inventory in ("inventory/vyos-seed", "inventory/vyos-seed-dnat"):
        lines = vyos_edge(design_of(inventory))
        rules = [ln for ln in lines if ln.startswith("set policy route-map SERVERS-OUT ")]
        assert rules == ["set policy route-map SERVERS-OUT rule 10 action 'deny'"], inventory
        for address in SERVERS:
            line = f"set protocols bgp 65500 neighbor {address} route-map export 'SERVERS-OUT'"
            assert line in lines, inventory
        # the route-map is defined before the neighbors that name it (VyOS checks on commit)
        assert lines.index(rules[0]) < lines.index(
            "set protocols bgp 65500 neighbor 10.12.12.1 route-map export 'SERVERS-OUT'")
        assert not any("172.16.42.2 route-map export 'SERVERS-OUT'" in ln for ln in lines)


def test_vyos_seed_isp_export_is_untouched() -> None:
    lines = vyos_edge(design_of("inventory/vyos-seed-dnat"))
    assert "set policy route-map AS65500-OUT rule 20 action 'deny'" in lines
    assert "set protocols bgp 65500 neighbor 172.16.42.2 route-map export 'AS65500-OUT'" in lines


def test_vyos_inventory_route_map_out_wins() -> None:
    d = with_route_map_out(design_of("inventory/vyos-seed"), {"10.12.12.2"}, "DEFAULT-ONLY",
                           DEFAULT_ONLY)
    lines = vyos_edge(d)
    assert "set protocols bgp 65500 neighbor 10.12.12.2 route-map export 'DEFAULT-ONLY'" in lines
    assert ("set protocols bgp 65500 neighbor 10.12.12.2 route-map export 'SERVERS-OUT'"
            not in lines)
    assert "set protocols bgp 65500 neighbor 10.12.12.1 route-map export 'SERVERS-OUT'" in lines
    assert "set policy route-map DEFAULT-ONLY rule 10 action 'permit'" in lines
    d = with_route_map_out(design_of("inventory/vyos-seed"), set(SERVERS), "DEFAULT-ONLY",
                           DEFAULT_ONLY)
    assert not any("SERVERS-OUT" in ln for ln in vyos_edge(d))
