"""The resilient agent on a real FRR edge: `lab up --servers 4` (the namespace kind, this
machine's FRR 8.4 and BIRD 2), the seed inventory scaled to four servers and deployed, the agent
started by hand on the edge (its config written here) under the lab's start wrapper.

Checked: the group's members are BGP's next hops; `birdc down` on server-2 removes exactly that
member within a second; 4 -> 3 moves no flow of a surviving server (1,000 TCP flows from the
client's address, `ip route get ... iif eth0 ipproto tcp sport P`, before and after) while the
main table's hash-threshold route moves some (measured in the same lab, reported); `kill -9` of
the agent: the wrapper's cleanup removes everything and the prefix resolves through the main
table again. One lab for the module under its own prefix (`image_prefix("ra")`), always torn
down. Figures are printed (`-s`) for the docs.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable, Iterator

import pytest
from lab_fixtures import (
    Lab,
    bring_up,
    deploy_inventory,
    image_prefix,
    prefix_env,
    project_root_env,
    session_lock,
    tear_down,
)
from paths import RESILIENT_AGENT, load_resilient_agent

pytestmark = [pytest.mark.lab]

ra_start = load_resilient_agent().lab_start_command

PREFIX = "10.13.13.1/32"
DIR = "/tmp/nornir-anycast-resilient-test"  # on the edge (the lab shares the machine's /tmp)
AGENT = f"{DIR}/resilient_agent.py"
CONF = f"{DIR}/resilient.json"
PID = f"{DIR}/agent.pid"
LOG = f"{DIR}/agent.log"
SETTINGS = {"prefixes": [PREFIX], "buckets": 128, "idle_timer": 120, "unbalanced_timer": 0,
            "own_pidfile": PID}
TABLE, PRIORITY, NHID_MIN = 32000, 32000, 0x33000000
SERVERS = {f"10.12.12.{i}": f"server-{i}" for i in range(1, 5)}
FLOWS = 1000
#: The lab's start wrapper (docs/resilient.md): the agent, then its cleanup whatever way it
#: ended (as the systemd unit's ExecStopPost does); detached from the command that started it.
START = ra_start(AGENT, CONF, LOG)


def sh(lab: Lab, host: str, script: str, input: str | None = None) -> str:
    proc = lab.run(host, ["sh", "-c", script], input=input)
    assert proc.returncode == 0, (script, proc.stdout, proc.stderr)
    return proc.stdout


def main_hops(lab: Lab) -> set[str]:
    """zebra's next hops for the prefix in the edge's main table."""
    routes = json.loads(sh(lab, "edge", f"ip -j route show table main {PREFIX}") or "[]")
    hops: set[str] = set()
    for r in routes:
        hops.update(h["gateway"] for h in r.get("nexthops", []) if "gateway" in h)
        if "gateway" in r:
            hops.add(r["gateway"])
    return hops


def bgp_hops(lab: Lab) -> set[str]:
    """The next hops BGP selected (best + multipath) for the prefix."""
    data = json.loads(sh(lab, "edge", f"vtysh -c 'show ip bgp {PREFIX} json'") or "{}")
    return {p["nexthops"][0]["ip"] for p in data.get("paths", [])
            if p.get("multipath") or (p.get("bestpath") or {}).get("overall")}


def group(lab: Lab) -> tuple[int | None, set[str]]:
    """(group id, member gateways) of the agent's route for the prefix, (None, set()) without."""
    text = sh(lab, "edge", f"ip -j route show table {TABLE} {PREFIX} 2>/dev/null || true")
    # before the agent's first route the table does not exist: ip prints "[" and an error
    route = json.loads(text) if text.strip() not in ("", "[") else []
    if not route:
        return None, set()
    # after the route: the agent creates members, group, route in that order
    nhs = {n["id"]: n for n in json.loads(sh(lab, "edge", "ip -j nexthop show") or "[]")}
    gid = int(route[0]["nhid"])
    return gid, {nhs[m["id"]]["gateway"] for m in nhs[gid]["group"]}


def flows(lab: Lab) -> dict[int, str]:
    """Source port -> next hop for FLOWS TCP flows from the client arriving from the ISP."""
    lines = "".join(f"route get 10.13.13.1 from 10.0.0.1 iif eth0 ipproto tcp sport {p} "
                    f"dport 80\n" for p in range(20000, 20000 + FLOWS))
    out = sh(lab, "edge", "ip -o -batch -", input=lines)
    vias = re.findall(r" via (\S+) ", out)
    assert len(vias) == FLOWS, out[-500:]
    return dict(zip(range(20000, 20000 + FLOWS), vias, strict=True))


def moved(before: dict[int, str], after: dict[int, str], gone: str) -> tuple[int, int]:
    """(flows of surviving next hops that moved, flows of surviving next hops)."""
    kept = [p for p, v in before.items() if v != gone]
    return sum(1 for p in kept if after[p] != before[p]), len(kept)


def wait(what: str, cond: Callable[[], bool], timeout: float, step: float = 0.01) -> float:
    """Poll `cond` until true; seconds it took (fails after `timeout`)."""
    t0 = time.monotonic()
    while not cond():
        if time.monotonic() - t0 > timeout:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(step)
    return time.monotonic() - t0


def owned(lab: Lab) -> str:
    """Everything of the agent's in the edge's kernel (empty when nothing)."""
    rules = [ln for ln in sh(lab, "edge", "ip rule").splitlines() if f"lookup {TABLE}" in ln]
    nhs = [ln for ln in sh(lab, "edge", "ip nexthop").splitlines() if "proto 240" in ln]
    routes = sh(lab, "edge", f"ip route show table {TABLE} 2>/dev/null || true").strip()
    return "\n".join([*rules, *nhs, routes]).strip()


def agent_pid(lab: Lab) -> int | None:
    """The agent's pid while it runs (its pid file names a live resilient_agent.py)."""
    text = sh(lab, "edge", f"p=$(cat {PID} 2>/dev/null) && grep -qa resilient_agent "
                           f"/proc/$p/cmdline && echo $p || true").strip()
    return int(text) if text else None


def bird_up(lab: Lab, server: str) -> None:
    sh(lab, server, "mkdir -p /run/bird && bird -c /etc/bird/bird.conf -s /run/bird/bird.ctl")


@pytest.fixture(scope="module")
def lab4() -> Iterator[Lab]:
    if os.geteuid() != 0:
        pytest.skip("lab tests need root (network namespaces, FRR, BIRD)")
    with prefix_env(image_prefix("ra")), session_lock(), project_root_env():
        lab: Lab | None = None
        try:
            lab = bring_up(servers=4)
            with lab.env():
                report = deploy_inventory(lab.inventory)
                assert report.ok, [(h.host, h.error) for h in report.hosts if h.failed]
            wait("4 next hops in the edge's main table", lambda: len(main_hops(lab)) == 4, 60,
                 0.5)
            sh(lab, "edge", f"mkdir -p {DIR} && cat > {AGENT} && chmod 755 {AGENT}",
               input=RESILIENT_AGENT.read_text())
            sh(lab, "edge", f"cat > {CONF}", input=json.dumps(SETTINGS))
            yield lab
        finally:
            if lab is not None:  # the agent (only when its pid file names it), files, log shown
                print(lab.run("edge", ["sh", "-c", (
                    f"p=$(cat {PID} 2>/dev/null) && grep -qa resilient_agent /proc/$p/cmdline "
                    f"&& kill $p && sleep 0.5; /usr/bin/python3 {AGENT} --cleanup {CONF}; "
                    f"cat {LOG}; rm -rf {DIR}")]).stdout)
            tear_down()


def test_hash_threshold_baseline_moves_surviving_flows(lab4: Lab) -> None:
    """Without the agent (for the figures): 4 -> 3 in the main table's multipath route."""
    before = flows(lab4)
    assert set(before.values()) == set(SERVERS)
    sh(lab4, "server-2", "birdc down")
    wait("server-2 out of the main table", lambda: "10.12.12.2" not in main_hops(lab4), 10)
    after = flows(lab4)
    n, total = moved(before, after, "10.12.12.2")
    print(f"\nhash-threshold 4->3: {n} of {total} flows of surviving servers moved")
    assert set(after.values()) == set(SERVERS) - {"10.12.12.2"}
    bird_up(lab4, "server-2")
    wait("server-2 back", lambda: len(main_hops(lab4)) == 4, 30, 0.2)


def test_agent_follows_bgp_moves_no_surviving_flow_and_fails_open(lab4: Lab) -> None:
    sh(lab4, "edge", START)
    wait("the agent's group", lambda: group(lab4)[0] is not None, 15)  # python3 starting
    gid, members = group(lab4)
    assert gid is not None and NHID_MIN <= gid < NHID_MIN + 1000
    assert members == bgp_hops(lab4) == main_hops(lab4) == set(SERVERS), (members,)
    rule = sh(lab4, "edge", "ip rule")
    assert f"{PRIORITY}:\tfrom all to 10.13.13.1 lookup {TABLE} proto 240" in rule, rule
    via = sh(lab4, "edge", "ip route get 10.13.13.1 from 10.0.0.1 iif eth0")
    assert f"table {TABLE}" in via, via
    before = flows(lab4)
    assert set(before.values()) == set(SERVERS)

    # a withdrawal: exactly that member leaves the group, within a second, same group id
    sh(lab4, "server-2", "birdc down")
    took = wait("server-2 out of the group", lambda: "10.12.12.2" not in group(lab4)[1], 1.0)
    wait("server-2 out of the main table", lambda: "10.12.12.2" not in main_hops(lab4), 5)
    gid3, members3 = group(lab4)
    assert (gid3, members3) == (gid, set(SERVERS) - {"10.12.12.2"}) == (gid, bgp_hops(lab4))
    log = sh(lab4, "edge", f"cat {LOG}")
    ms = [float(x) for x in re.findall(r"event: \d+ change\(s\) in ([\d.]+) ms", log)]
    print(f"\nwithdrawal: group updated {took * 1000:.0f} ms after `birdc down` returned "
          f"(BGP, zebra and the agent); the agent's own time per event: {ms} ms")
    assert ms and min(ms) < 200, log

    time.sleep(1)  # zebra does not revert the replaced group (it ignores the agent's route)
    assert group(lab4) == (gid, set(SERVERS) - {"10.12.12.2"})
    after = flows(lab4)
    n, total = moved(before, after, "10.12.12.2")
    print(f"resilient 4->3: {n} of {total} flows of surviving servers moved")
    assert n == 0 and set(after.values()) == set(SERVERS) - {"10.12.12.2"}
    assert {before[p] for p, v in after.items() if v != before[p]} == {"10.12.12.2"}

    # kill -9: the wrapper's cleanup removes everything; the main table forwards again
    pid = agent_pid(lab4)
    assert pid is not None
    sh(lab4, "edge", f"kill -9 {pid}")
    gone = wait("the wrapper's cleanup", lambda: owned(lab4) == "", 15, 0.02)
    print(f"kill -9: the wrapper's cleanup left nothing after {gone * 1000:.0f} ms")
    time.sleep(1)
    assert owned(lab4) == ""  # nothing re-installed behind the cleanup (by zebra or anyone)
    via = sh(lab4, "edge", "ip route get 10.13.13.1 from 10.0.0.1 iif eth0")
    assert f"table {TABLE}" not in via and re.search(r"via 10\.12\.12\.[134] ", via), via
    main = flows(lab4)
    assert set(main.values()) == set(SERVERS) - {"10.12.12.2"}
    assert "cleanup:" in sh(lab4, "edge", f"cat {LOG}")

