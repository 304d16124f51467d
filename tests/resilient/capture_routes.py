#!/usr/bin/env python3
"""Capture the rtnetlink messages zebra's BGP routes produce, for the resilient agent's tests.

Run as root (a minute, network namespaces `rac-*` only, all removed on exit):

    .venv/bin/python tests/resilient/capture_routes.py                 # this machine's FRR 8.4
    .venv/bin/python tests/resilient/capture_routes.py --prefix rad- \
        --root /var/cache/nornir-anycast/images/debian13 \
        --out tests/resilient/captures/frr10.3                         # FRR 10.3 from the image

It builds tests/captures/capture.py's topology (an FRR edge, BIRD 2 servers announcing
10.13.13.1/32), and a recorder in the edge's namespace (the system python3 running the agent's
own netlink code) keeps every route message for 10.13.13.1/32 and every nexthop message the
kernel multicasts, raw, as it arrives. At each state it also dumps zebra's main-table route for
the prefix (RTM_GETROUTE) and the nexthop objects (RTM_GETNEXTHOP). One JSON file per state:
`{"state", "source", "paths", "dump": {"routes": [hex], "nexthops": [hex]},
"events": [{"ms", "hex"}]}`, each hex a whole netlink message (header included), as received.

States, in order: `four` (maximum-paths 4, four servers), `three` (`birdc down` on server-2),
`none` (every server down: zebra has no route), `one` (server-1 back), `two_no_compat`
(net.ipv4.nexthop_compat_mode=0 in the edge's namespace, server-3 back: the route carries only
RTA_NH_ID), `three_no_nhg` (compat mode back, `no zebra nexthop kernel enable` on the edge,
server-4 back: RTA_MULTIPATH without nexthop objects).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "captures"))
AGENT = HERE.parent.parent / "templates" / "jinja" / "resilient" / "resilient_agent.py"

import capture as topo  # noqa: E402  (tests/captures/capture.py: the topology)

RECORDER = r"""
import importlib.util, json, select, socket, struct, sys, time
spec = importlib.util.spec_from_file_location("agent", sys.argv[1])
a = importlib.util.module_from_spec(spec); sys.modules["agent"] = a; spec.loader.exec_module(a)
PREFIX = sys.argv[2]
ev = a.Netlink([a.RTNLGRP_IPV4_ROUTE, a.RTNLGRP_NEXTHOP])
io = a.Netlink()
t0 = time.monotonic()
events = []
def keep(data):
    off = 0
    while off + 16 <= len(data):
        length, kind = struct.unpack_from("=IH", data, off)
        msg = data[off:off + length]
        off += (length + 3) & ~3
        if kind in (a.RTM_NEWROUTE, a.RTM_DELROUTE):
            r = a.decode_route(msg[16:])
            if r is None or r.dst != PREFIX:
                continue
        elif kind not in (a.RTM_NEWNEXTHOP, a.RTM_DELNEXTHOP):
            continue
        events.append({"ms": round((time.monotonic() - t0) * 1000, 1), "hex": msg.hex()})
def raw_dump(kind, body):
    seq = io.send(kind, a.NLM_F_REQUEST | a.NLM_F_DUMP, body)
    out = []
    while True:
        data = io.sock.recv(1 << 20)
        off = 0
        while off + 16 <= len(data):
            length, mtype, _f, mseq = struct.unpack_from("=IHHI", data, off)
            msg = data[off:off + length]
            off += (length + 3) & ~3
            if mseq != seq:
                continue
            if mtype in (a.NLMSG_DONE, a.NLMSG_ERROR):
                return out
            out.append(msg)
print("ready", flush=True)
while True:
    r, _, _ = select.select([ev.sock, sys.stdin], [], [])
    if ev.sock in r:
        keep(ev.sock.recv(1 << 20))
    if sys.stdin in r:
        line = sys.stdin.readline()
        if not line:
            break
        time.sleep(0.3)  # late events of the change still count for this state
        ev.sock.setblocking(False)
        try:
            while True:
                keep(ev.sock.recv(1 << 20))
        except BlockingIOError:
            pass
        ev.sock.setblocking(True)
        routes = [m.hex() for m in raw_dump(a.RTM_GETROUTE, a.route_dump_body(
            socket.AF_INET, a.RT_TABLE_MAIN, 0))
            if (a.decode_route(m[16:]) or a.Route(0, "", 0, 0, 0)).dst == PREFIX]
        nhs = [m.hex() for m in raw_dump(a.RTM_GETNEXTHOP, a._NHMSG.pack(0, 0, 0, 0, 0))]
        print(json.dumps({"routes": routes, "nexthops": nhs, "events": events}), flush=True)
        events = []
"""


class Recorder:
    def __init__(self, lab: topo.Lab) -> None:
        ns = lab.n.edge
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", ns, "/usr/bin/python3", "-c", RECORDER, str(AGENT),
             topo.ANYCAST], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None and self.proc.stdout.readline().strip() == "ready"

    def take(self) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write("x\n")
        self.proc.stdin.flush()
        result: dict[str, Any] = json.loads(self.proc.stdout.readline())
        return result

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait(timeout=10)


def kernel_paths(lab: topo.Lab) -> int:
    """How many next hops the kernel's route has (through its nexthop object without the
    kernel's compat copy)."""
    out = lab.run(lab.n.edge, "ip", "route", "show", "10.13.13.1")
    words = out.split()
    if "nhid" in words and "via" not in words:
        nh = lab.run(lab.n.edge, "ip", "nexthop", "show", "id", words[words.index("nhid") + 1])
        return nh.split()[3].count("/") + 1 if " group " in nh else 1
    return out.count("nexthop via") or (1 if " via " in out else 0)


def save(out: Path, state: str, source: str, rec: Recorder, lab: topo.Lab) -> None:
    data = rec.take()
    ip_text = lab.run(lab.n.edge, "ip", "route", "show", "10.13.13.1")
    nh_text = lab.run(lab.n.edge, "ip", "nexthop", "show")
    doc = {"state": state, "source": source, "paths": kernel_paths(lab),
           "ip_route": ip_text, "ip_nexthop": nh_text,
           "dump": {"routes": data["routes"], "nexthops": data["nexthops"]},
           "events": data["events"]}
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{state}.json").write_text(json.dumps(doc, indent=1) + "\n")
    print(f"state {state}: {doc['paths']} path(s), {len(data['events'])} events")


def wait_paths(lab: topo.Lab, n: int) -> None:
    topo.wait_for(f"{n} kernel paths", lambda: kernel_paths(lab) == n, timeout=60)
    time.sleep(1)


def walk(lab: topo.Lab, out: Path, source: str) -> None:
    n = lab.n
    s1, s2, s3, s4 = n.servers
    rec = Recorder(lab)
    try:
        topo.set_max_paths(lab, 4)
        for ns in n.servers:
            topo.add_server_neighbor(lab, ns)
            lab.start_bird(ns)
        wait_paths(lab, 4)
        rec.take()  # the build-up's events are not kept
        save(out, "four", source, rec, lab)
        lab.stop_bird(s2)
        wait_paths(lab, 3)
        save(out, "three", source, rec, lab)
        for ns in (s1, s3, s4):
            lab.stop_bird(ns)
        wait_paths(lab, 0)
        save(out, "none", source, rec, lab)
        lab.start_bird(s1)
        wait_paths(lab, 1)
        save(out, "one", source, rec, lab)
        lab.run(n.edge, "sysctl", "-qw", "net.ipv4.nexthop_compat_mode=0")
        lab.start_bird(s3)
        wait_paths(lab, 2)
        save(out, "two_no_compat", source, rec, lab)
        lab.run(n.edge, "sysctl", "-qw", "net.ipv4.nexthop_compat_mode=1")
        lab.configure(n.edge, "no zebra nexthop kernel enable")
        lab.start_bird(s4)
        wait_paths(lab, 3)
        save(out, "three_no_nhg", source, rec, lab)
    finally:
        rec.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=HERE / "captures" / "frr8.4")
    ap.add_argument("--root", type=Path, default=None, help="a Debian root with FRR (FRR 10)")
    ap.add_argument("--prefix", default="rac-")
    args = ap.parse_args()
    names = topo.Names(args.prefix)
    work = Path(tempfile.mkdtemp(prefix=f"{names.prefix}lab-"))
    os.chmod(work, 0o755)
    if args.root is None:
        shutil.chown(work, "frr", "frr")
    lab = topo.Lab(work, names, root=args.root)
    version = lab_version = "FRR (this machine)"

    def on_signal(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    try:
        lab.build()
        lab_version = lab.vtysh(names.edge, "show version").splitlines()[0].strip()
        kernel = os.uname().release
        version = f"{lab_version}, BIRD servers, Linux {kernel}, captured {time.strftime('%F')}"
        walk(lab, args.out, version)
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, signal.SIG_IGN)
        lab.teardown()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
