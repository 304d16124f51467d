"""Running shell commands and moving files over a netmiko connection to a Linux host.

netmiko returns only text; `Shell.run` appends a sentinel that carries the exit status, so
callers get `(rc, output)`. Files travel base64-encoded in short lines (a terminal's line
discipline truncates long ones), so any byte survives.
"""

from __future__ import annotations

import base64
import re
import shlex
from dataclasses import dataclass
from typing import Any

from nornir_anycast.exceptions import DeviceError

_RC = re.compile(r"__NA_RC=(\d+)\s*$")
_CHUNK = 256  # base64 characters per command: netmiko loses the echo of lines over ~500


@dataclass(frozen=True)
class CommandResult:
    rc: int
    output: str

    @property
    def ok(self) -> bool:
        return self.rc == 0


class Shell:
    """A POSIX shell on a host, reached through a netmiko connection (device_type linux)."""

    def __init__(self, conn: Any, host: str, read_timeout: float = 60.0) -> None:
        self.conn = conn
        self.host = host
        self.read_timeout = read_timeout

    def run(self, command: str, read_timeout: float | None = None) -> CommandResult:
        """Run `command` (stdout and stderr together); returns its exit status and output."""
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

    def check(self, command: str, read_timeout: float | None = None) -> str:
        """Run `command`; raise DeviceError with the device's words when it fails."""
        res = self.run(command, read_timeout)
        if not res.ok:
            raise DeviceError(f"{self.host}: {command!r} failed (exit {res.rc}): "
                              f"{res.output.strip()[-500:]}")
        return res.output

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

    def write_file(self, path: str, content: str, mode: str = "0644") -> None:
        """Write `content` to `path` (via `path.na-tmp`, renamed into place)."""
        q = shlex.quote(path)
        tmp = shlex.quote(path + ".na-tmp")
        encoded = base64.b64encode(content.encode()).decode()
        self.check(f"mkdir -p \"$(dirname {q})\" && : > {tmp}")
        for i in range(0, len(encoded), _CHUNK):
            chunk = encoded[i:i + _CHUNK]
            try:
                self.check(f"printf %s {chunk} >> {tmp}.b64")
            except DeviceError as exc:  # the content may hold a password: never in a message
                raise DeviceError(str(exc).replace(chunk, "<data>")) from None
        # The temporary path once, in a variable: netmiko loses the echo of long lines.
        self.check(f"t={tmp}; touch \"$t.b64\" && base64 -d \"$t.b64\" > \"$t\" && "
                   f"rm -f \"$t.b64\" && chmod {mode} \"$t\" && mv -f \"$t\" {q}")
