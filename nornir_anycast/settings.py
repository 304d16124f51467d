"""Where nornir_anycast keeps things, and which lab this process works on.

- The project root (`project_root()`): $NORNIR_ANYCAST_ROOT, else the current directory.
- The lab's state directory (`lab_dir()`): `.lab` under the root for the default lab prefix,
  `.lab-<prefix>` for $NORNIR_ANYCAST_LAB_PREFIX=<prefix>.
- The lab prefix: several labs can run on one machine at once (one per git worktree, a CI run
  beside an engineer's lab) when each uses its own prefix. Every lab-related name derives from
  it: namespaces `<prefix>-<host>` (the inventories keep `hostname: na-<host>`, turned into
  `<prefix>-<host>` at load time by `runtime_hostname`), switches `<prefix>-sw-<n>`, the lab's
  files `.lab/` or `.lab-<prefix>/`.

A prefix is 1 to 8 characters from a-z and 0-9, never a `-`: `<prefix>-` then matches the names
of exactly one prefix (`na-` is not the start of any `na2-` name, and the reverse).

This module is below every stage: the inventory loader, the lab and the drills all read their
settings here, so nothing outside `lab/` needs to import `lab/`.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from nornir_anycast.exceptions import InventoryError, Problem

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


def lab_dir_name() -> str:
    """The lab's directory in the project root: `.lab` (prefix na) or `.lab-<prefix>`."""
    prefix = lab_prefix()
    return ".lab" if prefix == DEFAULT else f".lab-{prefix}"


def runtime_hostname(hostname: str) -> str:
    """A lab host's hostname for this process: `na-edge` -> `<prefix>-edge`; others unchanged."""
    if hostname.startswith(INVENTORY_PREFIX):
        return ns_prefix() + hostname[len(INVENTORY_PREFIX):]
    return hostname


def project_root() -> Path:
    """The project root: $NORNIR_ANYCAST_ROOT, else the current directory.

    `tasks.py` changes into its own directory before it runs, so relative paths in the shipped
    inventories (`.lab/ssh_config`) resolve against the checkout.
    """
    return Path(os.environ.get("NORNIR_ANYCAST_ROOT", os.getcwd())).resolve()


def lab_dir() -> Path:
    """The lab's state directory (git-ignored): ssh_config, keys, per-host files.

    `.lab` for the default lab prefix, `.lab-<prefix>` for $NORNIR_ANYCAST_LAB_PREFIX=<prefix>,
    so labs of several prefixes can share one checkout.
    """
    return project_root() / lab_dir_name()


def default_inventory() -> Path:
    return project_root() / "inventory"
