"""Lab topology from the inventory, and `--servers N` inventories (no root needed).

Namespace names follow $NORNIR_ANYCAST_LAB_PREFIX (default na) like every command: the
inventories say `na-isp`, the topology `<prefix>-isp`.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from paths import ROOT

from nornir_anycast.design.build import build_design
from nornir_anycast.exceptions import InventoryError
from nornir_anycast.inventory.loader import load_nornir
from nornir_anycast.lab.inventory_gen import scaled_hosts, write_scaled_inventory
from nornir_anycast.lab.prefix import lab_prefix
from nornir_anycast.lab.topology import Port, load_topology

INVENTORY = ROOT / "inventory"


def test_default_inventory_gives_the_seed_topology() -> None:
    topo = load_topology(INVENTORY)
    p = lab_prefix()
    assert {h: t.netns for h, t in topo.hosts.items()} == {
        "isp": f"{p}-isp", "edge": f"{p}-edge", "server-1": f"{p}-server-1",
        "server-2": f"{p}-server-2", "client": f"{p}-client"}
    assert [h for h, t in topo.hosts.items() if t.runs_frr] == ["isp", "edge"]
    by_net = {s.networks: s for s in topo.segments}
    assert set(by_net) == {("10.0.0.0/24",), ("10.12.12.0/24",), ("172.16.42.2/31",)}
    client_lan = by_net[("10.0.0.0/24",)]
    assert client_lan.switch is None
    assert set(client_lan.ports) == {Port("client", f"{p}-client", "eth0"),
                                     Port("isp", f"{p}-isp", "eth1")}
    uplink = by_net[("172.16.42.2/31",)]
    assert uplink.switch is None
    assert set(uplink.ports) == {Port("isp", f"{p}-isp", "eth2"),
                                 Port("edge", f"{p}-edge", "eth0")}
    lan = by_net[("10.12.12.0/24",)]
    assert lan.switch == f"{p}-sw-1"
    assert [p.host for p in lan.ports] == ["edge", "server-1", "server-2"]
    assert [lan.switch_port(p) for p in lan.ports] == ["edge", "server-1", "server-2"]
    assert topo.namespaces == [f"{p}-{n}" for n in ("isp", "edge", "server-1", "server-2",
                                                    "client", "sw-1")]


def _copy_inventory(tmp_path: Path) -> Path:
    dest = tmp_path / "inv"
    shutil.copytree(INVENTORY, dest, ignore=shutil.ignore_patterns("vyos-*"))
    return dest


def _edit_hosts(inv: Path, host: str, **changes: object) -> None:
    hosts = yaml.safe_load((inv / "hosts.yaml").read_text())
    hosts[host].update(changes)
    (inv / "hosts.yaml").write_text(yaml.safe_dump(hosts, sort_keys=False))


@pytest.mark.parametrize(("host", "changes", "field", "value"), [
    ("edge", {"hostname": "edge"}, "hostname", "edge"),
    ("server-2", {"hostname": "na-server-1"}, "hostname", "{p}-server-1"),
    ("client", {"hostname": "na-sw-1"}, "hostname", "{p}-sw-1"),
])
def test_unusable_hostnames_are_named(tmp_path: Path, host: str, changes: dict[str, object],
                                      field: str, value: str) -> None:
    inv = _copy_inventory(tmp_path)
    _edit_hosts(inv, host, **changes)
    with pytest.raises(InventoryError) as err:
        load_topology(inv)
    value = value.format(p=lab_prefix())  # the namespace name it would get
    assert any(p.host == host and p.field == field and p.value == value
               for p in err.value.problems), err.value


def test_non_lab_inventory_is_refused() -> None:
    with pytest.raises(InventoryError) as err:
        load_topology(INVENTORY / "vyos-seed")
    assert any(p.field == "lab" for p in err.value.problems), err.value


def test_servers_16_inventory(tmp_path: Path) -> None:
    inv = write_scaled_inventory(INVENTORY, 16, dest=tmp_path / "inv16")
    assert sorted(p.name for p in inv.iterdir()) == ["config.yaml", "defaults.yaml",
                                                     "groups.yaml", "hosts.yaml"]
    nr = load_nornir(inv)
    design = build_design(nr)
    servers = [h for h in design.hosts.values() if h.role == "server"]
    assert [s.name for s in servers] == [f"server-{k}" for k in range(1, 17)]
    assert [str(s.addresses()[0]) for s in servers] == [f"10.12.12.{k}" for k in range(1, 17)]
    assert [s.hostname for s in servers] == [f"{lab_prefix()}-server-{k}" for k in range(1, 17)]
    edge = design.hosts["edge"]
    assert edge.bgp.maximum_paths_ibgp == 16
    assert [n.address for n in edge.bgp.neighbors] == (
        [f"10.12.12.{k}" for k in range(1, 17)] + ["172.16.42.2"])
    (service,) = design.services
    assert len(service.ecmp) == 16
    topo = load_topology(inv)
    (lan,) = [s for s in topo.segments if s.switch]
    assert len(lan.ports) == 17


def test_servers_count_is_checked() -> None:
    for bad in (0, 201):
        with pytest.raises(InventoryError) as err:
            scaled_hosts(INVENTORY, bad)
        assert err.value.problems[0].field == "--servers"
        assert err.value.problems[0].value == bad
