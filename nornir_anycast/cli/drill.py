"""`python tasks.py drill HOST --mode crash|graceful|service|drain`: a measured failover drill."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from nornir_anycast.cli.common import load
from nornir_anycast.cli.output import stderr_console, stdout_console
from nornir_anycast.drill import measure
from nornir_anycast.drill.runner import (
    DEFAULT_LONG_LIVED,
    DEFAULT_RATE,
    DrillOutcome,
    run_drill,
)


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "drill", help="measure a failover on the lab: load, a fault on HOST, the outage",
        description="Steady HTTP load from the client (new connections with a 200 ms connect "
                    "timeout and no retry, plus keep-alive connections), then a fault on "
                    "HOST: crash (its link cut, no goodbye), graceful (BIRD stopped), service "
                    "(nginx stopped), drain (the drain command). Reports the outage, when the "
                    "edge's kernel route dropped HOST, and broken long-lived connections; then "
                    "restores HOST and verifies. Lab only (root).")
    p.add_argument("host", metavar="HOST", help="the server to hurt (inventory name)")
    p.add_argument("--mode", required=True, choices=measure.MODES)
    p.add_argument("--duration", type=float, default=10.0, metavar="S",
                   help="seconds of load (the fault comes after min(2, S/3) s; default 10)")
    p.add_argument("--json", metavar="FILE", help="write the figures as JSON to FILE")
    p.add_argument("--rate", type=float, default=DEFAULT_RATE,
                   help=f"new connections per second (default {DEFAULT_RATE:.0f})")
    p.add_argument("--long-lived", type=int, default=DEFAULT_LONG_LIVED, metavar="N",
                   help=f"keep-alive connections (default {DEFAULT_LONG_LIVED})")
    p.add_argument("--inventory", "-i", metavar="DIR", default=None,
                   help="inventory directory (default: inventory/ in the project root)")
    p.set_defaults(func=run)


def _fmt(v: float | None, unit: str = " ms") -> str:
    return "n/a" if v is None else f"{v:g}{unit}"


def print_summary(o: DrillOutcome, console: Console) -> None:
    r = o.report
    bfd = "BFD on" if o.bfd else f"BFD off, hold time {o.hold_s} s"
    console.print(f"drill {r['mode']} on {r['host']} ({bfd}): fault at {o.fault_at_s:.1f} s of "
                  f"{r['duration_s']:g} s load to {o.target} (applied in "
                  f"{o.fault_apply_ms:g} ms)", highlight=False)
    console.print(f"  requests: {r['requests_sent']} sent, {r['requests_failed']} failed"
                  + (f" ({', '.join(f'{k}: {v}' for k, v in sorted(o.errors.items()))})"
                     if o.errors else ""), highlight=False)
    console.print(f"  outage: {_fmt(r['outage_ms'])} (fault to the start of the last failed "
                  f"request); last second of load: {o.last_second_failed} of "
                  f"{o.last_second_requests} failed", highlight=False)
    res = (f", poll resolution {_fmt(o.drop_resolution_ms)}" if o.drop_resolution_ms is not None
           else "")
    console.print(f"  edge kernel route {o.prefix} dropped {o.next_hop}: "
                  + (f"after {_fmt(r['kernel_drop_ms'])}{res}" if r["kernel_drop_ms"] is not None
                     else "never during the drill")
                  + f" ({o.poll_samples} polls, longest gap {_fmt(o.poll_max_gap_ms)})",
                  highlight=False)
    if r["withdraw_ms"] is not None:
        console.print(f"  withdraw: {_fmt(r['withdraw_ms'])} from nginx stopping",
                      highlight=False)
    console.print(f"  long-lived connections: {r['long_lived_total']}, broken on {r['host']}: "
                  f"{r['long_lived_broken_on_host']}, broken elsewhere: "
                  f"{r['long_lived_broken_elsewhere']}", highlight=False)
    if r["mode"] == "crash" and not o.bfd:
        console.print(f"  without BFD the outage equals the hold time ({o.hold_s} s): the edge "
                      "hears nothing from a silent server until its hold timer runs out",
                      highlight=False)
    verdict = "[green]met[/green]" if r["met"] else "[red]NOT met[/red]"
    console.print(f"  target {_fmt(r['target_ms'])}: {verdict}", highlight=False)
    for line in o.restore:
        console.print(f"  restore: {escape(line)}", highlight=False)
    if o.verify_ok:
        console.print("  verify after restore: [green]passed[/green]", highlight=False)
    else:
        console.print("  verify after restore: [red]FAILED[/red]", highlight=False)
        for line in o.verify_failures:
            console.print(f"    {escape(line)}", highlight=False, soft_wrap=True)


def run(args: argparse.Namespace) -> int:
    console = stdout_console()
    err = stderr_console()
    nr, design, _ = load(args)
    outcome = run_drill(nr, design, args.host, args.mode, duration_s=args.duration,
                        rate=args.rate, long_lived=args.long_lived, inventory=args.inventory,
                        on_step=lambda msg: err.print(f"  {msg}", highlight=False))
    print_summary(outcome, console)
    if args.json:
        Path(args.json).write_text(json.dumps(outcome.report, indent=2) + "\n")
    return 0 if outcome.verify_ok and outcome.report["met"] else 1
