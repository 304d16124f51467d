"""How a drill hurts a lab server, and how it is undone.

crash: the server's switch port drops every frame, both ways (an nftables `bridge` table in the
    switch's namespace). The server gets no signal at all (its link stays up, BIRD and nginx run
    on), and the edge hears nothing more from it: a server that died without a word, as far as
    anyone on the wire can tell. Setting the port down instead would drop the server's carrier,
    which a dead machine does not see either, but which lets the server's own BIRD notice.
graceful: `birdc down` on the server (BIRD says goodbye: a BGP Cease and BFD AdminDown).
service: nginx stopped on the server (`nginx -s stop`); BIRD keeps running.
drain: the project's `drain` command.
edge-crash: every link of an edge cut, no goodbye, no carrier change: its port on the servers'
    switch as for crash, and each point-to-point (veth) link to an upstream by an nftables
    `netdev` table on BOTH ends, an ingress chain with `policy drop` on the device (the edge
    hears nothing, nobody hears the edge; the link stays up, so neither side's kernel or FRR
    sees a carrier loss, as with a router that froze or lost power behind a switch).
site-down: every server of a site crashed at once (their switch ports, one bridge table).
restart: BIRD restarted as for an upgrade: `birdc graceful restart` (BIRD exits without a word:
    no Cease, its sessions' peers keep its routes as stale, RFC 4724), then started again in
    graceful restart recovery (`bird -R`; under systemd `systemctl start bird`). With graceful
    restart negotiated on both ends the edge keeps forwarding to the server meanwhile.
"""

from __future__ import annotations

import shlex
import subprocess
import time
from collections.abc import Sequence

from nornir_anycast.device.commands import wire
from nornir_anycast.exceptions import LabError
from nornir_anycast.lab import state as lab_state
from nornir_anycast.lab import status as lab_status
from nornir_anycast.lab.topology import Segment, Topology

DRILL_TABLE = "nornir_anycast_drill"


def run_on(host: str, argv: Sequence[str], *, timeout: float = 60,
           check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run `argv` inside a lab host (as `lab exec` does) and capture its output."""
    proc = lab_status.run(host, list(argv), timeout=timeout)
    if check and proc.returncode != 0:
        raise LabError(f"{host}: `{' '.join(argv)}` exited {proc.returncode}: "
                       f"{(proc.stderr or proc.stdout).strip()}")
    return proc


def _topology() -> Topology:
    current = lab_state.load()
    if current is None:
        raise LabError("no lab is up (run `python tasks.py lab up`)")
    return current[0]


def switch_port(host: str) -> tuple[str, str]:
    """(switch namespace, bridge port name) that `host`'s link plugs into."""
    topology = _topology()
    seg: Segment
    for seg in topology.segments:
        if seg.switch is None:
            continue
        for port in seg.ports:
            if port.host == host:
                return seg.switch, seg.switch_port(port)
    raise LabError(f"{host} has no port on a lab switch: a crash drill needs a server on the "
                   "servers' bridge")


def _nft(switch: str, script: str) -> None:
    proc = subprocess.run(["ip", "netns", "exec", switch, "nft", "-f", "-"], input=script,
                          capture_output=True, text=True, timeout=30, check=False)
    if proc.returncode != 0:
        raise LabError(f"nft in {switch} exited {proc.returncode}: {proc.stderr.strip()}")


def bridge_script(ports: Sequence[str]) -> str:
    """The nftables bridge table dropping every frame to and from `ports` (one switch)."""
    names = ", ".join(f'"{p}"' for p in ports)
    return (
        f"table bridge {DRILL_TABLE} {{\n"
        f"  chain forward {{ type filter hook forward priority -200; policy accept;\n"
        f"    iifname {{ {names} }} drop\n    oifname {{ {names} }} drop\n  }}\n"
        f"  chain input {{ type filter hook input priority -200; policy accept;\n"
        f"    iifname {{ {names} }} drop\n  }}\n"
        f"  chain output {{ type filter hook output priority -200; policy accept;\n"
        f"    oifname {{ {names} }} drop\n  }}\n"
        f"}}\n"
    )


def netdev_script(devices: Sequence[str]) -> str:
    """The nftables netdev table dropping everything that arrives on `devices` (one namespace):
    an ingress chain per device, policy drop. Nothing changes the link's state."""
    chains = "".join(
        f"  chain in_{i} {{ type filter hook ingress device \"{d}\" priority -500; "
        f"policy drop; }}\n" for i, d in enumerate(devices))
    return f"table netdev {DRILL_TABLE} {{\n{chains}}}\n"


def cut_plan(hosts: Sequence[str], topology: Topology | None = None,
             ) -> dict[tuple[str, str], list[str]]:
    """Where to drop what to cut every link of `hosts`: {(namespace, "bridge"): switch ports,
    (namespace, "netdev"): devices}. A port on a switch is cut in the switch; a veth pair on
    both ends (each end drops what arrives)."""
    topology = topology or _topology()
    plan: dict[tuple[str, str], list[str]] = {}
    for seg in topology.segments:
        for port in seg.ports:
            if port.host not in hosts:
                continue
            if seg.switch is not None:
                plan.setdefault((seg.switch, "bridge"), []).append(seg.switch_port(port))
                continue
            for end in seg.ports:
                devices = plan.setdefault((end.netns, "netdev"), [])
                if end.ifname not in devices:
                    devices.append(end.ifname)
    return plan


def cut_links(hosts: Sequence[str], *, switch_only: bool = True) -> float:
    """Cut every link of `hosts` at once (switch ports; with `switch_only` False, their veth
    links too); returns the time just before the first rule went in."""
    plan = cut_plan(hosts)
    if switch_only:
        plan = {k: v for k, v in plan.items() if k[1] == "bridge"}
    if not any(k[1] == "bridge" for k in plan) and switch_only:
        raise LabError(f"{', '.join(hosts)} has no port on a lab switch: a crash drill needs a "
                       "server on the servers' bridge")
    scripts = {k: bridge_script(v) if k[1] == "bridge" else netdev_script(v)
               for k, v in plan.items()}
    t = time.time()
    for (namespace, _), script in scripts.items():
        _nft(namespace, script)
    return t


def restore_links(hosts: Sequence[str]) -> list[str]:
    """Remove every drop table of `cut_links` from the namespaces `hosts` touch; the
    namespaces that had one."""
    done = []
    for namespace, family in cut_plan(hosts):
        listed = subprocess.run(["ip", "netns", "exec", namespace, "nft", "list", "tables"],
                                capture_output=True, text=True, timeout=30, check=False)
        if f"{family} {DRILL_TABLE}" in listed.stdout:
            _nft(namespace, f"delete table {family} {DRILL_TABLE}\n")
            done.append(namespace)
    return done


def cut_link(host: str) -> float:
    """Drop every frame to and from `host` at its switch port; returns the time (time.time())
    just before the rule went in."""
    switch, port = switch_port(host)
    t = time.time()
    _nft(switch, bridge_script([port]))
    return t


def restore_link(host: str) -> bool:
    """Remove the drop rules of `cut_link` (if any); True when there were some."""
    switch, _ = switch_port(host)
    listed = subprocess.run(["ip", "netns", "exec", switch, "nft", "list", "tables"],
                            capture_output=True, text=True, timeout=30, check=False)
    if f"bridge {DRILL_TABLE}" not in listed.stdout:
        return False
    _nft(switch, f"delete table bridge {DRILL_TABLE}\n")
    return True


def stop_bird(host: str, ctl: str) -> float:
    t = time.time()
    run_on(host, shlex.split(wire("bird2", "down", bird_ctl=ctl)))  # birdc -s CTL down
    return t


def stop_nginx(host: str) -> float:
    t = time.time()
    run_on(host, ["nginx", "-s", "stop"])
    return t


def restart_bird(host: str, *, conf: str, ctl: str, systemd: bool,
                 timeout: float = 10.0) -> float:
    """`birdc graceful restart`, wait until BIRD has exited, start it again; returns when the
    fault began (the graceful restart command)."""
    t = time.time()
    run_on(host, ["birdc", "-s", ctl, "graceful", "restart"])
    deadline = time.monotonic() + timeout
    while run_on(host, ["pgrep", "-x", "bird"], check=False).returncode == 0:
        if time.monotonic() > deadline:
            raise LabError(f"{host}: BIRD still runs {timeout:.0f} s after `graceful restart`")
        time.sleep(0.02)
    if systemd:
        run_on(host, ["systemctl", "start", "bird"])
    else:
        run_on(host, ["sh", "-c", f"mkdir -p \"$(dirname {shlex.quote(ctl)})\" && "
                                  f"bird -R -c {shlex.quote(conf)} -s {shlex.quote(ctl)}"])
    return t
