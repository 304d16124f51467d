"""`python tasks.py drain HOST` and `python tasks.py undrain HOST` (both registered here)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from nornir_anycast.cli.common import close_connections, load
from nornir_anycast.cli.output import rule, stdout_console
from nornir_anycast.drain.runner import DrainReport, run_drain, run_undrain


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("host", metavar="HOST", help="the server (inventory name)")
    p.add_argument("--inventory", "-i", metavar="DIR", default=None,
                   help="inventory directory (default: inventory/ in the project root)")
    p.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS",
                   help="how long to wait for the edge at each step (default 30)")
    p.add_argument("--json", metavar="FILE", help="write the report as JSON to FILE")
    p.add_argument("--dry-run", action="store_true",
                   help="check and print the plan (and the bird.conf diff); change nothing and "
                        "wait for nothing")


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "drain", help="take a server out of service without failing a new request",
        description="Lower the server's preference (graceful shutdown), wait until the edge "
                    "no longer forwards to it, withdraw, keep nginx serving for a grace "
                    "period. The server stays drained (deploy, verify) until `undrain`.")
    _common(p)
    p.add_argument("--grace", type=float, default=5.0, metavar="SECONDS",
                   help="keep serving requests in flight this long after the edge moved "
                        "(default 5)")
    p.add_argument("--force", action="store_true",
                   help="drain even when no other server carries the prefix")
    p.set_defaults(func=run_drain_cli)
    u: argparse.ArgumentParser = sub.add_parser(
        "undrain", help="put a drained server back into service",
        description="Announce the server's prefixes again, remove its drain marker and wait "
                    "until the edge forwards to it again.")
    _common(u)
    u.set_defaults(func=run_undrain_cli)


def print_report(report: DrainReport, console: Console) -> None:
    """The steps (a dry run: the plan and the bird.conf diff), then the outcome."""
    if report.dry_run and report.diff:
        rule(console, f"{report.host}: would change")
        console.print(report.diff, highlight=False, markup=False)
    title = f"{report.action} {report.host}" + (" (dry run)" if report.dry_run else "")
    table = Table(title=title, title_justify="left")
    for col in ("t (s)", "step", "took (s)", "what"):
        table.add_column(col, justify="right" if col in ("t (s)", "took (s)") else "left")
    for s in report.steps:
        table.add_row(f"{s.t:.2f}", s.name, f"{s.seconds:.2f}", escape(s.detail))
    console.print(table)
    if report.error:
        console.print(f"[red]{report.action} failed[/red]: " + escape(report.error),
                      soft_wrap=True, highlight=False)
        return
    hops = "; ".join(f"{p} -> {', '.join(h) or 'none'}" for p, h in report.edge_next_hops.items())
    session = ("" if report.session_kept is None else
               "; BGP session kept" if report.session_kept else "; BGP session was RESET")
    what = f"{report.action} dry run" if report.dry_run else report.action
    console.print(f"[green]{what} ok[/green]: {report.host} in {report.seconds:.2f} s"
                  f"{session}; edge: {hops}" + ("" if report.changed else " (nothing changed)"),
                  highlight=False, soft_wrap=True)


def _finish(report: DrainReport, args: argparse.Namespace) -> int:
    print_report(report, stdout_console())
    if args.json:
        Path(args.json).write_text(json.dumps(report.as_json(), indent=2) + "\n")
    return 0 if report.ok else 1


def _check_host(args: argparse.Namespace, design: Any) -> None:
    from nornir_anycast.exceptions import InventoryError, Problem

    me = design.hosts.get(args.host)
    if me is None:
        raise InventoryError([Problem(args.host, "HOST", args.host,
                                      "no such host in the inventory")])
    if me.role != "server":
        raise InventoryError([Problem(args.host, "HOST", args.host,
                                      f"only servers are drained; its role is {me.role}")])


def run_drain_cli(args: argparse.Namespace) -> int:
    nr, design, _ = load(args)  # the whole inventory: the server and its edge
    _check_host(args, design)
    try:
        report = run_drain(nr, design, args.host, grace=args.grace, timeout=args.timeout,
                           force=args.force, dry_run=args.dry_run or None)
    finally:
        close_connections(nr)
    return _finish(report, args)


def run_undrain_cli(args: argparse.Namespace) -> int:
    nr, design, _ = load(args)
    _check_host(args, design)
    try:
        report = run_undrain(nr, design, args.host, timeout=args.timeout,
                             dry_run=args.dry_run or None)
    finally:
        close_connections(nr)
    return _finish(report, args)
