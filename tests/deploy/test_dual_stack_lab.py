"""The dual-stack seed (docs/ipv6.md) deployed on both lab kinds, each under a prefix of its own:
tests/inventories/dual-stack on the namespace kind (FRR 8.4, BIRD 2.0), and
tests/inventories/dual-stack-debian13 on Debian 13 containers (FRR 10.3, BIRD 2.17, systemd,
ifupdown's inet6 stanzas, sudo). On each: the edge's kernel has both servers as IPv6 next hops of
fd00:13::1 (their global addresses: `set ipv6 next-hop prefer-global`), a client fetches the
page over IPv6 from both servers, each server's IPv6 session and health check announce the
/128, and the ISP learns the anycast /128 and nothing internal (EBGP-OUT6).

verify itself is not run here: its IPv6 checks (sessions per family, `show bgp ipv6 unicast`)
are the verify part of issue 13."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from designs import design_of
from lab_fixtures import Lab, bring_up, deploy_inventory, image_prefix, prefix_env, session_lock
from lab_fixtures import tear_down as lab_down
from paths import ROOT

pytestmark = pytest.mark.lab

KINDS = {"namespace": (ROOT / "tests" / "inventories" / "dual-stack", "v6"),
         "debian13": (ROOT / "tests" / "inventories" / "dual-stack-debian13", "v6d")}


@pytest.fixture(scope="module", params=sorted(KINDS))
def dual_lab(request: pytest.FixtureRequest) -> Iterator[Lab]:
    import os

    if os.geteuid() != 0:
        pytest.skip("lab tests need root (network namespaces)")
    inventory, suffix = KINDS[request.param]
    with prefix_env(image_prefix(suffix)), session_lock():
        try:
            lab = bring_up(inventory)
            with lab.env():
                report = deploy_inventory(inventory)
            assert report.ok, report.as_json()
            yield lab
        finally:
            lab_down()


def _root(lab: Lab, host: str, argv: list[str]) -> list[str]:
    """argv as root: through sudo for the image kind's operator account."""
    return argv if lab.topology.host(host).user == "root" else ["sudo", "-n", *argv]


def _wait(lab: Lab, host: str, argv: list[str], want: str, seconds: float = 30) -> str:
    deadline = time.monotonic() + seconds
    out = ""
    while time.monotonic() < deadline:
        out = lab.run(host, _root(lab, host, argv)).stdout
        if want in out and (host != "edge" or out.count("nexthop via") == 2):
            return out
        time.sleep(0.5)
    return out


def test_edge_spreads_ipv6_over_both_servers_global_addresses(dual_lab: Lab) -> None:
    out = _wait(dual_lab, "edge", ["ip", "-6", "route", "show", "fd00:13::1"],
                "nexthop via fd00:12:1::2")
    assert "nexthop via fd00:12:1::1 dev eth1" in out, out
    assert "nexthop via fd00:12:1::2 dev eth1" in out, out
    assert "fe80::" not in out, out
    sysctl = dual_lab.run("edge", ["sysctl", "-n", "net.ipv6.fib_multipath_hash_policy",
                                   "net.ipv6.conf.all.forwarding"]).stdout.split()
    assert sysctl == ["1", "1"]


def test_client_reaches_both_servers_over_ipv6(dual_lab: Lab) -> None:
    _wait(dual_lab, "edge", ["ip", "-6", "route", "show", "fd00:13::1"], "fd00:12:1::2")
    seen: dict[str, int] = {}
    for _ in range(10):
        for src in ("fd00:10::1", "fd00:10::2"):
            res = dual_lab.run("client", ["curl", "-6", "-s", "--max-time", "3", "--interface",
                                          src, "http://[fd00:13::1]/file"])
            assert res.returncode == 0, res.stderr
            seen[res.stdout.strip()] = seen.get(res.stdout.strip(), 0) + 1
    assert set(seen) == {"server-1", "server-2"}, seen
    v4 = dual_lab.run("client", ["curl", "-4", "-s", "--max-time", "3",
                                 "http://10.13.13.1/file"])
    assert v4.stdout.strip() in ("server-1", "server-2")


def test_servers_announce_the_128_over_their_ipv6_session(dual_lab: Lab) -> None:
    for server in ("server-1", "server-2"):
        protocols = _wait(dual_lab, server, ["birdc", "-s", "/run/bird/bird.ctl",
                                             "show", "protocols"], "Established")
        line = next(ln for ln in protocols.splitlines() if ln.startswith("edge_v6 "))
        assert "Established" in line, protocols
        me = design_of(dual_lab.inventory).hosts[server]
        include6 = _wait(dual_lab, server, ["cat", me.paths.healthchecker_include6],
                         "fd00:13::1/128")
        assert "fd00:13::1/128" in include6, include6


def test_isp_learns_the_anycast_128_and_nothing_internal(dual_lab: Lab) -> None:
    out = _wait(dual_lab, "isp", ["vtysh", "-c", "show bgp ipv6 unicast"], "fd00:13::1/128")
    assert "fd00:13::1/128" in out, out
    assert "fd00:12:1::" not in out and "fd00:172:16:42::" not in out.split("Network", 1)[1]
