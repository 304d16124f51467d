"""`server_receives_no_routes` (each server) and `edge_sends_no_routes` (the edge) replayed on
real output captured in the lab after the ISP announced 2,000 extra routes
(tests/captures/{bird2,frr}/servers_out: SERVERS-OUT on the edge; .../servers_sent_all: the
edge without it, as rendered before; see tests/captures/README.md), plus the inventory's own
`route_map_out`, BIRD 1.6's layout and output that cannot tell. The live run:
tests/verify/test_server_receives_no_routes_lab.py."""

from __future__ import annotations

from typing import Any

from designs import design_of, replace_host
from paths import CAPTURES

from nornir_anycast.design.model import Design
from nornir_anycast.parsing import parse_output
from nornir_anycast.verify.checks.sessions import (
    check_edge_sends_no_routes,
    check_server_receives_no_routes,
)

SERVERS = {"server-1": "10.12.12.1", "server-2": "10.12.12.2"}


def protocols(state: str, server: str, platform: str = "bird2") -> dict[str, Any]:
    text = (CAPTURES / platform / state / f"{server}__birdc_show_protocols_all.txt").read_text()
    parsed: dict[str, Any] = parse_output(platform, "show protocols all", text)
    return parsed


def summary(state: str, platform: str = "frr") -> dict[str, Any]:
    parsed: dict[str, Any] = parse_output(
        platform, "show ip bgp summary",
        (CAPTURES / platform / state / "edge__show_ip_bgp_summary.txt").read_text())
    return parsed


def with_route_map_out(design: Design, address: str) -> Design:
    edge = design.hosts["edge"]
    bgp = edge.bgp.model_dump(exclude_unset=True)
    for nb in bgp["neighbors"]:
        if nb["address"] == address:
            nb["route_map_out"] = "DEFAULT-ONLY"
    route_maps = {"DEFAULT-ONLY": [{"rule": 10, "action": "permit", "match_prefix": "0.0.0.0/0"}]}
    return replace_host(design, "edge", bgp=bgp, route_maps=route_maps)


# ------------------------------------------------------------------ the server's side

def test_servers_behind_servers_out_received_nothing() -> None:
    d = design_of()
    for server in SERVERS:
        [c] = check_server_receives_no_routes(d.hosts[server], d, protocols("servers_out", server))
        assert c.passed, c
        assert c.name == "server_receives_no_routes" and c.host == server
        assert c.actual["received"] == 0
        assert c.actual["protocol"] == "edge"
        assert c.message == "received no route from edge (10.12.12.254)"


def test_servers_sent_the_isps_routes_fail_naming_server_edge_and_count() -> None:
    d = design_of()
    got = {}
    for server in SERVERS:
        [c] = check_server_receives_no_routes(d.hosts[server], d,
                                              protocols("servers_sent_all", server))
        assert not c.passed
        assert c.host == server
        got[server] = c
    # BIRD 2.0.12 with `import none` counts each route it drops as a withdrawal received
    # (the captured sessions also restarted under the load, and were sent everything again)
    assert got["server-1"].actual["received"] == 4424
    assert got["server-1"].actual["import_withdraws"]["received"] == 4424
    assert got["server-1"].actual["import_updates"]["received"] == 0
    assert got["server-2"].actual["received"] == 6039
    assert got["server-1"].message == (
        "received 4,424 route(s) or withdrawal(s) from edge (10.12.12.254), expected none: "
        "the edge sends its servers nothing (SERVERS-OUT), deploy it (BIRD counts since "
        "protocol edge started: `birdc restart edge` counts afresh)")
    assert got["server-1"].expected == {"neighbor": "10.12.12.254", "received": 0}


def test_the_inventorys_route_map_out_makes_it_a_report_not_a_failure() -> None:
    d = with_route_map_out(design_of(), "10.12.12.1")
    [c1] = check_server_receives_no_routes(d.hosts["server-1"], d,
                                           protocols("servers_sent_all", "server-1"))
    assert c1.passed
    assert c1.expected == {"neighbor": "10.12.12.254", "route_map_out": "DEFAULT-ONLY"}
    assert c1.message == ("received 4,424 route(s) or withdrawal(s) from edge (10.12.12.254): "
                          "the edge's export policy is the inventory's DEFAULT-ONLY")
    # server-2 keeps the default policy, and fails
    [c2] = check_server_receives_no_routes(d.hosts["server-2"], d,
                                           protocols("servers_sent_all", "server-2"))
    assert not c2.passed


def test_bird_1_6_counts_at_protocol_level() -> None:
    d = design_of("inventory/vyos-seed")
    path = CAPTURES / "bird" / "seed" / "server-1__birdc_show_protocols_all_bgp1.txt"
    text = path.read_text()
    [c] = check_server_receives_no_routes(d.hosts["server-1"], d,
                                          parse_output("bird", "show protocols all", text))
    assert c.passed and c.actual["received"] == 0
    # the same output with one update and two withdrawals counted
    old_rows = ("    Import updates:              0          0          0          0          0\n"
                "    Import withdraws:            0          0        ---          0          0\n")
    assert old_rows in text
    text = text.replace(old_rows, (
        "    Import updates:              1          0          1          0          0\n"
        "    Import withdraws:            2          0        ---          2          0\n"))
    [c] = check_server_receives_no_routes(d.hosts["server-1"], d,
                                          parse_output("bird", "show protocols all", text))
    assert not c.passed and c.actual["received"] == 3
    assert c.message.startswith("received 3 route(s) or withdrawal(s) from edge (10.12.12.254)")


def test_output_that_cannot_tell_fails() -> None:
    d = design_of()
    s1 = d.hosts["server-1"]
    [c] = check_server_receives_no_routes(s1, d, {"protocols": []})
    assert not c.passed
    assert c.message == "no BGP protocol to edge (10.12.12.254): cannot tell what it receives"
    p = protocols("servers_out", "server-1")
    for proto in p["protocols"]:
        proto.pop("import_updates", None)
        proto.pop("import_withdraws", None)
    [c] = check_server_receives_no_routes(s1, d, p)
    assert not c.passed
    assert c.message == ("BIRD printed no import statistics for its session to "
                         "edge (10.12.12.254)")


# ------------------------------------------------------------------ the edge's side

def test_edge_sends_servers_nothing_with_servers_out() -> None:
    d = design_of()
    checks = check_edge_sends_no_routes(d.hosts["edge"], d, summary("servers_out"))
    assert [c.actual["neighbor"] for c in checks] == list(SERVERS.values())
    assert all(c.passed and c.actual["prefixes_sent"] == 0 for c in checks)
    assert [c.message for c in checks] == ["sends server-1 (10.12.12.1) nothing",
                                           "sends server-2 (10.12.12.2) nothing"]


def test_edge_sending_the_isps_routes_fails_per_server() -> None:
    d = design_of()
    checks = check_edge_sends_no_routes(d.hosts["edge"], d, summary("servers_sent_all"))
    assert [(c.host, c.passed, c.actual["prefixes_sent"]) for c in checks] == [
        ("edge", False, 2001), ("edge", False, 2001)]
    assert checks[0].message == ("sends server-1 (10.12.12.1) 2,001 prefix(es), expected none "
                                 "(SERVERS-OUT)")
    d = with_route_map_out(d, "10.12.12.2")
    checks = check_edge_sends_no_routes(d.hosts["edge"], d, summary("servers_sent_all"))
    assert [c.passed for c in checks] == [False, True]
    assert checks[1].message == ("sends server-2 (10.12.12.2) 2,001 prefix(es): export policy "
                                 "is the inventory's DEFAULT-ONLY")


def test_no_edge_claim_without_pfxsnt_or_on_other_routers() -> None:
    d = design_of("inventory/vyos-seed")
    # Quagga (VyOS 1.1.7) prints no PfxSnt column: nothing is claimed
    quagga = summary("quagga_aligned", platform="vyos")
    assert check_edge_sends_no_routes(d.hosts["edge"], d, quagga) == []
    d = design_of()
    assert check_edge_sends_no_routes(d.hosts["isp"], d, summary("servers_sent_all")) == []
