"""The restart drill (issue 13): BIRD on a server restarted as for an upgrade, with BGP graceful
restart on both ends (FRR `bgp graceful-restart` + `bfd check-control-plane-failure`, BIRD
`graceful restart on`), on a fresh lab deployed with the lab inventory plus graceful restart:
the namespace kind (FRR 8.4, BIRD 2.0, BIRD started again with `bird -R`) and the Debian 13
kind (FRR 10.3, BIRD 2.17, `systemctl start bird`).

The edge must keep forwarding to the server throughout: its kernel route keeps the server's
next hop, and no request fails. The same drill on an inventory without graceful restart is
refused before anything is touched, naming the host and the field.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from lab_fixtures import Lab, deploy_inventory, lab_of_kind, rebuild, verify_inventory

from nornir_anycast.design.build import load_design
from nornir_anycast.drill import measure
from nornir_anycast.drill.runner import run_drill
from nornir_anycast.exceptions import InventoryError
from nornir_anycast.inventory.loader import load_nornir

pytestmark = [pytest.mark.lab, pytest.mark.lab_disruptive]


def with_graceful_restart(source: Path, dest: Path) -> Path:
    """A copy of the inventory with `bgp.graceful_restart: true` on the edge and servers."""
    shutil.copytree(source, dest)
    hosts = yaml.safe_load((dest / "hosts.yaml").read_text())
    for name in ("edge", "server-1", "server-2"):
        hosts[name]["data"]["bgp"]["graceful_restart"] = True
    (dest / "hosts.yaml").write_text(yaml.safe_dump(hosts, sort_keys=False))
    return dest


@pytest.fixture(scope="module", params=["namespace", "debian13"])
def gr_lab(request: pytest.FixtureRequest,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Lab, Path]]:
    """A fresh lab deployed with graceful restart (first deploy: the sessions negotiate it);
    rebuilt fresh after, also on failure."""
    session = lab_of_kind(request)
    fresh = rebuild(session)
    inventory = with_graceful_restart(fresh.inventory, tmp_path_factory.mktemp("gr") / "inv")
    try:
        with fresh.env():
            report = deploy_inventory(inventory)
            assert report.ok, [(h.host, h.error) for h in report.hosts if h.failed]
            v = verify_inventory(inventory, wait=60)
            assert v.ok, [c["message"] for c in v.checks if not c["passed"]]
            yield fresh, inventory
    finally:
        rebuild(session)


def test_restart_keeps_the_edge_forwarding(gr_lab: tuple[Lab, Path]) -> None:
    lab, inventory = gr_lab
    negotiated = lab.run("edge", ["vtysh", "-c", "show ip bgp neighbors 10.12.12.2"]).stdout
    assert "Graceful Restart Capability: advertised and received" in negotiated
    with lab.env():
        nr = load_nornir(inventory)
        design, _ = load_design(nr)
        o = run_drill(nr, design, "server-2", "restart", duration_s=6.0,
                      inventory=str(inventory))
    r = o.report
    assert tuple(r) == measure.REPORT_KEYS
    assert (r["mode"], r["host"]) == ("restart", "server-2")
    assert r["requests_sent"] > 100 and o.last_second_failed == 0
    assert r["kernel_drop_ms"] is None, r  # the edge kept server-2's next hop throughout
    assert r["requests_failed"] == 0, (r, o.errors)
    assert (r["target_ms"], r["met"]) == (0.0, True)
    # BIRD really restarted: a new session came up (the edge counts one more)
    again = lab.run("edge", ["vtysh", "-c", "show ip bgp neighbors 10.12.12.2"]).stdout
    assert "Connections established 2" in again, again
    assert o.verify_ok, o.verify_failures


def test_restart_without_graceful_restart_is_refused(gr_lab: tuple[Lab, Path]) -> None:
    lab, _ = gr_lab
    with lab.env():
        nr = load_nornir(lab.inventory)  # the plain lab inventory: no graceful restart
        design, _ = load_design(nr)
        with pytest.raises(InventoryError) as err:
            run_drill(nr, design, "server-2", "restart", duration_s=6.0)
    text = str(err.value)
    assert "server-2" in text and "bgp.graceful_restart" in text, text
