#!/usr/bin/env python3
"""Failover figures on the lab: the crash drill with BFD N times, and once without BFD.

    NORNIR_ANYCAST_LAB_PREFIX=... .venv/bin/python bench/failover_bench.py [--runs 3]
        [--host server-2] [--duration 10]

Brings the lab up (`lab up`, for the prefix in the environment), deploys the default inventory
(BFD as the lab inventory sets it) and runs `python tasks.py drill HOST --mode crash --json
...` `--runs` times.
Then it deploys a copy of the inventory with `bfd.enabled: false` (written under the lab's
directory), runs the crash drill once more on it, and deploys the default inventory again.
Prints JSON: each run's drill report, plus the median of the BFD runs. The lab is left up.

These are measurements of one machine (2 shared cores here), not targets of a test. Issue 6's
targets, which the drill's `met` reports: crash with BFD, kernel_drop_ms and outage_ms at most
300; crash without BFD, the outage equals the hold time (3 s in the lab inventory).
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import statistics
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from run_tasks import tasks  # noqa: E402

from nornir_anycast.lab.prefix import lab_dir_name  # noqa: E402


def drill(host: str, duration: float, out: Path, inventory: Path | None = None
          ) -> dict[str, Any]:
    extra = ["--inventory", str(inventory)] if inventory else []
    proc = tasks("drill", host, "--mode", "crash", "--duration", str(duration),
                 "--json", str(out), *extra, check=False)
    if not out.exists():
        raise SystemExit(f"drill wrote no report ({proc.returncode}):\n{proc.stdout[-3000:]}"
                         f"{proc.stderr[-3000:]}")
    report: dict[str, Any] = json.loads(out.read_text())
    out.unlink()
    return report


def no_bfd_inventory(dest: Path) -> Path:
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(ROOT / "inventory", dest)
    defaults = yaml.safe_load((dest / "defaults.yaml").read_text())
    defaults["data"]["bfd"]["enabled"] = False
    (dest / "defaults.yaml").write_text(yaml.safe_dump(defaults, sort_keys=False))
    return dest


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--host", default="server-2")
    ap.add_argument("--duration", type=float, default=10.0)
    args = ap.parse_args()
    lab = ROOT / lab_dir_name()
    tasks("lab", "up")
    tasks("deploy")
    tasks("verify", "--wait", "60")
    report_file = lab / "failover-bench.json"
    with_bfd = [drill(args.host, args.duration, report_file) for _ in range(args.runs)]
    inv = no_bfd_inventory(lab / "inventory-no-bfd")
    try:
        tasks("deploy", "--inventory", str(inv))
        tasks("verify", "--inventory", str(inv), "--wait", "60")
        without = drill(args.host, args.duration, report_file, inventory=inv)
    finally:
        tasks("deploy")
        tasks("verify", "--wait", "60", check=False)
        shutil.rmtree(inv, ignore_errors=True)

    def median(key: str) -> float | None:
        values = [r[key] for r in with_bfd if r[key] is not None]
        return statistics.median(values) if values else None

    print(json.dumps({
        "machine": {"cpus": len(__import__("os").sched_getaffinity(0)),
                    "python": platform.python_version()},
        "crash_with_bfd": {"runs": with_bfd,
                           "median_kernel_drop_ms": median("kernel_drop_ms"),
                           "median_outage_ms": median("outage_ms"),
                           "all_met": all(r["met"] for r in with_bfd)},
        "crash_without_bfd": without,
    }, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
