"""A runbook in dry-run mode changes nothing on any host of the real lab (issue 10 §3):
`InitNornir(dry_run=True)` (through load_nornir), then deploy with a changed inventory, deploy
with rollback, drain and undrain, all with their default `dry_run=None`. Every host's
configuration files, addresses, routes, sysctls, daemons and the drain marker are compared
before and after."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from lab_fixtures import Lab, fresh_deployed_lab
from paths import ROOT

from nornir_anycast.deploy.rollback import run_deploy_with_rollback
from nornir_anycast.deploy.runner import run_deploy
from nornir_anycast.design import registry
from nornir_anycast.design.build import load_design
from nornir_anycast.drain.runner import run_drain, run_undrain
from nornir_anycast.inventory.loader import load_nornir
from nornir_anycast.verify.runner import run_verify

pytestmark = [pytest.mark.lab, pytest.mark.lab_disruptive]

STATE = ("for d in /etc/bird /etc/frr /etc/nginx /var/www /etc/nftables.d "
         "/etc/anycast-healthchecker.d; do "
         "[ -d $d ] && find $d -type f | sort | xargs -r md5sum; done; "
         "ip -br addr; ip route; sysctl -n net.ipv4.ip_forward; "
         "pgrep -x bird >/dev/null && echo bird; pgrep -x nginx >/dev/null && echo nginx; "
         "(vtysh -c 'show running-config' 2>/dev/null | md5sum); "
         "(birdc show protocols 2>/dev/null | awk '{print $1, $2, $4, $6}')")


@pytest.fixture(scope="module")
def deployed(lab: Lab) -> Iterator[Lab]:
    yield from fresh_deployed_lab()


def _state(lab: Lab) -> dict[str, str]:
    return {h: lab.run(h, ["sh", "-c", STATE]).stdout for h in lab.hosts}


def test_a_dry_run_runbook_changes_nothing_on_any_host(deployed: Lab, tmp_path: Path) -> None:
    inv = tmp_path / "inventory"
    shutil.copytree(ROOT / "inventory", inv)
    hosts = yaml.safe_load((inv / "hosts.yaml").read_text())
    hosts["server-2"]["data"]["local_pref"] = 70  # deploy would change server-2's bird.conf
    (inv / "hosts.yaml").write_text(yaml.safe_dump(hosts, sort_keys=False))
    before = _state(deployed)
    nr = load_nornir(inv, dry_run=True)
    design, _ = load_design(nr)
    registry.attach(nr, design)
    try:
        report = run_deploy(nr)
        assert report.ok and report.dry_run
        by = {h.host: h for h in report.hosts}
        assert "+        bgp_local_pref = 70;" in by["server-2"].diff
        assert not any(h.changed for h in report.hosts)
        run = run_deploy_with_rollback(nr, verify=run_verify, wait=5)
        assert run.deploy.dry_run and not run.rolled_back and run.restored == {}
        drain = run_drain(nr, None, "server-2", grace=5)
        assert drain.ok and drain.dry_run and not drain.changed, drain.error
        assert "bgp_local_pref = 0" in drain.diff
        undrain = run_undrain(nr, None, "server-2")
        assert undrain.ok and undrain.dry_run and not undrain.changed, undrain.error
    finally:
        nr.close_connections()
    after = _state(deployed)
    for host in deployed.hosts:
        assert after[host] == before[host], host
