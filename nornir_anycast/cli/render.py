"""`nornir-anycast render`: write each host's configuration files under OUT/<host>/.

The `check` column says, per file, what the local checker made of it: `checked`,
`rejected (...)` (the host fails, exit 1), `not checked: bird not installed here` (the render
still succeeds; with `--require-checks` the host fails, exit 1), or `-` (no checker: a page).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from nornir.core.task import AggregatedResult
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from nornir_anycast.cli.common import add_inventory_args, load
from nornir_anycast.cli.output import plural, stdout_console
from nornir_anycast.design.model import Design
from nornir_anycast.exceptions import AnycastError
from nornir_anycast.inventory.secrets import redact
from nornir_anycast.render.checkers import CHECKED, DEBIAN_PACKAGES, ChecksFailedError
from nornir_anycast.settings import cache_dir
from nornir_anycast.tasks.render_config import render_config


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "render", help="render every host's configuration files (nothing is pushed)",
        description="Render each host's files to OUT/<host>/ and check them with the "
                    "platforms' own parsers on this machine (bird -p, nginx -t, vtysh -C, "
                    "nft -c). A checker that is not installed here leaves its files "
                    "'not checked' (install the Debian packages bird2, nginx-light, frr, "
                    "nftables); a rejected file fails its host (exit 1).")
    add_inventory_args(p)
    p.add_argument("--out", "-o", metavar="DIR", default=None,
                   help="output directory (default: ./out, in the current directory)")
    p.add_argument("--no-check", dest="check", action="store_false",
                   help="skip the local checkers")
    p.add_argument("--require-checks", action="store_true",
                   help="a file whose checker is not installed here fails its host (exit 1)")
    p.set_defaults(func=run)


def _status_cell(status: str) -> str:
    if status == CHECKED:
        return "[green]checked[/green]"
    if status.startswith("rejected"):
        return f"[red]{escape(status)}[/red]"
    if status.startswith("not checked"):
        return f"[yellow]{escape(status)}[/yellow]"
    return escape(status)


def print_summary(result: AggregatedResult, design: Design, out: Path, check: bool,
                  console: Console) -> None:
    """One row per file: host, platform, role, file, check, changed."""
    table = Table(title=f"render -> {out}", title_justify="left")
    for col in ("host", "platform", "role", "file", "check", "changed"):
        table.add_column(col)
    missing: dict[str, list[str]] = {}
    for name in sorted(result):
        multi = result[name]
        h = design.hosts[name]
        exc = multi[0].exception
        if multi.failed and not isinstance(exc, ChecksFailedError):
            table.add_row(name, h.platform, h.role, "-", "[red]FAILED[/red]", "-")
            continue
        files: dict[str, dict[str, Any]] = {} if multi.failed else multi[0].result
        statuses: dict[str, str] = (exc.statuses if isinstance(exc, ChecksFailedError)
                                    else {f: str(v["check"]) for f, v in files.items()})
        names = list(statuses) if multi.failed else list(files)
        if not names:
            table.add_row(name, h.platform, h.role, "(none)", "-",
                          "-" if multi.failed else ("yes" if multi[0].changed else "no"))
        for f in names:
            status = statuses.get(f, "-") if check else "-"
            if status.startswith("not checked"):
                missing.setdefault(status, []).append(f"{name}/{f}")
            changed = "-" if multi.failed else ("yes" if files[f].get("changed") else "no")
            table.add_row(name, h.platform, h.role, f, _status_cell(status), changed)
    console.print(table)
    for status, where in missing.items():
        program = status.removeprefix("not checked: ").removesuffix(" not installed here")
        package = DEBIAN_PACKAGES.get(program)
        if package:
            how = f"install the Debian package {package}"
        elif program == "BIRD 1.6":
            how = ("unpack Debian 12's bird package (BIRD 1.6): `apt-get download bird && "
                   f"dpkg -x bird_*.deb {cache_dir() / 'bird1'}`, or set NORNIR_ANYCAST_BIRD1")
        else:
            how = f"install {program}"
        console.print(f"[yellow]not checked[/yellow]: {program} is not installed here "
                      f"({len(where)} file{'s' if len(where) != 1 else ''}); {how}",
                      highlight=False, soft_wrap=True)
    for name in sorted(result):
        multi = result[name]
        if multi.failed:
            exc = multi[0].exception
            msg = str(exc) if isinstance(exc, AnycastError) else f"{type(exc).__name__}: {exc}"
            msg = redact(msg)  # a checker may quote the config line holding a password
            for line in msg.splitlines() or [""]:
                console.print(f"[red]FAIL[/red] {escape(name)}: {escape(line)}",
                              highlight=False, markup=True, soft_wrap=True)


def run(args: argparse.Namespace) -> int:
    console = stdout_console()
    nr, design, _ = load(args)
    out = Path(args.out) if args.out else Path("out")
    result = nr.run(task=render_config, design=design, out_dir=out, check=args.check,
                    require_checks=args.require_checks, dry_run=False)
    print_summary(result, design, out, args.check, console)
    if result.failed:
        console.print(f"[red]render failed[/red] on {len(result.failed_hosts)} of "
                      f"{plural(len(result), 'host')}", highlight=False)
        return 1
    n_files = sum(len(result[h][0].result) for h in result)
    console.print(f"[green]render ok[/green]: {plural(len(result), 'host')}, "
                  f"{plural(n_files, 'file')} in {out}", highlight=False, soft_wrap=True)
    return 0
