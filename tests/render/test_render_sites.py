"""Rendering sites (docs/sites.md) over the two-sites test inventory: several edges per site,
upstreams with eBGP multipath, the standby site's prepend, graceful restart, advertisement
interval, BFD between upstreams and edges, and a server's default route over several edges.
Every rendered file passes its real checker (`vtysh -C`, BIRD 2.0's `bird -p`, nginx -t), and
the servers' bird.conf passes BIRD 2.17's and 3.1's `bird -p` too (the Debian 13 images)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from debian13 import find_root, root_argv
from designs import design_of, replace_host

from nornir_anycast.design.model import Bfd, Design
from nornir_anycast.render import render_host
from nornir_anycast.render.bird import default_routes
from nornir_anycast.render.checkers import check_file

TWO_SITES = "tests/inventories/two-sites"


def _design() -> Design:
    return design_of(TWO_SITES)


def _file(design: Design, host: str, name: str) -> str:
    return render_host(design.hosts[host], design)[name].content


def _lines(text: str) -> list[str]:
    return text.splitlines()


def test_every_rendered_file_passes_its_checker() -> None:
    d = _design()
    checked: dict[str, int] = {}
    for name, host in d.hosts.items():
        for logical, f in render_host(host, d).items():
            if f.checker is not None:
                assert check_file(f, f"{name}/{logical}") is not None
                checked[f.checker] = checked.get(f.checker, 0) + 1
    assert checked == {"frr": 6, "bird2": 4, "nginx": 4}


def test_upstream_multipath_bfd_graceful_restart_and_advertisement_interval() -> None:
    lines = _lines(_file(_design(), "upstream-1", "frr.conf"))
    assert "  maximum-paths 2" in lines
    assert " bgp graceful-restart" in lines
    assert not any("restart-time" in ln for ln in lines)  # 120 s, FRR's default: not printed
    for edge in ("172.16.42.3", "172.16.42.5"):
        # BFD to each edge of the site (both ends enable it), control-plane check under GR
        i = lines.index(f" neighbor {edge} bfd")
        assert lines[i + 1:i + 3] == [f" neighbor {edge} bfd check-control-plane-failure",
                                      f" neighbor {edge} bfd profile anycast"]
        assert f" neighbor {edge} advertisement-interval 0" in lines
    # The upstream <-> upstream session: eBGP, advertisement interval, no BFD.
    assert " neighbor 172.16.0.2 advertisement-interval 0" in lines
    assert " neighbor 172.16.0.2 bfd" not in lines
    assert "bfd" in lines and " profile anycast" in lines


def test_standby_sites_edges_prepend_towards_the_upstream() -> None:
    d = _design()
    standby = _lines(_file(d, "s2-edge-2", "frr.conf"))
    i = standby.index("route-map EBGP-OUT permit 10")
    assert standby[i + 1:i + 4] == [" match ip address prefix-list ANYCAST",
                                    " set as-path prepend 65501 65501 65501", "exit"]
    active = _file(d, "s1-edge-1", "frr.conf")
    assert "as-path prepend" not in active
    once = replace_host(d, "s2-edge-2", site_prepend=1)
    assert " set as-path prepend 65501" in _lines(_file(once, "s2-edge-2", "frr.conf"))


def test_each_edge_peers_with_every_server_of_its_site_with_its_filter() -> None:
    d = _design()
    for edge, upstream in (("s1-edge-1", "172.16.42.2"), ("s1-edge-2", "172.16.42.4")):
        lines = _lines(_file(d, edge, "frr.conf"))
        for n in (1, 2):
            address = f"10.12.12.{n}"
            assert f"  neighbor {address} route-map SERVERS-IN-s1-server-{n} in" in lines
            assert f"  neighbor {address} maximum-prefix 11 restart 1 force" in lines
            assert f" neighbor {address} bfd check-control-plane-failure" in lines
        assert "  maximum-paths ibgp 2" in lines
        assert f" neighbor {upstream} advertisement-interval 0" in lines
        assert f" neighbor {upstream} bfd check-control-plane-failure" in lines
        # Servers' sessions are iBGP: FRR's default interval (0) applies, nothing printed.
        assert not any(ln.startswith(" neighbor 10.12.12.") and "advertisement" in ln
                       for ln in lines)


def test_graceful_restart_time_and_off() -> None:
    d = _design()
    bgp = d.hosts["s1-edge-1"].bgp.model_dump()
    timed = replace_host(d, "s1-edge-1", bgp={**bgp, "graceful_restart_time": 60})
    lines = _lines(_file(timed, "s1-edge-1", "frr.conf"))
    i = lines.index(" bgp graceful-restart restart-time 60")
    assert lines[i + 1] == " bgp graceful-restart"
    off = replace_host(d, "s1-edge-1", bgp={**bgp, "graceful_restart": False})
    text = _file(off, "s1-edge-1", "frr.conf")
    assert "graceful-restart" not in text and "check-control-plane-failure" not in text
    assert " neighbor 10.12.12.1 bfd" in _lines(text)


def test_server_default_route_over_every_edge() -> None:
    d = _design()
    bird = _file(d, "s2-server-1", "bird.conf")
    lines = _lines(bird)
    assert "  route 0.0.0.0/0 via 10.12.13.254 bfd via 10.12.13.253 bfd;" in lines
    assert "protocol kernel kernel_default {" in lines and "  persist on;" in lines
    assert '      if proto = "static_default" then accept;' in lines
    # the BGP export still announces only the anycast statics
    assert lines.count('      if proto = "static_bgp" then {') == 2
    assert lines.count("  graceful restart on;") == 3  # two BGP sessions + the kernel protocol
    assert lines.count("  graceful restart time 120;") == 2
    # ifupdown sets no gateway: BIRD owns the default route
    assert "gateway" not in _file(d, "s2-server-1", "interfaces")
    # without BFD: the same route, no bfd on its next hops
    plain = replace_host(d, "s2-server-1", bfd=Bfd(enabled=False))
    assert ("  route 0.0.0.0/0 via 10.12.13.254 via 10.12.13.253;"
            in _lines(_file(plain, "s2-server-1", "bird.conf")))


def test_default_route_is_per_family() -> None:
    """default_routes groups the gateways by family: an IPv6 family with several gateways gets
    its own static (ipv6 channel) and kernel protocol (one channel per kernel protocol); the
    IPv4 one is unchanged. (The IPv6 gateways are `gateway6`, docs/ipv6.md: it feeds
    render.bird.server_gateways.)"""
    d = _design()
    dual = replace_host(d, "s1-server-1", interfaces=[{
        "name": "eth0", "addresses": ["10.12.12.1/24", "fd00:12:1::1/64"],
        "gateway": ["10.12.12.254", "10.12.12.253"],
        "gateway6": ["fd00:12:1::254", "fd00:12:1::253"]}])
    routes = default_routes(dual.hosts["s1-server-1"])
    assert [(r.prefix, r.channel, r.static, r.kernel, r.next_hops) for r in routes] == [
        ("0.0.0.0/0", "ipv4", "static_default", "kernel_default",
         ("10.12.12.254", "10.12.12.253")),
        ("::/0", "ipv6", "static_default6", "kernel_default6",
         ("fd00:12:1::254", "fd00:12:1::253"))]
    f = render_host(dual.hosts["s1-server-1"], dual)["bird.conf"]
    lines = _lines(f.content)
    assert "  route ::/0 via fd00:12:1::254 bfd via fd00:12:1::253 bfd;" in lines
    assert "protocol kernel kernel_default6 {" in lines
    assert '      if proto = "static_default6" then accept;' in lines
    assert check_file(f, "s1-server-1/bird.conf") is not None
    one_v6 = replace_host(d, "s1-server-1", interfaces=[{
        "name": "eth0", "addresses": ["10.12.12.1/24", "fd00:12:1::1/64"],
        "gateway": ["10.12.12.254", "10.12.12.253"], "gateway6": "fd00:12:1::254"}])
    assert [r.prefix for r in default_routes(one_v6.hosts["s1-server-1"])] == ["0.0.0.0/0"]


def test_one_gateway_is_ifupdowns_as_before() -> None:
    d = _design()
    one = replace_host(d, "s1-server-1", interfaces=[
        {"name": "eth0", "addresses": ["10.12.12.1/24"], "gateway": ["10.12.12.254"]}])
    bird = _file(one, "s1-server-1", "bird.conf")
    assert "static_default" not in bird and "protocol kernel" not in bird
    assert "    gateway 10.12.12.254" in _lines(_file(one, "s1-server-1", "interfaces"))


def _bird(root: Path, text: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    conf = tmp_path / "bird.conf"
    conf.write_text(text)
    return subprocess.run([*root_argv(root, "usr/sbin/bird"), "-p", "-c", str(conf)],
                          capture_output=True, text=True, timeout=30, check=False)


@pytest.mark.parametrize(("image", "version"), [("debian13", "BIRD version 2.17"),
                                                ("debian13-bird3", "BIRD version 3.1")])
def test_server_bird_conf_passes_bird_217_and_31(image: str, version: str,
                                                 tmp_path: Path) -> None:
    root = find_root(image, "usr/sbin/bird")
    if root is None:
        pytest.skip(f"no {image} root here (lab images)")
    got = subprocess.run([*root_argv(root, "usr/sbin/bird"), "--version"], capture_output=True,
                         text=True, timeout=30, check=False)
    assert version in got.stdout + got.stderr
    d = _design()
    for server in ("s1-server-1", "s2-server-2"):
        res = _bird(root, _file(d, server, "bird.conf"), tmp_path)
        assert res.returncode == 0, res.stdout + res.stderr
    bad = _bird(root, _file(d, "s1-server-1", "bird.conf").replace(" bfd via", " bfdx via"),
                tmp_path)
    assert bad.returncode != 0, "bird -p accepted a broken file: the check cannot fail"


def test_bird3_server_renders_the_same_default_route() -> None:
    d = replace_host(_design(), "s1-server-1", bird_version=3)
    f = render_host(d.hosts["s1-server-1"], d)["bird.conf"]
    assert f.checker == "bird3"
    assert "  route 0.0.0.0/0 via 10.12.12.254 bfd via 10.12.12.253 bfd;" in _lines(f.content)
