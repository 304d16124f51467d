"""Verify's checks on the Debian 13 captures give the verdicts and messages they give on the
Debian 12 ones: FRR 10.3 (tests/captures/frr10/, iproute2 6.15 in linux_deb13/) beside FRR
8.4.4, BIRD 2.17.6 (bird2_17/) and BIRD 3.1.8 (bird3/, parser platform bird3) beside BIRD
2.0.12. Same topology and states (tests/captures/capture.py; README there)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from paths import CAPTURES
from test_checks import design

from nornir_anycast.design.model import Design
from nornir_anycast.parsing import parse_output
from nornir_anycast.verify.checks import Check
from nornir_anycast.verify.checks.edge import check_edge_kernel, check_edge_multipath
from nornir_anycast.verify.checks.sessions import check_router_sessions, check_server_sessions

#: (FRR directory, kernel directory)
ROUTERS = [("frr", "linux"), ("frr10", "linux_deb13")]
#: (BIRD directory, parser platform)
BIRDS = [("bird2", "bird2"), ("bird2_17", "bird2"), ("bird3", "bird3")]


def _parsed(directory: str, platform: str, state: str, name: str, command: str) -> Any:
    return parse_output(platform, command, (CAPTURES / directory / state / name).read_text())


def _multipath(d: Design, frr: str, state: str) -> list[Check]:
    detail = _parsed(frr, "frr", state, "edge__show_ip_bgp_10.13.13.1_32.txt",
                     "show ip bgp 10.13.13.1/32")
    return check_edge_multipath(d.services[0], d.hosts["edge"], detail)


def _kernel(d: Design, linux: str, state: str) -> Check:
    routes = _parsed(linux, "linux", state, "edge__ip_route_show_10.13.13.1.txt",
                     "ip route show 10.13.13.1")
    return check_edge_kernel(d.services[0], d.hosts["edge"], routes)


@pytest.mark.parametrize(("frr", "linux"), ROUTERS)
def test_edge_states_read_alike(tmp_path: Path, frr: str, linux: str) -> None:
    two = design(tmp_path / "2", 2)
    [mp] = _multipath(two, frr, "two_equal")
    assert mp.passed and mp.actual["next_hops"] == ["10.12.12.1", "10.12.12.2"]
    assert _kernel(two, linux, "two_equal").message == (
        "prefix 10.13.13.1/32: next hops 10.12.12.1, 10.12.12.2 as expected")

    [mp] = _multipath(design(tmp_path / "3", 3, max_paths=4), frr, "three_equal")
    assert mp.passed, mp.message

    pref = design(tmp_path / "p", 2, prefs={"server-2": 50})
    mp, backup = _multipath(pref, frr, "lower_pref")
    assert mp.passed and backup.passed, (mp.message, backup.message)
    assert backup.actual == {"next_hop": "10.12.12.2", "valid": True, "multipath": False,
                             "local_pref": 50}
    [wrong] = _multipath(two, frr, "lower_pref")
    assert wrong.message == ("prefix 10.13.13.1/32: expected next hops 10.12.12.1, 10.12.12.2; "
                             "edge has 10.12.12.1; missing 10.12.12.2 (server-2)")

    [mp] = _multipath(design(tmp_path / "4", 4, max_paths=2), frr, "more_than_max")
    assert mp.passed and len(mp.actual["next_hops"]) == 2

    three = design(tmp_path / "d", 3, max_paths=4)
    [mp] = _multipath(three, frr, "session_down")
    assert not mp.passed and "missing 10.12.12.3 (server-3)" in mp.message
    k = _kernel(three, linux, "session_down")
    assert not k.passed and "missing 10.12.12.3 (server-3)" in k.message
    summary = _parsed(frr, "frr", "session_down", "edge__show_ip_bgp_summary.txt",
                      "show ip bgp summary")
    sessions = {c.expected["peer"]: c for c in
                check_router_sessions(three.hosts["edge"], three, summary)}
    assert sessions["server-3"].message == "session to server-3 (10.12.12.3) is Active"
    assert all(c.passed for n, c in sessions.items() if n != "server-3")


@pytest.mark.parametrize(("bird", "platform"), BIRDS)
def test_server_sessions_read_alike(tmp_path: Path, bird: str, platform: str) -> None:
    d = design(tmp_path, 2)
    up = _parsed(bird, platform, "two_equal", "server-1__birdc_show_protocols_all.txt",
                 "show protocols all")
    assert [(c.name, c.passed) for c in check_server_sessions(d.hosts["server-1"], d, up)] == [
        ("server_bgp_session", True), ("server_exports_anycast", True)]
    shut = _parsed(bird, platform, "admin_down", "server-2__birdc_show_protocols_all.txt",
                   "show protocols all")
    session, exports = check_server_sessions(d.hosts["server-2"], d, shut)
    assert not session.passed and not exports.passed
    assert session.message == "BGP session to edge (10.12.12.254) is Active"
