"""Capture real down-counter output from the built-in lab (FRR 8.4 on the edge, BIRD 2 servers).

Run as root against a lab that is up, deployed and verified with BFD on (the default inventory):

    NORNIR_ANYCAST_LAB_PREFIX=i11f python3 tasks.py lab up && ... deploy && ... verify --wait 60
    NORNIR_ANYCAST_LAB_PREFIX=i11f .venv/bin/python tests/captures/capture_counters.py --out DIR

It writes `frr/counters_<state>/edge__<command>.txt` (commands `show bfd peers counters`,
`show ip bgp neighbors`, `show ip bgp neighbors json`) for two states: `counters_fresh` (right
after deploy: every session up once) and `counters_flapped` (server-1's BGP protocol disabled
and enabled again with `birdc disable/enable`, server-2's switch port cut for 1 s with
nornir_anycast.drill.faults.cut_link), each time after the sessions are back up. In the capture
of 2026-12-01 each server's BFD session went down once (BIRD takes its BFD session down with
the BGP protocol) and each server's BGP session was dropped once; the ISP's did not move.
Propose the `.json` files with
make_expected.py and read each against its text before committing.

The same states without a lab, from a Debian 13 root or the machine's binaries:
`capture.py --bfd --counters --root DIR --prefix P` (tests/captures/README.md).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from nornir_anycast.drill.faults import cut_link, restore_link
from nornir_anycast.lab import status as lab_status

EDGE_CMDS = {
    "show_bfd_peers_counters": "show bfd peers counters",
    "show_ip_bgp_neighbors": "show ip bgp neighbors",
    "show_ip_bgp_neighbors_json": "show ip bgp neighbors json",
}
BIRDC = ["birdc", "-s", "/run/bird/bird.ctl"]


def _run(host: str, argv: list[str]) -> str:
    proc = lab_status.run(host, argv, timeout=30)
    return proc.stdout + proc.stderr


def capture(out: Path, state: str) -> None:
    d = out / "frr" / f"counters_{state}"
    d.mkdir(parents=True, exist_ok=True)
    for name, cmd in EDGE_CMDS.items():
        (d / f"edge__{name}.txt").write_text(_run("edge", ["vtysh", "-c", cmd]))


def _wait_up(seconds: float = 60) -> None:
    """Until both BFD sessions and both server BGP sessions are up again."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        bfd = _run("edge", ["vtysh", "-c", "show bfd peers brief"])
        bgp = _run("edge", ["vtysh", "-c", "show ip bgp summary"])
        if bfd.count(" up ") >= 2 and " down " not in bfd and bgp.count("Active") == 0 \
                and bgp.count("Connect") == 0 and bgp.count("Idle") == 0:
            return
        time.sleep(0.5)
    raise SystemExit("sessions did not come back up")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    _wait_up()
    capture(args.out, "fresh")

    protocols = _run("server-1", [*BIRDC, "show", "protocols"]).splitlines()
    bgp = next(ln.split()[0] for ln in protocols if len(ln.split()) > 1
               and ln.split()[1] == "BGP")
    _run("server-1", [*BIRDC, "disable", bgp])
    time.sleep(1.0)
    _run("server-1", [*BIRDC, "enable", bgp])
    cut_link("server-2")
    try:
        time.sleep(1.0)
    finally:
        restore_link("server-2")
    time.sleep(1.0)
    _wait_up()
    capture(args.out, "flapped")


if __name__ == "__main__":
    main()
