"""The daemons `lab up` keeps running in each host: sshd everywhere, FRR on the routers.

BIRD and nginx are installed on the servers but not started (deploy starts them). Daemons are
found from outside by their process name among the host's processes (its PID namespace).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from nornir_anycast.exceptions import LabError
from nornir_anycast.lab import hostdirs, hosts, procs
from nornir_anycast.lab.topology import LabHost

FRR_PROCESSES = ("watchfrr", *hostdirs.FRR_DAEMONS)
#: Process names reported by `lab status` when they run in a host.
WATCHED = ("sshd", *FRR_PROCESSES, "bird", "nginx")

SSHD_CONFIG = """\
# Written by `python tasks.py lab up`: sshd of lab host {name}, listening only on loopback
# inside its network namespace; reached through `ip netns exec {netns} socat` (.lab/ssh_config).
ListenAddress 127.0.0.1
Port 22
HostKey /etc/ssh/ssh_host_ed25519_key
PidFile /run/sshd.pid
PermitRootLogin prohibit-password
PubkeyAuthentication yes
AuthorizedKeysFile /etc/ssh/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
UseDNS no
X11Forwarding no
PrintMotd no
MaxStartups 100:30:200
MaxSessions 100
AcceptEnv LANG LC_*
Subsystem sftp /usr/lib/openssh/sftp-server
"""


#: FRR processes of a freshly installed Debian router (its packaged `daemons` file): deploy
#: enables bgpd, bfdd and the rest on an image host, as on a real one.
IMAGE_FRR_PROCESSES = ("watchfrr", "zebra")


def expected(host: LabHost) -> tuple[str, ...]:
    """Daemons `lab up` keeps running on this host."""
    if not host.runs_frr:
        return ("sshd",)
    return ("sshd", *(FRR_PROCESSES if host.image is None else IMAGE_FRR_PROCESSES))


@dataclass(frozen=True)
class Running:
    """Daemons seen running in one host."""

    names: tuple[str, ...]
    sshd_listener: bool

    def missing(self, host: LabHost) -> list[str]:
        return [d for d in expected(host) if d not in self.names]


def running(init: procs.Proc, table: list[procs.Proc] | None = None) -> Running:
    """What runs in the host whose PID 1 is `init` (daemons of WATCHED only)."""
    members = procs.in_pid_namespace(init, table)
    names = sorted({p.comm for p in members if p.comm in WATCHED})
    # The listening sshd is a child of PID 1 (it daemonised); sessions are its children.
    listener = any(p.comm == "sshd" and p.ppid == init.pid for p in members)
    return Running(names=tuple(names), sshd_listener=listener)


def start_sshd(host: LabHost, init_pid: int) -> None:
    """Start the host's sshd (it daemonises and becomes a child of the host's PID 1)."""
    hostdirs.ensure_run_dirs(host)
    hosts.run_in(host, init_pid, ["/usr/sbin/sshd", "-f", "/etc/ssh/sshd_config",
                                  "-E", "/var/log/sshd.log"], check=True)


def start_frr(host: LabHost, init_pid: int, *, restart: bool = False) -> None:
    """Start FRR the Debian way (`frrinit.sh start`: watchfrr, then the enabled daemons)."""
    hostdirs.ensure_run_dirs(host)
    action = "restart" if restart else "start"
    hosts.run_in(host, init_pid, ["/usr/lib/frr/frrinit.sh", action], check=True, timeout=90)


def wait_for(host: LabHost, init_pid: int, names: tuple[str, ...], timeout: float) -> Running:
    """Wait until `names` all run in the host; LabError naming the missing ones otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        init = procs.read_proc(init_pid)
        if init is None:
            raise LabError(f"host {host.name}: PID 1 ({init_pid}) died")
        state = running(init)
        missing = [n for n in names if n not in state.names]
        if "sshd" in names and not state.sshd_listener:
            missing.append("sshd (listener)")
        if not missing:
            return state
        if time.monotonic() > deadline:
            raise LabError(f"host {host.name}: not running after {timeout:.0f} s: "
                           f"{', '.join(missing)}")
        time.sleep(0.05)
