"""Nornir task: bring one host of an anycast design to the state the inventory asks for."""

from __future__ import annotations

import shlex
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from nornir.core.task import Result, Task

from nornir_anycast.deploy.gate import BgpGate
from nornir_anycast.deploy.journal import HostJournal, Journal
from nornir_anycast.design import healthcheck
from nornir_anycast.design.model import Design, HostModel
from nornir_anycast.device import drain_marker as drain_state
from nornir_anycast.device import linux_net, services
from nornir_anycast.device.commands import bird_command, router_command
from nornir_anycast.device.diff import unified_diff
from nornir_anycast.device.shell import Shell
from nornir_anycast.exceptions import ConfigCheckError, DeviceError
from nornir_anycast.inventory.secrets import redact
from nornir_anycast.render.checkers import target_check_command
from nornir_anycast.render.nftables import NFT_TABLE, nftables_wanted

CONNECTION_NAME = "netmiko"
NEW = ".na-new"
PREV = ".na-prev"
PREV_RUNNING = ".na-prev-running"  # FRR's running configuration saved before frr-reload
FRR_RELOAD = "/usr/lib/frr/frr-reload.py"


@dataclass(frozen=True)
class FileToApply:
    path: str
    content: str
    checker: str | None  # "bird2", "bird1", "nginx", "frr", "nft" or None
    current: str | None
    includes: tuple[tuple[str, str], ...] = ()
    mode: str = "0644"


def _unified(path: str, old: str | None, new: str) -> str:
    return unified_diff(old, new, fromfile=f"{path} (running)", tofile=f"{path} (rendered)")


def _frr_delta(shell: Shell, new_path: str) -> str:
    """frr-reload's `--test` answer: the lines it would delete and add (empty when in sync).

    Only the two sections are kept (`-` deleted, `+` added, context lines as printed); its log
    lines are not part of the answer.
    """
    out = shell.check(f"{FRR_RELOAD} --test --log-level error {shlex.quote(new_path)}",
                      read_timeout=120)
    lines: list[str] = []
    section = ""
    for ln in out.splitlines():
        if ln.startswith("Lines To Delete"):
            section = "-"
        elif ln.startswith("Lines To Add"):
            section = "+"
        elif section and ln.strip() and not ln.startswith("====="):
            lines.append(f"{section} {ln}")
    return "\n".join(lines)


def _frr_lines(config: str) -> list[str]:
    """A FRR configuration's statements, without the banner, version, separators and `end`, for
    a quick equality test (frr-reload decides whenever they differ)."""
    skip = ("Building configuration", "Current configuration", "frr version")
    return [ln.rstrip() for ln in config.splitlines()
            if ln.strip() not in ("", "!", "end") and not ln.startswith(skip)]


def _bird_established(shell: Shell, host: HostModel) -> bool:
    res = shell.run(bird_command(host, "show protocols").send)
    lines = [ln for ln in res.output.splitlines() if " BGP " in f" {ln} "]
    return res.ok and bool(lines) and all("Established" in ln for ln in lines)


def _deploy_linux(task: Task, me: HostModel, design: Design, files: dict[str, Any],
                  dry_run: bool, gate: BgpGate | None,
                  journal: HostJournal | None = None) -> Result:
    conn = task.host.get_connection(CONNECTION_NAME, task.nornir.config)
    shell = Shell(conn, me.name)
    log = journal or HostJournal(me.name, me.platform)  # steps recorded before they are taken
    diffs: list[str] = []

    desired = linux_net.desired_state(me)
    net_changes = linux_net.plan(desired, linux_net.actual_state(shell, desired))
    diffs += [c.diff for c in net_changes]

    if healthcheck.enabled(me):
        _require_binary(shell, me)

    # Which rendered files differ from what the host has.
    changed_files: list[FileToApply] = []
    frr_conf: FileToApply | None = None
    created: set[str] = set()  # create-only files the host lacks (the healthchecker's include)
    for rendered in files.values():
        current = shell.read_file(rendered.path)
        f = FileToApply(rendered.path, rendered.content, rendered.checker, current,
                        rendered.includes, rendered.mode)
        if rendered.checker == "frr":
            frr_conf = f
            continue
        if rendered.create_only and current is not None:
            continue  # someone else's file from now on
        if current != rendered.content:
            changed_files.append(f)
            diffs.append(_unified(f.path, current, f.content))
            if rendered.create_only:
                created.add(f.path)

    # Files in the way (Debian's default nginx site also claims default_server).
    removals: list[str] = []
    if me.role == "server":
        for path in me.paths.nginx_disable:
            q = shlex.quote(path)
            if shell.run(f"[ -e {q} ] || [ -L {q} ]").ok:
                removals.append(path)
                diffs.append(f"- {path} (moved aside: conflicts with the anycast site)")
    # Checks of anycast prefixes the server no longer has.
    stale = _stale_checks(shell, me, files) if healthcheck.enabled(me) else []
    diffs += [f"- {path} (no such anycast prefix any more)" for path in stale]

    # FRR in sync (running config and file both as rendered): nothing to stage or reload.
    if frr_conf is not None and frr_conf.current == frr_conf.content:
        running = shell.run(router_command(me, "show running-config").send)
        if running.ok and _frr_lines(running.output) == _frr_lines(frr_conf.content):
            frr_conf = None

    # Stage and check everything on the target before anything goes live.
    staged: list[str] = []
    try:
        for f in [*changed_files, *([frr_conf] if frr_conf else [])]:
            shell.write_file(f.path + NEW, f.content, mode=f.mode)
            staged.append(f.path + NEW)
            if f.checker:
                check_path = f.path + NEW
                missing = [p for p, _ in f.includes if p in created]
                if missing:  # check against the staged include the host does not have yet
                    text = f.content
                    for path in missing:
                        text = text.replace(f'include "{path}";', f'include "{path}{NEW}";')
                    check_path = f.path + NEW + ".check"
                    shell.write_file(check_path, text, mode="0600")
                    staged.append(check_path)
                res = shell.run(target_check_command(f.checker, check_path))
                if not res.ok:
                    raise ConfigCheckError(
                        f"{me.name}: rendered {f.path} rejected by {f.checker} check, nothing "
                        f"applied: {res.output.strip()[-800:]}")
        frr_delta = ""
        if frr_conf is not None:
            frr_delta = _frr_delta(shell, frr_conf.path + NEW)
            if frr_delta:
                diffs.append(f"--- {frr_conf.path} (running config)\n+++ {frr_conf.path} "
                             f"(rendered)\n{frr_delta}")
            elif frr_conf.current != frr_conf.content:
                changed_files.append(frr_conf)  # running config in sync; file on disk is not
                diffs.append(_unified(frr_conf.path, frr_conf.current, frr_conf.content))
        service_actions = _service_actions(shell, me, changed_files, removals, stale)
        diffs += [f"~ {a}" for a in service_actions]
        diff = "\n".join(d.rstrip("\n") for d in diffs if d)
        if dry_run or not diff:
            return Result(host=task.host, diff=diff, changed=bool(diff) and not dry_run,
                          result={"dry_run": dry_run, "actions": []})

        actions: list[str] = []
        mutating = False  # set once a step that changes the host has been sent
        try:
            # Keep every file this run replaces as `<path>.na-prev` before anything changes (FRR's
            # frr-reload rewrites frr.conf with `write`): the file as it was before this deploy, or
            # no `.na-prev` when there was none (a stale one from an earlier run would restore the
            # wrong file).
            replaced = [*changed_files,
                        *([frr_conf] if frr_conf is not None and frr_delta
                          and frr_conf not in changed_files else [])]
            for f in replaced:
                q = shlex.quote(f.path)
                log.files.append((f.path, f.current is not None))
                shell.check(f"if [ -e {q} ]; then cp -p {q} {q}{PREV}; else rm -f {q}{PREV}; fi")
            mutating = True
            for c in net_changes:
                log.net.append((c.diff, c.undo))
                shell.check(c.command)
                actions.append(c.diff)
            if frr_conf is not None and frr_delta:
                # The running configuration as it is now, as a plain file frr-reload accepts.
                saved = frr_conf.path + PREV_RUNNING
                shell.check(f"umask 077; {router_command(me, 'show running-config').send}"
                            " | grep -v -e "
                            f"'^Building configuration' -e '^Current configuration' "
                            f"> {shlex.quote(saved)}")
                log.frr_prev_running = saved
                shell.check(f"{FRR_RELOAD} --reload --log-level error "
                            f"{shlex.quote(frr_conf.path + NEW)}",
                            read_timeout=180)
                actions.append("frr-reload applied")
                if frr_conf not in changed_files:
                    changed_files.append(frr_conf)
            for path in stale:
                log.moved.append((path, path + PREV))
                shell.check(f"mv -f {shlex.quote(path)} {shlex.quote(path + PREV)}")
                actions.append(f"removed {path}")
            for path in removals:
                aside = _aside(path)
                log.moved.append((path, aside))
                shell.check(f"mkdir -p {shlex.quote(aside.rsplit('/', 1)[0])} && "
                            f"mv -f {shlex.quote(path)} {shlex.quote(aside)}")
                actions.append(f"moved aside {path} to {aside}")
            for f in changed_files:
                shell.check(f"mv -f {shlex.quote(f.path + NEW)} {shlex.quote(f.path)}")
                staged.remove(f.path + NEW)
                actions.append(f"wrote {f.path}")
            if me.platform == "frr":
                log.nft_table_before = shell.run(f"nft list table ip {NFT_TABLE}").ok
            actions += _run_services(shell, me, service_actions, gate, log)
            return Result(host=task.host, diff=diff, changed=True,
                          result={"dry_run": False, "actions": actions})
        except Exception as exc:
            # Failed half-way: the host may already differ from before, so say so (changed) and
            # carry the error; what was done is in `actions` (and in the rollback journal).
            return Result(host=task.host, diff=diff, changed=mutating, failed=True,
                          exception=exc, result={"dry_run": False, "actions": actions})
    finally:
        for path in staged:
            shell.run(f"rm -f {shlex.quote(path)}")


def _aside(path: str) -> str:
    """Where a conflicting file goes: `/etc/nginx/sites-enabled/default` ->
    `/etc/nginx/nornir-anycast-disabled/default`, outside every directory nginx includes."""
    parent, name = path.rstrip("/").rsplit("/", 1)
    grandparent = parent.rsplit("/", 1)[0] or "/"
    return f"{grandparent.rstrip('/')}/nornir-anycast-disabled/{name}"


def _require_binary(shell: Shell, me: HostModel) -> None:
    """anycast-healthchecker must be installed where the inventory says (checked before
    anything is changed, also on a dry run)."""
    path = healthcheck.binary(me)
    if not shell.run(f"[ -x {shlex.quote(path)} ]").ok:
        raise DeviceError(
            f"{me.name}: healthcheck.binary={me.healthcheck.binary!r}: {path} is not an "
            "executable on the server; install anycast-healthchecker there (pip install "
            "anycast-healthchecker==0.9.10) or point healthcheck.binary at it")


def _stale_checks(shell: Shell, me: HostModel, files: dict[str, Any]) -> list[str]:
    """Check files in the healthchecker's directory that the inventory no longer renders."""
    directory = me.paths.healthchecker_dir.rstrip("/")
    res = shell.run(f"ls -1 {shlex.quote(directory)}/*.conf 2>/dev/null")
    present = [ln.strip() for ln in res.output.splitlines()
               if ln.strip().startswith(directory + "/")] if res.ok else []
    wanted = {f.path for f in files.values()}
    return [p for p in present if p not in wanted]


def _service_actions(shell: Shell, me: HostModel, changed: list[FileToApply],
                     removed: Sequence[str] = (), stale: Sequence[str] = ()) -> list[str]:
    """Which services to start or reload: `start bird`, `reload nginx`, `apply nftables`, ..."""
    actions = []
    changed_paths = {f.path for f in changed}
    if me.platform == "frr":
        # NAT lives in our own nftables table: (re)load it when its file changed or the table is
        # gone although the file is not (a restarted host); drop it when no NAT is asked for.
        present = shell.run(f"nft list table ip {NFT_TABLE}").ok
        if nftables_wanted(me) and (me.paths.nftables_conf in changed_paths or not present):
            actions.append("apply nftables")
        elif not nftables_wanted(me) and present:
            actions.append("remove nftables")
    if me.role == "server":
        for name, cmds, conf in (("bird", services.bird(me), me.paths.bird_conf),
                                 ("nginx", services.nginx(me), me.paths.nginx_site)):
            running = shell.run(cmds.running).ok
            if not running:
                actions.append(f"start {name}")
            elif conf in changed_paths or (name == "nginx" and removed):
                actions.append(f"reload {name}")
        hc = services.healthchecker(me)
        if healthcheck.enabled(me):
            own = {me.paths.healthchecker_conf, healthcheck.SYSTEMD_UNIT,
                   healthcheck.OPENRC_SCRIPT}
            mine = any(p in own or p.startswith(me.paths.healthchecker_dir.rstrip("/") + "/")
                       for p in changed_paths)
            if not shell.run(hc.running).ok:
                actions.append("start healthchecker")
            elif mine or stale:
                actions.append("restart healthchecker")
        elif shell.run(hc.running).ok:
            actions.append("stop healthchecker")
        if "reload bird" in actions:
            # A BIRD that is announcing reloads last: nginx and the healthchecker first, so a
            # server switched to health-checked announcements keeps announcing what is healthy.
            actions.remove("reload bird")
            actions.append("reload bird")
    return actions


def _run_services(shell: Shell, me: HostModel, actions: list[str],
                  gate: BgpGate | None, log: HostJournal | None = None) -> list[str]:
    done = []
    for action in actions:
        if log is not None:
            log.services.append(action)
        verb, name = action.split(" ", 1)
        if name == "nftables":
            q = shlex.quote(me.paths.nftables_conf)
            if verb == "remove":
                if log is not None:
                    log.moved.append((me.paths.nftables_conf, me.paths.nftables_conf + PREV))
                shell.check(f"nft delete table ip {NFT_TABLE} && "
                            f"if [ -e {q} ]; then mv -f {q} {q}{PREV}; fi")
            elif not (res := shell.run(f"nft -f {q}")).ok:
                # `nft -c` misses what the kernel refuses only at commit (masquerade in a
                # prerouting chain); the transaction is void, the old table stays. Put the old
                # file back too, so that the next deploy sees the difference and tries again.
                shell.run(f"if [ -e {q}{PREV} ]; then mv -f {q}{PREV} {q}; else rm -f {q}; fi")
                raise DeviceError(f"{me.name}: 'nft -f {me.paths.nftables_conf}' failed (exit "
                                  f"{res.rc}), previous NAT table and file kept: "
                                  f"{res.output.strip()[-500:]}")
            done.append(action)
            continue
        if name == "healthchecker":
            _run_healthchecker(shell, me, verb)
            done.append(action)
            continue
        cmds = services.bird(me) if name == "bird" else services.nginx(me)
        if name == "nginx":
            shell.check("nginx -t -q")
            shell.check(cmds.start if verb == "start" else cmds.reload)
            done.append(action)
            continue
        if verb == "start":
            shell.check(cmds.start)  # not announcing yet: nothing to protect
            done.append(action)
            continue
        # A running BIRD announces the service: take turns, and wait for the session.
        gate = gate or BgpGate()
        with gate.turn(me.name):
            out = shell.check(cmds.reload)
            if "Reconfigur" not in out and "reconfigur" not in out:
                raise DeviceError(f"{me.name}: {cmds.reload!r}: {out.strip()[-300:]}")
            if not gate.wait_until(lambda: _bird_established(shell, me)):
                raise DeviceError(f"{me.name}: BGP session not Established "
                                  f"{gate.settle_timeout:.0f} s after reconfiguring BIRD")
        done.append(action)
    return done


def _run_healthchecker(shell: Shell, me: HostModel, verb: str) -> None:
    """Start, restart or stop anycast-healthchecker; a start must still be running 1 s later
    (it exits at once on a bad configuration, saying why)."""
    cmds = services.healthchecker(me)
    if verb == "stop":
        shell.check(cmds.stop)
        return
    shell.check(cmds.start if verb == "start" else cmds.reload)
    started = time.monotonic()
    deadline = started + 5.0
    while not shell.run(cmds.running).ok:
        if time.monotonic() > deadline:
            why = ""
            if me.service_manager == "lab":
                why = shell.run(f"tail -5 {shlex.quote(me.paths.healthchecker_log + '.out')}"
                                ).output.strip()
            raise DeviceError(f"{me.name}: anycast-healthchecker did not stay up after "
                              f"{verb}: {why or 'no message'}")
        time.sleep(0.2)
    time.sleep(1.0)
    if not shell.run(cmds.running).ok:
        why = ""
        if me.service_manager == "lab":
            why = shell.run(f"tail -5 {shlex.quote(me.paths.healthchecker_log + '.out')}"
                            ).output.strip()
        raise DeviceError(f"{me.name}: anycast-healthchecker exited right after {verb}: "
                          f"{why or 'no message'}")
    if verb == "start":
        # Give it time for its first verdicts (rise checks), so that BIRD, reloaded or started
        # after it, announces what is healthy at once; an unhealthy prefix stays withdrawn.
        checks = [c for c in healthcheck.prefix_checks(me) if not c.disabled]
        wait = max((c.rise + 1) * c.interval + c.timeout for c in checks) if checks else 0.0
        want = {c.prefix for c in checks}
        while time.monotonic() < started + wait:
            _, have = healthcheck.parse_include(
                shell.read_file(me.paths.healthchecker_include) or "")
            if want <= set(have):
                break
            time.sleep(0.2)


def commit_confirm(conn: Any, minutes: int) -> str:
    """`commit-confirm N` on VyOS (netmiko 4.8's VyOSSSH.commit has no confirm option): VyOS
    asks `Proceed? [confirm]`, we answer `y`. Unless `confirm` follows within N minutes, VyOS
    reboots into its saved configuration, which deploy has not overwritten (no `save` yet)."""
    out: str = conn.send_command(f"commit-confirm {minutes}",
                                 expect_string=r"\[confirm\]|[#$]\s*$", read_timeout=120)
    if "[confirm]" in out:
        out += conn.send_command("y", expect_string=r"[#$]\s*$", read_timeout=120)
    if any(x in out for x in ("Commit failed", "Failed to generate committed config")):
        raise DeviceError(f"commit-confirm {minutes} failed: {out.strip()[-500:]}")
    return out


def _deploy_vyos(task: Task, me: HostModel, commands: list[str], dry_run: bool,
                 journal: HostJournal | None = None, confirm_minutes: int = 5) -> Result:
    """VyOS: enter configure, send the `set` lines, `compare` for the diff, commit and save
    (or `exit discard` on dry-run, on no change, and on any error). With a journal (deploy
    --rollback-on-failure): `commit-confirm N` and no save; `confirm` and `save` come after
    verify passed (nornir_anycast.tasks.confirm_commit)."""
    conn = task.host.get_connection(CONNECTION_NAME, task.nornir.config)
    conn.config_mode()
    committed = False
    try:
        conn.send_config_set(commands, exit_config_mode=False)
        diff = conn.send_command("compare", expect_string=r"#").strip()
        if "No changes" in diff or not diff:
            diff = ""
        if dry_run or not diff:
            return Result(host=task.host, diff=diff, changed=bool(diff) and not dry_run,
                          result={"dry_run": dry_run, "actions": []})
        if journal is not None:
            journal.commit_confirm_minutes = confirm_minutes
            commit_confirm(conn, confirm_minutes)
            committed = True
            return Result(host=task.host, diff=diff, changed=True,
                          result={"dry_run": False,
                                  "actions": [f"commit-confirm {confirm_minutes}"]})
        conn.commit()
        committed = True
        conn.send_command("save", expect_string=r"#")
        return Result(host=task.host, diff=diff, changed=True,
                      result={"dry_run": False, "actions": ["commit", "save"]})
    finally:
        if not committed:
            conn.send_command("exit discard", expect_string=r"[$#]")
        else:
            conn.exit_config_mode()


def deploy_anycast(task: Task, *, design: Design, dry_run: bool | None = None,
                   gate: BgpGate | None = None, journal: Journal | None = None) -> Result:
    """Render this host's configuration and apply it, checking every file on the target first.

    Linux hosts (FRR routers, servers, clients): addresses, default route and sysctls with
    `ip`/`sysctl`; files staged as `<path>.na-new`, checked with the platform's own checker
    (`bird -p`, `nginx -t`, `vtysh -C`), then moved into place (the old one kept as
    `<path>.na-prev`); FRR reloaded diff-based with frr-reload; NAT (nftables.conf, `nft -c`)
    loaded with `nft -f` when it changed or its table is missing; BIRD and nginx started when
    stopped and reloaded only when their configuration changed. Servers that are already
    announcing reconfigure BIRD one `gate` place at a time. VyOS: set commands, compare, commit.

    With `journal` (deploy --rollback-on-failure), every step is recorded in it before it is
    taken (nornir_anycast.deploy.journal), for nornir_anycast.tasks.rollback_anycast; VyOS then
    commits with `commit-confirm` and does not save.

    Servers with `healthcheck.enabled`: anycast-healthchecker's files (its BIRD include created
    only when missing, announcing nothing until the first checks pass), the daemon started, or
    restarted when its files changed; deploy fails before changing anything when the binary is
    missing. A drained server (marker `paths.drain_marker`, see
    nornir_anycast.device.drain_marker) is rendered in its drain phase, so it stays drained.

    Returns:
        Result with `diff` (what changed or, with dry_run, would change; passwords shown as
        `********`), `changed` (True only when something was changed),
        `result` = {"dry_run": bool, "actions": [...], "drained": None or
        {"phase", "since", "by"}}.
    """
    from nornir_anycast.render import render_host

    me = design.hosts[task.host.name]
    dry = task.is_dry_run(dry_run)
    drained = None
    if me.role == "server" and me.platform == "linux":
        conn = task.host.get_connection(CONNECTION_NAME, task.nornir.config)
        drained = drain_state.read_state(Shell(conn, me.name), me)
    files = (render_host(me, design, drain=drained.phase) if drained
             else render_host(me, design))
    if me.platform == "vyos":
        commands = [ln for f in files.values() for ln in f.content.splitlines()
                    if ln.startswith(("set ", "delete "))]
        log = journal.host(me.name, me.platform) if journal is not None else None
        result = _deploy_vyos(task, me, commands, dry, log,
                              journal.confirm_minutes if journal is not None else 5)
    else:
        log = journal.host(me.name, me.platform) if journal is not None else None
        result = _deploy_linux(task, me, design, files, dry, gate, log)
    result.diff = redact(result.diff or "")  # a report: a changed bird.conf shows its password
    if isinstance(result.result, dict):
        result.result["drained"] = drained.as_dict() if drained else None
    return result
