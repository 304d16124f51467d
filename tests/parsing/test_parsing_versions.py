"""The Debian 13 capture sets against the topology and against the Debian 12 ones.

tests/captures/frr10/, bird2_17/, linux_deb13/ (FRR 10.3, BIRD 2.17.6, iproute2 6.15) and
bird3/ (BIRD 3.1.8) were captured by capture.py --root / --bird-root in the topology that made
frr/, bird2/ and linux/ (FRR 8.4.4, BIRD 2.0.12). Beside the expected files (replayed by
test_parsing.py), three oracles that do not depend on them:

* text vs JSON: FRR 10's text table and prefix detail read as its JSON does;
* state vs topology: each state reads as capture.py built it (number of paths, multipath,
  local preference, kernel next hops, BIRD sessions);
* version vs version: the same state gives the same result on FRR 8.4 and 10.3, and on BIRD
  2.0, 2.17 and 3.1, in what verify reads (next hops and flags, session states, exports), and
  results of the same shape (the same keys). Only what changes from run to run (times,
  counters, session ids) and the order of paths and routes (FRR 10 prints the best path first,
  BIRD 3 its routes in its own order; nothing downstream depends on either) are left out.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from paths import CAPTURES

from nornir_anycast.exceptions import ParseError
from nornir_anycast.parsing import parse_output

BGP_STATES = ("two_equal", "three_equal", "lower_pref", "more_than_max", "session_down",
              "admin_down")
BFD_STATES = ("bfd_up", "bfd_server_cut", "bfd_bird_down", "bfd_off")
#: BIRD directory -> its parser platform
BIRDS = {"bird2": "bird2", "bird2_17": "bird2", "bird3": "bird3"}
ANYCAST = "10.13.13.1/32"


def _read(directory: str, state: str, host: str, command: str, platform: str) -> Any:
    slug = command.replace("/", "_").replace(" ", "_")
    return parse_output(platform, command,
                        (CAPTURES / directory / state / f"{host}__{slug}.txt").read_text())


def _paths(parsed: dict[str, Any]) -> dict[str, list[tuple[Any, ...]]]:
    """{prefix: sorted (next hop, flags, local pref, AS path, origin) of its paths}."""
    return {r["prefix"]: sorted(
        (p["next_hop"], p["valid"], p["best"], p["multipath"], p["internal"], p["local_pref"],
         tuple(p["as_path"]), p["origin"]) for p in r["paths"]) for r in parsed["routes"]}


def _keys(value: Any) -> Any:
    """The shape of a result: its keys, recursively (lists by their first element)."""
    if isinstance(value, dict):
        return {k: _keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_keys(value[0])] if value else []
    return type(value).__name__ if value is not None else None


# ------------------------------------------------------------------ FRR 10: text vs JSON


def _frr10_states() -> list[Path]:
    return sorted(d for d in (CAPTURES / "frr10").iterdir()
                  if (d / "edge__show_ip_bgp_json.txt").exists())


def test_the_new_sets_are_complete() -> None:
    for d in ("frr10", "bird2_17", "bird3"):
        states = {p.name for p in (CAPTURES / d).iterdir() if p.is_dir()}
        assert set(BFD_STATES) <= states, d
        assert {*BGP_STATES, "empty"} <= states, d
    assert {"counters_fresh", "counters_flapped", "long_prefix"} <= {
        p.name for p in (CAPTURES / "frr10").iterdir()}


@pytest.mark.parametrize("state", _frr10_states(), ids=lambda d: d.name)
def test_frr10_text_reads_as_its_json(state: Path) -> None:
    for host in ("edge", "isp"):
        if not (state / f"{host}__show_ip_bgp.txt").exists():
            continue
        text = _read("frr10", state.name, host, "show ip bgp", "frr")
        js = _read("frr10", state.name, host, "show ip bgp json", "frr")
        if text["routes"]:
            assert (text["router_id"], text["local_as"]) == (js["router_id"], js["local_as"])
            assert _paths(text) == _paths(js)
            assert [r["prefix"] for r in text["routes"]] == [r["prefix"] for r in js["routes"]]
        else:
            assert js["routes"] == []
    if (state / f"edge__show_ip_bgp_{ANYCAST.replace('/', '_')}.txt").exists():
        detail = _read("frr10", state.name, "edge", f"show ip bgp {ANYCAST}", "frr")
        detail_js = _read("frr10", state.name, "edge", f"show ip bgp {ANYCAST} json", "frr")
        assert detail == detail_js


# ------------------------------------------------------------------ state vs topology


@pytest.mark.parametrize(("state", "servers", "used"), [
    ("two_equal", 2, 2), ("three_equal", 3, 3), ("lower_pref", 2, 1),
    ("more_than_max", 4, 2), ("session_down", 2, 2), ("admin_down", 2, 2),
])
def test_frr10_states_read_as_the_lab_was_built(state: str, servers: int, used: int) -> None:
    for cmd in ("show ip bgp", "show ip bgp json", f"show ip bgp {ANYCAST}"):
        routes = _read("frr10", state, "edge", cmd, "frr")["routes"]
        paths = [p for r in routes if r["prefix"] == ANYCAST for p in r["paths"]]
        assert len(paths) == servers, cmd
        assert all(p["valid"] and p["internal"] and p["as_path"] == [] for p in paths)
        assert sum(p["best"] for p in paths) == 1
        assert paths[0]["best"], "FRR 10 prints the best path first"
        if cmd == f"show ip bgp {ANYCAST}":  # "multipath" on every multipath path
            in_use = [p for p in paths if p["multipath"]] or [p for p in paths if p["best"]]
        else:  # `=` on the non-best multipath paths
            in_use = [p for p in paths if p["best"] or p["multipath"]]
        assert len(in_use) == used, cmd
        prefs = sorted(p["local_pref"] for p in paths)
        assert prefs == ([50, 100] if state == "lower_pref" else [100] * servers)
    kernel = _read("linux_deb13", state, "edge", "ip route show 10.13.13.1", "linux")
    (route,) = kernel["routes"]
    assert len(route["next_hops"]) == used


def test_frr10_sessions_down_and_shut() -> None:
    down = _read("frr10", "session_down", "edge", "show ip bgp summary", "frr")
    states = {p["neighbor"]: (p["state"], p["prefixes_received"]) for p in down["peers"]}
    assert states["10.12.12.3"][0] in ("Active", "Connect")
    assert states["10.12.12.3"][1] is None
    assert states["10.12.12.1"] == ("Established", 1)
    admin = _read("frr10", "admin_down", "edge", "show ip bgp summary", "frr")
    assert {p["neighbor"]: p["state"] for p in admin["peers"]}["10.12.12.2"] == "Idle (Admin)"


@pytest.mark.parametrize("directory", BIRDS)
def test_bird_states_read_as_the_lab_was_built(directory: str) -> None:
    platform = BIRDS[directory]
    for state, host, established, exported in (
            ("two_equal", "server-1", True, 1), ("two_equal", "server-2", True, 1),
            ("three_equal", "server-3", True, 1), ("more_than_max", "server-4", True, 1),
            ("session_down", "server-1", True, 1), ("admin_down", "server-2", False, None)):
        (bgp,) = _read(directory, state, host, "birdc show protocols all bgp1",
                       platform)["protocols"]
        assert bgp["neighbor_address"] == "10.12.12.254" and bgp["neighbor_as"] == 65500
        if established:
            assert (bgp["state"], bgp["bgp_state"]) == ("up", "Established"), (state, host)
            assert bgp["routes"]["exported"] == exported
        else:
            assert bgp["state"] == "start" and bgp["bgp_state"] == "Active"
            assert bgp["last_error"] == "Received: Administrative shutdown"
            assert bgp["routes"] is None  # no Routes line while the channel is down
    pref = _read(directory, "lower_pref", "server-2", "birdc show route export bgp1", platform)
    assert [r["prefix"] for r in pref["routes"]] == [ANYCAST]


@pytest.mark.parametrize("directory", BIRDS)
def test_bird_without_a_table_to_show(directory: str) -> None:
    """A session down: `show route export` has no table (BIRD 2: `No valid tables`, BIRD 3.1:
    `... aren't accepting exports at all.`), a ParseError saying so on every version."""
    with pytest.raises(ParseError) as err:
        _read(directory, "admin_down", "server-2", "birdc show route export bgp1",
              BIRDS[directory])
    assert "not exporting" in str(err.value) and "show route export bgp1" in str(err.value)
    # a BIRD with no channel at all: BIRD 3 answers `No valid tables`, BIRD 2 prints nothing
    assert _read(directory, "empty", "server-4", "birdc show route", BIRDS[directory]) == {
        "routes": []}


def test_bird3_says_no_valid_tables_where_bird2_prints_nothing() -> None:
    text = (CAPTURES / "bird3/empty/server-4__birdc_show_route.txt").read_text()
    assert "No valid tables" in text
    assert "No valid tables" not in (CAPTURES / "bird2_17/empty/server-4__birdc_show_route.txt"
                                     ).read_text()


def test_bird3_route_change_stats_read_by_column_name() -> None:
    """BIRD 3 prints `RX limit` and `limit` between ignored and accepted: the numbers land in
    the right columns (the two extra ones left out)."""
    text = (CAPTURES / "bird3/two_equal/server-1__birdc_show_protocols_all_bgp1.txt").read_text()
    assert "RX limit      limit   accepted" in text
    row = next(ln for ln in text.splitlines() if "Export updates:" in ln).split()[2:]
    (bgp,) = parse_output("bird3", "show protocols all bgp1", text)["protocols"]
    assert bgp["export_updates"] == {"received": int(row[0]), "rejected": int(row[1]),
                                     "filtered": int(row[2]), "ignored": int(row[3]),
                                     "accepted": int(row[6])}
    assert row[4] == "---"  # RX limit: not counted for exports


def test_frr10_bfd_counters_as_the_flaps_made_them() -> None:
    """counters_fresh: after the BFD sessions came up; between it and counters_flapped,
    server-2 lost BFD three times (bfd_server_cut, bfd_bird_down, a 1 s cut) and server-1 once
    (its BGP protocol disabled and enabled)."""
    fresh, flapped = ({p["peer"]: p for p in _read(
        "frr10", f"counters_{s}", "edge", "show bfd peers counters", "frr")["peers"]}
        for s in ("fresh", "flapped"))
    assert {p: c["down_events"] for p, c in fresh.items()} == {"10.12.12.1": 0, "10.12.12.2": 0}
    assert {p: c["down_events"] for p, c in flapped.items()} == {"10.12.12.1": 1,
                                                                 "10.12.12.2": 3}
    for s in ("fresh", "flapped"):
        text = _read("frr10", f"counters_{s}", "edge", "show ip bgp neighbors", "frr")
        js = _read("frr10", f"counters_{s}", "edge", "show ip bgp neighbors json", "frr")
        assert text == js


# ------------------------------------------------------------------ version vs version


@pytest.mark.parametrize("state", [*BGP_STATES, "long_prefix"])
def test_frr_8_and_10_read_the_same_state_alike(state: str) -> None:
    for host in ("edge", "isp"):
        for cmd in ("show ip bgp", "show ip bgp json"):
            if not (CAPTURES / "frr" / state / f"{host}__{cmd.replace(' ', '_')}.txt").exists():
                continue
            old, new = (_read(d, state, host, cmd, "frr") for d in ("frr", "frr10"))
            assert _keys(old) == _keys(new), (host, cmd)
            assert _paths(old) == _paths(new), (host, cmd)
    if state == "long_prefix":
        return
    for cmd in (f"show ip bgp {ANYCAST}", f"show ip bgp {ANYCAST} json"):
        old, new = (_read(d, state, "edge", cmd, "frr") for d in ("frr", "frr10"))
        assert _keys(old) == _keys(new) and _paths(old) == _paths(new), cmd
    old, new = (_read(d, state, "edge", "show ip bgp summary", "frr") for d in ("frr", "frr10"))
    assert _keys(old) == _keys(new)

    def peers(s: dict[str, Any]) -> dict[str, Any]:
        return {p["neighbor"]: (p["remote_as"], p["state"].replace("Connect", "Active"),
                                p["prefixes_received"]) for p in s["peers"]}
    assert peers(old) == peers(new)


def test_frr_wrapped_long_prefix_in_both_layouts() -> None:
    for d, indent in (("frr", 20), ("frr10", 20)):
        text = (CAPTURES / d / "long_prefix/edge__show_ip_bgp.txt").read_text()
        lines = text.splitlines()
        at = next(i for i, ln in enumerate(lines) if ln.rstrip().endswith("192.168.123.128/25"))
        follow = lines[at + 1]
        assert len(follow) - len(follow.lstrip()) == indent
        header = next(ln for ln in lines if "Next Hop" in ln)
        assert (header.index("Next Hop") == indent) is (d == "frr")  # FRR 10: 2 short of it
        routes = {r["prefix"]: r for r in parse_output("frr", "show ip bgp", text)["routes"]}
        (path,) = routes["192.168.123.128/25"]["paths"]
        assert (path["next_hop"], path["metric"], path["weight"], path["as_path"]) == (
            "172.16.42.2", 0, 0, [65000])


@pytest.mark.parametrize("state", BGP_STATES)
def test_bird_versions_read_the_same_state_alike(state: str) -> None:
    hosts = sorted({p.name.split("__")[0] for p in (CAPTURES / "bird2" / state).glob("*.txt")})
    for host in hosts:
        got = {d: {cmd: _read(d, state, host, cmd, p) for cmd in (
            "birdc show protocols", "birdc show protocols all", "birdc show route")}
            for d, p in BIRDS.items()}
        base = got["bird2"]
        for d in ("bird2_17", "bird3"):
            new = got[d]
            prot = [(x["name"], x["proto"], x["table"], x["state"], x["info"])
                    for x in base["birdc show protocols"]["protocols"]]
            assert prot == [(x["name"], x["proto"], x["table"], x["state"], x["info"])
                            for x in new["birdc show protocols"]["protocols"]], (d, host)
            for a, b in zip(base["birdc show protocols all"]["protocols"],
                            new["birdc show protocols all"]["protocols"], strict=True):
                _same_protocol(a, b, f"{d} {host} {a['name']}")
            assert _routes(base["birdc show route"]) == _routes(new["birdc show route"]), d


_STATS = ("import_updates", "import_withdraws", "export_updates", "export_withdraws")


def _same_protocol(a: dict[str, Any], b: dict[str, Any], where: str) -> None:
    """The same keys, the same values verify reads; the route change stats rows have the
    columns their version counted (`---` left out) and no others than BIRD 2's five."""
    def strip(p: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in p.items() if k not in _STATS}
    assert _keys(strip(a)).keys() == _keys(strip(b)).keys(), where
    for k in ("name", "proto", "state", "bgp_state", "neighbor_address", "neighbor_as",
              "local_as", "session", "source_address", "last_error"):
        assert a.get(k) == b.get(k), (where, k)
    assert (a.get("routes") or {}).get("exported") == (b.get("routes") or {}).get("exported")
    for holder in (b, *b.get("channels", [])):
        for row in _STATS:
            if row in holder:
                assert set(holder[row]) <= {"received", "rejected", "filtered", "ignored",
                                            "accepted"}, where
    assert [strip(c).keys() for c in a.get("channels", [])] == [
        strip(c).keys() for c in b.get("channels", [])], where


def _routes(parsed: dict[str, Any]) -> list[tuple[Any, ...]]:
    return sorted((r["prefix"], r["protocol"], r["primary"], r["type"], r["from"],
                   r["preference"], r["origin_as"], r["origin"], r["table"],
                   json.dumps(r["next_hops"])) for r in parsed["routes"])


@pytest.mark.parametrize("state", BFD_STATES)
def test_bfd_versions_read_the_same_state_alike(state: str) -> None:
    def frr(d: str) -> tuple[Any, ...]:
        peers = _read(d, state, "edge", "show bfd peers", "frr")["peers"]
        brief = _read(d, state, "edge", "show bfd peers brief", "frr")
        return (_keys(peers[:1]), sorted((p["peer"], p["status"]) for p in peers),
                sorted((p["peer"], p["status"]) for p in brief["peers"]),
                brief["session_count"])
    assert frr("frr") == frr("frr10")
    hosts = sorted(p.name.split("__")[0] for p in (CAPTURES / "bird2" / state).glob("*.txt"))
    for host in hosts:
        seen: list[Any] = []
        for d, platform in BIRDS.items():
            try:
                parsed = _read(d, state, host, "show bfd sessions", platform)
            except ParseError as exc:  # BIRD not running: birdc's own error
                assert "Unable to connect" in str(exc)
                seen.append("not running")
                continue
            seen.append(sorted((s["protocol"], s["address"], s["interface"], s["state"],
                                s["interval_ms"]) for s in parsed["sessions"]))
        assert seen[0] == seen[1] == seen[2], (state, host, seen)
