"""Deploy to a Linux host (FRR routers, servers, clients), in the steps deploy_anycast shows.

1. `plan`: what differs (network state, rendered files against the host's, files in the way,
   stale health checks); reads only.
2. `stage_and_check`: every changed file staged as `<path>.na-new` and checked on the target
   with the platform's own checker (`bird -p`, `nginx -t`, `vtysh -C`, `nft -c`); FRR's delta
   asked from frr-reload `--test`; the service actions decided. Nothing live changes; the
   staged files are removed by `cleanup` (also on a dry run, which stops here).
3. `apply`: the old files kept as `<path>.na-prev`, network changes, frr-reload, files moved
   into place, each step recorded in the journal before it is taken.
4. `run_services`: BIRD, nginx, anycast-healthchecker, the nginx watcher (design.healthcheck
   .watched) and NAT started, reloaded or stopped;
   servers already announcing take turns through the BgpGate.

Nothing here knows Nornir: the steps take a Shell (nornir_anycast.device.shell).
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from nornir_anycast.deploy.gate import BgpGate
from nornir_anycast.deploy.journal import HostJournal
from nornir_anycast.design import healthcheck
from nornir_anycast.design.model import HostModel
from nornir_anycast.device import linux_net, services
from nornir_anycast.device.commands import bird_command, router_command
from nornir_anycast.device.diff import unified_diff
from nornir_anycast.device.shell import Shell
from nornir_anycast.exceptions import ConfigCheckError, DeviceError
from nornir_anycast.inventory.secrets import redact
from nornir_anycast.render import RenderedFile
from nornir_anycast.render.checkers import target_check_command
from nornir_anycast.render.nftables import NFT_TABLE, nftables_wanted

NEW = ".na-new"
PREV = ".na-prev"
PREV_RUNNING = ".na-prev-running"  # FRR's running configuration saved before frr-reload
FRR_RELOAD = "/usr/lib/frr/frr-reload.py"


@dataclass(frozen=True)
class FileToApply:
    """A rendered file as deploy applies it, with the host's `current` text (None: absent)."""

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




@dataclass
class LinuxPlan:
    """What a deploy will do on one Linux host; filled by `plan` and `stage_and_check`.

    Holds file contents (with their secrets): it stays in the deploy, never in a Result.
    """

    me: HostModel
    net_changes: list[linux_net.Change] = field(default_factory=list)
    changed_files: list[FileToApply] = field(default_factory=list)
    frr_conf: FileToApply | None = None
    frr_delta: str = ""
    created: set[str] = field(default_factory=set)  # create-only files the host lacks
    removals: list[str] = field(default_factory=list)  # files in the way, moved aside
    stale: list[str] = field(default_factory=list)  # health checks of prefixes gone
    service_actions: list[str] = field(default_factory=list)
    # FRR's service, before frr-reload: started, or restarted for a changed daemons file.
    frr_actions: list[str] = field(default_factory=list)
    staged: list[str] = field(default_factory=list)  # staged paths still on the host
    checked: list[str] = field(default_factory=list)  # files checked on the target
    diffs: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)  # what apply did, step by step
    mutating: bool = False  # set once a step that changes the host has been sent

    @property
    def diff(self) -> str:
        """Every change as one text (file diffs, network and service lines), secrets redacted."""
        return redact("\n".join(d.rstrip("\n") for d in self.diffs if d))

    def summary(self) -> dict[str, list[str]]:
        """The plan as plain data for a Result: paths and lines, no file content."""
        return {"files": [f.path for f in self.changed_files],
                "checked": list(self.checked),
                "network": [c.diff for c in self.net_changes],
                "moved_aside": list(self.removals), "stale_checks": list(self.stale),
                "services": [*self.frr_actions, *self.service_actions]}


def plan(shell: Shell, me: HostModel, files: Mapping[str, RenderedFile]) -> LinuxPlan:
    """Compare the rendered `files` and the network state with the host's; reads only.

    Raises:
        DeviceError: a server with `healthcheck.enabled` lacks the anycast-healthchecker
            binary (checked before anything is changed, also on a dry run).
    """
    p = LinuxPlan(me=me)
    desired = linux_net.desired_state(me)
    p.net_changes = linux_net.plan(desired, linux_net.actual_state(shell, desired))
    p.diffs += [c.diff for c in p.net_changes]

    if healthcheck.enabled(me):
        _require_binary(shell, me)

    # Which rendered files differ from what the host has.
    for rendered in files.values():
        if rendered.path is None:
            raise DeviceError(f"{me.name}: a rendered file without a path cannot be copied to "
                              "a Linux host")
        current = shell.read_file(rendered.path)
        f = FileToApply(rendered.path, rendered.content, rendered.checker, current,
                        rendered.includes, rendered.mode)
        if rendered.checker == "frr":
            p.frr_conf = f
            continue
        if rendered.create_only and current is not None:
            continue  # someone else's file from now on
        if current != rendered.content:
            p.changed_files.append(f)
            p.diffs.append(_unified(f.path, current, f.content))
            if rendered.create_only:
                p.created.add(f.path)

    # Files in the way (Debian's default nginx site also claims default_server).
    if me.role == "server":
        for path in me.paths.nginx_disable:
            q = shlex.quote(path)
            if shell.run(f"[ -e {q} ] || [ -L {q} ]").ok:
                p.removals.append(path)
                p.diffs.append(f"- {path} (moved aside: conflicts with the anycast site)")
    # Checks of anycast prefixes the server no longer has.
    p.stale = _stale_checks(shell, me, files) if healthcheck.enabled(me) else []
    p.diffs += [f"- {path} (no such anycast prefix any more)" for path in p.stale]

    # FRR in sync (running config and file both as rendered): nothing to stage or reload.
    if p.frr_conf is not None and p.frr_conf.current == p.frr_conf.content:
        running = shell.run(router_command(me, "show running-config").send)
        if running.ok and _frr_lines(running.output) == _frr_lines(p.frr_conf.content):
            p.frr_conf = None
    return p


def stage_and_check(shell: Shell, p: LinuxPlan) -> None:
    """Stage every changed file as `<path>.na-new` and check it on the target; ask frr-reload
    for FRR's delta; decide the service actions. Nothing live changes (`cleanup` removes the
    staged files).

    Raises:
        ConfigCheckError: a staged file was rejected by its checker (its words, redacted).
    """
    me = p.me
    staged = [*p.changed_files, *([p.frr_conf] if p.frr_conf else [])]
    # Every file staged before any is checked: a file is checked against the staged copies of
    # the new files it includes (bird.conf includes anycast-prefixes.conf and, sorted after it,
    # nginx-state.conf).
    for f in staged:
        shell.write_file(f.path + NEW, f.content, mode=f.mode, like=f.path)
        p.staged.append(f.path + NEW)
    for f in staged:
        if f.checker:
            check_path = f.path + NEW
            missing = [path for path, _ in f.includes if path in p.created]
            if missing:  # check against the staged include the host does not have yet
                text = f.content
                for path in missing:
                    text = text.replace(f'include "{path}";', f'include "{path}{NEW}";')
                check_path = f.path + NEW + ".check"
                shell.write_file(check_path, text, mode="0600")
                p.staged.append(check_path)
            res = shell.run(target_check_command(f.checker, check_path))
            if not res.ok:
                raise ConfigCheckError(
                    f"{me.name}: rendered {f.path} rejected by {f.checker} check, nothing "
                    f"applied: {redact(res.output.strip()[-800:])}")
            p.checked.append(f.path)
    if p.frr_conf is not None:
        p.frr_delta = _frr_delta(shell, p.frr_conf.path + NEW)
        if p.frr_delta:
            p.diffs.append(f"--- {p.frr_conf.path} (running config)\n+++ {p.frr_conf.path} "
                           f"(rendered)\n{p.frr_delta}")
        elif p.frr_conf.current != p.frr_conf.content:
            p.changed_files.append(p.frr_conf)  # running config in sync; file on disk is not
            p.diffs.append(_unified(p.frr_conf.path, p.frr_conf.current, p.frr_conf.content))
    p.frr_actions = _frr_actions(shell, me, p.changed_files)
    p.service_actions = _service_actions(shell, me, p.changed_files, p.removals, p.stale)
    p.diffs += [f"~ {a}" for a in [*p.frr_actions, *p.service_actions]]


def apply(shell: Shell, p: LinuxPlan, log: HostJournal) -> list[str]:
    """Put the staged files live: keep the old ones, change the network state, frr-reload, move
    files aside; each step is recorded in `log` before it is taken. Returns what was done
    (also kept in `p.actions`, so a step that fails half-way still says what came before)."""
    me = p.me
    actions = p.actions
    # Keep every file this run replaces as `<path>.na-prev` before anything changes (FRR's
    # frr-reload rewrites frr.conf with `write`): the file as it was before this deploy, or
    # no `.na-prev` when there was none (a stale one from an earlier run would restore the
    # wrong file).
    frr_conf = p.frr_conf
    replaced = [*p.changed_files,
                *([frr_conf] if frr_conf is not None and p.frr_delta
                  and frr_conf not in p.changed_files else [])]
    for f in replaced:
        q = shlex.quote(f.path)
        log.files.append((f.path, f.current is not None))
        shell.check(f"if [ -e {q} ]; then cp -p {q} {q}{PREV}; else rm -f {q}{PREV}; fi")
    p.mutating = True
    for c in p.net_changes:
        log.net.append((c.diff, c.undo))
        shell.check(c.command)
        actions.append(c.diff)
    if frr_conf is not None and p.frr_delta:
        # The running configuration as it is now, as a plain file frr-reload accepts.
        saved = frr_conf.path + PREV_RUNNING
        shell.check(f"umask 077; {router_command(me, 'show running-config').send}"
                    " | grep -v -e "
                    f"'^Building configuration' -e '^Current configuration' "
                    f"> {shlex.quote(saved)}")
        log.frr_prev_running = saved
    _run_frr_service(shell, p, log)
    if frr_conf is not None and p.frr_delta:
        shell.check(f"{FRR_RELOAD} --reload --log-level error "
                    f"{shlex.quote(frr_conf.path + NEW)}",
                    read_timeout=180)
        actions.append("frr-reload applied")
        if frr_conf not in p.changed_files:
            p.changed_files.append(frr_conf)
    for path in p.stale:
        log.moved.append((path, path + PREV))
        shell.check(f"mv -f {shlex.quote(path)} {shlex.quote(path + PREV)}")
        actions.append(f"removed {path}")
    for path in p.removals:
        aside = _aside(path)
        log.moved.append((path, aside))
        shell.check(f"mkdir -p {shlex.quote(aside.rsplit('/', 1)[0])} && "
                    f"mv -f {shlex.quote(path)} {shlex.quote(aside)}")
        actions.append(f"moved aside {path} to {aside}")
    for f in p.changed_files:
        if f.path + NEW in p.staged:  # not put in place before FRR's restart already
            _put_in_place(shell, p, f)
    if me.platform == "frr":
        log.nft_table_before = shell.run(f"nft list table ip {NFT_TABLE}").ok
    return list(actions)


def _put_in_place(shell: Shell, p: LinuxPlan, f: FileToApply) -> None:
    shell.check(f"mv -f {shlex.quote(f.path + NEW)} {shlex.quote(f.path)}")
    p.staged.remove(f.path + NEW)
    p.actions.append(f"wrote {f.path}")


def _run_frr_service(shell: Shell, p: LinuxPlan, log: HostJournal) -> None:
    """FRR's service before frr-reload: a changed daemons file put in place and FRR restarted
    (only a restart starts bgpd or bfdd), or FRR started and enabled; each step journaled."""
    cmds = services.frr(p.me)
    if not p.frr_actions or cmds is None:
        return
    daemons = next((f for f in p.changed_files if f.path == p.me.paths.frr_daemons), None)
    if daemons is not None and daemons.path + NEW in p.staged:
        _put_in_place(shell, p, daemons)
    for action in p.frr_actions:
        log.services.append(action)
        verb = action.split(" ", 1)[0]
        command = {"start": cmds.start, "restart": cmds.reload, "enable": cmds.enable}[verb]
        shell.check(str(command), read_timeout=180)
        p.actions.append(action)


def _frr_actions(shell: Shell, me: HostModel, changed: list[FileToApply]) -> list[str]:
    """`restart frr` (daemons file changed), `start frr` (not running) and `enable frr` (not
    enabled at boot) on an FRR router its service manager runs; none in the namespace lab."""
    cmds = services.frr(me)
    if me.platform != "frr" or cmds is None:
        return []
    running = shell.run(cmds.running).ok
    actions = []
    if me.paths.frr_daemons in {f.path for f in changed}:
        actions.append("restart frr" if running else "start frr")
    elif not running:
        actions.append("start frr")
    if "start frr" not in actions and cmds.enabled and not shell.run(cmds.enabled).ok:
        actions.append("enable frr")
    return actions


def cleanup(shell: Shell, p: LinuxPlan) -> None:
    """Remove whatever is still staged (checked copies, files not moved into place)."""
    for path in list(p.staged):
        shell.run(f"rm -f {shlex.quote(path)}")
        p.staged.remove(path)


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


def _stale_checks(shell: Shell, me: HostModel, files: Mapping[str, RenderedFile]) -> list[str]:
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
    if me.service_manager == "systemd" and any(p.startswith(services.UNIT_DIR)
                                               for p in changed_paths):
        actions.append("reload systemd")  # a unit file changed: re-read before any start
    if me.role == "server":
        for name, cmds, conf in (("bird", services.bird(me), me.paths.bird_conf),
                                 ("nginx", services.nginx(me), me.paths.nginx_site)):
            running = shell.run(cmds.running).ok
            if not running:
                actions.append(f"start {name}")  # enables it too under systemd
                continue
            if conf in changed_paths or (name == "nginx" and removed):
                actions.append(f"reload {name}")
            if cmds.enabled is not None and not shell.run(cmds.enabled).ok:
                actions.append(f"enable {name}")
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
        # The event path (nginx's exit withdraws at once): started once nginx runs; restarted
        # only when its own files changed (a restarted lab watcher leaves BIRD as it is).
        # Switched off, its systemd unit is stopped (withdrawing, as its ExecStop does) before
        # BIRD is reloaded without the state file, which enables the protocol again.
        watch = services.watcher(me)
        if healthcheck.watched(me):
            own = {me.paths.service_watch, me.paths.service_watch_conf, healthcheck.WATCH_UNIT}
            if not shell.run(watch.running).ok:
                actions.append("start watcher")
            elif own & changed_paths:
                actions.append("restart watcher")
        elif shell.run(watch.running).ok:
            actions.append("stop watcher")
        if "reload bird" in actions:
            # A BIRD that is announcing reloads last: nginx and the healthchecker first, so a
            # server switched to health-checked announcements keeps announcing what is healthy.
            actions.remove("reload bird")
            actions.append("reload bird")
    return actions


def run_services(shell: Shell, me: HostModel, actions: list[str],
                 gate: BgpGate | None, log: HostJournal | None = None) -> list[str]:
    """Carry out the service `actions` stage_and_check decided, in order; returns those done."""
    done = []
    for action in actions:
        if log is not None:
            log.services.append(action)
        verb, name = action.split(" ", 1)
        if name == "systemd":
            shell.check(services.DAEMON_RELOAD)
            done.append(action)
            continue
        if verb == "enable":
            cmds_ = services.by_name(me, name)
            if cmds_ is None or cmds_.enable is None:
                raise DeviceError(f"{me.name}: no way to enable {name} under "
                                  f"service_manager {me.service_manager}")
            shell.check(cmds_.enable)
            done.append(action)
            continue
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
        if name == "watcher":
            _run_watcher(shell, me, verb)
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


def _healthchecker_output(shell: Shell, me: HostModel) -> str:
    """What anycast-healthchecker printed when it would not start (the lab keeps its output in
    `<log>.out`; elsewhere the service manager has it), or `no message`."""
    why = ""
    if me.service_manager == "lab":
        why = shell.run(f"tail -5 {shlex.quote(me.paths.healthchecker_log + '.out')}"
                        ).output.strip()
    elif me.service_manager == "systemd":
        why = shell.run("journalctl -u anycast-healthchecker -n 5 --no-pager -o cat"
                        ).output.strip()
    return why or "no message"


def _unit_state(shell: Shell, unit: str) -> str:
    """What systemd says of `unit` when a command on it failed: its result and its journal's
    last lines (`systemctl` itself only says to go and look)."""
    q = shlex.quote(unit)
    state = shell.run(f"systemctl show -p ActiveState,SubState,Result {q} --value "
                      f"| paste -sd/").output.strip()
    journal = shell.run(f"journalctl -u {q} -n 6 --no-pager -o cat 2>&1").output.strip()
    lines = " | ".join(line for line in journal.splitlines() if line.strip())
    return f"{unit}: {state or 'no state'}; journal: {lines or 'empty'}"


def _run_watcher(shell: Shell, me: HostModel, verb: str) -> None:
    """Start, restart or stop the event path; a started one must be running within 5 s (the
    lab's watcher writes its pid file once it runs; its log says why it did not)."""
    cmds = services.watcher(me)
    steps = {"start": (cmds.start,), "restart": cmds.restart_steps(), "stop": (cmds.stop,)}
    for command in steps[verb]:
        try:
            shell.check(command)
        except DeviceError as err:
            if me.service_manager != "systemd":
                raise
            raise DeviceError(f"{err}; {_unit_state(shell, healthcheck.WATCH_UNIT_NAME)}"
                              ) from err
    if verb == "stop":
        return
    deadline = time.monotonic() + 5.0
    while not shell.run(cmds.running).ok:
        if time.monotonic() > deadline:
            why = "no message"
            if me.service_manager == "lab":
                why = shell.run(f"tail -5 {shlex.quote(me.paths.service_watch_log)}"
                                ).output.strip() or why
            raise DeviceError(f"{me.name}: the nginx watcher did not start after {verb}: "
                              f"{why}")
        time.sleep(0.1)


def _run_healthchecker(shell: Shell, me: HostModel, verb: str) -> None:
    """Start, restart or stop anycast-healthchecker; a start must still be running 1 s later
    (it exits at once on a bad configuration, saying why)."""
    cmds = services.healthchecker(me)
    if verb == "stop":
        shell.check(cmds.stop)
        return
    for command in (cmds.start,) if verb == "start" else cmds.restart_steps():
        shell.check(command)
    started = time.monotonic()
    deadline = started + 5.0
    while not shell.run(cmds.running).ok:
        if time.monotonic() > deadline:
            raise DeviceError(f"{me.name}: anycast-healthchecker did not stay up after "
                              f"{verb}: {_healthchecker_output(shell, me)}")
        time.sleep(0.2)
    time.sleep(1.0)
    if not shell.run(cmds.running).ok:
        raise DeviceError(f"{me.name}: anycast-healthchecker exited right after {verb}: "
                          f"{_healthchecker_output(shell, me)}")
    if verb == "start":
        # Give it time for its first verdicts (rise checks), so that BIRD, reloaded or started
        # after it, announces what is healthy at once; an unhealthy prefix stays withdrawn.
        checks = [c for c in healthcheck.prefix_checks(me) if not c.disabled]
        wait = max((c.rise + 1) * c.interval + c.timeout for c in checks) if checks else 0.0
        want = {c.prefix for c in checks}
        while time.monotonic() < started + wait:
            have = [p for path in healthcheck.include_paths(me)  # IPv4, then IPv6
                    for p in healthcheck.parse_include(shell.read_file(path) or "")[1]]
            if want <= set(have):
                break
            time.sleep(0.2)
