"""The routers' down counters (nornir_anycast.parsing.counters) on real captures from the lab
(tests/captures/frr/counters_{fresh,flapped}/, tests/captures/capture_counters.py): every
expected file is replayed by test_parsing.py; these tests check the counts against what the
capture did, independent of the expected files."""

from __future__ import annotations

from pathlib import Path

import pytest
from paths import CAPTURES

from nornir_anycast.exceptions import ParseError
from nornir_anycast.parsing import parse_output, supported_commands
from nornir_anycast.parsing.counters import SessionCounters, session_counters

SERVERS = ("10.12.12.1", "10.12.12.2")
ISP = "172.16.42.2"


def _read(state: str, command: str) -> str:
    return (CAPTURES / "frr" / f"counters_{state}" /
            f"edge__{command.replace(' ', '_')}.txt").read_text()


def _counters(state: str, platform: str = "frr") -> dict[str, SessionCounters]:
    bfd = parse_output(platform, "show bfd peers counters", _read(state, "show bfd peers counters"))
    bgp = parse_output(platform, "show ip bgp neighbors", _read(state, "show ip bgp neighbors"))
    return session_counters(bfd=bfd, bgp=bgp)


def test_fresh_lab_counts_no_down_event() -> None:
    assert _counters("fresh") == {
        SERVERS[0]: {"bfd_down": 0, "bgp_dropped": 0},
        SERVERS[1]: {"bfd_down": 0, "bgp_dropped": 0},
        ISP: {"bfd_down": None, "bgp_dropped": 0},  # no BFD towards the ISP
    }


def test_one_flap_of_each_server_counts_one_down_event_each() -> None:
    """capture_counters.py took server-1's BGP protocol down and up and cut server-2's port."""
    assert _counters("flapped") == {
        SERVERS[0]: {"bfd_down": 1, "bgp_dropped": 1},
        SERVERS[1]: {"bfd_down": 1, "bgp_dropped": 1},
        ISP: {"bfd_down": None, "bgp_dropped": 0},
    }


@pytest.mark.parametrize("state", ["fresh", "flapped"])
def test_frr_json_and_text_neighbors_agree(state: str) -> None:
    text = parse_output("frr", "show ip bgp neighbors", _read(state, "show ip bgp neighbors"))
    js = parse_output("frr", "show ip bgp neighbors json",
                      _read(state, "show ip bgp neighbors json"))
    assert text == js
    assert [n["address"] for n in text["neighbors"]] == [*SERVERS, ISP]
    assert all(n["state"] == "Established" for n in text["neighbors"])


def test_vyos_prints_the_same_behind_its_prompt() -> None:
    d = CAPTURES / "vyos" / "frr_format"
    bfd = parse_output("vyos", "show bfd peers counters",
                       (d / "edge__show_bfd_peers_counters.txt").read_text())
    bgp = parse_output("vyos", "show ip bgp neighbors",
                       (d / "edge__show_ip_bgp_neighbors.txt").read_text())
    assert session_counters(bfd=bfd, bgp=bgp) == _counters("flapped")
    assert "show bfd peers counters" in supported_commands("vyos")["vyos"]
    assert "show ip bgp neighbors json" not in supported_commands("vyos")["vyos"]


def test_session_counters_with_one_side_only() -> None:
    bgp = parse_output("frr", "show ip bgp neighbors", _read("flapped", "show ip bgp neighbors"))
    assert session_counters(bgp=bgp)[SERVERS[0]] == {"bfd_down": None, "bgp_dropped": 1}
    bfd = parse_output("frr", "show bfd peers counters",
                       _read("flapped", "show bfd peers counters"))
    assert session_counters(bfd=bfd) == {a: {"bfd_down": 1, "bgp_dropped": None}
                                         for a in SERVERS}
    assert session_counters() == {}


def test_a_neighbor_that_never_came_up() -> None:
    text = ("BGP neighbor is 10.12.12.3, remote AS 65500, local AS 65500, internal link\n"
            "  BGP state = Active\n"
            "  Connections established 0; dropped 0\n"
            "  Last reset 00:00:07,  Waiting for NHT\n")
    got = parse_output("frr", "show ip bgp neighbors", text)
    assert got == {"neighbors": [{"address": "10.12.12.3", "remote_as": 65500,
                                  "local_as": 65500, "state": "Active", "established": 0,
                                  "dropped": 0, "graceful_restart": None,
                                  "graceful_restart_local": None,
                                  "graceful_restart_remote": None}]}


def test_no_neighbor_and_no_bfd_peer_are_empty() -> None:
    assert parse_output("frr", "show ip bgp neighbors", "") == {"neighbors": []}
    assert parse_output("frr", "show ip bgp neighbors json", "{}") == {"neighbors": []}
    assert parse_output("frr", "show bfd peers counters", "BFD Peers:\n") == {"peers": []}


@pytest.mark.parametrize(("command", "other"), [
    ("show bfd peers counters", "frr/bfd_up/edge__show_bfd_peers.txt"),
    ("show bfd peers counters", "frr/two_equal/edge__show_ip_bgp_summary.txt"),
    ("show ip bgp neighbors", "frr/two_equal/edge__show_ip_bgp_summary.txt"),
    ("show ip bgp neighbors", "frr/counters_fresh/edge__show_bfd_peers_counters.txt"),
    ("show ip bgp neighbors json", "frr/counters_fresh/edge__show_ip_bgp_neighbors.txt"),
])
def test_another_commands_output_is_a_parse_error(command: str, other: str) -> None:
    with pytest.raises(ParseError) as err:
        parse_output("frr", command, (CAPTURES / other).read_text())
    assert command in str(err.value)


def test_every_counter_template_documents_its_command() -> None:
    for name in ("frr_show_bfd_peers_counters", "frr_show_ip_bgp_neighbors"):
        text = (Path(__file__).resolve().parents[2] / "templates" / "ttp" /
                f"{name}.ttp").read_text()
        assert text.startswith("<doc>") and "Command: show " in text and "FRR 8.4.4" in text


def test_a_repeated_title_is_a_parse_error_not_a_crash() -> None:
    """Found by test_fuzz_parsing (a capture with its `BFD Peers:` title twice): a ParseError
    naming the line, not a KeyError from inside the parser."""
    lines = _read("fresh", "show bfd peers counters").splitlines()
    title = next(i for i, ln in enumerate(lines) if "BFD Peers:" in ln)
    text = "\n".join([*lines[:title + 3], lines[title], *lines[title + 3:]])
    with pytest.raises(ParseError, match="a title where a peer or counter line belongs"):
        parse_output("frr", "show bfd peers counters", text)
