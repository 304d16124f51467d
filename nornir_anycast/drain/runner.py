"""Planned drain: take a server out of service without failing a new request, and back.

`run_drain(nr, design, "server-2")`:

1. checks that the edge forwards each of the server's prefixes to some other server too
   (otherwise draining would stop the service: refused unless `force`);
2. **lowers the preference**: BIRD exports with local preference 0 and the graceful shutdown
   community 65535:0 (in the export filter: the BGP session is not reset); the edge's best path
   moves to the other servers and its multipath set drops this one;
3. **waits until the edge no longer forwards** to it (the edge's kernel route, polled);
4. **withdraws** (BIRD exports nothing) and waits until the edge's BGP table has no path from it;
5. keeps nginx serving for a **grace period** (`grace` s) for requests still in flight.

The drain marker on the server (`paths.drain_marker`, nornir_anycast.device.drain_marker) is written
before step 2, so deploy keeps the server drained and verify expects it out of the ECMP set
until `run_undrain`, which announces again, removes the marker and waits until the edge
forwards to the server again (or, for a backup server, has its path again).

A dry run (`dry_run=True`, or `InitNornir(dry_run=True)`) does the checks of step 1, reads the
marker and the edge's routes, and reports the plan (each step as "would ...", with the
bird.conf diff of the first phase); it writes nothing on any host and waits for nothing.

With stateless ECMP the edge re-hashes the flows of a server that leaves the multipath set:
connections open on it at that moment land on another server and break (new requests do not
fail). The report says what was done, when, and whether the BGP session survived.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from nornir.core import Nornir
from nornir.core.task import AggregatedResult

from nornir_anycast.deploy.runner import design_of, dry_run_of
from nornir_anycast.design.model import AnycastService, Design, ServerPath
from nornir_anycast.exceptions import AnycastError


class DrainError(AnycastError):
    """A drain or undrain could not be done (refused, a step failed, the edge did not follow)."""


@dataclass
class Step:
    """One thing the drain did: what, when (wall clock and seconds since the start), how long."""

    name: str
    at: str
    t: float
    seconds: float
    detail: str


@dataclass
class DrainReport:
    """What a drain or undrain did. `as_json()` is the `--json` shape."""

    action: str  # "drain" or "undrain"
    host: str
    dry_run: bool = False  # the plan only: nothing was changed
    ok: bool = False
    changed: bool = False
    seconds: float = 0.0
    steps: list[Step] = field(default_factory=list)
    session_kept: bool | None = None  # BGP session not reset by the preference step
    error: str | None = None
    edge_next_hops: dict[str, list[str]] = field(default_factory=dict)  # prefix -> at the end
    diff: str = ""  # a dry run: bird.conf as the first step would change it (redacted)

    def as_json(self) -> dict[str, Any]:
        return {"action": self.action, "host": self.host, "dry_run": self.dry_run,
                "ok": self.ok,
                "changed": self.changed, "seconds": self.seconds,
                "session_kept": self.session_kept, "error": self.error,
                "edge_next_hops": self.edge_next_hops, "diff": self.diff,
                "steps": [asdict(s) for s in self.steps]}


class _Clock:
    def __init__(self, report: DrainReport) -> None:
        self.report = report
        self.start = time.monotonic()

    def step(self, name: str, began: float, detail: str) -> Step:
        now = time.monotonic()
        s = Step(name=name, at=datetime.now(UTC).isoformat(timespec="milliseconds"),
                 t=round(now - self.start, 3), seconds=round(now - began, 3), detail=detail)
        self.report.steps.append(s)
        self.report.seconds = s.t
        return s


def _one(agg: AggregatedResult, host: str, what: str) -> Any:
    """The result of a one-host run; DrainError with the host's own error when it failed."""
    multi = agg[host]
    res = multi[0]
    if multi.failed:
        if res.exception is not None:
            raise DrainError(f"{what}: {res.exception}")
        raise DrainError(f"{what}: {res.result}")
    return res.result


def _paths_of(design: Design, host: str) -> list[tuple[AnycastService, ServerPath]]:
    out = []
    for svc in design.services:
        for p in [*svc.announcers, *svc.drained]:
            if p.host == host:
                out.append((svc, p))
    return out


def _only(nr: Nornir, host: str) -> Nornir:
    if host not in nr.inventory.hosts:
        raise DrainError(f"{host}: not in the inventory Nornir was given")
    return nr.filter(filter_func=lambda h: h.name == host)


def _server(design: Design, host: str) -> None:
    me = design.hosts.get(host)
    if me is None:
        raise DrainError(f"{host}: no such host in the inventory")
    if me.role != "server" or me.platform != "linux":
        raise DrainError(f"{host}: only servers can be drained (its role is {me.role})")
    if not _paths_of(design, host):
        raise DrainError(f"{host}: announces no anycast prefix to an edge: nothing to drain")


def _edge_hops(nr: Nornir, design: Design, svc: AnycastService, path: ServerPath,
               table: str = "kernel") -> list[str]:
    from nornir_anycast.tasks.wait_edge_route import wait_edge_route  # see tasks/__init__

    agg = _only(nr, svc.edge).run(task=wait_edge_route, design=design, prefix=svc.prefix,
                                  next_hop=path.next_hop, present=True, table=table, timeout=0,
                                  name="read_edge_route", on_failed=True)
    res = agg[svc.edge][0]
    if res.exception is not None:
        raise DrainError(f"{svc.edge}: cannot read its route to {svc.prefix}: {res.exception}")
    return list(res.result["next_hops"])


def _apply(nr: Nornir, design: Design, host: str, phase: str | None,
           dry_run: bool = False) -> tuple[dict[str, Any], str]:
    """apply_drain on `host`: (its result, its bird.conf diff)."""
    from nornir_anycast.tasks.apply_drain import apply_drain  # see tasks/__init__

    agg = _only(nr, host).run(task=apply_drain, design=design, phase=phase, dry_run=dry_run,
                              name=f"apply_drain[{phase}]", on_failed=True)
    result: dict[str, Any] = _one(agg, host, f"{host}: {phase or 'announce'}")
    return result, str(agg[host][0].diff or "")


def _wait(nr: Nornir, design: Design, svc: AnycastService, path: ServerPath, *, present: bool,
          table: str, timeout: float) -> dict[str, Any]:
    from nornir_anycast.tasks.wait_edge_route import wait_edge_route  # see tasks/__init__

    agg = _only(nr, svc.edge).run(task=wait_edge_route, design=design, prefix=svc.prefix,
                                  next_hop=path.next_hop, present=present, table=table,
                                  timeout=timeout, name="wait_edge_route", on_failed=True)
    res = agg[svc.edge][0]
    if res.exception is not None:
        raise DrainError(f"{svc.edge}: {res.exception}")
    result: dict[str, Any] = res.result
    if agg[svc.edge].failed:
        where = "kernel route" if table == "kernel" else "BGP table"
        raise DrainError(
            f"{svc.edge}: after {timeout:.0f} s its {where} for {svc.prefix} "
            f"{'still lists' if not present else 'does not list'} {path.next_hop} "
            f"({path.host}); it has {', '.join(result['next_hops']) or 'none'}")
    return result


def run_drain(nr: Nornir, design: Design | None, host: str, *, grace: float = 5.0,
              timeout: float = 30.0, force: bool = False,
              dry_run: bool | None = None) -> DrainReport:
    """Drain `host` (see the module docstring); `nr` must hold the server and its edge.

    `design` None: the one attached at load time. `dry_run` (default Nornir's): report the
    plan, change nothing. Raises nothing for a failed step: the report has `ok` False and
    `error` set, and the server stays marked drained (run `run_undrain` to bring it back).
    """
    dry = dry_run_of(nr, dry_run)
    report = DrainReport(action="drain", host=host, dry_run=dry)
    clock = _Clock(report)
    try:
        _drain(nr, design_of(nr, design), host, grace, timeout, force, report, clock, dry)
        report.ok = True
    except DrainError as exc:
        report.error = str(exc)
    return report


def _drain(nr: Nornir, design: Design, host: str, grace: float, timeout: float, force: bool,
           report: DrainReport, clock: _Clock, dry: bool = False) -> None:
    from nornir_anycast.tasks.read_drain_state import read_drain_state  # see tasks/__init__

    _server(design, host)
    paths = _paths_of(design, host)
    began = time.monotonic()
    agg = _only(nr, host).run(task=read_drain_state, design=design, name="read_drain_state",
                              on_failed=True)
    state = _one(agg, host, f"{host}: drain marker")
    if state and state.get("phase") == "withdrawn":
        result, diff = _apply(nr, design, host, "withdrawn", dry)  # in sync, normally a no-op
        report.changed = bool(result["bird_conf_changed"]) and not dry
        report.diff = diff if dry else ""
        redo = ("bird.conf would be re-rendered" if dry else "bird.conf re-rendered")
        clock.step("already drained", began,
                   f"{host} drained since {state.get('since')} by {state.get('by')}; "
                   + (redo if result["bird_conf_changed"] else "nothing to do"))
        for svc, _ in paths:
            report.edge_next_hops[svc.prefix] = _edge_hops(nr, design, svc, paths[0][1])
        return
    for svc, path in paths:
        hops = _edge_hops(nr, design, svc, path)
        others = [h for h in hops if h != path.next_hop]
        if not others and not force:
            raise DrainError(
                f"refusing to drain {host}: {svc.edge} forwards {svc.prefix} to "
                f"{', '.join(hops) or 'nobody'} and no other server; draining would stop the "
                "service (use --force to drain anyway)")
        clock.step("checked", began, f"{svc.edge} forwards {svc.prefix} to {', '.join(hops)}; "
                   f"{', '.join(others) or 'no other server'} will carry it")
        began = time.monotonic()

    began = time.monotonic()
    if dry:
        _plan_drain(nr, design, host, paths, grace, report, clock, began)
        return
    lowered, _ = _apply(nr, design, host, "lowered")
    report.changed = True
    before, after = lowered["since_before"], lowered["since_after"]
    report.session_kept = same_sessions(before, after)
    clock.step("lowered preference", began,
               "exports with local_pref 0 and community 65535:0 (graceful shutdown), "
               f"birdc configure; BGP session {'kept' if report.session_kept else 'RESET'} "
               f"(since {', '.join(str(v) for v in after.values()) or '?'})")
    for svc, path in paths:
        began = time.monotonic()
        res = _wait(nr, design, svc, path, present=False, table="kernel", timeout=timeout)
        clock.step("edge moved traffic", began,
                   f"{svc.edge} no longer forwards {svc.prefix} to {path.next_hop}: kernel "
                   f"route {', '.join(res['next_hops']) or 'none'} ({res['polls']} polls)")
    began = time.monotonic()
    _apply(nr, design, host, "withdrawn")
    clock.step("withdrew", began, "exports nothing, birdc configure")
    for svc, path in paths:
        began = time.monotonic()
        _wait(nr, design, svc, path, present=False, table="bgp", timeout=timeout)
        clock.step("edge dropped the path", began,
                   f"{svc.edge}'s BGP table has no path for {svc.prefix} from {path.next_hop}")
    began = time.monotonic()
    time.sleep(grace)
    clock.step("grace period", began,
               f"nginx on {host} kept serving {grace:g} s for requests in flight; it carries "
               "no new traffic now")
    for svc, path in paths:
        report.edge_next_hops[svc.prefix] = _edge_hops(nr, design, svc, path)


def _plan_drain(nr: Nornir, design: Design, host: str,
                paths: list[tuple[AnycastService, ServerPath]], grace: float,
                report: DrainReport, clock: _Clock, began: float) -> None:
    """A drain's dry run after the checks: what each step would do; nothing written."""
    lowered, diff = _apply(nr, design, host, "lowered", dry_run=True)
    report.diff = diff
    clock.step("would lower preference", began,
               "would export with local_pref 0 and community 65535:0 (graceful shutdown) and "
               "birdc configure; would write the drain marker"
               + ("" if lowered["bird_conf_changed"] else " (bird.conf already so)"))
    for svc, path in paths:
        clock.step("would wait for the edge", time.monotonic(),
                   f"until {svc.edge} no longer forwards {svc.prefix} to {path.next_hop}")
    clock.step("would withdraw", time.monotonic(), "would export nothing, birdc configure")
    for svc, path in paths:
        clock.step("would wait for the edge", time.monotonic(),
                   f"until {svc.edge}'s BGP table has no path for {svc.prefix} from "
                   f"{path.next_hop}")
    clock.step("would keep a grace period", time.monotonic(),
               f"nginx on {host} would keep serving {grace:g} s for requests in flight")
    for svc, path in paths:
        report.edge_next_hops[svc.prefix] = _edge_hops(nr, design, svc, path)


def _seconds_of_day(since: object) -> float | None:
    """BIRD's `since` (`17:28:01.552`, possibly after a date) as seconds of the day."""
    text = str(since).strip().split()[-1] if str(since).strip() else ""
    parts = text.split(":")
    if len(parts) != 3:
        return None
    try:
        return int(parts[0]) * 3600 + int(parts[1]) * 60 + float(parts[2])
    except ValueError:
        return None


def same_sessions(before: dict[str, object], after: dict[str, object],
                  tolerance_s: float = 0.5) -> bool:
    """True when every BGP session of `before` is still the same session in `after`.

    BIRD prints a session's `since` from its monotonic clock converted to wall time, so the same
    session can show a millisecond more or less from one read to the next; a reset session
    shows the time it came up again, seconds later.
    """
    if not before or set(before) != set(after):
        return False
    for name, was in before.items():
        a, b = _seconds_of_day(was), _seconds_of_day(after[name])
        if a is None or b is None:
            if str(was) != str(after[name]):
                return False
        elif min(abs(a - b), 86400 - abs(a - b)) > tolerance_s:
            return False
    return True


def run_undrain(nr: Nornir, design: Design | None, host: str, *,
                timeout: float = 30.0, dry_run: bool | None = None) -> DrainReport:
    """Announce `host` again, remove its drain marker, wait until the edge forwards to it (or,
    for a backup server, has its path) again.

    `design` None: the one attached at load time. `dry_run` (default Nornir's): report the
    plan (and the bird.conf diff), change nothing.
    """
    dry = dry_run_of(nr, dry_run)
    report = DrainReport(action="undrain", host=host, dry_run=dry)
    clock = _Clock(report)
    try:
        design = design_of(nr, design)
        _server(design, host)
        began = time.monotonic()
        for svc, path in _paths_of(design, host):  # also opens the edge's session for the wait
            hops = _edge_hops(nr, design, svc, path)
            clock.step("checked", began, f"{svc.edge} forwards {svc.prefix} to "
                       f"{', '.join(hops) or 'nobody'}")
            began = time.monotonic()
        result, diff = _apply(nr, design, host, None, dry)
        if dry:
            report.diff = diff
            if result["previous"] is None and not result["bird_conf_changed"]:
                clock.step("not drained", began, f"{host} is not drained: nothing to do")
            else:
                clock.step("would announce", began,
                           f"would export as the inventory says (local_pref "
                           f"{design.hosts[host].local_pref}), birdc configure, and remove the "
                           "drain marker; then wait until the edge forwards to it again")
            report.ok = True
            return report
        report.changed = bool(result["bird_conf_changed"]) or result["previous"] is not None
        before, after = result["since_before"], result["since_after"]
        report.session_kept = same_sessions(before, after)
        if result["previous"] is None and not result["bird_conf_changed"]:
            clock.step("not drained", began, f"{host} was not drained: nothing to do")
        else:
            clock.step("announced", began,
                       f"exports as the inventory says (local_pref "
                       f"{design.hosts[host].local_pref}), birdc configure; drain marker removed")
        for svc, path in _paths_of(design, host):
            table = "kernel" if path in svc.ecmp or not svc.ecmp else "bgp"
            began = time.monotonic()
            try:
                res = _wait(nr, design, svc, path, present=True, table=table, timeout=timeout)
            except DrainError as exc:
                hint = ""
                if design.hosts[host].healthcheck.enabled:
                    hint = (f" (is its service healthy? anycast-healthchecker announces only "
                            f"what passes its check: `python3 tasks.py verify -H {host}`)")
                raise DrainError(f"{exc}{hint}") from None
            clock.step("edge forwards again" if table == "kernel" else "edge has the path",
                       began, f"{svc.edge} {'forwards' if table == 'kernel' else 'has a path for'}"
                       f" {svc.prefix} {'to' if table == 'kernel' else 'from'} {path.next_hop}: "
                       f"{', '.join(res['next_hops'])} ({res['polls']} polls)")
            report.edge_next_hops[svc.prefix] = list(res["next_hops"])
        report.ok = True
    except DrainError as exc:
        report.error = str(exc)
    return report
