"""THE per-platform command table (device/commands.py) and THE diff helper (device/diff.py):
what each stage sends for each platform comes from one place, and says what it said before."""

from __future__ import annotations

import contextlib

import pytest
from designs import design_of, replace_host

from nornir_anycast.device import services
from nornir_anycast.device.commands import (
    CLIS,
    DEFAULT_BIRD_CTL,
    FAMILY_COMMANDS,
    bird_command,
    bird_platform,
    device_error,
    family_command,
    family_of,
    linux_command,
    linux_family_command,
    parse_platform,
    router_command,
    router_family_command,
    wire,
)
from nornir_anycast.device.diff import unified_diff
from nornir_anycast.render.checkers import CHECKERS, target_check_command


def test_the_table_wraps_frr_in_vtysh_and_bird_in_birdc() -> None:
    assert wire("frr", "show ip bgp 10.13.13.1/32") == "vtysh -c 'show ip bgp 10.13.13.1/32'"
    assert wire("bird2", "show protocols all", bird_ctl="/run/bird x.ctl") \
        == "birdc -s '/run/bird x.ctl' show protocols all"
    assert wire("bird", "show route") == f"birdc -s {DEFAULT_BIRD_CTL} show route"
    assert wire("vyos", "show ip bgp") == "show ip bgp"
    assert wire("linux", "ip route show 10.13.13.1") == "ip route show 10.13.13.1"
    assert wire("nosuch", "anything") == "anything"
    assert {p: c.program for p, c in CLIS.items()} == {
        "frr": "vtysh", "bird": "birdc", "bird2": "birdc", "bird3": "birdc", "vyos": None,
        "linux": None}
    assert wire("bird3", "configure", bird_ctl="/run/bird/bird.ctl") \
        == "birdc -s /run/bird/bird.ctl configure"


def test_parse_platform_per_host_platform_and_command() -> None:
    assert parse_platform("frr", "show ip bgp") == "frr"
    assert parse_platform("vyos", "show ip bgp") == "vyos"
    assert parse_platform("linux", "show protocols all") == "bird2"
    assert parse_platform("linux", "show route export edge", 1) == "bird"
    assert parse_platform(None, "ip route show") == "linux"
    assert bird_platform(1) == "bird" and bird_platform("2") == "bird2"
    assert bird_platform(3) == "bird3" and bird_platform("3") == "bird3"
    assert bird_platform(None) == "bird2"
    assert parse_platform("linux", "show protocols all", 3) == "bird3"


def test_commands_for_typed_hosts() -> None:
    d = design_of("inventory")
    edge, server = d.hosts["edge"], d.hosts["server-1"]
    assert router_command(edge, "show running-config").send == "vtysh -c 'show running-config'"
    assert router_command(edge, "show ip bgp").parse_platform == "frr"
    cmd = bird_command(server, "show protocols")
    assert cmd.send == f"birdc -s {server.paths.bird_ctl} show protocols"
    assert (cmd.parse_platform, cmd.parse_command) == ("bird2", "show protocols")
    assert linux_command("ip route show").send == "ip route show"
    seed = design_of("inventory/vyos-seed")
    assert router_command(seed.hosts["edge"], "show ip bgp").send == "show ip bgp"
    assert bird_command(seed.hosts["server-1"], "show protocols").parse_platform == "bird"
    bird3 = replace_host(d, "server-1", bird_version=3).hosts["server-1"]
    cmd = bird_command(bird3, "show protocols all")
    assert (cmd.send, cmd.parse_platform) == (
        f"birdc -s {bird3.paths.bird_ctl} show protocols all", "bird3")


def test_services_send_birdc_from_the_table() -> None:
    server = design_of("inventory").hosts["server-1"]
    bird = services.bird(server)
    assert bird.reload == bird_command(server, "configure").send
    assert bird.reload == f"birdc -s {server.paths.bird_ctl} configure"


def test_device_error_is_the_devices_own_words() -> None:
    assert device_error("% Unknown command: show ip bgpp\n") == "% Unknown command: show ip bgpp"
    assert device_error("Unable to connect to server control socket (/run/bird.ctl): x\n") \
        == "Unable to connect to server control socket (/run/bird.ctl): x"
    assert device_error("BGP table version is 3\n") is None


def test_one_checker_table_local_and_on_the_target() -> None:
    assert sorted(CHECKERS) == ["bird1", "bird2", "bird3", "frr", "nft", "nginx"]
    assert target_check_command("bird3", "/etc/bird/bird.conf.na-new") \
        == "bird -p -c /etc/bird/bird.conf.na-new"
    assert target_check_command("bird2", "/etc/bird/bird.conf.na-new") \
        == "bird -p -c /etc/bird/bird.conf.na-new"
    assert target_check_command("bird1", "/etc/bird.conf") == "bird -p -c /etc/bird.conf"
    assert target_check_command("bird", "/etc/bird.conf") == "bird -p -c /etc/bird.conf"
    assert target_check_command("frr", "/etc/frr/frr conf") == "vtysh -C -f '/etc/frr/frr conf'"
    assert target_check_command("nft", "/etc/nftables.conf") == "nft -c -f /etc/nftables.conf"
    nginx = target_check_command("nginx", "/etc/nginx/conf.d/anycast.conf.na-new")
    assert "nginx -t -q -c /etc/nginx/conf.d/anycast.conf.na-new.test.conf" in nginx
    assert nginx.endswith("rm -f /etc/nginx/conf.d/anycast.conf.na-new.test.conf; [ $rc -eq 0 ]")
    with pytest.raises(ValueError, match="unknown checker 'nope'"):
        target_check_command("nope", "/x")
    for entry in CHECKERS.values():
        assert callable(entry.local) and entry.program


def test_unified_diff() -> None:
    assert unified_diff("a\n", "a\n", fromfile="x (running)", tofile="x (rendered)") == ""
    diff = unified_diff("a\nb\n", "a\nc\n", fromfile="x (running)", tofile="x (rendered)")
    assert diff.splitlines()[:2] == ["--- x (running)", "+++ x (rendered)"]
    assert "-b\n+c\n" in diff
    new = unified_diff(None, "a\n", fromfile="x (running)", tofile="x (rendered)")
    assert new.splitlines()[:2] == ["--- /dev/null", "+++ x (rendered)"]
    assert new.endswith("+a\n")


# --------------------------------------------------------------------------- by address family


def test_family_commands_have_both_families_and_parse() -> None:
    """Each named command has an IPv4 and an IPv6 form, both with a parser, for FRR (and for
    VyOS those VyOS parses); the IPv4 forms are what verify has always sent."""
    from nornir_anycast.parsing import ParseError, parse_output

    def parses(platform: str, cmd: str) -> bool:
        """An empty answer is a result or a ParseError; an unsupported command raises."""
        with contextlib.suppress(ParseError):
            parse_output(platform, cmd, "")
        return True

    assert set(FAMILY_COMMANDS) == {
        "bgp_summary", "bgp_table", "bgp_table_json", "bgp_prefix", "bgp_prefix_json",
        "bgp_neighbor_routes", "bgp_received_routes", "kernel_table", "kernel_route"}
    fill = {4: {"prefix": "10.13.13.1/32", "address": "10.12.12.1"},
            6: {"prefix": "fd00:13::1/128", "address": "fd00:12:1::1"}}
    for name, forms in FAMILY_COMMANDS.items():
        assert set(forms) == {4, 6}, name
        for family in (4, 6):
            args = {k: v for k, v in fill[family].items() if "{" + k + "}" in forms[family]}
            cmd = family_command(name, family, **args)
            assert "{" not in cmd
            if name.startswith("kernel"):
                assert parses("linux", cmd)
                continue
            assert parses("frr", cmd)
            if name in ("bgp_summary", "bgp_table", "bgp_prefix"):  # VyOS parses these too
                assert parses("vyos", cmd)
    assert family_command("bgp_summary", 4) == "show ip bgp summary"
    assert family_command("bgp_prefix", prefix="10.13.13.1/32") == "show ip bgp 10.13.13.1/32"
    assert family_command("kernel_route", prefix="10.13.13.1/32") == \
        "ip route show 10.13.13.1/32"
    assert family_command("bgp_received_routes", address="10.12.12.1") == \
        "show ip bgp neighbors 10.12.12.1 received-routes"


def test_family_command_takes_the_family_of_its_argument() -> None:
    assert family_command("bgp_prefix", prefix="fd00:13::1/128") == \
        "show bgp ipv6 unicast fd00:13::1/128"
    assert family_command("bgp_neighbor_routes", address="fd00:12:1::1") == \
        "show bgp ipv6 unicast neighbors fd00:12:1::1 routes"
    assert family_command("kernel_route", prefix="fd00:13::1") == "ip -6 route show fd00:13::1"
    assert family_command("bgp_summary", 6) == "show bgp ipv6 unicast summary"
    assert family_of("10.13.13.1") == 4 and family_of("fd00:13::1/128") == 6
    with pytest.raises(ValueError, match="give a family"):
        family_command("bgp_summary")
    with pytest.raises(ValueError, match="not 4 or 6"):
        family_command("bgp_table", 5)
    with pytest.raises(ValueError, match="needs prefix"):
        family_command("bgp_prefix", 6)
    with pytest.raises(KeyError):
        family_command("no_such_command", 4)
    with pytest.raises(ValueError):
        family_of("not-an-address")


def test_family_commands_go_through_the_table() -> None:
    d = design_of("inventory")
    edge = next(h for h in d.hosts.values() if h.role == "edge")
    cmd = router_family_command(edge, "bgp_prefix", prefix="fd00:13::1/128")
    assert cmd.parse_command == "show bgp ipv6 unicast fd00:13::1/128"
    assert cmd.parse_platform == edge.platform
    assert cmd.send == wire(edge.platform, cmd.parse_command, privilege=edge.privilege)
    k = linux_family_command("kernel_route", prefix="fd00:13::1/128")
    assert (k.send, k.parse_platform) == ("ip -6 route show fd00:13::1/128", "linux")
