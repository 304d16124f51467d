"""parse_output against real captured output and the seed's own tables.

Fixtures live in tests/captures/<platform>/<state>/<host>__<command>.txt with the expected
result beside each (.json: platform, command, source, expected or error). frr/, bird2/ and
linux/ were captured from real daemons by tests/captures/capture.py; vyos/ and bird/ hold the
seed's own output and hand-written Quagga / BIRD 1.6 tables (see tests/captures/README.md).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from paths import CAPTURES

from nornir_anycast.exceptions import AnycastError, ParseError, UnsupportedCommandError
from nornir_anycast.parsing import (
    PLATFORMS,
    normalise_command,
    parse_output,
    supported_commands,
)
from nornir_anycast.parsing._common import classful, template_text

FIXTURES = sorted(CAPTURES.glob("*/*/*.txt"))


def _meta(txt: Path) -> dict[str, Any]:
    meta: dict[str, Any] = json.loads(txt.with_suffix(".json").read_text())
    return meta


def _id(p: Path) -> str:
    return str(p.relative_to(CAPTURES))


def test_every_fixture_has_its_expected_file() -> None:
    assert len(FIXTURES) >= 100
    missing = [_id(p) for p in FIXTURES if not p.with_suffix(".json").exists()]
    assert missing == []


@pytest.mark.parametrize("txt", FIXTURES, ids=_id)
def test_fixture_replays_to_expected(txt: Path) -> None:
    meta = _meta(txt)
    text = txt.read_text()
    if "error" in meta:
        with pytest.raises(ParseError) as err:
            parse_output(meta["platform"], meta["command"], text)
        for word in meta["message_contains"]:
            assert word in str(err.value)
        return
    got = parse_output(meta["platform"], meta["command"], text)
    assert got == meta["expected"]
    assert json.loads(json.dumps(got)) == got  # plain JSON data only


def _state_dirs() -> list[Path]:
    # BGP states only (the bfd_* states hold BFD output alone)
    return sorted(d for d in (CAPTURES / "frr").iterdir()
                  if d.is_dir() and (d / "edge__show_ip_bgp_10.13.13.1_32.txt").exists())


@pytest.mark.parametrize("state", _state_dirs(), ids=lambda d: d.name)
def test_frr_json_maps_to_the_same_shape_as_text(state: Path) -> None:
    compared = 0
    for host in ("edge", "isp"):
        text_file = state / f"{host}__show_ip_bgp.txt"
        if not text_file.exists():
            continue
        text = parse_output("frr", "show ip bgp", text_file.read_text())
        js = parse_output("frr", "show ip bgp json",
                          (state / f"{host}__show_ip_bgp_json.txt").read_text())
        if text["routes"]:
            assert text == js
        else:  # "No BGP prefixes displayed" carries no router id; the JSON does
            assert js["routes"] == [] and js["router_id"] == "172.16.42.3"
        compared += 1
    detail = parse_output("frr", "show ip bgp 10.13.13.1/32",
                          (state / "edge__show_ip_bgp_10.13.13.1_32.txt").read_text())
    detail_js = parse_output("frr", "show ip bgp 10.13.13.1/32 json",
                             (state / "edge__show_ip_bgp_10.13.13.1_32_json.txt").read_text())
    assert detail == detail_js
    assert compared >= 1


def _anycast_paths(parsed: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for r in parsed["routes"] if r["prefix"] == "10.13.13.1/32" for p in r["paths"]]


@pytest.mark.parametrize(("state", "servers", "used"), [
    ("two_equal", 2, 2), ("three_equal", 3, 3), ("lower_pref", 2, 1),
    ("more_than_max", 4, 2), ("session_down", 2, 2),
])
def test_states_read_as_the_lab_was_built(state: str, servers: int, used: int) -> None:
    """Independent of the expected files: what capture.py set up must be what is read."""
    d = CAPTURES / "frr" / state
    for cmd, name in (("show ip bgp", "edge__show_ip_bgp.txt"),
                      ("show ip bgp 10.13.13.1/32", "edge__show_ip_bgp_10.13.13.1_32.txt")):
        paths = _anycast_paths(parse_output("frr", cmd, (d / name).read_text()))
        assert len(paths) == servers
        assert all(p["valid"] and p["internal"] and p["as_path"] == [] for p in paths)
        assert sum(p["best"] for p in paths) == 1
        if cmd == "show ip bgp":  # `=` marks the non-best multipath paths
            in_use = [p for p in paths if p["best"] or p["multipath"]]
        else:  # the detail says "multipath" on every multipath path, the best included
            in_use = [p for p in paths if p["multipath"]] or [p for p in paths if p["best"]]
        assert len(in_use) == used
    prefs = sorted(p["local_pref"] for p in paths)
    assert prefs == ([50, 100] if state == "lower_pref" else [100] * servers)
    kernel = parse_output("linux", "ip route show 10.13.13.1",
                          (CAPTURES / "linux" / state / "edge__ip_route_show_10.13.13.1.txt")
                          .read_text())
    assert len(kernel["routes"]) == 1
    assert len(kernel["routes"][0]["next_hops"]) == used


def test_session_down_and_admin_down_states() -> None:
    down = parse_output("frr", "show ip bgp summary",
                        (CAPTURES / "frr/session_down/edge__show_ip_bgp_summary.txt").read_text())
    states = {p["neighbor"]: (p["state"], p["prefixes_received"]) for p in down["peers"]}
    assert states["10.12.12.3"] == ("Active", None)
    assert states["10.12.12.1"] == ("Established", 1)
    admin = parse_output("frr", "show ip bgp summary",
                         (CAPTURES / "frr/admin_down/edge__show_ip_bgp_summary.txt").read_text())
    assert {p["neighbor"]: p["state"] for p in admin["peers"]}["10.12.12.2"] == "Idle (Admin)"
    bird = parse_output("bird2", "show protocols all bgp1", (
        CAPTURES / "bird2/admin_down/server-2__birdc_show_protocols_all_bgp1.txt").read_text())
    (bgp,) = bird["protocols"]
    assert bgp["bgp_state"] == "Active" and bgp["state"] == "start"
    assert bgp["last_error"] == "Received: Administrative shutdown"
    assert bgp["routes"] is None  # no Routes line while the channel is down


@pytest.mark.parametrize("name", ["edge__show_ip_bgp.txt", "isp__show_ip_bgp.txt",
                                  "edge_lower_pref__show_ip_bgp.txt"])
def test_seed_collapsed_tables_read_as_the_column_aligned_ones(name: str) -> None:
    seed = parse_output("vyos", "show ip bgp", (CAPTURES / "vyos/seed" / name).read_text())
    aligned = parse_output("vyos", "show ip bgp",
                           (CAPTURES / "vyos/quagga_aligned" / name).read_text())
    assert seed["routes"] == aligned["routes"]


def test_seed_edge_table_fields() -> None:
    seed = parse_output("vyos", "show ip bgp",
                        (CAPTURES / "vyos/seed/edge__show_ip_bgp.txt").read_text())
    default, anycast = seed["routes"]
    assert default["prefix"] == "0.0.0.0/0"
    assert default["paths"][0] | {} == {
        "next_hop": "172.16.42.2", "valid": True, "best": True, "multipath": False,
        "internal": False, "metric": 0, "local_pref": None, "weight": 0, "as_path": [65000],
        "origin": "i"}
    assert [(p["next_hop"], p["best"], p["local_pref"]) for p in anycast["paths"]] == [
        ("10.12.12.1", True, 100), ("10.12.12.2", False, 100)]


@pytest.mark.parametrize(("net", "cidr"), [
    ("0.0.0.0", "0.0.0.0/0"), ("10.0.0.0", "10.0.0.0/8"), ("172.16.0.0", "172.16.0.0/16"),
    ("192.168.1.0", "192.168.1.0/24"), ("224.0.0.0", "224.0.0.0/32"),
    ("10.13.13.1/32", "10.13.13.1/32"),
])
def test_quagga_classful_networks(net: str, cidr: str) -> None:
    assert classful(net) == cidr


@pytest.mark.parametrize(("line", "fields"), [
    ("*>i10.13.13.1/32 10.12.12.1 100 0 i", (None, 100, 0, [])),
    ("* i 10.12.12.2 100 0 i", (None, 100, 0, [])),
    ("*> 0.0.0.0 172.16.42.2 0 0 65000 i", (0, None, 0, [65000])),
    ("*> 0.0.0.0 192.168.100.254 0 32768 i", (0, None, 32768, [])),
    ("*> 10.13.13.1/32 172.16.42.3 0 65500 i", (None, None, 0, [65500])),
    ("*>i10.0.0.0/8 10.1.1.1 0 100 0 65001 65002 i", (0, 100, 0, [65001, 65002])),
    ("*> 10.0.0.0/8 10.1.1.1 0 65001 65002 ?", (None, None, 0, [65001, 65002])),
])
def test_collapsed_columns_heuristic(line: str, fields: tuple[Any, ...]) -> None:
    text = "Network Next Hop Metric LocPrf Weight Path\n*> 9.9.9.0/24 1.1.1.1 0 1 i\n" + line
    path = parse_output("vyos", "show ip bgp", text)["routes"][-1]["paths"][-1]
    assert (path["metric"], path["local_pref"], path["weight"], path["as_path"]) == fields


def test_frr_wrapped_long_network() -> None:
    text = (
        "BGP table version is 9, local router ID is 1.1.1.1, vrf id 0\n"
        "Default local pref 100, local AS 65500\n"
        "   Network          Next Hop            Metric LocPrf Weight Path\n"
        "*>i100.100.100.100/32\n"
        "                    10.12.12.1               0    100      0 64496 i\n"
        "*=i                 10.12.12.2               0    100      0 64496 i\n"
    )
    (route,) = parse_output("frr", "show ip bgp", text)["routes"]
    assert route["prefix"] == "100.100.100.100/32"
    assert [(p["next_hop"], p["best"], p["multipath"], p["internal"]) for p in route["paths"]] \
        == [("10.12.12.1", True, False, True), ("10.12.12.2", False, True, True)]
    assert route["paths"][0]["metric"] == 0 and route["paths"][0]["local_pref"] == 100


# ----------------------------------------------------------------- wrong text -> ParseError

BANNER = "Welcome to VyOS\nLast login: Mon Jan  1 00:00:00 2024 from 10.0.0.1\n"
NOT_OUTPUT = {
    "error": "% Unknown command: show ip bgpp\n",
    "banner": BANNER,
    "bird_error": "BIRD 2.0.12 ready.\nsyntax error, unexpected CF_SYM_UNDEFINED\n",
    "shell": "bash: vtysh: command not found\n",
}
COMMANDS = [
    ("vyos", "show ip bgp"), ("vyos", "show ip bgp summary"),
    ("vyos", "show ip bgp 10.13.13.1/32"),
    ("frr", "show ip bgp"), ("frr", "show ip bgp summary"), ("frr", "show ip bgp 10.13.13.1/32"),
    ("frr", "show ip bgp json"), ("frr", "show ip bgp 10.13.13.1/32 json"),
    ("bird", "show protocols"), ("bird", "show protocols all"), ("bird", "show route"),
    ("bird2", "show protocols"), ("bird2", "show protocols all bgp1"),
    ("bird2", "show route export bgp1"),
    ("linux", "ip route show"), ("linux", "ip route show 10.13.13.1"),
]


def _other_output(platform: str, command: str) -> str:
    """A real capture of a different command on the same kind of device."""
    other = {
        "vyos": "frr/two_equal/edge__show_ip_bgp_summary.txt",
        "frr": "bird2/two_equal/server-1__birdc_show_protocols.txt",
        "bird": "frr/two_equal/edge__show_ip_bgp.txt",
        "bird2": "linux/two_equal/edge__ip_route_show.txt",
        "linux": "bird2/two_equal/server-1__birdc_show_route.txt",
    }[platform]
    if command == "show ip bgp summary":
        other = "frr/two_equal/edge__show_ip_bgp.txt"
    if "show protocols" in command and platform.startswith("bird"):
        other = "bird2/two_equal/server-1__birdc_show_route.txt"
    return (CAPTURES / other).read_text()


@pytest.mark.parametrize(("platform", "command"), COMMANDS, ids=lambda v: str(v))
@pytest.mark.parametrize("kind", [*NOT_OUTPUT, "other_command"])
def test_wrong_text_raises_parse_error_naming_platform_and_command(
        platform: str, command: str, kind: str) -> None:
    text = _other_output(platform, command) if kind == "other_command" else NOT_OUTPUT[kind]
    with pytest.raises(ParseError) as err:
        parse_output(platform, command, text)
    msg = str(err.value)
    assert platform in msg and command in msg
    assert isinstance(err.value, AnycastError)


@pytest.mark.parametrize(("platform", "command", "text", "key"), [
    ("frr", "show ip bgp", "No BGP prefixes displayed, 0 exist\n", "routes"),
    ("vyos", "show ip bgp", "vyos@edge:~$ show ip bgp\nNo BGP prefixes displayed, 0 exist\n",
     "routes"),
    ("frr", "show ip bgp 10.13.13.1/32", "% Network not in table\n", "routes"),
    ("frr", "show ip bgp summary", "% No BGP neighbors found in VRF default\n", "peers"),
    ("frr", "show ip bgp 10.13.13.1/32 json", "{\n}\n", "routes"),
    ("bird2", "show protocols", "BIRD 2.0.12 ready.\n"
     "Name       Proto      Table      State  Since         Info\n", "protocols"),
    ("bird", "show protocols all", "BIRD 1.6.8 ready.\n"
     "name     proto    table    state  since       info\n", "protocols"),
    ("bird2", "show route", "BIRD 2.0.12 ready.\n", "routes"),
    ("linux", "ip route show 10.13.13.1", "", "routes"),
])
def test_empty_tables_are_empty_results(platform: str, command: str, text: str,
                                        key: str) -> None:
    assert parse_output(platform, command, text)[key] == []


def test_unknown_command_lists_supported_commands() -> None:
    with pytest.raises(UnsupportedCommandError) as err:
        parse_output("frr", "show ip ospf neighbor", "whatever")
    msg = str(err.value)
    assert "'show ip ospf neighbor'" in msg and "'frr'" in msg
    for usage in ("show ip bgp", "show ip bgp summary", "show ip bgp <prefix>",
                  "show ip bgp json"):
        assert usage in msg
    assert isinstance(err.value, AnycastError)


def test_unknown_platform_lists_platforms() -> None:
    with pytest.raises(UnsupportedCommandError) as err:
        parse_output("junos", "show route", "")
    for p in PLATFORMS:
        assert p in str(err.value)


def test_supported_commands_cover_the_issue() -> None:
    sup = supported_commands()
    assert set(sup) == {"vyos", "frr", "bird", "bird2", "bird3", "linux"}
    assert "show ip bgp <prefix> json" in sup["frr"]
    assert "show ip bgp json" not in sup["vyos"]
    assert sup["bird"] == sup["bird2"] == sup["bird3"]


@pytest.mark.parametrize(("given", "norm"), [
    ("vtysh -c 'show ip bgp'", "show ip bgp"),
    ('vtysh -c "show  ip bgp 10.13.13.1/32"', "show ip bgp 10.13.13.1/32"),
    ("birdc -s /run/bird/bird.ctl show protocols all", "show protocols all"),
    ("birdc show route export bgp1", "show route export bgp1"),
    ("  ip   route show ", "ip route show"),
])
def test_wrapped_commands_are_unwrapped(given: str, norm: str) -> None:
    assert normalise_command(given) == norm


@pytest.mark.parametrize(("platform", "command", "fixture", "prompt"), [
    ("frr", "show ip bgp", "frr/three_equal/edge__show_ip_bgp.txt", "edge# show ip bgp"),
    ("vyos", "show ip bgp summary", "frr/two_equal/edge__show_ip_bgp_summary.txt",
     "vyos@edge:~$ show ip bgp summary"),
    ("frr", "show ip bgp 10.13.13.1/32", "frr/two_equal/edge__show_ip_bgp_10.13.13.1_32.txt",
     "root@edge:~# vtysh -c 'show ip bgp 10.13.13.1/32'"),
    ("bird2", "show protocols", "bird2/two_equal/server-1__birdc_show_protocols.txt",
     "root@server-1:~# birdc show protocols"),
    ("bird2", "show route", "bird2/two_equal/server-1__birdc_show_route.txt",
     "root@server-1:~# birdc -s /run/bird/bird.ctl show route"),
    ("linux", "ip route show", "linux/two_equal/edge__ip_route_show.txt",
     "root@edge:~# ip route show"),
])
def test_prompt_line_with_echoed_command_is_ignored(platform: str, command: str, fixture: str,
                                                    prompt: str) -> None:
    text = (CAPTURES / fixture).read_text()
    plain = parse_output(platform, command, text)
    assert plain == parse_output(platform, command, f"{prompt}\n{text}")
    assert plain == parse_output(platform, command, f"{prompt}\n{text}{prompt.split()[0]} \n")


def test_bird_since_with_date_and_time() -> None:
    text = ("BIRD 2.14 ready.\nName       Proto      Table      State  Since         Info\n"
            "bgp1       BGP        ---        up     2023-12-04 22:25:36  Established\n")
    (proto,) = parse_output("bird2", "show protocols", text)["protocols"]
    assert proto["since"] == "2023-12-04 22:25:36" and proto["info"] == "Established"


def test_templates_open_with_a_doc_block() -> None:
    from importlib.resources import files
    names = [p.name for p in files("nornir_anycast.templates").joinpath("ttp").iterdir()
             if p.name.endswith(".ttp")]
    assert len(names) >= 13
    for name in names:
        text = template_text(name[:-4])
        assert text.startswith("<doc>\nCommand: "), name
        assert "Written against:" in text and "Sample" in text, name


def test_bird_protocol_table_with_a_second_header_is_a_parse_error() -> None:
    """Found by tests/test_fuzz_parsing.py: a header line inside the table used to raise
    KeyError. Real BIRD 2.0.12 capture with its header line repeated at the end."""
    text = (CAPTURES / "bird2" / "two_equal" / "server-1__birdc_show_protocols.txt").read_text()
    header = next(ln for ln in text.splitlines() if ln.startswith("Name"))
    with pytest.raises(ParseError, match="not a protocol"):
        parse_output("bird2", "show protocols", text + header + "\n")
