"""Where nornir_anycast keeps things, and which lab this process works on.

Where the lab keeps its state and caches is ONE setting, `NORNIR_ANYCAST_HOME` (`home()`):

- `<home>/.lab/` (`.lab-<prefix>/` under $NORNIR_ANYCAST_LAB_PREFIX), `lab_dir()`: the lab's
  state: ssh_config, SSH key, known_hosts, per-host files, the generated inventories;
- `<home>/.cache/`, `cache_dir()`: BIRD 1.6's unpacked parser (`.cache/bird1/`) and the lab
  servers' copy of anycast-healthchecker (`.cache/healthchecker/`), put there by
  scripts/install.sh.

Which directory the home is, first match wins:

1. `$NORNIR_ANYCAST_HOME`;
2. `$NORNIR_ANYCAST_ROOT`, its older name (kept as an alias);
3. the checkout, when the package runs from one (an editable install or `python tasks.py`:
   `pyproject.toml` and `tasks.py` beside the package directory), so a checkout keeps its lab
   and caches where they always were;
4. `$XDG_STATE_HOME/nornir-anycast`, else `~/.local/state/nornir-anycast` (an installed wheel).

Nothing here creates the directory or depends on the current directory: library use never
writes into the current directory, and into a checkout only when it runs from that checkout.
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
    """The lab's directory in the home (see home()): `.lab` (prefix na) or `.lab-<prefix>`."""
    prefix = lab_prefix()
    return ".lab" if prefix == DEFAULT else f".lab-{prefix}"


def runtime_hostname(hostname: str) -> str:
    """A lab host's hostname for this process: `na-edge` -> `<prefix>-edge`; others unchanged."""
    if hostname.startswith(INVENTORY_PREFIX):
        return ns_prefix() + hostname[len(INVENTORY_PREFIX):]
    return hostname


#: The setting, and its older name (still honoured when HOME_ENV is unset).
HOME_ENV = "NORNIR_ANYCAST_HOME"
LEGACY_HOME_ENV = "NORNIR_ANYCAST_ROOT"

_PACKAGE_DIR = Path(__file__).resolve().parent


def checkout_root() -> Path | None:
    """The source checkout this package runs from, or None (an installed wheel).

    A checkout is recognised by `pyproject.toml` and `tasks.py` beside the package directory.
    """
    root = _PACKAGE_DIR.parent
    if (root / "pyproject.toml").is_file() and (root / "tasks.py").is_file():
        return root
    return None


def home() -> Path:
    """The directory holding the lab's state (`.lab*/`) and the caches (`.cache/`).

    See the module docstring for how it is chosen; the path is absolute and may not exist yet.
    """
    for env in (HOME_ENV, LEGACY_HOME_ENV):
        value = os.environ.get(env)
        if value:
            return Path(value).expanduser().resolve()
    checkout = checkout_root()
    if checkout is not None:
        return checkout
    state = os.environ.get("XDG_STATE_HOME")
    base = Path(state).expanduser() if state else Path.home() / ".local" / "state"
    return (base / "nornir-anycast").resolve()


def project_root() -> Path:
    """The home directory (see home()); the name from before $NORNIR_ANYCAST_HOME existed."""
    return home()


def cache_dir() -> Path:
    """`<home>/.cache`: BIRD 1.6's parser and the lab's anycast-healthchecker (install.sh)."""
    return home() / ".cache"


def lab_dir() -> Path:
    """The lab's state directory (git-ignored): ssh_config, keys, per-host files.

    `<home>/.lab` for the default lab prefix, `<home>/.lab-<prefix>` for
    $NORNIR_ANYCAST_LAB_PREFIX=<prefix>, so labs of several prefixes can share one home.
    """
    return home() / lab_dir_name()


def default_inventory(cwd: Path | None = None) -> Path:
    """The inventory used when the command line names none.

    `./inventory` when the current directory has one; else, running from a checkout, the
    checkout's `inventory/` (the built-in lab's seed); else `./inventory` (which the CLI then
    reports as missing, suggesting `nornir-anycast init`).
    """
    here = (cwd if cwd is not None else Path.cwd()) / "inventory"
    if here.is_dir():
        return here
    checkout = checkout_root()
    if checkout is not None and (checkout / "inventory").is_dir():
        return checkout / "inventory"
    return here
