"""BFD: parsing real FRR bfdd / BIRD 2 output and the BFD checks, replayed on captures.

The captures in tests/captures/{frr,bird2}/bfd_*/ are real output of FRR 8.4.4 and BIRD 2.0.12
on the built-in lab, taken by tests/captures/capture_bfd.py (states: both sessions up;
server-2's switch port dropping every frame; BIRD stopped on server-2; BFD off). Their expected
parse results sit beside them and are replayed by tests/test_parsing.py; here the checks.
"""

from __future__ import annotations

from typing import Any

import pytest
from paths import CAPTURES, ROOT

from nornir_anycast.design.build import load_design
from nornir_anycast.design.model import Bfd, Design
from nornir_anycast.exceptions import ParseError
from nornir_anycast.inventory.loader import load_nornir
from nornir_anycast.parsing import parse_output
from nornir_anycast.verify.checks import Check
from nornir_anycast.verify.checks import bfd as bfd_checks


def parsed(platform: str, state: str, name: str, command: str) -> dict[str, Any]:
    return parse_output(platform, command, (CAPTURES / platform / state / name).read_text())


def with_bfd(d: Design, host: str, bfd: Bfd) -> Design:
    hosts = dict(d.hosts)
    hosts[host] = hosts[host].model_copy(update={"bfd": bfd})
    return d.model_copy(update={"hosts": hosts})


@pytest.fixture(scope="module")
def design() -> Design:
    """The lab inventory with the BFD timers the captures were taken with (50 ms x 3; the
    inventory's default is 100 ms x 3 since issue 11)."""
    d, _ = load_design(load_nornir(ROOT / "inventory"))
    for host in ("edge", "server-1", "server-2"):
        d = with_bfd(d, host, Bfd(enabled=True, interval_ms=50, multiplier=3))
    return d


def edge_checks(d: Design, state: str) -> dict[str, Check]:
    peers = parsed("frr", state, "edge__show_bfd_peers.txt", "show bfd peers")
    return {c.expected["server"]: c for c in bfd_checks.check_edge_bfd(d.hosts["edge"], d, peers)}


def server_check(d: Design, state: str, server: str) -> Check:
    sessions = parsed("bird2", state, f"{server}__show_bfd_sessions.txt", "show bfd sessions")
    [c] = bfd_checks.check_server_bfd(d.hosts[server], d, sessions)
    return c


def test_lab_inventory_expects_bfd_on_every_server_session(design: Design) -> None:
    assert [a for a, _ in bfd_checks.bfd_pairs(design.hosts["edge"], design)] == [
        "10.12.12.1", "10.12.12.2"]  # not the ISP
    assert [a for a, _ in bfd_checks.bfd_pairs(design.hosts["server-1"], design)] == [
        "10.12.12.254"]
    assert bfd_checks.bfd_pairs(design.hosts["isp"], design) == []
    off = with_bfd(design, "server-2", Bfd(enabled=False))
    assert [a for a, _ in bfd_checks.bfd_pairs(off.hosts["edge"], off)] == ["10.12.12.1"]


def test_all_up(design: Design) -> None:
    checks = edge_checks(design, "bfd_up")
    assert set(checks) == {"server-1", "server-2"}
    for c in checks.values():
        assert c.passed, c.message
        assert c.actual["receive_interval_ms"] == 50 and c.actual["detect_multiplier"] == 3
    assert checks["server-1"].message == "BFD session to server-1 (10.12.12.1) up, 50 ms x 3"
    for server in ("server-1", "server-2"):
        c = server_check(design, "bfd_up", server)
        assert c.passed and c.actual["state"] == "Up", c.message


def test_server_cut(design: Design) -> None:
    checks = edge_checks(design, "bfd_server_cut")
    assert checks["server-1"].passed
    bad = checks["server-2"]
    assert not bad.passed
    assert bad.message == ("BFD session to server-2 (10.12.12.2) is down "
                           "(control detection time expired)")
    assert bad.expected["status"] == "up" and bad.actual["status"] == "down"
    assert server_check(design, "bfd_server_cut", "server-1").passed
    c = server_check(design, "bfd_server_cut", "server-2")
    assert not c.passed and c.message == "BFD session to edge (10.12.12.254) is Down"


def test_timers_other_than_the_inventory_fail(design: Design) -> None:
    d = with_bfd(design, "edge", Bfd(enabled=True, interval_ms=100, multiplier=3))
    checks = edge_checks(d, "bfd_up")
    assert not checks["server-1"].passed
    assert "up but with timers" in checks["server-1"].message
    assert checks["server-1"].expected["receive_interval_ms"] == 100


def test_bfd_off_on_the_devices(design: Design) -> None:
    checks = edge_checks(design, "bfd_off")
    assert [c.passed for c in checks.values()] == [False, False]
    assert "no BFD session to server-1 (10.12.12.1)" in checks["server-1"].message
    assert checks["server-1"].actual is None
    c = server_check(design, "bfd_off", "server-1")
    assert not c.passed and "no `protocol bfd`" in c.message


def test_bfd_off_in_the_inventory_expects_nothing(design: Design) -> None:
    d = with_bfd(with_bfd(design, "edge", Bfd(enabled=False)), "server-1", Bfd(enabled=False))
    peers = parsed("frr", "bfd_off", "edge__show_bfd_peers.txt", "show bfd peers")
    assert bfd_checks.check_edge_bfd(d.hosts["edge"], d, peers) == []
    sessions = parsed("bird2", "bfd_off", "server-1__show_bfd_sessions.txt", "show bfd sessions")
    assert bfd_checks.check_server_bfd(d.hosts["server-1"], d, sessions) == []


def test_bird_protocol_not_up_is_named(design: Design) -> None:
    sessions = parse_output("bird2", "show bfd sessions", "BIRD 2.0.12 ready.\nbfd1: is not up\n")
    assert sessions == {"sessions": [], "protocols_not_up": ["bfd1"]}
    [c] = bfd_checks.check_server_bfd(design.hosts["server-1"], design, sessions)
    assert not c.passed and "BFD protocol bfd1 is not up" in c.message


@pytest.mark.parametrize(("platform", "command", "text", "words"), [
    ("frr", "show bfd peers", "% Unknown command: show bfd peers\n", ["BFD Peers:"]),
    ("frr", "show bfd peers", "BFD Peers:\n\tpeer 10.0.0.1 local-address 10.0.0.2\n"
     "\t\tStatus: up\n\t\tsomething else\n", ["not recognised", "something else"]),
    ("frr", "show bfd peers", "", ["empty output"]),
    ("frr", "show bfd peers brief", "Session count: 2\nSessionId  LocalAddress  PeerAddress  "
     "Status\n=========  ============  ===========  ======\n1 10.0.0.2 10.0.0.1 up\n",
     ["session count 2 but 1"]),
    ("bird2", "show bfd sessions", "Unable to connect to server control socket "
     "(/run/bird/bird.ctl): No such file or directory\n", ["not recognised", "Unable"]),
    ("bird2", "show bfd sessions", "10.12.12.254  eth0  Up  16:48:36.565  0.050  0.150\n",
     ["before the column header"]),
])
def test_not_bfd_output_is_a_parse_error(platform: str, command: str, text: str,
                                        words: list[str]) -> None:
    with pytest.raises(ParseError) as err:
        parse_output(platform, command, text)
    for w in words:
        assert w in str(err.value)


def test_multihop_peer_line() -> None:
    text = ("BFD Peers:\n\tpeer 10.0.0.1 multihop local-address 10.0.0.2 vrf default\n"
            "\t\tID: 7\n\t\tStatus: init\n\t\tLocal timers:\n\t\t\tDetect-multiplier: 5\n")
    [p] = parse_output("frr", "vtysh -c 'show bfd peers'", text)["peers"]
    assert (p["peer"], p["multihop"], p["interface"], p["id"], p["status"]) == (
        "10.0.0.1", True, None, 7, "init")
    assert p["local"] == {"detect_multiplier": 5}
