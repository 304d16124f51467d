"""IPv6 output (issue 13) against the topology it was captured in and against IPv4's shapes.

tests/captures/<dir>/ipv6_*/ were captured by `capture.py --ipv6` (dual-stack: server LAN
fd00:12:1::/64, edge ::254, servers ::1 ::2 ::3, anycast fd00:13::1/128 on each server, ISP <->
edge fd00:172:16:42::2/127; one session per family, BFD on) from FRR 8.4.4 / BIRD 2.0.12
(frr/, bird2/, linux/), FRR 10.3 / BIRD 2.17.6 (frr10/, bird2_17/, linux_deb13/) and BIRD 3.1.8
(bird3/). test_parsing.py replays each against its expected file; the oracles here do not
depend on those files:

* family vs family: an IPv6 result has the keys of the IPv4 result of the same command;
* text vs JSON: FRR's IPv6 text table and prefix detail read as its JSON does;
* state vs topology: what capture.py built (two servers in ECMP, the next hops it set, the
  wrapped lines it provoked) is what is read;
* version vs version: FRR 8.4 and 10.3, BIRD 2.0, 2.17 and 3.1 give the same results for the
  same state, in what does not change from run to run (link-local addresses do: they come
  from random MAC addresses).
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

import pytest
from paths import CAPTURES

from nornir_anycast.exceptions import ParseError
from nornir_anycast.parsing import parse_output

ANYCAST6 = "fd00:13::1/128"
SERVERS6 = ["fd00:12:1::1", "fd00:12:1::2"]
FRRS = ("frr", "frr10")
LINUXES = ("linux", "linux_deb13")
BIRDS = {"bird2": "bird2", "bird2_17": "bird2", "bird3": "bird3"}


def _text(directory: str, state: str, host: str, command: str) -> str:
    slug = command.replace("/", "_").replace(" ", "_")
    return (CAPTURES / directory / state / f"{host}__{slug}.txt").read_text()


def _read(directory: str, state: str, host: str, command: str, platform: str) -> Any:
    return parse_output(platform, command, _text(directory, state, host, command))


def _keys(value: Any) -> Any:
    """The shape of a result: its keys, recursively (a list by the union of its elements')."""
    if isinstance(value, dict):
        return {k: _keys(v) for k, v in value.items()}
    if isinstance(value, list):
        merged: dict[str, Any] = {}
        for v in value:
            shape = _keys(v)
            if isinstance(shape, dict):
                merged.update(shape)
        return [merged] if merged else []
    return None


def _link_local(address: str | None) -> bool:
    return address is not None and ipaddress.ip_address(address).is_link_local


def _anycast_paths(parsed: dict[str, Any], prefix: str = ANYCAST6) -> list[dict[str, Any]]:
    return [p for r in parsed["routes"] if r["prefix"] == prefix for p in r["paths"]]


# ------------------------------------------------------------------ the capture sets


def test_the_ipv6_sets_are_complete() -> None:
    for d in (*FRRS, *LINUXES):
        assert {"ipv6_empty", "ipv6_two_equal", "ipv6_prefer_global"} <= {
            p.name for p in (CAPTURES / d).iterdir()}, d
    for d in BIRDS:
        assert {"ipv6_two_equal", "ipv6_dual_channel"} <= {
            p.name for p in (CAPTURES / d).iterdir()}, d
    for d in FRRS:
        assert (CAPTURES / d / "ipv6_dual_channel").is_dir()


# ------------------------------------------------------------------ IPv4 vs IPv6: same keys

#: (IPv4 capture, IPv6 capture, platform): each pair must give results of the same shape.
SAME_SHAPE = [
    *[(f"{d}/two_equal/edge__show_ip_bgp.txt", "show ip bgp",
       f"{d}/ipv6_two_equal/edge__show_bgp_ipv6_unicast.txt", "show bgp ipv6 unicast", "frr")
      for d in FRRS],
    *[(f"{d}/two_equal/edge__show_ip_bgp_json.txt", "show ip bgp json",
       f"{d}/ipv6_two_equal/edge__show_bgp_ipv6_unicast_json.txt", "show bgp ipv6 unicast json",
       "frr") for d in FRRS],
    *[(f"{d}/two_equal/edge__show_ip_bgp_10.13.13.1_32.txt", "show ip bgp 10.13.13.1/32",
       f"{d}/ipv6_two_equal/edge__show_bgp_ipv6_unicast_fd00:13::1_128.txt",
       f"show bgp ipv6 unicast {ANYCAST6}", "frr") for d in FRRS],
    *[(f"{d}/two_equal/edge__show_ip_bgp_10.13.13.1_32_json.txt",
       "show ip bgp 10.13.13.1/32 json",
       f"{d}/ipv6_two_equal/edge__show_bgp_ipv6_unicast_fd00:13::1_128_json.txt",
       f"show bgp ipv6 unicast {ANYCAST6} json", "frr") for d in FRRS],
    *[(f"{d}/two_equal/edge__show_ip_bgp_summary.txt", "show ip bgp summary",
       f"{d}/ipv6_two_equal/edge__show_bgp_ipv6_unicast_summary.txt",
       "show bgp ipv6 unicast summary", "frr") for d in FRRS],
    *[(f"{d}/two_equal/edge__show_ip_bgp.txt", "show ip bgp",
       f"{d}/ipv6_two_equal/edge__show_bgp_ipv6_unicast_neighbors_fd00:12:1::1_{kind}.txt",
       f"show bgp ipv6 unicast neighbors fd00:12:1::1 {kind}", "frr")
      for d in FRRS for kind in ("routes", "received-routes")],
    *[(f"{d}/two_equal/edge__ip_route_show.txt", "ip route show",
       f"{d}/ipv6_two_equal/edge__ip_-6_route_show.txt", "ip -6 route show", "linux")
      for d in LINUXES],
    *[(f"{d}/two_equal/edge__ip_route_show_10.13.13.1.txt", "ip route show 10.13.13.1",
       f"{d}/ipv6_two_equal/edge__ip_-6_route_show_fd00:13::1.txt", "ip -6 route show fd00:13::1",
       "linux") for d in LINUXES],
    *[(f"{d}/two_equal/server-1__birdc_show_protocols_all_bgp1.txt", "show protocols all bgp1",
       f"{d}/ipv6_two_equal/server-1__birdc_show_protocols_all_bgp1_v6.txt",
       "show protocols all bgp1_v6", p) for d, p in BIRDS.items()],
    *[(f"{d}/two_equal/server-1__birdc_show_route_export_bgp1.txt", "show route export bgp1",
       f"{d}/ipv6_two_equal/server-1__birdc_show_route_export_bgp1_v6.txt",
       "show route export bgp1_v6", p) for d, p in BIRDS.items()],
    *[(f"{d}/bfd_up/server-1__show_bfd_sessions.txt", "show bfd sessions",
       f"{d}/ipv6_two_equal/server-1__show_bfd_sessions.txt", "show bfd sessions", p)
      for d, p in BIRDS.items()],
    *[(f"{d}/bfd_up/edge__show_bfd_peers.txt", "show bfd peers",
       f"{d}/ipv6_two_equal/edge__show_bfd_peers.txt", "show bfd peers", "frr") for d in FRRS],
]


@pytest.mark.parametrize(("v4", "cmd4", "v6", "cmd6", "platform"), SAME_SHAPE,
                         ids=lambda v: str(v))
def test_ipv6_results_have_the_keys_of_ipv4_results(v4: str, cmd4: str, v6: str, cmd6: str,
                                                    platform: str) -> None:
    four = parse_output(platform, cmd4, (CAPTURES / v4).read_text())
    six = parse_output(platform, cmd6, (CAPTURES / v6).read_text())
    assert _keys(four) == _keys(six)
    # something was compared: the result's list (routes, peers, ...) is not empty
    assert any(isinstance(v, list) and v for v in six.values()), f"{v6}: empty result"


# ------------------------------------------------------------------ FRR: text vs JSON


@pytest.mark.parametrize("directory", FRRS)
@pytest.mark.parametrize("state", ["ipv6_two_equal", "ipv6_prefer_global"])
def test_frr_ipv6_text_reads_as_its_json(directory: str, state: str) -> None:
    for host in ("edge", "isp"):
        text = _read(directory, state, host, "show bgp ipv6 unicast", "frr")
        js = _read(directory, state, host, "show bgp ipv6 unicast json", "frr")
        assert text == js
        assert len(text["routes"]) >= 3
    hosts = ("edge", "isp") if state == "ipv6_prefer_global" else ("edge",)
    for host in hosts:
        detail = _read(directory, state, host, f"show bgp ipv6 unicast {ANYCAST6}", "frr")
        detail_js = _read(directory, state, host, f"show bgp ipv6 unicast {ANYCAST6} json",
                          "frr")
        assert detail == detail_js and detail["routes"]


@pytest.mark.parametrize("directory", FRRS)
def test_frr_ipv6_empty_answers_are_empty_results(directory: str) -> None:
    for command in ("show bgp ipv6 unicast", "show bgp ipv6 unicast json",
                    f"show bgp ipv6 unicast {ANYCAST6}", f"show bgp ipv6 unicast {ANYCAST6} json"):
        assert _read(directory, "ipv6_empty", "edge", command, "frr")["routes"] == []
    assert _read(directory, "ipv6_empty", "edge", "show bgp ipv6 unicast summary",
                 "frr")["peers"] == []


# ------------------------------------------------------------------ state vs topology


@pytest.mark.parametrize("directory", FRRS)
def test_the_edge_has_its_ipv6_ecmp_pair(directory: str) -> None:
    """Two servers, `maximum-paths ibgp 2`: both paths of fd00:13::1/128 in use; the detail
    names the servers' global addresses, the table the link-local next hop FRR uses, unless
    the import sets prefer-global."""
    detail = _read(directory, "ipv6_two_equal", "edge", f"show bgp ipv6 unicast {ANYCAST6}", "frr")
    paths = _anycast_paths(detail)
    assert sorted(p["next_hop"] for p in paths) == SERVERS6
    assert all(p["valid"] and p["internal"] and p["multipath"] for p in paths)
    assert sum(p["best"] for p in paths) == 1
    table = _anycast_paths(_read(directory, "ipv6_two_equal", "edge", "show bgp ipv6 unicast",
                                 "frr"))
    assert len(table) == 2 and all(_link_local(p["next_hop"]) for p in table)
    assert [p["best"] or p["multipath"] for p in table] == [True, True]
    assert [(p["local_pref"], p["weight"], p["metric"]) for p in table] == [(100, 0, None)] * 2
    glob = _anycast_paths(_read(directory, "ipv6_prefer_global", "edge", "show bgp ipv6 unicast",
                                "frr"))
    assert sorted(p["next_hop"] for p in glob) == SERVERS6


@pytest.mark.parametrize("directory", LINUXES)
def test_the_edge_kernel_has_the_ipv6_multipath_route(directory: str) -> None:
    """FRR installs the next hop it uses: the servers' link-local addresses, or their global
    ones with prefer-global."""
    for state, link_local in (("ipv6_two_equal", True), ("ipv6_prefer_global", False)):
        (route,) = _read(directory, state, "edge", "ip -6 route show fd00:13::1",
                         "linux")["routes"]
        assert route["prefix"] == ANYCAST6 and route["protocol"] == "bgp"
        hops = route["next_hops"]
        assert [(h["dev"], h["weight"]) for h in hops] == [("eth0", 1)] * 2
        if link_local:
            assert all(_link_local(h["via"]) for h in hops)
        else:
            assert sorted(h["via"] for h in hops) == SERVERS6
    table = _read(directory, "ipv6_two_equal", "edge", "ip -6 route show", "linux")
    assert {r["prefix"] for r in table["routes"]} >= {"::/0", ANYCAST6, "fd00:12:1::/64",
                                                      "fd00:abcd:1234:5678::/64"}
    assert "0.0.0.0/0" not in {r["prefix"] for r in table["routes"]}
    server = _read(directory, "ipv6_two_equal", "server-1", "ip -6 route show", "linux")
    default = next(r for r in server["routes"] if r["prefix"] == "::/0")
    assert default["next_hops"] == [{"via": "fd00:12:1::254", "dev": "eth0", "weight": None}]


@pytest.mark.parametrize("directory", FRRS)
def test_wrapped_ipv6_lines_are_in_the_captures_and_read(directory: str) -> None:
    """The captures hold both wraps: a next hop of 16+ characters ends its line (the numbers
    follow on the next), and a 24-character network with its link-local next hop below it
    (three lines for one path)."""
    text = _text(directory, "ipv6_two_equal", "edge", "show bgp ipv6 unicast")
    lines = text.splitlines()
    hop_ends = [ln for ln in lines if ln.rstrip().endswith(tuple("0123456789abcdef"))
                and ln.split()[-1].startswith("fe80::")]
    assert len(hop_ends) >= 4
    at = next(i for i, ln in enumerate(lines) if ln.strip().endswith("fd00:abcd:1234:5678::/64"))
    assert lines[at + 1].split()[0].startswith("fe80::") and lines[at + 2].split()[-1] == "i"
    routes = {r["prefix"]: r["paths"]
              for r in parse_output("frr", "show bgp ipv6 unicast", text)["routes"]}
    (long_net,) = routes["fd00:abcd:1234:5678::/64"]
    assert (long_net["metric"], long_net["local_pref"], long_net["weight"],
            long_net["as_path"], long_net["best"]) == (0, None, 0, [65000], True)
    assert _link_local(long_net["next_hop"])
    (local,) = routes["fd00:12:1::/64"]
    assert (local["next_hop"], local["weight"]) == ("::", 32768)
    isp = parse_output("frr", "show bgp ipv6 unicast",
                       _text(directory, "ipv6_two_equal", "isp", "show bgp ipv6 unicast"))
    (anycast,) = [r for r in isp["routes"] if r["prefix"] == ANYCAST6]
    assert [(p["metric"], p["weight"], p["as_path"]) for p in anycast["paths"]] == [
        (None, 0, [65500])]


@pytest.mark.parametrize("directory", FRRS)
def test_a_long_global_next_hop_wraps_too(directory: str) -> None:
    """ipv6_prefer_global: the ISP takes the edge's global next hop fd00:172:16:42::3 (17
    characters), which ends its line as a link-local one does."""
    text = _text(directory, "ipv6_prefer_global", "isp", "show bgp ipv6 unicast")
    assert any(ln.rstrip().endswith(" fd00:172:16:42::3") for ln in text.splitlines())
    table = parse_output("frr", "show bgp ipv6 unicast", text)
    (path,) = _anycast_paths(table)
    assert (path["next_hop"], path["metric"], path["local_pref"], path["weight"],
            path["as_path"], path["best"], path["internal"]) == (
        "fd00:172:16:42::3", None, None, 0, [65500], True, False)
    (detail,) = _anycast_paths(_read(directory, "ipv6_prefer_global", "isp",
                                     f"show bgp ipv6 unicast {ANYCAST6}", "frr"))
    assert detail["next_hop"] == "fd00:172:16:42::3"


@pytest.mark.parametrize("directory", FRRS)
def test_dual_channel_state_mixes_wrapped_and_short_next_hops(directory: str) -> None:
    """ipv6_dual_channel: servers 1 and 2 with prefer-global (short next hops), server-3
    without (link-local, wrapped) in one multipath route; server-3's IPv6 session also carries
    IPv4, so an IPv6 neighbor is in the IPv4 summary and its route in the IPv4 table."""
    table = _read(directory, "ipv6_dual_channel", "edge", "show bgp ipv6 unicast", "frr")
    paths = _anycast_paths(table)
    assert len(paths) == 3 and all(p["best"] or p["multipath"] for p in paths)
    assert sorted(p["next_hop"] for p in paths if not _link_local(p["next_hop"])) == SERVERS6
    summary4 = _read(directory, "ipv6_dual_channel", "edge", "show ip bgp summary", "frr")
    peer = next(p for p in summary4["peers"] if p["neighbor"] == "fd00:12:1::3")
    assert (peer["state"], peer["prefixes_received"]) == ("Established", 1)
    table4 = _read(directory, "ipv6_dual_channel", "edge", "show ip bgp", "frr")
    hops4 = sorted(p["next_hop"] for p in _anycast_paths(table4, "10.13.13.1/32"))
    assert hops4 == ["10.12.12.1", "10.12.12.2", "10.12.12.3"]


@pytest.mark.parametrize("directory", FRRS)
def test_ipv6_summary_and_bfd(directory: str) -> None:
    summary = _read(directory, "ipv6_two_equal", "edge", "show bgp ipv6 unicast summary", "frr")
    assert summary["router_id"] == "172.16.42.3" and summary["local_as"] == 65500
    assert {p["neighbor"]: (p["state"], p["prefixes_received"]) for p in summary["peers"]} == {
        "fd00:12:1::1": ("Established", 1), "fd00:12:1::2": ("Established", 1),
        "fd00:172:16:42::2": ("Established", 2)}
    peers = _read(directory, "ipv6_two_equal", "edge", "show bfd peers", "frr")["peers"]
    assert sorted(p["peer"] for p in peers) == sorted(
        [*SERVERS6, "10.12.12.1", "10.12.12.2"])
    assert {p["status"] for p in peers} == {"up"}


@pytest.mark.parametrize(("directory", "platform"), BIRDS.items())
def test_bird_ipv6_channels_and_routes(directory: str, platform: str) -> None:
    """Each server: bgp1 (ipv4 channel) and bgp1_v6 (ipv6 channel), both Established,
    exporting their anycast prefix; its routes in master4 and master6."""
    protocols = {p["name"]: p for p in _read(directory, "ipv6_two_equal", "server-2",
                                             "birdc show protocols all", platform)["protocols"]}
    v6 = protocols["bgp1_v6"]
    assert (v6["bgp_state"], v6["neighbor_address"], v6["source_address"]) == (
        "Established", "fd00:12:1::254", "fd00:12:1::2")
    assert [(c["name"], c["state"], c["table"]) for c in v6["channels"]] == [
        ("ipv6", "UP", "master6")]
    assert v6["routes"]["exported"] == 1 and v6["routes"]["imported"] == 0
    assert protocols["bgp1"]["channels"][0]["table"] == "master4"
    assert protocols["static_bgp6"]["channels"][0]["routes"]["imported"] == 1
    export = _read(directory, "ipv6_two_equal", "server-2", "birdc show route export bgp1_v6",
                   platform)["routes"]
    assert [(r["prefix"], r["table"], r["type"]) for r in export] == [
        (ANYCAST6, "master6", "unreachable")]
    routes = _read(directory, "ipv6_two_equal", "server-1", "birdc show route", platform)
    by_table = {(r["table"], r["prefix"], r["protocol"]) for r in routes["routes"]}
    assert ("master6", "::/0", "bgp1_v6") in by_table
    assert ("master4", "0.0.0.0/0", "bgp1") in by_table
    default6 = next(r for r in routes["routes"] if r["prefix"] == "::/0")
    assert default6["next_hops"] == [{"via": "fd00:12:1::254", "dev": "eth0", "weight": None}]
    assert (default6["origin_as"], default6["origin"]) == (65000, "i")
    found = _read(directory, "ipv6_two_equal", "server-1", "birdc show route for fd00:13::1",
                  platform)["routes"]
    # BIRD 3.1 lists the covering routes too (the default route), BIRD 2 the best match only
    assert [(r["prefix"], r["protocol"]) for r in found] == [(ANYCAST6, "static_bgp6")] + (
        [("::/0", "bgp1_v6")] if platform == "bird3" else [])


@pytest.mark.parametrize(("directory", "platform"), BIRDS.items())
def test_bird_protocol_with_two_channels(directory: str, platform: str) -> None:
    """server-3: ONE bgp protocol over IPv6 with an ipv4 and an ipv6 channel: both channels
    with their own table, routes and change stats; the protocol's totals are their sums."""
    for command in ("birdc show protocols all", "birdc show protocols all dual"):
        protocols = _read(directory, "ipv6_dual_channel", "server-3", command,
                          platform)["protocols"]
        dual = next(p for p in protocols if p["name"] == "dual")
        assert dual["bgp_state"] == "Established"
        assert dual["neighbor_address"] == "fd00:12:1::254"
        chans = dual["channels"]
        assert [(c["name"], c["state"], c["table"]) for c in chans] == [
            ("ipv4", "UP", "master4"), ("ipv6", "UP", "master6")]
        assert [c["routes"]["exported"] for c in chans] == [1, 1]
        assert dual["routes"]["exported"] == 2
        for key in ("import_updates", "export_updates"):
            assert dual[key] == {k: sum(c[key][k] for c in chans) for k in dual[key]}


# ------------------------------------------------------------------ version vs version


def _stable_paths(parsed: dict[str, Any]) -> dict[str, list[tuple[Any, ...]]]:
    """{prefix: sorted paths}, a link-local next hop as "link-local" (its address comes from a
    random MAC address and differs from run to run)."""
    return {r["prefix"]: sorted(
        ("link-local" if _link_local(p["next_hop"]) else p["next_hop"], p["valid"],
         p["best"] or p["multipath"], p["internal"], p["metric"], p["local_pref"], p["weight"],
         tuple(p["as_path"]), p["origin"]) for p in r["paths"]) for r in parsed["routes"]}


@pytest.mark.parametrize("state", ["ipv6_two_equal", "ipv6_prefer_global", "ipv6_dual_channel"])
def test_frr_84_and_103_read_the_same_ipv6_state_alike(state: str) -> None:
    a = _read("frr", state, "edge", "show bgp ipv6 unicast", "frr")
    b = _read("frr10", state, "edge", "show bgp ipv6 unicast", "frr")
    assert _stable_paths(a) == _stable_paths(b)
    assert (a["router_id"], a["local_as"]) == (b["router_id"], b["local_as"])


@pytest.mark.parametrize("state", ["ipv6_two_equal", "ipv6_dual_channel"])
def test_bird_versions_read_the_same_ipv6_state_alike(state: str) -> None:
    server = "server-3" if state == "ipv6_dual_channel" else "server-1"

    def view(directory: str, platform: str) -> Any:
        protocols = _read(directory, state, server, "birdc show protocols all",
                          platform)["protocols"]
        routes = _read(directory, state, server, "birdc show route", platform)["routes"]
        return ({p["name"]: (p["proto"], p["state"], p.get("bgp_state"),
                             [(c["name"], c["state"], c["table"], c.get("routes"))
                              for c in p.get("channels", [])]) for p in protocols},
                sorted((r["table"], r["prefix"], r["protocol"], r["type"], r["primary"],
                        str(r["next_hops"])) for r in routes))
    assert view("bird2", "bird2") == view("bird2_17", "bird2") == view("bird3", "bird3")


# ------------------------------------------------------------------ wrong text


WRAPPED = (
    "BGP table version is 5, local router ID is 172.16.42.3, vrf id 0\n"
    "Default local pref 100, local AS 65500\n"
    "   Network          Next Hop            Metric LocPrf Weight Path\n"
    "*=ifd00:13::1/128   fe80::842a:1aff:fe03:7868\n"
    "                                                  100      0 i\n"
)


def test_a_wrapped_next_hop_is_read_with_its_numbers() -> None:
    (route,) = parse_output("frr", "show bgp ipv6 unicast", WRAPPED)["routes"]
    assert route["paths"] == [{
        "next_hop": "fe80::842a:1aff:fe03:7868", "valid": True, "best": False,
        "multipath": True, "internal": True, "metric": None, "local_pref": 100, "weight": 0,
        "as_path": [], "origin": "i"}]


@pytest.mark.parametrize(("text", "reason"), [
    (WRAPPED.rsplit("\n", 2)[0] + "\n", "ends in the middle of a wrapped line"),
    (WRAPPED.replace("                                                  100      0 i\n",
                     "*> ::/0             ::                       0         32768 i\n"),
     "wrapped next hop not followed"),
    (WRAPPED.replace("      0 i\n", "      x i\n"), "wrapped next hop not followed"),
    (WRAPPED.replace("      0 i\n", "      0 x\n"), "not a BGP table line"),
])
def test_a_broken_wrapped_next_hop_is_a_parse_error(text: str, reason: str) -> None:
    with pytest.raises(ParseError, match=reason) as err:
        parse_output("frr", "show bgp ipv6 unicast", text)
    assert "show bgp ipv6 unicast" in str(err.value)


@pytest.mark.parametrize("command", [
    "show bgp ipv6 unicast", "show bgp ipv6 unicast summary", f"show bgp ipv6 unicast {ANYCAST6}",
    "show bgp ipv6 unicast json", f"show bgp ipv6 unicast {ANYCAST6} json"])
def test_ipv4_answers_do_not_pass_for_ipv6_commands_on_error_text(command: str) -> None:
    for text in ("% Unknown command: show bgp ipv6 unicast\n", "bash: vtysh: command not found\n",
                 (CAPTURES / "bird2/ipv6_two_equal/server-1__birdc_show_route.txt").read_text()):
        with pytest.raises(ParseError):
            parse_output("frr", command, text)


def _captures6() -> list[Path]:
    return sorted(CAPTURES.glob("*/ipv6_*/*.txt"))


@pytest.mark.parametrize("txt", _captures6(), ids=lambda p: str(p.relative_to(CAPTURES)))
def test_every_ipv6_capture_says_where_it_came_from(txt: Path) -> None:
    import json
    meta = json.loads(txt.with_suffix(".json").read_text())
    assert "--ipv6" in meta["source"] and "real output" in meta["source"]
    assert "expected" in meta


@pytest.mark.parametrize("command", ["show bgp ipv6 unicast", "show bgp ipv6 unicast summary",
                                     f"show bgp ipv6 unicast {ANYCAST6}"])
def test_vyos_reads_frrs_ipv6_format_as_frr(command: str) -> None:
    """VyOS 1.2+ prints FRR's format: the same text behind a VyOS prompt reads as on FRR."""
    text = _text("frr", "ipv6_two_equal", "edge", command)
    assert parse_output("vyos", command, f"vyos@edge:~$ {command}\n{text}") == \
        parse_output("frr", command, text)
