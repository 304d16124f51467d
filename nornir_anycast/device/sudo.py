"""sudo on a host whose SSH user is not root (`privilege: sudo` in the inventory).

Every command that needs root goes through `sudo -n` (non-interactive: a sudo that would ask
for a password fails at once instead of hanging on its prompt): the shell's commands
(nornir_anycast.device.shell.Shell) as `sudo -n sh -c '<command>'`, the CLI commands of the
command table (vtysh, birdc: nornir_anycast.device.commands.wire) as `sudo -n <command>`.

When the host's sudo asks for a password, `authenticate` answers it once per connection: `sudo
-v` with a prompt of ours, answered on the channel; sudo reads it from the terminal with echo
off, so it is in no output, and it is a registered secret (redacted from every Result and log
record). sudo then keeps the credential for that terminal (Debian: per tty, 15 minutes) and the
commands keep using `sudo -n`; one answered "a password is required" later (the credential
expired) is authenticated again and sent once more (Shell). Without a password in the
inventory, that answer is a DeviceError naming the host and what to set.
"""

from __future__ import annotations

import contextlib
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from nornir_anycast.exceptions import DeviceError

SUDO = "sudo -n"
#: What `sudo -n` says when it would have to ask for a password.
PASSWORD_REQUIRED = re.compile(r"sudo: (?:a password is required|a terminal is required)")
#: Our prompt. The command line writes it as `\137_NA_SUDO_PW__:` (printf's octal `_`), so the
#: echo of the command never matches it: only sudo's own prompt does.
PROMPT = "__NA_SUDO_PW__:"
_PROMPT_ARG = "\"$(printf '\\137_NA_SUDO_PW__:')\""
_RC = re.compile(r"__NA_RC=(\d+)")
#: Where the connection remembers that its terminal holds a sudo credential.
_AUTHENTICATED = "_nornir_anycast_sudo"


#: sudo's warning on a host whose own name does not resolve: not part of any answer.
_WARNING = re.compile(r"^sudo: unable to resolve host [^\n]*\n?", re.MULTILINE)


def clean(text: str) -> str:
    """`text` without sudo's own warnings (`sudo: unable to resolve host ...`)."""
    return _WARNING.sub("", text) if "sudo: unable" in text else text


def as_root(command: str) -> str:
    """`command` (any shell text) run by root through `sudo -n sh -c`."""
    if command.startswith(SUDO + " "):
        return command
    return f"{SUDO} sh -c {shlex.quote(command)}"


def prefix(command: str) -> str:
    """A single program with its arguments (`vtysh -c '...'`) run by root: `sudo -n ...`."""
    return command if command.startswith(SUDO + " ") else f"{SUDO} {command}"


@dataclass(frozen=True)
class Sudo:
    """How a host's privileged commands run.

    Attributes:
        password: returns the sudo password (from the inventory's variable or file), or None
            when the inventory gives none; called only when sudo asks.
        source: where the password comes from, for messages (`sudo_password_env=NAME`).
    """

    password: Callable[[], str | None] = field(default=lambda: None)
    source: str | None = None


def no_password(host: str) -> DeviceError:
    return DeviceError(
        f"{host}: sudo asks for a password: set sudo_password_env (the NAME of an environment "
        "variable) or sudo_password_file for this host, or give its user NOPASSWD sudo rights")


def authenticated(conn: Any) -> bool:
    return bool(getattr(conn, _AUTHENTICATED, False))


def mark(conn: Any, value: bool) -> None:
    """Remember (or forget) that the connection's terminal holds a sudo credential."""
    with contextlib.suppress(AttributeError):  # no __dict__: asked again next time
        setattr(conn, _AUTHENTICATED, value)


def authenticate(conn: Any, host: str, password: str, source: str | None,
                 read_timeout: float = 30.0) -> None:
    """Answer sudo's password prompt on the channel (`sudo -v`), once.

    Raises:
        DeviceError: sudo refused the password (it asked again; answered with Ctrl-C), or
            refused the user; the message names the host and where the password comes from,
            never the password.
    """
    log = getattr(conn, "session_log", None)
    if log is not None and isinstance(getattr(log, "no_log", None), dict):
        log.no_log["sudo_password"] = password  # netmiko's session log hides it too
    ret = str(getattr(conn, "RETURN", "\n"))
    pattern = rf"{re.escape(PROMPT)}|__NA_RC=\d+"
    conn.write_channel(f"sudo -p {_PROMPT_ARG} -v; echo __NA_RC=$?{ret}")
    out = str(conn.read_until_pattern(pattern=pattern, read_timeout=read_timeout))
    answered = False
    while out.rstrip().endswith(PROMPT):  # read_until_pattern stops right after the match
        if answered:  # asked again: the password is wrong; stop sudo (it exits, our echo runs)
            conn.write_channel("\x03")
            with contextlib.suppress(Exception):  # netmiko's ReadTimeout: nothing more to read
                conn.read_until_pattern(pattern=r"__NA_RC=\d+", read_timeout=10)
            where = f" ({source})" if source else ""
            raise DeviceError(f"{host}: sudo refused the password{where}")
        conn.write_channel(password + ret)
        answered = True
        out = str(conn.read_until_pattern(pattern=pattern, read_timeout=read_timeout))
    m = _RC.search(out)
    if m is None or m.group(1) != "0":
        words = [ln.strip() for ln in out.replace("\r", "").splitlines()
                 if ln.strip() and PROMPT not in ln and "__NA_RC=" not in ln
                 and "_NA_SUDO_PW__" not in ln]
        said = "; ".join(words)[-300:].replace(password, "********")
        raise DeviceError(f"{host}: sudo -v failed: {said or 'no message'}")
    mark(conn, True)
