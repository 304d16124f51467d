"""The generated multi-site inventory for tests that need one (the sites drills): as
`lab up --sites S --edges E --servers N` writes it, or its IPv4 half."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import yaml
from lab_fixtures import ROOT

from nornir_anycast.exceptions import InventoryError
from nornir_anycast.inventory.loader import load_nornir
from nornir_anycast.lab.inventory_gen import write_site_inventory


def _v4(text: str) -> bool:
    return ipaddress.ip_interface(text).version == 4


def ipv4_only(inventory: Path) -> None:
    """Drop the IPv6 half of a generated inventory (addresses, gateway6, /128s, IPv6
    neighbours, networks and statics), for a model without i13-ipv6's fields."""
    path = inventory / "hosts.yaml"
    hosts = yaml.safe_load(path.read_text(encoding="utf-8"))
    for h in hosts.values():
        data = h["data"]
        for itf in data.get("interfaces", []):
            itf["addresses"] = [a for a in itf["addresses"] if _v4(a)]
            itf.pop("gateway6", None)
        if "loopback" in data:
            data["loopback"] = [a for a in data["loopback"] if _v4(a)]
        if "anycast" in data:
            data["anycast"] = [a for a in data["anycast"] if _v4(a["prefix"])]
        if "static_routes" in data:
            data["static_routes"] = [r for r in data["static_routes"] if _v4(r["prefix"])]
        bgp = data.get("bgp", {})
        if "networks" in bgp:
            bgp["networks"] = [n for n in bgp["networks"] if _v4(n)]
        if "neighbors" in bgp:
            bgp["neighbors"] = [n for n in bgp["neighbors"] if _v4(n["address"])]
    path.write_text(yaml.safe_dump(hosts, sort_keys=False), encoding="utf-8")


def generated(dest: Path, sites: int = 2, edges: int = 2, servers: int = 2, *,
              ipv4: bool = False) -> Path:
    """The generated inventory (default 2x2x2); IPv4 only with `ipv4`, or when the model
    refuses the full one."""
    inv = write_site_inventory(ROOT / "inventory", sites, edges, servers, dest=dest)
    if ipv4:
        ipv4_only(inv)
        return inv
    try:
        load_nornir(inv).close_connections()
    except InventoryError:
        ipv4_only(inv)
    return inv
