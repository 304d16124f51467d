"""Capture real BFD output from the built-in lab (FRR 8.4 bfdd on the edge, BIRD 2 on servers).

Run as root against a lab that is up and deployed with BFD on (the default inventory):

    NORNIR_ANYCAST_LAB_PREFIX=h6b python3 tasks.py lab up && ... deploy && ... verify --wait 60
    NORNIR_ANYCAST_LAB_PREFIX=h6b .venv/bin/python tests/captures/capture_bfd.py --out DIR

It writes `<platform>/bfd_<state>/<host>__<command>.txt` for four states, restoring the lab
after each: `bfd_up` (both sessions up), `bfd_server_cut` (server-2's switch port drops every
frame: nftables `bridge` table in the switch namespace), `bfd_bird_down` (`birdc down` on
server-2, restarted afterwards), `bfd_off` (the edge and server-1 with BFD removed from their
running configuration; `deploy` puts it back). Propose the `.json` files with
make_expected.py and read each against its text before committing.

The same states without a lab, from a Debian 13 root or the machine's binaries:
`capture.py --bfd --root DIR --prefix P` (tests/captures/README.md).
"""

from __future__ import annotations

import argparse
import subprocess
import time
from pathlib import Path

from nornir_anycast.drill.faults import cut_link, restore_link
from nornir_anycast.lab import status as lab_status

EDGE_CMDS = {"show_bfd_peers": "show bfd peers", "show_bfd_peers_brief": "show bfd peers brief"}


def _run(host: str, argv: list[str]) -> str:
    proc = lab_status.run(host, argv, timeout=30)
    return proc.stdout + proc.stderr  # birdc's "Unable to connect ..." goes to stderr


def capture(out: Path, state: str, servers: tuple[str, ...] = ("server-1", "server-2")) -> None:
    for name, cmd in EDGE_CMDS.items():
        d = out / "frr" / f"bfd_{state}"
        d.mkdir(parents=True, exist_ok=True)
        (d / f"edge__{name}.txt").write_text(_run("edge", ["vtysh", "-c", cmd]))
    d = out / "bird2" / f"bfd_{state}"
    d.mkdir(parents=True, exist_ok=True)
    for server in servers:
        text = _run(server, ["birdc", "-s", "/run/bird/bird.ctl", "show", "bfd", "sessions"])
        (d / f"{server}__show_bfd_sessions.txt").write_text(text)


def _wait_up(seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        text = _run("edge", ["vtysh", "-c", "show bfd peers brief"])
        if text.count(" up ") >= 2 and " down " not in text:
            return
        time.sleep(0.5)
    raise SystemExit("BFD sessions did not come back up")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    _wait_up()
    capture(args.out, "up")

    cut_link("server-2")
    try:
        time.sleep(1.0)
        capture(args.out, "server_cut")
    finally:
        restore_link("server-2")
    _wait_up()

    _run("server-2", ["birdc", "-s", "/run/bird/bird.ctl", "down"])
    time.sleep(1.0)
    capture(args.out, "bird_down")
    _run("server-2", ["bird", "-c", "/etc/bird/bird.conf", "-s", "/run/bird/bird.ctl"])
    _wait_up()

    _run("edge", ["vtysh", "-c", "configure terminal", "-c", "no bfd"])
    for n in ("10.12.12.1", "10.12.12.2"):
        _run("edge", ["vtysh", "-c", "configure terminal", "-c", "router bgp 65500",
                      "-c", f"no neighbor {n} bfd"])
    conf = _run("server-1", ["cat", "/etc/bird/bird.conf"])
    start = conf.index("protocol bfd {")
    end = conf.index("\n}\n", start) + 3
    nobfd = conf[:start] + conf[end:]
    nobfd = nobfd.replace("  bfd on;\n", "")
    lab_status.run("server-1", ["sh", "-c", "cat > /tmp/nobfd.conf"], input=nobfd)
    _run("server-1", ["birdc", "-s", "/run/bird/bird.ctl", "configure", "\"/tmp/nobfd.conf\""])
    time.sleep(1.0)
    capture(args.out, "off", servers=("server-1",))
    subprocess.run(["python3", "tasks.py", "deploy"], check=True)


if __name__ == "__main__":
    main()
