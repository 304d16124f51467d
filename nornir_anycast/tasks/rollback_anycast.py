"""Nornir task: put a host back as it was before a deploy, from that deploy's journal."""

from __future__ import annotations

import shlex

from nornir.core.task import Result, Task

from nornir_anycast.deploy.journal import Journal
from nornir_anycast.design.model import Design, HostModel
from nornir_anycast.device import services
from nornir_anycast.device.shell import Shell
from nornir_anycast.exceptions import DeviceError
from nornir_anycast.inventory.secrets import redact
from nornir_anycast.render.nftables import NFT_TABLE
from nornir_anycast.tasks.deploy_anycast import CONNECTION_NAME, FRR_RELOAD, PREV

#: How a service action deploy took is undone, once the previous files are back.
_UNDO_VERB = {"start": "stop", "stop": "start", "reload": "reload", "restart": "restart"}


def _service_undo(shell: Shell, me: HostModel, action: str, nft_before: bool | None) -> str:
    verb, name = action.split(" ", 1)
    if name == "nftables":
        q = shlex.quote(me.paths.nftables_conf)
        if nft_before:
            shell.check(f"nft -f {q}")
            return f"nft -f {me.paths.nftables_conf} (previous NAT table)"
        shell.check(f"nft list table ip {NFT_TABLE} >/dev/null 2>&1 && "
                    f"nft delete table ip {NFT_TABLE} || true")
        return f"removed nftables table {NFT_TABLE} (there was none before)"
    undo = _UNDO_VERB[verb]
    if name == "healthchecker":
        cmds = services.healthchecker(me)
        shell.check({"stop": cmds.stop, "start": cmds.start}.get(undo, cmds.reload))
        return f"{undo} healthchecker"
    cmds = services.bird(me) if name == "bird" else services.nginx(me)
    if undo == "stop":
        if shell.run(cmds.running).ok:
            shell.check(cmds.stop)
        return f"stop {name} (it was not running before)"
    if undo == "start":
        if not shell.run(cmds.running).ok:
            shell.check(cmds.start)
        return f"start {name}"
    if name == "nginx":
        shell.check("nginx -t -q")
    out = shell.check(cmds.reload)
    if name == "bird" and "econfigur" not in out:
        raise DeviceError(f"{me.name}: {cmds.reload!r}: {out.strip()[-300:]}")
    return f"reload {name} (previous configuration)"


def rollback_anycast(task: Task, *, design: Design, journal: Journal,
                     dry_run: bool | None = None) -> Result:
    """Undo what deploy recorded in `journal` for this host, newest step first in each kind.

    Linux hosts: FRR is frr-reloaded with the running configuration saved before deploy's
    reload, every file deploy replaced is put back from `<path>.na-prev` (a file that did not
    exist before is removed), files it moved are moved back, its `ip`/`sysctl` changes are
    undone with the inverse commands, and services are stopped, started or reloaded back (BIRD
    `configure`, nginx reload, the previous nftables table). Every step is tried even when one
    fails; the failures make the Result failed. VyOS: nothing is sent; the unconfirmed
    `commit-confirm` reverts the router by itself (a reboot into its saved configuration).

    Returns:
        Result with `result` = list of what was restored (one line each), `changed` True when
        anything was put back, `failed` when a step failed (its message in `exception` and in
        the list, prefixed `FAILED`).
    """
    me = design.hosts[task.host.name]
    log = journal.get(me.name)
    if log is None or log.empty():
        return Result(host=task.host, result=[], changed=False)
    if task.is_dry_run(dry_run):
        return Result(host=task.host, result=[], changed=False)
    if log.commit_confirm_minutes is not None:
        return Result(host=task.host, changed=False, result=[
            f"commit-confirm {log.commit_confirm_minutes} left unconfirmed: VyOS reverts to its "
            f"saved (previous) configuration within {log.commit_confirm_minutes} min"])

    shell = Shell(task.host.get_connection(CONNECTION_NAME, task.nornir.config), me.name)
    done: list[str] = []
    errors: list[str] = []

    def step(what: str, command: str) -> None:
        res = shell.run(command, read_timeout=180)
        if res.ok:
            done.append(what)
        else:
            said = redact(res.output.strip()[-300:])
            msg = f"FAILED {what}: exit {res.rc}" + (f": {said}" if said else "")
            done.append(msg)
            errors.append(msg)

    # FRR first: frr-reload ends with `write`, which rewrites frr.conf; the file is put back
    # after it, byte for byte.
    if log.frr_prev_running is not None:
        saved = shlex.quote(log.frr_prev_running)
        step(f"frr-reload of the running configuration saved before deploy "
             f"({log.frr_prev_running})",
             f"{FRR_RELOAD} --reload --log-level error {saved}")
    for path, existed in reversed(log.files):
        q, prev = shlex.quote(path), shlex.quote(path + PREV)
        if existed:
            step(f"restored {path}", f"[ -e {prev} ] && mv -f {prev} {q}")
        else:
            step(f"removed {path} (new in this deploy)", f"rm -f {q}")
    for path, where in reversed(log.moved):
        step(f"moved back {path}",
             f"[ -e {shlex.quote(where)} ] && mv -f {shlex.quote(where)} {shlex.quote(path)}")
    for diff, undo in reversed(log.net):
        if undo is None:
            continue
        step(f"undid '{diff}': {undo}", undo)
    # What deploy started is stopped first (newest first: BIRD stops announcing before nginx
    # goes); reloads and restarts then follow deploy's own order, BIRD last, so a server
    # announces again only once the rest is back.
    stops = [a for a in reversed(log.services) if _UNDO_VERB.get(a.split(" ", 1)[0]) == "stop"]
    others = [a for a in log.services if a not in stops]
    for action in [*stops, *others]:
        try:
            done.append(_service_undo(shell, me, action, log.nft_table_before))
        except DeviceError as exc:
            msg = f"FAILED undo of '{action}': {redact(str(exc))}"
            done.append(msg)
            errors.append(msg)
    if errors:
        return Result(host=task.host, result=done, changed=True, failed=True,
                      exception=DeviceError(f"{me.name}: rollback incomplete: "
                                            + "; ".join(errors)))
    return Result(host=task.host, result=done, changed=bool(done))
