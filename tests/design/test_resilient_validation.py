"""`resilient: {enabled, buckets, idle_timer, unbalanced_timer}` (docs/resilient.md): the model's
defaults, and validation refusing it where it cannot work (VyOS edges, other roles) or with
values the kernel refuses, each problem naming host, field and value. Existing inventories are
unchanged (resilient forwarding is off unless set)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from paths import ROOT

from nornir_anycast.design.build import build_design
from nornir_anycast.design.model import Resilient
from nornir_anycast.design.validation import validate
from nornir_anycast.exceptions import InventoryError, Problem
from nornir_anycast.inventory.loader import load_nornir

DEFAULT = ROOT / "inventory"
VYOS_CURRENT = ROOT / "tests" / "inventories" / "vyos-current"


def problems(mutate: Callable[[dict[str, Any]], None], inventory: Path = DEFAULT) -> list[Problem]:
    nr = load_nornir(inventory)
    mutate({name: host.data for name, host in nr.inventory.hosts.items()})
    try:
        design = build_design(nr)
    except InventoryError as exc:
        return exc.problems
    return [p for p in validate(design) if p.field.startswith("resilient")]


def test_defaults_and_existing_inventories() -> None:
    assert Resilient() == Resilient(enabled=False, buckets=128, idle_timer=120,
                                    unbalanced_timer=0)
    design = build_design(load_nornir(DEFAULT))
    assert not any(h.resilient.enabled for h in design.hosts.values())
    assert problems(lambda d: None) == []


def test_enabled_on_an_frr_edge_validates() -> None:
    def m(d: dict[str, Any]) -> None:
        d["edge"]["resilient"] = {"enabled": True, "buckets": 256, "idle_timer": 1.5,
                                  "unbalanced_timer": 30}
    assert problems(m) == []
    nr = load_nornir(DEFAULT)
    nr.inventory.hosts["edge"].data["resilient"] = {"enabled": True}
    assert build_design(nr).hosts["edge"].resilient.buckets == 128


def test_vyos_edge_is_refused_naming_host_field_value() -> None:
    def m(d: dict[str, Any]) -> None:
        d["edge"]["resilient"] = {"enabled": True}
    (p,) = problems(m, VYOS_CURRENT)
    assert (p.host, p.field, p.value, p.severity) == ("edge", "resilient.enabled", True, "error")
    assert "VyOS edges have no resilient nexthop groups" in p.message
    assert "edge: resilient.enabled=True: VyOS" in str(p)


def test_other_roles_are_refused() -> None:
    def m(d: dict[str, Any]) -> None:
        d["server-1"]["resilient"] = {"enabled": True}
        d["isp"]["resilient"] = {"enabled": True}
    found = {(p.host, p.field, p.value) for p in problems(m)}
    assert found == {("server-1", "resilient.enabled", True), ("isp", "resilient.enabled", True)}
    assert all("for edge routers" in p.message for p in problems(m))


@pytest.mark.parametrize(("field", "value", "words"), [
    ("buckets", 0, "1..65535 buckets"),
    ("buckets", 70000, "1..65535 buckets"),
    ("idle_timer", -1, "0..42949673"),
    ("unbalanced_timer", 5e7, "0..42949673"),
])
def test_values_out_of_the_kernels_range(field: str, value: object, words: str) -> None:
    def m(d: dict[str, Any]) -> None:
        d["edge"]["resilient"] = {"enabled": True, field: value}
    (p,) = problems(m)
    assert (p.host, p.field, p.value, p.severity) == ("edge", f"resilient.{field}", value,
                                                      "error")
    assert words in p.message


def test_fewer_buckets_than_paths_is_a_warning() -> None:
    def m(d: dict[str, Any]) -> None:
        d["edge"]["resilient"] = {"enabled": True, "buckets": 1}
    (p,) = problems(m)
    assert (p.field, p.value, p.severity) == ("resilient.buckets", 1, "warning")
    assert "maximum_paths_ibgp 2" in p.message


def test_a_typo_in_the_block_is_a_problem() -> None:
    def m(d: dict[str, Any]) -> None:
        d["edge"]["resilient"] = {"enabled": True, "bukets": 64}
    ps = problems(m)
    assert any(p.host == "edge" and "bukets" in p.field for p in ps), ps
