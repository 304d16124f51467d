"""`nornir-anycast init DIR`: write a starter inventory from one of the shipped examples.

The examples are the checkout's `inventory/` directory, shipped in the wheel as the package
`nornir_anycast.examples` (pyproject maps one onto the other, as `templates/` is mapped onto
`nornir_anycast.templates`):

- `lab`: the seed topology as the built-in lab runs it (`inventory/` itself; the default);
- `vyos-seed`: the seed howto as written (VyOS routers, Alpine servers with BIRD 1.6);
- `vyos-seed-dnat`: the same with the seed's destination NAT;
- `lab-dnat`: the lab with destination NAT on the FRR edge.

From a checkout (an editable install, `python tasks.py`) the files are read from `inventory/`
directly: setuptools' editable finder does not resolve a mapped subpackage without an
`__init__.py`, and an inventory directory should not have one.
"""

from __future__ import annotations

import argparse
import importlib.resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from nornir_anycast.exceptions import InventoryError, Problem
from nornir_anycast.settings import checkout_root

EXAMPLES_PACKAGE = "nornir_anycast.examples"
DEFAULT_EXAMPLE = "lab"
#: Example name -> directory inside the examples package ("" = its top level).
EXAMPLES: dict[str, str] = {
    "lab": "",
    "vyos-seed": "vyos-seed",
    "vyos-seed-dnat": "vyos-seed-dnat",
    "lab-dnat": "lab-dnat",
    "lab-debian13": "lab-debian13",
    "lab-debian13-bird3": "lab-debian13-bird3",
}
FILES = ("config.yaml", "hosts.yaml", "groups.yaml", "defaults.yaml")

_NEXT_STEPS = """\
Next, edit it for your own network:
  {d}/hosts.yaml     each host: hostname (the address SSH connects to), groups, and its data
                     (ASN, router id, interfaces, BGP neighbors, the anycast services)
  {d}/groups.yaml    what hosts share: platform, roles, the health checks
  {d}/defaults.yaml  SSH user and key, `lab: false` for real devices; passwords as
                     {{env: NAME}} or {{file: PATH}}, never in the file
Then render and check it (nothing is pushed):
  {prog} render -i {d} --out {d}-out"""


class InitError(InventoryError):
    """`init` cannot write the example (bad input: the CLI exits 2, nothing written)."""

    def __init__(self, field: str, value: str, message: str) -> None:
        super().__init__([Problem("-", field, value, message)])
        self.args = (f"init: {field} {value!r} {message}",)


def examples_root() -> Traversable:
    """The shipped examples: the `nornir_anycast.examples` package, else the checkout's inventory/.

    Raises:
        ModuleNotFoundError: neither (a broken installation).
    """
    try:
        return importlib.resources.files(EXAMPLES_PACKAGE)
    except ModuleNotFoundError:
        checkout = checkout_root()
        if checkout is None or not (checkout / "inventory" / "hosts.yaml").is_file():
            raise
        return checkout / "inventory"


def example_files(name: str) -> dict[str, str]:
    """The files of example `name`: {file name: text}.

    Raises:
        InitError: no such example (naming the ones there are).
    """
    if name not in EXAMPLES:
        raise InitError("--example", name, f"does not exist; there are: {', '.join(EXAMPLES)}")
    root = examples_root()
    where = root.joinpath(EXAMPLES[name]) if EXAMPLES[name] else root
    return {f: where.joinpath(f).read_text(encoding="utf-8") for f in FILES}


def write_example(directory: Path, name: str = DEFAULT_EXAMPLE, force: bool = False) -> list[Path]:
    """Write example `name` into `directory` (created if missing); returns the files written.

    Raises:
        InitError: no such example, or `directory` is a file, or it is a non-empty
            directory and `force` is not set (nothing is written then).
    """
    files = example_files(name)
    if directory.exists() and not directory.is_dir():
        raise InitError("DIR", str(directory), "is not a directory; nothing written")
    if directory.is_dir() and any(directory.iterdir()) and not force:
        raise InitError("DIR", str(directory), "is not empty; nothing written (--force "
                        f"overwrites {', '.join(FILES)} there)")
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for file_name, text in files.items():
        path = directory / file_name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "init", help="write a starter inventory to edit for your own network",
        description="Write a starter inventory (config.yaml, hosts.yaml, groups.yaml, "
                    "defaults.yaml) into DIR from one of the shipped examples: "
                    "lab (the seed topology as the built-in lab runs it; default), vyos-seed "
                    "(the seed howto as written: VyOS routers, Alpine servers), vyos-seed-dnat, "
                    "lab-dnat. A non-empty DIR is refused unless --force.")
    p.add_argument("directory", metavar="DIR", help="where to write it (relative to the "
                   "current directory; created if missing)")
    p.add_argument("--example", "-e", choices=list(EXAMPLES), default=DEFAULT_EXAMPLE,
                   metavar="NAME", help=f"which example: {', '.join(EXAMPLES)} "
                   f"(default: {DEFAULT_EXAMPLE})")
    p.add_argument("--force", action="store_true",
                   help="write into a non-empty DIR, overwriting the example's four files")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    directory = Path(args.directory)
    written = write_example(directory, args.example, args.force)
    print(f"init: wrote the {args.example!r} example to {directory}/:")
    for path in written:
        print(f"  {path}")
    print(_NEXT_STEPS.format(d=directory, prog=args.prog))
    return 0
