#!/usr/bin/env python3
"""Deploy and verify on the lab: time to a first passing verify, a no-op deploy, verify, and
verify with 100,000 extra routes on the edge. Prints JSON. Needs root; rebuilds the lab.

    .venv/bin/python bench/deploy_bench.py [--servers 2 8 16] [--extra-routes 100000]
                                           [--kinds namespace debian13]

For each size N: `lab down`; then the clock runs over `lab up --servers N`, `deploy` and
`verify --wait` until it first passes (`up_to_verified_s`, split into its parts); then a second
deploy with nothing to change (`noop_deploy_s`) and a plain verify (`verify_s`). For the first
size only, the ISP then announces `--extra-routes` more prefixes (kernel routes redistributed
into BGP, outside the inventory: a bench-only step), the edge learns them all, and verify is
timed again (`verify_with_extra_routes_s`). Each figure is wall-clock seconds of one
`python tasks.py ...` process, Python start-up included. The lab is left down.

Kinds: `namespace` (inventory/, this machine's binaries; the default) and `debian13`
(inventory/lab-debian13: systemd containers, sudo as `ops`, FRR 10.3, BIRD 2.17); each result
names its kind, the Debian 13 kind's targets are prefixed `debian13_`.

Targets (issue 5): seed lab (2 servers) deployed and verified in 10 s or less; 16 servers in at
most twice the 2-server time; no-op deploy at most a third of the first; verify with 100,000
extra routes within 1.2x of verify without.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nornir_anycast.drill import upstream  # noqa: E402
from nornir_anycast.lab.prefix import lab_dir_name  # noqa: E402

#: The lab ISP's session address and AS, as the lab inventories have them.
ISP_ADDRESS = "172.16.42.2"
ISP_ASN = 65000

TASKS = [sys.executable, str(ROOT / "tasks.py")]


def run(*args: str, check: bool = True) -> tuple[float, subprocess.CompletedProcess[str]]:
    start = time.monotonic()
    proc = subprocess.run([*TASKS, *args], cwd=ROOT, capture_output=True, text=True,
                          check=False)
    elapsed = time.monotonic() - start
    if check and proc.returncode != 0:
        raise SystemExit(f"`tasks.py {' '.join(args)}` failed ({proc.returncode}):\n"
                         f"{proc.stdout[-3000:]}{proc.stderr[-3000:]}")
    return elapsed, proc


def lab_exec(host: str, *argv: str, stdin: str | None = None) -> str:
    proc = subprocess.run([*TASKS, "lab", "exec", host, "--", *argv], cwd=ROOT, input=stdin,
                          capture_output=True, text=True, check=True)
    return proc.stdout


def add_extra_routes(count: int, timeout: float = 300.0) -> float:
    """The ISP announces `count` more host routes (100.64.0.0 on, nornir_anycast.drill.upstream:
    the full-table drill's generator); seconds until the edge has them in BGP and its FIB."""
    before = upstream.settle("edge", ISP_ADDRESS, timeout=timeout)
    upstream.install("isp", count)
    t0 = upstream.redistribute("isp", ISP_ASN, True)
    done = upstream.wait_converged("edge", ISP_ADDRESS, since=t0, more=True, timeout=timeout,
                                   received=before.received + count, fib=before.fib + count)
    return done.fib_s


KINDS = {"namespace": ROOT / "inventory", "debian13": ROOT / "inventory" / "lab-debian13"}


def measure(servers: int, extra: int, kind: str = "namespace") -> dict[str, Any]:
    run("lab", "down")
    inv = str(Path(lab_dir_name()) / "inventory")  # honours NORNIR_ANYCAST_LAB_PREFIX
    up, _ = run("lab", "up", "--inventory", str(KINDS[kind]), "--servers", str(servers))
    dep, _ = run("deploy", "--inventory", inv)
    ver, _ = run("verify", "--inventory", inv, "--wait", "120", "--json", "/tmp/na-bench.json")
    converged = json.loads(Path("/tmp/na-bench.json").read_text())["converged_after_s"]
    noop, _ = run("deploy", "--inventory", inv, "--json", "/tmp/na-bench-noop.json")
    noop_changed = [h for h, r in json.loads(Path("/tmp/na-bench-noop.json").read_text())
                    ["hosts"].items() if r["changed"]]
    plain, _ = run("verify", "--inventory", inv)
    out: dict[str, Any] = {
        "kind": kind, "servers": servers, "lab_up_s": round(up, 3), "first_deploy_s": round(dep, 3),
        "verify_until_pass_s": round(ver, 3), "converged_after_s": converged,
        "up_to_verified_s": round(up + dep + ver, 3),
        "deployed_and_verified_s": round(dep + ver, 3),
        "noop_deploy_s": round(noop, 3), "noop_changed_hosts": noop_changed,
        "verify_s": round(plain, 3),
    }
    if extra:
        out["extra_routes"] = extra
        out["extra_routes_learned_after_s"] = round(add_extra_routes(extra), 3)
        with_extra = [run("verify", "--inventory", inv)[0] for _ in range(3)]
        without = [plain]
        out["verify_with_extra_routes_s"] = round(min(with_extra), 3)
        out["verify_with_extra_routes_runs"] = [round(v, 3) for v in with_extra]
        out["verify_ratio_extra_vs_plain"] = round(min(with_extra) / min(without), 3)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", type=int, nargs="+", default=[2, 8, 16])
    parser.add_argument("--extra-routes", type=int, default=100_000)
    parser.add_argument("--kinds", nargs="+", choices=sorted(KINDS), default=["namespace"])
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("deploy_bench.py needs root", file=sys.stderr)
        return 2
    results = []
    try:
        for kind in args.kinds:
            for i, n in enumerate(args.servers):
                results.append(measure(n, args.extra_routes if i == 0 else 0, kind))
    finally:
        run("lab", "down", check=False)
    targets: dict[str, Any] = {}
    for kind in args.kinds:
        by = {r["servers"]: r for r in results if r["kind"] == kind}
        named = kind_targets(by)
        targets.update(named if kind == "namespace" else
                       {f"{kind}_{k}": v for k, v in named.items()})
    print(json.dumps({"bench": "deploy", "machine": {"cpus": os.cpu_count(),
                                                    "python": platform.python_version()},
                      "results": results, "targets": targets}, indent=2))
    return 0


def kind_targets(by: dict[int, dict[str, Any]]) -> dict[str, Any]:
    """The targets of one kind's results, by server count."""
    targets: dict[str, Any] = {}
    if 2 in by:
        seed = by[2]["up_to_verified_s"]
        targets["seed_up_deployed_and_verified_le_10s"] = {"value": seed, "met": seed <= 10}
        targets["noop_deploy_le_third_of_first"] = {
            "value": round(by[2]["noop_deploy_s"] / by[2]["first_deploy_s"], 3),
            "met": by[2]["noop_deploy_s"] <= by[2]["first_deploy_s"] / 3}
        if "verify_ratio_extra_vs_plain" in by[2]:
            targets["verify_extra_routes_within_1_2x"] = {
                "value": by[2]["verify_ratio_extra_vs_plain"],
                "met": by[2]["verify_ratio_extra_vs_plain"] <= 1.2}
    if 2 in by and 16 in by:
        ratio = by[16]["up_to_verified_s"] / by[2]["up_to_verified_s"]
        targets["sixteen_within_2x_of_two"] = {"value": round(ratio, 3), "met": ratio <= 2}
    return targets


if __name__ == "__main__":
    sys.exit(main())
