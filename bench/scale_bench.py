#!/usr/bin/env python3
"""Scale: lab up, first deploy, no-op deploy and verify for generated multi-site labs. Prints
JSON. Needs root; rebuilds the lab of this prefix for each shape and leaves it down.

    .venv/bin/python bench/scale_bench.py [--shapes 1x1x2 2x2x4 2x2x16] [--num-workers 20]
                                          [--kinds namespace debian13]

Each shape SxExN is `lab up --sites S --edges E --servers N` (the seed's shape for 1x1x2 under
generated names), then, on the inventory it wrote: `deploy` (first), `verify --wait 120` until
it first passes, a second `deploy` that should change nothing (no-op), and a plain `verify`.
Each figure is the wall-clock seconds of one `python tasks.py ...` process (Python start-up
included), run with `--num-workers` (Nornir's threaded runner: hosts worked on at once).

Per-host cost: each step's seconds divided by the lab's hosts. Growth: each shape's figures
divided by the first shape's (the seed's when 1x1x2 comes first). Target (issue 13): 2x2x16
verify within 3x of the seed's (`verify_ratio_vs_first` <= 3).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nornir_anycast.lab.prefix import lab_dir_name  # noqa: E402

TASKS = [sys.executable, str(ROOT / "tasks.py")]
KINDS = {"namespace": ROOT / "inventory", "debian13": ROOT / "inventory" / "lab-debian13"}
STEPS = ("lab_up_s", "first_deploy_s", "verify_until_pass_s", "noop_deploy_s", "verify_s")


def run(*args: str) -> tuple[float, subprocess.CompletedProcess[str]]:
    """One `tasks.py` command, timed; a failure stops the bench with its output."""
    start = time.monotonic()
    proc = subprocess.run([*TASKS, *args], cwd=ROOT, capture_output=True, text=True,
                          check=False)
    elapsed = time.monotonic() - start
    if proc.returncode != 0:
        raise SystemExit(f"`tasks.py {' '.join(args)}` failed ({proc.returncode}):\n"
                         f"{proc.stdout[-3000:]}{proc.stderr[-3000:]}")
    return elapsed, proc


def shape(text: str) -> tuple[int, int, int]:
    """`SxExN` (sites x edges x servers) as three numbers."""
    try:
        sites, edges, servers = (int(x) for x in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected SITESxEDGESxSERVERS, "
                                         "e.g. 2x2x16") from None
    return sites, edges, servers


def measure(kind: str, sites: int, edges: int, servers: int, workers: int) -> dict[str, Any]:
    run("lab", "down")
    up, _ = run("lab", "up", "--inventory", str(KINDS[kind]), "--sites", str(sites),
                "--edges", str(edges), "--servers", str(servers))
    inv = str(Path(lab_dir_name()) / "inventory")  # honours NORNIR_ANYCAST_LAB_PREFIX
    nw = ("--num-workers", str(workers))
    first, _ = run("deploy", "--inventory", inv, *nw)
    with tempfile.TemporaryDirectory(prefix="na-scale-") as tmp:
        report, noop_report = Path(tmp) / "verify.json", Path(tmp) / "noop.json"
        until, _ = run("verify", "--inventory", inv, "--wait", "120", "--json", str(report),
                       *nw)
        verified = json.loads(report.read_text())
        noop, _ = run("deploy", "--inventory", inv, "--json", str(noop_report), *nw)
        changed = [h for h, r in json.loads(noop_report.read_text())["hosts"].items()
                   if r["changed"]]
    plain, _ = run("verify", "--inventory", inv, *nw)
    run("lab", "down")
    hosts = sites * (edges + servers + 2)
    figures = dict(zip(STEPS, (up, first, until, noop, plain), strict=True))
    return {
        "kind": kind, "shape": f"{sites}x{edges}x{servers}", "hosts": hosts,
        "num_workers": workers, "checks": len(verified["checks"]),
        "converged_after_s": verified.get("converged_after_s"),
        **{k: round(v, 3) for k, v in figures.items()},
        "per_host_s": {k: round(v / hosts, 3) for k, v in figures.items()},
        "noop_changed_hosts": changed,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shapes", type=shape, nargs="+", metavar="SxExN",
                        default=[(1, 1, 2), (2, 2, 4), (2, 2, 16)])
    parser.add_argument("--num-workers", type=int, default=20, metavar="N")
    parser.add_argument("--kinds", nargs="+", choices=sorted(KINDS), default=["namespace"])
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("scale_bench.py needs root", file=sys.stderr)
        return 2
    results: list[dict[str, Any]] = []
    try:
        for kind in args.kinds:
            first: dict[str, Any] | None = None
            for sites, edges, servers in args.shapes:
                r = measure(kind, sites, edges, servers, args.num_workers)
                first = first or r
                r["ratio_vs_first"] = {k: round(r[k] / first[k], 2) if first[k] else None
                                       for k in STEPS}
                results.append(r)
                print(json.dumps(r), file=sys.stderr, flush=True)  # each shape as it is done
    finally:
        # a failed step leaves its lab up: take it down (the bench's own prefix's lab)
        subprocess.run([*TASKS, "lab", "down"], cwd=ROOT, capture_output=True, check=False)
    targets: dict[str, Any] = {}
    for kind in args.kinds:
        mine = [r for r in results if r["kind"] == kind]
        seed = next((r for r in mine if r["shape"] == "1x1x2"), None)
        big = next((r for r in mine if r["shape"] == "2x2x16"), None)
        if seed and big:
            ratio = round(big["verify_s"] / seed["verify_s"], 2)
            targets[f"{kind}_verify_2x2x16_vs_seed"] = {"ratio": ratio, "target": 3.0,
                                                        "met": ratio <= 3.0}
    print(json.dumps({"benchmark": "scale", "cpus": os.cpu_count(),
                      "kernel": platform.release(), "results": results, "targets": targets},
                     indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
