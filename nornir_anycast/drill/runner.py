"""One failover drill on the built-in lab, from steady load to a restored, verified host.

Timeline: the route poller starts in the edge's namespaces and the load generator in the
client's (both Debian's /usr/bin/python3 running this package's stand-alone scripts: a lab host
has its own /root, which hides a pyenv/venv interpreter living there); after a warm-up the fault
hits HOST; the load runs on to the end of `duration_s`; then HOST is restored (link back, BIRD or
nginx started, undrain), verify runs until it passes (deploy of HOST first, when verify alone
does not get there), and the figures are computed (nornir_anycast.drill.measure).
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nornir.core import Nornir

from nornir_anycast.design.model import AnycastService, Design, HostModel, Role
from nornir_anycast.device import services
from nornir_anycast.drill import faults, measure
from nornir_anycast.exceptions import InventoryError, LabError, Problem
from nornir_anycast.inventory.loader import inventory_directory
from nornir_anycast.lab import hosts as lab_hosts
from nornir_anycast.lab import status as lab_status
from nornir_anycast.verify.checks.isp import exports_anycast

if TYPE_CHECKING:
    from nornir_anycast.verify.runner import VerifyReport

HERE = Path(__file__).resolve().parent
LOAD_SCRIPT = HERE / "load.py"
POLL_SCRIPT = HERE / "poll.py"
LAB_PYTHON = "/usr/bin/python3"


def script_argv(script: Path, *args: str) -> list[str]:
    """Debian's python3 running one of this package's stand-alone scripts inside a lab host:
    the source goes on the command line (`python3 -c`), since a host booted from an image does
    not see this checkout's files."""
    return [LAB_PYTHON, "-c", script.read_text(encoding="utf-8"), *args]
POLL_INTERVAL_MS = 5
DEFAULT_RATE = 100.0
DEFAULT_LONG_LIVED = 8
MIN_DURATION_S = 3.0
MAX_DURATION_S = 300.0


@dataclass
class DrillOutcome:
    """The report (`--json`), plus what the terminal summary also tells."""

    report: dict[str, Any]
    bfd: bool
    hold_s: int
    prefix: str
    next_hop: str
    target: str
    fault_at_s: float
    fault_apply_ms: float
    drop_resolution_ms: float | None
    poll_samples: int
    poll_max_gap_ms: float | None
    errors: dict[str, int]
    last_second_requests: int  # short requests started in the load's last second ...
    last_second_failed: int  # ... and how many of them failed (0: traffic recovered)
    restore: list[str] = field(default_factory=list)
    bfd_detect_ms: float | None = None  # interval x multiplier, when BFD is on
    verify_ok: bool = False
    verify_failures: list[str] = field(default_factory=list)


def mode_unavailable(mode: str, host: HostModel) -> str | None:
    """Why `mode` cannot run on this checkout / host, or None when it can."""
    if mode == "service":
        hc = getattr(host, "healthcheck", None)
        if hc is None:
            return ("service mode needs the health-checked announcements "
                    "(anycast-healthchecker, issue 6), which this checkout does not have yet: "
                    "without them nginx stopping withdraws nothing")
        if not getattr(hc, "enabled", False):
            return (f"service mode needs anycast-healthchecker on {host.name}: set "
                    "`healthcheck: {enabled: true}` in the inventory and deploy")
    if mode == "drain" and importlib.util.find_spec("nornir_anycast.cli.drain") is None:
        return ("drain mode needs the `drain`/`undrain` commands (issue 6), which this checkout "
                "does not have yet")
    return None


def detect_ms(server: HostModel, edge: HostModel) -> float:
    """BFD's detection time between a server and its edge: the slower side's interval times its
    multiplier (what the edge waits before it declares the server down)."""
    return float(max(server.bfd.interval_ms * server.bfd.multiplier,
                     edge.bfd.interval_ms * edge.bfd.multiplier))


def _bad(host: str, field_: str, value: object, message: str) -> InventoryError:
    return InventoryError([Problem(host, field_, value, message)])


def lab_host(design: Design, host: str, role: Role, wrong: str) -> HostModel:
    """The lab host `host` of `role`, or the error naming it (`wrong`, and the hosts that are)."""
    me = design.hosts.get(host)
    if me is None or me.role != role:
        names = ", ".join(h.name for h in design.by_role(role))
        raise _bad(host, "HOST", host, f"{wrong}; {role}s: {names}")
    if not me.lab:
        raise _bad(host, "lab", me.lab, "drills run on the built-in lab only")
    return me


def _target(design: Design, service: AnycastService) -> tuple[str, int]:
    """Where the client sends its load: the anycast address, or the edge's destination NAT
    address when the anycast prefix is not announced outside (the seed's DNAT variant)."""
    edge = design.hosts[service.edge]
    address = service.prefix.split("/")[0]
    if exports_anycast(edge):
        return address, 80
    for rule in edge.nat.destination:
        if rule.translation_address == address:
            return rule.destination_address, rule.destination_port
    raise _bad(edge.name, "nat.destination", [], f"no way for the client to reach {address}")


def _spawn(host: str, argv: list[str]) -> subprocess.Popen[str]:
    lab_host, pid = lab_status.resolve(host)
    return subprocess.Popen(lab_hosts.nsenter_argv(pid, argv), env=lab_hosts.host_env(lab_host),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            stdin=subprocess.DEVNULL)


def _finish(proc: subprocess.Popen[str], what: str, timeout: float) -> str:
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise LabError(f"the {what} did not stop by itself within {timeout:.0f} s") from None
    if proc.returncode != 0:
        raise LabError(f"the {what} exited {proc.returncode}: {err.strip()[-500:]}")
    return out


def _tasks_py(*argv: str) -> subprocess.CompletedProcess[str]:
    """Another command of this project (`drain`, `undrain`), as a user would run it."""
    return subprocess.run([sys.executable, "-m", "nornir_anycast", *argv],
                          capture_output=True, text=True, timeout=300, check=False)


def _fault(mode: str, me: HostModel, inventory: str | None) -> float:
    if mode == "crash":
        return faults.cut_link(me.name)
    if mode == "graceful":
        return faults.stop_bird(me.name, me.paths.bird_ctl)
    if mode == "service":
        return faults.stop_nginx(me.name)
    if mode == "restart":
        return faults.restart_bird(me.name, conf=me.paths.bird_conf, ctl=me.paths.bird_ctl,
                                   systemd=me.service_manager == "systemd")
    t = time.time()
    proc = _tasks_py("drain", me.name, *(["--inventory", inventory] if inventory else []))
    if proc.returncode != 0:
        raise LabError(f"`drain {me.name}` exited {proc.returncode}: "
                       f"{(proc.stderr or proc.stdout).strip()[-500:]}")
    return t


def _ensure_running(me: HostModel, cmds: services.ServiceCommands, name: str) -> str | None:
    if faults.run_on(me.name, ["sh", "-c", cmds.running], check=False).returncode == 0:
        return None
    faults.run_on(me.name, ["sh", "-c", cmds.start])
    return f"started {name} on {me.name}"


def restore(mode: str, me: HostModel, inventory: str | None) -> list[str]:
    """Undo the fault (and anything a half-finished drill left); what was done, in words."""
    done = []
    if faults.restore_link(me.name):
        done.append(f"{me.name}'s switch port forwards again")
    for cmds, name in ((services.nginx(me), "nginx"), (services.bird(me), "BIRD")):
        said = _ensure_running(me, cmds, name)
        if said:
            done.append(said)
    if mode == "drain":
        proc = _tasks_py("undrain", me.name, *(["--inventory", inventory] if inventory else []))
        if proc.returncode != 0:
            raise LabError(f"`undrain {me.name}` exited {proc.returncode}: "
                           f"{(proc.stderr or proc.stdout).strip()[-500:]}")
        done.append(f"undrained {me.name}")
    return done


def _verify(nr: Nornir, design: Design, me: HostModel,
            outcome: DrillOutcome, wait: float) -> None:
    from nornir_anycast.deploy.runner import run_deploy
    from nornir_anycast.verify.runner import run_verify

    try:
        report = run_verify(nr, design, wait=wait)
        if not report.ok:
            dep = run_deploy(nr.filter(name=me.name), design)
            outcome.restore.append(f"deployed {me.name}: {'ok' if dep.ok else 'FAILED'}")
            report = run_verify(nr, design, wait=wait)
    finally:
        nr.close_connections()
    outcome.verify_ok, outcome.verify_failures = verify_result(report)


def verify_result(report: VerifyReport) -> tuple[bool, list[str]]:
    """A drill's closing verify as its outcome keeps it: passed, and each failed check as
    `host check: message`."""
    return report.ok, [f"{c['host']} {c['name']}: {c['message']}"
                       for c in report.checks if not c["passed"]]


def commands_inventory(nr: Nornir, inventory: str | None) -> str | None:
    """The inventory the drill's `drain`/`undrain` commands get: `inventory` when given, else
    the directory `nr` was loaded from (None: Nornir does not know it; the default then)."""
    if inventory is not None:
        return inventory
    directory = inventory_directory(nr)
    return str(directory) if directory is not None else None


def run_drill(nr: Nornir, design: Design, host: str, mode: str, *, duration_s: float = 10.0,
              rate: float = DEFAULT_RATE, long_lived: int = DEFAULT_LONG_LIVED,
              inventory: str | None = None, verify_wait: float = 60.0,
              on_step: Callable[[str], None] | None = None) -> DrillOutcome:
    """Run one drill: load, fault on `host`, figures, restore, verify.

    Raises:
        InventoryError: `host` is not a lab server, the mode or duration is not valid (exit 2).
        LabError: the mode cannot run here (what is missing), or the lab misbehaved.
    """
    step = on_step or (lambda _msg: None)
    inventory = commands_inventory(nr, inventory)
    if mode not in measure.MODES:
        raise _bad(host, "--mode", mode, f"one of {', '.join(measure.MODES)}")
    if not MIN_DURATION_S <= duration_s <= MAX_DURATION_S:
        raise _bad(host, "--duration", duration_s,
                   f"must be {MIN_DURATION_S:.0f}..{MAX_DURATION_S:.0f} seconds")
    me = lab_host(design, host, "server", "not a server of the inventory")
    missing = mode_unavailable(mode, me)
    if missing:
        raise LabError(missing)
    service = next((s for s in design.services if any(p.host == host for p in s.ecmp)), None)
    if service is None:
        raise _bad(host, "anycast", [a.prefix for a in me.anycast],
                   "this server carries no traffic (not in any prefix's ECMP set)")
    edge = design.hosts[service.edge]
    if mode == "restart" and not (me.bgp.graceful_restart and edge.bgp.graceful_restart):
        off = [h.name for h in (me, edge) if not h.bgp.graceful_restart]
        raise _bad(off[0], "bgp.graceful_restart", False,
                   f"restart mode needs graceful restart on {host} and its edge {edge.name} "
                   f"(off on {', '.join(off)}): set `bgp: {{graceful_restart: true}}` on both "
                   "and deploy")
    next_hop = next(p.next_hop for p in service.ecmp if p.host == host)
    client = next(iter(design.by_role("client")), None)
    if client is None:
        raise _bad(host, "role", "client", "the inventory has no client to send load from")
    sources = [str(i.ip) for itf in client.interfaces for i in itf.interfaces()]
    address, port = _target(design, service)
    bfd = me.bfd.enabled and edge.bfd.enabled
    hold_s = min(me.bgp_timers.hold, edge.bgp_timers.hold)
    keepalive_s = min(me.bgp_timers.keepalive, edge.bgp_timers.keepalive)
    warmup = min(2.0, duration_s / 3)

    faults.restore_link(host)  # a crash drill interrupted earlier must not skew this one
    poller = _spawn(edge.name, script_argv(POLL_SCRIPT, service.prefix, str(POLL_INTERVAL_MS),
                                           str(duration_s + 3)))
    spec = {"address": address, "port": port, "path": "/file", "sources": sources,
            "duration_s": duration_s, "rate": rate, "workers": 24, "long_lived": long_lived,
            "long_interval_ms": [50, 100], "connect_timeout_s": 0.2, "read_timeout_s": 1.0}
    step(f"load: {rate:.0f} new connections/s + {long_lived} keep-alive connections to "
         f"http://{address}:{port}/file from {', '.join(sources)} for {duration_s:.0f} s")
    loader = _spawn(client.name, script_argv(LOAD_SCRIPT, json.dumps(spec)))
    t_fault = 0.0
    apply_ms = 0.0
    try:
        assert loader.stdout is not None
        first = loader.stdout.readline()
        if not first:
            raise LabError(f"the load generator did not start: {_finish(loader, 'load', 10)}")
        started = float(json.loads(first)["started"])
        time.sleep(max(0.0, started + warmup - time.time()))
        step(f"fault: {mode} on {host}")
        t_fault = _fault(mode, me, inventory)
        apply_ms = round((time.time() - t_fault) * 1000, 1)
        load_out = _finish(loader, "load generator", duration_s + 30)
        poll_out = _finish(poller, "route poller", duration_s + 30)
    finally:
        for p in (loader, poller):
            if p.poll() is None:
                p.kill()
                p.communicate()
        step(f"restore {host}")
        restored = restore(mode, me, inventory)
    load = json.loads(load_out.strip().splitlines()[-1])
    lines = [json.loads(ln) for ln in poll_out.splitlines() if ln.strip()]
    changes = [ln for ln in lines if "hops" in ln]
    stats: dict[str, Any] = next((ln for ln in lines if "samples" in ln), {})
    report, drop = measure.build_report(
        mode=mode, host=host, host_page=me.page_text, duration_s=duration_s, t_fault=t_fault,
        next_hop=next_hop, load=load, changes=changes, bfd=bfd, hold_ms=hold_s * 1000.0,
        keepalive_ms=keepalive_s * 1000.0, bfd_detect_ms=detect_ms(me, edge) if bfd else None)
    errors: dict[str, int] = {}
    for r in load["short"]:
        if not r["ok"]:
            errors[str(r["error"])] = errors.get(str(r["error"]), 0) + 1
    tail = [r for r in load["short"] if r["t0"] >= load["end"] - 1.0]
    outcome = DrillOutcome(
        report=report, bfd=bfd, bfd_detect_ms=detect_ms(me, edge) if bfd else None,
        hold_s=hold_s, prefix=service.prefix, next_hop=next_hop,
        target=f"http://{address}:{port}/file", fault_at_s=round(t_fault - load["start"], 3),
        fault_apply_ms=apply_ms, drop_resolution_ms=None if drop is None else drop.resolution_ms,
        poll_samples=int(stats.get("samples", 0)), poll_max_gap_ms=stats.get("max_gap_ms"),
        errors=errors, restore=restored,
        last_second_requests=sum(1 for r in tail),
        last_second_failed=sum(1 for r in tail if not r["ok"]))
    step("verify")
    _verify(nr, design, me, outcome, verify_wait)
    return outcome
