"""Nornir task: put a host back as it was before a deploy, from that deploy's journal."""

from __future__ import annotations

from nornir.core.task import Result, Task
from nornir_netmiko.connections import CONNECTION_NAME

from nornir_anycast.deploy import undo
from nornir_anycast.deploy.journal import Journal
from nornir_anycast.design.model import Design
from nornir_anycast.design.registry import design_for
from nornir_anycast.device.shell import shell_for
from nornir_anycast.exceptions import DeviceError


def rollback_anycast(task: Task, *, journal: Journal, design: Design | None = None,
                     dry_run: bool | None = None) -> Result:
    """Undo what deploy recorded in `journal` for this host, newest step first in each kind.

    Linux hosts: FRR is frr-reloaded with the running configuration saved before deploy's
    reload, every file deploy replaced is put back from `<path>.na-prev` (a file that did not
    exist before is removed), files it moved are moved back, its `ip`/`sysctl` changes are
    undone with the inverse commands, and services are stopped, started or reloaded back (BIRD
    `configure`, nginx reload, the previous nftables table); see nornir_anycast.deploy.undo.
    Every step is tried even when one fails; the failures make the Result failed. VyOS: nothing
    is sent; the unconfirmed `commit-confirm` reverts the router by itself (a reboot into its
    saved configuration). A dry run (`dry_run`, default Nornir's) sends nothing and lists what
    would be undone.

    Returns:
        Result with `result` = list of what was restored (one line each; on a dry run, what
        would be), `changed` True when anything was put back, `failed` when a step failed (its
        message in `exception` and in the list, prefixed `FAILED`).
    """
    me = design_for(task, design).hosts[task.host.name]
    log = journal.get(me.name)
    if log is None or log.empty():
        return Result(host=task.host, result=[], changed=False)
    if log.commit_confirm_minutes is not None:
        return Result(host=task.host, changed=False, result=[
            f"commit-confirm {log.commit_confirm_minutes} left unconfirmed: VyOS reverts to its "
            f"saved (previous) configuration within {log.commit_confirm_minutes} min"])
    if task.is_dry_run(dry_run):
        return Result(host=task.host, result=[f"would {line}" for line in undo.plan(me, log)],
                      changed=False)

    shell = shell_for(task.host.get_connection(CONNECTION_NAME, task.nornir.config), me)
    done, errors = undo.undo(shell, me, log)
    if errors:
        return Result(host=task.host, result=done, changed=True, failed=True,
                      exception=DeviceError(f"{me.name}: rollback incomplete: "
                                            + "; ".join(errors)))
    return Result(host=task.host, result=done, changed=bool(done))
