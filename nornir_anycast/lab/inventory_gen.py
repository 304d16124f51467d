"""Generated lab inventories, written to .lab/inventory/ (.lab-<prefix>/inventory/).

`lab up --servers N` (alone): the base inventory's topology with N servers (below).
`lab up --sites S --edges E --servers N`: S sites of E edges and N servers each, an upstream
router and a client per site (site_hosts, at the end of this module; the address plan is
SitePlan's, documented in docs/lab.md).

`--servers N` alone:

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
from dataclasses import dataclass
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


# --- `lab up --sites S --edges E --servers N`: the generated multi-site lab ---------------------
#
# Names and addresses: /work/coord/SCHEMA13.md "Generated lab", docs/lab.md. IPv6 addresses are
# the IPv4 ones "in the same digits" (10.12.12.254 -> fd00:12:1::254), compressed as ipaddress
# writes them (fd00:10:0:0::254 -> fd00:10::254).

MAX_SITES = 8  # site k: 10.12.(11+k).0/24 and 172.16.(41+k).0/24 links; 8 keeps them in 10.12.12-19
MAX_EDGES = 4  # edge e: .(255-e) on the servers' LAN, 172.16.(41+k).(2e)/31 to the upstream
SITE_ASN = 65500
UPSTREAM_ASN = 65000
ANYCAST_V4 = "10.13.13.1/32"
ANYCAST_V6 = "fd00:13::1/128"
#: Groups the generated hosts use; the base inventory's groups.yaml must define them.
SITE_GROUPS = ("isp", "edge", "servers", "clients", "frr", "linux")


def _v6(text: str) -> str:
    """`text` (an IPv6 address or interface) as ipaddress compresses it."""
    return str(ipaddress.ip_interface(text)) if "/" in text else str(ipaddress.ip_address(text))


@dataclass(frozen=True)
class SitePlan:
    """The address plan of one generated lab: every address is a function of k, e, n."""

    sites: int
    edges: int
    servers: int
    #: Graceful restart on the server sessions, both ends (`lab up --no-graceful-restart`
    #: leaves it off: a crashed server is then dropped at BFD speed, see docs/drills.md).
    graceful_restart: bool = True

    # Site k's servers' LAN (one bridge): server n .n / ::n, edge e .(255-e) / ::(255-e).
    def lan_v4(self, k: int, last: int) -> str:
        return f"10.12.{11 + k}.{last}"

    def lan_v6(self, k: int, last: int) -> str:
        return _v6(f"fd00:12:{k}::{last}")

    def server_v4(self, k: int, n: int) -> str:
        return self.lan_v4(k, n)

    def server_v6(self, k: int, n: int) -> str:
        return self.lan_v6(k, n)

    def edge_lan_v4(self, k: int, e: int) -> str:
        return self.lan_v4(k, 255 - e)

    def edge_lan_v6(self, k: int, e: int) -> str:
        return self.lan_v6(k, 255 - e)

    # Edge e of site k <-> upstream-k: a /31 (/127), upstream side even, edge side odd.
    def link_v4(self, k: int, e: int, edge_side: bool) -> str:
        return f"172.16.{41 + k}.{2 * e + int(edge_side)}"

    def link_v6(self, k: int, e: int, edge_side: bool) -> str:
        return _v6(f"fd00:172:16:{41 + k}::{2 * e + int(edge_side)}")

    # The upstreams' "Internet": one segment, upstream-k .k / ::k.
    def internet_v4(self, k: int) -> str:
        return f"172.16.0.{k}"

    def internet_v6(self, k: int) -> str:
        return _v6(f"fd00:172:16::{k}")

    # client-k's LAN behind upstream-k: upstream .254, client .1 and .2.
    def client_v4(self, k: int, last: int) -> str:
        return f"10.0.{k - 1}.{last}"

    def client_v6(self, k: int, last: int) -> str:
        return _v6(f"fd00:10:0:{k - 1}::{last}")

    def site_asn(self, k: int) -> int:
        return SITE_ASN + k - 1

    def upstream_asn(self, k: int) -> int:
        return UPSTREAM_ASN + k - 1


def check_site_counts(sites: int, edges: int, servers: int) -> None:
    """InventoryError naming each option whose value the address plan cannot hold."""
    problems = []
    for option, value, top, why in (
            ("--sites", sites, MAX_SITES, "one 10.12.(11+k).0/24 servers' LAN per site"),
            ("--edges", edges, MAX_EDGES, "edges take .254 down to .(255-E) of the servers' LAN"),
            ("--servers", servers, MAX_SERVERS, "servers take .1 up to .N of the servers' LAN")):
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= top:
            problems.append(Problem("-", option, value, f"must be 1..{top} ({why})"))
    if problems:
        raise InventoryError(problems)


def site_name(k: int) -> str:
    return f"s{k}"


def site_group(k: int) -> str:
    return f"site-{site_name(k)}"


def _nb(address: str, remote_as: int, description: str,
        update_source: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"address": address, "remote_as": remote_as}
    if update_source is not None:
        out["update_source"] = update_source
    out["description"] = description
    return out


def _upstream(p: SitePlan, k: int) -> dict[str, Any]:
    name = f"upstream-{k}"
    interfaces: list[dict[str, Any]] = []
    if p.sites > 1:
        interfaces.append({"name": "eth0", "addresses": [f"{p.internet_v4(k)}/24",
                                                         f"{p.internet_v6(k)}/64"]})
    interfaces.append({"name": "eth1", "addresses": [f"{p.client_v4(k, 254)}/24",
                                                     f"{p.client_v6(k, 254)}/64"]})
    for e in range(1, p.edges + 1):
        interfaces.append({"name": f"eth{1 + e}",
                           "addresses": [f"{p.link_v4(k, e, False)}/31",
                                         f"{p.link_v6(k, e, False)}/127"]})
    edges4 = [_nb(p.link_v4(k, e, True), p.site_asn(k), f"s{k}-edge-{e}", p.link_v4(k, e, False))
              for e in range(1, p.edges + 1)]
    edges6 = [_nb(p.link_v6(k, e, True), p.site_asn(k), f"s{k}-edge-{e}", p.link_v6(k, e, False))
              for e in range(1, p.edges + 1)]
    others = [j for j in range(1, p.sites + 1) if j != k]
    mesh4 = [_nb(p.internet_v4(j), p.upstream_asn(j), f"upstream-{j}", p.internet_v4(k))
             for j in others]
    mesh6 = [_nb(p.internet_v6(j), p.upstream_asn(j), f"upstream-{j}", p.internet_v6(k))
             for j in others]
    bgp: dict[str, Any] = {
        "networks": ["0.0.0.0/0", "::/0", str(ipaddress.ip_network(f"{p.client_v4(k, 0)}/24")),
                     str(ipaddress.ip_network(f"{p.client_v6(k, 0)}/64"))],
    }
    if p.edges > 1:
        bgp["maximum_paths"] = p.edges  # eBGP multipath over the site's edges
    # On every eBGP session (edges and the other upstreams): a site's withdrawal reaches the
    # other upstreams at once, not after an advertisement interval (site-down target: 1 s).
    bgp["advertisement_interval"] = 0
    bgp["neighbors"] = edges4 + mesh4 + edges6 + mesh6
    return {
        "hostname": f"na-{name}",
        "groups": ["isp", "frr", site_group(k)],
        "data": {
            "asn": p.upstream_asn(k),
            "router_id": p.link_v4(k, 1, False),
            "interfaces": interfaces,
            # The lab has no Internet: the upstream's default routes go nowhere.
            "static_routes": [{"prefix": "0.0.0.0/0", "blackhole": True},
                              {"prefix": "::/0", "blackhole": True}],
            "bgp": bgp,
        },
    }


def _edge(p: SitePlan, k: int, e: int) -> dict[str, Any]:
    lan4, lan6 = p.edge_lan_v4(k, e), p.edge_lan_v6(k, e)
    up4, up6 = p.link_v4(k, e, True), p.link_v6(k, e, True)
    servers = range(1, p.servers + 1)
    neighbors = (
        [_nb(p.server_v4(k, n), p.site_asn(k), f"s{k}-server-{n}", lan4) for n in servers]
        + [_nb(p.link_v4(k, e, False), p.upstream_asn(k), f"upstream-{k}", up4)]
        + [_nb(p.server_v6(k, n), p.site_asn(k), f"s{k}-server-{n}", lan6) for n in servers]
        + [_nb(p.link_v6(k, e, False), p.upstream_asn(k), f"upstream-{k}", up6)])
    return {
        "hostname": f"na-s{k}-edge-{e}",
        "groups": ["edge", "frr", site_group(k)],
        "data": {
            "asn": p.site_asn(k),
            "router_id": up4,
            "interfaces": [
                {"name": "eth0", "addresses": [f"{up4}/31", f"{up6}/127"]},
                {"name": "eth1", "addresses": [f"{lan4}/24", f"{lan6}/64"]},
            ],
            "bgp": {
                "maximum_paths_ibgp": p.servers,
                "advertisement_interval": 0,
                # Graceful restart on both ends of the server sessions (edges and servers): a
                # server's BIRD restarted as for an upgrade keeps its path (restart drill).
                **({"graceful_restart": True} if p.graceful_restart else {}),
                "neighbors": neighbors,
            },
        },
    }


def _server(p: SitePlan, k: int, n: int) -> dict[str, Any]:
    edges = range(1, p.edges + 1)
    gw4 = [p.edge_lan_v4(k, e) for e in edges]
    gw6 = [p.edge_lan_v6(k, e) for e in edges]
    itf: dict[str, Any] = {
        "name": "eth0",
        "addresses": [f"{p.server_v4(k, n)}/24", f"{p.server_v6(k, n)}/64"],
        # One edge: one gateway, as the seed; several: one per edge (BIRD's multipath default
        # with BFD drops a dead edge, SCHEMA13 "Servers with several edges").
        "gateway": gw4[0] if p.edges == 1 else gw4,
        "gateway6": gw6[0] if p.edges == 1 else gw6,
    }
    neighbors = ([_nb(p.edge_lan_v4(k, e), p.site_asn(k), f"s{k}-edge-{e}") for e in edges]
                 + [_nb(p.edge_lan_v6(k, e), p.site_asn(k), f"s{k}-edge-{e}") for e in edges])
    return {
        "hostname": f"na-s{k}-server-{n}",
        "groups": ["servers", "linux", site_group(k)],
        "data": {
            "asn": p.site_asn(k),
            "router_id": p.server_v4(k, n),
            "interfaces": [itf],
            "loopback": [ANYCAST_V4, ANYCAST_V6],
            "anycast": [{"prefix": ANYCAST_V4}, {"prefix": ANYCAST_V6}],
            "local_pref": 100,
            "bgp": {**({"graceful_restart": True} if p.graceful_restart else {}),
                    "neighbors": neighbors},
        },
    }


def _client(p: SitePlan, k: int) -> dict[str, Any]:
    return {
        "hostname": f"na-client-{k}",
        "groups": ["clients", "linux", site_group(k)],
        "data": {
            "interfaces": [{
                "name": "eth0",
                "addresses": [f"{p.client_v4(k, 1)}/24", f"{p.client_v4(k, 2)}/24",
                              f"{p.client_v6(k, 1)}/64", f"{p.client_v6(k, 2)}/64"],
                "gateway": p.client_v4(k, 254),
                "gateway6": p.client_v6(k, 254),
            }],
        },
    }


def site_hosts(sites: int, edges: int, servers: int, *,
               graceful_restart: bool = True) -> dict[str, Any]:
    """hosts.yaml content of the generated lab: upstream-1..S, then per site its edges and
    servers, then client-1..S (graceful restart on the server sessions unless told not)."""
    check_site_counts(sites, edges, servers)
    p = SitePlan(sites, edges, servers, graceful_restart)
    out: dict[str, Any] = {}
    for k in range(1, sites + 1):
        out[f"upstream-{k}"] = _upstream(p, k)
    for k in range(1, sites + 1):
        for e in range(1, edges + 1):
            out[f"s{k}-edge-{e}"] = _edge(p, k, e)
        for n in range(1, servers + 1):
            out[f"s{k}-server-{n}"] = _server(p, k, n)
    for k in range(1, sites + 1):
        out[f"client-{k}"] = _client(p, k)
    return out


def site_groups(sites: int) -> dict[str, Any]:
    """The per-site groups: `site-sK` carrying `site: sK`."""
    return {site_group(k): {"data": {"site": site_name(k)}} for k in range(1, sites + 1)}


def write_site_inventory(base: Path, sites: int, edges: int, servers: int,
                         dest: Path | None = None, *, graceful_restart: bool = True) -> Path:
    """Write the inventory of `sites` x `edges` x `servers` (default .lab/inventory/), with
    config, defaults and groups from `base` (which decides the lab kind: `lab_image`) plus the
    site groups; returns its path."""
    dest = dest if dest is not None else generated_dir()
    hosts = site_hosts(sites, edges, servers, graceful_restart=graceful_restart)
    groups_text = (base / "groups.yaml").read_text(encoding="utf-8") \
        if (base / "groups.yaml").exists() else ""
    groups = yaml.safe_load(groups_text) or {}
    missing = [g for g in SITE_GROUPS if not isinstance(groups, dict) or g not in groups]
    if missing:
        raise InventoryError([Problem("-", "groups", str(base / "groups.yaml"),
                                      f"the generated lab needs the groups {', '.join(missing)}")])
    taken = [g for g in site_groups(sites) if g in groups]
    if taken:
        raise InventoryError([Problem("-", "groups", ", ".join(taken),
                                      "site groups are generated: remove them from the base")])
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    for name in ("config.yaml", "defaults.yaml"):
        if (base / name).exists():
            shutil.copyfile(base / name, dest / name)
    command = (f"python tasks.py lab up --sites {sites} --edges {edges} --servers {servers}"
               + ("" if graceful_restart else " --no-graceful-restart"))
    (dest / "groups.yaml").write_text(
        groups_text.rstrip("\n") + "\n\n# One group per site (generated by `lab up --sites`).\n"
        + yaml.safe_dump(site_groups(sites), sort_keys=False, default_flow_style=False),
        encoding="utf-8")
    header = (f"# Generated by `{command}` from {base}.\n"
              "# Rewritten by each `lab up --sites/--edges/--servers`; removed by `lab down`.\n")
    (dest / "hosts.yaml").write_text(
        header + yaml.safe_dump(hosts, sort_keys=False, default_flow_style=False),
        encoding="utf-8")
    return dest
