#!/usr/bin/env python3
"""How long building and validating the design takes, for the default inventory and for the
default inventory grown to N servers behind the edge. Prints JSON.

    .venv/bin/python bench/bench_validation.py [--servers 500] [--repeat 20]
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import sys
import time
from pathlib import Path

from nornir.core import Nornir
from nornir.core.inventory import Host

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nornir_anycast.design.build import build_design  # noqa: E402
from nornir_anycast.design.validation import validate  # noqa: E402
from nornir_anycast.inventory.loader import load_nornir  # noqa: E402


def grow(nr: Nornir, servers: int) -> Nornir:
    """Add servers s3..sN in 10.12.0.0/16 (edge 10.12.12.254/16), each an iBGP neighbor."""
    inv = nr.inventory
    base, edge = inv.hosts["server-1"], inv.hosts["edge"]
    edge.data["interfaces"][1]["addresses"] = ["10.12.12.254/16"]
    for name in ("server-1", "server-2"):
        itf = inv.hosts[name].data["interfaces"][0]
        itf["addresses"] = [a.replace("/24", "/16") for a in itf["addresses"]]
    for i in range(3, servers + 1):
        addr = f"10.12.{20 + i // 250}.{i % 250 + 1}"
        data = copy.deepcopy(base.data)
        data["router_id"] = addr
        data["interfaces"][0]["addresses"] = [f"{addr}/16"]
        host = Host(name=f"server-{i}", groups=base.groups, defaults=inv.defaults, data=data)
        inv.hosts[host.name] = host
        edge.data["bgp"]["neighbors"].append(
            {"address": addr, "remote_as": 65500, "update_source": "10.12.12.254"})
    return nr


def measure(nr: Nornir, repeat: int) -> dict[str, object]:
    build, check = [], []
    problems = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        design = build_design(nr)
        t1 = time.perf_counter()
        problems = validate(design)
        t2 = time.perf_counter()
        build.append(t1 - t0)
        check.append(t2 - t1)
    return {
        "hosts": len(nr.inventory.hosts),
        "build_ms_median": round(statistics.median(build) * 1000, 2),
        "validate_ms_median": round(statistics.median(check) * 1000, 2),
        "errors": sum(1 for p in problems if p.severity == "error"),
        "warnings": sum(1 for p in problems if p.severity == "warning"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--servers", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    out = {
        "default": measure(load_nornir(ROOT / "inventory"), args.repeat),
        f"{args.servers}_servers": measure(
            grow(load_nornir(ROOT / "inventory"), args.servers), max(1, args.repeat // 4)),
    }
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
