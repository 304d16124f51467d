"""What the benchmarks share: this checkout's `python tasks.py ...` as a user runs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TASKS = [sys.executable, str(ROOT / "tasks.py")]


def tasks(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run `tasks.py ARGS` from the project root; with `check`, exit with its output when it
    fails."""
    proc = subprocess.run([*TASKS, *args], cwd=ROOT, capture_output=True, text=True,
                          check=False)
    if check and proc.returncode != 0:
        raise SystemExit(f"`tasks.py {' '.join(args)}` failed ({proc.returncode}):\n"
                         f"{proc.stdout[-3000:]}{proc.stderr[-3000:]}")
    return proc
