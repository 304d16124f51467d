#!/usr/bin/env python3
"""What withdrawing a dead service costs on a lab server: CPU of the polling fallback and of the
event path, and the service drill's withdraw_ms.

    NORNIR_ANYCAST_LAB_PREFIX=... .venv/bin/python bench/healthcheck_cpu.py [--host server-1]
        [--window 30] [--fast-interval 0.1] [--drills 5] [--down]

Brings the lab up (`lab up`) and deploys the default inventory, then on HOST reads
/proc/PID/stat inside the host (utime + stime, plus cutime + cstime: the check commands,
curl, are children the healthchecker waits for) at the start and end of `--window` seconds, for:

- `healthchecker_lab_interval`: anycast-healthchecker at the lab's interval (0.5 s, timeout 0.4);
- `healthchecker_fast_interval`: the same at `--fast-interval` (a copy of the inventory written
  under the lab's directory, deployed, then the default deployed again), the rate a polling-only
  design would need to get near the event path's figure;
- `watcher`: the nginx watcher of the event path (asleep in poll() on a pidfd).

CPU is reported as CPU seconds per minute (and % of one core). Then `--drills` service drills
(`tasks.py drill HOST --mode service --json F`) and their withdraw_ms with the median.
Prints JSON. `--down` takes the lab down at the end (otherwise it is left up, like the other
benches). A measurement of one machine (2 shared cores here), not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from run_tasks import tasks  # noqa: E402

from nornir_anycast.lab.prefix import lab_dir_name  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")
#: (name, pid file inside the lab host): as inventory/groups.yaml and the model's defaults say.
PROCESSES = {
    "healthchecker": "/run/anycast-healthchecker/anycast-healthchecker.pid",
    "watcher": "/run/nornir-anycast/service-watch.pid",
}


def cpu_ticks(host: str, pidfile: str) -> tuple[int, int]:
    """(pid, utime + stime + cutime + cstime in clock ticks) of the process named by `pidfile`
    inside `host` (its own PID namespace: read there)."""
    out = tasks("lab", "exec", host, "--", "sh", "-c",
                f"p=$(cat {pidfile}) && echo $p && cat /proc/$p/stat").stdout.split("\n", 1)
    pid = int(out[0])
    fields = out[1].rsplit(")", 1)[1].split()
    # after "pid (comm)": state=0 ... utime=11 stime=12 cutime=13 cstime=14
    return pid, sum(int(fields[i]) for i in (11, 12, 13, 14))


def measure(host: str, names: list[str], window: float) -> dict[str, dict[str, float]]:
    before = {n: cpu_ticks(host, PROCESSES[n]) for n in names}
    t0 = time.monotonic()
    time.sleep(window)
    elapsed = time.monotonic() - t0
    after = {n: cpu_ticks(host, PROCESSES[n]) for n in names}
    result = {}
    for n in names:
        if before[n][0] != after[n][0]:
            raise SystemExit(f"{n} on {host} restarted during the window")
        seconds = (after[n][1] - before[n][1]) / TICK
        result[n] = {"cpu_s": round(seconds, 3), "window_s": round(elapsed, 1),
                     "cpu_s_per_min": round(seconds * 60 / elapsed, 3),
                     "percent_of_one_core": round(100 * seconds / elapsed, 2)}
    return result


def fast_inventory(dest: Path, interval: float) -> Path:
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(ROOT / "inventory", dest)
    groups = yaml.safe_load((dest / "groups.yaml").read_text())
    hc = groups["servers"]["data"]["healthcheck"]
    hc["interval"] = interval
    hc["timeout"] = round(interval * 0.9, 3)  # a check must end before the next one
    (dest / "groups.yaml").write_text(yaml.safe_dump(groups, sort_keys=False))
    return dest


def drill(host: str, out: Path) -> dict[str, Any]:
    proc = tasks("drill", host, "--mode", "service", "--duration", "6", "--json", str(out),
                 check=False)
    if not out.exists():
        raise SystemExit(f"drill wrote no report ({proc.returncode}):\n{proc.stdout[-3000:]}"
                         f"{proc.stderr[-3000:]}")
    report: dict[str, Any] = json.loads(out.read_text())
    out.unlink()
    return report


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--host", default="server-1")
    ap.add_argument("--window", type=float, default=30.0)
    ap.add_argument("--fast-interval", type=float, default=0.1)
    ap.add_argument("--drills", type=int, default=5)
    ap.add_argument("--down", action="store_true")
    args = ap.parse_args()
    lab = ROOT / lab_dir_name()
    try:
        tasks("lab", "up")
        tasks("deploy")
        tasks("verify", "--wait", "60")
        time.sleep(2)  # past the deploy's own checks
        at_lab = measure(args.host, ["healthchecker", "watcher"], args.window)
        inv = fast_inventory(lab / "inventory-fast-check", args.fast_interval)
        try:
            tasks("deploy", "--inventory", str(inv))
            time.sleep(2)
            fast = measure(args.host, ["healthchecker"], args.window)
        finally:
            tasks("deploy")
            shutil.rmtree(inv, ignore_errors=True)
        tasks("verify", "--wait", "60")
        runs = [drill(args.host, lab / "healthcheck-cpu-drill.json")
                for _ in range(args.drills)]
    finally:
        if args.down:
            tasks("lab", "down", check=False)
    withdraw = [r["withdraw_ms"] for r in runs if r["withdraw_ms"] is not None]
    print(json.dumps({
        "machine": {"cpus": len(os.sched_getaffinity(0)), "python": platform.python_version()},
        "host": args.host, "window_s": args.window,
        "healthchecker_lab_interval": {"interval_s": 0.5, **at_lab["healthchecker"]},
        "healthchecker_fast_interval": {"interval_s": args.fast_interval,
                                        **fast["healthchecker"]},
        "watcher": at_lab["watcher"],
        "service_drill": {
            "withdraw_ms": withdraw,
            "median_withdraw_ms": statistics.median(withdraw) if withdraw else None,
            "requests_failed": [r["requests_failed"] for r in runs],
            "all_met": all(r["met"] for r in runs), "target_ms": runs[0]["target_ms"]
            if runs else None},
    }, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
