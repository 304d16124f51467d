"""Running shell commands and moving files over a netmiko connection to a Linux host.

netmiko returns only text; `Shell.run` appends a sentinel that carries the exit status, so
callers get `(rc, output)`. On a host with `privilege: sudo` every command runs as root through
`sudo -n` (nornir_anycast.device.sudo: authenticated once per connection when sudo asks for a
password); `Shell.cli` sends a command of the command table (vtysh, birdc) the same way.

netmiko loses the echo of a line over ~500 characters (the terminal wraps it): a longer command
is sent as a script, base64 in short lines, and run from a private temporary file.

Files are written to a private temporary directory first (`mktemp -d`, mode 0700, the SSH
user's), then copied next to their destination as `<path>.na-tmp` with their mode and owner (the
owner of the file they replace, or of `like`; root for a new file) and renamed into place, so a
reader never sees half a file. They travel by SFTP on netmiko's own SSH transport when the host
has an SFTP subsystem, else base64-encoded in short lines (any byte survives); reads go through
the shell (as root under sudo, so root-only files read too).
"""

from __future__ import annotations

import base64
import contextlib
import re
import secrets as _random
import shlex
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nornir_anycast.device import sudo as _sudo
from nornir_anycast.exceptions import DeviceError

if TYPE_CHECKING:
    from nornir_anycast.design.model import HostModel

_RC = re.compile(r"__NA_RC=(\d+)\s*$")
_CHUNK = 256  # base64 characters per command: netmiko loses the echo of lines over ~500
#: The longest command line sent as it is (wrapper included); longer ones go as a script.
LINE_MAX = 450
#: Where the connection remembers its SFTP client (False: the host refused SFTP).
_SFTP = "_nornir_anycast_sftp"


@dataclass(frozen=True)
class CommandResult:
    rc: int
    output: str

    @property
    def ok(self) -> bool:
        return self.rc == 0


class Shell:
    """A POSIX shell on a host, reached through a netmiko connection (device_type linux).

    Args:
        conn: the netmiko connection.
        host: the host's name (in messages).
        read_timeout: default seconds to wait for a command's output.
        sudo: run every command as root through `sudo -n` (`privilege: sudo`), with this
            password source; None: the SSH user is root.
        sftp: try SFTP for file writes (False: always base64 over the shell).
    """

    def __init__(self, conn: Any, host: str, read_timeout: float = 60.0, *,
                 sudo: _sudo.Sudo | None = None, sftp: bool = True) -> None:
        self.conn = conn
        self.host = host
        self.read_timeout = read_timeout
        self.sudo = sudo
        self.sftp = sftp

    # -- commands -------------------------------------------------------------------------

    def _send(self, command: str, read_timeout: float | None) -> CommandResult:
        """`command` as it is (no sudo), with the exit status sentinel."""
        wrapped = f"{{ {command} ; }} 2>&1; echo __NA_RC=$?"
        text: str = self.conn.send_command(
            wrapped, read_timeout=read_timeout or self.read_timeout,
            expect_string=r"__NA_RC=\d+", strip_prompt=True, strip_command=True,
        )
        text = text.replace("\r", "")
        lines = text.rstrip().splitlines()
        rc_line = next((i for i in range(len(lines) - 1, -1, -1) if _RC.search(lines[i])), None)
        if rc_line is None:
            raise DeviceError(f"{self.host}: no exit status from {command!r}: {text[-300:]!r}")
        match = _RC.search(lines[rc_line])
        assert match is not None
        rc = int(match.group(1))
        out = "\n".join(lines[:rc_line])
        # The prompt may precede the sentinel on the same line; drop the echo of our wrapper.
        out = "\n".join(line for line in out.splitlines() if "__NA_RC=$?" not in line)
        return CommandResult(rc, out)

    def _send_line(self, command: str, read_timeout: float | None) -> CommandResult:
        """`command` sent as it is, or as a script when the line would be too long."""
        if len(command) + 30 <= LINE_MAX:
            return self._send(command, read_timeout)
        tmp = self._mktemp()
        try:
            self._upload_b64(f"{tmp}/cmd", command.encode())
            return self._send(f"base64 -d {tmp}/cmd.b64 > {tmp}/cmd && sh {tmp}/cmd",
                              read_timeout)
        finally:
            self._send(f"rm -rf {tmp}", None)

    def run(self, command: str, read_timeout: float | None = None) -> CommandResult:
        """Run `command` (stdout and stderr together), as root; returns its exit status and
        output.

        Raises:
            DeviceError: under sudo, sudo asks for a password and the inventory gives none,
                or refuses the one it gives.
        """
        if self.sudo is None:
            return self._send_line(command, read_timeout)
        self.ensure_privilege()
        res = self._send_line(_sudo.as_root(command), read_timeout)
        if not res.ok and _sudo.PASSWORD_REQUIRED.search(res.output):
            _sudo.mark(self.conn, False)  # the credential expired: authenticate, send again
            self.ensure_privilege()
            res = self._send_line(_sudo.as_root(command), read_timeout)
            if not res.ok and _sudo.PASSWORD_REQUIRED.search(res.output):
                raise _sudo.no_password(self.host)
        return CommandResult(res.rc, _sudo.clean(res.output))

    def check(self, command: str, read_timeout: float | None = None) -> str:
        """Run `command`; raise DeviceError with the device's words when it fails."""
        res = self.run(command, read_timeout)
        if not res.ok:
            raise DeviceError(f"{self.host}: {command!r} failed (exit {res.rc}): "
                              f"{res.output.strip()[-500:]}")
        return res.output

    def ensure_privilege(self) -> None:
        """Under sudo, make sure `sudo -n` works on this connection (once per connection):
        authenticate with the inventory's password when sudo asks for one.

        Raises:
            DeviceError: sudo asks for a password and none is configured; sudo refuses the
                password or the user; sudo is missing.
        """
        if self.sudo is None or _sudo.authenticated(self.conn):
            return
        res = self._send(f"{_sudo.SUDO} true", None)
        if res.ok:
            _sudo.mark(self.conn, True)
            return
        if not _sudo.PASSWORD_REQUIRED.search(res.output):
            raise DeviceError(f"{self.host}: 'sudo -n true' failed (exit {res.rc}): "
                              f"{res.output.strip()[-300:] or 'no message'}")
        password = self.sudo.password()
        if password is None:
            raise _sudo.no_password(self.host)
        _sudo.authenticate(self.conn, self.host, password, self.sudo.source)

    def cli(self, command: str, read_timeout: float = 30.0) -> str:
        """The raw answer to a command of the command table (`vtysh -c ...`, `sudo -n birdc
        ...`, as nornir_anycast.device.commands built it), for a parser: no sentinel added.
        Under sudo an expired credential is authenticated again and the command sent again.
        """
        if command.startswith(_sudo.SUDO + " "):
            self.ensure_privilege()
        text = str(self.conn.send_command(command, read_timeout=read_timeout))
        if command.startswith(_sudo.SUDO + " ") and _sudo.PASSWORD_REQUIRED.search(text):
            _sudo.mark(self.conn, False)
            if self.sudo is None:
                raise _sudo.no_password(self.host)
            self.ensure_privilege()
            text = str(self.conn.send_command(command, read_timeout=read_timeout))
        return _sudo.clean(text)

    # -- files ----------------------------------------------------------------------------

    def read_file(self, path: str) -> str | None:
        """The file's text, or None when it does not exist."""
        q = shlex.quote(path)
        res = self.run(f"if [ -e {q} ]; then base64 -w0 {q}; echo; else echo __NA_ABSENT; fi")
        if not res.ok:
            raise DeviceError(f"{self.host}: cannot read {path}: {res.output.strip()}")
        data = "".join(res.output.split())
        if data == "__NA_ABSENT":
            return None
        return base64.b64decode(data).decode("utf-8", errors="replace")

    def write_file(self, path: str, content: str, mode: str = "0644",
                   like: str | None = None) -> None:
        """Write `content` to `path`, atomically (`path.na-tmp` renamed into place).

        Args:
            path: where.
            content: the text.
            mode: its mode.
            like: the file whose owner and group it takes when that file exists (default
                `path` itself: a replaced file keeps its owner); else root's.
        """
        data = content.encode()
        tmp = self._sftp_put(data)
        if tmp is None:
            tmp = self._mktemp()
            self._upload_b64(f"{tmp}/f", data)
            self._send(f"base64 -d {tmp}/f.b64 > {tmp}/f && rm -f {tmp}/f.b64", None)
        self.check(self._install(f"{tmp}/f", tmp, path, mode, like or path))

    def transfer(self) -> str:
        """How this connection copies files: `sftp` or `shell` (base64 over the shell)."""
        return "sftp" if self._sftp_client() is not None else "shell"

    @staticmethod
    def _install(src: str, tmp: str, path: str, mode: str, like: str) -> str:
        """The command (run as root) that puts `src` at `path` with `mode` and the owner of
        `like`, through `path.na-tmp`, and removes the private directory `tmp`."""
        if not re.fullmatch(r"0?[0-7]{3,4}", mode):
            raise DeviceError(f"not a file mode: {mode!r}")
        keep = "\"$p\"" if like == path else shlex.quote(like)
        return (f"s={src}; p={shlex.quote(path)}; l={keep}; mkdir -p \"${{p%/*}}/\" && "
                f"cp \"$s\" \"$p.na-tmp\" && chmod {mode} \"$p.na-tmp\" && "
                f"{{ o=$(stat -c %u:%g \"$l\" 2>/dev/null) || o=0:0; chown \"$o\" \"$p.na-tmp\"; }}"
                f" && mv -f \"$p.na-tmp\" \"$p\"; r=$?; rm -rf {tmp}; [ $r = 0 ]")

    def _mktemp(self) -> str:
        """A new private directory (0700, the SSH user's) under /tmp."""
        res = self._send("mktemp -d /tmp/.na-XXXXXXXX", None)
        path = res.output.strip().splitlines()[-1] if res.ok and res.output.strip() else ""
        if not res.ok or not re.fullmatch(r"/tmp/\.na-[A-Za-z0-9]+", path):
            raise DeviceError(f"{self.host}: cannot make a temporary directory: "
                              f"{res.output.strip()[-300:]}")
        return path

    def _upload_b64(self, target: str, data: bytes) -> None:
        """`data` base64-encoded into `target.b64`, a short line at a time (as the SSH user)."""
        encoded = base64.b64encode(data).decode()
        self._send(f": > {target}.b64", None)
        for i in range(0, len(encoded), _CHUNK):
            chunk = encoded[i:i + _CHUNK]
            res = self._send(f"printf %s {chunk} >> {target}.b64", None)
            if not res.ok:  # the content may hold a password: never in a message
                raise DeviceError(f"{self.host}: writing {target}.b64 failed (exit {res.rc}): "
                                  f"{res.output.strip()[-300:].replace(chunk, '<data>')}")

    def _sftp_client(self) -> Any | None:
        """The connection's SFTP client (opened once, on netmiko's own transport), or None
        when the host has no SFTP subsystem (remembered: the shell is used from then on)."""
        if not self.sftp:
            return None
        client = getattr(self.conn, _SFTP, None)
        if client is False:
            return None
        if client is not None:
            return client
        pre = getattr(self.conn, "remote_conn_pre", None)
        transport = pre.get_transport() if pre is not None and hasattr(
            pre, "get_transport") else None
        if transport is None:
            client = False
        else:
            import paramiko

            try:
                client = paramiko.SFTPClient.from_transport(transport)
            except (paramiko.SSHException, EOFError, OSError):
                client = False
            if client is None:
                client = False
        with contextlib.suppress(AttributeError):  # no __dict__: asked again next time
            setattr(self.conn, _SFTP, client)
        return client or None

    def _sftp_put(self, data: bytes) -> str | None:
        """`data` copied by SFTP into `<new private directory>/f`; that directory, or None
        when SFTP is not available (the caller falls back to the shell)."""
        client = self._sftp_client()
        if client is None:
            return None
        tmp = f"/tmp/.na-{_random.token_hex(6)}"
        try:
            client.mkdir(tmp, 0o700)
            with client.open(f"{tmp}/f", "wb") as fh:
                fh.chmod(0o600)
                fh.write(data)
        except OSError as exc:
            self._send(f"rm -rf {tmp}", None)
            raise DeviceError(f"{self.host}: SFTP copy to {tmp} failed: {exc}") from None
        return tmp


def shell_for(conn: Any, me: HostModel, read_timeout: float = 60.0) -> Shell:
    """The Shell of host `me` on `conn`: as root, or through sudo (`privilege: sudo`) with the
    password the inventory names (nornir_anycast.inventory.passwords.sudo_password)."""
    if me.privilege != "sudo":
        return Shell(conn, me.name, read_timeout)
    from nornir_anycast.inventory.passwords import sudo_password

    source = (f"sudo_password_env={me.sudo_password_env}" if me.sudo_password_env
              else f"sudo_password_file={me.sudo_password_file}" if me.sudo_password_file
              else None)
    return Shell(conn, me.name, read_timeout,
                 sudo=_sudo.Sudo(password=lambda: sudo_password(me), source=source))
