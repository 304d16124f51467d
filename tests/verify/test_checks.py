"""Verification logic against real captured state: tests/captures/ (see its README: FRR 8.4.4,
BIRD 2.0.12 and iproute2 output captured from real daemons) replayed through the real parsers
and the real checks, for designs that match and designs that do not."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from paths import CAPTURES, ROOT

from nornir_anycast.design.build import load_design
from nornir_anycast.design.model import Design
from nornir_anycast.inventory.loader import load_nornir
from nornir_anycast.lab.inventory_gen import write_scaled_inventory
from nornir_anycast.parsing import parse_output
from nornir_anycast.verify.checks import Check
from nornir_anycast.verify.checks.edge import check_edge_kernel, check_edge_multipath
from nornir_anycast.verify.checks.http import check_http
from nornir_anycast.verify.checks.isp import check_isp_learned, check_isp_no_leak, internal_prefixes
from nornir_anycast.verify.checks.sessions import check_router_sessions, check_server_sessions


def parsed(platform: str, state: str, name: str, command: str) -> dict[str, Any]:
    return parse_output(platform, command, (CAPTURES / platform / state / name).read_text())


def design(tmp_path: Path, servers: int = 2, max_paths: int | None = None,
           prefs: dict[str, int] | None = None) -> Design:
    """The lab inventory with `servers` servers, edge maximum-paths and server preferences."""
    inv = write_scaled_inventory(ROOT / "inventory", servers, tmp_path / f"inv{servers}")
    hosts = yaml.safe_load((inv / "hosts.yaml").read_text())
    if max_paths is not None:
        hosts["edge"]["data"]["bgp"]["maximum_paths_ibgp"] = max_paths
    for name, pref in (prefs or {}).items():
        hosts[name]["data"]["local_pref"] = pref
    (inv / "hosts.yaml").write_text(yaml.safe_dump(hosts, sort_keys=False))
    d, _ = load_design(load_nornir(inv))
    return d


def multipath(d: Design, state: str) -> list[Check]:
    detail = parsed("frr", state, "edge__show_ip_bgp_10.13.13.1_32.txt",
                    "show ip bgp 10.13.13.1/32")
    return check_edge_multipath(d.services[0], d.hosts["edge"], detail)


def kernel(d: Design, state: str) -> Check:
    routes = parsed("linux", state, "edge__ip_route_show_10.13.13.1.txt",
                    "ip route show 10.13.13.1")
    return check_edge_kernel(d.services[0], d.hosts["edge"], routes)


def test_two_equal_servers_pass(tmp_path: Path) -> None:
    d = design(tmp_path, 2)
    [mp] = multipath(d, "two_equal")
    assert mp.passed, mp.message
    assert mp.actual["next_hops"] == ["10.12.12.1", "10.12.12.2"]
    k = kernel(d, "two_equal")
    assert k.passed, k.message
    assert k.message == "prefix 10.13.13.1/32: next hops 10.12.12.1, 10.12.12.2 as expected"


def test_three_equal_servers_pass(tmp_path: Path) -> None:
    d = design(tmp_path, 3, max_paths=4)
    [mp] = multipath(d, "three_equal")
    assert mp.passed and kernel(d, "three_equal").passed


def test_lower_preference_server_is_a_backup(tmp_path: Path) -> None:
    d = design(tmp_path, 2, prefs={"server-2": 50})
    mp, backup = multipath(d, "lower_pref")
    assert mp.passed, mp.message
    assert backup.name == "edge_backup_path" and backup.passed, backup.message
    assert backup.actual == {"next_hop": "10.12.12.2", "valid": True, "multipath": False,
                             "local_pref": 50}
    assert kernel(d, "lower_pref").passed


def test_equal_design_against_lower_preference_state_names_the_missing_server(
        tmp_path: Path) -> None:
    d = design(tmp_path, 2)
    [mp] = multipath(d, "lower_pref")
    assert not mp.passed
    assert mp.message == ("prefix 10.13.13.1/32: expected next hops 10.12.12.1, 10.12.12.2; "
                          "edge has 10.12.12.1; missing 10.12.12.2 (server-2)")
    k = kernel(d, "lower_pref")
    assert not k.passed and "edge's kernel has 10.12.12.1;" in k.message


def test_more_equal_servers_than_maximum_paths(tmp_path: Path) -> None:
    d = design(tmp_path, 4, max_paths=2)
    [mp] = multipath(d, "more_than_max")
    assert mp.passed, mp.message
    assert mp.expected == {"next_hops_any_of": ["10.12.12.1", "10.12.12.2", "10.12.12.3",
                                                "10.12.12.4"], "count": 2}
    assert len(mp.actual["next_hops"]) == 2
    # The same state read with a design allowing 4 paths is a failure: 2 of 4 servers idle.
    [wide] = multipath(design(tmp_path / "w", 4, max_paths=4), "more_than_max")
    assert not wide.passed and "missing" in wide.message


def test_session_down_names_the_server_everywhere(tmp_path: Path) -> None:
    d = design(tmp_path, 3, max_paths=4)
    [mp] = multipath(d, "session_down")
    assert not mp.passed and "missing 10.12.12.3 (server-3)" in mp.message
    k = kernel(d, "session_down")
    assert not k.passed and "missing 10.12.12.3 (server-3)" in k.message
    summary = parsed("frr", "session_down", "edge__show_ip_bgp_summary.txt",
                     "show ip bgp summary")
    sessions = {c.expected["peer"]: c for c in
                check_router_sessions(d.hosts["edge"], d, summary)}
    assert not sessions["server-3"].passed
    assert sessions["server-3"].message == "session to server-3 (10.12.12.3) is Active"
    assert all(c.passed for n, c in sessions.items() if n != "server-3")


def test_server_session_established_and_exporting(tmp_path: Path) -> None:
    d = design(tmp_path, 2)
    protocols = parsed("bird2", "two_equal", "server-1__birdc_show_protocols_all.txt",
                       "show protocols all")
    checks = check_server_sessions(d.hosts["server-1"], d, protocols)
    assert [(c.name, c.passed) for c in checks] == [("server_bgp_session", True),
                                                    ("server_exports_anycast", True)]


def test_server_whose_session_is_shut_fails(tmp_path: Path) -> None:
    d = design(tmp_path, 2)
    protocols = parsed("bird2", "admin_down", "server-2__birdc_show_protocols_all.txt",
                       "show protocols all")
    session, exports = check_server_sessions(d.hosts["server-2"], d, protocols)
    assert not session.passed and session.actual["state"] == "Active"
    assert session.message == "BGP session to edge (10.12.12.254) is Active"
    assert not exports.passed


def test_isp_learns_anycast_from_edge_and_nothing_internal(tmp_path: Path) -> None:
    d = design(tmp_path, 2)
    svc = d.services[0]
    detail = parsed("frr", "lab_isp_view", "isp__show_ip_bgp_10.13.13.1_32.txt",
                    "show ip bgp 10.13.13.1/32")
    ok = check_isp_learned(svc, d.hosts["isp"], d.hosts["edge"], detail, exported=True)
    assert ok.passed, ok.message
    # In DNAT mode the same table is a leak.
    leak = check_isp_learned(svc, d.hosts["isp"], d.hosts["edge"], detail, exported=False)
    assert not leak.passed and leak.message == "prefix 10.13.13.1/32 leaked to isp"
    absent = parsed("frr", "lab_isp_view", "isp__show_ip_bgp_10.12.12.0_24.txt",
                    "show ip bgp 10.12.12.0/24")
    assert internal_prefixes(d) == ["10.12.12.0/24"]
    assert check_isp_no_leak(d.hosts["isp"], {"10.12.12.0/24": absent}).passed
    leaked = check_isp_no_leak(d.hosts["isp"], {"10.12.12.0/24": detail})
    assert not leaked.passed and "10.12.12.0/24" in leaked.message


@pytest.mark.parametrize(("answers", "passed", "words"), [
    ({"10.0.0.1": ["server-1", "server-2"], "10.0.0.2": ["server-2"]}, True, "answered by"),
    ({"10.0.0.1": ["server-1", None]}, False, "1 of 2 requests failed"),
    ({"10.0.0.1": ["server-1", "server-1"]}, False, "never answered by server-2"),
    ({"10.0.0.1": ["server-1", "server-2", "server-9"]}, False, "unexpected server-9"),
    ({}, False, "no request was made"),
])
def test_http_check(tmp_path: Path, answers: dict[str, list[str | None]], passed: bool,
                    words: str) -> None:
    d = design(tmp_path, 2)
    c = check_http(d.hosts["client"], "http://10.13.13.1/file", ["server-1", "server-2"],
                      answers)
    assert c.passed is passed
    assert words in c.message
