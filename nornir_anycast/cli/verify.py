"""`python tasks.py verify`: check the network against the state the inventory implies."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from nornir_anycast.cli.common import add_inventory_args, close_connections, load
from nornir_anycast.cli.output import (
    command_name,
    one_line,
    plural,
    stderr_console,
    stdout_console,
)
from nornir_anycast.design.model import Design
from nornir_anycast.verify.checks import severity_of
from nornir_anycast.verify.runner import VerifyReport, run_verify


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "verify", help="check BGP sessions, multipath, kernel routes, the ISP's view and HTTP",
        description="Check the network against the state the inventory implies.")
    add_inventory_args(p)
    p.add_argument("--json", metavar="FILE", help="write the report as JSON to FILE")
    p.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                   help="retry until everything passes or SECONDS have gone")
    p.set_defaults(func=run)


def _remarks(checks: list[dict[str, Any]]) -> str:
    """`, 1 warning, 1 note` for the warnings and notes among `checks` (`` when none)."""
    warnings = sum(1 for c in checks if severity_of(c) == "warning")
    notes = sum(1 for c in checks if severity_of(c) == "info")
    return ((f", {plural(warnings, 'warning')}" if warnings else "")
            + (f", {plural(notes, 'note')}" if notes else ""))


def print_report(report: VerifyReport, console: Console) -> None:
    """The table of hosts, a FAIL line per failed check, a WARN line per warning (a session
    that flapped: verify still passes) and a NOTE line per note, then the verdict.

    Warnings and notes are not counted as checks: `ok (9 checks, 1 warning)`.
    """
    table = Table(title="verify", title_justify="left")
    for col in ("host", "role", "result", "changed", "seconds"):
        table.add_column(col, justify="right" if col == "seconds" else "left")
    for h in sorted(report.hosts, key=lambda h: h.host):
        mine = [c for c in report.checks if c["host"] == h.host]
        checks = [c for c in mine if severity_of(c) in ("ok", "error")]
        extra = _remarks(mine)
        bad = sum(1 for c in checks if not c["passed"])
        if bad or h.failed:
            result = f"[red]FAILED ({bad} of {plural(len(checks), 'check')}{extra})[/red]"
        elif extra:
            result = f"[yellow]ok ({plural(len(checks), 'check')}{extra})[/yellow]"
        else:
            result = f"[green]ok ({plural(len(checks), 'check')})[/green]"
        table.add_row(h.host, h.role, result, "no", f"{h.seconds:.2f}")
    console.print(table)
    failed = [c for c in report.checks if not c["passed"]]
    for c in failed:
        console.print(f"[red]FAIL[/red] {c['host']} {c['name']}: "
                      + escape(one_line(str(c["message"]))),
                      soft_wrap=True, highlight=False)
    for severity, label in (("warning", "[yellow]WARN[/yellow]"), ("info", "[cyan]NOTE[/cyan]")):
        for c in report.checks:
            if severity_of(c) == severity:
                console.print(f"{label} {c['host']} {c['name']}: "
                              + escape(one_line(str(c["message"]))),
                              soft_wrap=True, highlight=False)
    counted = [c for c in report.checks if severity_of(c) in ("ok", "error")]
    extra = _remarks(report.checks)
    if report.ok:
        after = (f" after {report.converged_after_s:.1f} s"
                 if report.converged_after_s and report.attempts > 1 else "")
        console.print(f"[green]verify passed[/green]: {plural(len(counted), 'check')}{after}"
                      f"{extra}", highlight=False)
    else:
        console.print(f"[red]verify failed[/red]: {len(failed)} of "
                      f"{plural(len(counted), 'check')} failed{extra}", highlight=False)


def print_next_steps(report: VerifyReport, design: Design, console: Console,
                     prog: str = "python3 tasks.py") -> None:
    """Where to look next on the built-in lab (`prog`: the command as typed)."""
    address = design.services[0].prefix.split("/")[0] if design.services else None
    edge = next((h.name for h in design.by_role("edge")), "edge")
    console.print("next:", style="bold")
    if address:
        console.print(f"  {prog} lab exec client -- curl -s http://{address}/file",
                      highlight=False, markup=False)
        console.print(f"  {prog} lab exec {edge} -- vtysh -c 'show ip bgp "
                      f"{design.services[0].prefix}'", highlight=False, markup=False)
        console.print(f"  {prog} lab exec {edge} -- ip route show {address}",
                      highlight=False, markup=False)
    console.print(f"  {prog} lab status", highlight=False, markup=False)
    if not report.ok:
        console.print(f"  {prog} deploy --dry-run   (what deploy would change)",
                      highlight=False, markup=False)


def attempt_line(attempt: int, report: VerifyReport, elapsed: float, wait: float) -> str:
    """What `verify --wait` prints (stderr) before it retries: `attempt 1: 4 of 21 checks
    failing (edge, server-2) after 1.3 s; retrying until 60 s`."""
    bad = [c for c in report.checks if not c["passed"]]
    hosts = sorted({str(c["host"]) for c in bad})
    return (f"attempt {attempt}: {len(bad)} of {plural(len(report.checks), 'check')} failing"
            + (f" ({', '.join(hosts)})" if hosts else "")
            + f" after {elapsed:.1f} s; retrying until {wait:g} s")


def run(args: argparse.Namespace) -> int:
    console = stdout_console()
    err = stderr_console()
    nr, design, _ = load(args)

    def progress(attempt: int, report: VerifyReport, elapsed: float) -> None:
        err.print(attempt_line(attempt, report, elapsed, args.wait), highlight=False,
                  markup=False)

    # Drained servers are read from the whole inventory, also when -H/-g select a few hosts.
    everyone = None
    if args.hosts or args.groups:
        from nornir_anycast.inventory.loader import load_nornir
        from nornir_anycast.settings import default_inventory

        everyone = load_nornir(args.inventory or default_inventory())
    try:
        report = run_verify(nr, design, wait=args.wait, on_attempt=progress, everyone=everyone)
    finally:
        close_connections(nr, everyone)
    print_report(report, console)
    for server, marker in sorted(report.drained.items()):
        console.print(f"drained: {server} (since {marker.get('since')}, by {marker.get('by')}; "
                      f"phase {marker.get('phase')}): expected out of the ECMP set; "
                      f"`{command_name(args)} undrain {server}` brings it back",
                      highlight=False, markup=False, soft_wrap=True)
    if all(h.lab for h in design.hosts.values()):
        print_next_steps(report, design, console, command_name(args))
    if args.json:
        Path(args.json).write_text(json.dumps(report.as_json(), indent=2, default=str) + "\n")
    return 0 if report.ok else 1
