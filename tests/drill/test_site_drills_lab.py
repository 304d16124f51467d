"""The sites drills (issue 13) on a generated 2x2x2 namespace lab: edge-crash on s1-edge-1 and
site-down of s1, once each, checked for behaviour (traffic moved, figures present and typed,
`met` computed from the figures, everything restored and verify passing after). The targets
themselves (300 ms, 1 s) are measurements the drill reports, not asserted here.

The lab is the generated inventory (`inventory_gen.write_site_inventory`, as `lab up --sites 2
--edges 2 --servers 2` writes it, dual-stack); the drills' load is IPv4. One lab for the
module, under this session's prefix and the machine lock of lab_fixtures, always torn down
(also on failure).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

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
    verify_inventory,
)
from site_inventory import generated

from nornir_anycast.design.build import load_design
from nornir_anycast.drill import measure
from nornir_anycast.drill.sites import SiteDrillOutcome, run_site_drill
from nornir_anycast.exceptions import InventoryError
from nornir_anycast.inventory.loader import load_nornir

pytestmark = [pytest.mark.lab]

TYPES: dict[str, Any] = {
    "mode": str, "host": str, "duration_s": float, "requests_sent": int,
    "requests_failed": int, "outage_ms": float, "kernel_drop_ms": (float, type(None)),
    "withdraw_ms": type(None), "long_lived_total": int,
    "long_lived_broken_on_host": int, "long_lived_broken_elsewhere": int,
    "target_ms": float, "met": bool,
}


@pytest.fixture(scope="module")
def site_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    if os.geteuid() != 0:
        pytest.skip("lab tests need root (network namespaces, FRR, BIRD)")
    # A prefix of its own (as every module-owned lab): the session's lab prefix is locked by
    # the session itself while its lab is up, and must not be torn down here.
    with prefix_env(image_prefix("sd")), session_lock(), project_root_env():
        inv = generated(tmp_path_factory.mktemp("sites") / "inventory")
        try:
            lab = bring_up(inv)
            with lab.env():
                report = deploy_inventory(inv)
                assert report.ok, [(h.host, h.error) for h in report.hosts if h.failed]
                v = verify_inventory(inv, wait=90)
                assert v.ok, [c["message"] for c in v.checks if not c["passed"]]
            yield lab
        finally:
            tear_down()


def drill(lab: Lab, host: str, mode: str, duration: float) -> SiteDrillOutcome:
    with lab.env():
        nr = load_nornir(lab.inventory)
        design, _ = load_design(nr)
        return run_site_drill(nr, design, host, mode, duration_s=duration)


def check_report(r: dict[str, Any], o: SiteDrillOutcome, mode: str, host: str,
                 duration: float, moved: bool = True) -> None:
    for key, typ in TYPES.items():
        assert isinstance(r[key], typ), (key, r[key])
    assert (r["mode"], r["host"], r["duration_s"]) == (mode, host, duration)
    assert r["requests_sent"] > 100
    assert (r["outage_ms"] == 0) == (r["requests_failed"] == 0)
    assert r["kernel_drop_ms"] is not None and r["kernel_drop_ms"] > 0, r
    # met is what the figures say
    target, met = measure.target_and_met(
        mode, bfd=o.bfd, hold_ms=0, keepalive_ms=0, requests_failed=r["requests_failed"],
        outage=r["outage_ms"], kernel_drop_ms=r["kernel_drop_ms"], withdraw_ms=None,
        bfd_detect_ms=o.bfd_detect_ms)
    assert o.bfd and o.bfd_detect_ms == 300.0  # the generated lab: BFD 100 ms x 3
    assert r["target_ms"] == target
    assert r["met"] == (met and moved)


def test_bad_input_is_refused_before_anything(site_lab: Lab) -> None:
    with site_lab.env():
        nr = load_nornir(site_lab.inventory)
        design, _ = load_design(nr)
        for host, mode, field in (("s1-server-1", "edge-crash", "HOST"),
                                  ("s9", "site-down", "site")):
            with pytest.raises(InventoryError) as err:
                run_site_drill(nr, design, host, mode, duration_s=6.0)
            assert host in str(err.value) and field in str(err.value), str(err.value)
        tables = site_lab.run("upstream-1", ["nft", "list", "tables"]).stdout
        assert "nornir_anycast_drill" not in tables


def test_edge_crash_moves_traffic_to_the_other_edge(site_lab: Lab) -> None:
    o = drill(site_lab, "s1-edge-1", "edge-crash", 6.0)
    assert len(o.clients) == 1 and o.clients[0].client == "client-1"
    r = o.json_report()
    assert isinstance(r, dict) and tuple(r) == measure.REPORT_KEYS
    check_report(r, o, "edge-crash", "s1-edge-1", 6.0)
    assert o.upstream == "upstream-1" and o.gone_hops == ["172.16.42.3"]
    c = o.clients[0]
    assert c.last_second_requests > 10 and c.last_second_failed == 0, c
    # still served by site 1 (through s1-edge-2) after the fault
    assert set(c.served_after) <= {"s1-server-1", "s1-server-2"} and c.served_after, c
    # the servers' BIRD default dropped the dead edge (BFD)
    assert set(o.server_default_drop_ms) == {"s1-server-1", "s1-server-2"}
    assert all(ms is not None and ms > 0 for ms in o.server_default_drop_ms.values()), o
    assert o.restore and o.verify_ok, o.verify_failures
    route = site_lab.run("upstream-1", ["ip", "route", "show", "10.13.13.1"]).stdout
    assert "172.16.42.3" in route and "172.16.42.5" in route, route


def test_site_down_moves_clients_to_the_other_site(site_lab: Lab) -> None:
    # 8 s: with graceful restart on the edge<->server sessions (the generated lab has it) the
    # edges keep a crashed server's routes until the hold time (3 s), not BFD's 300 ms
    o = drill(site_lab, "s1", "site-down", 8.0)
    reports = o.json_report()
    assert isinstance(reports, list) and len(reports) == 1
    r = reports[0]
    assert tuple(r) == measure.SITE_DOWN_KEYS and r["client"] == "client-1"
    c = o.clients[0]
    check_report(r, o, "site-down", "s1", 8.0,
                 moved=any(p.startswith("s2-") for p in c.served_after))
    assert c.last_second_requests > 10 and c.last_second_failed == 0, c
    # after the fault site 2 answers: site 1's servers only the few requests whose
    # connection got through while the cut was going in (fault_apply_ms)
    s2 = sum(n for page, n in c.served_after.items() if page.startswith("s2-"))
    s1 = sum(n for page, n in c.served_after.items() if page.startswith("s1-"))
    assert s2 > 50 and s1 <= 2 + o.fault_apply_ms / 10, c.served_after
    assert o.upstream == "upstream-1"
    assert sorted(o.gone_hops) == ["172.16.42.3", "172.16.42.5"]
    assert o.restore and o.verify_ok, o.verify_failures
