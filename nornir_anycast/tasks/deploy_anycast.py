"""Nornir task: bring one host of an anycast design to the state the inventory asks for."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from nornir.core.exceptions import NornirSubTaskError
from nornir.core.task import Result, Task
from nornir_netmiko.connections import CONNECTION_NAME

from nornir_anycast import render as rendering
from nornir_anycast.deploy import linux, vyos
from nornir_anycast.deploy.gate import BgpGate
from nornir_anycast.deploy.journal import HostJournal, Journal
from nornir_anycast.design.model import Design, HostModel
from nornir_anycast.design.registry import design_for
from nornir_anycast.device.shell import Shell, shell_for
from nornir_anycast.inventory.secrets import redact
from nornir_anycast.render import RenderedFile
from nornir_anycast.tasks.read_drain_state import read_drain_state

StepTask = Callable[..., Result]


def _redacted(exc: BaseException) -> BaseException:
    """`exc`, or the same kind of exception with every registered secret redacted from its
    message (a device may echo a line of the file it rejected)."""
    text = str(exc)
    clean = redact(text)
    if clean == text:
        return exc
    try:
        other = type(exc)(clean)
    except Exception:  # an exception class that takes other arguments
        other = RuntimeError(clean)
    return other.with_traceback(exc.__traceback__)


def _step(fn: StepTask) -> StepTask:
    """A deploy step run as a subtask: an exception it raises carries no secret."""

    @functools.wraps(fn)
    def step(task: Task, **kwargs: Any) -> Result:
        try:
            return fn(task, **kwargs)
        except Exception as exc:
            clean = _redacted(exc)
            if clean is exc:
                raise
            raise clean from None

    return step


def _summary(files: Mapping[str, RenderedFile]) -> dict[str, dict[str, Any]]:
    """What was rendered, as plain data: path, checker, mode and size; never the content."""
    return {name: {"path": f.path, "checker": f.checker, "mode": f.mode,
                   "lines": len(f.content.splitlines())}
            for name, f in files.items()}


@_step
def _render(task: Task, *, me: HostModel, design: Design, drain: str | None,
           out: dict[str, RenderedFile]) -> Result:
    """Step: render the host's files (in its drain phase) into `out`."""
    # Looked up at call time (a test replaces render_host to hand deploy a broken file).
    files = (rendering.render_host(me, design, drain=drain) if drain
             else rendering.render_host(me, design))
    out.update(files)
    return Result(host=task.host, result=_summary(files), changed=False)


@_step
def _stage_and_check_linux(task: Task, *, shell: Shell, me: HostModel,
                          files: Mapping[str, RenderedFile],
                          plans: list[linux.LinuxPlan]) -> Result:
    """Step: compare, stage `<path>.na-new` and check every changed file on the target."""
    p = linux.plan(shell, me, files)
    plans.append(p)
    linux.stage_and_check(shell, p)
    return Result(host=task.host, result=p.summary(), changed=False)


@_step
def _apply_linux(task: Task, *, shell: Shell, plan: linux.LinuxPlan,
                log: HostJournal) -> Result:
    """Step: put the staged files live (old ones kept as `<path>.na-prev`), network, FRR."""
    actions = linux.apply(shell, plan, log)
    return Result(host=task.host, result={"actions": actions}, changed=plan.mutating)


@_step
def _services_linux(task: Task, *, shell: Shell, plan: linux.LinuxPlan, gate: BgpGate | None,
                   log: HostJournal) -> Result:
    """Step: start, reload or stop what the new files need (BGP reloads take turns)."""
    done = linux.run_services(shell, plan.me, plan.service_actions, gate, log)
    return Result(host=task.host, result={"actions": done}, changed=bool(done))


@_step
def _stage_and_check_vyos(task: Task, *, session: vyos.Session, lines: list[str],
                         diffs: list[str]) -> Result:
    """Step: send the `set` lines into VyOS's candidate configuration and `compare`."""
    diff = session.stage_and_check(lines)
    diffs.append(diff)
    return Result(host=task.host, result={"commands": len(lines), "differs": bool(diff)},
                  changed=False)


@_step
def _apply_vyos(task: Task, *, session: vyos.Session, log: HostJournal | None,
               confirm_minutes: int) -> Result:
    """Step: commit (and save), or commit-confirm when deploy may roll back."""
    actions = session.apply(log, confirm_minutes)
    return Result(host=task.host, result={"actions": actions}, changed=session.committed)


@dataclass
class _Progress:
    diff: str = ""
    actions: list[str] = field(default_factory=list)
    changed: Callable[[], bool] = lambda: False


def deploy_anycast(task: Task, *, design: Design | None = None,
                   files: Mapping[str, RenderedFile] | None = None,
                   dry_run: bool | None = None, gate: BgpGate | None = None,
                   journal: Journal | None = None) -> Result:
    """Render this host's configuration and apply it, checking every file on the target first.

    A grouped task: its steps run as subtasks, each with its own Result (processors and
    print_result see them): `read_drain_state` (servers), `render` (unless `files` is given),
    `stage_and_check`, then, unless this is a dry run or nothing differs, `apply` and (Linux)
    `services`.

    Linux hosts (FRR routers, servers, clients): addresses, default route and sysctls with
    `ip`/`sysctl`; files staged as `<path>.na-new`, checked with the platform's own checker
    (`bird -p`, `nginx -t`, `vtysh -C`), then moved into place (the old one kept as
    `<path>.na-prev`); FRR reloaded diff-based with frr-reload; NAT (nftables.conf, `nft -c`)
    loaded with `nft -f` when it changed or its table is missing; BIRD and nginx started when
    stopped and reloaded only when their configuration changed. Servers that are already
    announcing reconfigure BIRD one `gate` place at a time (nornir_anycast.deploy.linux).
    VyOS: set commands, compare, commit (nornir_anycast.deploy.vyos). A dry run stages and
    checks on the target too (then removes the staged files; VyOS: `exit discard`).

    With `journal` (deploy --rollback-on-failure), every step is recorded in it before it is
    taken (nornir_anycast.deploy.journal), for nornir_anycast.tasks.rollback_anycast; VyOS then
    commits with `commit-confirm` and does not save.

    Servers with `healthcheck.enabled`: anycast-healthchecker's files (its BIRD include created
    only when missing, announcing nothing until the first checks pass), the daemon started, or
    restarted when its files changed; deploy fails before changing anything when the binary is
    missing. A drained server (marker `paths.drain_marker`, see
    nornir_anycast.device.drain_marker) is rendered in its drain phase, so it stays drained.

    Args:
        task: the Nornir task (one host).
        design: the design of the whole inventory; default the one attached at load time
            (nornir_anycast.design.registry).
        files: apply these rendered files (logical name -> RenderedFile, as
            nornir_anycast.render.render_host returns them; render_config's Result holds no
            content) instead of rendering here, the way napalm_configure takes a configuration.
        dry_run: compute the diff, stage and check, change nothing (default: Nornir's).
        gate: the BgpGate servers take turns through (default: one of its own).
        journal: record every step for a rollback.

    Returns:
        Result with `diff` (what changed or, with dry_run, would change; passwords shown as
        `********`), `changed` (True only when something was changed, also when a later step
        failed), `failed` (a step failed: `exception` is its error), `result` =
        {"dry_run": bool, "actions": [...], "drained": None or {"phase", "since", "by"}}.
    """
    d = design_for(task, design)
    me = d.hosts[task.host.name]
    dry = task.is_dry_run(dry_run)
    progress = _Progress()
    drained: dict[str, Any] | None = None

    def outcome(**kw: Any) -> Result:
        return Result(host=task.host, diff=redact(progress.diff), changed=progress.changed(),
                      result={"dry_run": dry, "actions": [redact(a) for a in progress.actions],
                              "drained": drained}, **kw)

    try:
        if me.role == "server" and me.platform == "linux":
            marker = task.run(task=read_drain_state, design=d, name="read_drain_state")
            drained = marker.result if isinstance(marker.result, dict) else None
        if files is None:
            rendered: dict[str, RenderedFile] = {}
            task.run(task=_render, name="render", me=me, design=d,
                     drain=drained["phase"] if drained else None, out=rendered)
            files = rendered
        log = journal.host(me.name, me.platform) if journal is not None else None
        conn = task.host.get_connection(CONNECTION_NAME, task.nornir.config)
        if me.platform == "vyos":
            _deploy_vyos(task, conn, files, dry, log,
                         journal.confirm_minutes if journal is not None else 5, progress)
        else:
            _deploy_linux(task, shell_for(conn, me), me, files, dry, gate,
                          log or HostJournal(me.name, me.platform), progress)
    except NornirSubTaskError as exc:
        # A step failed: the group fails with that step's own error, and says whether the
        # host was already changed; the steps done are in `actions` (and in the journal).
        error = exc.result[0].exception if exc.result and exc.result[0].exception else exc
        return outcome(failed=True, exception=error)
    return outcome()


def _deploy_linux(task: Task, shell: Shell, me: HostModel, files: Mapping[str, RenderedFile],
                  dry: bool, gate: BgpGate | None, log: HostJournal,
                  progress: _Progress) -> None:
    plans: list[linux.LinuxPlan] = []
    progress.changed = lambda: bool(plans) and plans[0].mutating
    try:
        task.run(task=_stage_and_check_linux, name="stage_and_check", shell=shell, me=me,
                 files=files, plans=plans)
        p = plans[0]
        progress.diff = p.diff
        if dry or not progress.diff:
            return
        progress.actions = p.actions  # filled step by step, also when a step fails
        task.run(task=_apply_linux, name="apply", shell=shell, plan=p, log=log)
        done = task.run(task=_services_linux, name="services", shell=shell, plan=p, gate=gate,
                        log=log)
        p.actions += done.result["actions"]
    finally:
        if plans:
            linux.cleanup(shell, plans[0])


def _deploy_vyos(task: Task, conn: Any, files: Mapping[str, RenderedFile], dry: bool,
                 log: HostJournal | None, confirm_minutes: int, progress: _Progress) -> None:
    session = vyos.Session(conn)
    progress.changed = lambda: session.committed
    diffs: list[str] = []
    try:
        task.run(task=_stage_and_check_vyos, name="stage_and_check", session=session,
                 lines=vyos.commands(files), diffs=diffs)
        progress.diff = diffs[0]
        if dry or not progress.diff:
            return
        applied = task.run(task=_apply_vyos, name="apply", session=session, log=log,
                           confirm_minutes=confirm_minutes)
        progress.actions += applied.result["actions"]
    finally:
        session.close()
