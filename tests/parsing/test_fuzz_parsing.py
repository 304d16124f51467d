"""Fuzzing `parse_output` with hypothesis: random text, truncated and garbled real captures.

For every supported (platform, command), whatever the device printed, `parse_output` returns
plain JSON data or raises ParseError; a command it has no parser for raises
UnsupportedCommandError. Any other exception fails these tests.

The captures replayed here are the ones tests/test_parsing.py checks (tests/captures/, from
real FRR, BIRD 2 and Linux in the lab, and the seed's own VyOS/BIRD 1.6 output; see
tests/captures/README.md).
"""

from __future__ import annotations

import copy
import json
import os
import random
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from paths import CAPTURES

from nornir_anycast.exceptions import ParseError, UnsupportedCommandError
from nornir_anycast.parsing import PLATFORMS, parse_output, supported_commands


def _captures() -> list[tuple[str, str, str]]:
    out = []
    for txt in sorted(CAPTURES.glob("*/*/*.txt")):
        meta = json.loads(txt.with_suffix(".json").read_text())
        out.append((meta["platform"], meta["command"], txt.read_text()))
    return out


CAPTURED = _captures()
JSON_CAPTURES = [(c, json.loads(t)) for p, c, t in CAPTURED if p == "frr" and c.endswith("json")]

#: One concrete command per supported usage of every platform (`<prefix>` filled in, ...).
_FILL = {"<prefix6>": "fd00:13::1/128", "<prefix>": "10.13.13.1/32", "<name>": "bgp1",
         "<protocol>": "bgp1",
         "<table>": "master4", "<address>": "10.12.12.1"}


def _commands() -> list[tuple[str, str]]:
    out = set()
    for platform, usages in supported_commands().items():
        for usage in usages:
            plain = usage.split(" [")[0]
            out.add((platform, plain))
            if "[" in usage:  # the first optional form too: `show protocols all bgp1`
                first = usage.split(" [", 1)[1].rstrip("]").split(" | ")[0]
                for k, v in _FILL.items():
                    first = first.replace(k, v)
                out.add((platform, f"{plain} {first}"))
            for k, v in _FILL.items():
                out = {(p, c.replace(k, v)) for p, c in out}
    out |= {(p, c) for p, c, _ in CAPTURED}
    return sorted(out)


COMMANDS = _commands()

EXAMPLES = int(os.environ.get("NA_FUZZ_EXAMPLES", "150"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def parse_or_parse_error(platform: str, command: str, text: str) -> dict[str, Any] | None:
    """The parsed result (checked to be plain JSON data), or None on ParseError."""
    try:
        got = parse_output(platform, command, text)
    except ParseError as exc:
        assert platform in str(exc), exc  # the message names platform and command
        return None
    assert isinstance(got, dict)
    assert json.loads(json.dumps(got)) == got
    return got


# Lines the parsers look for, so random text reaches past their first checks.
_DEVICE_LINES = st.sampled_from([
    "BGP table version is 0, local router ID is 172.16.42.3",
    "BGP table version is 3, local router ID is 172.16.42.3, vrf id 0",
    "Status codes: s suppressed, d damped, h history, * valid, > best, = multipath,",
    "Origin codes:  i - IGP, e - EGP, ? - incomplete",
    "   Network          Next Hop            Metric LocPrf Weight Path",
    "*> 10.13.13.1/32    10.12.12.1                    100      0 i",
    "*=i10.13.13.1/32    10.12.12.2                    100      0 i",
    "* i                 10.12.12.2               0    100      0 i",
    "Displayed  2 routes and 3 total paths", "Total number of prefixes 2",
    "BGP routing table entry for 10.13.13.1/32", "Paths: (2 available, best #1, table default)",
    "  Local", "    10.12.12.1 from 10.12.12.1 (10.12.12.1)",
    "      Origin IGP, metric 0, localpref 100, valid, internal, multipath, best (Router ID)",
    "IPv4 Unicast Summary (VRF default):", "BGP router identifier 172.16.42.3, local AS "
    "number 65500 vrf-id 0",
    "Neighbor        V         AS   MsgRcvd   MsgSent   TblVer  InQ OutQ  Up/Down State/PfxRcd",
    "10.12.12.1      4      65500        10        12        0    0    0 00:01:02            1",
    "172.16.42.2     4      65000         0         0        0    0    0    never       Active",
    "BIRD 2.0.12 ready.", "BIRD 1.6.8 ready.",
    "Name       Proto      Table      State  Since         Info",
    "bgp1       BGP        ---        up     12:00:00.000  Established",
    "  BGP state:          Established", "    Neighbor address: 10.12.12.254",
    "  Channel ipv4", "    Routes:         1 imported, 1 exported, 0 preferred",
    "10.13.13.1/32        unreachable [static_bgp 12:00:00.000] * (200)",
    "Table master4:", "10.13.13.1 proto bgp metric 20", "10.13.13.1 nhid 20 proto bgp metric 20",
    "\tnexthop via 10.12.12.1 dev eth1 weight 1", "default via 172.16.42.2 dev eth0",
    "% Unknown command: show ip bgp", "bird: syntax error", "syntax error, unexpected END",
    "Unable to connect to server control socket (/run/bird/bird.ctl): No such file or directory",
    "root@edge:~# vtysh -c 'show ip bgp'", "", "   ", "\t",
    "{", "}", '{"routes": {}}', "[]", "null",
    # FRR 10.3 and BIRD 3.1 (tests/captures/frr10/, bird3/)
    "     Network          Next Hop            Metric LocPrf Weight Path",
    " *>  192.168.123.128/25",
    "                    172.16.42.2              0             0 65000 i",
    " *=i                  10.12.12.2                    100      0 i",
    "BIRD 3.1.8 ready.", "No valid tables",
    "Requested 'show route export' to protocols which aren't accepting exports at all.",
    "    Route change stats:     received   rejected   filtered    ignored   RX limit      limit"
    "   accepted",
    "      Export updates:              3          0          0          0        ---          0"
    "          3",
    "\t\tTx fail packet: 0",
    # IPv6 (tests/captures/*/ipv6_*/): a next hop that ends its line, its numbers on the next
    "*=ifd00:13::1/128   fe80::842a:1aff:fe03:7868",
    " *>i fd00:13::1/128   fe80::d82c:5fff:fe48:ad0e",
    "                                                  100      0 i",
    "                                             0             0 65000 i",
    "*> fd00:abcd:1234:5678::/64", "                    fe80::a8cb:fbff:fe87:8d21",
    "*> fd00:12:1::/64   ::                       0         32768 i",
    "BGP routing table entry for fd00:13::1/128, version 5",
    "    fd00:12:1::2 from fd00:12:1::2 (10.12.12.2)", "    (fe80::842a:1aff:fe03:7868) (used)",
    "fd00:172:16:42::2 4      65000        20        15        0    0    0 00:00:05            2",
    "fd00:13::1 nhid 27 proto bgp metric 20 pref medium",
    "\tnexthop via fe80::244a:e9ff:fec4:1503 dev eth0 weight 1 ",
    "Table master6:", "  Channel ipv6",
    "fd00:13::1/128       unreachable [static_bgp6 19:04:19.955] * (200)",
    "    BGP Next hop:   fd00:12:1::1 fe80::244a:e9ff:fec4:1503",
])
_GARBAGE = st.sampled_from([
    "", " ", "\t", "\x00", "\r", "\r\n", "\n", "*", ">", "=", "i", "?", ":", "/", ".", "%",
    "{", "}", '"', "\u0663", "\uff11", "\u00e9", "\ufb00", "\u2028",
    "999999999999999999999999", "-1", "4294967296",
    "10.13.13.1/33", "300.1.1.1", "::", "nan", "1e9", "0x1", "Established", "BGP", "up",
])
RANDOM_TEXT = (st.lists(_DEVICE_LINES | st.text(max_size=40), max_size=12).map("\n".join)
               | st.text())


@FUZZ
@given(target=st.sampled_from(COMMANDS), text=RANDOM_TEXT)
def test_random_text_is_a_result_or_parse_error(target: tuple[str, str], text: str) -> None:
    parse_or_parse_error(*target, text)


@FUZZ
@given(capture=st.sampled_from(CAPTURED), where=st.floats(0, 1), whole_lines=st.booleans())
def test_truncated_captures(capture: tuple[str, str, str], where: float,
                            whole_lines: bool) -> None:
    platform, command, text = capture
    if whole_lines:
        lines = text.splitlines(keepends=True)
        cut = "".join(lines[:int(where * len(lines))])
    else:
        cut = text[:int(where * len(text))]
    parse_or_parse_error(platform, command, cut)


_OPS = st.lists(st.tuples(st.sampled_from(["drop", "dup", "shuffle", "garble", "insert",
                                           "insert_line", "swap_commands"]),
                          st.floats(0, 1), _GARBAGE | _DEVICE_LINES), min_size=1, max_size=5)


def _mutate(text: str, ops: list[tuple[str, float, str]], rnd: random.Random) -> str:
    for op, where, piece in ops:
        lines = text.splitlines(keepends=True)
        k = int(where * max(len(lines) - 1, 0))
        at = int(where * max(len(text) - 1, 0))
        if op == "drop" and lines:
            del lines[k]
            text = "".join(lines)
        elif op == "dup" and lines:
            lines.insert(k, lines[k])
            text = "".join(lines)
        elif op == "shuffle":
            rnd.shuffle(lines)
            text = "".join(lines)
        elif op == "garble" and text:
            text = text[:at] + piece + text[at + 1:]
        elif op == "insert":
            text = text[:at] + piece + text[at:]
        elif op == "insert_line":
            lines.insert(k, piece + "\n")
            text = "".join(lines)
        elif op == "swap_commands":  # another capture's output in the middle
            other = CAPTURED[int(where * (len(CAPTURED) - 1))][2]
            text = text[:at] + other + text[at:]
    return text


@FUZZ
@given(capture=st.sampled_from(CAPTURED), ops=_OPS, rnd=st.randoms(use_true_random=False))
def test_garbled_captures(capture: tuple[str, str, str], ops: list[tuple[str, float, str]],
                          rnd: random.Random) -> None:
    platform, command, text = capture
    parse_or_parse_error(platform, command, _mutate(text, ops, rnd))


@FUZZ
@given(capture=st.sampled_from(CAPTURED), target=st.sampled_from(COMMANDS))
def test_one_commands_output_parsed_as_another(capture: tuple[str, str, str],
                                               target: tuple[str, str]) -> None:
    parse_or_parse_error(*target, capture[2])


_JSON_KEYS = st.sampled_from([
    "routerId", "localAS", "routes", "paths", "nexthops", "ip", "used", "bestpath", "overall",
    "multipath", "valid", "locPrf", "weight", "metric", "path", "origin", "aspath", "string",
    "peer", "type", "prefix", "pathFrom", "10.13.13.1/32", "0.0.0.0", "x", "scope",
    "fd00:13::1/128"])
_JSON_SCALARS = (st.none() | st.booleans() | st.integers(-2**70, 2**70)
                 | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12)
                 | st.sampled_from(["10.12.12.1", "10.13.13.1/32", "internal", "IGP", "Local",
                                    "65500 65000", "65500"]))
JSON_JUNK = st.recursive(_JSON_SCALARS, lambda c: st.lists(c, max_size=3)
                         | st.dictionaries(_JSON_KEYS, c, max_size=4), max_leaves=20)


def _paths(obj: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out += _paths(v, (*prefix, i))
    return out


@FUZZ
@given(data=st.data(), junk=JSON_JUNK)
@example(data=None, junk={"routes": {"0.0.0.0/0": None}})  # TypeError before the fix
@example(data=None, junk={"routes": {"10.0.0.0/8": ["x"]}})  # AttributeError before the fix
@example(data=None, junk={"routes": {}, "localAS": "10.13.13.1/32"})  # ValueError before
@example(data=None, junk={"routes": {"1.x.2.3": []}})  # ValueError in classful() before
def test_frr_json_of_any_shape(data: st.DataObject | None, junk: Any) -> None:
    """Any JSON document, and real `show ip bgp [<prefix>] json` captures with parts replaced
    by junk: a result or ParseError (found TypeError/AttributeError/ValueError before)."""
    if data is None:  # the explicit examples: table JSON
        parse_or_parse_error("frr", "show ip bgp json", json.dumps(junk))
        return
    command, doc = data.draw(st.sampled_from(JSON_CAPTURES), label="capture")
    if data.draw(st.booleans(), label="whole document"):
        doc = junk
    else:
        doc = copy.deepcopy(doc)
        for _ in range(data.draw(st.integers(1, 3), label="replacements")):
            path = data.draw(st.sampled_from(_paths(doc)), label="path")
            if not path:
                doc = data.draw(JSON_JUNK)
                break
            parent = doc
            for p in path[:-1]:
                parent = parent[p]
            parent[path[-1]] = data.draw(JSON_JUNK, label="junk")
    parse_or_parse_error("frr", command, json.dumps(doc))


@pytest.mark.parametrize("command", ["show ip bgp json", "show ip bgp 10.13.13.1/32 json"])
def test_frr_json_nested_without_end_is_a_parse_error(command: str) -> None:
    """json.loads raised RecursionError on this before the fix."""
    with pytest.raises(ParseError, match="not JSON"):
        parse_output("frr", command, "[" * 100_000)


@FUZZ
@given(platform=st.sampled_from(PLATFORMS) | st.text(max_size=8), command=st.text(max_size=60)
       | st.sampled_from([c for _, c in COMMANDS]).map(lambda c: c + " bogus"),
       text=RANDOM_TEXT)
def test_any_command_is_a_result_parse_error_or_unsupported(platform: str, command: str,
                                                            text: str) -> None:
    try:
        parse_or_parse_error(platform, command, text)
    except UnsupportedCommandError as exc:
        assert "unsupported" in str(exc)
        if platform not in PLATFORMS:
            assert "supported platforms are" in str(exc)


def test_the_fuzzers_cover_every_platform_and_command() -> None:
    platforms = {p for p, _ in COMMANDS}
    assert platforms == set(PLATFORMS)
    for platform, usages in supported_commands().items():
        assert usages, platform
    assert len(CAPTURED) >= 100 and JSON_CAPTURES
    for platform, command in COMMANDS:  # each command has a parser (no Unsupported here)
        parse_or_parse_error(platform, command, "")
    # issue 13's IPv6 commands, and their real captures, are fuzzed too
    assert {("frr", "show bgp ipv6 unicast"), ("frr", "show bgp ipv6 unicast summary"),
            ("frr", "show bgp ipv6 unicast fd00:13::1/128"),
            ("frr", "show bgp ipv6 unicast json"),
            ("frr", "show bgp ipv6 unicast fd00:13::1/128 json"),
            ("vyos", "show bgp ipv6 unicast"), ("linux", "ip -6 route show fd00:13::1/128"),
            ("bird3", "birdc show route for fd00:13::1")} <= set(COMMANDS)
    ipv6 = [(p, c) for p, c, t in CAPTURED if "ipv6" in c or "-6" in c or "fd00:" in t]
    assert len(ipv6) >= 60
    assert any(c.endswith("json") and "ipv6" in c for c, _ in JSON_CAPTURES)
