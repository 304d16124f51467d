#!/usr/bin/env python3
"""What a full table on the edge costs each server: route updates its BIRD received from the
edge and BIRD's CPU time while the ISP's routes load, with the edge's SERVERS-OUT policy and
without it. Prints JSON. Needs root; builds the lab of the default inventory and takes it down.

    .venv/bin/python bench/server_updates.py [--routes 100000] [--without-policy]
                                             [--capture DIR]

Steps: `lab up`, `deploy`, `verify --wait`; with `--without-policy` the edge's
`neighbor X route-map SERVERS-OUT out` lines are removed by hand (vtysh), which is the edge as
rendered before SERVERS-OUT existed. Then BIRD's CPU time (utime + stime of its process, from
/proc/<pid>/stat) and its import statistics for the session to the edge (`birdc show protocols
all`, "Import updates" / "Import withdraws", columns received ... accepted) are read on each
server; the ISP announces `--routes` extra routes (bench/deploy_bench.py's add_extra_routes);
once the edge has sent each server all it will (its OutQ empty, PfxSnt still for 3 s), both
are read again; BIRD's idle CPU rate (10 s before the load) is given so the load can be told
apart. Also reported: the edge's PfxSnt to each server, whether a server's session restarted
(BIRD's `since` moved; a restart resets BIRD's statistics) and the edge's BFD session-down
counters. `--capture DIR` keeps each server's `birdc show protocols all edge` text before and after,
and its whole `birdc show protocols all` after, and the edge's `show ip bgp summary`.
Last, `birdc restart edge` on server-1 and its statistics 5 s later.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from deploy_bench import add_extra_routes, lab_exec, run

SERVERS = {"server-1": "10.12.12.1", "server-2": "10.12.12.2"}
BIRDC = ["birdc", "-s", "/run/bird/bird.ctl"]
_STATS = re.compile(r"^\s+Import (updates|withdraws):\s+(.*)$")


def bird_cpu_s(server: str) -> float:
    """utime + stime of the server's BIRD process, in seconds."""
    out = lab_exec(server, "sh", "-c", "cat /proc/$(pidof bird)/stat")
    fields = out.rsplit(")", 1)[1].split()  # after "(bird)": field 3 is fields[0]
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bird_session(server: str) -> tuple[str, dict[str, Any]]:
    """`show protocols all bgp1` text and its session facts: since, state, import stats."""
    text = lab_exec(server, *BIRDC, "show", "protocols", "all", "edge")
    facts: dict[str, Any] = {}
    header = next((ln for ln in text.splitlines() if ln.startswith("edge ")), "")
    parts = header.split()
    facts["since"] = parts[4] if len(parts) > 4 else None
    facts["info"] = " ".join(parts[5:])
    for line in text.splitlines():
        m = _STATS.match(line)
        if m:
            cols = ["received", "rejected", "filtered", "ignored", "accepted"]
            facts[f"import_{m.group(1)}"] = {
                c: int(v) for c, v in zip(cols, m.group(2).split(), strict=False) if v.isdigit()}
        if line.strip().startswith("Routes:"):
            facts["routes"] = line.split(":", 1)[1].strip()
    return text, facts


def edge_facts() -> dict[str, Any]:
    summary = json.loads(lab_exec("edge", "vtysh", "-c", "show ip bgp summary json"))
    peers = summary.get("ipv4Unicast", {}).get("peers", {})
    counters = json.loads(lab_exec("edge", "vtysh", "-c", "show bfd peers counters json"))
    return {
        "pfx_sent": {s: peers.get(a, {}).get("pfxSnt") for s, a in SERVERS.items()},
        "bfd_session_down": {str(c.get("peer")): c.get("session-down")
                             for c in counters},
    }


def remove_policy() -> None:
    argv = ["vtysh", "-c", "configure terminal", "-c", "router bgp 65500",
            "-c", "address-family ipv4 unicast"]
    for address in SERVERS.values():
        argv += ["-c", f"no neighbor {address} route-map SERVERS-OUT out"]
    lab_exec("edge", *argv)


def wait_settled(routes: int, expect_all: bool, timeout: float = 300.0) -> float:
    """Seconds until the edge has sent each server everything it will (OutQ 0 and PfxSnt not
    moving for 3 s; at least `routes` when the servers get them). Asks the edge, not BIRD, so
    the measurement does not load the BIRD it measures."""
    start = time.monotonic()
    last: dict[str, Any] = {}
    stable_since = time.monotonic()
    while time.monotonic() - start < timeout:
        summary = json.loads(lab_exec("edge", "vtysh", "-c", "show ip bgp summary json"))
        peers = summary.get("ipv4Unicast", {}).get("peers", {})
        now = {s: (peers.get(a, {}).get("pfxSnt"), peers.get(a, {}).get("outq"))
               for s, a in SERVERS.items()}
        if now != last:
            last, stable_since = now, time.monotonic()
        drained = all(q == 0 for _, q in now.values())
        enough = not expect_all or all((n or 0) >= routes for n, _ in now.values())
        if drained and enough and time.monotonic() - stable_since >= 3:
            return time.monotonic() - start
        time.sleep(1)
    return time.monotonic() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--routes", type=int, default=100_000)
    parser.add_argument("--without-policy", action="store_true")
    parser.add_argument("--capture", type=Path)
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("server_updates.py needs root", file=sys.stderr)
        return 2
    out: dict[str, Any] = {"routes": args.routes, "policy": not args.without_policy}
    try:
        run("lab", "down")
        run("lab", "up")
        run("deploy")
        run("verify", "--wait", "120")
        if args.without_policy:
            remove_policy()
            time.sleep(3)  # the edge re-advertises to the servers (its default route)
        before = {s: bird_session(s) for s in SERVERS}
        idle0 = {s: bird_cpu_s(s) for s in SERVERS}
        time.sleep(10)  # BIRD's CPU without routes to take in (BFD, keepalives)
        cpu0 = {s: bird_cpu_s(s) for s in SERVERS}
        t0 = time.monotonic()
        out["edge_learned_after_s"] = round(add_extra_routes(args.routes), 3)
        out["servers_settled_after_s"] = round(
            wait_settled(args.routes, args.without_policy) + out["edge_learned_after_s"], 3)
        time.sleep(2)
        cpu1 = {s: bird_cpu_s(s) for s in SERVERS}
        window = time.monotonic() - t0
        out["load_window_s"] = round(window, 3)
        after = {s: bird_session(s) for s in SERVERS}
        out["servers"] = {s: {
            "bird_cpu_s": round(cpu1[s] - cpu0[s], 3),
            "bird_idle_cpu_s_per_s": round((cpu0[s] - idle0[s]) / 10, 4),
            "bird_cpu_s_above_idle": round(
                cpu1[s] - cpu0[s] - window * (cpu0[s] - idle0[s]) / 10, 3),
            "before": before[s][1], "after": after[s][1],
            "session_restarted": before[s][1]["since"] != after[s][1]["since"],
        } for s in SERVERS}
        out["edge"] = edge_facts()
        if args.capture:
            args.capture.mkdir(parents=True, exist_ok=True)
            for s in SERVERS:
                for when, got in (("before", before), ("after", after)):
                    (args.capture / f"{s}__{when}.txt").write_text(got[s][0])
                full = lab_exec(s, *BIRDC, "show", "protocols", "all")
                (args.capture / f"{s}__birdc_show_protocols_all.txt").write_text(full)
            summary = lab_exec("edge", "vtysh", "-c", "show ip bgp summary")
            (args.capture / "edge__show_ip_bgp_summary.txt").write_text(summary)
        # What makes BIRD count afresh: its statistics survive a session restart; does
        # `birdc restart` of the protocol reset them?
        lab_exec("server-1", *BIRDC, "restart", "edge")
        time.sleep(5)
        out["server-1_after_birdc_restart"] = bird_session("server-1")[1]
    finally:
        run("lab", "down", check=False)
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
