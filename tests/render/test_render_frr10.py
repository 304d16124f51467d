"""Rendered frr.conf with Debian 13's FRR 10.3: `vtysh -C` accepts it, and loaded into running
FRR 10.3 daemons, `frr-reload.py --test` sees no difference (a deploy with nothing to change
changes nothing), for the edge and the ISP, with and without BFD and the lab's timers.

The files are rendered for FRR 10.3 (`frr_version`, or the inventory's Debian 13): the same
text as for FRR 8.4 but for one line per BFD'd edge -> server neighbor (no `update-source`:
nornir_anycast.render.frr's docstring, FRR issue #19077). Everything else FRR 10 changed is
the same for our configs under `frr defaults traditional`, checked with FRR 10.3 itself here:
`bgp ebgp-requires-policy` is on in both (every eBGP session has route-maps in and out),
`bgp default ipv4-unicast`, `bgp network import-check`, `bgp suppress-fib-pending` and
graceful restart print nothing (the ISP's `network 0.0.0.0/0` has its blackhole static route
in the RIB either way), and FRR 10's `show running-config` differs only in its order
(prefix-lists and route-maps first), which frr-reload.py does not compare.

The daemons (mgmtd, which FRR 10 requires, zebra, bgpd, staticd, bfdd) run from an overlay of
the Debian 13 root (tests/debian13.py), chrooted, in a network namespace whose hostname is the
inventory host's name (FRR prints the system hostname; frr-reload.py compares it). Forwarding
is set as deploy sets it on a router (IPv4 on: device/linux_net.py).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from debian13 import Debian13Host, require_root
from designs import design_of, replace_host
from paths import ROOT

from nornir_anycast.design.model import Bfd, BgpTimers
from nornir_anycast.render import render_host

pytestmark = pytest.mark.lab

DAEMONS = ("mgmtd", "zebra", "bgpd", "staticd", "bfdd")
VARIANTS: dict[str, dict[str, object]] = {
    "default": {},
    "bfd-and-default-timers": {"bfd": Bfd(enabled=True, interval_ms=100, multiplier=5),
                               "bgp_timers": BgpTimers()},
}


def _diff_lines(frr_reload_output: str) -> list[str]:
    """The lines frr-reload.py --test lists under "Lines To Delete" / "Lines To Add"."""
    out = []
    section = False
    for line in frr_reload_output.splitlines():
        s = line.strip()
        if s in ("Lines To Delete", "Lines To Add"):
            section = True
            continue
        if section and s and not s.startswith("="):
            out.append(s)
    return out


def _frr_root() -> Path:
    return require_root("debian13", "usr/lib/frr/frr-reload.py")


def _start_frr(host: Debian13Host) -> None:
    host.run("mkdir -p /run/frr && chown frr:frr /run/frr")
    for d in DAEMONS:
        host.start(f"exec /usr/lib/frr/{d} -F traditional")
        deadline = time.monotonic() + 20
        while not host.path(f"/run/frr/{d}.vty").exists():
            if time.monotonic() > deadline:
                pytest.fail(f"FRR 10.3 {d} did not start: "
                            + "\n".join(p.read_text() for p in host.base.glob("start-*.log")))
            time.sleep(0.1)


#: The inventories with FRR routers (the Debian 13 ones once they exist), host by host.
FRR_INVENTORIES = [inv for inv in ("inventory", "inventory/lab-dnat", "inventory/lab-debian13",
                                   "inventory/lab-debian13-bird3", "tests/inventories/dual-stack")
                   if (ROOT / inv).is_dir()]
#: Inventories whose routers forward IPv6 too (deploy sets it: render.linux.sysctls).
DUAL_STACK = ("tests/inventories/dual-stack",)


def _rendered(host_name: str, variant: str, inventory: str = "inventory") -> str:
    """The host's frr.conf as rendered for FRR 10.3 (`frr_version`, unless the inventory says)."""
    design = design_of(inventory)
    update: dict[str, object] = dict(VARIANTS[variant])
    if design.hosts[host_name].frr_version is None:
        update["frr_version"] = "10.3"
    design = replace_host(design, host_name, **update)
    return render_host(design.hosts[host_name], design)["frr.conf"].content


@pytest.mark.parametrize("inventory", FRR_INVENTORIES)
@pytest.mark.parametrize("host_name", ["edge", "isp"])
def test_frr10_vtysh_check_accepts_rendered_config(host_name: str, inventory: str) -> None:
    root = _frr_root()
    with Debian13Host(root, host_name) as host:
        host.path("/tmp/frr.conf").write_text(_rendered(host_name, "default", inventory))
        res = host.run("vtysh -C -f /tmp/frr.conf")
        assert res.returncode == 0, res.stdout + res.stderr
        host.path("/tmp/bad.conf").write_text(_rendered(host_name, "default")
                                              + "router bgp 65500\n neighbour 1.2.3.4\n")
        bad = host.run("vtysh -C -f /tmp/bad.conf")
        assert bad.returncode != 0, "vtysh -C accepted a broken file: the check cannot fail"


#: (inventory, host, variant): the seed in every variant, the other inventories as they are.
RELOAD_CASES = [("inventory", h, v) for h in ("edge", "isp") for v in sorted(VARIANTS)] + [
    (inv, h, "default") for inv in FRR_INVENTORIES[1:] for h in ("edge", "isp")]


@pytest.mark.parametrize(("inventory", "host_name", "variant"), RELOAD_CASES)
def test_frr10_reload_sees_no_difference_after_loading_rendered_config(
        inventory: str, host_name: str, variant: str) -> None:
    root = _frr_root()
    text = _rendered(host_name, variant, inventory)
    with Debian13Host(root, host_name) as host:
        for itf in ("eth0", "eth1", "eth2"):
            host.link(itf)
        host.sysctl("net.ipv4.ip_forward", "1")
        host.sysctl("net.ipv6.conf.all.forwarding", "1" if inventory in DUAL_STACK else "0")
        _start_frr(host)
        host.path("/tmp/frr.conf").write_text(text)
        reload = "/usr/lib/frr/frr-reload.py --log-level error"
        before = host.run(f"{reload} --test /tmp/frr.conf", timeout=120)
        assert before.returncode == 0, before.stdout + before.stderr
        assert any("router bgp" in ln for ln in _diff_lines(before.stdout))  # it can fail

        res = host.run(f"{reload} --reload /tmp/frr.conf", timeout=120)
        assert res.returncode == 0, res.stdout + res.stderr
        running = host.run("vtysh -c 'show running-config'").stdout
        assert "frr version 10.3" in running
        asn = design_of(inventory).hosts[host_name].asn
        assert f"router bgp {asn}" in running
        if host_name == "edge":
            assert "  maximum-paths ibgp 2" in running.splitlines()
            assert "  neighbor 10.12.12.1 route-map SERVERS-OUT out" in running.splitlines()

        after = host.run(f"{reload} --test /tmp/frr.conf", timeout=120)
        assert after.returncode == 0, after.stdout + after.stderr
        assert _diff_lines(after.stdout) == [], \
            f"FRR 10.3's frr-reload.py still sees differences:\n{after.stdout}"

        # Every line of the rendered file is in FRR 10.3's running config as it prints it.
        running_lines = {ln.rstrip() for ln in running.splitlines()}
        missing = [ln for ln in text.splitlines()
                   if ln.strip() not in ("!", "") and ln.rstrip() not in running_lines]
        assert missing == []


#: Sites (issue 13): the two-sites routers as FRR 10.3 must take them (graceful restart, BFD
#: with check-control-plane-failure towards upstreams, maximum-paths, prepend).
SITES_HOSTS = ["upstream-1", "s2-edge-1"]


@pytest.mark.parametrize("host_name", SITES_HOSTS)
def test_frr10_sites_config_is_accepted_and_stable(host_name: str) -> None:
    root = _frr_root()
    text = _rendered(host_name, "default", "tests/inventories/two-sites")
    assert "bfd check-control-plane-failure" in text
    with Debian13Host(root, host_name) as host:
        host.path("/tmp/frr.conf").write_text(text)
        res = host.run("vtysh -C -f /tmp/frr.conf")
        assert res.returncode == 0, res.stdout + res.stderr
        for itf in ("eth0", "eth1", "eth2", "eth3"):
            host.link(itf)
        host.sysctl("net.ipv4.ip_forward", "1")
        host.sysctl("net.ipv6.conf.all.forwarding", "0")
        _start_frr(host)
        reload = "/usr/lib/frr/frr-reload.py --log-level error"
        res = host.run(f"{reload} --reload /tmp/frr.conf", timeout=120)
        assert res.returncode == 0, res.stdout + res.stderr
        running = host.run("vtysh -c 'show running-config'").stdout
        after = host.run(f"{reload} --test /tmp/frr.conf", timeout=120)
        assert after.returncode == 0, after.stdout + after.stderr
        assert _diff_lines(after.stdout) == [], \
            f"FRR 10.3's frr-reload.py still sees differences:\n{after.stdout}"
        running_lines = {ln.rstrip() for ln in running.splitlines()}
        missing = [ln for ln in text.splitlines()
                   if ln.strip() not in ("!", "") and ln.rstrip() not in running_lines]
        assert missing == []
