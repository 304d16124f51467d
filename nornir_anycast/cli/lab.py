"""`python tasks.py lab up|down|status|exec`: the built-in lab (see nornir_anycast.lab)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from rich.table import Table

from nornir_anycast.cli.output import command_name, plural, stderr_console, stdout_console
from nornir_anycast.exceptions import InventoryError, Problem
from nornir_anycast.lab import lifecycle
from nornir_anycast.lab import status as lab_status


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "lab", help="build, inspect and remove the built-in lab (network namespaces)",
        description="The seed topology in Linux network namespaces with real FRR, BIRD 2, "
                    "nginx and OpenSSH. Needs root. Namespaces are named <prefix>-<host>, "
                    "prefix $NORNIR_ANYCAST_LAB_PREFIX (default na; its files in .lab/, "
                    "another prefix's in .lab-<prefix>/): one lab per prefix, several at once.")
    verbs = p.add_subparsers(dest="lab_command", required=True, metavar="VERB")

    up = verbs.add_parser("up", help="build the lab, or repair what is missing (idempotent)")
    up.add_argument("-i", "--inventory", metavar="DIR",
                    help="inventory directory (default: inventory/)")
    up.add_argument("--servers", type=int, metavar="N",
                    help="N servers: writes .lab/inventory/ (.lab-<prefix>/inventory/) for "
                         "that topology and builds it (with --sites/--edges: per site)")
    up.add_argument("--sites", type=int, metavar="S",
                    help="generate S sites (s1..sS), each with its edges, servers, an upstream "
                         "router and a client, dual-stack, into .lab/inventory/; the "
                         "inventory (-i) gives config, defaults, groups and so the lab kind")
    up.add_argument("--edges", type=int, metavar="E",
                    help="edge routers per site (implies --sites 1 when alone)")
    up.add_argument("--no-graceful-restart", dest="graceful_restart", action="store_false",
                    help="with --sites/--edges: no graceful restart on the server sessions (a "
                         "crashed server is dropped at BFD speed; the restart drill is refused)")
    up.add_argument("-v", "--verbose", action="store_true",
                    help="list every step taken (repairs are always listed)")
    up.set_defaults(func=run_up)

    down = verbs.add_parser("down", help="remove everything the lab made (safe to run twice)")
    down.set_defaults(func=run_down)

    st = verbs.add_parser("status", help="hosts, daemons and SSH reachability")
    st.add_argument("--json", action="store_true", help="print JSON instead of a table")
    st.set_defaults(func=run_status)

    ex = verbs.add_parser("exec", help="run a command on a lab host (exit status passed back)",
                          description="Run CMD in HOST's namespaces, exactly as an SSH "
                                      "session on it would; stdin and stdout pass through.")
    ex.add_argument("host", metavar="HOST", help="inventory name (server-1) or namespace")
    ex.add_argument("cmd", nargs=argparse.REMAINDER, metavar="-- CMD...")
    ex.set_defaults(func=run_exec)


def run_up(args: argparse.Namespace) -> int:
    console = stderr_console()
    if not args.graceful_restart and args.sites is None and args.edges is None:
        raise InventoryError([Problem("-", "--no-graceful-restart", "given",
                                      "only the generated lab (--sites/--edges) has this choice")])
    report = lifecycle.up(args.inventory, args.servers, sites=args.sites,
                          edges=args.edges, graceful_restart=args.graceful_restart)
    if args.verbose or not report.fresh:
        for change in report.changes:
            console.print(f"  {change}", highlight=False)
    n = len(report.topology.hosts)
    what = ("built" if report.fresh else f"repaired: {len(report.changes)} change(s)"
            if report.changes else "already up, nothing to do")
    stdout_console().print(f"lab up: {plural(n, 'host')} from {report.inventory} ({what}) "
                           f"in {report.seconds:.1f} s", highlight=False)
    if args.sites is not None or args.edges is not None or args.servers is not None:
        console.print(f"  generated inventory: {report.inventory} (give it as --inventory to "
                      f"deploy, verify, drain and drill)", highlight=False, soft_wrap=True)
    return 0


def run_down(args: argparse.Namespace) -> int:
    report = lifecycle.down()
    err = stderr_console()
    if report.note:
        err.print(f"[yellow]note:[/yellow] {report.note}", highlight=False)
    if report.left_alone:
        err.print(f"[yellow]note:[/yellow] not made by this lab, left alone: "
                  f"{', '.join(report.left_alone)}", highlight=False)
    if not (report.namespaces or report.processes or report.files):
        stdout_console().print("lab down: nothing to remove", highlight=False)
        return 0
    stdout_console().print(f"lab down: removed {len(report.namespaces)} namespace(s), "
                           f"{report.processes} process(es), {len(report.files)} "
                           f"file(s)/dir(s) in {report.seconds:.1f} s", highlight=False)
    return 0


def run_status(args: argparse.Namespace) -> int:
    st = lab_status.status()
    if args.json:
        print(json.dumps(st.as_json(), indent=2))
        return 0 if st.ok else 1
    console = stdout_console()
    if not st.up:
        console.print(f"lab is down (run `{command_name(args)} lab up`)", markup=False)
        return 1
    table = Table(title=f"lab ({st.inventory})", title_justify="left")
    for col in ("host", "namespace", "pid", "daemons running", "ssh"):
        table.add_column(col)
    for h in st.hosts:
        daemons = " ".join(h.daemons)
        if h.missing:
            daemons += f" [red](missing: {' '.join(h.missing)})[/red]"
        namespace = h.namespace if h.namespace_exists else f"[red]{h.namespace} (gone)[/red]"
        table.add_row(h.host, namespace, str(h.pid) if h.pid else "[red]-[/red]", daemons,
                      "[green]ok[/green]" if h.ssh else "[red]no[/red]")
    console.print(table)
    for sw, exists in st.switches.items():
        if not exists:
            console.print(f"[red]switch namespace {sw} is gone[/red]")
    console.print("[green]lab ok[/green]" if st.ok else
                  f"[red]lab damaged[/red]: run `{command_name(args)} lab up` to repair")
    return 0 if st.ok else 1


def run_exec(args: argparse.Namespace) -> int:
    cmd = list(args.cmd)
    if cmd and cmd[0] == "--":
        cmd = cmd[1:]
    sys.stdout.flush()
    return lab_status.exec_in(args.host, cmd)
