"""A server's default route over two edges, for real: the two-sites inventory's s1-server-1
(BIRD 2, its rendered bird.conf) on one LAN with s1-edge-1 and s1-edge-2 (FRR 8.4, their
rendered frr.conf), each host in its own network namespace.

BIRD's `static_default` (a multipath route, a BFD session per next hop) goes to the server's
kernel with both edges as next hops; when one edge's link is cut, BFD (100 ms x 3) takes that
next hop out and the default route keeps the other. The BGP sessions come up on both edges,
with graceful restart negotiated. Everything is torn down, also when the test fails.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from designs import design_of

from nornir_anycast.render import render_host

pytestmark = pytest.mark.lab

FRR_DAEMONS = ("zebra", "bgpd", "staticd", "bfdd")


def _run(*argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), capture_output=True, text=True, timeout=60, check=check)


def _ns(ns: str, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return _run("ip", "netns", "exec", ns, *argv, check=check)


class Lab:
    """Three namespaces (server, edge-1, edge-2) and a bridge namespace for their LAN."""

    def __init__(self, tmp: Path) -> None:
        tag = f"n13m{os.getpid() % 10000}"
        self.tmp = tmp
        self.ns = {"lan": f"{tag}lan", "s1-server-1": f"{tag}srv", "s1-edge-1": f"{tag}e1",
                   "s1-edge-2": f"{tag}e2"}
        self.pids: list[int] = []
        self.frr_dirs: list[Path] = []

    def up(self) -> None:
        for ns in self.ns.values():
            _run("ip", "netns", "add", ns)
            _run("ip", "-n", ns, "link", "set", "lo", "up")
        lan = self.ns["lan"]
        _run("ip", "-n", lan, "link", "add", "br0", "type", "bridge")
        _run("ip", "-n", lan, "link", "set", "br0", "up")
        design = design_of("tests/inventories/two-sites")
        for host, itf in (("s1-server-1", "eth0"), ("s1-edge-1", "eth1"), ("s1-edge-2", "eth1")):
            ns, port = self.ns[host], f"p{self.ns[host][-3:]}"
            _run("ip", "link", "add", itf, "netns", ns, "type", "veth", "peer", "name", port,
                 "netns", lan)
            _run("ip", "-n", lan, "link", "set", port, "master", "br0", "up")
            for a in design.hosts[host].interfaces[-1 if host != "s1-server-1" else 0].addresses:
                _run("ip", "-n", ns, "addr", "add", a, "dev", itf)
            _run("ip", "-n", ns, "link", "set", itf, "up")
        for host in ("s1-edge-1", "s1-edge-2"):
            self._frr(host, render_host(design.hosts[host], design)["frr.conf"].content)
        self._bird(render_host(design.hosts["s1-server-1"], design)["bird.conf"].content)

    def _frr(self, host: str, conf: str) -> None:
        name = self.ns[host]
        rundir, confdir = Path("/var/run/frr") / name, Path("/etc/frr") / name
        for folder in (rundir, confdir):
            folder.mkdir(parents=True)
            shutil.chown(folder, "frr", "frr")
            self.frr_dirs.append(folder)
        (confdir / "vtysh.conf").write_text("service integrated-vtysh-config\n")
        _ns(name, "sysctl", "-qw", "net.ipv4.ip_forward=1")
        start = "; ".join(
            f"/usr/lib/frr/{d} -d -N {name} -F traditional -i {rundir}/{d}.pid -f /dev/null"
            for d in FRR_DAEMONS)
        _ns(name, "unshare", "-u", "sh", "-c", f"hostname {host} && {start}")
        deadline = time.monotonic() + 20
        while not all((rundir / f"{d}.vty").exists() for d in FRR_DAEMONS):
            assert time.monotonic() < deadline, f"FRR did not start for {host}"
            time.sleep(0.1)
        for d in FRR_DAEMONS:
            self.pids.append(int((rundir / f"{d}.pid").read_text()))
        conf_path = self.tmp / f"{host}.conf"
        conf_path.write_text(conf)
        res = _ns(name, "unshare", "-u", "sh", "-c",
                  f"hostname {host} && /usr/lib/frr/frr-reload.py --reload -N {name} {conf_path}",
                  check=False)
        assert res.returncode == 0, res.stdout + res.stderr

    def _bird(self, conf: str) -> None:
        path, ctl, pid = (self.tmp / "bird.conf", self.tmp / "bird.ctl", self.tmp / "bird.pid")
        path.write_text(conf)
        _ns(self.ns["s1-server-1"], "bird", "-c", str(path), "-s", str(ctl), "-P", str(pid))
        deadline = time.monotonic() + 10
        while not pid.exists():
            assert time.monotonic() < deadline, "BIRD did not start"
            time.sleep(0.1)
        self.pids.append(int(pid.read_text()))

    def default_route(self) -> list[str]:
        out = _ns(self.ns["s1-server-1"], "ip", "-j", "route", "show", "default").stdout
        hops: list[str] = []
        for r in json.loads(out or "[]"):
            if r.get("gateway"):
                hops.append(r["gateway"])
            hops += [n["gateway"] for n in r.get("nexthops", []) if n.get("gateway")]
        return sorted(hops)

    def vtysh(self, host: str, command: str) -> str:
        return _run("vtysh", "-N", self.ns[host], "-c", command).stdout

    def down(self) -> None:
        for p in self.pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(p, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(Path(f"/proc/{p}").exists() for p in self.pids):
            time.sleep(0.1)
        for p in self.pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(p, signal.SIGKILL)
        for d in self.frr_dirs:
            shutil.rmtree(d, ignore_errors=True)
        for ns in self.ns.values():
            _run("ip", "netns", "del", ns, check=False)


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    lab = Lab(tmp_path)
    try:
        lab.up()
        yield lab
    finally:
        lab.down()


def _wait(what: str, check: object, timeout: float) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if callable(check) and check():
            return time.monotonic() - start
        time.sleep(0.02)
    pytest.fail(f"{what} not within {timeout} s")


def test_default_route_over_both_edges_and_a_dead_edge_leaves_it(lab: Lab) -> None:
    both = ["10.12.12.253", "10.12.12.254"]
    _wait("default route via both edges", lambda: lab.default_route() == both, 30)
    for edge in ("s1-edge-1", "s1-edge-2"):
        _wait(f"BGP on {edge}", lambda e=edge: "10.13.13.1/32" in lab.vtysh(
            e, "show ip bgp"), 30)
        neighbor = lab.vtysh(edge, "show ip bgp neighbors 10.12.12.1")
        assert "Graceful Restart Capability: advertised and received" in neighbor, neighbor
    # edge-2's link cut: no goodbye, BFD (100 ms x 3) must notice
    _run("ip", "-n", lab.ns["s1-edge-2"], "link", "set", "eth1", "down")
    took = _wait("next hop 10.12.12.253 gone", lambda: lab.default_route() == ["10.12.12.254"],
                 5)
    print(f"dead edge out of the server's default route after {took * 1000:.0f} ms")
    assert took < 2.0, f"the dead edge left the default route after {took:.2f} s"
    _run("ip", "-n", lab.ns["s1-edge-2"], "link", "set", "eth1", "up")
    _wait("edge-2 back in the default route", lambda: lab.default_route() == both, 30)
