"""Nornir task: confirm a VyOS `commit-confirm` (after verify passed) and save."""

from __future__ import annotations

from nornir.core.task import Result, Task

from nornir_anycast.deploy.journal import Journal
from nornir_anycast.exceptions import DeviceError
from nornir_anycast.tasks.deploy_anycast import CONNECTION_NAME


def confirm_commit(task: Task, *, journal: Journal, dry_run: bool | None = None) -> Result:
    """Send `confirm` then `save` in configure mode, for a host deploy committed with
    `commit-confirm`; nothing for other hosts.

    Returns:
        Result with `result` = the commands sent, `changed` False (the change was deploy's).
    """
    log = journal.get(task.host.name)
    if log is None or log.commit_confirm_minutes is None or task.is_dry_run(dry_run):
        return Result(host=task.host, result=[])
    conn = task.host.get_connection(CONNECTION_NAME, task.nornir.config)
    conn.config_mode()
    try:
        out = conn.send_command("confirm", expect_string=r"[#$]\s*$")
        if "rror" in out:
            raise DeviceError(f"{task.host.name}: 'confirm' answered: {out.strip()[-300:]}")
        conn.send_command("save", expect_string=r"[#$]\s*$")
    finally:
        conn.exit_config_mode()
    log.commit_confirm_minutes = None
    return Result(host=task.host, result=["confirm", "save"])
