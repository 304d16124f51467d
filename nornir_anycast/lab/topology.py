"""The lab's topology, derived from the inventory: one namespace per host, links by subnet.

Interfaces whose static addresses share a subnet are on the same segment. A segment of exactly
two interfaces is a veth pair; any other segment (the servers' LAN: edge + N servers) is a
bridge living in a namespace of its own, `<prefix>-sw-<n>`, so no lab interface is ever in the
machine's own namespace. Host namespaces are named after the inventory's `hostname` field,
which must start with `na-` (`<prefix>-` at run time: nornir_anycast.lab.prefix).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from pathlib import Path

from nornir_anycast.design.build import build_design
from nornir_anycast.design.model import Design, HostModel
from nornir_anycast.exceptions import InventoryError, Problem
from nornir_anycast.inventory.loader import load_nornir
from nornir_anycast.lab.images import IMAGES
from nornir_anycast.lab.prefix import ns_prefix, switch_prefix

_NETNS_REST = re.compile(r"^[a-z0-9][a-z0-9-]{0,40}$")
_IFNAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,15}$")


@dataclass(frozen=True)
class LabHost:
    """One lab host: its inventory name, namespace, role and platform."""

    name: str
    netns: str
    role: str
    platform: str
    interfaces: tuple[str, ...]
    #: The image the host boots from (nornir_anycast.lab.images: a systemd-nspawn container,
    #: inventory `lab_image`); None: the namespace kind (the machine's own binaries).
    image: str | None = None

    @property
    def runs_frr(self) -> bool:
        """Routers run FRR from `lab up` on (with an empty configuration)."""
        return self.platform == "frr"

    @property
    def user(self) -> str:
        """Who logs in over SSH: root on the namespace kind, the operator account on images."""
        return "root" if self.image is None else "ops"


@dataclass(frozen=True)
class Port:
    """One interface on a segment."""

    host: str
    netns: str
    ifname: str


@dataclass(frozen=True)
class Segment:
    """Interfaces sharing a subnet. `switch` is the bridge's namespace, None for a veth pair."""

    networks: tuple[str, ...]
    ports: tuple[Port, ...]
    switch: str | None

    def switch_port(self, port: Port) -> str:
        """Name of the bridge port (in the switch namespace) that `port` plugs into."""
        names = [p.host for p in self.ports]
        if len(port.host) <= 15 and names.count(port.host) == 1:
            return port.host
        return f"p{self.ports.index(port)}"


@dataclass(frozen=True)
class Topology:
    """Hosts and segments of one lab."""

    hosts: dict[str, LabHost]
    segments: tuple[Segment, ...]

    @property
    def switches(self) -> list[str]:
        return [s.switch for s in self.segments if s.switch is not None]

    @property
    def namespaces(self) -> list[str]:
        """Every namespace of the lab: hosts, then switches."""
        return [h.netns for h in self.hosts.values()] + self.switches

    def host(self, name: str) -> LabHost:
        """A host by inventory name or namespace name; LabError-free KeyError otherwise."""
        if name in self.hosts:
            return self.hosts[name]
        for h in self.hosts.values():
            if h.netns == name:
                return h
        raise KeyError(name)


def natural_key(name: str) -> tuple[str | int, ...]:
    """Sort key putting server-2 before server-10."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name))


def _check_host(h: HostModel) -> list[Problem]:
    problems = []
    if not h.lab:
        problems.append(Problem(h.name, "lab", h.lab, "not a lab host (set `lab: true`)"))
    prefix = ns_prefix()
    if h.hostname is None or not h.hostname.startswith(prefix) \
            or not _NETNS_REST.match(h.hostname[len(prefix):]):
        problems.append(Problem(h.name, "hostname", h.hostname,
                                "lab hosts need a hostname like na-<name> (lowercase, digits, -)"))
    elif h.hostname.startswith(switch_prefix()):
        problems.append(Problem(h.name, "hostname", h.hostname,
                                f"{switch_prefix()}* is reserved for the lab's switches"))
    if h.lab_image is not None and h.lab_image not in IMAGES:
        problems.append(Problem(h.name, "lab_image", h.lab_image,
                                f"no such lab image; images: {', '.join(IMAGES)}"))
    seen: set[str] = set()
    for itf in h.interfaces:
        if not _IFNAME_RE.match(itf.name) or itf.name == "lo":
            problems.append(Problem(h.name, "interfaces.name", itf.name,
                                    "not a usable Linux interface name (1-15 chars, not lo)"))
        if itf.name in seen:
            problems.append(Problem(h.name, "interfaces.name", itf.name, "duplicate interface"))
        seen.add(itf.name)
    return problems


def topology_from_design(design: Design) -> Topology:
    """Hosts and segments for the lab; InventoryError names host, field and value when unusable."""
    problems: list[Problem] = []
    for h in design.hosts.values():
        problems.extend(_check_host(h))
    netns_owner: dict[str, str] = {}
    for h in design.hosts.values():
        if h.hostname and h.hostname in netns_owner:
            problems.append(Problem(h.name, "hostname", h.hostname,
                                    f"same namespace as host {netns_owner[h.hostname]}"))
        netns_owner.setdefault(h.hostname or "", h.name)
    if problems:
        raise InventoryError(problems)

    # Union of interfaces by shared subnet (an interface with several subnets joins them).
    ports: list[Port] = []
    nets_of: list[set[str]] = []
    for h in sorted(design.hosts.values(), key=lambda x: natural_key(x.name)):
        for itf in h.interfaces:
            nets = {str(i.network) for i in itf.interfaces()}
            if nets:
                ports.append(Port(host=h.name, netns=h.hostname or "", ifname=itf.name))
                nets_of.append(nets)
    groups: list[tuple[set[str], list[Port]]] = []
    for port, nets in zip(ports, nets_of, strict=True):
        joined = [g for g in groups if g[0] & nets]
        merged_nets, merged_ports = set(nets), [port]
        for g in joined:
            merged_nets |= g[0]
            merged_ports = g[1] + merged_ports
            groups.remove(g)
        groups.append((merged_nets, merged_ports))

    def sort_key(g: tuple[set[str], list[Port]]) -> tuple[int, int, int]:
        nets = [ipaddress.ip_network(n) for n in g[0]]
        return min((n.version, int(n.network_address), n.prefixlen) for n in nets)

    segments = []
    n_switch = 0
    for nets, members in sorted(groups, key=sort_key):
        switch = None
        if len(members) != 2:
            n_switch += 1
            switch = f"{switch_prefix()}{n_switch}"
        segments.append(Segment(networks=tuple(sorted(nets)), ports=tuple(members), switch=switch))

    hosts = {
        h.name: LabHost(name=h.name, netns=h.hostname or "", role=h.role, platform=h.platform,
                        interfaces=tuple(i.name for i in h.interfaces), image=h.lab_image)
        for h in design.hosts.values()
    }
    return Topology(hosts=hosts, segments=tuple(segments))


def load_topology(inventory: str | Path | None = None) -> Topology:
    """Load the inventory directory and derive its lab topology."""
    nr = load_nornir(inventory)
    try:
        return topology_from_design(build_design(nr))
    finally:
        nr.close_connections()
