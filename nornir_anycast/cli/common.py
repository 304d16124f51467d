"""What every command shares: the inventory options and loading a validated design.

Commands call `add_inventory_args(parser)` in their `register()` and `load(args)` first thing in
their `func`: the whole inventory is validated (even when -H/-g select only some hosts) before
any device is touched; errors raise InventoryError (exit 2 in cli.main), warnings go to stderr.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from nornir.core import Nornir
from nornir.plugins.runners import ThreadedRunner

from nornir_anycast.cli.output import quiet_nornir_logging
from nornir_anycast.design.model import Design
from nornir_anycast.design.registry import lookup, warnings_for
from nornir_anycast.exceptions import InventoryError, Problem
from nornir_anycast.inventory.loader import load_nornir, select
from nornir_anycast.inventory.secrets import redact
from nornir_anycast.settings import default_inventory

#: The most Nornir workers --num-workers takes (each is a thread with an SSH session).
MAX_WORKERS = 1000


def add_inventory_args(parser: argparse.ArgumentParser) -> None:
    """Add `--inventory DIR`, `-H/--host HOST` (repeatable) and `-g/--group GROUP` (repeatable)."""
    parser.add_argument(
        "--inventory", "-i", metavar="DIR", default=None,
        help="inventory directory, relative to the current directory (default: ./inventory "
             "if it exists, else the checkout's inventory/ when run from a checkout)",
    )
    parser.add_argument(
        "-H", "--host", dest="hosts", action="append", default=[], metavar="HOST",
        help="only this host (repeatable)",
    )
    parser.add_argument(
        "-g", "--group", dest="groups", action="append", default=[], metavar="GROUP",
        help="only hosts in this group or its child groups (repeatable)",
    )
    parser.add_argument(
        "--num-workers", type=int, default=None, metavar="N",
        help="Nornir's threaded runner with N workers: hosts worked on at once (default: "
             "the inventory's config.yaml, else 20)",
    )


def print_warnings(warnings: list[Problem], stream: TextIO | None = None) -> None:
    """One line per warning on stderr: `warning: host: field=value: message`."""
    out = stream if stream is not None else sys.stderr
    for w in warnings:
        print(redact(f"warning: {w}"), file=out)


def load(args: argparse.Namespace) -> tuple[Nornir, Design, list[Problem]]:
    """Load the inventory, validate all of it, print warnings, and select -H/-g hosts.

    Returns:
        the filtered Nornir, the design of the WHOLE inventory, and the warnings.

    Raises:
        InventoryError: the inventory cannot be loaded, is invalid, or -H/-g name nothing.
    """
    quiet_nornir_logging()
    workers = getattr(args, "num_workers", None)
    if workers is not None and not 1 <= workers <= MAX_WORKERS:
        raise InventoryError([Problem("-", "--num-workers", workers,
                                      f"must be 1..{MAX_WORKERS}")])
    given = getattr(args, "inventory", None)
    inventory = Path(given or default_inventory())
    if not given and not (inventory / "hosts.yaml").is_file():
        raise InventoryError([Problem("-", "--inventory", str(inventory),
                                      "no inventory here: pass -i DIR, or write a starter one "
                                      "with `nornir-anycast init DIR`")])
    # Checked, validated, BGP passwords read; the design is attached to it.
    nr = load_nornir(inventory)
    design = lookup(nr)
    assert design is not None, "load_nornir attaches the design"
    warnings = warnings_for(nr)
    print_warnings(warnings)
    hosts = getattr(args, "hosts", None) or None
    groups = getattr(args, "groups", None) or None
    selected = select(nr, hosts, groups)
    if not selected.inventory.hosts:
        raise InventoryError([no_hosts_selected(hosts, groups)])
    workers = getattr(args, "num_workers", None)
    if workers is not None:
        selected = selected.with_runner(ThreadedRunner(num_workers=workers))
    return selected, design, warnings


def no_hosts_selected(hosts: list[str] | None, groups: list[str] | None) -> Problem:
    """The problem of a selection that names only existing hosts and groups, and matches none
    (`-H edge -g servers`: edge is in no group `servers`)."""
    given = [f"-H {h}" for h in hosts or []] + [f"-g {g}" for g in groups or []]
    why = (" (a host must be one of the -H hosts and in one of the -g groups)"
           if hosts and groups else "")
    return Problem("-", "selection", " ".join(given) or "(none)", f"selects no host{why}")


def close_connections(*nrs: Nornir | None) -> None:
    """Close every connection of each Nornir given, of failed hosts too.

    `Nornir.close_connections()` skips the hosts that failed a task (on_failed=False), which
    leaves their sessions open and, when every host failed, warns `Task
    'close_connections_task' has not been run - 0 hosts selected`. None and host-less Nornirs
    are skipped.
    """
    for nr in nrs:
        if nr is not None and nr.inventory.hosts:
            nr.close_connections(on_good=True, on_failed=True)
