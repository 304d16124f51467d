"""Turning a Nornir inventory into the typed `Design` (see nornir_anycast.design.model).

`build_design()` only converts and derives; `nornir_anycast.design.validation.validate()` checks the
result across hosts. `load_design()` does both and raises InventoryError on any problem.
"""

from __future__ import annotations

import difflib
import ipaddress
from collections.abc import Collection
from typing import Any

from nornir.core import Nornir
from nornir.core.inventory import Host
from pydantic import BaseModel, ValidationError

from nornir_anycast.design import model as model_module
from nornir_anycast.design.model import AnycastService, Design, HostModel, ServerPath
from nornir_anycast.design.validation import interface_ips, parse_address
from nornir_anycast.exceptions import InventoryError, Problem

# Data keys read from the inventory (resolved through groups and defaults).
_DATA_KEYS = tuple(k for k in HostModel.model_fields if k not in ("name", "hostname", "platform"))


def _all_field_names() -> list[str]:
    """Every field name of every model class, for "did you mean" hints on unknown keys."""
    names: set[str] = set()
    for obj in vars(model_module).values():
        if isinstance(obj, type) and issubclass(obj, BaseModel) and obj is not BaseModel:
            names.update(obj.model_fields)
    return sorted(names)


_FIELD_NAMES = _all_field_names()


def host_data(host: Host) -> dict[str, Any]:
    """The host's data keys, resolved through groups and defaults (unknown keys included)."""
    out: dict[str, Any] = {}
    for key in _DATA_KEYS:
        try:
            value = host[key]
        except KeyError:
            continue
        out[key] = value
    # Unknown keys (at host, group or defaults level) are typos until proven otherwise.
    for key, value in host.extended_data().items():
        if key not in _DATA_KEYS:
            out[_MISPLACED.get(key, key)] = value
    return out


# Nornir host attributes written inside `data:` by mistake: reported under a name of their own
# (HostModel forbids it) instead of silently replacing the real attribute.
_MISPLACED = {k: f"data.{k}" for k in ("name", "hostname", "platform")}


def _origin(host: Host, key: str) -> str:
    """Where `key` of the host's data is set: the host, a group, or defaults."""
    if key in host.data:
        return "hosts.yaml"
    for group in host.extended_groups():
        if key in group.data:
            return f"group {group.name}"
    return "defaults.yaml"


def host_model(host: Host) -> HostModel:
    """One host as a HostModel; raises InventoryError naming host, field and value."""
    raw = {"name": host.name, "hostname": host.hostname, "platform": host.platform,
           **host_data(host)}
    try:
        return HostModel.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for err in exc.errors(include_url=False):
            problem = _problem(host.name, err)
            loc = err.get("loc", ())
            if err.get("type") == "extra_forbidden" and len(loc) == 1:
                key = str(loc[0]).removeprefix("data.")
                problem = Problem(problem.host, problem.field, problem.value,
                                  f"{problem.message} (set in {_origin(host, key)})")
            problems.append(problem)
        raise InventoryError(problems) from None


_SECRET_KEYS = frozenset({"password_env", "password_file", "password", "secret"})

_TYPE_WORDS = {
    "int_parsing": "must be a whole number",
    "int_type": "must be a whole number",
    "int_from_float": "must be a whole number, not a fraction",
    "bool_parsing": "must be true or false",
    "bool_type": "must be true or false",
    "string_type": "must be text (quote it in YAML)",
    "list_type": "must be a list",
    "tuple_type": "must be a list",
    "dict_type": "must be a mapping (key: value)",
    "model_type": "must be a mapping (key: value)",
    "model_attributes_type": "must be a mapping (key: value)",
}


def _problem(host: str, err: Any) -> Problem:
    """A pydantic error as a Problem whose message reads well (no pydantic jargon or URLs)."""
    loc = tuple(err.get("loc", ()))
    field = ".".join(str(p) for p in loc) or "-"
    kind = str(err.get("type", ""))
    ctx = err.get("ctx") or {}
    value: Any = err.get("input")
    if loc and str(loc[-1]) in _SECRET_KEYS:
        value = "(hidden)"  # a secret put where its variable's name belongs is never printed
    if kind == "missing":
        return Problem(host, field, None, "required, but not set")
    if kind == "extra_forbidden":
        key = str(loc[-1]) if loc else "?"
        close = difflib.get_close_matches(key, _FIELD_NAMES, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        if key.startswith("data."):
            key = key.removeprefix("data.")
            return Problem(host, field, value,
                           f"'{key}' is a Nornir host attribute: put it beside 'data:', not in it")
        return Problem(host, field, value, f"unknown key '{key}'{hint}")
    if kind == "literal_error":
        if value is None:
            return Problem(host, field, None, f"not set: must be {ctx.get('expected')}")
        return Problem(host, field, value, f"must be {ctx.get('expected')}")
    if kind in ("too_short", "too_long") and "expected" not in ctx:
        return Problem(host, field, value, "wrong number of items")
    if kind in _TYPE_WORDS:
        words = _TYPE_WORDS[kind]
        if value is None:
            words = f"not set (empty in YAML): {words}"
        return Problem(host, field, value, words)
    return Problem(host, field, value, str(err.get("msg", "invalid")))


def derive_services(hosts: dict[str, HostModel],
                    drained: Collection[str] = ()) -> list[AnycastService]:
    """For each anycast prefix: who announces it, which paths the edge should use (ECMP), which not.

    A server announces to the edge that owns its BGP neighbor address. The edge's best group is
    the highest local_pref; it is capped by the edge's `maximum_paths_ibgp` (1 when unset), in
    next-hop order (FRR and the kernel keep the lowest addresses first only by accident; the cap
    is reported as a warning by validation, not guessed here beyond a stable order). Servers in
    `drained` (taken out of service with `python tasks.py drain`) announce nothing: their paths
    are in `drained`, neither ECMP nor backup.
    """
    owners: dict[ipaddress.IPv4Address | ipaddress.IPv6Address, HostModel] = {}
    for h in hosts.values():
        for itf in interface_ips(h):  # addresses that do not parse are validation's to report
            owners.setdefault(itf.ip, h)
    per_prefix: dict[tuple[str, str], list[ServerPath]] = {}
    for server in hosts.values():
        if server.role != "server":
            continue
        src = interface_ips(server)
        for nb in server.bgp.neighbors:
            peer = parse_address(nb.address)
            edge = owners.get(peer) if peer is not None else None
            if peer is None or edge is None or edge.role != "edge":
                continue
            next_hop = _address_facing(src, peer, parse_address(nb.update_source))
            for a in server.anycast:
                per_prefix.setdefault((a.prefix, edge.name), []).append(
                    ServerPath(host=server.name, next_hop=next_hop, local_pref=server.local_pref)
                )
    services = []
    for (prefix, edge_name), every in sorted(per_prefix.items()):
        every = sorted(every, key=_next_hop_key)
        paths = [p for p in every if p.host not in drained]
        best = max((p.local_pref for p in paths), default=0)
        cap = hosts[edge_name].bgp.maximum_paths_ibgp or 1
        group = [p for p in paths if p.local_pref == best]
        ecmp = group[:cap]
        backups = [p for p in paths if p not in ecmp]
        services.append(AnycastService(prefix=prefix, edge=edge_name, announcers=paths,
                                       ecmp=ecmp, backups=backups,
                                       drained=[p for p in every if p.host in drained]))
    return services


def with_drained(design: Design, drained: Collection[str]) -> Design:
    """The design with the servers in `drained` out of service (see derive_services)."""
    if not drained and not any(s.drained for s in design.services):
        return design
    return Design(hosts=design.hosts, services=derive_services(design.hosts, drained))


def _next_hop_key(path: ServerPath) -> tuple[int, int, str]:
    ip = parse_address(path.next_hop)
    return (ip.version, int(ip), path.host) if ip is not None else (9, 0, path.host)


def _address_facing(
    addresses: list[ipaddress.IPv4Interface | ipaddress.IPv6Interface],
    peer: ipaddress.IPv4Address | ipaddress.IPv6Address,
    update_source: ipaddress.IPv4Address | ipaddress.IPv6Address | None,
) -> str:
    """The server's BGP next hop towards `peer`: update_source, else its address in the peer's
    subnet, else its first address of the peer's family ("" when it has none)."""
    if update_source is not None:
        return str(update_source)
    same = [a for a in addresses if a.version == peer.version]
    facing = next((a for a in same if peer in a.network), same[0] if same else None)
    return str(facing.ip) if facing is not None else ""


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
    from nornir_anycast.design.validation import validate

    design = build_design(nr)
    problems = validate(design)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise InventoryError(errors)
    return design, [p for p in problems if p.severity != "error"]
