"""Deploy against the real lab: dry run, a file its checker rejects, an unreachable host,
servers taking turns, and the destination NAT variant (inventory/lab-dnat/)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from lab_fixtures import (
    Lab,
    bring_up,
    deploy_inventory,
    fresh_deployed_lab,
    verify_inventory,
)
from paths import ROOT

from nornir_anycast import render as rendering
from nornir_anycast.deploy.gate import BgpGate
from nornir_anycast.deploy.runner import DeployReport
from nornir_anycast.verify.runner import VerifyReport

pytestmark = [pytest.mark.lab, pytest.mark.lab_disruptive]


def deploy(inventory: Path | str = "inventory", **kw: Any) -> DeployReport:
    report: DeployReport = deploy_inventory(inventory, **kw)
    return report


def verify(inventory: Path | str = "inventory", wait: float = 0.0) -> VerifyReport:
    report: VerifyReport = verify_inventory(inventory, wait=wait)
    return report


def inventory_with(tmp: Path, **prefs: int) -> Path:
    inv = tmp / "inventory"
    shutil.copytree(ROOT / "inventory", inv)
    hosts = yaml.safe_load((inv / "hosts.yaml").read_text())
    for name, pref in prefs.items():
        hosts[name.replace("_", "-")]["data"]["local_pref"] = pref
    (inv / "hosts.yaml").write_text(yaml.safe_dump(hosts, sort_keys=False))
    return inv


def bird_conf(lab: Lab, host: str) -> str:
    return lab.run(host, ["cat", "/etc/bird/bird.conf"]).stdout


@pytest.fixture(scope="module")
def deployed(lab: Lab) -> Iterator[Lab]:
    """A fresh lab with the default inventory deployed and verified."""
    yield from fresh_deployed_lab()


def test_dry_run_shows_the_diff_and_touches_nothing(deployed: Lab, tmp_path: Path) -> None:
    before = bird_conf(deployed, "server-2")
    report = deploy(inventory_with(tmp_path, server_2=70), dry_run=True)
    assert report.ok
    by = {h.host: h for h in report.hosts}
    assert "-        bgp_local_pref = 100;" in by["server-2"].diff
    assert "+        bgp_local_pref = 70;" in by["server-2"].diff
    assert [h.host for h in report.hosts if h.diff] == ["server-2"]
    assert not any(h.changed for h in report.hosts)
    assert bird_conf(deployed, "server-2") == before
    staged = deployed.run("server-2", ["sh", "-c", "ls /etc/bird/*.na-new 2>/dev/null"]).stdout
    assert staged == ""


def test_a_file_its_checker_rejects_is_never_applied(deployed: Lab, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    real = rendering.render_host
    before = bird_conf(deployed, "server-1")

    def broken(host: Any, design: Any) -> Any:
        files = real(host, design)
        if host.name == "server-1":
            f = files["bird.conf"]
            files["bird.conf"] = rendering.RenderedFile(
                f.path, f.content.replace("import none;", "import nonsense;"), f.checker)
        return files

    monkeypatch.setattr(rendering, "render_host", broken)
    report = deploy(inventory_with(tmp_path, server_1=80))
    by = {h.host: h for h in report.hosts}
    assert not report.ok
    assert by["server-1"].failed and not by["server-1"].changed
    assert "rejected by bird2 check, nothing applied" in (by["server-1"].error or "")
    assert "syntax error" in (by["server-1"].error or "").lower()
    assert not any(h.failed for n, h in by.items() if n != "server-1")
    assert bird_conf(deployed, "server-1") == before
    assert deployed.run("server-1", ["birdc", "show", "protocols"]).stdout.count("Established") == 1


def test_an_unreachable_host_is_reported_and_the_others_complete(deployed: Lab) -> None:
    assert deployed.run("client", ["pkill", "-x", "sshd"]).returncode == 0
    try:
        report = deploy()
        by = {h.host: h for h in report.hosts}
        assert not report.ok
        assert by["client"].failed and by["client"].error
        assert "client" in by["client"].error
        assert all(not h.failed and not h.changed for n, h in by.items() if n != "client")
    finally:
        bring_up()  # `lab up` repairs the dead sshd


def test_servers_reload_bgp_one_at_a_time(deployed: Lab, tmp_path: Path) -> None:
    gate = BgpGate(batch=1)
    report = deploy(inventory_with(tmp_path, server_1=90, server_2=90), gate=gate)
    assert report.ok, report.as_json()
    assert sorted(h for h, _, _ in gate.log) == ["server-1", "server-2"]
    (_, _, a_out), (_, b_in, _) = sorted(gate.log, key=lambda e: e[1])
    assert a_out <= b_in, "two servers reloaded BGP at the same time"
    assert verify(tmp_path / "inventory", wait=30).ok
    # Back to the default inventory for the tests after this one.
    assert deploy().ok


def test_destination_nat_variant(deployed: Lab) -> None:
    report = deploy("inventory/lab-dnat")
    assert report.ok, report.as_json()
    assert [h.host for h in report.hosts if h.changed] == ["edge"]
    result = verify("inventory/lab-dnat", wait=60)
    assert result.ok, [c for c in result.checks if not c["passed"]]
    names = {c["name"] for c in result.checks}
    assert {"http_dnat", "isp_no_anycast_route"} <= names
    assert "http_anycast" not in names
    dnat = next(c for c in result.checks if c["name"] == "http_dnat")
    assert set(dnat["actual"]["servers"]) == {"server-1", "server-2"}
    # And back: the default inventory removes the NAT table and exports the prefix again.
    assert deploy().ok
    assert verify(wait=60).ok
    tables = deployed.run("edge", ["nft", "list", "tables"]).stdout
    assert "nornir_anycast" not in tables
