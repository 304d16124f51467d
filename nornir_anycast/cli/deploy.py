"""`python tasks.py deploy`: render, check on the target, apply, start or reload services."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from nornir_anycast.cli.common import add_inventory_args, close_connections, load
from nornir_anycast.cli.output import command_name, one_line, plural, rule, stdout_console
from nornir_anycast.deploy.rollback import RollbackRun, run_deploy_with_rollback
from nornir_anycast.deploy.runner import DeployReport, run_deploy
from nornir_anycast.inventory.secrets import redact
from nornir_anycast.verify.runner import VerifyReport, run_verify


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
    p.add_argument("--rollback-on-failure", action="store_true",
                   help="verify after deploying; if deploy or verify fails, put every changed "
                        "host back as it was and verify again (exit 1)")
    p.add_argument("--wait", type=float, default=30.0, metavar="SECONDS",
                   help="with --rollback-on-failure: how long verify may take to pass "
                        "(default 30)")
    p.add_argument("--previous-inventory", metavar="DIR", default=None,
                   help="with --rollback-on-failure: the inventory the hosts ran before, "
                        "checked by the verify after a rollback (default: --inventory)")
    p.add_argument("--confirm-minutes", type=int, default=5, metavar="N",
                   help="with --rollback-on-failure: VyOS commit-confirm N (minutes; default 5)")
    p.set_defaults(func=run)


def print_report(report: DeployReport, console: Console, prog: str = "python3 tasks.py") -> None:
    """The diffs (dry run), one row per host, drained servers and FAIL lines, the outcome."""
    if report.dry_run:
        for h in report.hosts:
            if h.diff:
                rule(console, f"{h.host}: would change")
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
                          f"`{prog} undrain {h.host}` brings it back",
                          highlight=False, markup=False, soft_wrap=True)
    for h in report.hosts:
        if h.error:
            console.print("[red]FAIL[/red] " + escape(one_line(h.error)), soft_wrap=True,
                          highlight=False)
    n_changed = sum(1 for h in report.hosts if h.changed)
    if report.ok:
        console.print(f"[green]deploy {'dry run ' if report.dry_run else ''}ok[/green]: "
                      f"{plural(len(report.hosts), 'host')}, {n_changed} changed",
                      highlight=False)
    else:
        bad = sum(1 for h in report.hosts if h.failed)
        console.print(f"[red]deploy failed[/red] on {bad} of "
                      f"{plural(len(report.hosts), 'host')}", highlight=False)


def print_rollback(run_: RollbackRun[VerifyReport], console: Console) -> None:
    """Verify's outcome after deploy and, when rolled back, what each host got back."""
    from nornir_anycast.cli.verify import print_report as print_verify

    if run_.verify is not None:
        print_verify(run_.verify, console)
    if run_.confirmed:
        console.print("confirmed (commit-confirm): " + ", ".join(run_.confirmed),
                      highlight=False, markup=False)
    if run_.error:
        console.print("[red]FAIL[/red] " + escape(one_line(redact(run_.error))),
                      highlight=False)
    if not run_.rolled_back:
        return
    rule(console, "rollback")
    if not run_.restored:
        console.print("nothing to roll back: deploy changed no host", highlight=False,
                      markup=False)
    for host, entry in sorted(run_.restored.items()):
        state = "FAILED" if entry["failed"] else "restored"
        console.print(f"{host}: {state}", highlight=False, markup=False)
        for line in entry["restored"]:
            console.print(f"  {line}", highlight=False, markup=False, soft_wrap=True)
    if run_.verify_after is not None:
        console.print("verify after rollback:", highlight=False, markup=False)
        print_verify(run_.verify_after, console)
    ok = all(not e["failed"] for e in run_.restored.values())
    after = run_.verify_after is not None and run_.verify_after.ok
    console.print(f"[red]deploy rolled back[/red]: {len(run_.restored)} host(s) "
                  f"{'restored' if ok else 'NOT all restored'}; verify after rollback "
                  f"{'passed' if after else 'FAILED'}", highlight=False)


def _run_with_rollback(args: argparse.Namespace, nr: Any, design: Any, console: Console) -> int:
    from nornir_anycast.inventory.loader import load_nornir
    from nornir_anycast.settings import default_inventory

    everyone = (load_nornir(args.inventory or default_inventory())
                if args.hosts or args.groups else None)
    previous = None
    if args.previous_inventory:
        from nornir_anycast.cli.common import load as load_inventory

        prev_nr, prev_design, _ = load_inventory(argparse.Namespace(
            inventory=args.previous_inventory, hosts=args.hosts, groups=args.groups))
        previous = (prev_nr, prev_design)
    try:
        result = run_deploy_with_rollback(nr, design, verify=run_verify, wait=args.wait,
                                          batch=args.batch,
                                          confirm_minutes=args.confirm_minutes,
                                          everyone=everyone, previous=previous)
    finally:
        close_connections(nr, everyone, previous[0] if previous else None)
    print_report(result.deploy, console, command_name(args))
    print_rollback(result, console)
    if args.json:
        Path(args.json).write_text(json.dumps(result.as_json(), indent=2, default=str) + "\n")
    return 0 if result.ok else 1


def run(args: argparse.Namespace) -> int:
    if args.batch < 1:
        from nornir_anycast.exceptions import InventoryError, Problem
        raise InventoryError([Problem("-", "--batch", args.batch, "must be at least 1")])
    if args.confirm_minutes < 1:
        from nornir_anycast.exceptions import InventoryError, Problem
        raise InventoryError([Problem("-", "--confirm-minutes", args.confirm_minutes,
                                      "must be at least 1")])
    console = stdout_console()
    nr, design, _ = load(args)
    if args.rollback_on_failure and not args.dry_run:
        return _run_with_rollback(args, nr, design, console)
    try:
        report = run_deploy(nr, design, dry_run=args.dry_run, batch=args.batch)
    finally:
        close_connections(nr)
    print_report(report, console, command_name(args))
    if args.json:
        Path(args.json).write_text(json.dumps(report.as_json(), indent=2) + "\n")
    return 0 if report.ok else 1
