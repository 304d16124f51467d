"""Nornir task: confirm a VyOS `commit-confirm` (after verify passed) and save."""

from __future__ import annotations

from nornir.core.task import Result, Task
from nornir_netmiko.connections import CONNECTION_NAME

from nornir_anycast.deploy.journal import Journal
from nornir_anycast.design.model import Design
from nornir_anycast.exceptions import DeviceError
from nornir_anycast.inventory.secrets import redact


def confirm_commit(task: Task, *, journal: Journal, design: Design | None = None,
                   dry_run: bool | None = None) -> Result:
    """Send `confirm` then `save` in configure mode, for a host deploy committed with
    `commit-confirm`; nothing for other hosts, and nothing on a dry run (`dry_run`, default
    Nornir's).

    `design` is accepted like every task's (the journal says all this task needs).

    Returns:
        Result with `result` = the commands sent, `changed` False (the change was deploy's).
    """
    del design  # the journal holds what is needed
    log = journal.get(task.host.name)
    if log is None or log.commit_confirm_minutes is None or task.is_dry_run(dry_run):
        return Result(host=task.host, result=[], changed=False)
    conn = task.host.get_connection(CONNECTION_NAME, task.nornir.config)
    conn.config_mode()
    try:
        out = conn.send_command("confirm", expect_string=r"[#$]\s*$")
        if "rror" in out:
            raise DeviceError(f"{task.host.name}: 'confirm' answered: "
                              f"{redact(out.strip()[-300:])}")
        conn.send_command("save", expect_string=r"[#$]\s*$")
    finally:
        conn.exit_config_mode()
    log.commit_confirm_minutes = None
    return Result(host=task.host, result=["confirm", "save"], changed=False)
