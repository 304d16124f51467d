"""The ECMP rule in one place (nornir_anycast.design.ecmp), and the validation rules by area."""

from __future__ import annotations

import importlib

import pytest
from designs import design_of
from nornir import InitNornir
from paths import ROOT

from nornir_anycast.design.build import load_design
from nornir_anycast.design.ecmp import expected_for, expected_paths
from nornir_anycast.design.model import ServerPath
from nornir_anycast.design.registry import lookup
from nornir_anycast.design.validation import RULES
from nornir_anycast.exceptions import InventoryError
from nornir_anycast.inventory.loader import load_nornir


def _path(host: str, next_hop: str, local_pref: int = 100) -> ServerPath:
    return ServerPath(host=host, next_hop=next_hop, local_pref=local_pref)


def test_best_group_capped_in_next_hop_order() -> None:
    paths = [_path("s3", "10.12.12.3"), _path("s10", "10.12.12.10"), _path("s1", "10.12.12.1"),
             _path("s9", "10.12.12.9", 50)]
    rule = expected_paths(paths, 2)
    assert rule.cap == 2 and rule.best_local_pref == 100
    assert [p.host for p in rule.best_group] == ["s1", "s3", "s10"]  # numeric, not text order
    assert [p.host for p in rule.ecmp] == ["s1", "s3"]
    assert [p.host for p in rule.backups] == ["s9", "s10"]  # next-hop order too
    assert rule.router_chooses  # three share the best preference, two may be installed


def test_unset_maximum_paths_means_one_path_and_nothing_announced_means_nothing() -> None:
    rule = expected_paths([_path("a", "10.0.0.2"), _path("b", "10.0.0.1")], None)
    assert rule.cap == 1 and [p.host for p in rule.ecmp] == ["b"] and rule.router_chooses
    empty = expected_paths([], 4)
    assert (empty.best_local_pref, empty.best_group, empty.ecmp, empty.backups) == (0, (), (), ())
    assert not empty.router_chooses


@pytest.mark.parametrize("inventory", ["inventory", "inventory/vyos-seed",
                                       "tests/inventories/three-servers"])
def test_derived_services_follow_the_one_rule(inventory: str) -> None:
    design = design_of(inventory)
    assert design.services
    for service in design.services:
        rule = expected_for(service, design.hosts[service.edge])
        assert service.ecmp == list(rule.ecmp)
        assert service.backups == list(rule.backups)


def test_three_servers_over_the_cap() -> None:
    design = design_of("tests/inventories/three-servers")
    [service] = design.services
    rule = expected_for(service, design.hosts[service.edge])
    assert rule.router_chooses and rule.cap == 2 and len(rule.best_group) == 3


def test_each_rule_lives_in_the_module_of_its_area() -> None:
    areas = {"addressing", "bgp", "services", "policy", "platform", "bfd", "sites", "ipv6",
             "resilient"}
    found = {rule.__module__.rsplit(".", 1)[-1] for rule in RULES}
    assert found == areas
    assert len(RULES) == 40 and len(set(RULES)) == 40
    for area in areas:
        module = importlib.import_module(f"nornir_anycast.design.validation.{area}")
        assert [r for r in RULES if r.__module__ == module.__name__]


def test_load_design_of_a_filtered_nornir_is_the_whole_inventorys() -> None:
    """`load_design(nr.filter(role="server"))` failed with 4 problems (no edge among the
    servers); a Nornir loaded with the plugin or load_nornir carries the whole design."""
    nr = load_nornir(ROOT / "inventory")
    servers = nr.filter(role="server")
    design, warnings = load_design(servers)
    assert design is lookup(nr)
    assert sorted(design.hosts) == ["client", "edge", "isp", "server-1", "server-2"]
    assert [p.host for p in design.services[0].ecmp] == ["server-1", "server-2"]
    assert warnings == []
    # Nornir's own SimpleInventory attaches nothing: the servers alone are all there is
    plain = InitNornir(inventory={"plugin": "SimpleInventory", "options": {
        f"{kind}_file": str(ROOT / "inventory" / f"{file}.yaml")
        for kind, file in (("host", "hosts"), ("group", "groups"), ("defaults", "defaults"))}},
        logging={"enabled": False})
    with pytest.raises(InventoryError) as info:
        load_design(plain.filter(role="server"))
    assert len(info.value.problems) == 4
    assert all("edge" in p.message or "10.12.12.254" in str(p) for p in info.value.problems)
