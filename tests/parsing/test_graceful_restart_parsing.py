"""Graceful restart per neighbor in `show ip bgp neighbors` and its `json` form
(nornir_anycast.parsing.counters), on real captures: FRR 8.4 (tests/captures/frr/gr_*) and FRR
10.3 (frr10/gr_*) against BIRD 2.0.12 / 2.17.6, made by `capture.py --graceful-restart`.

The values are checked against what the capture configured (BIRD `graceful restart on|off`
or nothing, FRR `bgp graceful-restart` or not), independent of the expected files that
test_parsing.py replays; the text and the JSON of each state must give the same result."""

from __future__ import annotations

import pytest
from paths import CAPTURES

from nornir_anycast.parsing import parse_output

S1, S2, ISP = "10.12.12.1", "10.12.12.2", "172.16.42.2"
BOTH = "advertised and received"
#: (capability, local mode, remote mode) per server address, as each state was configured
EXPECTED = {
    "gr_edge_off": {S1: (BOTH, "Helper", "Restart"), S2: (BOTH, "Helper", "Restart")},
    "gr_edge_late": {S1: (BOTH, "Restart", "Restart"), S2: (BOTH, "Restart", "Restart")},
    "gr_negotiated": {S1: (BOTH, "Restart", "Restart"), S2: (BOTH, "Restart", "Restart")},
    "gr_server_off": {S1: (BOTH, "Restart", "Restart"), S2: ("advertised", "Restart", "Disable")},
    "gr_server_aware": {S1: (BOTH, "Restart", "Restart"), S2: (BOTH, "Restart", "Helper")},
}
VERSIONS = ("frr", "frr10")


def _parse(directory: str, state: str, command: str) -> dict[str, dict[str, object]]:
    text = (CAPTURES / directory / state / f"edge__{command.replace(' ', '_')}.txt").read_text()
    parsed = parse_output("frr", command, text)
    return {str(nb["address"]): nb for nb in parsed["neighbors"]}


def _gr(nb: dict[str, object]) -> tuple[object, object, object]:
    return (nb["graceful_restart"], nb["graceful_restart_local"], nb["graceful_restart_remote"])


@pytest.mark.parametrize("directory", VERSIONS)
@pytest.mark.parametrize("state", sorted(EXPECTED))
def test_text_and_json_give_what_the_capture_configured(directory: str, state: str) -> None:
    text = _parse(directory, state, "show ip bgp neighbors")
    js = _parse(directory, state, "show ip bgp neighbors json")
    assert text == js
    assert {a: _gr(nb) for a, nb in text.items() if a != ISP} == EXPECTED[state]
    # the ISP is an FRR in its default helper mode in every state
    local = "Helper" if state == "gr_edge_off" else "Restart"
    assert _gr(text[ISP]) == (BOTH, local, "Helper")


@pytest.mark.parametrize("directory", VERSIONS)
def test_two_helpers_print_advertised_and_received_too(directory: str) -> None:
    """Without any graceful restart setting (the counters captures: FRR's helper default,
    BIRD's `aware` default) the capability line says `advertised and received` all the same:
    only the remote mode tells a peer that will keep its routes from one that will not."""
    for state in ("counters_fresh", "counters_flapped"):
        text = _parse(directory, state, "show ip bgp neighbors")
        assert text == _parse(directory, state, "show ip bgp neighbors json")
        assert {a: _gr(nb) for a, nb in text.items()} == {
            a: (BOTH, "Helper", "Helper") for a in (S1, S2, ISP)}


def test_frr_8_keeps_the_sessions_when_graceful_restart_is_added_and_frr_10_resets_them() -> None:
    """`bgp graceful-restart` added to a running edge (gr_edge_off -> gr_edge_late): FRR 8.4
    left every session up (and shows `Restart` at once), FRR 10.3 reset all of them."""
    for directory, resets in (("frr", 0), ("frr10", 1)):
        before = _parse(directory, "gr_edge_off", "show ip bgp neighbors")
        after = _parse(directory, "gr_edge_late", "show ip bgp neighbors")
        assert {a: int(str(after[a]["established"])) - int(str(before[a]["established"]))
                for a in (S1, S2, ISP)} == dict.fromkeys((S1, S2, ISP), resets)


def test_vyos_reads_the_same_lines() -> None:
    """VyOS prints FRR's format (vyos/frr_format/: a real FRR 8.4 capture behind a prompt)."""
    text = (CAPTURES / "vyos" / "frr_format" / "edge__show_ip_bgp_neighbors.txt").read_text()
    parsed = parse_output("vyos", "show ip bgp neighbors", text)
    assert [_gr(nb) for nb in parsed["neighbors"]] == [(BOTH, "Helper", "Helper")] * 3


def test_a_one_sided_capability_in_json_has_the_texts_words() -> None:
    """FRR names a one-sided capability `gracefulRestartCapability` (not `gracefulRestart`)."""
    one = ('{"10.12.12.2": {"bgpState": "Established", "neighborCapabilities": '
           '{"gracefulRestartCapability": "received"}, "gracefulRestartInfo": '
           '{"localGrMode": "Disable", "remoteGrMode": "Restart*"}}}')
    nb = parse_output("frr", "show ip bgp neighbors json", one)["neighbors"][0]
    assert _gr(nb) == ("received", "Disable", "Restart")
    bare = parse_output("frr", "show ip bgp neighbors json",
                        '{"10.12.12.3": {"bgpState": "Active"}}')
    assert _gr(bare["neighbors"][0]) == (None, None, None)
