"""`python tasks.py drill HOST --mode crash|graceful|service|drain|restart`: a measured failover
drill; `drill EDGE --mode edge-crash` and `drill SITE --mode site-down` (sites, issue 13);
`drill EDGE --mode full-table [--routes N]`: the upstream sends a full table under load."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from nornir_anycast.cli.common import load
from nornir_anycast.cli.output import stderr_console, stdout_console
from nornir_anycast.drill import full_table, measure, sites
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
                    "restores HOST and verifies. full-table (HOST: the edge): the ISP announces "
                    "--routes generated routes, withdraws them and announces them again, "
                    "under the same load; reports false down events on the server sessions "
                    "(from the edge's own counters), failed requests, how long the edge took to "
                    "converge, peak memory and verify's duration. edge-crash (HOST: an edge of a "
                    "site with two or more edges): every link of the edge cut, no goodbye; "
                    "reports the outage from the site's client and when the upstream's and the "
                    "servers' routes lost the edge. site-down (HOST: a site): every server of "
                    "the site crashed at once; one report per client of the site, served by "
                    "the next site. Lab only (root).")
    p.add_argument("host", metavar="HOST",
                   help="the server to hurt (inventory name); the edge for full-table and "
                        "edge-crash; the site (s1, ...) for site-down")
    p.add_argument("--mode", required=True,
                   choices=(*measure.MODES, *measure.SITE_MODES, full_table.MODE))
    p.add_argument("--routes", type=int, default=full_table.DEFAULT_ROUTES, metavar="N",
                   help=f"full-table: routes the upstream announces (default "
                        f"{full_table.DEFAULT_ROUTES:,})")
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


def print_verify(console: Console, what: str, ok: bool, failures: list[str]) -> None:
    """`what: passed`, or `what: FAILED` and each failing check."""
    if ok:
        console.print(f"  {what}: [green]passed[/green]", highlight=False)
        return
    console.print(f"  {what}: [red]FAILED[/red]", highlight=False)
    for line in failures:
        console.print(f"    {escape(line)}", highlight=False, soft_wrap=True)


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
    print_verify(console, "verify after restore", o.verify_ok, o.verify_failures)


def print_full_table(o: full_table.FullTableOutcome, console: Console) -> None:
    r = o.report
    console.print(f"drill full-table on {r['host']}: {r['routes']:,} routes from the upstream, "
                  f"{r['duration_s']:g} s of load to {o.target_url}", highlight=False)
    console.print(f"  requests: {r['requests_sent']} sent, {r['requests_failed']} failed"
                  + (f" ({', '.join(f'{k}: {v}' for k, v in sorted(o.errors.items()))})"
                     if o.errors else ""), highlight=False)
    console.print(f"  server sessions: {r['server_bgp_down_events']} BGP and "
                  f"{r['server_bfd_down_events']} BFD down events (the edge's counters)",
                  highlight=False)
    for address, row in r["sessions"].items():
        console.print(f"    {row['server']} ({address}): BGP dropped {row['bgp_dropped']}, "
                      f"BFD down {row['bfd_down']}", highlight=False)
    for phase, c in r["converge_s"].items():
        console.print(f"  {phase}: edge BGP table in {c['bgp_s']:g} s, FIB in {c['fib_s']:g} s",
                      highlight=False)
    mem = "; ".join(f"{h} " + ", ".join(f"{n} {kb // 1024} MiB" for n, kb in sorted(m.items()))
                    for h, m in r["peak_memory_kb"].items())
    console.print(f"  peak memory: {mem}", highlight=False)
    console.print(f"  verify: {_fmt(r['verify_quiet_s'], ' s')} quiet, "
                  f"{_fmt(r['verify_during_s'], ' s')} while the routes arrived, "
                  f"{_fmt(r['verify_after_s'], ' s')} with the full table "
                  f"({_fmt(r['verify_after_ratio'], 'x')} of quiet)", highlight=False)
    for name, t in r["target"].items():
        verdict = "[green]met[/green]" if t["met"] else "[red]NOT met[/red]"
        console.print(f"  target {name} {t['value']} (target {t['target']}): {verdict}",
                      highlight=False)
    for line in o.cleanup:
        console.print(f"  cleanup: {escape(line)}", highlight=False)
    print_verify(console, "verify after the drill", o.verify_ok, o.verify_failures)


def print_site_summary(o: sites.SiteDrillOutcome, console: Console) -> None:
    bfd = (f"BFD on, detection {_fmt(o.bfd_detect_ms)}" if o.bfd else "BFD off")
    console.print(f"drill {o.mode} on {o.host} ({bfd}): fault at {o.fault_at_s:.1f} s of load to "
                  f"{o.target} (applied in {o.fault_apply_ms:g} ms)", highlight=False)
    for c in o.clients:
        r = c.report
        console.print(f"  {c.client}: {r['requests_sent']} sent, {r['requests_failed']} failed"
                      + (f" ({', '.join(f'{k}: {v}' for k, v in sorted(c.errors.items()))})"
                         if c.errors else "")
                      + f"; outage {_fmt(r['outage_ms'])}; last second {c.last_second_failed} "
                        f"of {c.last_second_requests} failed", highlight=False)
        served = ", ".join(f"{k} {v}" for k, v in sorted(c.served_after.items())) or "nobody"
        console.print(f"    answered after the fault by: {served}", soft_wrap=True,
                      highlight=False)
        console.print(f"    {o.upstream} kernel route {o.prefix} lost "
                      f"{', '.join(o.gone_hops)}: "
                      + (f"after {_fmt(r['kernel_drop_ms'])}" if r["kernel_drop_ms"] is not None
                         else "never during the drill"), highlight=False)
        console.print(f"    long-lived: {r['long_lived_total']}, broken on {o.host}'s servers "
                      f"{r['long_lived_broken_on_host']}, elsewhere "
                      f"{r['long_lived_broken_elsewhere']}", highlight=False)
        verdict = "[green]met[/green]" if r["met"] else "[red]NOT met[/red]"
        console.print(f"    target {_fmt(r['target_ms'])}: {verdict}", highlight=False)
    for server, ms in sorted(o.server_default_drop_ms.items()):
        console.print(f"  {server} default route lost {o.host}: "
                      + (f"after {_fmt(ms)}" if ms is not None else "never during the drill"),
                      highlight=False)
    for line in o.restore:
        console.print(f"  restore: {escape(line)}", highlight=False)
    print_verify(console, "verify after restore", o.verify_ok, o.verify_failures)


def run(args: argparse.Namespace) -> int:
    console = stdout_console()
    err = stderr_console()
    nr, design, _ = load(args)
    if args.mode in measure.SITE_MODES:
        so = sites.run_site_drill(nr, design, args.host, args.mode, duration_s=args.duration,
                                  rate=args.rate, long_lived=args.long_lived,
                                  on_step=lambda msg: err.print(f"  {msg}", highlight=False))
        print_site_summary(so, console)
        if args.json:
            Path(args.json).write_text(json.dumps(so.json_report(), indent=2) + "\n")
        return 0 if so.verify_ok and so.met else 1
    if args.mode == full_table.MODE:
        ft = full_table.run_full_table_drill(
            nr, design, args.host, routes=args.routes, rate=args.rate,
            long_lived=args.long_lived, on_step=lambda msg: err.print(f"  {msg}",
                                                                      highlight=False))
        print_full_table(ft, console)
        if args.json:
            Path(args.json).write_text(json.dumps(ft.report, indent=2) + "\n")
        return 0 if ft.verify_ok and ft.report["met"] else 1
    outcome = run_drill(nr, design, args.host, args.mode, duration_s=args.duration,
                        rate=args.rate, long_lived=args.long_lived, inventory=args.inventory,
                        on_step=lambda msg: err.print(f"  {msg}", highlight=False))
    print_summary(outcome, console)
    if args.json:
        Path(args.json).write_text(json.dumps(outcome.report, indent=2) + "\n")
    return 0 if outcome.verify_ok and outcome.report["met"] else 1
