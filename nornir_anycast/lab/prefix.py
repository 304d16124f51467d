"""Which lab this process works on: the namespace prefix, from $NORNIR_ANYCAST_LAB_PREFIX.

Several labs can run on one machine at once (one per git worktree, a CI run beside an engineer's
lab) when each uses its own prefix. Every lab-related name derives from it:

- namespaces: `<prefix>-<host>` for hosts, `<prefix>-sw-<n>` for the switches;
- the inventories keep `hostname: na-<host>`; `load_nornir` turns a lab host's `na-` into
  `<prefix>-` at run time, so every command run with the same environment agrees;
- the lab's files: `.lab/` for the default prefix `na`, `.lab-<prefix>/` for any other, so two
  labs can share one checkout.

A prefix is 1 to 8 characters from a-z and 0-9, never a `-`: `<prefix>-` then matches the names
of exactly one prefix (`na-` is not the start of any `na2-` name, and the reverse).
"""

from __future__ import annotations

import errno
import os
import re
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager

from nornir_anycast.exceptions import InventoryError, LabError, Problem

ENV = "NORNIR_ANYCAST_LAB_PREFIX"
DEFAULT = "na"
#: What lab hostnames start with in the inventory files.
INVENTORY_PREFIX = f"{DEFAULT}-"
_VALID = re.compile(r"^[a-z0-9]{1,8}$")
_RULE = "must be 1 to 8 characters, each a-z or 0-9 (unset: na)"


class LabPrefixError(InventoryError):
    """$NORNIR_ANYCAST_LAB_PREFIX is not a usable prefix (bad input: the CLI exits 2)."""

    def __init__(self, value: str) -> None:
        super().__init__([Problem("-", ENV, value, _RULE)])
        self.args = (f"{ENV}={value!r}: {_RULE}",)


def check_prefix(value: str) -> str:
    """`value` if it is a valid prefix, else LabPrefixError."""
    if not _VALID.match(value):
        raise LabPrefixError(value)
    return value


def lab_prefix() -> str:
    """The prefix of this process's lab: $NORNIR_ANYCAST_LAB_PREFIX (validated), default `na`."""
    value = os.environ.get(ENV)
    return DEFAULT if value is None else check_prefix(value)


def ns_prefix() -> str:
    """What every namespace of this lab starts with: `<prefix>-`."""
    return f"{lab_prefix()}-"


def switch_prefix() -> str:
    """What the lab's switch namespaces start with: `<prefix>-sw-`."""
    return f"{ns_prefix()}sw-"


def lab_dir_name() -> str:
    """The lab's directory in the project root: `.lab` (prefix na) or `.lab-<prefix>`."""
    prefix = lab_prefix()
    return ".lab" if prefix == DEFAULT else f".lab-{prefix}"


def runtime_hostname(hostname: str) -> str:
    """A lab host's hostname for this process: `na-edge` -> `<prefix>-edge`; others unchanged."""
    if hostname.startswith(INVENTORY_PREFIX):
        return ns_prefix() + hostname[len(INVENTORY_PREFIX):]
    return hostname


@contextmanager
def machine_lock(purpose: str, timeout: float = 1800, poll: float = 0.05) -> Iterator[None]:
    """Hold the machine-wide lock `<purpose>` of this prefix until the block ends.

    An abstract Unix socket bound to a name: nothing is left on disk, the kernel releases it
    when the holder dies, and it is not inherited by the processes a holder starts. Labs of
    different prefixes never wait for each other; two users of one prefix (one per checkout,
    say) do.
    """
    name = f"\0nornir-anycast-{purpose}-{lab_prefix()}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                sock.bind(name)
                break
            except OSError as exc:
                if exc.errno != errno.EADDRINUSE:
                    raise
                if time.monotonic() > deadline:
                    raise LabError(f"{purpose} of lab prefix {lab_prefix()!r} held by another "
                                   f"process for {timeout:.0f} s") from None
                time.sleep(poll)
        yield
    finally:
        sock.close()
