"""`lab up` and `lab down`: build, repair and remove the lab.

`up` is idempotent: every step checks first and only makes what is missing or broken (a
namespace, a link, a host's PID 1, sshd, FRR), so a second `up` repairs a damaged lab and
leaves a healthy one untouched. `down` removes only what this lab made (namespaces it recorded
or that hold its hosts' PID 1, named `<prefix>-*`; the processes inside them; the files of its
.lab/ directory) and is safe to run twice.

Several labs can run at once, one per prefix ($NORNIR_ANYCAST_LAB_PREFIX, see prefix.py): each
sees, repairs and removes only namespaces of its own prefix, and a lab whose hosts were started
from another checkout's lab directory is refused (`up`) or left alone (`down`).
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from nornir_anycast.exceptions import LabError
from nornir_anycast.lab import (
    cgroups,
    containers,
    daemons,
    hostdirs,
    hosts,
    images,
    inventory_gen,
    netns,
    procs,
    sshconfig,
)
from nornir_anycast.lab import state as lab_state
from nornir_anycast.lab.prefix import ENV, machine_lock, ns_prefix, switch_prefix
from nornir_anycast.lab.topology import LabHost, Segment, Topology, load_topology
from nornir_anycast.settings import default_inventory, lab_dir, project_root

REQUIRED_COMMANDS = ("ip", "nsenter", "socat", "ssh", "ssh-keygen", "sysctl")
REQUIRED_FILES = ("/usr/sbin/sshd",)
IMAGE_COMMANDS = ("systemd-nspawn", "mount", "umount")
ROUTER_FILES = ("/usr/lib/frr/frrinit.sh", "/usr/bin/vtysh")
SERVER_FILES = ("/usr/sbin/bird", "/usr/sbin/birdc", "/usr/sbin/nginx")
#: Set in every host's namespace when it is made (before its links, so they inherit them): no
#: duplicate address detection, so an IPv6 address deploy adds is usable at once instead of
#: `tentative` for a second (BGP sessions and BFD would wait for it). Addresses in the lab are
#: unique by validation, and no lab link reaches another network.
HOST_SYSCTLS = {"net.ipv6.conf.all.accept_dad": "0", "net.ipv6.conf.default.accept_dad": "0"}


@dataclass
class UpReport:
    """What `lab up` did: `changes` lists each creation or repair (empty: nothing was needed)."""

    inventory: Path
    topology: Topology
    changes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    fresh: bool = False  # no lab namespace existed before: everything was built from scratch


@dataclass
class DownReport:
    """What `lab down` removed."""

    namespaces: list[str] = field(default_factory=list)
    processes: int = 0
    files: list[str] = field(default_factory=list)
    seconds: float = 0.0
    #: Namespaces of this prefix that this lab did not make, left in place (and why).
    left_alone: list[str] = field(default_factory=list)
    note: str | None = None


@contextmanager
def _locked() -> Iterator[None]:
    """Serialise operations on this prefix's lab, machine-wide (labs of other prefixes go on)."""
    with machine_lock("lab"):
        yield


def foreign_owner(table: list[procs.Proc] | None = None) -> Path | None:
    """The lab directory of another checkout whose hosts run in this prefix's namespaces.

    A host's PID 1 names its spec file, `<lab dir>/hosts/<host>/init.json`. A lab directory that
    no longer exists is no owner: its processes are orphans, this lab's to clean up.
    """
    ours = lab_dir()
    for init in procs.lab_inits(table).values():
        other = procs.init_lab_dir(init)
        if other is not None and other != ours and other.is_dir():
            return other
    return None


def _in_use_message(other: Path) -> str:
    return (f"namespaces {ns_prefix()}* belong to the lab of {other} (its hosts run from there): "
            f"run `lab down` there, or set {ENV} to a prefix of your own "
            "(1 to 8 characters, a-z and 0-9)")


def owned_namespaces(recorded: set[str], topology: Topology | None = None) -> list[str]:
    """This prefix's namespaces that this lab made: recorded in its state, holding one of its
    hosts' PID 1, its switches (`<prefix>-sw-<n>`), or in `topology`. Others are not touched."""
    inits = procs.lab_inits()
    switch = re.compile(rf"^{re.escape(switch_prefix())}[0-9]+$")
    mine = set(recorded) | set(inits) | set(topology.namespaces if topology else ())
    return [n for n in netns.list_netns() if n in mine or switch.match(n)]


def preflight(topology: Topology | None = None) -> None:
    """LabError naming what this machine lacks to run the lab."""
    if os.geteuid() != 0:
        raise LabError("the lab needs root (network namespaces, mounts)")
    missing = [c for c in REQUIRED_COMMANDS if shutil.which(c) is None]
    files = list(REQUIRED_FILES)
    if topology is not None:
        machine = [h for h in topology.hosts.values() if h.image is None]
        if any(h.runs_frr for h in machine):
            files += ROUTER_FILES
        if any(h.role == "server" for h in machine):
            files += SERVER_FILES
        if len(machine) < len(topology.hosts):
            missing += [c for c in IMAGE_COMMANDS if shutil.which(c) is None]
    missing += [f for f in files if not os.access(f, os.X_OK)]
    if missing:
        raise LabError(f"missing on this machine: {', '.join(missing)} (run scripts/install.sh)")


# --- namespaces and links ---------------------------------------------------------------------


def _kill_in_netns(names: list[str]) -> int:
    """Kill every process inside these lab namespaces (PID 1s first, then stragglers)."""
    inodes = {i for n in names if (i := netns.netns_inode(n)) is not None}
    table = procs.all_procs()
    inits = [p for ns, p in procs.lab_inits(table).items() if ns in names or p.netns in inodes]
    pidns = {p.pidns for p in inits}
    me = os.getpid()
    victims = [p.pid for p in inits]
    victims += [p.pid for p in table
                if p.pid != me and p.pid not in victims and (p.netns in inodes or p.pidns in pidns)]
    victims += [p for p in containers.nspawn_launchers(set(names)) if p not in victims]
    left = hosts.kill_pids(victims)
    if left:
        raise LabError(f"processes of the lab did not die: {left}")
    return len(victims)


def _ensure_namespaces(topology: Topology, recorded: set[str], changes: list[str]) -> None:
    wanted = set(topology.namespaces)
    stale = [n for n in owned_namespaces(recorded) if n not in wanted]
    stale_inits = [ns for ns in procs.lab_inits() if ns not in wanted]
    if stale or stale_inits:
        _kill_in_netns(stale + stale_inits)
        cgroups.remove(stale + stale_inits)
        for name in stale:
            netns.delete_netns(name)
            changes.append(f"removed {name} (not in this topology)")
    root = hostdirs.hosts_root()
    if root.is_dir():
        for path in sorted(root.iterdir()):
            if path.name not in topology.hosts and path.is_dir():
                containers.unmount_all(path)  # its PID 1, if any, was killed above
                shutil.rmtree(path)
    for name in topology.namespaces:
        if netns.netns_inode(name) is None:
            _kill_in_netns([name])  # a PID 1 may outlive its namespace's name
            netns.add_netns(name)
            changes.append(f"created namespace {name}")
            if name in topology.switches:
                # A switch has no address of its own, not even a link-local one.
                netns.sysctl(name, {"net.ipv6.conf.all.disable_ipv6": "1",
                                    "net.ipv6.conf.default.disable_ipv6": "1"})
            else:
                netns.sysctl(name, HOST_SYSCTLS)


def _is_pair(a: dict[str, object] | None, a_ns: str, b: dict[str, object] | None,
             b_ns: str, ids: dict[str, dict[int, str | None]]) -> bool:
    """True when a and b are the two ends of one veth pair (a in a_ns, b in b_ns)."""
    if a is None or b is None:
        return False
    for x, x_ns, y, y_ns in ((a, a_ns, b, b_ns), (b, b_ns, a, a_ns)):
        info = x.get("linkinfo")
        if not isinstance(info, dict) or info.get("info_kind") != "veth":
            return False
        nsid = x.get("link_netnsid")
        if not isinstance(nsid, int) or ids[x_ns].get(nsid) != y_ns:
            return False
        if x.get("link_index") != y.get("ifindex"):
            return False
    return True


def _ensure_links(topology: Topology, changes: list[str]) -> None:
    names = topology.namespaces
    links = {n: netns.links(n) for n in names}
    ids = {n: netns.nsid_names(n) for n in names}
    for seg in topology.segments:
        _ensure_segment(seg, links, ids, changes)
    for name in names:
        cmds = ["link set dev lo up"]
        if name in topology.switches:
            cmds.append(f"link set dev {netns.BRIDGE} up")
        for seg in topology.segments:
            for port in seg.ports:
                if port.netns == name:
                    cmds.append(f"link set dev {port.ifname} up")
                if seg.switch == name:
                    cmds.append(f"link set dev {seg.switch_port(port)} master {netns.BRIDGE} up")
        netns.batch(name, cmds)


def _ensure_segment(seg: Segment, links: dict[str, dict[str, dict[str, object]]],
                    ids: dict[str, dict[int, str | None]], changes: list[str]) -> None:
    if seg.switch is None:
        a, b = seg.ports
        la, lb = links[a.netns].get(a.ifname), links[b.netns].get(b.ifname)
        if _is_pair(la, a.netns, lb, b.netns, ids):
            return
        if la is not None:
            netns.batch(a.netns, [f"link delete dev {a.ifname}"])
        if lb is not None and netns.links(b.netns).get(b.ifname) is not None:
            netns.batch(b.netns, [f"link delete dev {b.ifname}"])
        netns.batch(a.netns, [f"link add {a.ifname} type veth peer name {b.ifname} "
                              f"netns {b.netns}"])
        changes.append(f"linked {a.host}:{a.ifname} <-> {b.host}:{b.ifname}")
        return
    sw = seg.switch
    if links[sw].get(netns.BRIDGE) is None:
        netns.batch(sw, [f"link add {netns.BRIDGE} type bridge stp_state 0"])
        changes.append(f"created bridge {sw}:{netns.BRIDGE} for {', '.join(seg.networks)}")
    for port in seg.ports:
        swport = seg.switch_port(port)
        la, lb = links[port.netns].get(port.ifname), links[sw].get(swport)
        if _is_pair(la, port.netns, lb, sw, ids) and lb is not None \
                and lb.get("master") == netns.BRIDGE:
            continue
        if la is not None:
            netns.batch(port.netns, [f"link delete dev {port.ifname}"])
        if lb is not None and netns.links(sw).get(swport) is not None:
            netns.batch(sw, [f"link delete dev {swport}"])
        netns.batch(port.netns, [f"link add {port.ifname} type veth peer name {swport} "
                                 f"netns {sw}"])
        changes.append(f"linked {port.host}:{port.ifname} <-> {sw}:{netns.BRIDGE}")


# --- hosts ------------------------------------------------------------------------------------


def _ensure_inits(topology: Topology, changes: list[str]) -> dict[str, int]:
    """PID 1 of every host, starting those that do not run (in parallel)."""
    pids: dict[str, int] = {}
    launch: list[LabHost] = []
    for host in topology.hosts.values():
        init = hosts.find_init(host)
        if init is not None:
            pids[host.name] = init.pid
        else:
            launch.append(host)
    if launch:
        _kill_in_netns([h.netns for h in launch])  # a PID 1 left in an old namespace
        for host in launch:
            if host.image is None:
                hostdirs.reset_run(host)
        launchers = [(h, hosts.start_init(h) if h.image is None else containers.start(h))
                     for h in launch]
        for host, launcher in launchers:
            if host.image is None:
                pids[host.name] = hosts.wait_init(host, launcher)
                changes.append(f"started {host.name} (PID 1 = {pids[host.name]})")
            else:
                pids[host.name] = containers.wait_init(host, launcher)
                changes.append(f"booted {host.name} from image {host.image} "
                               f"(systemd = {pids[host.name]})")
    return pids


def _ensure_daemons(host: LabHost, init_pid: int) -> list[str]:
    """Start what should run on the host and does not; returns what it did."""
    done: list[str] = []
    init = procs.read_proc(init_pid)
    if init is None:
        raise LabError(f"host {host.name}: PID 1 ({init_pid}) died")
    if host.image is not None:
        containers.wait_booted(host, init_pid)
        daemons.wait_for(host, init_pid, daemons.expected(host), timeout=30)
        return done
    state = daemons.running(init)
    if not state.sshd_listener:
        daemons.start_sshd(host, init_pid)
        done.append(f"started sshd on {host.name}")
    if host.runs_frr:
        missing = [d for d in daemons.FRR_PROCESSES if d not in state.names]
        if missing and "watchfrr" in state.names and len(missing) < len(daemons.FRR_PROCESSES):
            # watchfrr restarts a dead daemon by itself within a few seconds.
            try:
                daemons.wait_for(host, init_pid, daemons.FRR_PROCESSES, timeout=8)
                missing = []
            except LabError:
                pass
        if missing:
            partial = any(d in state.names for d in daemons.FRR_PROCESSES)
            daemons.start_frr(host, init_pid, restart=partial)
            done.append(f"{'restarted' if partial else 'started'} FRR on {host.name} "
                        f"(missing: {', '.join(missing)})")
    daemons.wait_for(host, init_pid, daemons.expected(host), timeout=30)
    return done


def _wait_ssh(topology: Topology, timeout: float | None = None) -> None:
    """A real SSH login on every host (30 s; 60 s when image hosts boot: systemd-logind and
    PAM may still be settling), or LabError naming the hosts and what ssh said last.

    An image host that still refuses logins halfway through, with nothing listening on port
    22 inside it, gets its ssh.service restarted once (seen once in CI: a booted container with
    ssh.service active and every login closed before the key exchange); the error then says
    what systemd says of sshd there."""
    if timeout is None:
        timeout = 60 if any(h.image for h in topology.hosts.values()) else 30
    pending = list(topology.hosts.values())
    start = time.monotonic()
    deadline = start + timeout
    restarted: set[str] = set()
    with ThreadPoolExecutor(max_workers=8) as pool:
        while pending:
            results = list(pool.map(sshconfig.ssh_ok, pending))
            pending = [h for h, ok in zip(pending, results, strict=True) if not ok]
            now = time.monotonic()
            if pending and now > start + timeout / 2:
                for h in pending:
                    if h.image is not None and h.name not in restarted:
                        restarted.add(h.name)
                        _restart_sshd_if_deaf(h)
            if pending and now > deadline:
                why = "; ".join(f"{h.name}: {sshconfig.ssh_error(h)}{_sshd_state(h)}"
                                for h in pending)
                raise LabError(f"no SSH login after {timeout:.0f} s on: "
                               f"{', '.join(h.name for h in pending)} ({why})")
            if pending:
                time.sleep(0.2)


def _init_pid(host: LabHost) -> int | None:
    init = procs.lab_inits().get(host.netns)
    return init.pid if init is not None else None


def _restart_sshd_if_deaf(host: LabHost) -> None:
    pid = _init_pid(host)
    if pid is not None and not containers.sshd_listening(host, pid):
        hosts.run_in(host, pid, ["systemctl", "restart", "ssh.service"], timeout=60)


def _sshd_state(host: LabHost) -> str:
    """`; ssh.service ...` for an image host (what its systemd says), else nothing."""
    if host.image is None:
        return ""
    pid = _init_pid(host)
    return f"; {containers.ssh_state(host, pid)}" if pid is not None else "; its systemd is gone"


def up(inventory: str | Path | None = None, servers: int | None = None,
       check_ssh: bool = True, *, sites: int | None = None,
       edges: int | None = None, graceful_restart: bool = True) -> UpReport:
    """Build or repair the lab of `inventory` (default `inventory/`).

    Args:
        inventory: inventory directory; with `servers`, `sites` or `edges`, the base of the
            generated inventory (its config, defaults and groups, so its lab kind).
        servers: write `.lab/inventory/` for this many servers and build that instead.
        check_ssh: finish with a real SSH login on every host.
        sites: with `edges`: write the generated multi-site lab (`sites` x `edges` x
            `servers`, default 1 x 1 x 2; inventory_gen.site_hosts) and build it.
        edges: edge routers per site (see `sites`).
        graceful_restart: the generated lab's server sessions with graceful restart (both
            ends); False leaves it off.

    Raises:
        InventoryError: the inventory cannot describe a lab (host, field and value named).
        LabError: the machine cannot run the lab, or a step failed.
    """
    start = time.monotonic()
    generate = sites is not None or edges is not None
    if generate:  # bad counts are bad input, named before anything else is checked
        sites, edges = sites if sites is not None else 1, edges if edges is not None else 1
        servers = servers if servers is not None else 2
        inventory_gen.check_site_counts(sites, edges, servers)
    preflight()
    inv = Path(inventory) if inventory is not None else default_inventory()
    inv = inv if inv.is_absolute() else (Path.cwd() / inv)
    with _locked():
        other = foreign_owner()
        if other is not None:
            raise LabError(_in_use_message(other))
        if generate:
            assert sites is not None and edges is not None and servers is not None
            inv = inventory_gen.write_site_inventory(inv, sites, edges, servers,
                                                     graceful_restart=graceful_restart)
        elif servers is not None:
            inv = inventory_gen.write_scaled_inventory(inv, servers)
        topology = load_topology(inv)
        preflight(topology)
        report = UpReport(inventory=inv, topology=topology, fresh=not netns.list_netns())
        changes = report.changes
        lab_dir().mkdir(parents=True, exist_ok=True)
        recorded = lab_state.recorded_namespaces()
        # Recorded before any is made, so a `down` after a failed `up` finds them all.
        lab_state.save(topology, inv, recorded | set(topology.namespaces))
        _ensure_namespaces(topology, recorded, changes)
        lab_state.save(topology, inv)
        _ensure_links(topology, changes)
        for name in sorted({h.image for h in topology.hosts.values() if h.image}):
            images.ensure_image(name)
        sshconfig.ensure_client_key()
        pub = sshconfig.key_file().with_suffix(".pub").read_text(encoding="utf-8")
        for host in topology.hosts.values():
            if host.image is None:
                hostdirs.prepare(host)
                sshconfig.prepare_host(host)
            else:
                changes.extend(containers.prepare(host, pub))
        sshconfig.write_client_files(topology.hosts.values())
        pids = _ensure_inits(topology, changes)
        with ThreadPoolExecutor(max_workers=8) as pool:
            for done in pool.map(lambda h: _ensure_daemons(h, pids[h.name]),
                                 topology.hosts.values()):
                changes.extend(done)
        if check_ssh:
            _wait_ssh(topology)
    report.seconds = time.monotonic() - start
    return report


def down() -> DownReport:
    """Remove every namespace, process, mount and file of the lab; safe to run twice.

    Only this prefix's lab: namespaces it made (owned_namespaces) and the processes in them or
    in its hosts' PID namespaces. A prefix whose hosts run from another checkout is left alone
    (`note` says so); this checkout's files of that prefix are removed all the same.
    """
    start = time.monotonic()
    preflight()
    report = DownReport()
    with _locked():
        other = foreign_owner()
        if other is not None:
            report.note = (f"namespaces {ns_prefix()}* belong to the lab of {other}: left alone "
                           "(run `lab down` there)")
        else:
            names = owned_namespaces(lab_state.recorded_namespaces())
            inits = procs.lab_inits()
            report.processes = _kill_in_netns(sorted(set(names) | set(inits)))
            cgroups.remove(sorted(set(names) | set(inits)))
            for name in names:
                netns.delete_netns(name)
            report.namespaces = names
            leftovers = [n for n in netns.list_netns() if n in names]
            if leftovers:
                raise LabError(f"namespaces still there after delete: {', '.join(leftovers)}")
            report.left_alone = netns.list_netns()
        lab = lab_dir()
        if other is None:
            containers.unmount_all()
        for path in (hostdirs.hosts_root(), inventory_gen.generated_dir()):
            if path.exists():
                shutil.rmtree(path)
                report.files.append(str(path.relative_to(project_root())))
        for path in (sshconfig.ssh_config_file(), sshconfig.known_hosts_file(),
                     sshconfig.key_file(), sshconfig.key_file().with_suffix(".pub"),
                     lab_state.state_file()):
            if path.exists():
                path.unlink()
                report.files.append(str(path.relative_to(project_root())))
        if lab.is_dir() and not any(lab.iterdir()):
            lab.rmdir()
    report.seconds = time.monotonic() - start
    return report
