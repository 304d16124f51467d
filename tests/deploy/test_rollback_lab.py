"""`deploy --rollback-on-failure` against the real lab, through the CLI in a subprocess.

Two changes that pass validation but break the service:

- a wrong BGP neighbor address: server-2 peers with 172.16.42.3 and the edge sources its
  session to server-2 from there. Validation accepts it (rules 6-8 and the "lists this one
  back" rule: 172.16.42.3 is the edge's, remote_as matches, the edge's update_source is its own
  address and server-2 lists exactly it), but 172.16.42.3 is the edge's ISP-side address, not on
  the servers' LAN, and BIRD's `direct` (needed for BFD against FRR) only peers on-link: the
  session never comes up. Deploy fails on server-2 (BGP not Established) and verify fails.
- a wrong default gateway: server-2's gateway 10.12.12.1 (server-1, inside the subnet, so
  valid). Deploy succeeds, BGP stays up, but server-2's answers to clients go to server-1,
  which does not forward: verify's http_anycast fails.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from lab_fixtures import (
    Lab,
    deploy_inventory,
    lab_of_kind,
    rebuild,
    verify_inventory,
)
from paths import ROOT

pytestmark = [pytest.mark.lab, pytest.mark.lab_disruptive]


def cli(lab: Lab, *argv: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, NORNIR_ANYCAST_LAB_PREFIX=lab.prefix, NORNIR_ANYCAST_ROOT=str(ROOT),
               COLUMNS="200")
    return subprocess.run([sys.executable, str(ROOT / "tasks.py"), *argv], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout, check=False)


def changed_inventory(lab: Lab, tmp: Path, change: Any) -> Path:
    inv = tmp / "inventory"
    shutil.copytree(lab.inventory, inv)
    hosts = yaml.safe_load((inv / "hosts.yaml").read_text())
    change(hosts)
    (inv / "hosts.yaml").write_text(yaml.safe_dump(hosts, sort_keys=False))
    return inv


def wrong_neighbor(hosts: dict[str, Any]) -> None:
    for n in hosts["edge"]["data"]["bgp"]["neighbors"]:
        if n["address"] == "10.12.12.2":
            n["update_source"] = "172.16.42.3"
    hosts["server-2"]["data"]["bgp"]["neighbors"][0]["address"] = "172.16.42.3"


def wrong_gateway(hosts: dict[str, Any]) -> None:
    hosts["server-2"]["data"]["interfaces"][0]["gateway"] = "10.12.12.1"


def snapshot(lab: Lab) -> dict[str, str]:
    """What a rollback must bring back: the files, FRR's running config, server-2's route."""
    return {
        "edge frr.conf": lab.run("edge", ["cat", "/etc/frr/frr.conf"]).stdout,
        "edge running": lab.run("edge", ["vtysh", "-c", "show running-config"]).stdout,
        "server-2 bird.conf": lab.run("server-2", ["cat", "/etc/bird/bird.conf"]).stdout,
        "server-2 nginx": lab.run("server-2", ["cat", "/etc/nginx/conf.d/anycast.conf"]).stdout,
        "server-2 default": lab.run("server-2", ["ip", "route", "show", "default"]).stdout,
    }


@pytest.fixture(scope="module", params=["namespace", "debian13"])
def deployed(request: pytest.FixtureRequest) -> Iterator[Lab]:
    """A fresh lab of each kind (the namespace kind's inventory/, then inventory/lab-debian13:
    systemd, sudo, FRR 10.3) deployed and verified; rebuilt fresh after, also on failure."""
    session = lab_of_kind(request)
    fresh = rebuild(session)
    try:
        with fresh.env():
            assert deploy_inventory(fresh.inventory).ok
            report = verify_inventory(fresh.inventory, wait=60)
            assert report.ok, [c for c in report.checks if not c["passed"]]
            yield fresh
    finally:
        rebuild(session)


# On the namespace kind only: the Debian 13 kind's rollback (systemd, sudo, FRR 10.3) is
# test_wrong_neighbor_address_is_rolled_back's; once is enough for CI's time.
@pytest.mark.parametrize("deployed", ["namespace"], indirect=True)
def test_nothing_to_roll_back_when_verify_passes(deployed: Lab, tmp_path: Path) -> None:
    out = tmp_path / "ok.json"
    res = cli(deployed, "deploy", "--inventory", str(deployed.inventory), "--rollback-on-failure",
              "--wait", "30", "--json", str(out))
    assert res.returncode == 0, res.stdout + res.stderr
    report = json.loads(out.read_text())
    assert report["ok"] and report["verify"]["ok"] and not report["rolled_back"]
    assert "rollback" not in report["hosts"]["edge"]
    assert "verify passed" in res.stdout and "rolled back" not in res.stdout


# Debian 13 (FRR 10.3): in the two whole-suite runs of 2026-12-01/02 (never alone: it passed
# when run by itself, 141 s) the rollback restored every file and FRR's configuration, but the
# edge's session to server-2 stayed Idle with BFD down for the 30 s verify that follows (rb.json:
# verify_after_rollback: router_bgp_session Idle, edge_bfd_session down). A real, open bug (FRR
# 10.3's BFD session after the update-source change is undone, suspected); expected to fail
# until it is found, and reported, not hidden, when it does.
@pytest.mark.parametrize("deployed", [
    "namespace",
    pytest.param("debian13", marks=pytest.mark.xfail(
        strict=False, reason="FRR 10.3: edge session to server-2 stays Idle after the rollback "
                             "in whole-suite runs (open bug, see the comment)")),
], indirect=True)
def test_wrong_neighbor_address_is_rolled_back(deployed: Lab, tmp_path: Path) -> None:
    before = snapshot(deployed)
    out = tmp_path / "rb.json"
    res = cli(deployed, "deploy", "--inventory",
              str(changed_inventory(deployed, tmp_path, wrong_neighbor)),
              # 30 s as elsewhere: a CI run (Debian 13 kind, busy machine) needed more than 10 s
              # for BFD and BGP to come back after the rollback (4.8 s here when idle).
              "--rollback-on-failure", "--wait", "30", "--previous-inventory",
              str(deployed.inventory), "--json", str(out))
    print(res.stdout)
    assert res.returncode == 1, res.stdout + res.stderr
    assert "deploy rolled back: 2 host(s) restored; verify after rollback passed" in res.stdout
    report = json.loads(out.read_text())
    assert report["rolled_back"] and not report["ok"] and not report["verify"]["ok"]
    assert report["verify_after_rollback"]["ok"]
    edge, s2 = report["hosts"]["edge"], report["hosts"]["server-2"]
    assert edge["rollback"]["restored"] == [
        "frr-reload of the running configuration saved before deploy "
        "(/etc/frr/frr.conf.na-prev-running)", "restored /etc/frr/frr.conf"]
    assert s2["rollback"]["restored"] == ["restored /etc/bird/bird.conf",
                                          "reload bird (previous configuration)"]
    assert not edge["rollback"]["failed"] and not s2["rollback"]["failed"]
    for key in ("changed", "failed", "seconds", "diff", "error", "drained"):
        assert key in edge  # the plain deploy report's keys are all still there
    assert "rollback" not in report["hosts"]["server-1"]  # deploy changed nothing there
    after = snapshot(deployed)
    for what in before:
        assert after[what] == before[what], f"{what} not restored"
    verified = verify_inventory(deployed.inventory, wait=30)
    assert verified.ok, [c for c in verified.checks if not c["passed"]]


# On the namespace kind only: the Debian 13 kind's rollback (systemd, sudo, FRR 10.3) is
# test_wrong_neighbor_address_is_rolled_back's; once is enough for CI's time.
@pytest.mark.parametrize("deployed", ["namespace"], indirect=True)
def test_wrong_gateway_passes_deploy_fails_verify_and_is_rolled_back(
        deployed: Lab, tmp_path: Path) -> None:
    before = snapshot(deployed)
    out = tmp_path / "gw.json"
    res = cli(deployed, "deploy", "--inventory",
              str(changed_inventory(deployed, tmp_path, wrong_gateway)),
              "--rollback-on-failure", "--wait", "5", "--json", str(out))
    print(res.stdout)
    assert res.returncode == 1, res.stdout + res.stderr
    report = json.loads(out.read_text())
    assert not any(h["failed"] for h in report["hosts"].values())  # deploy itself went fine
    assert report["hosts"]["server-2"]["changed"]
    failing = {c["name"] for c in report["verify"]["checks"] if not c["passed"]}
    assert "http_anycast" in failing
    assert report["rolled_back"]
    # A Debian host keeps its addresses and gateway in /etc/network/interfaces too (the
    # namespace kind shares this machine's /etc and has none): restored first.
    persisted = ["restored /etc/network/interfaces"] \
        if deployed.topology.host("server-2").image is not None else []
    assert report["hosts"]["server-2"]["rollback"]["restored"] == [
        *persisted, "undid '~ default via 10.12.12.1 (was 10.12.12.254)': "
        "ip route replace default via 10.12.12.254"]
    assert snapshot(deployed) == before
    # No file or check depends on the gateway, so verify after the rollback passes even
    # against the changed inventory (the HTTP check is what noticed).
    assert report["verify_after_rollback"]["ok"]
    assert "deploy rolled back: 1 host(s) restored; verify after rollback passed" in res.stdout
    verified = verify_inventory(deployed.inventory, wait=30)
    assert verified.ok, [c for c in verified.checks if not c["passed"]]
