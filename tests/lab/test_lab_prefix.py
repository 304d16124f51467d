"""Several labs on one machine, one per NORNIR_ANYCAST_LAB_PREFIX.

The first tests need no root (prefix rules, what load_nornir makes of the lab inventory). The
lab tests bring up a second lab, with another prefix, beside the session's lab (5 + 5 hosts)
and check that both work over real SSH, that no link joins them (and no packet crosses: a TCP
connect between the labs' own test addresses, nothing outside them), and that `lab down` of
either one leaves the other as it was.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from lab_fixtures import ROOT, Lab, bring_up, prefix_env, session_lock, tear_down
from netmiko import ConnectHandler
from nornir_netmiko.tasks import netmiko_send_command

from nornir_anycast.exceptions import InventoryError
from nornir_anycast.inventory.loader import load_nornir
from nornir_anycast.lab import netns, procs
from nornir_anycast.lab.prefix import ENV, LabPrefixError, lab_dir_name, lab_prefix
from nornir_anycast.lab.status import status
from nornir_anycast.lab.topology import load_topology
from nornir_anycast.settings import lab_dir

INVENTORY = ROOT / "inventory"
TASKS = [sys.executable, str(ROOT / "tasks.py")]


# ------------------------------------------------------------------ the prefix (no root)


@pytest.mark.parametrize("value", ["na", "nt", "na2", "ci42", "abcdefgh", "0"])
def test_valid_prefixes(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv(ENV, value)
    assert lab_prefix() == value
    assert lab_dir_name() == (".lab" if value == "na" else f".lab-{value}")


@pytest.mark.parametrize("value", ["", "NA", "na-", "n_a", "abcdefghi", "na b", "ná", "../x"])
def test_invalid_prefixes_are_named(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv(ENV, value)
    with pytest.raises(LabPrefixError) as err:
        lab_prefix()
    assert isinstance(err.value, InventoryError)
    assert str(err.value) == f"{ENV}={value!r}: must be 1 to 8 characters, each a-z or 0-9 " \
                             "(unset: na)"
    (problem,) = err.value.problems
    assert (problem.field, problem.value) == (ENV, value)


def test_invalid_prefix_on_the_command_line_is_bad_input() -> None:
    env = dict(os.environ, **{ENV: "Na-1"})
    proc = subprocess.run([*TASKS, "lab", "status"], capture_output=True, text=True, env=env,
                          timeout=60, check=False)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert f"{ENV}='Na-1'" in proc.stderr and "1 to 8 characters" in proc.stderr


def test_unset_means_na(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV, raising=False)
    assert lab_prefix() == "na"
    assert lab_dir() == ROOT / ".lab"


def test_load_nornir_gives_lab_hosts_the_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, "nb")
    nr = load_nornir(INVENTORY)
    assert {n: h.hostname for n, h in nr.inventory.hosts.items()} == {
        "isp": "nb-isp", "edge": "nb-edge", "server-1": "nb-server-1",
        "server-2": "nb-server-2", "client": "nb-client"}
    extras = nr.inventory.hosts["edge"].get_connection_parameters("netmiko").extras
    assert extras is not None
    assert extras["ssh_config_file"] == str(ROOT / ".lab-nb" / "ssh_config")
    assert extras["key_file"] == str(ROOT / ".lab-nb" / "id_ed25519")
    assert [ns for ns in load_topology(INVENTORY).namespaces] == [
        "nb-isp", "nb-edge", "nb-server-1", "nb-server-2", "nb-client", "nb-sw-1"]

    monkeypatch.delenv(ENV)
    nr = load_nornir(INVENTORY)
    assert nr.inventory.hosts["edge"].hostname == "na-edge"
    extras = nr.inventory.hosts["edge"].get_connection_parameters("netmiko").extras
    assert extras is not None and extras["ssh_config_file"] == str(ROOT / ".lab" / "ssh_config")


def test_only_lab_hosts_are_renamed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A host that is not a lab host keeps its hostname, even one starting with na-."""
    monkeypatch.setenv(ENV, "nb")
    nr = load_nornir(INVENTORY / "vyos-seed")
    assert all(not (h.hostname or "").startswith("nb-") for h in nr.inventory.hosts.values())
    inv = tmp_path / "inv"
    inv.mkdir()
    (inv / "hosts.yaml").write_text("r1:\n  hostname: na-r1\n  data: {lab: false}\n"
                                    "r2:\n  hostname: na-r2\n  data: {lab: true}\n")
    nr = load_nornir(inv, validate=False)  # two hosts, no design
    assert {n: h.hostname for n, h in nr.inventory.hosts.items()} == {"r1": "na-r1",
                                                                     "r2": "nb-r2"}


def test_host_keys_come_from_the_prefix_known_hosts(monkeypatch: pytest.MonkeyPatch,
                                                   tmp_path: Path) -> None:
    """Host keys are looked up under the runtime hostname in `.lab-<prefix>/known_hosts`."""
    monkeypatch.setenv("NORNIR_ANYCAST_ROOT", str(tmp_path))
    monkeypatch.setenv(ENV, "nb")
    (tmp_path / ".lab-nb").mkdir()
    key = tmp_path / "key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    keytype, blob = key.with_suffix(".pub").read_text().split()[:2]
    (tmp_path / ".lab-nb" / "known_hosts").write_text(f"nb-edge {keytype} {blob}\n")
    nr = load_nornir(INVENTORY)
    edge = nr.inventory.hosts["edge"].get_connection_parameters("netmiko").extras or {}
    assert edge.get("ssh_strict") is True
    assert edge.get("alt_key_file") == str(tmp_path / ".lab-nb" / "known_hosts")
    isp = nr.inventory.hosts["isp"].get_connection_parameters("netmiko").extras or {}
    assert "ssh_strict" not in isp  # no key for nb-isp (nor for na-isp: never looked up)


def test_lab_inits_see_only_their_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    """PID 1s of other prefixes are invisible (so never killed), `na` vs `na2` included."""
    def init(pid: int, netns_name: str, lab: str) -> procs.Proc:
        return procs.Proc(pid=pid, ppid=1, comm="python3", state="S", pidns=pid, netns=pid,
                          cmdline=("python3", "-I", "-S", "hostinit.py", procs.INIT_MARKER,
                                   netns_name, f"{lab}/hosts/x/init.json"))
    table = [init(101, "na-isp", "/a/.lab"), init(102, "na2-isp", "/a/.lab-na2"),
             init(103, "nb-isp", "/b/.lab-nb"), init(104, "na-edge", "/c/.lab")]
    monkeypatch.setenv(ENV, "na")
    assert {k: p.pid for k, p in procs.lab_inits(table).items()} == {"na-isp": 101,
                                                                      "na-edge": 104}
    monkeypatch.setenv(ENV, "na2")
    assert list(procs.lab_inits(table)) == ["na2-isp"]
    assert len(procs.lab_inits(table, all_labs=True)) == 4
    assert procs.init_lab_dir(table[2]) == Path("/b/.lab-nb")


# ------------------------------------------------------------------ two labs at once (root)


def other_prefix(prefix: str) -> str:
    """A prefix for the second lab: `<prefix>2` (`na` beside `na2`: one is the start of the
    other), or another one when that is taken or too long."""
    candidates = [f"{prefix}2", f"{prefix[:7]}3", f"{prefix[:6]}x9"]
    for cand in candidates:
        if cand != prefix and len(cand) <= 8 and not any(
                n.startswith(f"{cand}-") for n in os.listdir(netns.NETNS_DIR)):
            return cand
    raise AssertionError(f"no free prefix among {candidates}")


@dataclass(frozen=True)
class Snapshot:
    """What of a lab exists now: namespaces (with inodes), PID 1s, and processes (pid, comm):
    all of them, and the hosts' daemons (children of a PID 1, not short-lived sessions)."""

    namespaces: dict[str, int | None]
    inits: dict[str, int]
    processes: frozenset[tuple[int, str]]
    daemons: frozenset[tuple[int, str]]


def snapshot(lab: Lab) -> Snapshot:
    with lab.env():
        table = procs.all_procs()
        inits = procs.lab_inits(table)
        names = {n: netns.netns_inode(n) for n in netns.list_netns()}
    inodes = {i for i in names.values() if i is not None}
    pidns = {p.pidns for p in inits.values()}
    init_pids = {p.pid for p in inits.values()}
    mine = [p for p in table if p.netns in inodes or p.pidns in pidns]
    return Snapshot(namespaces=names, inits={k: p.pid for k, p in inits.items()},
                    processes=frozenset((p.pid, p.comm) for p in mine),
                    daemons=frozenset((p.pid, p.comm) for p in mine
                                      if p.pid in init_pids or p.ppid in init_pids))


def alive(processes: frozenset[tuple[int, str]]) -> set[tuple[int, str]]:
    out = set()
    for pid, comm in processes:
        p = procs.read_proc(pid)
        if p is not None and p.comm == comm:
            out.add((pid, comm))
    return out


def assert_intact(lab: Lab, before: Snapshot) -> None:
    """The lab has every namespace and process it had, and still answers over SSH."""
    now = snapshot(lab)
    assert now.namespaces == before.namespaces
    assert now.inits == before.inits
    assert before.daemons and now.daemons == before.daemons
    with lab.env():
        st = status()
    assert st.ok, st.as_json()
    assert_nornir_reaches(lab)


def assert_nornir_reaches(lab: Lab) -> None:
    """The inventory, loaded with the lab's prefix, reaches every host of it over real SSH."""
    with lab.env():
        nr = load_nornir(lab.inventory)
    try:
        assert {h.hostname for h in nr.inventory.hosts.values()} == {
            lab.ns(h) for h in lab.hosts}
        result = nr.run(task=netmiko_send_command, command_string="hostname")
    finally:
        nr.close_connections()
    assert not result.failed, {h: r.exception for h, r in result.items() if r.failed}
    assert {h: r.result.strip() for h, r in result.items()} == {h: h for h in lab.hosts}


def assert_gone(lab: Lab, before: Snapshot) -> None:
    """Nothing of the lab is left: namespaces, PID 1s, processes, mounts, files."""
    assert not [n for n in os.listdir(netns.NETNS_DIR) if n.startswith(f"{lab.prefix}-")]
    assert not [k for k in procs.lab_inits(all_labs=True) if k.startswith(f"{lab.prefix}-")]
    assert alive(before.processes) == set()
    assert f"/run/netns/{lab.prefix}-" not in Path("/proc/self/mountinfo").read_text()
    with lab.env():
        assert not lab_dir().exists()


def peers(lab: Lab) -> set[str | None]:
    """The namespaces at the other end of the lab's veths (None: not a named namespace)."""
    out: set[str | None] = set()
    with lab.env():
        for ns in lab.topology.namespaces:
            ids = netns.nsid_names(ns)
            out |= {ids.get(link["link_netnsid"]) for link in netns.links(ns).values()
                    if "link_netnsid" in link}
    assert out, f"no veth found in {lab.topology.namespaces}"
    return out


# Test addresses on the client LAN (isp eth1 <-> client eth0) of each lab: one subnet, so if the
# labs shared a link, each client could reach the other lab's isp. Only ever inside the labs.
PORT = 7777
ADDRESSES = {0: {"isp": "10.99.1.1", "client": "10.99.1.2"},
             1: {"isp": "10.99.1.3", "client": "10.99.1.4"}}
DEVICES = {"isp": "eth1", "client": "eth0"}


def tcp_reply(ns: str, address: str) -> str | None:
    """What a TCP connect from namespace `ns` to address:PORT reads; None when it fails."""
    proc = subprocess.run(["ip", "netns", "exec", ns, "socat", "-u",
                           f"TCP:{address}:{PORT},connect-timeout=2", "STDOUT"],
                          capture_output=True, text=True, timeout=20, check=False)
    return proc.stdout.strip() if proc.returncode == 0 else None


@contextmanager
def lab_addresses(labs: list[Lab]) -> Iterator[None]:
    """Each lab's isp and client get an address of 10.99.1.0/24; each isp a TCP listener
    answering the lab's prefix. Everything is removed afterwards."""
    added: list[tuple[str, str, str]] = []
    listeners: list[subprocess.Popen[bytes]] = []
    try:
        for k, lab in enumerate(labs):
            for host, address in ADDRESSES[k].items():
                ns, dev = lab.ns(host), DEVICES[host]
                subprocess.run(["ip", "-n", ns, "addr", "add", f"{address}/24", "dev", dev],
                               check=True, capture_output=True)
                added.append((ns, f"{address}/24", dev))
            listeners.append(subprocess.Popen(
                ["ip", "netns", "exec", lab.ns("isp"), "socat",
                 f"TCP-LISTEN:{PORT},bind={ADDRESSES[k]['isp']},reuseaddr,fork",
                 f"SYSTEM:echo {lab.prefix}"],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        time.sleep(0.3)
        assert all(p.poll() is None for p in listeners), "a test listener did not start"
        yield
    finally:
        for proc in listeners:
            proc.kill()
            proc.wait()
        for ns, address, dev in added:
            subprocess.run(["ip", "-n", ns, "addr", "del", address, "dev", dev],
                           check=False, capture_output=True)


@pytest.fixture
def second_lab(lab: Lab) -> Iterator[Lab]:
    """A second lab of the default inventory, with another prefix, beside the session's lab;
    always taken down (safe when a test already did)."""
    prefix = other_prefix(lab.prefix)
    with prefix_env(prefix), session_lock(timeout=600):
        try:
            second = bring_up()
            with prefix_env(lab.prefix):
                yield second
        finally:
            tear_down()


@pytest.mark.lab
def test_two_labs_side_by_side(lab: Lab, second_lab: Lab) -> None:
    first, second = lab, second_lab
    assert second.prefix != first.prefix
    assert set(first.topology.namespaces).isdisjoint(second.topology.namespaces)
    assert all(n.startswith(f"{second.prefix}-") for n in second.topology.namespaces)
    assert set(second.topology.namespaces) <= set(os.listdir(netns.NETNS_DIR))
    assert set(first.topology.namespaces) <= set(os.listdir(netns.NETNS_DIR))

    # Each lab has its own files and ssh_config, matching only its own namespaces.
    assert second.ssh_config.parent != first.ssh_config.parent
    assert f"\nHost {second.prefix}-*\n" in second.ssh_config.read_text()
    assert f"\nHost {first.prefix}-*\n" in first.ssh_config.read_text()

    # Both answer over real SSH, through the same inventory loaded with each prefix.
    assert_nornir_reaches(first)
    assert_nornir_reaches(second)
    conn = ConnectHandler(**second.netmiko_params("edge"))
    try:
        assert str(conn.send_command("hostname")).strip() == "edge"
        assert "FRRouting" in conn.send_command("vtysh -c 'show version'")
    finally:
        conn.disconnect()

    # Each sees only its own hosts: status, files, processes.
    for one in (first, second):
        with one.env():
            st = status()
        assert st.ok, st.as_json()
        assert {h.namespace for h in st.hosts} == {one.ns(h) for h in one.hosts}
    probe = f"/etc/frr/probe-{os.getpid()}"
    assert second.run("edge", ["sh", "-c", f"echo second > {probe}"]).returncode == 0
    assert first.run("edge", ["test", "-e", probe]).returncode == 1
    assert second.run("edge", ["rm", probe]).returncode == 0
    s1, s2 = snapshot(first), snapshot(second)
    assert s1.daemons and s2.daemons and not s1.processes & s2.processes

    # No link joins them: every veth ends in a namespace of its own lab.
    assert peers(first) <= set(first.topology.namespaces)
    assert peers(second) <= set(second.topology.namespaces)
    # ... and no packet crosses: within each lab the client reaches its isp, never the other's.
    with lab_addresses([first, second]):
        assert tcp_reply(first.ns("client"), ADDRESSES[0]["isp"]) == first.prefix
        assert tcp_reply(second.ns("client"), ADDRESSES[1]["isp"]) == second.prefix
        assert tcp_reply(second.ns("client"), ADDRESSES[0]["isp"]) is None
        assert tcp_reply(first.ns("client"), ADDRESSES[1]["isp"]) is None

    # `lab down` of the second (the CLI, with its prefix) leaves the first as it was.
    before1, before2 = snapshot(first), snapshot(second)
    env = dict(os.environ, **{ENV: second.prefix})
    out = subprocess.run([*TASKS, "lab", "down"], capture_output=True, text=True, env=env,
                         timeout=120, check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"removed {len(second.topology.namespaces)} namespace(s)" in out.stdout, out.stdout
    assert "left alone" not in out.stderr, out.stderr
    assert_gone(second, before2)
    assert_intact(first, before1)


@pytest.mark.lab
@pytest.mark.lab_disruptive
def test_down_of_the_session_lab_leaves_the_second_alone(lab: Lab, second_lab: Lab) -> None:
    before1, before2 = snapshot(lab), snapshot(second_lab)
    try:
        report = tear_down()  # the session's prefix
        assert set(report.namespaces) == set(lab.topology.namespaces)
        assert report.left_alone == []
        assert_gone(lab, before1)
        assert_intact(second_lab, before2)
    finally:
        bring_up()  # the session lab back for the tests after this one
