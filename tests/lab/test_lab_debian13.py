"""The Debian 13 lab kind for real: systemd containers booted from one shared image, reached
over real SSH as `ops` with sudo, root refused, one overlay layer per host, `down` leaving
nothing behind but the image."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from lab_fixtures import DEBIAN13, Lab, bring_up, image_prefix, prefix_env, tear_down
from netmiko import ConnectHandler

from nornir_anycast.exceptions import LabError
from nornir_anycast.lab import (
    cgroups,
    containers,
    images,
    lifecycle,
    netns,
    procs,
    sshconfig,
)
from nornir_anycast.lab import status as lab_status
from nornir_anycast.lab.topology import Topology, load_topology

pytestmark = pytest.mark.lab


def _send(lab: Lab, host: str, commands: list[str]) -> list[str]:
    conn = ConnectHandler(**lab.netmiko_params(host))
    try:
        return [str(conn.send_command(c, read_timeout=30)).strip() for c in commands]
    finally:
        conn.disconnect()


def test_hosts_run_debian13_with_systemd_and_ops_has_sudo(debian13_lab: Lab) -> None:
    for host in debian13_lab.hosts:
        who, root, release, state = _send(debian13_lab, host, [
            "id -un", "sudo -n id -un", ". /etc/os-release; echo $VERSION_ID",
            "systemctl is-system-running"])
        assert (who, root, release) == ("ops", "root", "13"), host
        assert state in ("running", "degraded"), (host, state)  # degraded: BIRD unconfigured


def test_routers_run_frr_10_and_servers_have_bird_and_nginx_units(debian13_lab: Lab) -> None:
    for host in ("isp", "edge"):
        frr, version = _send(debian13_lab, host, ["systemctl is-active frr",
                                                  "sudo -n vtysh -c 'show version' | head -1"])
        assert frr == "active", host
        assert "FRRouting 10.3" in version, version
    for host in ("server-1", "server-2"):
        enabled, bird, nginx, frr = _send(debian13_lab, host, [
            "systemctl is-enabled bird nginx", "/usr/sbin/bird --version 2>&1",
            "/usr/sbin/nginx -v 2>&1", "systemctl is-enabled frr"])
        assert enabled.split() == ["enabled", "enabled"], host
        assert "2.17" in bird and "nginx/1.26" in nginx, (bird, nginx)
        assert frr == "disabled", host  # a server runs no FRR


def test_status_names_each_hosts_image(debian13_lab: Lab) -> None:
    with debian13_lab.env():
        st = lab_status.status(check_ssh=True)
    assert st.ok
    data = st.as_json()
    assert {h["host"]: h["image"] for h in data["hosts"]} == dict.fromkeys(debian13_lab.hosts,
                                                                           "debian13")
    edge = next(h for h in data["hosts"] if h["host"] == "edge")
    assert {"sshd", "zebra", "watchfrr"} <= set(edge["daemons"])


def test_root_cannot_log_in(debian13_lab: Lab) -> None:
    ns = debian13_lab.ns("edge")
    proc = subprocess.run(["ssh", "-F", str(debian13_lab.ssh_config), "-o", "BatchMode=yes",
                           "-l", "root", ns, "true"], capture_output=True, text=True, timeout=30,
                          check=False)
    assert proc.returncode != 0
    assert "Permission denied" in proc.stderr


def test_failed_logins_do_not_lock_the_lab_out(debian13_lab: Lab) -> None:
    """Every login reaches sshd from 127.0.0.1 (the ProxyCommand's socat): with OpenSSH 10's
    per-source penalties on, a few refused logins (root, a wrong user) would make sshd drop every
    later connection, `ops` included, for a quarter of a minute and more (seen in CI)."""
    ns = debian13_lab.ns("client")
    for user in ("root", "nobody-here") * 4:
        proc = subprocess.run(["ssh", "-F", str(debian13_lab.ssh_config), "-o", "BatchMode=yes",
                               "-l", user, ns, "true"], capture_output=True, text=True,
                              timeout=30, check=False)
        assert proc.returncode != 0, user
    with debian13_lab.env():
        client = debian13_lab.topology.hosts["client"]
        assert sshconfig.ssh_ok(client), sshconfig.ssh_error(client)
    journal = debian13_lab.run("client", ["journalctl", "-u", "ssh.service", "--no-pager",
                                          "-o", "cat"]).stdout
    assert "penalty" not in journal, journal[-2000:]


def test_each_container_has_cgroups_of_its_own(debian13_lab: Lab) -> None:
    """Each container's systemd runs in `nornir-anycast/<namespace>/payload` of the machine's
    systemd cgroup hierarchies, so units of one name on two hosts are two groups: server-1's
    and server-2's nginx.service are different directories, each holding its own host's nginx.
    (Started from one process, nspawn put every container in one shared `/payload`: both
    hosts' systemd created, joined and removed the same unit directories.)"""
    with debian13_lab.env():
        inits = procs.lab_inits()
        for host in debian13_lab.topology.hosts.values():
            mine = Path(f"/proc/{inits[host.netns].pid}/cgroup").read_text()
            assert f"/{cgroups.TOP}/{host.netns}/payload" in mine, (host.name, mine)
    seen: dict[str, set[str]] = {}
    with debian13_lab.env():
        table = procs.all_procs()
        for name in ("server-1", "server-2"):
            ns = debian13_lab.ns(name)
            nginx = [p for p in table if p.comm == "nginx" and p.pidns == inits[ns].pidns]
            assert nginx, name
            lines = [line for p in nginx
                     for line in Path(f"/proc/{p.pid}/cgroup").read_text().splitlines()
                     if line.startswith("0::") or ":name=systemd:" in line]
            seen[name] = {line.split(":", 2)[2] for line in lines}
            assert seen[name] and all(
                path.startswith(f"/{cgroups.TOP}/{ns}/payload/system.slice/nginx.service")
                for path in seen[name]), (name, seen[name])
    assert not seen["server-1"] & seen["server-2"]


def test_each_host_writes_its_own_layer_and_the_image_stays_as_built(debian13_lab: Lab) -> None:
    image = images.image_path("debian13")
    with debian13_lab.env():
        topo = debian13_lab.topology
        for host in topo.hosts.values():
            assert containers.is_mounted(containers.root(host)), host.name
        marker = "/etc/nornir-anycast-layer-test"
        assert debian13_lab.run("server-1", ["sh", "-c", f"echo one > {marker}"]).returncode == 0
        seen = debian13_lab.run("server-2", ["cat", marker])
        assert seen.returncode != 0  # server-2 has a root of its own
        assert (containers.upper(topo.hosts["server-1"]) / marker.lstrip("/")).read_text() \
            == "one\n"
    assert not (image / marker.lstrip("/")).exists()
    assert images.is_built("debian13")


def test_ssh_wait_restarts_a_stopped_sshd_and_names_a_dead_ones_state(
        debian13_lab: Lab) -> None:
    """lab up's SSH wait: a container whose sshd stopped listening gets ssh.service restarted
    once, halfway through the wait; one whose sshd cannot start is reported with what systemd
    says of it (its state, nothing on port 22)."""
    with debian13_lab.env():
        topo = debian13_lab.topology
        client = topo.hosts["client"]
        one = Topology(hosts={"client": client}, segments=())
        assert debian13_lab.run("client", ["systemctl", "stop", "ssh.service"]).returncode == 0
        lifecycle._wait_ssh(one, timeout=10)  # logs in again: restarted
        assert debian13_lab.run("client", ["systemctl", "is-active", "ssh.service"]).stdout \
            .strip() == "active"
        try:
            assert debian13_lab.run("client", ["sh", "-c", "systemctl mask --runtime ssh.service"
                                               " && systemctl stop ssh.service"]).returncode == 0
            with pytest.raises(LabError) as err:
                lifecycle._wait_ssh(one, timeout=6)
            msg = str(err.value)
            assert "no SSH login after 6 s on: client" in msg, msg
            assert "ssh.service" in msg and "nothing on port 22" in msg, msg
        finally:
            debian13_lab.run("client", ["sh", "-c", "systemctl unmask --runtime ssh.service; "
                                        "systemctl start ssh.service"])
        lifecycle._wait_ssh(one, timeout=20)


def test_down_removes_every_container_mount_and_directory() -> None:
    prefix = image_prefix("dn")
    with prefix_env(prefix):
        try:
            lab = bring_up(DEBIAN13)
            with lab.env():
                mounts = containers.lab_mounts()
                assert len(mounts) == len(lab.topology.hosts)
                assert set(procs.lab_inits()) == {h.netns for h in lab.topology.hosts.values()}
                groups = [cgroups.group(h, root) for h in lab.topology.hosts.values()
                          for root in cgroups.hierarchies()]
                assert groups and all(g.is_dir() for g in groups), groups
        finally:
            report = tear_down()
        with lab.env():
            assert containers.lab_mounts() == []
            assert procs.lab_inits() == {}
            assert not [n for n in netns.list_netns() if n.startswith(f"{prefix}-")]
            assert containers.nspawn_launchers(set(lab.topology.namespaces)) == []
            assert [g for g in groups if g.exists()] == []
    assert report.processes > 0
    assert not Path(lab.ssh_config).parent.exists()
    assert images.is_built("debian13")  # the image is kept for the next lab
    assert load_topology(DEBIAN13).hosts.keys() == lab.topology.hosts.keys()
