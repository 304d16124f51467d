"""Health-checked announcements and planned drains on the real lab (FRR edge, BIRD 2, nginx,
anycast-healthchecker 0.9.10, real ECMP in the edge's kernel).

- nginx stopped on server-2: the event path (issue 11) and anycast-healthchecker withdraw
  10.13.13.1/32 and the edge's kernel route drops server-2 (times printed); verify names
  server-2; nginx back: announced again.
- drain server-2 under a steady curl loop from the client: no request fails, the BGP session
  survives the preference step, the edge forwards only to server-1; server-2 stays drained
  across a deploy (changed=no) and verify passes with it drained; draining server-1 too is
  refused (it is the last one); undrain brings server-2 back and verify passes.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest
from lab_fixtures import (
    Lab,
    deploy_inventory,
    fresh_deployed_lab,
    verify_inventory,
)

from nornir_anycast.design.build import load_design
from nornir_anycast.drain.runner import DrainReport, run_drain, run_undrain, same_sessions
from nornir_anycast.inventory.loader import load_nornir

pytestmark = [pytest.mark.lab, pytest.mark.lab_disruptive]
PREFIX = "10.13.13.1"
#: anycast-healthchecker's BIRD include on a lab server (inventory/groups.yaml).
INCLUDE = "/etc/bird/anycast-prefixes.conf"


@pytest.fixture(scope="module")
def deployed(lab: Lab) -> Iterator[Lab]:
    """A fresh lab with the default inventory (health checks on) deployed and verified."""
    yield from fresh_deployed_lab()


def edge_hops(lab: Lab) -> list[str]:
    out = lab.run("edge", ["ip", "route", "show", PREFIX]).stdout
    return sorted(w for line in out.splitlines() for i, w in enumerate(line.split())
                  if i > 0 and line.split()[i - 1] == "via")


def wait_hops(lab: Lab, want: list[str], timeout: float = 15.0) -> float:
    """Seconds until the edge's kernel route has exactly `want` (polled as fast as nsenter)."""
    start = time.monotonic()
    while edge_hops(lab) != want:
        assert time.monotonic() - start < timeout, f"edge has {edge_hops(lab)}, want {want}"
    return time.monotonic() - start


def failing(report: Any) -> list[str]:
    return [f"{c['host']} {c['name']}: {c['message']}" for c in report.checks if not c["passed"]]


def drain(host: str, **kw: Any) -> DrainReport:
    nr = load_nornir("inventory")
    design, _ = load_design(nr)
    try:
        return run_drain(nr, design, host, **kw)
    finally:
        nr.close_connections()


def undrain(host: str) -> DrainReport:
    nr = load_nornir("inventory")
    design, _ = load_design(nr)
    try:
        return run_undrain(nr, design, host)
    finally:
        nr.close_connections()


def session_since(report: Any, host: str) -> str:
    check = next(c for c in report.checks
                 if c["host"] == host and c["name"] == "server_bgp_session")
    return str(check["actual"]["since"])


def test_healthchecker_withdraws_when_nginx_stops(deployed: Lab) -> None:
    assert edge_hops(deployed) == ["10.12.12.1", "10.12.12.2"]
    start = time.monotonic()
    assert deployed.run("server-2", ["nginx", "-s", "quit"]).returncode == 0
    wait_hops(deployed, ["10.12.12.1"])
    withdraw = time.monotonic() - start
    print(f"\nnginx stopped on server-2 -> edge kernel route without it: {withdraw:.2f} s "
          "(the event path; checks every 0.5 s, fall 2, as the fallback)")
    # the polling fallback withdraws too (its include, which gates re-announcement)
    while PREFIX + "/32" in deployed.run("server-2", ["cat", INCLUDE]).stdout:
        assert time.monotonic() - start < 10, "anycast-healthchecker never withdrew"
        time.sleep(0.1)
    print(f"anycast-healthchecker withdrew it after {time.monotonic() - start:.2f} s")
    report = verify_inventory()
    bad = failing(report)
    assert any("server-2 server_health: anycast-healthchecker" in b and "withdrew 10.13.13.1/32"
               in b for b in bad), bad
    assert any(b.startswith("edge edge_kernel_route") and "missing 10.12.12.2 (server-2)" in b
               for b in bad), bad
    start = time.monotonic()
    assert deployed.run("server-2", ["nginx"]).returncode == 0
    back = wait_hops(deployed, ["10.12.12.1", "10.12.12.2"])
    print(f"nginx started on server-2 -> edge forwards to it again: {back:.2f} s (rise 2)")
    assert verify_inventory(wait=30).ok


def client_loop(lab: Lab, seconds: float) -> subprocess.Popen[str]:
    """Short requests from the client, one new connection each, alternating source addresses,
    for `seconds`: one line per request, the answering server or FAIL."""
    script = (
        f"end=$(( $(date +%s) + {int(seconds)} )); i=0; "
        "while [ $(date +%s) -lt $end ]; do i=$((i+1)); src=10.0.0.$(( i % 2 + 1 )); "
        f"r=$(curl -s -f --connect-timeout 1 --max-time 2 --interface $src http://{PREFIX}/file)"
        " && echo \"$r\" || echo FAIL; sleep 0.01; done")
    return subprocess.Popen(["ip", "netns", "exec", lab.ns("client"), "sh", "-c", script],
                            stdout=subprocess.PIPE, text=True)


def test_drain_under_load_and_back(deployed: Lab) -> None:
    before = verify_inventory(wait=30)
    assert before.ok, failing(before)
    since = session_since(before, "server-2")
    load = client_loop(deployed, 12)
    time.sleep(1.0)  # requests reach both servers first
    report = drain("server-2", grace=2.0)
    out, _ = load.communicate(timeout=60)
    answers = out.split()
    print("\n" + "\n".join(f"  {s.t:6.2f} s  {s.name}: {s.detail} ({s.seconds:.2f} s)"
                           for s in report.steps))
    print(f"  {len(answers)} requests during the drain: "
          f"{answers.count('server-1')} server-1, {answers.count('server-2')} server-2, "
          f"{answers.count('FAIL')} failed")
    assert report.ok, report.error
    assert [s.name for s in report.steps] == [
        "checked", "lowered preference", "edge moved traffic", "withdrew",
        "edge dropped the path", "grace period"]
    assert report.session_kept is True  # the preference step did not reset the BGP session
    assert report.edge_next_hops == {"10.13.13.1/32": ["10.12.12.1"]}
    assert answers and "FAIL" not in answers
    assert answers.count("server-2") > 0 and answers[-1] == "server-1"
    assert edge_hops(deployed) == ["10.12.12.1"]
    marker = deployed.run("server-2", ["cat", "/etc/bird/nornir-anycast-drained"]).stdout
    assert "phase=withdrawn" in marker

    # drained across deploy and verify
    dep = deploy_inventory()
    assert dep.ok
    by = {h.host: h for h in dep.hosts}
    assert not by["server-2"].changed and by["server-2"].drained["phase"] == "withdrawn"
    ver = verify_inventory(wait=30)
    assert ver.ok, failing(ver)
    assert set(ver.drained) == {"server-2"}
    kernel = next(c for c in ver.checks if c["name"] == "edge_kernel_route")
    assert "server-2 drained" in kernel["message"]
    # Not reset by the whole drain either (BIRD's `since` may move by a millisecond).
    assert same_sessions({"edge": since}, {"edge": session_since(ver, "server-2")})
    client = next(c for c in ver.checks if c["name"] == "http_anycast")
    assert set(client["actual"]["servers"]) == {"server-1"}

    # the last server standing is not drained
    refused = drain("server-1", grace=0)
    assert not refused.ok and "refusing to drain server-1" in (refused.error or "")
    assert deployed.run("server-1", ["test", "-e", "/etc/bird/nornir-anycast-drained"]
                        ).returncode == 1
    assert edge_hops(deployed) == ["10.12.12.1"]

    back = undrain("server-2")
    print("\n" + "\n".join(f"  {s.t:6.2f} s  {s.name}: {s.detail}" for s in back.steps))
    assert back.ok, back.error
    assert [s.name for s in back.steps] == ["checked", "announced", "edge forwards again"]
    assert back.session_kept is True
    assert edge_hops(deployed) == ["10.12.12.1", "10.12.12.2"]
    assert deployed.run("server-2", ["test", "-e", "/etc/bird/nornir-anycast-drained"]
                        ).returncode == 1
    after = verify_inventory(wait=30)
    assert after.ok, failing(after)
    assert after.drained == {}
    assert undrain("server-2").changed is False  # nothing to do the second time
