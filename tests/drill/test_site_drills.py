"""The sites drills' logic without a lab: figures (measure), what each drill cuts and watches
(drill.sites plans on generated inventories), the nftables it would load, and bad input
refused with host, field and value named."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from site_inventory import generated

from nornir_anycast.design.build import load_design
from nornir_anycast.design.model import Design
from nornir_anycast.drill import faults, measure
from nornir_anycast.drill.sites import plan_edge_crash, plan_site_down, run_site_drill
from nornir_anycast.exceptions import InventoryError
from nornir_anycast.inventory.loader import load_nornir
from nornir_anycast.lab.topology import topology_from_design

T = 1000.0  # the fault


def _design(tmp_path: Path, sites: int, edges: int) -> Design:
    nr = load_nornir(generated(tmp_path / "inv", sites, edges))
    design, _ = load_design(nr)
    nr.close_connections()
    return design


@pytest.fixture(scope="module")
def two_sites(tmp_path_factory: pytest.TempPathFactory) -> Design:
    return _design(tmp_path_factory.mktemp("d22"), 2, 2)


# --- measure -------------------------------------------------------------------------------

def test_kernel_drop_with_several_hops_waits_for_the_last() -> None:
    changes: list[dict[str, Any]] = [{"t": T - 1, "prev_t": None, "hops": ["a", "b", "c"]},
               {"t": T + 0.2, "prev_t": T + 0.19, "hops": ["b", "c"]},
               {"t": T + 0.5, "prev_t": T + 0.49, "hops": ["c"]}]
    drop = measure.kernel_drop(changes, T, ["a", "b"])
    assert drop is not None and drop.ms == 500.0 and drop.resolution_ms == 10.0
    one = measure.kernel_drop(changes, T, "a")  # one hop: as before
    assert one is not None and one.ms == 200.0
    assert measure.kernel_drop(changes, T, ["b", "c"]) is None


def test_kernel_drop_refuses_hops_that_were_never_there() -> None:
    with pytest.raises(ValueError, match="x, y was not a next hop"):
        measure.kernel_drop([{"t": T - 1, "prev_t": None, "hops": ["a"]}], T, ["x", "y"])


def test_served_after_counts_answers_after_the_fault_by_page() -> None:
    short: list[dict[str, Any]] = [{"t0": T - 0.1, "ok": True, "server": "s1-server-1"},
             {"t0": T + 0.1, "ok": False, "server": None},
             {"t0": T + 0.2, "ok": True, "server": "s2-server-1"},
             {"t0": T + 0.3, "ok": True, "server": "s2-server-1"},
             {"t0": T + 0.4, "ok": True, "server": "s1-server-2"}]
    assert measure.served_after(short, T) == {"s2-server-1": 2, "s1-server-2": 1}
    assert measure.served_after(short, T, {"s2-server-1", "s2-server-2"}) == {"s2-server-1": 2}


def test_long_lived_counts_with_a_set_of_pages() -> None:
    ll: list[dict[str, Any]] = [{"opened": True, "broken": True, "server": "s1-server-1"},
          {"opened": True, "broken": True, "server": "s2-server-1"},
          {"opened": True, "broken": False, "server": "s1-server-2"},
          {"opened": False, "broken": False, "server": None}]
    assert measure.long_lived_counts(ll, {"s1-server-1", "s1-server-2"}) == (3, 1, 1)
    assert measure.long_lived_counts(ll, "s1-server-2") == (3, 0, 2)


@pytest.mark.parametrize(("outage", "drop", "met"), [
    (900.0, 400.0, True), (1000.0, 1000.0, True), (1000.1, 400.0, False),
    (400.0, 1200.0, False), (0.0, None, False)])
def test_site_down_target_is_one_second(outage: float, drop: float | None, met: bool) -> None:
    got = measure.target_and_met("site-down", bfd=True, hold_ms=9000, keepalive_ms=3000,
                                 requests_failed=1, outage=outage, kernel_drop_ms=drop,
                                 withdraw_ms=None, bfd_detect_ms=300.0)
    assert got == (measure.SITE_DOWN_TARGET_MS, met)


@pytest.mark.parametrize(("detect", "outage", "drop", "target", "met"), [
    (150.0, 290.0, 280.0, 300.0, True),   # BFD 50 ms x 3: the 300 ms
    (150.0, 310.0, 280.0, 300.0, False),
    (300.0, 440.0, 420.0, 450.0, True),   # BFD 100 ms x 3: detection + 150 ms
    (300.0, 100.0, None, 450.0, False)])  # the upstream kept the dead edge
def test_edge_crash_target_as_crash(detect: float, outage: float, drop: float | None,
                                    target: float, met: bool) -> None:
    got = measure.target_and_met("edge-crash", bfd=True, hold_ms=9000, keepalive_ms=3000,
                                 requests_failed=3, outage=outage, kernel_drop_ms=drop,
                                 withdraw_ms=None, bfd_detect_ms=detect)
    assert got == (target, met)


def test_build_report_adds_the_client_for_site_down() -> None:
    load = {"short": [{"t0": T - 0.5, "ok": True, "server": "s1-server-1"},
                      {"t0": T + 0.3, "ok": False, "server": None, "error": "connect timeout"},
                      {"t0": T + 0.6, "ok": True, "server": "s2-server-2"}],
            "long_lived": [{"opened": True, "broken": True, "server": "s1-server-1"}]}
    changes: list[dict[str, Any]] = [
        {"t": T - 1, "prev_t": None, "hops": ["172.16.42.3", "172.16.42.5"]},
        {"t": T + 0.45, "prev_t": T + 0.44, "hops": ["172.16.0.2"]}]
    r, _ = measure.build_report(
        mode="site-down", host="s1", host_page={"s1-server-1", "s1-server-2"}, duration_s=6.0,
        t_fault=T, next_hop=["172.16.42.3", "172.16.42.5"], load=load, changes=changes,
        bfd=True, hold_ms=9000, keepalive_ms=3000, bfd_detect_ms=300.0, client="client-1")
    assert tuple(r) == measure.SITE_DOWN_KEYS and r["client"] == "client-1"
    assert (r["outage_ms"], r["kernel_drop_ms"], r["requests_failed"]) == (300.0, 450.0, 1)
    assert (r["long_lived_broken_on_host"], r["long_lived_broken_elsewhere"]) == (1, 0)
    assert (r["target_ms"], r["met"]) == (1000.0, True)
    r2, _ = measure.build_report(
        mode="edge-crash", host="s1-edge-1", host_page={"s1-server-1"}, duration_s=6.0,
        t_fault=T, next_hop="172.16.42.3", load=load, changes=changes, bfd=True,
        hold_ms=9000, keepalive_ms=3000, bfd_detect_ms=150.0)
    assert tuple(r2) == measure.REPORT_KEYS and (r2["target_ms"], r2["met"]) == (300.0, False)


# --- plans ---------------------------------------------------------------------------------

def test_edge_crash_plan_watches_the_upstream_and_the_servers(two_sites: Design) -> None:
    p = plan_edge_crash(two_sites, "s1-edge-1")
    assert p.prefix == "10.13.13.1/32" and [c.name for c in p.clients] == ["client-1"]
    assert p.upstreams == {"upstream-1": ["172.16.42.3"]}
    assert p.server_polls == {"s1-server-1": "10.12.12.254", "s1-server-2": "10.12.12.254"}
    assert p.cut == ["s1-edge-1"] and not p.switch_only
    assert p.bfd and p.bfd_detect_ms == 300.0  # the generated lab's BFD: 100 ms x 3


def test_site_down_plan_cuts_every_server_of_the_site(two_sites: Design) -> None:
    p = plan_site_down(two_sites, "s1")
    assert p.cut == ["s1-server-1", "s1-server-2"] and p.switch_only
    assert p.upstreams == {"upstream-1": ["172.16.42.3", "172.16.42.5"]}
    assert p.other_pages == {"s2-server-1", "s2-server-2"}
    assert [c.name for c in p.clients] == ["client-1"]


def test_edge_crash_cuts_the_switch_port_and_both_ends_of_the_upstream_link(
        two_sites: Design) -> None:
    topo = topology_from_design(two_sites)
    plan = faults.cut_plan(["s1-edge-1"], topo)
    edge, up = topo.host("s1-edge-1").netns, topo.host("upstream-1").netns
    bridges = [k for k in plan if k[1] == "bridge"]
    assert len(bridges) == 1 and plan[bridges[0]] == ["s1-edge-1"]
    assert plan[(edge, "netdev")] == ["eth0"]
    assert plan[(up, "netdev")] == ["eth2"]  # upstream-1's end of 172.16.42.2/31
    script = faults.netdev_script(["eth0"])
    assert 'hook ingress device "eth0"' in script and "policy drop" in script
    assert 'iifname { "p1", "p2" } drop' in faults.bridge_script(["p1", "p2"])


def test_site_down_cuts_only_switch_ports(two_sites: Design) -> None:
    topo = topology_from_design(two_sites)
    plan = faults.cut_plan(["s1-server-1", "s1-server-2"], topo)
    assert [fam for _, fam in plan] == ["bridge"]
    assert sorted(next(iter(plan.values()))) == ["s1-server-1", "s1-server-2"]


@pytest.mark.parametrize(("host", "mode", "field", "words"), [
    ("s1-server-1", "edge-crash", "HOST", "not an edge"),
    ("nosuch", "edge-crash", "HOST", "not an edge"),
    ("s9", "site-down", "site", "not a site of the inventory; sites: s1, s2"),
    ("s1-edge-1", "site-down", "site", "not a site"),
    ("s1", "crash", "--mode", "one of edge-crash, site-down"),
])
def test_bad_input_is_refused_naming_host_field_value(two_sites: Design, host: str, mode: str,
                                                      field: str, words: str) -> None:
    with pytest.raises(InventoryError) as err:
        run_site_drill(None, two_sites, host, mode)  # type: ignore[arg-type]  # never reached
    text = str(err.value)
    assert host in text and field in text and words in text, text


def test_a_single_edge_site_is_refused(tmp_path: Path) -> None:
    design = _design(tmp_path, 2, 1)
    with pytest.raises(InventoryError) as err:
        plan_edge_crash(design, "s1-edge-1")
    text = str(err.value)
    assert "s1-edge-1" in text and "site" in text and "two or more edges" in text, text


def test_site_down_with_one_site_is_refused(tmp_path: Path) -> None:
    design = _design(tmp_path, 1, 2)
    with pytest.raises(InventoryError) as err:
        plan_site_down(design, "s1")
    assert "no other site" in str(err.value)
