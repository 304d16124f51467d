#!/usr/bin/env python3
"""nornir_anycast command line from a checkout: `python tasks.py <command> ...` (see README.md).

The same CLI as the installed `nornir-anycast` and `python -m nornir_anycast`. Started with the
system python3, it re-executes itself under the checkout's `.venv/bin/python` when that exists,
so every command in the README works exactly as written. It does not change directory: paths
typed on the command line are relative to the current directory; without `-i`, the inventory
is `./inventory` if there is one, else this checkout's `inventory/`; the lab's state and caches
stay in this checkout (see nornir_anycast.settings, $NORNIR_ANYCAST_HOME).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
#: How the user started this script, carried over the re-exec (popped again right after it).
_PROG_ENV = "_NORNIR_ANYCAST_TASKS_PROG"


def _typed_prog() -> str:
    """The command as typed: `python3 tasks.py`, `python /x/tasks.py` or `./tasks.py`."""
    orig = list(getattr(sys, "orig_argv", []))
    script = sys.argv[0]
    if orig and orig[0] != script and Path(orig[0]).name.startswith("python"):
        return f"{Path(orig[0]).name} {script}"
    return script


def _reexec_in_venv() -> None:
    venv_python = ROOT / ".venv" / "bin" / "python"
    if not venv_python.exists():
        return
    if Path(sys.prefix).resolve() == (ROOT / ".venv").resolve():
        return
    env = dict(os.environ)
    env.setdefault(_PROG_ENV, _typed_prog())
    os.execve(str(venv_python), [str(venv_python), str(Path(__file__).resolve()), *sys.argv[1:]],
              env)


if __name__ == "__main__":
    _reexec_in_venv()
    prog = os.environ.pop(_PROG_ENV, None) or _typed_prog()
    sys.path.insert(0, str(ROOT))
    from nornir_anycast.cli.main import main

    sys.exit(main(sys.argv[1:], prog=prog))
