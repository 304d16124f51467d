#!/usr/bin/env python3
"""Capture real FRR, BIRD 2 and Linux output for the parser fixtures. Run as root:

    .venv/bin/python tests/captures/capture.py            # writes tests/captures/{frr,bird2,linux}/

It builds a throwaway topology in network namespaces named `cap-*` (never touching anything
else), walks it through the states the fixtures need, saves each command's output as
`<platform>/<state>/<host>__<command>.txt`, and tears everything down on exit (also on error
or Ctrl-C).

Topology (the seed's, with up to four servers):

    cap-isp (FRR, AS65000, 172.16.42.2/31) --- cap-edge (FRR, AS65500, 172.16.42.3/31,
                                                         10.12.12.254/24 on the bridge)
    cap-br (bridge br0) --- cap-s1..cap-s4 (BIRD 2, AS65500, 10.12.12.N/24, exporting a static
                                            10.13.13.1/32 reject to the edge)

server-1 imports what the edge sends (the edge sets next-hop-self), so its BIRD table and its
kernel also hold a BGP default route; the other servers follow the seed (`import none`).

States: two_equal (seed: maximum-paths ibgp 2), three_equal (maximum-paths 4), lower_pref
(server-2 `default bgp_local_pref 50`), more_than_max (four servers, maximum-paths 2),
session_down (three servers, BIRD stopped on server-3), admin_down (edge shuts the session to
server-2: FRR shows Idle (Admin), server-2's BIRD shows the session not established).

The expected JSON beside each capture is NOT written here: it is reviewed by hand (see
tests/captures/README.md).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
PREFIX = "cap-"
NS_BR = "cap-br"
NS_ISP = "cap-isp"
NS_EDGE = "cap-edge"
SERVERS = {f"cap-s{i}": f"10.12.12.{i}" for i in range(1, 5)}
ANYCAST = "10.13.13.1/32"
FRR_DAEMONS = ("zebra", "staticd", "bgpd")


def sh(*cmd: str, check: bool = True, ns: str | None = None) -> str:
    full = (["ip", "netns", "exec", ns] if ns else []) + list(cmd)
    proc = subprocess.run(full, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(full)} failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc.stdout


class Lab:
    def __init__(self, work: Path) -> None:
        self.work = work
        self.bird_up: dict[str, bool] = {}

    # ---------------------------------------------------------------- build / teardown
    def build(self) -> None:
        for ns in [NS_BR, NS_ISP, NS_EDGE, *SERVERS]:
            sh("ip", "netns", "add", ns)
            sh("ip", "link", "set", "lo", "up", ns=ns)
        sh("ip", "link", "add", "br0", "type", "bridge", ns=NS_BR)
        sh("ip", "link", "set", "br0", "up", ns=NS_BR)
        # ISP <-> edge point to point
        sh("ip", "link", "add", "eth0", "netns", NS_ISP, "type", "veth",
           "peer", "name", "eth1", "netns", NS_EDGE)
        self._addr(NS_ISP, "eth0", "172.16.42.2/31")
        self._addr(NS_EDGE, "eth1", "172.16.42.3/31")
        # edge and servers on the bridge
        for ns, addr in [(NS_EDGE, "10.12.12.254/24"), *[(s, f"{a}/24") for s, a in
                                                          SERVERS.items()]]:
            port = "p-" + ns.removeprefix(PREFIX)
            sh("ip", "link", "add", "eth0", "netns", ns, "type", "veth",
               "peer", "name", port, "netns", NS_BR)
            sh("ip", "link", "set", port, "master", "br0", ns=NS_BR)
            sh("ip", "link", "set", port, "up", ns=NS_BR)
            self._addr(ns, "eth0", addr)
        for ns in SERVERS:
            sh("ip", "addr", "add", "10.13.13.1/32", "dev", "lo", ns=ns)
        sh("sysctl", "-qw", "net.ipv4.ip_forward=1", ns=NS_EDGE)
        sh("sysctl", "-qw", "net.ipv4.fib_multipath_hash_policy=1", ns=NS_EDGE)
        self._start_frr(NS_ISP, ISP_CONF)
        self._start_frr(NS_EDGE, EDGE_CONF)

    @staticmethod
    def _addr(ns: str, dev: str, addr: str) -> None:
        sh("ip", "addr", "add", addr, "dev", dev, ns=ns)
        sh("ip", "link", "set", dev, "up", ns=ns)

    def _start_frr(self, ns: str, conf: str) -> None:
        d = self.work / ns
        d.mkdir()
        (d / "frr.conf").write_text(conf)
        run = Path("/var/run/frr") / ns
        run.mkdir(parents=True, exist_ok=True)
        shutil.chown(run, "frr", "frr")
        shutil.chown(d, "frr", "frr")
        for daemon in FRR_DAEMONS:
            sh(f"/usr/lib/frr/{daemon}", "-d", "-N", ns, "-F", "traditional",
               "-f", str(d / "frr.conf"), "-i", str(run / f"{daemon}.pid"), ns=ns)

    def vtysh(self, ns: str, *cmds: str) -> str:
        args = ["vtysh", "-N", ns]
        for c in cmds:
            args += ["-c", c]
        return sh(*args)

    def configure(self, ns: str, *lines: str) -> None:
        self.vtysh(ns, "configure terminal", *lines)

    def start_bird(self, ns: str, *, local_pref: int | None = None) -> None:
        d = self.work / ns
        d.mkdir(exist_ok=True)
        addr = SERVERS[ns]
        conf = BIRD_CONF.format(
            addr=addr,
            imp="all" if ns == "cap-s1" else "none",
            # server-1 also learns the edge's routes, resolved directly on its LAN
            direct_proto="protocol direct {\n  ipv4;\n  interface \"eth0\";\n}\n"
            if ns == "cap-s1" else "",
            direct="\n  direct;" if ns == "cap-s1" else "",
            local_pref=f"  default bgp_local_pref {local_pref};\n" if local_pref else "",
        )
        (d / "bird.conf").write_text(conf)
        if self.bird_up.get(ns):
            sh("birdc", "-s", str(d / "bird.ctl"), "configure")
            return
        sh("bird", "-c", str(d / "bird.conf"), "-s", str(d / "bird.ctl"),
           "-P", str(d / "bird.pid"), ns=ns)
        self.bird_up[ns] = True

    def stop_bird(self, ns: str) -> None:
        if self.bird_up.get(ns):
            sh("birdc", "-s", str(self.work / ns / "bird.ctl"), "down", check=False)
            self.bird_up[ns] = False
            time.sleep(0.5)

    def birdc(self, ns: str, cmd: str) -> str:
        # birdc exits 1 when BIRD answers with an error; that answer is captured as well.
        return sh("birdc", "-s", str(self.work / ns / "bird.ctl"), *cmd.split(), check=False)

    def start_bird_empty(self, ns: str) -> None:
        """BIRD with only a device protocol (it refuses none at all): an empty route table."""
        d = self.work / ns
        d.mkdir(exist_ok=True)
        (d / "bird.conf").write_text(f"router id {SERVERS[ns]};\nprotocol device {{\n}}\n")
        sh("bird", "-c", str(d / "bird.conf"), "-s", str(d / "bird.ctl"),
           "-P", str(d / "bird.pid"), ns=ns)
        self.bird_up[ns] = True

    def teardown(self) -> None:
        for ns in SERVERS:
            pid = self.work / ns / "bird.pid"
            _kill_pidfile(pid)
        for ns in (NS_ISP, NS_EDGE):
            for daemon in reversed(FRR_DAEMONS):
                _kill_pidfile(Path("/var/run/frr") / ns / f"{daemon}.pid")
            shutil.rmtree(Path("/var/run/frr") / ns, ignore_errors=True)
        for ns in [NS_BR, NS_ISP, NS_EDGE, *SERVERS]:
            sh("ip", "netns", "del", ns, check=False)


def _kill_pidfile(pidfile: Path) -> None:
    try:
        pid = int(pidfile.read_text().strip())
    except (OSError, ValueError):
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    for _ in range(50):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


ISP_CONF = """\
frr defaults traditional
hostname isp
ip route 0.0.0.0/0 blackhole
ip prefix-list ANYCAST seq 5 permit 10.13.13.1/32
route-map EDGE-IN permit 10
 match ip address prefix-list ANYCAST
route-map EDGE-OUT permit 10
router bgp 65000
 bgp router-id 172.16.42.2
 timers bgp 1 3
 neighbor 172.16.42.3 remote-as 65500
 neighbor 172.16.42.3 update-source 172.16.42.2
 neighbor 172.16.42.3 timers connect 1
 address-family ipv4 unicast
  network 0.0.0.0/0
  neighbor 172.16.42.3 route-map EDGE-IN in
  neighbor 172.16.42.3 route-map EDGE-OUT out
 exit-address-family
"""

EDGE_CONF = """\
frr defaults traditional
hostname edge
ip prefix-list ANYCAST seq 5 permit 10.13.13.1/32
route-map ISP-IN permit 10
route-map ISP-OUT permit 10
 match ip address prefix-list ANYCAST
router bgp 65500
 bgp router-id 172.16.42.3
 timers bgp 1 3
 address-family ipv4 unicast
  maximum-paths ibgp 2
 exit-address-family
"""

# Added after the "empty" captures: the ISP session and the edge's own LAN.
EDGE_ISP = (
    "router bgp 65500",
    "neighbor 172.16.42.2 remote-as 65000",
    "neighbor 172.16.42.2 update-source 172.16.42.3",
    "neighbor 172.16.42.2 timers connect 1",
    "address-family ipv4 unicast",
    "network 10.12.12.0/24",
    "neighbor 172.16.42.2 route-map ISP-IN in",
    "neighbor 172.16.42.2 route-map ISP-OUT out",
)

# The seed's bird.conf, in BIRD 2 syntax, with the lab's short timers.
BIRD_CONF = """\
router id {addr};
protocol kernel {{
  persist;
  scan time 20;
  ipv4 {{ export all; }};
}}
protocol device {{
  scan time 10;
}}
protocol static {{
  ipv4;
}}
protocol static static_bgp {{
  ipv4 {{ import all; }};
  route 10.13.13.1/32 reject;
}}
{direct_proto}protocol bgp {{
  local {addr} as 65500;{direct}
  neighbor 10.12.12.254 as 65500;
  connect retry time 1;
  error wait time 1,3;
  hold time 3;
  keepalive time 1;
{local_pref}  ipv4 {{
    import {imp};
    export where proto = "static_bgp";
  }};
}}
"""


def add_server_neighbor(lab: Lab, ns: str) -> None:
    addr = SERVERS[ns]
    lab.configure(
        NS_EDGE, "router bgp 65500",
        f"neighbor {addr} remote-as 65500",
        f"neighbor {addr} update-source 10.12.12.254",
        f"neighbor {addr} timers connect 1",
        "address-family ipv4 unicast",
        f"neighbor {addr} next-hop-self",
    )


def del_server_neighbor(lab: Lab, ns: str) -> None:
    lab.configure(NS_EDGE, "router bgp 65500", f"no neighbor {SERVERS[ns]}")


def set_max_paths(lab: Lab, n: int) -> None:
    lab.configure(NS_EDGE, "router bgp 65500", "address-family ipv4 unicast",
                  f"maximum-paths ibgp {n}")


def wait_for(what: str, cond: Callable[[], bool], timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.5)
    raise RuntimeError(f"timed out waiting for {what}")


def edge_paths(lab: Lab) -> list[dict[str, object]]:
    data = json.loads(lab.vtysh(NS_EDGE, f"show ip bgp {ANYCAST} json") or "{}")
    return list(data.get("paths", []))


def converged(lab: Lab, *, paths: int, multipath: int) -> Callable[[], bool]:
    def check() -> bool:
        ps = edge_paths(lab)
        mp = sum(1 for p in ps if p.get("multipath") or
                 (isinstance(p.get("bestpath"), dict) and p.get("multipath")))
        summary = json.loads(lab.vtysh(NS_EDGE, "show ip bgp summary json") or "{}")
        isp = summary.get("ipv4Unicast", {}).get("peers", {}).get("172.16.42.2", {})
        return len(ps) == paths and mp == multipath and isp.get("state") == "Established"
    return check


def settle() -> None:
    # Up/Down columns and BIRD "since" times differ by a second or two; nothing else moves.
    time.sleep(2)


class Writer:
    def __init__(self, out: Path) -> None:
        self.out = out
        self.count = 0

    def save(self, platform: str, state: str, host: str, command: str, text: str) -> None:
        d = self.out / platform / state
        d.mkdir(parents=True, exist_ok=True)
        slug = command.replace("/", "_").replace(" ", "_")
        (d / f"{host}__{slug}.txt").write_text(text)
        self.count += 1
        print(f"  {platform}/{state}/{host}__{slug}.txt ({len(text.splitlines())} lines)")


FRR_EDGE_COMMANDS = (
    "show ip bgp",
    f"show ip bgp {ANYCAST}",
    "show ip bgp summary",
    "show ip bgp json",
    f"show ip bgp {ANYCAST} json",
)
BIRD_COMMANDS = (
    "show protocols",
    "show protocols all",
    "show protocols all bgp1",
    "show route",
    "show route export bgp1",
)


def capture_state(lab: Lab, w: Writer, state: str, *, birds: list[str],
                  isp: bool = False, server_linux: bool = False) -> None:
    print(f"state {state}")
    for cmd in FRR_EDGE_COMMANDS:
        w.save("frr", state, "edge", cmd, lab.vtysh(NS_EDGE, cmd))
    if isp:
        for cmd in ("show ip bgp", "show ip bgp summary", "show ip bgp json"):
            w.save("frr", state, "isp", cmd, lab.vtysh(NS_ISP, cmd))
    for cmd in ("ip route show", "ip route show 10.13.13.1"):
        w.save("linux", state, "edge", cmd, sh(*cmd.split(), ns=NS_EDGE))
    if server_linux:
        w.save("linux", state, "server-1", "ip route show", sh("ip", "route", "show",
                                                                ns="cap-s1"))
        w.save("linux", state, "server-1", "ip route show 10.13.13.1",
               sh("ip", "route", "show", "10.13.13.1", ns="cap-s1"))
    for ns in birds:
        host = "server-" + ns.removeprefix("cap-s")
        for cmd in BIRD_COMMANDS:
            w.save("bird2", state, host, f"birdc {cmd}", lab.birdc(ns, cmd))


def run(out: Path) -> None:
    work = Path(tempfile.mkdtemp(prefix="cap-lab-"))
    shutil.chown(work, "frr", "frr")
    os.chmod(work, 0o755)
    lab = Lab(work)
    w = Writer(out)

    def on_signal(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    try:
        lab.build()
        s1, s2, s3, s4 = SERVERS
        # empty: the edge's BGP has no neighbor and no route; server-4's BIRD no protocol.
        lab.start_bird_empty(s4)
        time.sleep(1)
        print("state empty")
        for cmd in ("show ip bgp", "show ip bgp summary", "show ip bgp json",
                    f"show ip bgp {ANYCAST}", f"show ip bgp {ANYCAST} json"):
            w.save("frr", "empty", "edge", cmd, lab.vtysh(NS_EDGE, cmd))
        w.save("linux", "empty", "edge", "ip route show 10.13.13.1",
               sh("ip", "route", "show", "10.13.13.1", ns=NS_EDGE))
        for cmd in ("show protocols", "show protocols all bgp1", "show route"):
            w.save("bird2", "empty", "server-4", f"birdc {cmd}", lab.birdc(s4, cmd))
        lab.stop_bird(s4)
        lab.configure(NS_EDGE, *EDGE_ISP)
        for ns in (s1, s2):
            add_server_neighbor(lab, ns)
            lab.start_bird(ns)
        wait_for("two equal paths", converged(lab, paths=2, multipath=2))
        settle()
        capture_state(lab, w, "two_equal", birds=[s1, s2], isp=True, server_linux=True)

        set_max_paths(lab, 4)
        add_server_neighbor(lab, s3)
        lab.start_bird(s3)
        wait_for("three equal paths", converged(lab, paths=3, multipath=3))
        settle()
        capture_state(lab, w, "three_equal", birds=[s3])

        lab.stop_bird(s3)
        del_server_neighbor(lab, s3)
        set_max_paths(lab, 2)
        lab.start_bird(s2, local_pref=50)
        wait_for("server-2 at local-pref 50",
                 lambda: sorted(int(str(p.get("locPrf"))) for p in edge_paths(lab)) == [50, 100]
                 and converged(lab, paths=2, multipath=0)())
        settle()
        capture_state(lab, w, "lower_pref", birds=[s2])

        lab.start_bird(s2)  # back to 100
        for ns in (s3, s4):
            add_server_neighbor(lab, ns)
            lab.start_bird(ns)
        wait_for("four paths, two used", converged(lab, paths=4, multipath=2))
        settle()
        capture_state(lab, w, "more_than_max", birds=[s4])

        del_server_neighbor(lab, s4)
        lab.stop_bird(s4)
        set_max_paths(lab, 4)
        lab.stop_bird(s3)
        wait_for("two paths with server-3 down", converged(lab, paths=2, multipath=2))
        settle()
        capture_state(lab, w, "session_down", birds=[s1])

        lab.start_bird(s3)
        lab.configure(NS_EDGE, "router bgp 65500", f"neighbor {SERVERS[s2]} shutdown")
        wait_for("server-2 shut", converged(lab, paths=2, multipath=2))
        wait_for("server-2 BIRD sees the session down",
                 lambda: "Established" not in lab.birdc(s2, "show protocols bgp1"))
        settle()
        capture_state(lab, w, "admin_down", birds=[s2])
        print(f"{w.count} captures written under {out}")
    finally:
        lab.teardown()
        shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=HERE, help="where to write (default: beside me)")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("capture.py must run as root (network namespaces)", file=sys.stderr)
        return 2
    left = [n for n in sh("ip", "netns", "list").split() if n.startswith(PREFIX)]
    if left:
        print(f"namespaces {left} exist: another capture running? remove them first",
              file=sys.stderr)
        return 2
    run(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
