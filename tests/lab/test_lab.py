"""The built-in lab, against real namespaces, sshd, FRR, BIRD and nginx (needs root).

Uses the session `lab` fixture (tests/lab_fixtures.py), which other test modules share and may
have deployed to: these checks hold whether or not the lab has been deployed (what a fresh lab
looks like is checked in test_lab_lifecycle.py, on a lab just built). Nothing here sends a
packet: isolation is checked with `ip route get` (a route lookup) and by inspecting links.
"""

from __future__ import annotations

import ipaddress
import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from lab_fixtures import ROOT, Lab
from netmiko import ConnectHandler
from nornir_netmiko.tasks import netmiko_send_command

from nornir_anycast.inventory.loader import load_nornir
from nornir_anycast.lab import netns, procs
from nornir_anycast.lab.status import status
from nornir_anycast.settings import lab_dir

pytestmark = pytest.mark.lab

HOSTS = ["isp", "edge", "server-1", "server-2", "client"]
ROUTERS = {"isp", "edge"}
SERVERS = {"server-1", "server-2"}
TASKS = [sys.executable, str(ROOT / "tasks.py")]


def cli(*args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*TASKS, *args], input=input, capture_output=True, text=True,
                          timeout=120, check=False, cwd=ROOT)


@pytest.mark.parametrize("host", HOSTS)
def test_host_answers_over_ssh_with_netmiko(lab: Lab, host: str) -> None:
    conn = ConnectHandler(**lab.netmiko_params(host))
    try:
        assert conn.find_prompt() == f"root@{host}:~#"
        assert str(conn.send_command("hostname")).strip() == host
        if host in ROUTERS:
            out = conn.send_command("vtysh -c 'show version'")
            assert "FRRouting 8." in out, out
        if host in SERVERS:
            out = conn.send_command("command -v bird birdc nginx; nginx -v 2>&1")
            assert "/usr/sbin/birdc" in out and "/usr/sbin/nginx" in out, out
            assert "nginx version:" in out, out
    finally:
        conn.disconnect()


def test_inventory_reaches_every_host_through_nornir(lab: Lab) -> None:
    """The shipped inventory's netmiko settings (.lab/ssh_config, key) work as they are."""
    with lab.env():
        nr = load_nornir(lab.inventory)
    try:
        result = nr.run(task=netmiko_send_command, command_string="hostname")
    finally:
        nr.close_connections()
    assert not result.failed, {h: r.exception for h, r in result.items() if r.failed}
    assert {h: r.result.strip() for h, r in result.items()} == {h: h for h in HOSTS}


def test_links_follow_the_inventory(lab: Lab) -> None:
    expected = {"isp": {"eth1", "eth2"}, "edge": {"eth0", "eth1"}, "server-1": {"eth0"},
                "server-2": {"eth0"}, "client": {"eth0"}}
    for host, names in expected.items():
        ns = lab.topology.hosts[host].netns
        links = netns.links(ns)
        assert set(links) == names | {"lo"}, (host, sorted(links))
        for name in names:
            assert "UP" in links[name]["flags"], (host, name)
    # isp eth2 <-> edge eth0 is a veth pair; the servers' LAN is a bridge in its own namespace.
    isp, edge = lab.ns("isp"), lab.ns("edge")
    isp_eth2 = netns.links(isp)["eth2"]
    assert netns.nsid_names(isp)[isp_eth2["link_netnsid"]] == edge
    assert isp_eth2["link_index"] == netns.links(edge)["eth0"]["ifindex"]
    bridge_ports = {n for n, link in netns.links(f"{lab.prefix}-sw-1").items()
                    if link.get("master") == netns.BRIDGE}
    assert bridge_ports == {"edge", "server-1", "server-2"}


def _machine_addresses() -> list[str]:
    """The machine's own addresses (root namespace), loopback and link-local left out."""
    out = json.loads(subprocess.run(["ip", "-j", "addr", "show"], capture_output=True,
                                    text=True, check=True).stdout)
    addrs = []
    for itf in out:
        for a in itf.get("addr_info", []):
            ip = ipaddress.ip_address(a["local"])
            if not (ip.is_loopback or ip.is_link_local):
                addrs.append(str(ip))
    return addrs


def _owners(namespaces: list[str]) -> dict[str, str]:
    """Address -> lab namespace holding it."""
    out = {}
    for ns in namespaces:
        data = json.loads(netns.run(["ip", "-n", ns, "-j", "addr", "show"]).stdout or "[]")
        for itf in data:
            for a in itf.get("addr_info", []):
                out[a["local"]] = ns
    return out


def _longest_match_type(ns: str, target: str) -> str | None:
    """The type of the most specific route in `ns` that covers `target` (None: no route)."""
    proc = netns.run(["ip", "-n", ns, "-j", "route", "show", "match", target], check=False)
    routes = json.loads(proc.stdout or "[]") if proc.returncode == 0 else []

    def length(route: dict[str, Any]) -> int:
        dst = str(route.get("dst", ""))
        return 0 if dst == "default" else int(dst.split("/")[1]) if "/" in dst else 32

    if not routes:
        return None
    best = max(routes, key=length)
    return str(best.get("type", "unicast"))


def route_out_of_lab(namespaces: list[str], start: str, target: str) -> str | None:
    """Follow `ip route get target` hop by hop through the lab from `start`.

    None when the lookup ends in no route or a blackhole/unreachable/prohibit route inside the
    lab; otherwise a description of the route that would carry a packet towards `target`.
    """
    owners = _owners(namespaces)
    ns, seen = start, []
    while ns not in seen:
        seen.append(ns)
        proc = netns.run(["ip", "-n", ns, "-j", "route", "get", target], check=False)
        if proc.returncode != 0:
            if "unreachable" in proc.stderr.lower() or "prohibit" in proc.stderr.lower():
                return None
            if "invalid argument" in proc.stderr.lower() and _longest_match_type(ns, target) in (
                    "blackhole", "unreachable", "prohibit"):
                return None  # the kernel answers EINVAL when the lookup hits a blackhole
            return f"{ns}: ip route get {target}: {proc.stderr.strip()}"
        (route,) = json.loads(proc.stdout)
        if route.get("type") in ("blackhole", "unreachable", "prohibit"):
            return None
        gateway = route.get("gateway")
        if gateway is None or gateway not in owners:
            return f"{ns}: {target} reachable via {route}"
        ns = owners[gateway]
    return None  # a loop inside the lab: the packet would die of TTL in the lab


def test_no_route_from_the_lab_to_the_machine(lab: Lab) -> None:
    targets = _machine_addresses()
    assert targets, "the machine has no address to check against"
    namespaces = lab.topology.namespaces
    for ns in namespaces:
        for target in targets:
            assert route_out_of_lab(namespaces, ns, target) is None


def test_route_check_accepts_a_blackhole_and_only_a_blackhole(lab: Lab) -> None:
    """`ip route get` answers EINVAL for a blackhole route (the ISP's default after a deploy):
    that is no route out; the same address through an on-link route is one."""
    target = _machine_addresses()[0]
    client = lab.ns("client")
    netns.run(["ip", "-n", client, "route", "add", "blackhole", f"{target}/32"])
    try:
        assert route_out_of_lab(lab.topology.namespaces, client, target) is None
        netns.run(["ip", "-n", client, "route", "replace", f"{target}/32", "dev", "eth0"])
        assert route_out_of_lab(lab.topology.namespaces, client, target) is not None
    finally:
        netns.run(["ip", "-n", client, "route", "del", f"{target}/32"], check=False)


def test_route_check_reports_a_route_out(lab: Lab) -> None:
    """The check above can fail: an on-link route to the machine's address is reported."""
    target = _machine_addresses()[0]
    client = lab.ns("client")
    netns.run(["ip", "-n", client, "route", "add", f"{target}/32", "dev", "eth0"])
    try:
        found = route_out_of_lab(lab.topology.namespaces, client, target)
    finally:
        netns.run(["ip", "-n", client, "route", "del", f"{target}/32", "dev", "eth0"])
    assert found is not None and found.startswith(f"{client}: {target} reachable via")


def test_no_lab_link_reaches_the_machine_namespace(lab: Lab) -> None:
    """Every veth of the lab has its other end in a lab namespace, never in the machine's."""
    for ns in lab.topology.namespaces:
        ids = netns.nsid_names(ns)
        for name, link in netns.links(ns).items():
            if name == "lo":
                continue
            assert (link.get("linkinfo") or {}).get("info_kind") in ("veth", "bridge"), link
            if "link_netnsid" in link:
                peer = ids.get(link["link_netnsid"])
                assert peer in lab.topology.namespaces, (ns, name, peer)


def test_lab_exec_passes_exit_code_and_stdin(lab: Lab) -> None:
    proc = cli("lab", "exec", "server-1", "--", "sh", "-c", "cat; hostname; exit 3",
               input="hello from stdin\n")
    assert proc.returncode == 3, proc.stderr
    assert proc.stdout == "hello from stdin\nserver-1\n"
    assert cli("lab", "exec", lab.ns("edge"), "--", "true").returncode == 0
    assert cli("lab", "exec", "client", "--", "no-such-command-here").returncode == 127
    bad = cli("lab", "exec", "no-such-host", "--", "true")
    assert bad.returncode == 2
    assert "no-such-host" in bad.stderr and "no such lab host" in bad.stderr


def test_lab_exec_sees_what_ssh_sees(lab: Lab) -> None:
    token = uuid.uuid4().hex
    conn = ConnectHandler(**lab.netmiko_params("edge"))
    try:
        conn.send_command(f"echo {token} > /tmp/probe-{token}")
        ssh_ps = str(conn.send_command("ps -o pid=,comm= -p 1")).split()
    finally:
        conn.disconnect()
    try:
        assert lab.run("edge", ["cat", f"/tmp/probe-{token}"]).stdout.strip() == token
        assert lab.run("edge", ["ps", "-o", "pid=,comm=", "-p", "1"]).stdout.split() == ssh_ps
    finally:
        lab.run("edge", ["rm", "-f", f"/tmp/probe-{token}"])


def test_files_are_per_host(lab: Lab) -> None:
    name = f"probe-{uuid.uuid4().hex}"
    path = f"/etc/bird/{name}"
    assert lab.run("server-1", ["sh", "-c", f"echo one > {path}"]).returncode == 0
    try:
        assert lab.run("server-1", ["cat", path]).stdout == "one\n"
        assert lab.run("server-2", ["test", "-e", path]).returncode == 1
        assert not Path(path).exists(), "a lab host's /etc/bird leaked into the machine's"
        with lab.env():
            assert (lab_dir() / "hosts/server-1/etc-bird" / name).read_text() == "one\n"
    finally:
        lab.run("server-1", ["rm", "-f", path])


def test_processes_are_per_host(lab: Lab) -> None:
    marker = "4242.4242"
    start = lab.run("server-1", ["sh", "-c", f"setsid -f sleep {marker} </dev/null >/dev/null "
                                 "2>&1"])
    assert start.returncode == 0, start.stderr
    try:
        found = lab.run("server-1", ["pgrep", "-f", f"sleep {marker}"])
        assert found.returncode == 0
        assert lab.run("server-2", ["pgrep", "-f", f"sleep {marker}"]).returncode == 1
        # Two routers run zebra; each sees only its own, and as a small pid of its own table.
        for router in ROUTERS:
            zebra = lab.run(router, ["pgrep", "-x", "zebra"]).stdout.split()
            assert len(zebra) == 1 and int(zebra[0]) < 1000, (router, zebra)
        # PID 1 is the host's init, and the test's own process is invisible.
        ps = lab.run("client", ["ps", "-e", "-o", "pid=,args="]).stdout
        assert ps.splitlines()[0].split()[0] == "1" and procs.INIT_MARKER in ps.splitlines()[0]
        assert "pytest" not in ps and "sleep " + marker not in ps
    finally:
        lab.run("server-1", ["pkill", "-f", f"sleep {marker}"])


def test_lab_mounts_stay_out_of_the_machine_mount_table(lab: Lab) -> None:
    mountinfo = Path("/proc/self/mountinfo").read_text()
    with lab.env():
        hosts = lab_dir() / "hosts"
    assert str(hosts) not in mountinfo
    assert lab.run("isp", ["findmnt", "-n", "-o", "SOURCE", "/etc/frr"]).stdout.strip().endswith(
        f"{hosts}/isp/etc-frr]")


def test_status_reports_every_host(lab: Lab) -> None:
    with lab.env():
        st = status()
    assert st.ok, st.as_json()
    by_host = {h.host: h for h in st.hosts}
    assert set(by_host) == set(HOSTS)
    for router in ROUTERS:
        assert {"zebra", "bgpd", "staticd", "bfdd", "sshd"} <= set(by_host[router].daemons)
    assert "sshd" in by_host["client"].daemons and "zebra" not in by_host["client"].daemons
    out = cli("lab", "status", "--json")
    assert out.returncode == 0, out.stdout + out.stderr
    data = json.loads(out.stdout)
    assert data["ok"] is True and all(h["ssh"] for h in data["hosts"])
    table = cli("lab", "status")
    assert table.returncode == 0 and "lab ok" in table.stdout


def test_machine_namespace_untouched(lab: Lab) -> None:
    """No interface of the machine's namespace is paired with the lab; no lab address in it."""
    links = json.loads(subprocess.run(["ip", "-d", "-j", "link", "show"], capture_output=True,
                                      text=True, check=True).stdout)
    ids = json.loads(subprocess.run(["ip", "-j", "netns", "list-id"], capture_output=True,
                                    text=True, check=True).stdout or "[]")
    names = {e["nsid"]: e.get("name") for e in ids}
    paired = [(link["ifname"], names.get(link["link_netnsid"])) for link in links
              if "link_netnsid" in link]
    assert not [p for p in paired if p[1] in lab.topology.namespaces], paired
    addresses = _machine_addresses()
    for net in ("10.0.0.0/24", "10.12.12.0/24", "172.16.42.2/31", "10.13.13.1/32"):
        assert not [a for a in addresses
                    if ipaddress.ip_address(a) in ipaddress.ip_network(net)], (net, addresses)
