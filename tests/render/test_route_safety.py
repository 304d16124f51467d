"""Route safety without a lab: what the edge renders for its server sessions (per-server import
filter, soft-reconfiguration inbound, maximum-prefix; TCP-MD5 and GTSM on both ends, accepted by
each daemon's own checker), and the `rogue_announcements` / ISP leak logic replayed on output
captured from the real lab (tests/captures/frr/rogue_server, nothing_received; see
tests/captures/README.md). The same scenario runs live in tests/test_route_safety_lab.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from designs import design_of, edge_server_neighbors, inventory_copy, replace_host
from paths import ROOT

from nornir_anycast.design.build import build_design
from nornir_anycast.design.model import Design
from nornir_anycast.inventory import secrets
from nornir_anycast.inventory.loader import load_nornir
from nornir_anycast.render import render_host
from nornir_anycast.render.checkers import check_file, check_frr
from nornir_anycast.verify.checks.isp import check_isp_no_leak, routes_from_edges
from nornir_anycast.verify.checks.safety import check_rogue_announcements

CAPTURES = ROOT / "tests" / "captures" / "frr"
SECRET = "Md5-Test-pw-42"
ENV = "NA_TEST_ROUTE_SAFETY_PW"






def captured(state: str, name: str) -> dict[str, Any]:
    meta: dict[str, Any] = json.loads((CAPTURES / state / f"{name}.json").read_text())
    expected: dict[str, Any] = meta["expected"]
    return expected


def edge_conf(design: Design) -> str:
    return render_host(design.hosts["edge"], design)["frr.conf"].content


# ------------------------------------------------------------------ rendering: edge filter

def test_each_server_session_accepts_only_that_servers_prefixes() -> None:
    d = design_of()
    d = replace_host(d, "server-2", anycast=["10.13.13.1/32", "10.13.13.2/32"])
    text = edge_conf(d)
    lines = text.splitlines()
    assert "ip prefix-list ANYCAST-server-1 seq 5 permit 10.13.13.1/32" in lines
    assert "ip prefix-list ANYCAST-server-2 seq 5 permit 10.13.13.1/32" in lines
    assert "ip prefix-list ANYCAST-server-2 seq 10 permit 10.13.13.2/32" in lines
    assert not any(ln.startswith("ip prefix-list ANYCAST-server-1 seq 10") for ln in lines)
    assert " le " not in text and " ge " not in text  # exact host routes only
    assert "  neighbor 10.12.12.1 route-map SERVERS-IN-server-1 in" in lines
    assert "  neighbor 10.12.12.2 route-map SERVERS-IN-server-2 in" in lines
    # the limit follows each server's own count: 1 + 10 and 2 + 10
    assert "  neighbor 10.12.12.1 maximum-prefix 11 restart 1 force" in lines
    assert "  neighbor 10.12.12.2 maximum-prefix 12 restart 1 force" in lines
    # the ISP session gets neither (it is not a server session)
    assert "neighbor 172.16.42.2 soft-reconfiguration" not in text
    assert "neighbor 172.16.42.2 maximum-prefix" not in text
    check_frr(text)


def test_a_server_without_anycast_prefixes_gets_nothing_accepted() -> None:
    d = replace_host(design_of(), "server-2", anycast=[])
    text = edge_conf(d)
    block = text.split("route-map SERVERS-IN-server-2 deny 10\n", 1)[1].split("!", 1)[0]
    assert block.strip() == "exit"  # deny everything, no match clause
    assert "ANYCAST-server-2" not in text
    assert "  neighbor 10.12.12.2 maximum-prefix 10 restart 1 force" in text.splitlines()
    check_frr(text)


def test_the_inventorys_maximum_prefix_replaces_the_computed_limit() -> None:
    d = design_of()
    edge = d.hosts["edge"]
    bgp = {**edge.bgp.model_dump(exclude_unset=True), "maximum_prefix": 5}
    d = replace_host(d, "edge", bgp=bgp)
    lines = edge_conf(d).splitlines()
    for address in ("10.12.12.1", "10.12.12.2", "172.16.42.2"):
        assert f"  neighbor {address} maximum-prefix 5" in lines
    assert not any("restart 1 force" in ln for ln in lines)


# ------------------------------------------------------------------ rendering: TCP-MD5 and GTSM

def _protected(tmp: Path, source: str) -> Path:
    """`source` with password_env and ttl_security on both ends of every edge-server session."""
    def protect(hosts: dict[str, Any]) -> None:
        for nb in edge_server_neighbors(hosts):
            nb.update({"password_env": ENV, "ttl_security": True})

    return inventory_copy(source, tmp / "inv", protect)


@pytest.fixture()
def secret_env(monkeypatch: pytest.MonkeyPatch) -> Any:
    secrets.forget_all()
    monkeypatch.setenv(ENV, SECRET)
    yield
    secrets.forget_all()


def test_md5_and_gtsm_on_frr_edge_and_bird2_servers(tmp_path: Path, secret_env: Any) -> None:
    d = build_design(load_nornir(_protected(tmp_path, "inventory")))
    edge = edge_conf(d)
    for address in ("10.12.12.1", "10.12.12.2"):
        assert f" neighbor {address} password {SECRET}" in edge.splitlines()
        assert f" neighbor {address} ttl-security hops 1" in edge.splitlines()
    assert "172.16.42.2 password" not in edge and "172.16.42.2 ttl-security" not in edge
    check_frr(edge)
    for server in ("server-1", "server-2"):
        rendered = render_host(d.hosts[server], d)["bird.conf"]
        bird = rendered.content
        assert f'  password "{SECRET}";' in bird.splitlines()
        assert "  ttl security on;" in bird.splitlines()
        assert rendered.checker == "bird2"
        check_file(rendered)  # bird -p, with its include


def test_md5_and_gtsm_on_vyos_edge_and_bird1_servers(tmp_path: Path, secret_env: Any) -> None:
    d = build_design(load_nornir(_protected(tmp_path, "inventory/vyos-seed")))
    files = render_host(d.hosts["edge"], d)
    text = "\n".join(f.content for f in files.values())
    for address in ("10.12.12.1", "10.12.12.2"):
        assert f"neighbor {address} password '{SECRET}'" in text
        assert f"neighbor {address} ttl-security hops '1'" in text
    for server in ("server-1", "server-2"):
        rendered = render_host(d.hosts[server], d)["bird.conf"]
        bird = rendered.content
        assert f'  password "{SECRET}";' in bird.splitlines()
        assert "  ttl security on;" in bird.splitlines()
        assert rendered.checker == "bird1"
        check_file(rendered)  # BIRD 1.6's bird -p


# ------------------------------------------------------------------ rogue_announcements (replayed)

def test_rogue_server_is_named_with_each_prefix() -> None:
    d = design_of()
    edge, s1 = d.hosts["edge"], d.hosts["server-1"]
    c = check_rogue_announcements(
        edge, s1, "10.12.12.1",
        captured("rogue_server", "edge__show_ip_bgp_neighbors_10.12.12.1_received-routes"),
        captured("rogue_server", "edge__show_ip_bgp_neighbors_10.12.12.1_routes"))
    assert not c.passed
    assert c.name == "rogue_announcements" and c.host == "edge"
    assert c.actual["rogue"] == ["0.0.0.0/0", "10.12.12.0/24", "10.13.13.2/32"]
    assert c.actual["accepted_rogue"] == []
    assert c.message.startswith("server-1 (10.12.12.1) announces prefixes it may not: "
                                "0.0.0.0/0, 10.12.12.0/24, 10.13.13.2/32")
    assert "edge rejected them" in c.message


def test_well_behaved_server_passes() -> None:
    d = design_of()
    c = check_rogue_announcements(
        d.hosts["edge"], d.hosts["server-2"], "10.12.12.2",
        captured("rogue_server", "edge__show_ip_bgp_neighbors_10.12.12.2_received-routes"),
        captured("rogue_server", "edge__show_ip_bgp_neighbors_10.12.12.2_routes"))
    assert c.passed, c.message
    assert c.actual["received"] == ["10.13.13.1/32"]


def test_a_server_announcing_nothing_passes() -> None:
    d = design_of()
    c = check_rogue_announcements(
        d.hosts["edge"], d.hosts["server-2"], "10.12.12.2",
        captured("nothing_received", "edge__show_ip_bgp_neighbors_10.12.12.2_received-routes"),
        captured("nothing_received", "edge__show_ip_bgp_neighbors_10.12.12.2_routes"))
    assert c.passed and c.actual["received"] == []


def test_a_filter_that_lets_a_rogue_prefix_in_is_reported() -> None:
    # the capture's received-routes replayed as if the edge had accepted all of it too
    # (what an edge without the per-server filter does)
    d = design_of()
    received = captured("rogue_server", "edge__show_ip_bgp_neighbors_10.12.12.1_received-routes")
    c = check_rogue_announcements(d.hosts["edge"], d.hosts["server-1"], "10.12.12.1",
                                         received, received)
    assert not c.passed
    assert c.actual["accepted_rogue"] == ["0.0.0.0/0", "10.12.12.0/24", "10.13.13.2/32"]
    assert "edge accepted from server-1: 0.0.0.0/0, 10.12.12.0/24, 10.13.13.2/32" in c.message


def test_another_servers_prefix_is_rogue_for_this_one() -> None:
    d = replace_host(design_of(), "server-2", anycast=["10.13.13.1/32", "10.13.13.2/32"])
    received = captured("rogue_server", "edge__show_ip_bgp_neighbors_10.12.12.1_received-routes")
    c = check_rogue_announcements(d.hosts["edge"], d.hosts["server-1"], "10.12.12.1",
                                         received, {"routes": []})
    assert "10.13.13.2/32" in c.actual["rogue"]  # server-2's, not server-1's
    c2 = check_rogue_announcements(d.hosts["edge"], d.hosts["server-2"], "10.12.12.2",
                                          {"routes": [{"prefix": "10.13.13.2/32", "paths": []}]},
                                          {"routes": []})
    assert c2.passed


# ------------------------------------------------------------------ nothing reaches the ISP

def test_isp_table_of_the_rogue_lab_holds_nothing_from_the_edge_but_anycast() -> None:
    d = design_of()
    isp = captured("rogue_server", "isp__show_ip_bgp")
    assert routes_from_edges(d, isp) == {}  # its own 0.0.0.0/0 has an empty AS path
    c = check_isp_no_leak(d.hosts["isp"], routes_from_edges(d, isp))
    assert c.passed


def test_rogue_prefixes_at_the_isp_through_the_edge_are_leaks() -> None:
    # the captured ISP table with the rogue server's prefixes added as the ISP would see them
    # had the edge passed them on (AS path [65500], next hop the edge)
    d = design_of()
    isp = captured("rogue_server", "isp__show_ip_bgp")
    via_edge = isp["routes"][1]["paths"][0]
    table = {**isp, "routes": isp["routes"] + [
        {"prefix": p, "paths": [dict(via_edge)]} for p in ("10.12.12.0/24", "10.13.13.2/32")]}
    table["routes"][0] = {**table["routes"][0],
                          "paths": table["routes"][0]["paths"] + [dict(via_edge)]}
    leaked = routes_from_edges(d, table)
    assert sorted(leaked) == ["0.0.0.0/0", "10.12.12.0/24", "10.13.13.2/32"]
    c = check_isp_no_leak(d.hosts["isp"], leaked)
    assert not c.passed
    assert c.message == ("internal prefixes leaked to the ISP: "
                         "0.0.0.0/0, 10.12.12.0/24, 10.13.13.2/32")
