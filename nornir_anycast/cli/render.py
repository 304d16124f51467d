"""`python tasks.py render`: write each host's configuration files under OUT/<host>/."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from nornir.core.task import AggregatedResult
from rich.console import Console
from rich.table import Table

from nornir_anycast.cli.common import add_inventory_args, load
from nornir_anycast.design.model import Design
from nornir_anycast.exceptions import AnycastError
from nornir_anycast.inventory.secrets import redact
from nornir_anycast.settings import project_root
from nornir_anycast.tasks.render_config import render_config


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "render", help="render every host's configuration files (nothing is pushed)",
        description="Render each host's files to OUT/<host>/ and check them with the "
                    "platforms' own parsers (bird -p, nginx -t, vtysh -C).")
    add_inventory_args(p)
    p.add_argument("--out", "-o", metavar="DIR", default=None,
                   help="output directory (default: out/ in the project root)")
    p.add_argument("--no-check", dest="check", action="store_false",
                   help="skip the local checkers")
    p.set_defaults(func=run)


def print_summary(result: AggregatedResult, design: Design, out: Path, check: bool,
                  console: Console) -> None:
    table = Table(title=f"render -> {out}", title_justify="left")
    for col in ("host", "platform", "role", "files", "check", "changed"):
        table.add_column(col)
    for name in sorted(result):
        multi = result[name]
        h = design.hosts[name]
        if multi.failed:
            table.add_row(name, h.platform, h.role, "-", "[red]FAILED[/red]", "-")
            continue
        files = multi[0].result
        checked = sum(1 for f in files.values() if f["checker"])
        status = (f"[green]ok[/green] ({checked})" if check and checked else "-")
        table.add_row(name, h.platform, h.role, ", ".join(files) or "(none)", status,
                      "yes" if multi[0].changed else "no")
    console.print(table)
    for name in sorted(result):
        multi = result[name]
        if multi.failed:
            exc = multi[0].exception
            msg = str(exc) if isinstance(exc, AnycastError) else f"{type(exc).__name__}: {exc}"
            msg = redact(msg)  # a checker may quote the config line holding a password
            console.print(f"[red]FAIL[/red] {name}: {msg}", highlight=False, markup=True)


def run(args: argparse.Namespace) -> int:
    console = Console()
    nr, design, _ = load(args)
    out = Path(args.out) if args.out else project_root() / "out"
    result = nr.run(task=render_config, design=design, out_dir=out, check=args.check,
                    dry_run=False)
    print_summary(result, design, out, args.check, console)
    if result.failed:
        console.print(f"[red]render failed[/red] on {len(result.failed_hosts)} of "
                      f"{len(result)} hosts", highlight=False)
        return 1
    n_files = sum(len(result[h][0].result) for h in result)
    console.print(f"[green]render ok[/green]: {len(result)} hosts, {n_files} files in {out}",
                  highlight=False)
    return 0
