"""`python tasks.py deploy`: render, check on the target, apply, start or reload services."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from nornir_anycast.cli.common import add_inventory_args, load
from nornir_anycast.deploy import DeployReport, run_deploy


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "deploy", help="render and apply the configuration of every host",
        description="Render, check on the target, apply, start or reload services.")
    add_inventory_args(p)
    p.add_argument("--json", metavar="FILE", help="write the report as JSON to FILE")
    p.add_argument("--dry-run", action="store_true",
                   help="print what would change (a diff per host) and touch nothing")
    p.add_argument("--batch", type=int, default=1, metavar="N",
                   help="servers reloading BGP at the same time (default 1)")
    p.set_defaults(func=run)


def print_report(report: DeployReport, console: Console) -> None:
    if report.dry_run:
        for h in report.hosts:
            if h.diff:
                console.rule(f"{h.host}: would change")
                console.print(h.diff, highlight=False, markup=False)
    table = Table(title="deploy (dry run)" if report.dry_run else "deploy", title_justify="left")
    for col in ("host", "role", "result", "changed", "seconds"):
        table.add_column(col, justify="right" if col == "seconds" else "left")
    for h in report.hosts:
        result = "[red]FAILED[/red]" if h.failed else "[green]ok[/green]"
        changed = ("would change" if report.dry_run and h.diff else
                   "yes" if h.changed else "no")
        table.add_row(h.host, h.role, result, changed, f"{h.seconds:.2f}")
    console.print(table)
    for h in report.hosts:
        if h.drained:
            console.print(f"drained: {h.host} (since {h.drained.get('since')}, phase "
                          f"{h.drained.get('phase')}): deployed without announcing; "
                          f"`python3 tasks.py undrain {h.host}` brings it back",
                          highlight=False, markup=False, soft_wrap=True)
    for h in report.hosts:
        if h.error:
            console.print("[red]FAIL[/red] " + escape(h.error), soft_wrap=True,
                          highlight=False)
    n_changed = sum(1 for h in report.hosts if h.changed)
    if report.ok:
        console.print(f"[green]deploy {'dry run ' if report.dry_run else ''}ok[/green]: "
                      f"{len(report.hosts)} hosts, {n_changed} changed", highlight=False)
    else:
        bad = sum(1 for h in report.hosts if h.failed)
        console.print(f"[red]deploy failed[/red] on {bad} of {len(report.hosts)} hosts",
                      highlight=False)


def run(args: argparse.Namespace) -> int:
    if args.batch < 1:
        from nornir_anycast.exceptions import InventoryError, Problem
        raise InventoryError([Problem("-", "--batch", args.batch, "must be at least 1")])
    console = Console()
    nr, design, _ = load(args)
    try:
        report = run_deploy(nr, design, dry_run=args.dry_run, batch=args.batch)
    finally:
        nr.close_connections()
    print_report(report, console)
    if args.json:
        Path(args.json).write_text(json.dumps(report.as_json(), indent=2) + "\n")
    return 0 if report.ok else 1
