#!/usr/bin/env python3
"""Capture real FRR, BIRD and Linux output for the parser fixtures. Run as root:

    .venv/bin/python tests/captures/capture.py            # writes tests/captures/{frr,bird2,linux}/
    .venv/bin/python tests/captures/capture.py --out /tmp/new --prefix i12p- \
        --root /var/cache/nornir-anycast/images/debian13 --bfd --counters \
        --frr-dir frr10 --bird2-dir bird2_17 --linux-dir linux_deb13

It builds a throwaway topology in network namespaces named `<prefix>*` (default `cap-*`; never
touching anything else), walks it through the states the fixtures need, saves each command's
output as `<dir>/<state>/<host>__<command>.txt`, and tears everything down on exit (also on
error, Ctrl-C or SIGTERM).

Daemons: the machine's own binaries by default (FRR with `-N <namespace>`, BIRD with its files
in a temporary directory). With `--root DIR` (a Debian root, e.g. the lab's Debian 13 image;
never written to) every FRR host, and every BIRD server unless `--bird-root DIR` names another
root, runs from its own overlay of that root (/proc and /dev bound in), started with
`ip netns exec NS chroot MERGED ...`: FRR 10's mgmtd, zebra, staticd, bgpd, bfdd, then
`vtysh -b` applies /etc/frr/frr.conf (FRR 10's staticd takes no -f); BIRD with Debian's
/etc/bird/bird.conf and /run/bird/bird.ctl. Commands (vtysh, birdc, ip) run from the same root.

Topology (the seed's, with up to four servers):

    <p>isp (FRR, AS65000, 172.16.42.2/31) --- <p>edge (FRR, AS65500, 172.16.42.3/31,
                                                         10.12.12.254/24 on the bridge)
    <p>br (bridge br0) --- <p>s1..<p>s4 (BIRD, AS65500, 10.12.12.N/24, exporting a static
                                           10.13.13.1/32 reject to the edge)

server-1 imports what the edge sends (the edge sets next-hop-self), so its BIRD table and its
kernel also hold a BGP default route; the other servers follow the seed (`import none`).

States: empty, two_equal (seed: maximum-paths ibgp 2), three_equal (maximum-paths 4),
lower_pref (server-2 `default bgp_local_pref 50`), more_than_max (four servers, maximum-paths
2), session_down (three servers, BIRD stopped on server-3), admin_down (edge shuts the session
to server-2: FRR shows Idle (Admin), server-2's BIRD shows the session not established),
long_prefix (the ISP also announces a network of 18 characters, which FRR wraps). With --bfd,
servers 1 and 2 with BFD on both ends: bfd_up, bfd_server_cut (server-2's bridge port drops
every frame), bfd_bird_down (`birdc down` on server-2), bfd_off (BFD removed from the edge and
server-1), as capture_bfd.py does on the lab; with --counters also counters_fresh and
counters_flapped (capture_counters.py's commands and flaps).
With --graceful-restart ONLY the graceful restart states (a fresh topology, edge commands
`show ip bgp neighbors` [json]; see walk_gr): gr_edge_off, gr_edge_late, gr_negotiated,
gr_server_off, gr_server_aware.

With --ipv6 the topology is dual-stack (issue 13's site-1 addresses: server LAN fd00:12:1::/64,
edge fd00:12:1::254, servers fd00:12:1::N, the anycast fd00:13::1/128 on every server's lo, ISP
<-> edge fd00:172:16:42::2/127 and ::3), each neighbour with one session per family (BFD on
both), and the IPv6 states are walked instead of the IPv4 ones (those are captured without
--ipv6): ipv6_empty (the edge's IPv6 table and summary before any IPv6 session), ipv6_two_equal
(servers 1 and 2 over IPv6 with BFD, the edge's IPv6 ECMP pair; the ISP announces ::/0 and
fd00:abcd:1234:5678::/64, a network of 24 characters: FRR wraps it AND the link-local next hop
below it), ipv6_prefer_global (the edge's import from the servers sets `ipv6 next-hop
prefer-global`: the table, the detail's `(used)` and the kernel take the global next hops; the
ISP's import from the edge too: its table shows the edge's 17-character global next hop,
wrapped),
ipv6_dual_channel (server-3 with ONE bgp protocol carrying both an ipv4 and an ipv6 channel over
its IPv6 session).

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
from typing import cast

HERE = Path(__file__).resolve().parent
ANYCAST = "10.13.13.1/32"
LONG_PREFIX = "192.168.123.128/25"  # 18 characters: FRR wraps the line after it
FRR_DAEMONS = ("zebra", "staticd", "bgpd", "bfdd")
#: FRR 10 moved static routes behind mgmtd (staticd takes no -f any more): the daemons start
#: without a configuration and `vtysh -b` applies the integrated frr.conf, as frrinit.sh does.
FRR10_DAEMONS = ("mgmtd", "zebra", "staticd", "bgpd", "bfdd")
SERVER_ADDRS = tuple(f"10.12.12.{i}" for i in range(1, 5))
ANYCAST6 = "fd00:13::1/128"
SERVER_ADDRS6 = tuple(f"fd00:12:1::{i}" for i in range(1, 5))
EDGE6, ISP6, EDGE_UP6 = "fd00:12:1::254", "fd00:172:16:42::2", "fd00:172:16:42::3"
#: 24 characters: FRR prints it alone on its line, and the link-local next hop on the next
LONG_PREFIX6 = "fd00:abcd:1234:5678::/64"


def sh(*cmd: str, check: bool = True, ns: str | None = None, root: Path | None = None,
       input: str | None = None, log: Path | None = None) -> str:
    """Run `cmd` (in network namespace `ns`, chrooted into `root`); its stdout. A daemon that
    forks (`-d`) keeps its output open: give it `log`, a file for both, or this waits forever."""
    full = (["ip", "netns", "exec", ns] if ns else []) + (["chroot", str(root)] if root else [])
    full += list(cmd)
    if log is not None:
        with log.open("a") as out:
            rc = subprocess.run(full, stdout=out, stderr=out, stdin=subprocess.DEVNULL,
                                timeout=60).returncode
        if check and rc != 0:
            raise RuntimeError(f"{' '.join(full)} failed ({rc}): see {log}: "
                               + log.read_text()[-500:])
        return ""
    proc = subprocess.run(full, capture_output=True, text=True, input=input, timeout=60)
    if check and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(full)} failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc.stdout


class Names:
    """The namespace names of one capture run: `<prefix>br`, `<prefix>isp`, `<prefix>edge`,
    `<prefix>s1` .. `<prefix>s4`."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.br = f"{prefix}br"
        self.isp = f"{prefix}isp"
        self.edge = f"{prefix}edge"
        self.servers = {f"{prefix}s{i}": a for i, a in enumerate(SERVER_ADDRS, start=1)}

    def host(self, ns: str) -> str:
        """`server-N` for a server namespace."""
        return "server-" + ns.removeprefix(f"{self.prefix}s")

    def all(self) -> list[str]:
        return [self.br, self.isp, self.edge, *self.servers]


class Lab:
    """The throwaway topology. With `root` (a Debian root directory, read only) each FRR host
    runs its daemons chrooted into its own overlay of that root; `bird_root` does the same
    for the BIRD servers. Without them, the machine's own binaries run (FRR with `-N <ns>`)."""

    def __init__(self, work: Path, names: Names, *, root: Path | None = None,
                 bird_root: Path | None = None) -> None:
        self.work = work
        self.n = names
        self.frr_root = root
        self.bird_base = bird_root or root
        self.bird_up: dict[str, bool] = {}
        self.roots: dict[str, Path] = {}  # ns -> its merged overlay
        self.mounts: list[Path] = []  # in mount order; unmounted in reverse
        self.made: list[str] = []  # namespaces this run created
        self.bfd = False
        self.ipv6 = False  # dual-stack addresses and the IPv6 sessions (--ipv6)
        #: BIRD's `graceful restart` per server namespace: "on", "off", or absent (BIRD's
        #: default, `aware`: the capability without any address family)
        self.gr: dict[str, str] = {}

    # ---------------------------------------------------------------- roots
    def _overlay(self, ns: str, base: Path) -> Path:
        d = self.work / "roots" / ns
        upper, wdir, merged = d / "upper", d / "work", d / "merged"
        for x in (upper, wdir, merged):
            x.mkdir(parents=True)
        sh("mount", "-t", "overlay", "overlay", "-o",
           f"lowerdir={base},upperdir={upper},workdir={wdir}", str(merged))
        self.mounts.append(merged)
        for sub in ("proc", "dev"):
            sh("mount", "--bind", f"/{sub}", str(merged / sub))
            self.mounts.append(merged / sub)
        self.roots[ns] = merged
        return merged

    def root_of(self, ns: str) -> Path | None:
        return self.roots.get(ns)

    def run(self, ns: str, *cmd: str, check: bool = True, input: str | None = None) -> str:
        return sh(*cmd, check=check, ns=ns, root=self.root_of(ns), input=input)

    def daemon(self, ns: str, *cmd: str) -> None:
        """Start a daemon that forks; its output goes to <work>/<ns>.log."""
        sh(*cmd, ns=ns, root=self.root_of(ns), log=self.work / f"{ns}.log")

    # ---------------------------------------------------------------- build / teardown
    def build(self) -> None:
        n = self.n
        for ns in n.all():
            sh("ip", "netns", "add", ns)
            self.made.append(ns)
            sh("ip", "link", "set", "lo", "up", ns=ns)
        if self.frr_root is not None:
            for ns in (n.isp, n.edge):
                self._overlay(ns, self.frr_root)
        if self.bird_base is not None:
            for ns in n.servers:
                self._overlay(ns, self.bird_base)
        sh("ip", "link", "add", "br0", "type", "bridge", ns=n.br)
        sh("ip", "link", "set", "br0", "up", ns=n.br)
        # ISP <-> edge point to point
        sh("ip", "link", "add", "eth0", "netns", n.isp, "type", "veth",
           "peer", "name", "eth1", "netns", n.edge)
        self._addr(n.isp, "eth0", "172.16.42.2/31")
        self._addr(n.edge, "eth1", "172.16.42.3/31")
        # edge and servers on the bridge
        for ns, addr in [(n.edge, "10.12.12.254/24"),
                         *[(s, f"{a}/24") for s, a in n.servers.items()]]:
            port = "p-" + ns.removeprefix(n.prefix)
            sh("ip", "link", "add", "eth0", "netns", ns, "type", "veth",
               "peer", "name", port, "netns", n.br)
            sh("ip", "link", "set", port, "master", "br0", ns=n.br)
            sh("ip", "link", "set", port, "up", ns=n.br)
            self._addr(ns, "eth0", addr)
        for ns in n.servers:
            sh("ip", "addr", "add", "10.13.13.1/32", "dev", "lo", ns=ns)
        sh("sysctl", "-qw", "net.ipv4.ip_forward=1", ns=n.edge)
        sh("sysctl", "-qw", "net.ipv4.fib_multipath_hash_policy=1", ns=n.edge)
        if self.ipv6:
            # nodad: BGP binds to these at once (a tentative address cannot be bound)
            self._addr(n.isp, "eth0", f"{ISP6}/127", "nodad")
            self._addr(n.edge, "eth1", f"{EDGE_UP6}/127", "nodad")
            self._addr(n.edge, "eth0", f"{EDGE6}/64", "nodad")
            for ns, a in zip(n.servers, SERVER_ADDRS6, strict=True):
                self._addr(ns, "eth0", f"{a}/64", "nodad")
                sh("ip", "addr", "add", ANYCAST6, "dev", "lo", ns=ns)
            for x in (n.isp, n.edge):
                sh("sysctl", "-qw", "net.ipv6.conf.all.forwarding=1", ns=x)
            sh("sysctl", "-qw", "net.ipv6.fib_multipath_hash_policy=1", ns=n.edge)
        self._start_frr(n.isp, ISP_CONF)
        self._start_frr(n.edge, EDGE_CONF)

    @staticmethod
    def _addr(ns: str, dev: str, addr: str, *flags: str) -> None:
        sh("ip", "addr", "add", addr, "dev", dev, *flags, ns=ns)
        sh("ip", "link", "set", dev, "up", ns=ns)

    def _start_frr(self, ns: str, conf: str) -> None:
        root = self.root_of(ns)
        if root is not None:
            (root / "etc/frr/frr.conf").write_text(conf)
            self.run(ns, "chown", "frr:frr", "/etc/frr/frr.conf")
            self.run(ns, "install", "-d", "-o", "frr", "-g", "frr", "/run/frr")
            for daemon in FRR10_DAEMONS:
                self.daemon(ns, f"/usr/lib/frr/{daemon}", "-d", "-F", "traditional",
                            "-i", f"/run/frr/{daemon}.pid")
            self.run(ns, "vtysh", "-b")
            return
        d = self.work / ns
        d.mkdir()
        (d / "frr.conf").write_text(conf)
        run = Path("/var/run/frr") / ns
        run.mkdir(parents=True, exist_ok=True)
        shutil.chown(run, "frr", "frr")
        shutil.chown(d, "frr", "frr")
        for daemon in FRR_DAEMONS:
            self.daemon(ns, f"/usr/lib/frr/{daemon}", "-d", "-N", ns, "-F", "traditional",
                        "-f", str(d / "frr.conf"), "-i", str(run / f"{daemon}.pid"))

    def vtysh(self, ns: str, *cmds: str) -> str:
        args = ["vtysh"] if self.root_of(ns) is not None else ["vtysh", "-N", ns]
        for c in cmds:
            args += ["-c", c]
        return self.run(ns, *args)

    def configure(self, ns: str, *lines: str) -> None:
        self.vtysh(ns, "configure terminal", *lines)

    # ---------------------------------------------------------------- BIRD
    def _bird_files(self, ns: str) -> tuple[Path, str, str, Path]:
        """(bird.conf on this machine, bird.conf as BIRD sees it, its control socket as BIRD
        sees it, its pid file on this machine). From a root: Debian's /etc/bird and /run/bird."""
        root = self.root_of(ns)
        if root is not None:
            (root / "run/bird").mkdir(parents=True, exist_ok=True)
            return (root / "etc/bird/bird.conf", "/etc/bird/bird.conf", "/run/bird/bird.ctl",
                    root / "run/bird/bird.pid")
        d = self.work / ns
        d.mkdir(exist_ok=True)
        return d / "bird.conf", str(d / "bird.conf"), str(d / "bird.ctl"), d / "bird.pid"

    def _birdc_argv(self, ns: str) -> list[str]:
        return ["birdc", "-s", self._bird_files(ns)[2]]

    def _write_bird(self, ns: str, conf: str) -> None:
        here, conf_in, ctl, pid = self._bird_files(ns)
        here.write_text(conf)
        if self.bird_up.get(ns):
            self.run(ns, *self._birdc_argv(ns), "configure")
            return
        pid_in = "/run/bird/bird.pid" if self.root_of(ns) is not None else str(pid)
        self.daemon(ns, "bird", "-c", conf_in, "-s", ctl, "-P", pid_in)
        self.bird_up[ns] = True

    def start_bird(self, ns: str, *, local_pref: int | None = None, dual: bool = False) -> None:
        addr = self.n.servers[ns]
        first = ns == f"{self.n.prefix}s1"
        direct = first or self.bfd  # BFD needs a single-hop session: `direct`
        if self.ipv6:
            self._write_bird(ns, bird_conf6(addr, SERVER_ADDRS6[SERVER_ADDRS.index(addr)],
                                            first=first, dual=dual))
            return
        conf = BIRD_CONF.format(
            addr=addr,
            imp="all" if first else "none",
            # server-1 also learns the edge's routes, resolved directly on its LAN
            direct_proto="protocol direct {\n  ipv4;\n  interface \"eth0\";\n}\n"
            if first else "",
            direct="\n  direct;" if direct else "",
            bfd_proto=BIRD_BFD if self.bfd else "",
            bfd="  bfd on;\n" if self.bfd else "",
            local_pref=f"  default bgp_local_pref {local_pref};\n" if local_pref else "",
            gr=f"  graceful restart {self.gr[ns]};\n" if ns in self.gr else "",
        )
        self._write_bird(ns, conf)

    def stop_bird(self, ns: str) -> None:
        if self.bird_up.get(ns):
            self.run(ns, *self._birdc_argv(ns), "down", check=False)
            self.bird_up[ns] = False
            time.sleep(0.5)

    def birdc(self, ns: str, cmd: str) -> str:
        # birdc exits 1 when BIRD answers with an error; that answer is captured as well, and
        # so is birdc's own "Unable to connect to server" (stderr) when BIRD is not running.
        full = ["ip", "netns", "exec", ns, *(["chroot", str(self.root_of(ns))]
                                            if self.root_of(ns) else []),
                *self._birdc_argv(ns), *cmd.split()]
        proc = subprocess.run(full, capture_output=True, text=True, timeout=60)
        return proc.stdout + proc.stderr

    def start_bird_empty(self, ns: str) -> None:
        """BIRD with only a device protocol (it refuses none at all): an empty route table."""
        self._write_bird(ns, f"router id {self.n.servers[ns]};\nprotocol device {{\n}}\n")

    # ---------------------------------------------------------------- link faults
    def cut_link(self, ns: str) -> None:
        """Drop every frame to and from `ns` at its bridge port (nftables bridge table)."""
        port = "p-" + ns.removeprefix(self.n.prefix)
        sh("nft", "-f", "-", ns=self.n.br, input=(
            "table bridge i12cut {\n"
            "  chain forward { type filter hook forward priority -200; policy accept;\n"
            f"    iifname \"{port}\" drop\n    oifname \"{port}\" drop\n  }}\n"
            "}\n"))

    def restore_link(self) -> None:
        sh("nft", "delete", "table", "bridge", "i12cut", ns=self.n.br, check=False)

    # ---------------------------------------------------------------- teardown
    def teardown(self) -> None:
        for ns in self.n.servers:
            _kill_pidfile(self._bird_files(ns)[3])
        for ns in (self.n.isp, self.n.edge):
            root = self.root_of(ns)
            if root is not None:
                for daemon in reversed(FRR10_DAEMONS):
                    _kill_pidfile(root / "run/frr" / f"{daemon}.pid")
                continue
            for daemon in reversed(FRR_DAEMONS):
                _kill_pidfile(Path("/var/run/frr") / ns / f"{daemon}.pid")
            shutil.rmtree(Path("/var/run/frr") / ns, ignore_errors=True)
        for ns in self.made:
            # anything still running in the namespace (a daemon without a pid file) goes too
            for pid in sh("ip", "netns", "pids", ns, check=False).split():
                with contextlib.suppress(ProcessLookupError, ValueError):
                    os.kill(int(pid), signal.SIGKILL)
        time.sleep(0.2)
        for m in reversed(self.mounts):
            sh("umount", "-l", str(m), check=False)
        for ns in self.made:
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
        if not _alive(pid):
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    """False once `pid` is gone or a zombie (a daemon that forked away from us is reaped by
    whoever PID 1 is, maybe late: its exit is what counts)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


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

# The seed's bird.conf, in BIRD 2 syntax (BIRD 3 reads it too), with the lab's short timers.
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
{direct_proto}{bfd_proto}protocol bgp {{
  local {addr} as 65500;{direct}
  neighbor 10.12.12.254 as 65500;
  connect retry time 1;
  error wait time 1,3;
  hold time 3;
  keepalive time 1;
{bfd}{local_pref}{gr}  ipv4 {{
    import {imp};
    export where proto = "static_bgp";
  }};
}}
"""

# BFD as the lab renders it (templates/jinja/bird/bird2.conf.j2, edge.conf.j2): 50 ms x 3.
BIRD_BFD = """\
protocol bfd {
  interface "eth0" {
    interval 50 ms;
    multiplier 3;
  };
}
"""


def bird_conf6(addr: str, addr6: str, *, first: bool, dual: bool) -> str:
    """A dual-stack server: BIRD_CONF's protocols for both families, BFD on, one bgp protocol
    per family (`bgp1` IPv4, `bgp1_v6` IPv6); with `dual`, instead ONE protocol `dual` over the
    IPv6 session with an ipv4 and an ipv6 channel (IPv4 routes with the server's IPv4 address
    as next hop)."""
    imp = "all" if first else "none"
    direct = ("protocol direct {\n  ipv4;\n  ipv6;\n  interface \"eth0\";\n}\n"
              if first else "")
    head = f"""\
router id {addr};
protocol kernel {{
  persist;
  scan time 20;
  ipv4 {{ export all; }};
}}
protocol kernel {{
  persist;
  scan time 20;
  ipv6 {{ export all; }};
}}
protocol device {{
  scan time 10;
}}
protocol static static_bgp {{
  ipv4 {{ import all; }};
  route 10.13.13.1/32 reject;
}}
protocol static static_bgp6 {{
  ipv6 {{ import all; }};
  route {ANYCAST6} reject;
}}
{direct}{BIRD_BFD}"""
    timers = """\
  direct;
  connect retry time 1;
  error wait time 1,3;
  hold time 3;
  keepalive time 1;
  bfd on;
"""
    if dual:
        return head + f"""\
protocol bgp dual {{
  local {addr6} as 65500;
  neighbor {EDGE6} as 65500;
{timers}  ipv4 {{
    next hop address {addr};
    import {imp};
    export where proto = "static_bgp";
  }};
  ipv6 {{
    import {imp};
    export where proto = "static_bgp6";
  }};
}}
"""
    return head + f"""\
protocol bgp bgp1 {{
  local {addr} as 65500;
  neighbor 10.12.12.254 as 65500;
{timers}  ipv4 {{
    import {imp};
    export where proto = "static_bgp";
  }};
}}
protocol bgp bgp1_v6 {{
  local {addr6} as 65500;
  neighbor {EDGE6} as 65500;
{timers}  ipv6 {{
    import {imp};
    export where proto = "static_bgp6";
  }};
}}
"""


EDGE_BFD = ("bfd", "profile anycast", "detect-multiplier 3", "transmit-interval 50",
            "receive-interval 50")


def add_server_neighbor(lab: Lab, ns: str, *, bfd: bool = False) -> None:
    addr = lab.n.servers[ns]
    lab.configure(
        lab.n.edge, "router bgp 65500",
        f"neighbor {addr} remote-as 65500",
        f"neighbor {addr} update-source 10.12.12.254",
        f"neighbor {addr} timers connect 1",
        *((f"neighbor {addr} bfd", f"neighbor {addr} bfd profile anycast") if bfd else ()),
        "address-family ipv4 unicast",
        f"neighbor {addr} next-hop-self",
    )


def del_server_neighbor(lab: Lab, ns: str) -> None:
    lab.configure(lab.n.edge, "router bgp 65500", f"no neighbor {lab.n.servers[ns]}")


def set_max_paths(lab: Lab, n: int) -> None:
    lab.configure(lab.n.edge, "router bgp 65500", "address-family ipv4 unicast",
                  f"maximum-paths ibgp {n}")


def wait_for(what: str, cond: Callable[[], bool], timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.5)
    raise RuntimeError(f"timed out waiting for {what}")


def edge_paths(lab: Lab) -> list[dict[str, object]]:
    data = json.loads(lab.vtysh(lab.n.edge, f"show ip bgp {ANYCAST} json") or "{}")
    return list(data.get("paths", []))


def converged(lab: Lab, *, paths: int, multipath: int) -> Callable[[], bool]:
    def check() -> bool:
        ps = edge_paths(lab)
        mp = sum(1 for p in ps if p.get("multipath") or
                 (isinstance(p.get("bestpath"), dict) and p.get("multipath")))
        summary = json.loads(lab.vtysh(lab.n.edge, "show ip bgp summary json") or "{}")
        isp = summary.get("ipv4Unicast", {}).get("peers", {}).get("172.16.42.2", {})
        return len(ps) == paths and mp == multipath and isp.get("state") == "Established"
    return check


def bfd_up(lab: Lab, count: int) -> Callable[[], bool]:
    def check() -> bool:
        peers = json.loads(lab.vtysh(lab.n.edge, "show bfd peers json") or "[]")
        return sum(1 for p in peers if p.get("status") == "up") == count and all(
            p.get("status") == "up" for p in peers)
    return check


def settle() -> None:
    # Up/Down columns and BIRD "since" times differ by a second or two; nothing else moves.
    time.sleep(2)


class Writer:
    """Saves `<dir>/<state>/<host>__<command>.txt`; `dirs` maps a platform (frr, bird2, linux)
    to the directory name this run writes it under (frr10, bird3, ...)."""

    def __init__(self, out: Path, dirs: dict[str, str] | None = None) -> None:
        self.out = out
        self.dirs = dirs or {}
        self.count = 0

    def save(self, platform: str, state: str, host: str, command: str, text: str) -> None:
        d = self.out / self.dirs.get(platform, platform) / state
        d.mkdir(parents=True, exist_ok=True)
        slug = command.replace("/", "_").replace(" ", "_")
        (d / f"{host}__{slug}.txt").write_text(text)
        self.count += 1
        print(f"  {d.relative_to(self.out)}/{host}__{slug}.txt ({len(text.splitlines())} lines)")


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
FRR_BFD_COMMANDS = ("show bfd peers", "show bfd peers brief")
FRR_COUNTER_COMMANDS = ("show bfd peers counters", "show ip bgp neighbors",
                        "show ip bgp neighbors json")


def capture_state(lab: Lab, w: Writer, state: str, *, birds: list[str],
                  isp: bool = False, server_linux: bool = False) -> None:
    print(f"state {state}")
    n = lab.n
    for cmd in FRR_EDGE_COMMANDS:
        w.save("frr", state, "edge", cmd, lab.vtysh(n.edge, cmd))
    if isp:
        for cmd in ("show ip bgp", "show ip bgp summary", "show ip bgp json"):
            w.save("frr", state, "isp", cmd, lab.vtysh(n.isp, cmd))
    for cmd in ("ip route show", "ip route show 10.13.13.1"):
        w.save("linux", state, "edge", cmd, lab.run(n.edge, *cmd.split()))
    s1 = f"{n.prefix}s1"
    if server_linux:
        w.save("linux", state, "server-1", "ip route show", lab.run(s1, "ip", "route", "show"))
        w.save("linux", state, "server-1", "ip route show 10.13.13.1",
               lab.run(s1, "ip", "route", "show", "10.13.13.1"))
    for ns in birds:
        for cmd in BIRD_COMMANDS:
            w.save("bird2", state, n.host(ns), f"birdc {cmd}", lab.birdc(ns, cmd))


def capture_bfd(lab: Lab, w: Writer, state: str, servers: list[str]) -> None:
    print(f"state bfd_{state}")
    for cmd in FRR_BFD_COMMANDS:
        w.save("frr", f"bfd_{state}", "edge", cmd, lab.vtysh(lab.n.edge, cmd))
    for ns in servers:
        w.save("bird2", f"bfd_{state}", lab.n.host(ns), "show bfd sessions",
               lab.birdc(ns, "show bfd sessions"))


def capture_counters(lab: Lab, w: Writer, state: str) -> None:
    print(f"state counters_{state}")
    for cmd in FRR_COUNTER_COMMANDS:
        w.save("frr", f"counters_{state}", "edge", cmd, lab.vtysh(lab.n.edge, cmd))


def walk_bgp(lab: Lab, w: Writer) -> None:
    """The BGP states, in order (see the module docstring)."""
    n = lab.n
    s1, s2, s3, s4 = n.servers
    # empty: the edge's BGP has no neighbor and no route; server-4's BIRD no protocol.
    lab.start_bird_empty(s4)
    time.sleep(1)
    print("state empty")
    for cmd in ("show ip bgp", "show ip bgp summary", "show ip bgp json",
                f"show ip bgp {ANYCAST}", f"show ip bgp {ANYCAST} json"):
        w.save("frr", "empty", "edge", cmd, lab.vtysh(n.edge, cmd))
    w.save("linux", "empty", "edge", "ip route show 10.13.13.1",
           lab.run(n.edge, "ip", "route", "show", "10.13.13.1"))
    for cmd in ("show protocols", "show protocols all bgp1", "show route"):
        w.save("bird2", "empty", "server-4", f"birdc {cmd}", lab.birdc(s4, cmd))
    lab.stop_bird(s4)
    lab.configure(n.edge, *EDGE_ISP)
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
    lab.configure(n.edge, "router bgp 65500", f"neighbor {n.servers[s2]} shutdown")
    wait_for("server-2 shut", converged(lab, paths=2, multipath=2))
    wait_for("server-2 BIRD sees the session down",
             lambda: "Established" not in lab.birdc(s2, "show protocols bgp1"))
    settle()
    capture_state(lab, w, "admin_down", birds=[s2])

    # long_prefix: the ISP also announces a network of 17+ characters, which FRR prints on a
    # line of its own with the path wrapped to the next line
    lab.configure(n.isp, f"ip route {LONG_PREFIX} blackhole", "router bgp 65000",
                  "address-family ipv4 unicast", f"network {LONG_PREFIX}")
    wait_for(f"the edge has {LONG_PREFIX}", lambda: bool(json.loads(
        lab.vtysh(n.edge, f"show ip bgp {LONG_PREFIX} json") or "{}").get("paths")))
    settle()
    print("state long_prefix")
    for host, ns in (("edge", n.edge), ("isp", n.isp)):
        for cmd in ("show ip bgp", "show ip bgp json"):
            w.save("frr", "long_prefix", host, cmd, lab.vtysh(ns, cmd))
    lab.configure(n.isp, "router bgp 65000", "address-family ipv4 unicast",
                  f"no network {LONG_PREFIX}")
    # back to the seed for the BFD states: servers 1 and 2, server-3 gone
    lab.configure(n.edge, "router bgp 65500", f"no neighbor {n.servers[s2]} shutdown")
    lab.stop_bird(s3)
    del_server_neighbor(lab, s3)


def capture_gr(lab: Lab, w: Writer, state: str) -> None:
    print(f"state gr_{state}")
    for cmd in ("show ip bgp neighbors", "show ip bgp neighbors json"):
        w.save("frr", f"gr_{state}", "edge", cmd, lab.vtysh(lab.n.edge, cmd))


def walk_gr(lab: Lab, w: Writer) -> None:
    """The graceful restart states (`--graceful-restart`), servers 1 and 2 with BFD as the lab
    renders it plus `neighbor X bfd check-control-plane-failure` (templates/jinja/frr/
    _neighbor_bfd.j2), BIRD `graceful restart on` on both servers:

    - gr_edge_off: the edge without `bgp graceful-restart` (FRR's default: helper only);
    - gr_edge_late: `bgp graceful-restart` then added to the running edge, sessions left as
      they are (what a deploy onto a running lab does);
    - gr_negotiated: the same after `clear bgp <server>` for both servers (sessions opened
      with graceful restart on both ends);
    - gr_server_off: server-2's BIRD `graceful restart off` (no capability at all);
    - gr_server_aware: server-2's BIRD without a `graceful restart` line (BIRD's default,
      `aware`: the capability with no address family).
    """
    n = lab.n
    s1, s2 = list(n.servers)[:2]
    lab.bfd = True
    lab.configure(n.edge, *EDGE_BFD)
    lab.configure(n.edge, *EDGE_ISP)
    for ns in (s1, s2):
        add_server_neighbor(lab, ns, bfd=True)
        lab.configure(n.edge, "router bgp 65500",
                      f"neighbor {n.servers[ns]} bfd check-control-plane-failure")
        lab.gr[ns] = "on"
        lab.start_bird(ns)
    wait_for("two equal paths with BFD", converged(lab, paths=2, multipath=2))
    wait_for("two BFD sessions up", bfd_up(lab, 2))
    settle()
    capture_gr(lab, w, "edge_off")

    lab.configure(n.edge, "router bgp 65500", "bgp graceful-restart")
    settle()
    wait_for("two equal paths after the change", converged(lab, paths=2, multipath=2))
    capture_gr(lab, w, "edge_late")

    for ns in (s1, s2):
        lab.vtysh(n.edge, f"clear bgp {n.servers[ns]}")
    time.sleep(1.0)
    wait_for("two equal paths after the reset", converged(lab, paths=2, multipath=2))
    wait_for("two BFD sessions up", bfd_up(lab, 2))
    settle()
    capture_gr(lab, w, "negotiated")

    lab.gr[s2] = "off"
    lab.start_bird(s2)  # `birdc configure`: BIRD restarts the changed protocol
    time.sleep(1.0)
    wait_for("two equal paths, server-2 without GR", converged(lab, paths=2, multipath=2))
    settle()
    capture_gr(lab, w, "server_off")

    del lab.gr[s2]
    lab.start_bird(s2)
    time.sleep(1.0)
    wait_for("two equal paths, server-2 GR aware", converged(lab, paths=2, multipath=2))
    settle()
    capture_gr(lab, w, "server_aware")


def walk_bfd(lab: Lab, w: Writer, *, counters: bool) -> None:
    """The BFD states of capture_bfd.py (and the counters of capture_counters.py) on the same
    topology: servers 1 and 2 with BFD on both ends (50 ms x 3, the lab's rendering)."""
    n = lab.n
    s1, s2 = list(n.servers)[:2]
    lab.bfd = True
    lab.configure(n.edge, *EDGE_BFD)
    for ns in (s1, s2):
        add_server_neighbor(lab, ns, bfd=True)
        lab.start_bird(ns)
    wait_for("two equal paths with BFD", converged(lab, paths=2, multipath=2))
    wait_for("two BFD sessions up", bfd_up(lab, 2))
    settle()
    capture_bfd(lab, w, "up", [s1, s2])
    if counters:
        capture_counters(lab, w, "fresh")

    lab.cut_link(s2)
    try:
        time.sleep(1.0)
        capture_bfd(lab, w, "server_cut", [s1, s2])
    finally:
        lab.restore_link()
    wait_for("BFD back after the cut", bfd_up(lab, 2))

    lab.stop_bird(s2)
    time.sleep(1.0)
    capture_bfd(lab, w, "bird_down", [s1, s2])
    lab.start_bird(s2)
    wait_for("BFD back after BIRD", bfd_up(lab, 2))
    wait_for("two paths again", converged(lab, paths=2, multipath=2))

    if counters:
        # server-1's BGP disabled and enabled, server-2's port cut for 1 s: one BFD down and
        # one BGP drop each (capture_counters.py's flap)
        lab.birdc(s1, "disable bgp1")
        time.sleep(1.0)
        lab.birdc(s1, "enable bgp1")
        lab.cut_link(s2)
        try:
            time.sleep(1.0)
        finally:
            lab.restore_link()
        time.sleep(1.0)
        wait_for("BFD back after the flaps", bfd_up(lab, 2))
        wait_for("two paths after the flaps", converged(lab, paths=2, multipath=2))
        settle()
        capture_counters(lab, w, "flapped")

    lab.configure(n.edge, "no bfd")
    for ns in (s1, s2):
        lab.configure(n.edge, "router bgp 65500", f"no neighbor {n.servers[ns]} bfd")
    lab.bfd = False
    lab.start_bird(s1)  # without `protocol bfd` and `bfd on`
    time.sleep(1.0)
    capture_bfd(lab, w, "off", [s1])


# ---------------------------------------------------------------------------- IPv6 (--ipv6)

ISP_IPV6: tuple[tuple[str, ...], ...] = (
    ("ipv6 route ::/0 blackhole", f"ipv6 route {LONG_PREFIX6} blackhole",
     f"ipv6 prefix-list ANYCAST6 seq 5 permit {ANYCAST6}"),
    ("route-map EDGE-IN6 permit 10", "match ipv6 address prefix-list ANYCAST6"),
    ("router bgp 65000", f"neighbor {EDGE_UP6} remote-as 65500",
     f"neighbor {EDGE_UP6} update-source {ISP6}", f"neighbor {EDGE_UP6} timers connect 1",
     "address-family ipv4 unicast", f"no neighbor {EDGE_UP6} activate"),
    ("router bgp 65000", "address-family ipv6 unicast", "network ::/0",
     f"network {LONG_PREFIX6}", f"neighbor {EDGE_UP6} activate",
     f"neighbor {EDGE_UP6} route-map EDGE-IN6 in",
     f"neighbor {EDGE_UP6} route-map EDGE-OUT out"),
)
EDGE_IPV6: tuple[tuple[str, ...], ...] = (
    (f"ipv6 prefix-list ANYCAST6 seq 5 permit {ANYCAST6}",),
    ("route-map ISP-OUT6 permit 10", "match ipv6 address prefix-list ANYCAST6"),
    ("router bgp 65500", f"neighbor {ISP6} remote-as 65000",
     f"neighbor {ISP6} update-source {EDGE_UP6}", f"neighbor {ISP6} timers connect 1",
     "address-family ipv4 unicast", f"no neighbor {ISP6} activate"),
    ("router bgp 65500", "address-family ipv6 unicast", "network fd00:12:1::/64",
     "maximum-paths ibgp 2", f"neighbor {ISP6} activate",
     f"neighbor {ISP6} route-map ISP-IN in", f"neighbor {ISP6} route-map ISP-OUT6 out"),
)

FRR_EDGE_COMMANDS6 = (
    "show bgp ipv6 unicast",
    f"show bgp ipv6 unicast {ANYCAST6}",
    "show bgp ipv6 unicast summary",
    "show bgp ipv6 unicast json",
    f"show bgp ipv6 unicast {ANYCAST6} json",
)
BIRD_COMMANDS6 = (
    "show protocols",
    "show protocols all",
    "show protocols all bgp1_v6",
    "show route",
    "show route export bgp1_v6",
    "show route for fd00:13::1",
)


def add_server_neighbor6(lab: Lab, ns: str, *, dual: bool = False) -> None:
    """The edge's IPv6 session to a server (BFD on); `dual`: also activated for IPv4."""
    addr = SERVER_ADDRS6[list(lab.n.servers).index(ns)]
    lab.configure(
        lab.n.edge, "router bgp 65500",
        f"neighbor {addr} remote-as 65500",
        f"neighbor {addr} update-source {EDGE6}",
        f"neighbor {addr} timers connect 1",
        f"neighbor {addr} bfd", f"neighbor {addr} bfd profile anycast",
        "address-family ipv4 unicast",
        *((f"neighbor {addr} next-hop-self",) if dual else (f"no neighbor {addr} activate",)),
    )
    lab.configure(
        lab.n.edge, "router bgp 65500", "address-family ipv6 unicast",
        f"neighbor {addr} activate",
        f"neighbor {addr} next-hop-self",
        f"neighbor {addr} soft-reconfiguration inbound",
    )


def edge_paths6(lab: Lab) -> list[dict[str, object]]:
    data = json.loads(lab.vtysh(lab.n.edge, f"show bgp ipv6 unicast {ANYCAST6} json") or "{}")
    return list(data.get("paths", []))


def converged6(lab: Lab, *, paths: int, multipath: int, peers: int) -> Callable[[], bool]:
    def check() -> bool:
        ps = edge_paths6(lab)
        mp = sum(1 for p in ps if p.get("multipath"))
        summary = json.loads(lab.vtysh(lab.n.edge, "show bgp ipv6 unicast summary json")
                             or "{}")
        states = [p.get("state") for p in summary.get("peers", {}).values()]
        return (len(ps) == paths and mp == multipath
                and states.count("Established") == peers)
    return check


def capture_state6(lab: Lab, w: Writer, state: str, *, birds: list[str]) -> None:
    print(f"state {state}")
    n = lab.n
    for cmd in FRR_EDGE_COMMANDS6:
        w.save("frr", state, "edge", cmd, lab.vtysh(n.edge, cmd))
    for cmd in ("ip -6 route show", "ip -6 route show fd00:13::1"):
        w.save("linux", state, "edge", cmd, lab.run(n.edge, *cmd.split()))
    for ns in birds:
        for cmd in BIRD_COMMANDS6:
            w.save("bird2", state, n.host(ns), f"birdc {cmd}", lab.birdc(ns, cmd))


def walk_ipv6(lab: Lab, w: Writer) -> None:
    """The IPv6 states (see the module docstring), on the dual-stack topology."""
    n = lab.n
    s1, s2, s3, _ = n.servers
    time.sleep(1)
    print("state ipv6_empty")
    for cmd in ("show bgp ipv6 unicast", "show bgp ipv6 unicast summary",
                "show bgp ipv6 unicast json", f"show bgp ipv6 unicast {ANYCAST6}",
                f"show bgp ipv6 unicast {ANYCAST6} json"):
        w.save("frr", "ipv6_empty", "edge", cmd, lab.vtysh(n.edge, cmd))
    w.save("linux", "ipv6_empty", "edge", "ip -6 route show fd00:13::1",
           lab.run(n.edge, "ip", "-6", "route", "show", "fd00:13::1"))

    lab.bfd = True
    lab.configure(n.edge, *EDGE_BFD)
    lab.configure(n.edge, *EDGE_ISP)
    for block in EDGE_IPV6:
        lab.configure(n.edge, *block)
    for block in ISP_IPV6:
        lab.configure(n.isp, *block)
    for ns in (s1, s2):
        add_server_neighbor(lab, ns, bfd=True)
        add_server_neighbor6(lab, ns)
        lab.start_bird(ns)
    wait_for("two equal IPv6 paths", converged6(lab, paths=2, multipath=2, peers=3))
    wait_for("two equal IPv4 paths", converged(lab, paths=2, multipath=2))
    wait_for("four BFD sessions up", bfd_up(lab, 4))
    wait_for(f"the edge has {LONG_PREFIX6}", lambda: bool(json.loads(
        lab.vtysh(n.edge, f"show bgp ipv6 unicast {LONG_PREFIX6} json") or "{}").get("paths")))
    settle()
    state = "ipv6_two_equal"
    capture_state6(lab, w, state, birds=[s1, s2])
    for cmd in (f"show bgp ipv6 unicast neighbors {SERVER_ADDRS6[0]} routes",
                f"show bgp ipv6 unicast neighbors {SERVER_ADDRS6[0]} received-routes",
                *FRR_BFD_COMMANDS, "show ip bgp summary"):
        w.save("frr", state, "edge", cmd, lab.vtysh(n.edge, cmd))
    for cmd in ("show bgp ipv6 unicast", "show bgp ipv6 unicast json",
                "show bgp ipv6 unicast summary",
                f"show bgp ipv6 unicast neighbors {EDGE_UP6} routes"):
        w.save("frr", state, "isp", cmd, lab.vtysh(n.isp, cmd))
    for cmd in ("ip -6 route show", "ip -6 route show fd00:13::1"):
        w.save("linux", state, "server-1", cmd, lab.run(s1, *cmd.split()))
    for ns in (s1, s2):
        w.save("bird2", state, n.host(ns), "show bfd sessions", lab.birdc(ns, "show bfd sessions"))

    # prefer-global: the edge takes the servers' global next hops (table, kernel)
    lab.configure(n.edge, "route-map SERVERS-IN6 permit 10", "set ipv6 next-hop prefer-global")
    for a in SERVER_ADDRS6[:2]:
        lab.configure(n.edge, "router bgp 65500", "address-family ipv6 unicast",
                      f"neighbor {a} route-map SERVERS-IN6 in")
        lab.vtysh(n.edge, f"clear bgp ipv6 unicast {a} soft in")

    def global_used() -> bool:
        ps = edge_paths6(lab)
        return len(ps) == 2 and all(
            any(h.get("scope") == "global" and h.get("used")
                for h in cast(list[dict[str, object]], p.get("nexthops", [])))
            for p in ps)
    wait_for("prefer-global next hops", global_used)
    # and the ISP: the edge's global next hop fd00:172:16:42::3 has 17 characters, so a GLOBAL
    # next hop wraps too
    lab.configure(n.isp, "route-map EDGE-IN6 permit 10", "set ipv6 next-hop prefer-global")
    lab.vtysh(n.isp, f"clear bgp ipv6 unicast {EDGE_UP6} soft in")

    def isp_global() -> bool:
        data = json.loads(lab.vtysh(n.isp, f"show bgp ipv6 unicast {ANYCAST6} json") or "{}")
        return any(h.get("ip") == EDGE_UP6 and h.get("used")
                   for p in data.get("paths", []) for h in p.get("nexthops", []))
    wait_for("the ISP on the edge's global next hop", isp_global)
    wait_for("two equal IPv6 paths", converged6(lab, paths=2, multipath=2, peers=3))
    settle()
    capture_state6(lab, w, "ipv6_prefer_global", birds=[])
    for cmd in ("show bgp ipv6 unicast", "show bgp ipv6 unicast json",
                f"show bgp ipv6 unicast {ANYCAST6}", f"show bgp ipv6 unicast {ANYCAST6} json"):
        w.save("frr", "ipv6_prefer_global", "isp", cmd, lab.vtysh(n.isp, cmd))

    # one protocol, two channels: server-3 over its IPv6 session carrying IPv4 too
    lab.configure(n.edge, "router bgp 65500", "address-family ipv6 unicast",
                  "maximum-paths ibgp 4")
    lab.configure(n.edge, "router bgp 65500", "address-family ipv4 unicast",
                  "maximum-paths ibgp 4")
    add_server_neighbor6(lab, s3, dual=True)
    lab.start_bird(s3, dual=True)
    wait_for("three IPv6 paths", converged6(lab, paths=3, multipath=3, peers=4))
    wait_for("three IPv4 paths", converged(lab, paths=3, multipath=3))
    settle()
    state = "ipv6_dual_channel"
    print(f"state {state}")
    for cmd in ("show protocols", "show protocols all", "show protocols all dual",
                "show route"):
        w.save("bird2", state, "server-3", f"birdc {cmd}", lab.birdc(s3, cmd))
    for cmd in ("show ip bgp summary", "show bgp ipv6 unicast summary", "show ip bgp",
                "show bgp ipv6 unicast"):
        w.save("frr", state, "edge", cmd, lab.vtysh(n.edge, cmd))


def run(out: Path, names: Names, *, root: Path | None, bird_root: Path | None,
        dirs: dict[str, str], bfd: bool, counters: bool, ipv6: bool = False,
        gr: bool = False) -> None:
    work = Path(tempfile.mkdtemp(prefix=f"{names.prefix}lab-"))
    os.chmod(work, 0o755)
    if root is None:
        shutil.chown(work, "frr", "frr")
    lab = Lab(work, names, root=root, bird_root=bird_root)
    lab.ipv6 = ipv6
    w = Writer(out, dirs)

    def on_signal(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    try:
        lab.build()
        if gr:  # only the graceful restart states (a fresh topology: no earlier state)
            walk_gr(lab, w)
        elif ipv6:
            walk_ipv6(lab, w)
        else:
            walk_bgp(lab, w)
        if bfd and not ipv6 and not gr:
            walk_bfd(lab, w, counters=counters)
        print(f"{w.count} captures written under {out}")
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):  # a second signal must not stop the cleanup
            signal.signal(sig, signal.SIG_IGN)
        lab.teardown()
        mounted = [ln.split()[1] for ln in Path("/proc/mounts").read_text().splitlines()
                   if ln.split()[1].startswith(str(work))]
        if mounted:  # never rmtree through a bind mount of /dev or /proc
            print(f"left {work}: still mounted {mounted}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=HERE, help="where to write (default: beside me)")
    ap.add_argument("--prefix", default="cap-",
                    help="namespace prefix (default cap-); every namespace is <prefix>NAME")
    ap.add_argument("--root", type=Path,
                    help="run FRR (and BIRD unless --bird-root) chrooted into a per-host "
                         "overlay of this read-only root, e.g. a Debian 13 root")
    ap.add_argument("--bird-root", type=Path, help="run BIRD from this root instead")
    for platform in ("frr", "bird2", "linux"):
        ap.add_argument(f"--{platform}-dir", default=platform,
                        help=f"directory name for the {platform} captures (default {platform})")
    ap.add_argument("--bfd", action="store_true",
                    help="also the BFD states bfd_up, bfd_server_cut, bfd_bird_down, bfd_off")
    ap.add_argument("--ipv6", action="store_true",
                    help="dual-stack topology; walk the IPv6 states instead of the IPv4 ones")
    ap.add_argument("--counters", action="store_true",
                    help="with --bfd: also counters_fresh and counters_flapped")
    ap.add_argument("--graceful-restart", action="store_true",
                    help="ONLY the graceful restart states gr_edge_off, gr_edge_late, "
                         "gr_negotiated, gr_server_off, gr_server_aware (edge commands)")
    args = ap.parse_args()
    if args.graceful_restart and args.ipv6:
        print("--graceful-restart is IPv4 only: not with --ipv6", file=sys.stderr)
        return 2
    if os.geteuid() != 0:
        print("capture.py must run as root (network namespaces)", file=sys.stderr)
        return 2
    for r in (args.root, args.bird_root):
        if r is not None and not (r / "usr").is_dir():
            print(f"--root/--bird-root {r}: not a root directory", file=sys.stderr)
            return 2
    names = Names(args.prefix)
    left = [x for x in sh("ip", "netns", "list").split() if x.startswith(args.prefix)]
    if left:
        print(f"namespaces {left} exist: another capture running? remove them first",
              file=sys.stderr)
        return 2
    dirs = {"frr": args.frr_dir, "bird2": args.bird2_dir, "linux": args.linux_dir}
    run(args.out.resolve(), names, root=args.root, bird_root=args.bird_root, dirs=dirs,
        bfd=args.bfd, counters=args.counters, ipv6=args.ipv6, gr=args.graceful_restart)
    return 0


if __name__ == "__main__":
    sys.exit(main())
