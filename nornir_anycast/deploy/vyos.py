"""Deploy to VyOS over netmiko's VyOS driver, in the steps deploy_anycast shows.

1. `Session.stage_and_check`: configure mode, the rendered `set`/`delete` lines sent into the
   candidate configuration, `compare` for the diff (VyOS checks each line as it is set);
2. `Session.apply`: `commit` and `save`, or, with a journal (deploy --rollback-on-failure),
   `commit-confirm N` and no save (`confirm` and `save` come after verify passed:
   nornir_anycast.tasks.confirm_commit);
3. `Session.close`: `exit discard` when nothing was committed (dry run, no change, any error),
   otherwise leave configure mode.

Nothing here knows Nornir: the steps take the netmiko connection.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nornir_anycast.deploy.journal import HostJournal
from nornir_anycast.exceptions import DeviceError
from nornir_anycast.render import RenderedFile


def commands(files: Mapping[str, RenderedFile]) -> list[str]:
    """The `set` and `delete` lines of the rendered files, in order."""
    return [ln for f in files.values() for ln in f.content.splitlines()
            if ln.startswith(("set ", "delete "))]


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


class Session:
    """One configure session on a VyOS router: staged, maybe committed, always closed."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.open = False
        self.committed = False  # set as soon as the candidate is committed (save may follow)

    def stage_and_check(self, lines: list[str]) -> str:
        """Enter configure mode, send `lines` into the candidate configuration and return
        VyOS's `compare` (empty when the candidate equals the running configuration)."""
        self.conn.config_mode()
        self.open = True
        self.conn.send_config_set(lines, exit_config_mode=False)
        diff = str(self.conn.send_command("compare", expect_string=r"#")).strip()
        return "" if "No changes" in diff or not diff else diff

    def apply(self, journal: HostJournal | None, confirm_minutes: int = 5) -> list[str]:
        """Commit the candidate: `commit` and `save`, or with `journal` `commit-confirm N` (the
        journal records it, so rollback knows the router reverts by itself). Returns the
        commands."""
        if journal is not None:
            journal.commit_confirm_minutes = confirm_minutes
            commit_confirm(self.conn, confirm_minutes)
            self.committed = True
            return [f"commit-confirm {confirm_minutes}"]
        self.conn.commit()
        self.committed = True
        self.conn.send_command("save", expect_string=r"#")
        return ["commit", "save"]

    def close(self) -> None:
        """Leave configure mode: `exit discard` unless the candidate was committed."""
        if not self.open:
            return
        self.open = False
        if not self.committed:
            self.conn.send_command("exit discard", expect_string=r"[$#]")
        else:
            self.conn.exit_config_mode()
