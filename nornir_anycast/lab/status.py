"""`lab status` and `lab exec`: what runs where, and running a command inside a host."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from nornir_anycast.exceptions import InventoryError, LabError, Problem
from nornir_anycast.lab import daemons, hosts, netns, procs, sshconfig
from nornir_anycast.lab import state as lab_state
from nornir_anycast.lab.topology import LabHost, Topology


@dataclass
class HostStatus:
    """One host of the lab as `lab status` reports it."""

    host: str
    namespace: str
    role: str
    namespace_exists: bool
    pid: int | None
    daemons: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    ssh: bool = False
    image: str | None = None  # the image an image host boots from (None: the namespace kind)

    @property
    def ok(self) -> bool:
        return self.namespace_exists and self.pid is not None and not self.missing and self.ssh


@dataclass
class LabStatus:
    """The whole lab; `up` is False when no lab has been brought up."""

    up: bool
    inventory: str | None
    hosts: list[HostStatus] = field(default_factory=list)
    switches: dict[str, bool] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.up and all(h.ok for h in self.hosts) and all(self.switches.values())

    def as_json(self) -> dict[str, Any]:
        return {"up": self.up, "ok": self.ok, "inventory": self.inventory,
                "hosts": [dict(asdict(h), ok=h.ok) for h in self.hosts],
                "switches": self.switches}


def _need_root() -> None:
    if os.geteuid() != 0:
        raise LabError("the lab needs root (network namespaces, mounts)")


def current() -> tuple[Topology, Path]:
    """The running lab's topology; LabError when there is none."""
    _need_root()
    loaded = lab_state.load()
    if loaded is None:
        raise LabError("no lab is up (run `python tasks.py lab up`)")
    return loaded


def status(check_ssh: bool = True) -> LabStatus:
    """Namespaces, PID 1, daemons and SSH of every host of the lab last brought up."""
    _need_root()
    loaded = lab_state.load()
    if loaded is None:
        return LabStatus(up=False, inventory=None)
    topology, inventory = loaded
    table = procs.all_procs()
    inits = procs.lab_inits(table)
    out = LabStatus(up=True, inventory=str(inventory))
    for host in topology.hosts.values():
        inode = netns.netns_inode(host.netns)
        init = inits.get(host.netns)
        if init is not None and init.netns != inode:
            init = None
        st = HostStatus(host=host.name, namespace=host.netns, role=host.role,
                        namespace_exists=inode is not None, image=host.image,
                        pid=init.pid if init is not None else None)
        if init is not None:
            running = daemons.running(init, table)
            st.daemons = list(running.names)
            st.missing = running.missing(host)
        else:
            st.missing = list(daemons.expected(host))
        out.hosts.append(st)
    if check_ssh:
        reachable = [h for h in out.hosts if h.pid is not None]
        with ThreadPoolExecutor(max_workers=8) as pool:
            for st, ok in zip(reachable, pool.map(
                    lambda s: sshconfig.ssh_ok(topology.hosts[s.host], timeout=10), reachable),
                    strict=True):
                st.ssh = ok
    out.switches = {sw: netns.netns_inode(sw) is not None for sw in topology.switches}
    return out


def resolve(name: str) -> tuple[LabHost, int]:
    """A running lab host by inventory name or namespace, and its PID 1."""
    topology, _ = current()
    try:
        host = topology.host(name)
    except KeyError:
        raise InventoryError([Problem(name, "HOST", name, "no such lab host; hosts: "
                                      + ", ".join(topology.hosts))]) from None
    init = hosts.find_init(host)
    if init is None:
        raise LabError(f"host {host.name} is not running (run `python tasks.py lab up`)")
    return host, init.pid


def exec_in(name: str, argv: Sequence[str]) -> int:
    """Run `argv` in the host as an SSH session there would, stdin/stdout passed through.

    Returns the command's exit status (127 when it cannot be found, like a shell).
    """
    if not argv:
        raise InventoryError([Problem(name, "CMD", "", "no command given after --")])
    host, pid = resolve(name)
    return subprocess.run(hosts.nsenter_argv(pid, argv), env=hosts.host_env(host),
                          check=False).returncode


def run(name: str, argv: Sequence[str], *, input: str | None = None,
        timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run `argv` in the host and capture its output (for tests and tools)."""
    host, pid = resolve(name)
    return hosts.run_in(host, pid, argv, input=input, timeout=timeout)
