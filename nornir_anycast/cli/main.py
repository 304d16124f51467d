"""Entry point of the command line: builds the parser from the command modules and runs one."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

from rich.console import Console
from rich.markup import escape

from nornir_anycast.exceptions import AnycastError, InventoryError
from nornir_anycast.inventory.secrets import redact

# Each module nornir_anycast.cli.<name> defines register(subparsers) and sets `func` on its parser
# (cli.drain registers both `drain` and `undrain`).
COMMANDS: tuple[str, ...] = ("render", "lab", "deploy", "verify", "drill", "drain")

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python tasks.py",
        description="Deploy and verify BGP anycast services with Nornir.",
    )
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


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
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
        err.print(f"[red]error:[/red] {escape(redact(str(exc)))}", markup=True, highlight=False)
        return EXIT_FAILED
    except KeyboardInterrupt:
        err.print("interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
