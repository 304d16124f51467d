"""Which lab this process works on: the namespace prefix (defined in nornir_anycast.settings),
the switches' prefix and the machine-wide lock of a lab.

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
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager

from nornir_anycast.exceptions import LabError
from nornir_anycast.settings import (
    DEFAULT,
    ENV,
    INVENTORY_PREFIX,
    LabPrefixError,
    check_prefix,
    lab_dir_name,
    lab_prefix,
    ns_prefix,
    runtime_hostname,
)

__all__ = ["DEFAULT", "ENV", "INVENTORY_PREFIX", "LabPrefixError", "check_prefix", "lab_dir_name",
           "lab_prefix", "machine_lock", "ns_prefix", "runtime_hostname", "switch_prefix"]


def switch_prefix() -> str:
    """What the lab's switch namespaces start with: `<prefix>-sw-`."""
    return f"{ns_prefix()}sw-"


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
