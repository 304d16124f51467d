"""`lab up --servers N`: an inventory for the seed topology with N servers, in .lab/inventory/.

Starts from an inventory with at least one server (default `inventory/`): the first server is
the template for server-1..N (addresses counted up from the servers' subnet: 10.12.12.1,
10.12.12.2, ...), the edge gets one iBGP neighbor per server and `maximum_paths_ibgp: N`.
Groups, defaults and config are copied unchanged.
"""

from __future__ import annotations

import copy
import ipaddress
import re
import shutil
from pathlib import Path
from typing import Any

import yaml

from nornir_anycast.exceptions import InventoryError, Problem
from nornir_anycast.lab.topology import natural_key
from nornir_anycast.settings import lab_dir

MAX_SERVERS = 200


def generated_dir() -> Path:
    return lab_dir() / "inventory"


def _load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else None
    return data if isinstance(data, dict) else {}


def _roles(base: Path) -> dict[str, str]:
    """Role of each group as the groups file sets it (following parent groups)."""
    groups = _load(base / "groups.yaml")

    def role_of(name: str, depth: int = 0) -> str | None:
        g = groups.get(name) or {}
        role = (g.get("data") or {}).get("role")
        if role or depth > 10:
            return str(role) if role else None
        for parent in g.get("groups") or []:
            found = role_of(parent, depth + 1)
            if found:
                return found
        return None

    return {name: r for name in groups if (r := role_of(name))}


def _host_role(host: dict[str, Any], group_roles: dict[str, str]) -> str | None:
    role = (host.get("data") or {}).get("role")
    if role:
        return str(role)
    for g in host.get("groups") or []:
        if g in group_roles:
            return group_roles[g]
    return None


def scaled_hosts(base: Path, servers: int) -> dict[str, Any]:
    """hosts.yaml content of `base` rewritten for `servers` servers."""
    if not 1 <= servers <= MAX_SERVERS:
        raise InventoryError([Problem("-", "--servers", servers, f"must be 1..{MAX_SERVERS}")])
    hosts = _load(base / "hosts.yaml")
    group_roles = _roles(base)
    server_names = sorted((n for n, h in hosts.items() if _host_role(h, group_roles) == "server"),
                          key=natural_key)
    if not server_names:
        raise InventoryError([Problem("-", "hosts", str(base / "hosts.yaml"),
                                      "no server to use as a template for --servers")])
    template = hosts[server_names[0]]
    tdata = template.get("data") or {}
    itf = next((i for i in tdata.get("interfaces") or [] if i.get("addresses")), None)
    if itf is None:
        raise InventoryError([Problem(server_names[0], "interfaces", None,
                                      "template server has no interface address")])
    first = ipaddress.ip_interface(next(a for a in itf["addresses"] if a != "dhcp"))
    subnet = first.network
    old_addresses: set[str] = set()
    for name in server_names:
        for i in (hosts[name].get("data") or {}).get("interfaces") or []:
            old_addresses.update(str(ipaddress.ip_interface(a).ip)
                                 for a in i.get("addresses") or [] if a != "dhcp")
    others = {n: h for n, h in hosts.items() if n not in server_names}
    taken = {str(ipaddress.ip_interface(a).ip)
             for h in others.values()
             for i in (h.get("data") or {}).get("interfaces") or []
             for a in i.get("addresses") or [] if a != "dhcp"}
    usable = list(subnet.hosts())
    if servers > len(usable) - len(taken & {str(u) for u in usable}):
        raise InventoryError([Problem("-", "--servers", servers,
                                      f"does not fit in the servers' subnet {subnet}")])
    addresses = [a for a in usable if str(a) not in taken][:servers]

    prefix = re.sub(r"\d+$", "", server_names[0])
    hostname_prefix = re.sub(r"\d+$", "", str(template.get("hostname") or f"na-{prefix}"))
    new_servers: dict[str, Any] = {}
    for k, addr in enumerate(addresses, start=1):
        h = copy.deepcopy(template)
        h["hostname"] = f"{hostname_prefix}{k}"
        data = h.setdefault("data", {})
        data["router_id"] = str(addr)
        for i in data.get("interfaces") or []:
            if i is not None and i.get("name") == itf["name"]:
                i["addresses"] = [f"{addr}/{subnet.prefixlen}"]
        new_servers[f"{prefix}{k}"] = h

    # The edge(s): one neighbor per server, maximum-paths raised to the number of servers.
    edge_neighbor = next((n for n in (tdata.get("bgp") or {}).get("neighbors") or []), None)
    for h in others.values():
        if _host_role(h, group_roles) != "edge":
            continue
        bgp = (h.setdefault("data", {})).setdefault("bgp", {})
        neighbors = [n for n in bgp.get("neighbors") or [] if n.get("address") not in old_addresses]
        own = next((str(ipaddress.ip_interface(a).ip)
                    for i in h["data"].get("interfaces") or []
                    for a in i.get("addresses") or []
                    if a != "dhcp" and ipaddress.ip_interface(a).ip in subnet), None)
        if own is None or edge_neighbor is None:
            continue
        remote_as = tdata.get("asn", edge_neighbor.get("remote_as"))
        server_neighbors = [
            {"address": str(addr), "remote_as": remote_as, "update_source": own,
             "description": sname}
            for sname, addr in zip(new_servers, addresses, strict=True)
        ]
        bgp["neighbors"] = server_neighbors + neighbors
        bgp["maximum_paths_ibgp"] = servers

    out: dict[str, Any] = {}
    for name, h in hosts.items():
        if name == server_names[0]:
            out.update(new_servers)
        elif name not in server_names:
            out[name] = h
    return out


def write_scaled_inventory(base: Path, servers: int, dest: Path | None = None) -> Path:
    """Write the inventory for `servers` servers (default .lab/inventory/); returns its path."""
    dest = dest if dest is not None else generated_dir()
    hosts = scaled_hosts(base, servers)
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    for name in ("config.yaml", "groups.yaml", "defaults.yaml"):
        if (base / name).exists():
            shutil.copyfile(base / name, dest / name)
    header = (f"# Generated by `python tasks.py lab up --servers {servers}` from {base}.\n"
              "# Rewritten by each `lab up --servers`; removed by `lab down`.\n")
    (dest / "hosts.yaml").write_text(
        header + yaml.safe_dump(hosts, sort_keys=False, default_flow_style=False),
        encoding="utf-8")
    return dest
