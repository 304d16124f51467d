"""Dual-stack rendering (tests/inventories/dual-stack, docs/ipv6.md): one BGP session per family
on both ends, the IPv6 policies (per-server import filter, no-leak export, maximum-prefix), the
IPv6 side of anycast-healthchecker wired into the one BIRD, the IPv6 default route, sysctls
and interfaces; every file passes the real checkers (FRR 8.4 `vtysh -C`, BIRD 2.0 and BIRD 3
`bird -p`, `nginx -t`, anycast-healthchecker's own `-c`). FRR 10.3 and BIRD 2.17 run in
test_render_frr10.py / test_render_bird3.py (Debian 13 roots), frr-reload in
test_render_frr_reload.py."""

from __future__ import annotations

import configparser
import json
import re
import subprocess
from pathlib import Path

import pytest
from designs import design_of, replace_host
from paths import ROOT

from nornir_anycast.design import healthcheck
from nornir_anycast.design.model import Design, HostModel
from nornir_anycast.device.linux_net import NetState, desired_state, plan
from nornir_anycast.render import render_host
from nornir_anycast.render.checkers import check_file, check_files
from nornir_anycast.render.files import RenderedFile
from nornir_anycast.render.linux import sysctls

DUAL = "tests/inventories/dual-stack"
PHASES = (None, "lowered", "withdrawn")


@pytest.fixture(scope="module")
def design() -> Design:
    return design_of(DUAL)


def _frr(design: Design, host: str) -> str:
    return render_host(design.hosts[host], design)["frr.conf"].content


def _section(text: str, start: str, end: str = " exit-address-family") -> list[str]:
    lines = text.splitlines()
    i = lines.index(start)
    return lines[i + 1:lines.index(end, i)]


def _protocol(text: str, name: str) -> str:
    """One `protocol bgp NAME { ... }` block of a bird.conf."""
    m = re.search(rf"^protocol bgp {name} \{{\n(.*?)^\}}\n", text, re.S | re.M)
    assert m, f"no protocol bgp {name}"
    return m.group(1)


def test_edge_activates_each_neighbor_in_its_own_family_only(design: Design) -> None:
    text = _frr(design, "edge")
    v4 = _section(text, " address-family ipv4 unicast")
    v6 = _section(text, " address-family ipv6 unicast")
    v6_neighbors = ("fd00:12:1::1", "fd00:12:1::2", "fd00:172:16:42::2")
    for nb in v6_neighbors:
        assert f"  no neighbor {nb} activate" in v4
        assert f"  neighbor {nb} activate" in v6
        assert not [ln for ln in v4 if f"neighbor {nb} " in ln and "activate" not in ln]
    for nb in ("10.12.12.1", "10.12.12.2", "172.16.42.2"):
        assert not [ln for ln in v6 if f"neighbor {nb} " in ln]
    assert "  maximum-paths ibgp 2" in v4 and "  maximum-paths ibgp 2" in v6


def test_edge_ipv6_policies_filter_each_server_and_leak_nothing_upstream(
        design: Design) -> None:
    text = _frr(design, "edge")
    v6 = _section(text, " address-family ipv6 unicast")
    for n, addr in ((1, "fd00:12:1::1"), (2, "fd00:12:1::2")):
        assert f"  neighbor {addr} route-map SERVERS-IN6-server-{n} in" in v6
        assert f"  neighbor {addr} route-map SERVERS-OUT out" in v6
        assert f"  neighbor {addr} soft-reconfiguration inbound" in v6
        # one IPv6 prefix + the margin of 10
        assert f"  neighbor {addr} maximum-prefix 11 restart 1 force" in v6
        assert (f"route-map SERVERS-IN6-server-{n} permit 10\n"
                f" match ipv6 address prefix-list ANYCAST6-server-{n}\n"
                " set ipv6 next-hop prefer-global\nexit\n") in text
        assert f"ipv6 prefix-list ANYCAST6-server-{n} seq 5 permit fd00:13::1/128\n" in text
    assert "  neighbor fd00:172:16:42::2 route-map EBGP-OUT6 out" in v6
    assert "  neighbor fd00:172:16:42::2 route-map EBGP-IN in" in v6
    assert ("route-map EBGP-OUT6 permit 10\n match ipv6 address prefix-list ANYCAST6\n"
            "exit\n") in text
    assert "ipv6 prefix-list ANYCAST6 seq 5 permit fd00:13::1/128\n" in text
    # the IPv4 policies are what they were; no IPv6 prefix in an IPv4 list or the reverse
    assert "ip prefix-list ANYCAST seq 5 permit 10.13.13.1/32\n" in text
    assert not re.search(r"^ip prefix-list .*:", text, re.M)
    assert not re.search(r"^ipv6 prefix-list .*\.\d+/", text, re.M)
    assert "no ipv6 forwarding" not in text


def test_edge_ipv6_export_denies_all_when_no_server_announces_ipv6(design: Design) -> None:
    d = design
    for s in ("server-1", "server-2"):
        d = replace_host(d, s, anycast=["10.13.13.1/32"])
    text = _frr(d, "edge")
    assert "route-map EBGP-OUT6 deny 10\nexit\n" in text
    assert "route-map SERVERS-IN6-server-1 deny 10\nexit\n" in text
    assert "ipv6 prefix-list" not in text


def test_isp_originates_the_ipv6_default(design: Design) -> None:
    text = _frr(design, "isp")
    assert "ip route 0.0.0.0/0 blackhole\nipv6 route ::/0 blackhole\n!\n" in text
    v4 = _section(text, " address-family ipv4 unicast")
    v6 = _section(text, " address-family ipv6 unicast")
    assert "  network 0.0.0.0/0" in v4 and "  network ::/0" not in v4
    assert v6[:2] == ["  network ::/0", "  neighbor fd00:172:16:42::3 activate"]
    assert "  neighbor fd00:172:16:42::3 route-map EBGP-OUT out" in v6


def test_server_has_one_bird_protocol_per_family(design: Design) -> None:
    text = render_host(design.hosts["server-1"], design)["bird.conf"].content
    v4, v6 = _protocol(text, "edge"), _protocol(text, "edge_v6")
    assert "neighbor 10.12.12.254 as 65500;" in v4 and "  ipv4 {" in v4 and "ipv6" not in v4
    assert "neighbor fd00:12:1::254 as 65500;" in v6 and "  ipv6 {" in v6 and "ipv4" not in v6
    for block in (v4, v6):  # same session settings and filters in both families
        assert "bfd on;" in block and "direct;" in block and "import none;" in block
    assert 'if proto = "static_bgp" && net ~ ACAST_PS_ADVERTISE then' in v4
    assert 'if proto = "static_bgp6" && net ~ ACAST6_PS_ADVERTISE then' in v6
    static6 = text.split("protocol static static_bgp6 {\n", 1)[1].split("}\n", 1)[0]
    assert "  ipv6;" in static6 and "  route fd00:13::1/128 reject;" in static6
    static4 = text.split("protocol static static_bgp {\n", 1)[1].split("}\n", 1)[0]
    assert "fd00" not in static4
    assert 'include "/etc/bird/anycast-prefixes6.conf";' in text


@pytest.mark.parametrize("phase", PHASES)
def test_drain_phases_apply_to_both_families(design: Design, phase: str | None) -> None:
    text = render_host(design.hosts["server-1"], design, drain=phase)["bird.conf"].content
    for name in ("edge", "edge_v6"):
        block = _protocol(text, name)
        if phase == "withdrawn":
            assert "accept" not in block
        elif phase == "lowered":
            assert "bgp_community.add((65535, 0));" in block and "bgp_local_pref = 0;" in block
        else:
            assert "bgp_local_pref = 100;" in block


@pytest.mark.parametrize("version", [2, 3])
@pytest.mark.parametrize("phase", PHASES)
def test_bird_accepts_the_dual_stack_config(design: Design, version: int,
                                            phase: str | None) -> None:
    if version == 3:
        from debian13 import require_root
        require_root("debian13-bird3", "usr/sbin/bird")
    d = replace_host(design, "server-2", bird_version=version)
    bird = render_host(d.hosts["server-2"], d, drain=phase)["bird.conf"]
    assert bird.checker == f"bird{version}"
    assert [p for p, _ in bird.includes] == ["/etc/bird/anycast-prefixes.conf",
                                            "/etc/bird/anycast-prefixes6.conf",
                                            "/etc/bird/nornir-anycast-nginx-state.conf"]
    assert check_file(bird) is not None
    healthy6 = ("define ACAST6_PS_ADVERTISE =\n    [\n        2001:db8::1/128,\n"
                "        fd00:13::1/128\n    ];\n")
    include6 = dict(bird.includes)
    include6["/etc/bird/anycast-prefixes6.conf"] = healthy6
    assert check_file(RenderedFile(bird.path, bird.content, bird.checker,
                                   includes=tuple(include6.items()))) is not None


def test_every_dual_stack_file_passes_its_checker(design: Design) -> None:
    for name, host in design.hosts.items():
        statuses = check_files(render_host(host, design), name, require=True)
        assert all(s in ("checked", "-") for s in statuses.values()), statuses
    assert check_files(render_host(design.hosts["edge"], design), "edge",
                       require=True) == {"frr.conf": "checked"}


def test_healthchecker_ipv6_side_points_at_the_one_bird(design: Design) -> None:
    me = design.hosts["server-1"]
    files = render_host(me, design)
    conf = configparser.ConfigParser()
    conf.read_string(files["anycast-healthchecker.conf"].content)
    daemon = conf["daemon"]
    assert (daemon["ipv4"], daemon["ipv6"]) == ("true", "true")
    assert daemon["bird6_conf"] == "/etc/bird/anycast-prefixes6.conf"
    assert daemon["bird6_variable"] == "ACAST6_PS_ADVERTISE"
    assert daemon["dummy_ip6_prefix"] == "2001:db8::1/128"
    assert daemon["bird6_reconfigure_cmd"] == daemon["bird_reconfigure_cmd"] == \
        "birdc -s /run/bird/bird.ctl configure"
    include6 = files["anycast-prefixes6.conf"]
    assert include6.create_only and include6.path == "/etc/bird/anycast-prefixes6.conf"
    assert healthcheck.parse_include(include6.content) == ("ACAST6_PS_ADVERTISE",
                                                           ["2001:db8::1/128"])
    check = conf_of(files["anycast-healthchecker.d/anycast_fd00-13--1_128.conf"].content)
    assert check["ip_prefix"] == "fd00:13::1/128"
    assert "http://[fd00:13::1]/file" in check["check_cmd"]
    assert check["ip_check_disabled"] == "false"  # fd00:13::1/128 is on lo as such
    assert healthcheck.include_paths(me) == ["/etc/bird/anycast-prefixes.conf",
                                             "/etc/bird/anycast-prefixes6.conf"]


def conf_of(text: str) -> configparser.SectionProxy:
    parser = configparser.ConfigParser()
    parser.read_string(text)
    return parser[parser.sections()[0]]


def test_healthchecker_accepts_its_dual_stack_config(design: Design, tmp_path: Path) -> None:
    """anycast-healthchecker 0.9.10's own sanity check (`-c`) with ipv6 = true."""
    exe = ROOT / ".cache" / "healthchecker" / "bin" / "anycast-healthchecker"
    if not exe.exists():
        pytest.skip("run scripts/install.sh (it installs anycast-healthchecker under .cache/)")
    me = design.hosts["server-2"]
    paths = {k: str(tmp_path / Path(v).name) for k, v in me.paths.model_dump().items()
             if k.startswith("healthchecker_")}
    paths["healthchecker_dir"] = str(tmp_path / "checks")
    paths["healthchecker_include6"] = str(tmp_path / "6" / "anycast-prefixes.conf")
    d = replace_host(design, "server-2", paths={**me.paths.model_dump(), **paths})
    for f in render_host(d.hosts["server-2"], d).values():
        if f.path and f.path.startswith(str(tmp_path)):
            Path(f.path).parent.mkdir(parents=True, exist_ok=True)
            Path(f.path).write_text(f.content)
    proc = subprocess.run([str(exe), "-c", "-f", paths["healthchecker_conf"],
                           "-d", paths["healthchecker_dir"]], capture_output=True, text=True,
                          timeout=60, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "OK" in proc.stdout
    # ... and the check can fail: IPv6 off while a /128 is configured
    conf = Path(paths["healthchecker_conf"])
    conf.write_text(conf.read_text().replace("ipv6 = true", "ipv6 = false"))
    proc = subprocess.run([str(exe), "-c", "-f", paths["healthchecker_conf"],
                           "-d", paths["healthchecker_dir"]], capture_output=True, text=True,
                          timeout=60, check=False)
    assert proc.returncode != 0 and "IPv6 support is disabled" in proc.stderr + proc.stdout


def test_event_path_disables_both_static_protocols(design: Design) -> None:
    lab = render_host(design.hosts["server-1"], design)
    config = json.loads(lab["service-watch.json"].content)
    assert config["protocol"] == '"static_bgp*"'  # BIRD's pattern: static_bgp, static_bgp6
    state = '  include "/etc/bird/nornir-anycast-nginx-state.conf";'
    bird = lab["bird.conf"].content
    assert bird.count(state) == 2
    systemd = replace_host(design, "server-1", service_manager="systemd")
    unit = render_host(systemd.hosts["server-1"], systemd)[
        f"{healthcheck.WATCH_UNIT_NAME}.service"].content
    for verb in ("enable", "disable"):
        assert (f"birdc -s /run/bird/bird.ctl {verb} static_bgp || true; "
                f"birdc -s /run/bird/bird.ctl {verb} static_bgp6 || true; }}'") in unit
    seed = design_of("inventory")
    assert json.loads(render_host(seed.hosts["server-1"], seed)["service-watch.json"]
                      .content)["protocol"] == "static_bgp"


def _systemd(design: Design, name: str) -> HostModel:
    return replace_host(design, name, service_manager="systemd").hosts[name]


def test_ifupdown_writes_ipv6_addresses_and_gateway6(design: Design) -> None:
    text = render_host(_systemd(design, "client"), design)["interfaces"].content
    stanzas = text.split("\n\n")[1]
    assert stanzas == (
        "auto eth0\n"
        "iface eth0 inet static\n    address 10.0.0.1\n    netmask 255.255.255.0\n"
        "    gateway 10.0.0.254\n"
        "iface eth0 inet static\n    address 10.0.0.2\n    netmask 255.255.255.0\n"
        "iface eth0 inet6 static\n    address fd00:10::1\n    netmask 64\n"
        "    gateway fd00:10::254\n"
        "iface eth0 inet6 static\n    address fd00:10::2\n    netmask 64\n")
    server = render_host(_systemd(design, "server-1"), design)["interfaces"].content
    assert "iface lo inet6 static\n    address fd00:13::1\n    netmask 128\n" in server


def test_ipv6_sysctls_on_routers_with_ipv6(design: Design) -> None:
    assert sysctls(design.hosts["edge"]) == {
        "net.ipv4.ip_forward": "1", "net.ipv4.fib_multipath_hash_policy": "1",
        "net.ipv6.conf.all.forwarding": "1", "net.ipv6.fib_multipath_hash_policy": "1"}
    assert sysctls(design.hosts["isp"]) == {"net.ipv4.ip_forward": "1",
                                            "net.ipv6.conf.all.forwarding": "1"}
    seed = design_of("inventory")
    assert "net.ipv6.fib_multipath_hash_policy" not in sysctls(seed.hosts["edge"])
    edge = render_host(_systemd(design, "edge"), design)["sysctl.conf"].content
    assert "net.ipv6.fib_multipath_hash_policy = 1\n" in edge


def test_deploy_sets_the_ipv6_default_route(design: Design) -> None:
    desired = desired_state(design.hosts["server-1"])
    assert desired.default_gateway6 == "fd00:12:1::254"
    assert desired.addresses["lo"] == {"10.13.13.1/32", "fd00:13::1/128"}
    assert desired.addresses["eth0"] == {"10.12.12.1/24", "fd00:12:1::1/64"}
    actual = NetState(addresses={"eth0": {"10.12.12.1/24", "fd00:12:1::1/64"},
                                 "lo": {"10.13.13.1/32", "fd00:13::1/128"}},
                      link_up={"eth0": True, "lo": True}, default_gateway="10.12.12.254")
    [change] = plan(desired, actual)
    assert change.command == "ip -6 route replace default via fd00:12:1::254"
    assert change.undo == "ip -6 route del default"
    done = NetState(**{**actual.__dict__, "default_gateway6": "fd00:12:1::254"})
    assert plan(desired, done) == []


def test_verify_counts_each_sessions_own_family(design: Design) -> None:
    """server_exports_anycast (verify): one session per family, so the IPv4 session exports the
    /32 and the IPv6 one the /128; a session exporting nothing of its family still fails."""
    from nornir_anycast.verify.checks.sessions import check_server_sessions

    def proto(name: str, neighbor: str, exported: int) -> dict[str, object]:
        return {"name": name, "proto": "BGP", "neighbor_address": neighbor,
                "bgp_state": "Established", "routes": {"exported": exported}}

    protocols = {"protocols": [proto("edge", "10.12.12.254", 1),
                               proto("edge_v6", "fd00:12:1::254", 1)]}
    checks = check_server_sessions(design.hosts["server-1"], design, protocols)
    exports = [c for c in checks if c.name == "server_exports_anycast"]
    assert [(c.passed, c.expected["prefixes"]) for c in exports] == [
        (True, ["10.13.13.1/32"]), (True, ["fd00:13::1/128"])]
    protocols["protocols"][1] = proto("edge_v6", "fd00:12:1::254", 0)
    bad = [c for c in check_server_sessions(design.hosts["server-1"], design, protocols)
           if c.name == "server_exports_anycast" and not c.passed]
    assert [c.message for c in bad] == [
        "exports 0 to edge, expected its 1 anycast prefix(es) fd00:13::1/128"]
