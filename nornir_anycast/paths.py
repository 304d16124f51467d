"""Where the project keeps things: the project root, the lab's state directory."""

from __future__ import annotations

import os
from pathlib import Path

from nornir_anycast.lab.prefix import lab_dir_name


def project_root() -> Path:
    """The project root: $NORNIR_ANYCAST_ROOT, else the current directory.

    `tasks.py` changes into its own directory before it runs, so relative paths in the shipped
    inventories (`.lab/ssh_config`) resolve against the checkout.
    """
    return Path(os.environ.get("NORNIR_ANYCAST_ROOT", os.getcwd())).resolve()


def lab_dir() -> Path:
    """The lab's state directory (git-ignored): ssh_config, keys, per-host files.

    `.lab` for the default lab prefix, `.lab-<prefix>` for $NORNIR_ANYCAST_LAB_PREFIX=<prefix>
    (see nornir_anycast.lab.prefix), so labs of several prefixes can share one checkout.
    """
    return project_root() / lab_dir_name()


def default_inventory() -> Path:
    return project_root() / "inventory"
