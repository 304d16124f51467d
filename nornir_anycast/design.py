"""Turning a Nornir inventory into the typed `Design` (see nornir_anycast.model).

`build_design()` only converts and derives; `nornir_anycast.validation.validate()` checks the
result across hosts. `load_design()` does both and raises InventoryError on any problem.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from nornir.core import Nornir
from nornir.core.inventory import Host
from pydantic import ValidationError

from nornir_anycast.exceptions import InventoryError, Problem
from nornir_anycast.model import AnycastService, Design, HostModel, ServerPath

# Data keys read from the inventory (resolved through groups and defaults).
_DATA_KEYS = tuple(k for k in HostModel.model_fields if k not in ("name", "hostname", "platform"))


def host_data(host: Host) -> dict[str, Any]:
    """The host's data keys the model knows, resolved through groups and defaults."""
    out: dict[str, Any] = {}
    for key in _DATA_KEYS:
        try:
            value = host[key]
        except KeyError:
            continue
        out[key] = value
    # Unknown keys at host level are typos until proven otherwise.
    for key in host.data:
        if key not in _DATA_KEYS:
            out[key] = host.data[key]
    return out


def host_model(host: Host) -> HostModel:
    """One host as a HostModel; raises InventoryError naming host, field and value."""
    raw = {"name": host.name, "hostname": host.hostname, "platform": host.platform,
           **host_data(host)}
    try:
        return HostModel.model_validate(raw)
    except ValidationError as exc:
        raise InventoryError([_problem(host.name, raw, err) for err in exc.errors()]) from None


def _problem(host: str, raw: dict[str, Any], err: Any) -> Problem:
    loc = err.get("loc", ())
    field = ".".join(str(p) for p in loc) or "-"
    value: Any = err.get("input")
    if err.get("type") == "missing":
        value = None
    return Problem(host, field, value, str(err.get("msg", "invalid")))


def derive_services(hosts: dict[str, HostModel]) -> list[AnycastService]:
    """For each anycast prefix: who announces it, which paths the edge should use (ECMP), which not.

    A server announces to the edge that owns its BGP neighbor address. The edge's best group is
    the highest local_pref; it is capped by the edge's `maximum_paths_ibgp` (1 when unset), in
    next-hop order (FRR and the kernel keep the lowest addresses first only by accident; the cap
    is reported as a warning by validation, not guessed here beyond a stable order).
    """
    owners: dict[ipaddress.IPv4Address | ipaddress.IPv6Address, HostModel] = {}
    for h in hosts.values():
        for ip in h.addresses():
            owners.setdefault(ip, h)
    per_prefix: dict[tuple[str, str], list[ServerPath]] = {}
    for server in hosts.values():
        if server.role != "server":
            continue
        src = server.addresses()
        for nb in server.bgp.neighbors:
            try:
                edge = owners.get(ipaddress.ip_address(nb.address))
            except ValueError:
                continue
            if edge is None or edge.role != "edge":
                continue
            next_hop = _address_facing(src, nb.address)
            for a in server.anycast:
                per_prefix.setdefault((a.prefix, edge.name), []).append(
                    ServerPath(host=server.name, next_hop=next_hop, local_pref=server.local_pref)
                )
    services = []
    for (prefix, edge_name), paths in sorted(per_prefix.items()):
        paths = sorted(paths, key=lambda p: ipaddress.ip_address(p.next_hop))
        best = max(p.local_pref for p in paths)
        cap = hosts[edge_name].bgp.maximum_paths_ibgp or 1
        group = [p for p in paths if p.local_pref == best]
        ecmp = group[:cap]
        backups = [p for p in paths if p not in ecmp]
        services.append(AnycastService(prefix=prefix, edge=edge_name, announcers=paths,
                                       ecmp=ecmp, backups=backups))
    return services


def _address_facing(
    addresses: list[ipaddress.IPv4Address | ipaddress.IPv6Address], peer: str
) -> str:
    """The server's own address in the subnet of `peer` (its BGP next hop), else its first one."""
    peer_ip = ipaddress.ip_address(peer)
    return str(next((a for a in addresses if a.version == peer_ip.version), addresses[0])
               if addresses else "")


def build_design(nr: Nornir) -> Design:
    """Convert every host of `nr` (no cross-host validation; see load_design)."""
    problems: list[Problem] = []
    hosts: dict[str, HostModel] = {}
    for name, host in nr.inventory.hosts.items():
        try:
            hosts[name] = host_model(host)
        except InventoryError as exc:
            problems.extend(exc.problems)
    if problems:
        raise InventoryError(problems)
    return Design(hosts=hosts, services=derive_services(hosts))


def load_design(nr: Nornir) -> tuple[Design, list[Problem]]:
    """Build the design of every host of `nr` and validate it.

    Returns:
        the design and the warnings found (severity "warning").

    Raises:
        InventoryError: with every error (conversion and validation), nothing touched.
    """
    from nornir_anycast.validation import validate

    design = build_design(nr)
    problems = validate(design)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise InventoryError(errors)
    return design, [p for p in problems if p.severity != "error"]
