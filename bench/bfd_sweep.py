#!/usr/bin/env python3
"""BFD timers chosen by measurement: crash drills at several BFD settings, quiet and under a
full table. Prints JSON. Needs root; uses the lab that is up (`lab up`, deployed) and leaves it
deployed with its own inventory again.

    .venv/bin/python bench/bfd_sweep.py [--intervals 50 20 10] [--multiplier 3]
                                        [--routes 1000000] [--server server-1] [--no-bfd]

For each BFD interval (and, with --no-bfd, BFD off: detection by the lab's BGP hold time) the
lab inventory is copied to a temporary directory with that setting (`bfd.interval_ms`,
`bfd.multiplier`; BGP timers as the lab's), deployed and verified. Then:
- quiet: `drill SERVER --mode crash` (the server's switch port drops every frame);
- full table: `drill EDGE --mode full-table --routes N` with the same crash drill run while the
  N routes arrive (right after the upstream announces them).
Each row: kernel_drop_ms and outage_ms of the crash drill, and false_down_events: BFD and BGP
down events the edge counted on server sessions that were NOT crashed (every one is a false
alarm), plus the crashed server's beyond its one real failure. The chosen setting is the
fastest with zero false downs under the full table (`chosen`).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import yaml  # noqa: E402
from run_tasks import tasks  # noqa: E402

from nornir_anycast.design.model import Design  # noqa: E402
from nornir_anycast.design.registry import lookup  # noqa: E402
from nornir_anycast.drill import full_table  # noqa: E402
from nornir_anycast.drill.runner import run_drill  # noqa: E402
from nornir_anycast.inventory.loader import load_nornir  # noqa: E402


def inventory_with(base: Path, bfd: int | None, multiplier: int) -> Path:
    """A copy of the lab inventory with BFD at `bfd` ms x `multiplier` (None: BFD off)."""
    out = Path(tempfile.mkdtemp(prefix="na-bfd-sweep-"))
    tasks("init", str(out / "inventory"), "--example", "lab", "--force")
    inv = out / "inventory"
    defaults_file = inv / "defaults.yaml"
    defaults = yaml.safe_load(defaults_file.read_text())
    data = defaults.setdefault("data", {})
    data["bfd"] = ({"enabled": False} if bfd is None else
                   {"enabled": True, "interval_ms": bfd, "multiplier": multiplier})
    defaults_file.write_text(yaml.safe_dump(defaults, sort_keys=False))
    del base
    return inv


def false_downs(sessions: dict[str, dict[str, Any]], crashed_address: str | None) -> int:
    """Down events on server sessions no fault hit; the crashed one's beyond one of each."""
    total = 0
    for address, row in sessions.items():
        for key in ("bfd_down", "bgp_dropped"):
            n = int(row.get(key) or 0)
            total += max(0, n - 1) if address == crashed_address else n
    return total


def crash(nr: Any, design: Design, server: str) -> dict[str, Any]:
    o = run_drill(nr, design, server, "crash", duration_s=10.0)
    r = o.report
    return {"kernel_drop_ms": r["kernel_drop_ms"], "outage_ms": r["outage_ms"],
            "requests_failed": r["requests_failed"], "verify_ok": o.verify_ok}


def measure(inv: Path, bfd: int | None, multiplier: int, routes: int,
            server: str) -> dict[str, Any]:
    tasks("deploy", "--inventory", str(inv))
    tasks("verify", "--inventory", str(inv), "--wait", "60")
    nr = load_nornir(str(inv))
    design = lookup(nr)
    assert design is not None
    edge = next(iter(design.by_role("edge"))).name
    me = design.hosts[edge]
    address = next(a for a, n in full_table.server_peers(me, design).items() if n == server)
    row: dict[str, Any] = {"bfd_interval_ms": bfd, "multiplier": multiplier if bfd else None,
                           "hold_s": me.bgp_timers.hold, "keepalive_s": me.bgp_timers.keepalive}
    before = full_table.read_counters(me)
    quiet = crash(nr, design, server)
    after = full_table.read_counters(me)
    deltas = full_table.counter_deltas(before, after, full_table.server_peers(me, design))
    quiet["false_down_events"] = false_downs(deltas, address)
    row["quiet"] = quiet
    box: dict[str, Any] = {}
    ft = full_table.run_full_table_drill(
        nr, design, edge, routes=routes, keep_routes=True,
        during=lambda: box.update(crash=crash(nr, design, server)))
    loaded = dict(box["crash"])
    loaded["false_down_events"] = false_downs(ft.report["sessions"], address)
    loaded["full_table_requests_failed"] = ft.report["requests_failed"]
    loaded["converge_s"] = ft.report["converge_s"]
    loaded["verify_after_ratio"] = ft.report["verify_after_ratio"]
    row["full_table"] = loaded
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--intervals", type=int, nargs="+", default=[50, 20, 10])
    parser.add_argument("--multiplier", type=int, default=3)
    parser.add_argument("--routes", type=int, default=full_table.DEFAULT_ROUTES)
    parser.add_argument("--server", default="server-1")
    parser.add_argument("--no-bfd", action="store_true",
                        help="also a row with BFD off (detection by the BGP hold time)")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("bfd_sweep.py needs root", file=sys.stderr)
        return 2
    settings: list[int | None] = list(args.intervals) + ([None] if args.no_bfd else [])
    rows = []
    started = time.monotonic()
    dirs: list[Path] = []
    try:
        for bfd in settings:
            inv = inventory_with(ROOT / "inventory", bfd, args.multiplier)
            dirs.append(inv.parent)
            rows.append(measure(inv, bfd, args.multiplier, args.routes, args.server))
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    finally:
        tasks("deploy")  # the lab's own inventory again
        from nornir_anycast.drill import upstream

        try:
            upstream.remove("isp")
        except Exception as exc:
            print(f"could not remove the generated routes from isp: {exc}", file=sys.stderr)
        for d in dirs:
            shutil.rmtree(d, ignore_errors=True)
    ok = [r for r in rows if r["bfd_interval_ms"] is not None
          and r["full_table"]["false_down_events"] == 0]
    chosen = min(ok, key=lambda r: r["bfd_interval_ms"] * r["multiplier"], default=None)
    print(json.dumps({
        "bench": "bfd_sweep", "routes": args.routes, "server": args.server,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "seconds": round(time.monotonic() - started, 1), "results": rows,
        "chosen": None if chosen is None else {
            "bfd_interval_ms": chosen["bfd_interval_ms"], "multiplier": chosen["multiplier"]},
    }, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
