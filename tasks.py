#!/usr/bin/env python3
"""nornir_anycast command line: `python tasks.py <command> ...` (see README.md).

Started with the system python3, it re-executes itself under the project's `.venv/bin/python`
when that exists, so every command in the README works exactly as written.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent


def _reexec_in_venv() -> None:
    venv_python = ROOT / ".venv" / "bin" / "python"
    if not venv_python.exists():
        return
    if Path(sys.prefix).resolve() == (ROOT / ".venv").resolve():
        return
    os.execv(str(venv_python), [str(venv_python), str(Path(__file__).resolve()), *sys.argv[1:]])


if __name__ == "__main__":
    _reexec_in_venv()
    os.chdir(ROOT)
    os.environ.setdefault("NORNIR_ANYCAST_ROOT", str(ROOT))
    sys.path.insert(0, str(ROOT))
    from nornir_anycast.cli.main import main

    sys.exit(main(sys.argv[1:]))
