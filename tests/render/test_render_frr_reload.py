"""Rendered frr.conf is what FRR itself prints back: loading it into real FRR 8.4 daemons and
asking `frr-reload.py --test` for the difference yields no lines (so a deploy with nothing to
change changes nothing).

Each test runs zebra, bgpd, staticd and bfdd in its own network namespace and FRR path space
(`-N`), under a UTS namespace whose hostname is the inventory host's name (FRR prints the
daemons' hostname; frr-reload.py compares it). Forwarding is set as a router has it: IPv4 on,
IPv6 off. Everything is torn down, also when the test fails.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from paths import ROOT

from nornir_anycast.design.build import build_design, derive_services
from nornir_anycast.design.model import Bfd, BgpTimers, Design, HostModel
from nornir_anycast.inventory.loader import load_nornir
from nornir_anycast.render import render_host

pytestmark = pytest.mark.lab

FRR_RELOAD = "/usr/lib/frr/frr-reload.py"
DAEMONS = ("zebra", "bgpd", "staticd", "bfdd")


@dataclass
class FrrInstance:
    name: str  # netns name and FRR path space
    hostname: str
    rundir: Path
    confdir: Path

    def in_uts(self, command: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """Run a shell command with this instance's hostname (a private UTS namespace)."""
        return subprocess.run(
            ["unshare", "-u", "sh", "-c", f"hostname {self.hostname} && {command}"],
            capture_output=True, text=True, timeout=timeout, check=False)

    def vtysh(self, *commands: str) -> str:
        argv = ["vtysh", "-N", self.name]
        for c in commands:
            argv += ["-c", c]
        return subprocess.run(argv, capture_output=True, text=True, timeout=30,
                              check=True).stdout

    def reload(self, conf: Path, mode: str) -> str:
        res = self.in_uts(f"{FRR_RELOAD} {mode} -N {self.name} {conf}", timeout=120)
        assert res.returncode == 0, res.stdout + res.stderr
        return res.stdout


def _pids(rundir: Path) -> list[int]:
    out = []
    for d in DAEMONS:
        pidfile = rundir / f"{d}.pid"
        if pidfile.is_file():
            with contextlib.suppress(ValueError):
                out.append(int(pidfile.read_text().strip()))
    return out


@pytest.fixture
def frr_instance(request: pytest.FixtureRequest) -> Iterator[FrrInstance]:
    hostname: str = request.param
    name = f"natr{os.getpid() % 100000}{hostname.replace('-', '')[:4]}"
    rundir = Path("/var/run/frr") / name
    confdir = Path("/etc/frr") / name
    subprocess.run(["ip", "netns", "add", name], check=True)
    inst = FrrInstance(name, hostname, rundir, confdir)
    try:
        subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True)
        for key, value in (("net.ipv4.ip_forward", "1"), ("net.ipv6.conf.all.forwarding", "0")):
            subprocess.run(["ip", "netns", "exec", name, "sysctl", "-qw", f"{key}={value}"],
                           check=True)
        rundir.mkdir(parents=True)
        shutil.chown(rundir, "frr", "frr")
        confdir.mkdir(parents=True)
        (confdir / "vtysh.conf").write_text("service integrated-vtysh-config\n")
        start = "; ".join(
            f"/usr/lib/frr/{d} -d -N {name} -F traditional -i {rundir}/{d}.pid -f /dev/null"
            for d in DAEMONS)
        res = subprocess.run(
            ["ip", "netns", "exec", name, "unshare", "-u", "sh", "-c",
             f"hostname {hostname} && {start}"],
            capture_output=True, text=True, timeout=60, check=False)
        assert res.returncode == 0, res.stderr
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if all((rundir / f"{d}.vty").exists() for d in DAEMONS):
                break
            time.sleep(0.1)
        else:
            pytest.fail(f"FRR daemons did not come up in {name}: {res.stderr}")
        yield inst
    finally:
        pids = _pids(rundir)
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(Path(f"/proc/{p}").exists() for p in pids):
            time.sleep(0.1)
        for pid in pids:
            if Path(f"/proc/{pid}").exists():
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(rundir, ignore_errors=True)
        shutil.rmtree(confdir, ignore_errors=True)
        subprocess.run(["ip", "netns", "del", name], check=False)


def _design() -> Design:
    return build_design(load_nornir(ROOT / "inventory"))


def _variant(design: Design, host: str, **update: object) -> Design:
    hosts = dict(design.hosts)
    hosts[host] = HostModel.model_validate(
        {**hosts[host].model_dump(exclude_unset=True), **update})
    return Design(hosts=hosts, services=derive_services(hosts))


def _diff_lines(frr_reload_output: str) -> list[str]:
    """The lines frr-reload.py --test lists under "Lines To Delete" / "Lines To Add"."""
    out = []
    for line in frr_reload_output.splitlines():
        s = line.strip()
        if not s or s.startswith("=") or s in ("Lines To Delete", "Lines To Add"):
            continue
        out.append(s)
    return out


VARIANTS = {
    "default": {},
    "bfd-and-default-timers": {"bfd": Bfd(enabled=True, interval_ms=100, multiplier=5),
                               "bgp_timers": BgpTimers()},
}


@pytest.mark.parametrize("frr_instance", ["edge", "isp"], indirect=True)
@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_rendered_frr_conf_is_stable_under_frr_reload(
        frr_instance: FrrInstance, variant: str, tmp_path: Path) -> None:
    host = frr_instance.hostname
    design = _variant(_design(), host, **VARIANTS[variant])
    rendered = render_host(design.hosts[host], design)["frr.conf"]
    conf = tmp_path / "frr.conf"
    conf.write_text(rendered.content)

    before = _diff_lines(frr_instance.reload(conf, "--test"))
    assert any("router bgp" in ln for ln in before)  # a fresh FRR differs: the test can fail

    frr_instance.reload(conf, "--reload")
    running = frr_instance.vtysh("show running-config")
    assert f"router bgp {design.hosts[host].asn}" in running
    if host == "edge":
        assert "maximum-paths ibgp 2" in running
        assert "ip prefix-list ANYCAST seq 5 permit 10.13.13.1/32" in running
        # the export policy to the servers, in the form FRR prints it
        assert "route-map SERVERS-OUT deny 10" in running.splitlines()
        assert "  neighbor 10.12.12.1 route-map SERVERS-OUT out" in running.splitlines()

    after = _diff_lines(frr_instance.reload(conf, "--test"))
    assert after == [], f"frr-reload.py --test still sees differences: {after}"

    # Every line of the rendered file is in the running config as FRR prints it.
    running_lines = {ln.rstrip() for ln in running.splitlines()}
    missing = [ln for ln in rendered.content.splitlines()
               if ln.strip() not in ("!", "") and ln.rstrip() not in running_lines]
    assert missing == []


@pytest.mark.parametrize("frr_instance", ["edge", "isp"], indirect=True)
def test_dual_stack_frr_conf_is_stable_under_frr_reload(frr_instance: FrrInstance,
                                                        tmp_path: Path) -> None:
    """tests/inventories/dual-stack (docs/ipv6.md): the ipv6 unicast address family, the IPv6
    neighbors' `no neighbor X activate` in ipv4 unicast, ipv6 routes and prefix lists are
    written as FRR 8.4 prints them. IPv6 forwarding is on, as deploy sets it on a dual-stack
    router (render.linux.sysctls)."""
    host = frr_instance.hostname
    subprocess.run(["ip", "netns", "exec", frr_instance.name, "sysctl", "-qw",
                    "net.ipv6.conf.all.forwarding=1"], check=True)
    design = build_design(load_nornir(ROOT / "tests/inventories/dual-stack"))
    rendered = render_host(design.hosts[host], design)["frr.conf"]
    conf = tmp_path / "frr.conf"
    conf.write_text(rendered.content)
    assert any("router bgp" in ln for ln in _diff_lines(frr_instance.reload(conf, "--test")))

    frr_instance.reload(conf, "--reload")
    running = frr_instance.vtysh("show running-config").splitlines()
    assert " address-family ipv6 unicast" in running
    if host == "edge":
        assert "  no neighbor fd00:12:1::1 activate" in running
        assert "  neighbor fd00:12:1::1 route-map SERVERS-IN6-server-1 in" in running
        assert "ipv6 prefix-list ANYCAST6 seq 5 permit fd00:13::1/128" in running
    else:
        assert "ipv6 route ::/0 blackhole" in running

    after = _diff_lines(frr_instance.reload(conf, "--test"))
    assert after == [], f"frr-reload.py --test still sees differences: {after}"
    running_lines = {ln.rstrip() for ln in running}
    missing = [ln for ln in rendered.content.splitlines()
               if ln.strip() not in ("!", "") and ln.rstrip() not in running_lines]
    assert missing == []


# ---- sites (issue 13): the two-sites test inventory's routers, with graceful restart, eBGP
# multipath, advertisement interval, BFD towards upstreams and the standby prepend.

SITES_CASES = {
    "upstream-1": {},
    "s2-edge-1": {},  # standby: EBGP-OUT prepends
    "s1-edge-2": {"graceful_restart_time": 60},
}


@pytest.mark.parametrize("frr_instance", sorted(SITES_CASES), indirect=True)
def test_sites_frr_conf_is_stable_under_frr_reload(frr_instance: FrrInstance,
                                                   tmp_path: Path) -> None:
    host = frr_instance.hostname
    design = build_design(load_nornir(ROOT / "tests" / "inventories" / "two-sites"))
    bgp = {**design.hosts[host].bgp.model_dump(), **SITES_CASES[host]}
    design = _variant(design, host, bgp=bgp)
    rendered = render_host(design.hosts[host], design)["frr.conf"]
    conf = tmp_path / "frr.conf"
    conf.write_text(rendered.content)
    assert "bgp graceful-restart" in rendered.content
    assert "bfd check-control-plane-failure" in rendered.content

    frr_instance.reload(conf, "--reload")
    running = frr_instance.vtysh("show running-config")
    after = _diff_lines(frr_instance.reload(conf, "--test"))
    assert after == [], f"frr-reload.py --test still sees differences: {after}"
    running_lines = {ln.rstrip() for ln in running.splitlines()}
    missing = [ln for ln in rendered.content.splitlines()
               if ln.strip() not in ("!", "") and ln.rstrip() not in running_lines]
    assert missing == []
