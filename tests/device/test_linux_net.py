"""linux_net.plan: the commands deploy runs to take a host's network state to the inventory's."""

from __future__ import annotations

from paths import ROOT

from nornir_anycast.design.build import build_design
from nornir_anycast.design.model import Design
from nornir_anycast.device.linux_net import NetState, desired_state, plan
from nornir_anycast.inventory.loader import load_nornir

INVENTORY = ROOT / "inventory"


def _design() -> Design:
    return build_design(load_nornir(INVENTORY))


def test_desired_state_of_edge_forwards_and_hashes_on_ports() -> None:
    edge = _design().hosts["edge"]
    want = desired_state(edge)
    assert want.sysctls == {"net.ipv4.ip_forward": "1",
                            "net.ipv4.fib_multipath_hash_policy": "1"}
    assert want.addresses == {"eth0": {"172.16.42.3/31"}, "eth1": {"10.12.12.254/24"}}


def test_desired_state_of_server_has_anycast_on_loopback_and_gateway() -> None:
    server = _design().hosts["server-2"]
    want = desired_state(server)
    assert want.addresses["lo"] == {"10.13.13.1/32"}
    assert want.addresses["eth0"] == {"10.12.12.2/24"}
    assert want.default_gateway == "10.12.12.254"
    assert want.sysctls == {}


def test_fresh_host_gets_every_address_link_and_route() -> None:
    server = _design().hosts["server-1"]
    fresh = NetState(addresses={"eth0": set(), "lo": set()},
                     link_up={"eth0": False, "lo": True})
    cmds = [c.command for c in plan(desired_state(server), fresh)]
    assert cmds == [
        "ip link set dev eth0 up",
        "ip addr add 10.12.12.1/24 dev eth0",
        "ip addr add 10.13.13.1/32 dev lo",
        "ip route replace default via 10.12.12.254",
    ]


def test_host_in_desired_state_needs_nothing() -> None:
    server = _design().hosts["server-1"]
    want = desired_state(server)
    have = NetState(addresses={k: set(v) for k, v in want.addresses.items()},
                    link_up=dict(want.link_up), default_gateway="10.12.12.254")
    assert plan(want, have) == []


def test_stray_address_is_removed_and_sysctl_fixed() -> None:
    edge = _design().hosts["edge"]
    want = desired_state(edge)
    have = NetState(addresses={"eth0": {"172.16.42.3/31", "192.0.2.9/24"},
                               "eth1": {"10.12.12.254/24"}},
                    link_up={"eth0": True, "eth1": True},
                    sysctls={"net.ipv4.ip_forward": "1",
                             "net.ipv4.fib_multipath_hash_policy": "0"})
    changes = plan(want, have)
    assert [c.command for c in changes] == [
        "sysctl -qw net.ipv4.fib_multipath_hash_policy=1",
        "ip addr del 192.0.2.9/24 dev eth0",
    ]
    assert changes[0].diff == "~ sysctl net.ipv4.fib_multipath_hash_policy = 1 (was 0)"


def test_missing_interface_is_reported_not_invented() -> None:
    edge = _design().hosts["edge"]
    have = NetState(addresses={"eth1": {"10.12.12.254/24"}}, link_up={"eth1": True},
                    sysctls={"net.ipv4.ip_forward": "1",
                             "net.ipv4.fib_multipath_hash_policy": "1"})
    changes = plan(desired_state(edge), have)
    assert [c.diff for c in changes] == ["! interface eth0 does not exist"]
