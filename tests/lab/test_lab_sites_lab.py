"""`lab up --sites 2 --edges 2 --servers 2` on the namespace kind, for real (needs root).

The lab is built through the command line under a prefix of its own (`<prefix>ms`, beside the
session's lab), only while this module runs, and always removed (`lab down`), also when building
it or a test failed; the last test checks that `lab down` left nothing. `lab up` makes the
namespaces and links and leaves addresses to deploy (docs/getting-started.md): here each host
gets the addresses and sysctls deploy's network step would set (device.linux_net), and every
BGP neighbour address is pinged from the host that names it, over IPv4 and IPv6, which proves
each link joins the hosts the inventory says. No packet leaves the lab's namespaces.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from lab_fixtures import ROOT, image_prefix, prefix_env, project_root_env, session_lock

from nornir_anycast.design.build import build_design
from nornir_anycast.design.model import Design
from nornir_anycast.device.linux_net import NetState, desired_state, plan
from nornir_anycast.inventory.loader import load_nornir
from nornir_anycast.lab import netns, procs
from nornir_anycast.lab import state as lab_state
from nornir_anycast.lab import status as lab_status
from nornir_anycast.lab.inventory_gen import site_hosts
from nornir_anycast.lab.prefix import lab_prefix
from nornir_anycast.settings import lab_dir

TASKS = [sys.executable, str(ROOT / "tasks.py")]
SHAPE = ("2", "2", "2")
HOSTS = list(site_hosts(2, 2, 2))


pytestmark = pytest.mark.lab


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*TASKS, *args], capture_output=True, text=True, timeout=300,
                          check=False, cwd=ROOT)


class SiteLab:
    """The running 2x2x2 lab: its inventory (as generated), its design and `lab up`'s output."""

    def __init__(self, up: subprocess.CompletedProcess[str]) -> None:
        self.up = up
        self.prefix = lab_prefix()
        self.inventory = lab_dir() / "inventory"
        self.hosts: dict[str, Any] = yaml.safe_load(
            (self.inventory / "hosts.yaml").read_text(encoding="utf-8"))
        nr = load_nornir(self.inventory)
        try:
            self.design: Design = build_design(nr)
        finally:
            nr.close_connections()

    def ns(self, host: str) -> str:
        return f"{self.prefix}-{host}"

    def run(self, host: str, argv: list[str]) -> subprocess.CompletedProcess[str]:
        return lab_status.run(host, argv)


@pytest.fixture(scope="module")
def site_lab() -> Iterator[SiteLab]:
    if os.geteuid() != 0:
        pytest.skip("lab tests need root (network namespaces, FRR, BIRD)")
    with project_root_env(), prefix_env(image_prefix("ms")), session_lock():
        try:
            up = cli("lab", "up", "--sites", SHAPE[0], "--edges", SHAPE[1],
                     "--servers", SHAPE[2])
            assert up.returncode == 0, up.stdout + up.stderr
            yield SiteLab(up)
        finally:
            down = cli("lab", "down")
            assert down.returncode == 0, down.stdout + down.stderr


def test_up_prints_the_generated_inventory_and_status_names_it(site_lab: SiteLab) -> None:
    assert str(site_lab.inventory) in site_lab.up.stdout, site_lab.up.stdout
    assert f"lab up: {len(HOSTS)} hosts" in site_lab.up.stdout
    st = cli("lab", "status", "--json")
    assert st.returncode == 0, st.stdout + st.stderr
    data = json.loads(st.stdout)
    assert data["inventory"] == str(site_lab.inventory)
    assert data["ok"] is True
    assert [h["host"] for h in data["hosts"]] == HOSTS
    assert all(h["ssh"] for h in data["hosts"])


def test_every_namespace_exists(site_lab: SiteLab) -> None:
    loaded = lab_state.load()
    assert loaded is not None
    topology, _ = loaded
    assert topology.switches == [f"{site_lab.prefix}-sw-1", f"{site_lab.prefix}-sw-2"]
    assert set(netns.list_netns()) == {site_lab.ns(h) for h in HOSTS} | set(topology.switches)
    frr = {h.name for h in topology.hosts.values() if h.runs_frr}
    assert frr == {h for h in HOSTS if h.startswith(("upstream-", "s1-edge", "s2-edge"))}


def test_every_link_is_up_and_stays_in_the_lab(site_lab: SiteLab) -> None:
    lab_namespaces = set(netns.list_netns())
    for host, h in site_lab.hosts.items():
        links = netns.links(site_lab.ns(host))
        ids = netns.nsid_names(site_lab.ns(host))
        for itf in h["data"]["interfaces"]:
            link = links.get(itf["name"])
            assert link is not None, (host, itf["name"])
            assert "UP" in link["flags"], (host, link)
            assert (link.get("linkinfo") or {}).get("info_kind") == "veth", (host, link)
            assert ids.get(link["link_netnsid"]) in lab_namespaces, (host, link)


def _apply_network(site_lab: SiteLab, host: str) -> None:
    """What deploy's network step does on a fresh host: addresses, links up, sysctls (the
    default route is left out: it is not needed to reach a neighbour on its link)."""
    desired = desired_state(site_lab.design.hosts[host])
    fresh = NetState(addresses={n: set() for n in desired.addresses},
                     link_up={n: False for n in desired.link_up})
    for change in plan(desired, fresh):
        if change.command.startswith(("ip addr add", "ip link set", "sysctl")):
            done = site_lab.run(host, ["sh", "-c", change.command])
            assert done.returncode == 0, (host, change.command, done.stderr)


@pytest.fixture(scope="module")
def addressed(site_lab: SiteLab) -> SiteLab:
    with project_root_env(), prefix_env(site_lab.prefix):
        for host in HOSTS:
            _apply_network(site_lab, host)
    return site_lab


def test_every_address_is_configured_v4_and_v6(addressed: SiteLab) -> None:
    with project_root_env(), prefix_env(addressed.prefix):
        for host, h in addressed.hosts.items():
            shown = json.loads(addressed.run(host, ["ip", "-j", "addr", "show"]).stdout)
            have = {(link["ifname"], f"{a['local']}/{a['prefixlen']}")
                    for link in shown for a in link.get("addr_info", [])}
            flags = {f"{a['local']}/{a['prefixlen']}": a for link in shown
                     for a in link.get("addr_info", [])}
            want = {(itf["name"], a) for itf in h["data"]["interfaces"] for a in itf["addresses"]}
            want |= {("lo", a) for a in h["data"].get("loopback", [])}
            assert want <= have, (host, sorted(want - have))
            assert any(":" in a for _, a in want), host  # dual-stack everywhere
            for _, a in want:
                assert not flags[a].get("tentative") and not flags[a].get("dadfailed"), (host, a)


def test_routers_forward_ipv4_and_ipv6(addressed: SiteLab) -> None:
    with project_root_env(), prefix_env(addressed.prefix):
        for host in HOSTS:
            router = host.startswith(("upstream-", "s1-edge", "s2-edge"))
            out = addressed.run(host, ["sysctl", "-n", "net.ipv4.ip_forward",
                                       "net.ipv6.conf.all.forwarding"]).stdout.split()
            assert out == (["1", "1"] if router else ["0", "0"]), (host, out)


#: One ICMP echo (v4 or v6) to argv[1], exit 0 on the reply (the machine has no ping(8)).
PING = """
import ipaddress, os, socket, sys, time
ip = ipaddress.ip_address(sys.argv[1])
v6 = ip.version == 6
s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_RAW,
                  socket.IPPROTO_ICMPV6 if v6 else socket.IPPROTO_ICMP)
s.settimeout(0.5)
ident = os.getpid() & 0xFFFF
def csum(b):
    b += bytes(len(b) % 2)
    t = sum(int.from_bytes(b[i:i + 2], 'big') for i in range(0, len(b), 2))
    t = (t >> 16) + (t & 0xFFFF)
    return ~(t + (t >> 16)) & 0xFFFF
kind, reply = (128, 129) if v6 else (8, 0)
body = ident.to_bytes(2, 'big') + (1).to_bytes(2, 'big') + b'na-lab'
head = bytes([kind, 0, 0, 0])
pkt = head[:2] + (0 if v6 else csum(head + body)).to_bytes(2, 'big') + body
deadline = time.monotonic() + 3
while time.monotonic() < deadline:
    s.sendto(pkt, (str(ip), 0))
    try:
        while True:
            data, _ = s.recvfrom(2048)
            msg = data if v6 else data[(data[0] & 15) * 4:]
            if msg[0] == reply and msg[4:6] == body[:2]:
                sys.exit(0)
    except TimeoutError:
        pass
sys.exit(1)
"""


def _ping(lab: SiteLab, host: str, address: str) -> subprocess.CompletedProcess[str]:
    return lab.run(host, ["python3", "-c", PING, address])


def test_every_neighbour_answers_on_its_link_v4_and_v6(addressed: SiteLab) -> None:
    pairs = 0
    with project_root_env(), prefix_env(addressed.prefix):
        for host, h in addressed.hosts.items():
            for nb in h["data"].get("bgp", {}).get("neighbors", []):
                done = _ping(addressed, host, nb["address"])
                assert done.returncode == 0, (host, nb["description"], nb["address"],
                                              done.stderr)
                pairs += 1
        # client -> its upstream, both families (clients have no BGP neighbour)
        for k in (1, 2):
            for target in (f"10.0.{k - 1}.254", f"fd00:10:0:{k - 1}::254"):
                done = _ping(addressed, f"client-{k}", target)
                assert done.returncode == 0, (k, target, done.stderr)
        # and the check can fail: an address nobody has gets no answer
        assert _ping(addressed, "s1-server-1", "10.12.12.99").returncode == 1
        assert _ping(addressed, "s1-server-1", "fd00:12:1::99").returncode == 1
    # servers 4 x 2 edges, edges 4 x (2 servers + upstream), upstreams 2 x (2 edges + 1): x2
    assert pairs == 2 * (8 + 12 + 6)


def test_deploy_and_verify_pass_on_every_edge_upstream_and_client_in_both_families(
        addressed: SiteLab) -> None:
    """Issue 13's "done when": deploy, then `verify --wait 90`, on the generated inventory:
    every edge's ECMP set, every upstream's site preference and every client's HTTP, for the
    /32 and the /128."""
    dep = cli("deploy", "-i", str(addressed.inventory))
    assert dep.returncode == 0, dep.stdout[-3000:] + dep.stderr[-2000:]
    out = addressed.inventory.parent / "verify.json"
    ver = cli("verify", "-i", str(addressed.inventory), "--wait", "90", "--json", str(out))
    assert ver.returncode == 0, ver.stdout[-4000:] + ver.stderr[-2000:]
    checks = json.loads(out.read_text())["checks"]
    assert all(c["passed"] for c in checks)

    def hosts_of(name: str, family: int) -> set[str]:
        return {c["host"] for c in checks if c["name"] == name
                and ("fd00:" in json.dumps(c["expected"])) == (family == 6)}  # the lab's ULA

    edges = {h for h in HOSTS if "-edge-" in h}
    for family in (4, 6):
        assert hosts_of("edge_multipath", family) == edges, family
        assert hosts_of("edge_kernel_route", family) == edges, family
        assert hosts_of("upstream_anycast_route", family) == {"upstream-1", "upstream-2"}
        assert hosts_of("http_anycast", family) == {"client-1", "client-2"}, family
    http = {(c["host"], c["expected"]["target"]): c["expected"]["servers"] for c in checks
            if c["name"] == "http_anycast"}
    for k in (1, 2):  # no site is standby: each client is served by its own site only
        want = [f"s{k}-server-1", f"s{k}-server-2"]
        assert http[(f"client-{k}", "http://10.13.13.1/file")] == want
        assert http[(f"client-{k}", "http://[fd00:13::1]/file")] == want
    six = addressed.run("client-1", ["curl", "-g", "-s", "-f", "--max-time", "3",
                                     "http://[fd00:13::1]/file"])
    assert six.returncode == 0 and six.stdout.strip() in ("s1-server-1", "s1-server-2"), six


def test_down_removes_everything() -> None:
    """Runs last in this module: the fixture's `lab down` has not run yet, so do it here and
    check nothing of the lab is left (the fixture's second `down` then finds nothing)."""
    if os.geteuid() != 0:
        pytest.skip("lab tests need root")
    with project_root_env(), prefix_env(image_prefix("ms")):
        down = cli("lab", "down")
        assert down.returncode == 0, down.stdout + down.stderr
        assert netns.list_netns() == []
        assert procs.lab_inits() == {}
        assert not lab_dir().exists()
        again = cli("lab", "down")
        assert "nothing to remove" in again.stdout
