#!/usr/bin/env python3
"""Time `lab up` (2 and 16 servers, from nothing), a second `lab up` (nothing to do) and
`lab down`, through the real command line; print JSON. Needs root; takes down any running lab.

    .venv/bin/python bench/lab_bench.py [--rounds N] [--servers 2 16]

Each figure is wall-clock seconds of one `python tasks.py lab ...` process (Python start-up
included), min and median over the rounds. The lab is left down.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nornir_anycast.lab.prefix import lab_dir_name  # noqa: E402

TASKS = [sys.executable, str(ROOT / "tasks.py")]


def timed(*args: str) -> float:
    start = time.monotonic()
    proc = subprocess.run([*TASKS, *args], cwd=ROOT, capture_output=True, text=True, check=False)
    elapsed = time.monotonic() - start
    if proc.returncode != 0:
        raise SystemExit(f"`tasks.py {' '.join(args)}` failed ({proc.returncode}):\n"
                         f"{proc.stdout}{proc.stderr}")
    return elapsed


def summary(values: list[float]) -> dict[str, float | list[float]]:
    return {"min": round(min(values), 3), "median": round(statistics.median(values), 3),
            "runs": [round(v, 3) for v in values]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--servers", type=int, nargs="+", default=[2, 16])
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("lab_bench.py needs root", file=sys.stderr)
        return 2
    timed("lab", "down")
    results: dict[str, object] = {}
    for n in args.servers:
        up, again, status, down = [], [], [], []
        for _ in range(args.rounds):
            up.append(timed("lab", "up", "--servers", str(n)))
            again.append(timed("lab", "up", "--inventory", str(Path(lab_dir_name()) / "inventory")))
            status.append(timed("lab", "status"))
            down.append(timed("lab", "down"))
        results[f"servers_{n}"] = {
            "hosts": n + 3,
            "lab_up_s": summary(up),
            "lab_up_again_s": summary(again),
            "lab_status_s": summary(status),
            "lab_down_s": summary(down),
        }
    print(json.dumps({"benchmark": "lab", "cpus": os.cpu_count(), "kernel": platform.release(),
                      "rounds": args.rounds, "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
