"""Putting a Linux host back as it was before a deploy, from that deploy's journal.

The steps, newest first in each kind: FRR frr-reloaded with the running configuration saved
before deploy's reload; every replaced file back from `<path>.na-prev` (a file that did not
exist before is removed); moved files moved back; `ip`/`sysctl` changes undone with their
inverse commands; services stopped, started or reloaded back. Every step is tried even when
one fails.
"""

from __future__ import annotations

import shlex

from nornir_anycast.deploy.journal import HostJournal
from nornir_anycast.deploy.linux import FRR_RELOAD, PREV
from nornir_anycast.design.model import HostModel
from nornir_anycast.device import services
from nornir_anycast.device.shell import Shell
from nornir_anycast.exceptions import DeviceError
from nornir_anycast.inventory.secrets import redact
from nornir_anycast.render.nftables import NFT_TABLE

#: How a service action deploy took is undone, once the previous files are back.
_UNDO_VERB = {"start": "stop", "stop": "start", "reload": "reload", "restart": "restart",
              "enable": "disable"}


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
    if name == "systemd":  # the unit files are back: re-read them
        shell.check(services.DAEMON_RELOAD)
        return "systemctl daemon-reload (previous unit files)"
    if undo == "disable":
        unit = services.by_name(me, name)
        if unit is not None and unit.disable is not None:
            shell.check(unit.disable)
        return f"disable {name} (it was not enabled before)"
    if name == "frr":
        frr = services.frr(me)
        if frr is None:
            return f"{action}: nothing to undo without a service manager"
        if undo == "stop":
            shell.check(frr.stop)
            return "stop frr (it was not running before)"
        shell.check(frr.reload, read_timeout=180)  # the previous daemons file is back
        return "restart frr (previous daemons file)"
    if name in ("healthchecker", "watcher"):
        cmds = services.healthchecker(me) if name == "healthchecker" else services.watcher(me)
        for command in {"stop": (cmds.stop,), "start": (cmds.start,)}.get(
                undo, cmds.restart_steps()):
            shell.check(command)
        return f"{undo} {name}"
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


def plan(me: HostModel, log: HostJournal) -> list[str]:
    """What `undo` would do, one line per step (a dry run's answer); sends nothing."""
    lines: list[str] = []
    if log.frr_prev_running is not None:
        lines.append(f"frr-reload of the running configuration saved before deploy "
                     f"({log.frr_prev_running})")
    for path, existed in reversed(log.files):
        lines.append(f"restore {path}" if existed else f"remove {path} (new in this deploy)")
    lines += [f"move back {path}" for path, _ in reversed(log.moved)]
    lines += [f"undo '{diff}': {undo}" for diff, undo in reversed(log.net) if undo is not None]
    stops = [a for a in reversed(log.services) if _UNDO_VERB.get(a.split(" ", 1)[0]) == "stop"]
    others = [a for a in log.services if a not in stops]
    lines += [f"undo '{a}'" for a in [*stops, *others]]
    return lines


def undo(shell: Shell, me: HostModel, log: HostJournal) -> tuple[list[str], list[str]]:
    """Undo what deploy recorded in `log`; returns (one line per step, the failed steps)."""
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
    for diff, command in reversed(log.net):
        if command is None:
            continue
        step(f"undid '{diff}': {command}", command)
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
    return done, errors
