#!/usr/bin/env python3
"""Time `lab up` (2 and 16 servers, from nothing), a second `lab up` (nothing to do) and
`lab down`, through the real command line, for each lab kind, and the memory each host takes;
print JSON. Needs root; takes down any running lab of this prefix.

    .venv/bin/python bench/lab_bench.py [--rounds N] [--servers 2 16] [--kinds namespace debian13]
    .venv/bin/python bench/lab_bench.py --shapes 2x2x2 2x2x16 [--kinds namespace] [--rounds N]

`--servers N`: the base inventory's topology with N servers (`lab up --servers N`);
`--shapes SxExN`: the generated multi-site lab, S sites of E edges and N servers, an upstream
and a client per site (`lab up --sites S --edges E --servers N`), instead of `--servers`.

Kinds: `namespace` (inventory/: this machine's binaries in namespaces) and `debian13`
(inventory/lab-debian13: systemd-nspawn containers from the Debian 13 image, which must be built:
scripts/install.sh). Each time is wall-clock seconds of one `python tasks.py lab ...` process
(Python start-up included), min and median over the rounds. Memory, measured after the first
`lab up` of each size (hosts idle, nothing deployed): `pss_mib_per_host` sums the proportional set
size (smaps_rollup) of every process of each host (its PID namespace), so shared libraries count
once across hosts; `available_drop_mib_per_host` is the fall of the machine's MemAvailable over
the `lab up` divided by the hosts (page cache and kernel memory included; noisy on a shared
machine). `disk_mib_per_host` is the size of an image host's own overlay layer. The lab is left
down.
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

from nornir_anycast.lab import containers, procs  # noqa: E402
from nornir_anycast.lab import state as lab_state  # noqa: E402
from nornir_anycast.lab.prefix import lab_dir_name  # noqa: E402

TASKS = [sys.executable, str(ROOT / "tasks.py")]
KINDS = {"namespace": ROOT / "inventory", "debian13": ROOT / "inventory" / "lab-debian13"}


def mem_available_kib() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1])
    raise SystemExit("no MemAvailable in /proc/meminfo")


def pss_kib(pid: int) -> int:
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0
    for line in text.splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1])
    return 0


def host_memory() -> dict[str, float]:
    """PSS of each running lab host (all processes of its PID namespace), MiB."""
    table = procs.all_procs()
    return {ns: round(sum(pss_kib(p.pid) for p in procs.in_pid_namespace(init, table)) / 1024, 1)
            for ns, init in procs.lab_inits(table).items()}


def layer_mib() -> list[float]:
    loaded = lab_state.load()
    if loaded is None:
        return []
    out = []
    for host in loaded[0].hosts.values():
        if host.image is not None:
            du = subprocess.run(["du", "-sk", str(containers.upper(host))], capture_output=True,
                                text=True, check=False)
            out.append(round(int(du.stdout.split()[0]) / 1024, 1))
    return out


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


def shape(text: str) -> tuple[int, int, int]:
    """`SxExN` (sites x edges x servers) as three numbers."""
    try:
        sites, edges, servers = (int(x) for x in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected SITESxEDGESxSERVERS, "
                                         "e.g. 2x2x16") from None
    return sites, edges, servers


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--servers", type=int, nargs="+", default=[2, 16])
    parser.add_argument("--shapes", type=shape, nargs="+", metavar="SxExN",
                        help="generated multi-site labs instead of --servers")
    parser.add_argument("--kinds", nargs="+", choices=sorted(KINDS), default=list(KINDS))
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("lab_bench.py needs root", file=sys.stderr)
        return 2
    # (result key, `lab up` options, number of hosts) of each lab measured
    labs: list[tuple[str, list[str], int]] = (
        [(f"{s}x{e}x{n}", ["--sites", str(s), "--edges", str(e), "--servers", str(n)],
          s * (e + n + 2)) for s, e, n in args.shapes]
        if args.shapes else
        [(f"servers_{n}", ["--servers", str(n)], n + 3) for n in args.servers])
    timed("lab", "down")
    results: dict[str, object] = {}
    for kind in args.kinds:
        for name, options, hosts in labs:
            up, again, status, down = [], [], [], []
            memory: dict[str, object] = {}
            for r in range(args.rounds):
                before = mem_available_kib()
                up.append(timed("lab", "up", "--inventory", str(KINDS[kind]), *options))
                if r == 0:
                    time.sleep(2)  # let the hosts finish starting their daemons
                    drop = (before - mem_available_kib()) / 1024
                    per_host = host_memory()
                    memory = {
                        "pss_mib_per_host": summary(list(per_host.values())),
                        "pss_mib_total": round(sum(per_host.values()), 1),
                        "available_drop_mib_per_host": round(drop / hosts, 1),
                    }
                    layers = layer_mib()
                    if layers:
                        memory["disk_mib_per_host"] = summary(layers)
                again.append(timed("lab", "up", "--inventory",
                                   str(Path(lab_dir_name()) / "inventory")))
                status.append(timed("lab", "status"))
                down.append(timed("lab", "down"))
            results[f"{kind}_{name}"] = {
                "kind": kind,
                "lab_up_options": options,
                "hosts": hosts,
                "lab_up_s": summary(up),
                "lab_up_again_s": summary(again),
                "lab_status_s": summary(status),
                "lab_down_s": summary(down),
                "memory": memory,
            }
    print(json.dumps({"benchmark": "lab", "cpus": os.cpu_count(), "kernel": platform.release(),
                      "rounds": args.rounds, "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
