"""What the edge does with a server's prefix: the next hops it forwards to, polled until a
drain or undrain step shows there."""

from __future__ import annotations

import shlex
import time
from typing import Any, Literal

from nornir_anycast.design.model import HostModel
from nornir_anycast.device.commands import router_command
from nornir_anycast.device.shell import Shell
from nornir_anycast.exceptions import AnycastError
from nornir_anycast.inventory.secrets import redact
from nornir_anycast.verify.checks.edge import selected_paths

Table = Literal["kernel", "bgp"]


def edge_next_hops(shell: Shell, edge: HostModel, prefix: str,
                   table: Table = "kernel") -> tuple[list[str], list[str]]:
    """(next hops the edge uses for `prefix`, next hops of every valid BGP path).

    `kernel`: a Linux (FRR) edge's kernel route (`ip route show <prefix>`), which is what
    forwards the packets; `bgp`: the BGP table (`show ip bgp <prefix>`): best and multipath
    paths, and every valid path.
    """
    from nornir_anycast.parsing import parse_output

    if table == "kernel" and edge.platform == "frr":
        text = shell.run(f"ip route show {shlex.quote(prefix)}").output
        parsed = parse_output("linux", f"ip route show {prefix}", text)
        hops = [str(h["via"]) for r in parsed.get("routes", []) if r.get("prefix") == prefix
                for h in r.get("next_hops", []) if h.get("via")]
        return hops, hops
    command = f"show ip bgp {prefix}"
    cmd = router_command(edge, command)
    parsed = parse_output(cmd.parse_platform, command, shell.run(cmd.send).output)
    paths = [p for r in parsed.get("routes", []) if r.get("prefix") == prefix
             for p in r.get("paths", [])]
    cap = edge.bgp.maximum_paths_ibgp or 1
    used = [str(p["next_hop"]) for p in selected_paths(paths, edge.platform, edge.os_version, cap)]
    return used, [str(p["next_hop"]) for p in paths if p.get("valid")]


def wait_route(shell: Shell, edge: HostModel, prefix: str, next_hop: str, *, present: bool,
               table: Table = "kernel", timeout: float = 30.0,
               interval: float = 0.01) -> tuple[bool, dict[str, Any]]:
    """Poll until `next_hop` is (`present`) or is not among the edge's next hops for `prefix`,
    or `timeout` passed. Returns (reached, {"prefix", "next_hop", "present", "table",
    "seconds", "polls", "next_hops", "error"}); reads only."""
    start = time.monotonic()
    polls = 0
    hops: list[str] = []
    error: str | None = None
    while True:
        polls += 1
        try:
            used, valid = edge_next_hops(shell, edge, prefix, table)
            hops = used if table == "kernel" else valid
            error = None
        except AnycastError as exc:
            error = redact(str(exc))  # the device's words may echo a secret
        if error is None and (next_hop in hops) == present:
            break
        if time.monotonic() - start > timeout:
            break
        time.sleep(interval)
    seconds = round(time.monotonic() - start, 3)
    done = error is None and (next_hop in hops) == present
    return done, {"prefix": prefix, "next_hop": next_hop, "present": present, "table": table,
                  "seconds": seconds, "polls": polls, "next_hops": hops, "error": error}
