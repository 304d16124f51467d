"""A server's drain state, kept ON the server so every operator's machine sees it.

`python tasks.py drain HOST` writes the marker file `paths.drain_marker` (default
`/etc/bird/nornir-anycast-drained`) before it changes BIRD; `undrain` removes it after BIRD
announces again. Deploy reads it before rendering (a drained server's BIRD config is rendered
without announcing), verify reads it to leave the server out of the expected ECMP set. The file
is a few `key=value` lines:

    phase=withdrawn
    since=2026-11-26T16:47:03+00:00
    by=root@laptop

`phase` is `lowered` (preference 0 and graceful shutdown community; still announced: a drain
was interrupted after its first step) or `withdrawn` (nothing announced).
"""

from __future__ import annotations

import getpass
import shlex
import socket
from dataclasses import dataclass
from datetime import UTC, datetime

from nornir_anycast.design.model import HostModel
from nornir_anycast.device.shell import Shell

PHASES = ("lowered", "withdrawn")


@dataclass(frozen=True)
class DrainState:
    """What the marker says: the phase, since when, who."""

    phase: str
    since: str | None = None
    by: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {"phase": self.phase, "since": self.since, "by": self.by}


def parse_marker(text: str) -> DrainState:
    """The marker's content; an unknown or missing phase counts as `withdrawn` (drained)."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip()] = value.strip()
    phase = values.get("phase", "withdrawn")
    return DrainState(phase=phase if phase in PHASES else "withdrawn",
                      since=values.get("since"), by=values.get("by"))


def marker_text(phase: str, since: str | None = None) -> str:
    """A marker for `phase`, stamped now (or `since`) with who wrote it."""
    if phase not in PHASES:
        raise ValueError(f"drain phase {phase!r}: must be one of {', '.join(PHASES)}")
    stamp = since or datetime.now(UTC).isoformat(timespec="seconds")
    return f"phase={phase}\nsince={stamp}\nby={getpass.getuser()}@{socket.gethostname()}\n"


def read_state(shell: Shell, host: HostModel) -> DrainState | None:
    """The server's drain state; None when it is not drained (no marker)."""
    text = shell.read_file(host.paths.drain_marker)
    return None if text is None else parse_marker(text)


def write_state(shell: Shell, host: HostModel, phase: str, since: str | None = None) -> None:
    shell.write_file(host.paths.drain_marker, marker_text(phase, since))


def clear_state(shell: Shell, host: HostModel) -> None:
    shell.check(f"rm -f {shlex.quote(host.paths.drain_marker)}")
