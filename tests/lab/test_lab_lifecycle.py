"""Repairing and removing the lab (needs root). These take the shared lab apart on purpose, so
they are marked `lab_disruptive` and run after every other test (tests/lab_fixtures.py)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from lab_fixtures import ROOT, Lab, bring_up, project_root_env, tear_down
from netmiko import ConnectHandler

from nornir_anycast.lab import lifecycle, netns, procs
from nornir_anycast.lab.status import status
from nornir_anycast.settings import lab_dir

pytestmark = [pytest.mark.lab, pytest.mark.lab_disruptive]


def _kill(lab: Lab, host: str, *names: str) -> None:
    """pkill each name in turn and wait until it is gone (zebra takes a moment on SIGTERM)."""
    for name in names:
        assert lab.run(host, ["pkill", "-x", name]).returncode == 0, (host, name)
        waited = lab.run(host, ["timeout", "10", "sh", "-c",
                                f"while pgrep -x {name} >/dev/null; do sleep 0.05; done"])
        assert waited.returncode == 0, f"{name} still runs on {host}"


def test_up_repairs_what_is_missing_and_is_then_a_no_op(lab: Lab) -> None:
    _kill(lab, "server-2", "sshd")
    _kill(lab, "edge", "watchfrr", "zebra")
    netns.run(["ip", "netns", "delete", lab.ns("client")])
    with project_root_env():
        broken = {h.host: h for h in status().hosts}
    assert "sshd" in broken["server-2"].missing and not broken["server-2"].ssh
    assert {"watchfrr", "zebra"} <= set(broken["edge"].missing)
    assert not broken["client"].namespace_exists and broken["client"].pid is None

    with project_root_env():
        report = lifecycle.up()
    assert "started sshd on server-2" in report.changes, report.changes
    assert f"created namespace {lab.ns('client')}" in report.changes, report.changes
    assert "linked client:eth0 <-> isp:eth1" in report.changes, report.changes
    assert any(c.startswith("restarted FRR on edge") for c in report.changes), report.changes
    assert not any("server-1" in c for c in report.changes), report.changes
    with project_root_env():
        st = status()
    assert st.ok, st.as_json()
    isp_eth1 = netns.links(lab.ns("isp"))["eth1"]
    assert netns.nsid_names(lab.ns("isp"))[isp_eth1["link_netnsid"]] == lab.ns("client")
    conn = ConnectHandler(**lab.netmiko_params("client"))
    try:
        assert str(conn.send_command("hostname")).strip() == "client"
    finally:
        conn.disconnect()

    with project_root_env():
        again = lifecycle.up()
    assert again.changes == []


def test_servers_16_come_up_and_shrink_back(lab: Lab) -> None:
    big = bring_up(servers=16)
    with project_root_env():
        assert big.inventory == lab_dir() / "inventory"
    assert len(big.topology.hosts) == 19
    with project_root_env():
        st = status()
    assert st.ok, [h for h in st.as_json()["hosts"] if not h["ok"]]
    ports = {n for n, link in netns.links(f"{lab.prefix}-sw-1").items()
             if link.get("master") == "br0"}
    assert ports == {"edge"} | {f"server-{k}" for k in range(1, 17)}
    conn = ConnectHandler(**big.netmiko_params("server-16"))
    try:
        assert str(conn.send_command("hostname")).strip() == "server-16"
    finally:
        conn.disconnect()

    small = bring_up()
    assert [n for n in netns.list_netns() if n.startswith(f"{lab.prefix}-server-")] == [
        f"{lab.prefix}-server-1", f"{lab.prefix}-server-2"]
    with project_root_env():
        hosts = lab_dir() / "hosts"
    assert sorted(p.name for p in hosts.iterdir()) == sorted(small.topology.hosts)
    with project_root_env():
        assert status().ok


def _lab_processes() -> list[tuple[int, str]]:
    """(pid, comm) of every process inside a lab namespace or a lab host's PID namespace."""
    table = procs.all_procs()
    inodes = {i for n in netns.list_netns() if (i := netns.netns_inode(n)) is not None}
    pidns = {p.pidns for p in procs.lab_inits(table).values()}
    return [(p.pid, p.comm) for p in table if p.netns in inodes or p.pidns in pidns]


def _still_there(before: list[tuple[int, str]]) -> list[tuple[int, str]]:
    out = []
    for pid, comm in before:
        p = procs.read_proc(pid)
        if p is not None and p.comm == comm:
            out.append((pid, comm))
    return out


def test_down_leaves_nothing_is_safe_twice_and_up_works_again(lab: Lab) -> None:
    before = _lab_processes()
    assert {"sshd", "zebra", "bgpd"} <= {comm for _, comm in before}
    assert os.path.exists(f"/run/netns/{lab.ns('isp')}")
    with project_root_env():
        lab_files = lab_dir()

    first = tear_down()
    assert set(first.namespaces) == set(lab.topology.namespaces)
    assert netns.list_netns() == []
    assert _still_there(before) == []
    assert procs.lab_inits() == {}
    mountinfo = Path("/proc/self/mountinfo").read_text()
    assert str(lab_files / "hosts") not in mountinfo
    assert f"/run/netns/{lab.prefix}-" not in mountinfo
    assert not lab_files.exists(), sorted(p.name for p in lab_files.iterdir())

    second = tear_down()
    assert (second.namespaces, second.processes, second.files) == ([], 0, [])
    cli = subprocess.run([str(ROOT / ".venv/bin/python"), str(ROOT / "tasks.py"), "lab", "down"],
                         capture_output=True, text=True, timeout=60, check=False)
    assert cli.returncode == 0 and "nothing to remove" in cli.stdout

    again = bring_up()
    with project_root_env():
        assert status().ok
    conn = ConnectHandler(**again.netmiko_params("isp"))
    try:
        assert "FRRouting" in conn.send_command("vtysh -c 'show version'")
    finally:
        conn.disconnect()
    _assert_fresh(again)


def _assert_fresh(lab: Lab) -> None:
    """A lab just built is a set of freshly installed machines: deploy has everything to do."""
    for router in ("isp", "edge"):
        running = lab.run(router, ["vtysh", "-c", "show running-config"]).stdout
        assert "router bgp" not in running and "ip address" not in running, running
        assert lab.run(router, ["cat", "/etc/frr/frr.conf"]).stdout == ""
        daemons = lab.run(router, ["grep", "-E", "^(bgpd|bfdd)=", "/etc/frr/daemons"]).stdout
        assert daemons.split() == ["bgpd=yes", "bfdd=yes"]
    for server in ("server-1", "server-2"):
        assert lab.run(server, ["sh", "-c", "command -v bird birdc nginx"]).returncode == 0
        assert lab.run(server, ["pgrep", "-x", "bird"]).returncode == 1
        assert lab.run(server, ["pgrep", "-x", "nginx"]).returncode == 1
    for ns in lab.topology.namespaces:
        addr = json.loads(netns.run(["ip", "-n", ns, "-j", "-4", "addr", "show"]).stdout)
        v4 = [a["local"] for itf in addr for a in itf["addr_info"] if itf["ifname"] != "lo"]
        assert v4 == [], f"{ns} has data-plane addresses before deploy: {v4}"
        routes = json.loads(netns.run(["ip", "-n", ns, "-j", "-4", "route", "show"]).stdout)
        assert routes == [], f"{ns} has IPv4 routes before deploy: {routes}"
