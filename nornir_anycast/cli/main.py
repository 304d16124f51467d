"""Entry point of the command line: builds the parser from the command modules and runs one.

The same CLI is started three ways: the installed console script `nornir-anycast`,
`python -m nornir_anycast`, and `python tasks.py` from a checkout; the usage line names the one
that was typed (`prog`).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Sequence

from rich.console import Console
from rich.markup import escape

from nornir_anycast import __version__
from nornir_anycast.exceptions import AnycastError, InventoryError
from nornir_anycast.inventory.secrets import redact

# Each module nornir_anycast.cli.<name> defines register(subparsers) and sets `func` on its parser
# (cli.drain registers both `drain` and `undrain`).
COMMANDS: tuple[str, ...] = ("init", "render", "lab", "deploy", "verify", "drill", "drain")

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2


#: The console script's name (pyproject [project.scripts]) and the --version line's first word.
SCRIPT = "nornir-anycast"


def version_line() -> str:
    """What `--version` prints: `nornir-anycast <version>` (nornir_anycast.__version__)."""
    return f"{SCRIPT} {__version__}"


def typed_python() -> str:
    """The interpreter's name as the user typed it (`python3`), for `python -m ...` usage lines."""
    orig = getattr(sys, "orig_argv", None) or [sys.executable]
    return os.path.basename(orig[0]) or "python"


def build_parser(prog: str | None = None) -> argparse.ArgumentParser:
    """The whole CLI; `prog` is the command shown in usage lines (default: `nornir-anycast`)."""
    parser = argparse.ArgumentParser(
        prog=prog or SCRIPT,
        description="Deploy and verify BGP anycast services with Nornir.",
        epilog="Paths on the command line are relative to the current directory. The lab's "
               "state (.lab/) and caches (.cache/) live in $NORNIR_ANYCAST_HOME: the checkout "
               "when run from one, else ~/.local/state/nornir-anycast.",
    )
    parser.add_argument("--version", action="version", version=version_line())
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"nornir_anycast.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"nornir_anycast.cli.{name}":
                continue  # command not built yet
            raise
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None, prog: str | None = None) -> int:
    """Run one command; returns the exit status (0 ok, 1 failed, 2 bad input).

    Args:
        argv: the arguments after the command name (default: sys.argv[1:]).
        prog: the command as the user typed it, for usage lines (default: `nornir-anycast`).
    """
    parser = build_parser(prog)
    args = parser.parse_args(argv)
    args.prog = parser.prog  # for hints that name a command to run next (`nornir-anycast ...`)
    func: Callable[[argparse.Namespace], int] = args.func
    err = Console(stderr=True)
    try:
        return func(args)
    except InventoryError as exc:
        # One line per problem, never wrapped; values may contain [brackets] (not markup).
        err.print(f"[red]error:[/red] {escape(redact(str(exc)))}", markup=True, highlight=False,
                  soft_wrap=True)
        return EXIT_BAD_INPUT
    except AnycastError as exc:
        err.print(f"[red]error:[/red] {escape(redact(str(exc)))}", markup=True, highlight=False,
                  soft_wrap=True)
        return EXIT_FAILED
    except KeyboardInterrupt:
        err.print("interrupted")
        return 130


def console_script() -> int:
    """The `nornir-anycast` console script (pyproject [project.scripts])."""
    return main(prog=SCRIPT)


if __name__ == "__main__":
    sys.exit(main(prog=f"{typed_python()} -m nornir_anycast.cli.main"))
