"""IPv6 in the model and its validation (docs/ipv6.md): the dual-stack test inventory validates
clean, each family's ECMP set comes from its own sessions, and each IPv6 rule reports host,
field and value in words."""

from __future__ import annotations

from typing import Any

import pytest
from paths import ROOT

from nornir_anycast.design.build import build_design
from nornir_anycast.design.validation import validate
from nornir_anycast.exceptions import InventoryError, Problem
from nornir_anycast.inventory.loader import load_nornir

DUAL = "tests/inventories/dual-stack"


def problems(mutate: Any = None, inventory: str = DUAL,
             severity: str = "error") -> list[Problem]:
    nr = load_nornir(ROOT / inventory, validate=False)
    if mutate is not None:
        mutate({name: host.data for name, host in nr.inventory.hosts.items()})
    try:
        design = build_design(nr)
    except InventoryError as exc:
        return exc.problems
    return [p for p in validate(design) if p.severity == severity]


def one(found: list[Problem], host: str, field: str, *words: str) -> Problem:
    listing = "; ".join(map(str, found)) or "no problems"
    hit = [p for p in found if p.host == host and p.field == field
           and all(w in p.message for w in words)]
    assert len(hit) == 1, f"{host} {field} {words}: {listing}"
    return hit[0]


def test_dual_stack_inventory_is_clean() -> None:
    assert problems() == []
    assert problems(severity="warning") == []


def test_each_family_has_its_own_ecmp_set_over_its_own_sessions() -> None:
    design = build_design(load_nornir(ROOT / DUAL))
    by_prefix = {s.prefix: s for s in design.services}
    assert sorted(by_prefix) == ["10.13.13.1/32", "fd00:13::1/128"]
    assert [(p.host, p.next_hop) for p in by_prefix["10.13.13.1/32"].ecmp] == [
        ("server-1", "10.12.12.1"), ("server-2", "10.12.12.2")]
    assert [(p.host, p.next_hop) for p in by_prefix["fd00:13::1/128"].ecmp] == [
        ("server-1", "fd00:12:1::1"), ("server-2", "fd00:12:1::2")]
    assert all(not s.backups for s in design.services)


def test_the_model_takes_gateway6_and_ipv6_healthcheck_settings() -> None:
    design = build_design(load_nornir(ROOT / DUAL))
    s1 = design.hosts["server-1"]
    assert s1.interfaces[0].gateway6 == "fd00:12:1::254"
    assert (s1.healthcheck.variable6, s1.healthcheck.dummy_prefix6) == (
        "ACAST6_PS_ADVERTISE", "2001:db8::1/128")
    assert s1.paths.healthchecker_include6 == "/etc/bird/anycast-prefixes6.conf"


def test_ipv6_neighbor_off_every_ipv6_subnet() -> None:
    def mutate(data: dict[str, Any]) -> None:
        data["edge"]["bgp"]["neighbors"][3]["address"] = "fd00:99::1"

    p = one(problems(mutate), "edge", "bgp.neighbors.3.address", "not on any IPv6 subnet")
    assert p.value == "fd00:99::1"
    assert "fd00:172:16:42::2/127, fd00:12:1::/64" in p.message


def test_ipv6_neighbor_of_a_host_without_ipv6_names_none() -> None:
    def mutate(data: dict[str, Any]) -> None:
        data["server-1"]["interfaces"][0]["addresses"] = ["10.12.12.1/24"]
        data["server-1"]["interfaces"][0].pop("gateway6")

    p = one(problems(mutate), "server-1", "bgp.neighbors.1.address", "not on any IPv6 subnet")
    assert "(its IPv6 subnets: none)" in p.message


def test_anycast_128_without_its_loopback() -> None:
    def mutate(data: dict[str, Any]) -> None:
        data["server-2"]["loopback"] = ["10.13.13.1/32"]

    p = one(problems(mutate), "server-2", "anycast.1.prefix", "not on the loopback")
    assert p.value == "fd00:13::1/128"
    assert "fd00:13::1 is not on the loopback (loopback has 10.13.13.1/32)" in p.message


def test_gateway6_outside_the_interfaces_ipv6_subnets() -> None:
    def mutate(data: dict[str, Any]) -> None:
        data["server-1"]["interfaces"][0]["gateway6"] = "fd00:12:2::254"

    p = one(problems(mutate), "server-1", "interfaces.0.gateway6", "outside the IPv6 subnets")
    assert p.value == "fd00:12:2::254" and "(fd00:12:1::/64)" in p.message


@pytest.mark.parametrize(("value", "words"), [
    ("10.12.12.254", "not an IPv6 address"),
    ("fd00:12:1::1", "own address"),
])
def test_gateway6_not_ipv6_or_own(value: str, words: str) -> None:
    def mutate(data: dict[str, Any]) -> None:
        data["server-1"]["interfaces"][0]["gateway6"] = value

    one(problems(mutate), "server-1", "interfaces.0.gateway6", words)


def test_gateway6_without_an_ipv6_address_and_gateway_of_the_wrong_family() -> None:
    def mutate(data: dict[str, Any]) -> None:
        data["client"]["interfaces"][0]["addresses"] = ["10.0.0.1/24", "10.0.0.2/24"]
        data["server-1"]["interfaces"][0]["gateway"] = "fd00:12:1::254"

    found = problems(mutate)
    one(found, "client", "interfaces.0.gateway6", "no static IPv6 address")
    one(found, "server-1", "interfaces.0.gateway", "is an IPv6 address", "gateway6")


def test_ipv6_anycast_without_an_ipv6_session() -> None:
    def mutate(data: dict[str, Any]) -> None:
        data["server-1"]["bgp"]["neighbors"] = data["server-1"]["bgp"]["neighbors"][:1]

    p = one(problems(mutate), "server-1", "anycast.1.prefix", "no IPv6 BGP neighbor")
    assert p.value == "fd00:13::1/128"


def test_one_family_only_in_a_dual_stack_service_warns() -> None:
    def mutate(data: dict[str, Any]) -> None:
        data["server-2"]["anycast"] = [{"prefix": "10.13.13.1/32"}]

    warnings = problems(mutate, severity="warning")
    p = one(warnings, "server-2", "anycast", "IPv4 anycast prefixes only", "dual-stack")
    assert p.value == ["10.13.13.1/32"]
    assert "server-1 announces IPv4 and IPv6" in p.message
    assert "IPv6 clients are never sent to server-2" in p.message
    assert [w for w in warnings if w.host == "server-1"] == []


def test_ipv4_only_designs_do_not_warn_about_dual_stack() -> None:
    assert [p for p in problems(inventory="inventory", severity="warning")
            if "dual-stack" in p.message] == []


def test_ipv6_dnat_is_refused_on_every_platform() -> None:
    def frr(data: dict[str, Any]) -> None:
        data["edge"]["nat"] = {"destination": [{
            "rule": 10, "destination_address": "fd00:13::1", "destination_port": 80,
            "translation_address": "fd00:12:1::1"}]}

    found = problems(frr)
    one(found, "edge", "nat.destination.0.destination_address", "IPv4 only")

    def vyos(data: dict[str, Any]) -> None:
        data["edge"]["nat"]["destination"][0]["destination_address"] = "2001:db8::80"

    p = one(problems(vyos, inventory="inventory/vyos-seed-dnat"), "edge",
            "nat.destination.0.destination_address", "destination NAT is IPv4 only")
    assert p.value == "2001:db8::80"


def test_vyos_refuses_ipv6_bgp_with_a_clear_message() -> None:
    def mutate(data: dict[str, Any]) -> None:
        data["edge"]["bgp"]["networks"] = ["::/0"]

    p = one(problems(mutate, inventory="inventory/vyos-seed"), "edge", "bgp.networks.0",
            "VyOS templates render IPv4 unicast only", "use platform frr")
    assert p.value == "::/0"


def test_bird1_refuses_ipv6_anycast() -> None:
    def mutate(data: dict[str, Any]) -> None:
        data["server-1"]["bird_version"] = 1
        data["server-1"]["healthcheck"] = {"enabled": False}

    one(problems(mutate), "server-1", "anycast.1.prefix", "bird_version 1 announces IPv4 only")


@pytest.mark.parametrize(("key", "value", "field", "words"), [
    ("dummy_prefix6", "10.189.200.254/32", "healthcheck.dummy_prefix6", "IPv6 prefix"),
    ("dummy_prefix6", "fd00:13::1/128", "healthcheck.dummy_prefix6", "is an anycast prefix"),
    ("variable6", "ACAST_PS_ADVERTISE", "healthcheck.variable6", "a name of its own"),
    ("variable6", "6BAD", "healthcheck.variable6", "BIRD name"),
])
def test_ipv6_healthcheck_settings(key: str, value: str, field: str, words: str) -> None:
    def mutate(data: dict[str, Any]) -> None:
        data["server-1"]["healthcheck"] = {
            "enabled": True, "binary": "/usr/local/bin/anycast-healthchecker", key: value}

    one(problems(mutate), "server-1", field, words)


def test_ipv6_include_must_be_a_file_of_its_own() -> None:
    def mutate(data: dict[str, Any]) -> None:
        data["server-1"]["paths"] = {"healthchecker_include6": "/etc/bird/anycast-prefixes.conf",
                                     "healthchecker_include": "/etc/bird/anycast-prefixes.conf"}

    one(problems(mutate), "server-1", "paths.healthchecker_include6", "file of its own")


def test_gateway6_list_one_per_edge_each_checked() -> None:
    def mutate(data: dict[str, Any]) -> None:
        data["server-1"]["interfaces"][0]["gateway6"] = ["fd00:12:1::254", "fd00:12:9::253"]

    found = problems(mutate)
    p = one(found, "server-1", "interfaces.0.gateway6.1", "outside the IPv6 subnets")
    assert p.value == "fd00:12:9::253"
    assert not [q for q in found if q.field == "interfaces.0.gateway6.0"]


def test_single_gateway6_only_when_there_is_one() -> None:
    from nornir_anycast.design.model import Interface

    assert Interface(name="eth0", gateway6="fd00::1").single_gateway6 == "fd00::1"
    assert Interface(name="eth0", gateway6=["fd00::1"]).single_gateway6 == "fd00::1"
    two = Interface(name="eth0", gateway6=["fd00::1", "fd00::2"])
    assert two.single_gateway6 is None and two.gateways6() == ["fd00::1", "fd00::2"]
    assert Interface(name="eth0").gateways6() == []
