"""Turning a Nornir inventory into the typed `Design` (see nornir_anycast.design.model).

`build_design()` only converts and derives (the ECMP rule is nornir_anycast.design.ecmp);
`nornir_anycast.design.validation.validate()` checks the result across hosts. `load_design()` does
both and raises InventoryError on any problem.
"""

from __future__ import annotations

import difflib
from typing import Any

from nornir.core import Nornir
from nornir.core.inventory import Host, Inventory
from pydantic import BaseModel, ValidationError

from nornir_anycast.design import model as model_module
from nornir_anycast.design.ecmp import derive_services as derive_services  # re-exported
from nornir_anycast.design.ecmp import (  # re-exported (verify: the upstreams' expected state)
    derive_upstream_routes as derive_upstream_routes,
)
from nornir_anycast.design.ecmp import with_drained as with_drained  # re-exported (verify, tests)
from nornir_anycast.design.model import Design, HostModel
from nornir_anycast.design.registry import lookup, warnings_for
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
    where = _inherited_from(host, key)
    return "hosts.yaml" if key in host.data or where is None else where[1]


def _inherited_from(host: Host, key: str) -> tuple[str, str] | None:
    """(`group NAME`, "groups.yaml") or ("defaults", "defaults.yaml"): where the host's `key`
    comes from when the host does not set it itself; None when it does, or nobody does."""
    if key in host.data:
        return None
    for group in host.extended_groups():  # the order Nornir resolves data in
        if key in group.data:
            return f"group {group.name}", "groups.yaml"
    if key in host.defaults.data:
        return "defaults", "defaults.yaml"
    return None


def _top_key(field: str) -> str:
    """The data key a problem's field path starts with (`bgp.neighbors.0.address` -> `bgp`)."""
    return field.removeprefix("data.").split(".", 1)[0]


def host_model(host: Host) -> HostModel:
    """One host as a HostModel; raises InventoryError naming host, field and value.

    A problem with a value the host inherits from a group or the defaults names that group
    (`group servers`) or `defaults` instead of the host, and says which file holds it.
    """
    raw = {"name": host.name, "hostname": host.hostname, "platform": host.platform,
           **host_data(host)}
    try:
        return HostModel.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for err in exc.errors(include_url=False):
            problem = _problem(host.name, err)
            loc = err.get("loc", ())
            where = _inherited_from(host, _top_key(str(loc[0]))) if loc else None
            if where is not None:
                problem = Problem(where[0], problem.field, problem.value,
                                  f"{problem.message} (set in {where[1]})")
            elif err.get("type") == "extra_forbidden" and len(loc) == 1:
                problem = Problem(problem.host, problem.field, problem.value,
                                  f"{problem.message} (set in hosts.yaml)")
            problems.append(problem)
        raise InventoryError(problems) from None


def _names(names: list[str], cap: int = 10) -> str:
    shown = ", ".join(names[:cap])
    return shown if len(names) <= cap else f"{shown} and {len(names) - cap} more"


def _for_hosts(problem: Problem, hosts: list[str]) -> Problem:
    """`problem` (`... (set in FILE)`) saying which hosts inherit the value."""
    message = problem.message
    if message.endswith(")") and " (set in " in message:
        message = f"{message[:-1]}, for {_names(hosts)})"
    return Problem(problem.host, problem.field, problem.value, message, problem.severity)


def _problem_key(p: Problem) -> tuple[str, str, str, str, str]:
    return (p.host, p.field, repr(p.value), p.message, p.severity)


def fold_inherited(problems: list[Problem], hosts: dict[str, Host]) -> list[Problem]:
    """Validation problems with a value set in a group or the defaults, reported once there.

    A problem is moved to `group NAME` / `defaults` when every host that inherits the value
    from there has the very same problem (field, value, message): then the value is wrong
    wherever it is used. A problem only some of them have (it depends on the host) stays with
    each host. Order: the first occurrence's place.
    """
    candidates: dict[tuple[str, str, str, str, str], list[Problem]] = {}
    for p in problems:
        host = hosts.get(p.host)
        where = _inherited_from(host, _top_key(p.field)) if host is not None else None
        if where is not None:
            candidates.setdefault((where[0], p.field, repr(p.value), p.message, p.severity),
                                  []).append(p)
    moved: dict[int, Problem] = {}
    dropped: set[int] = set()
    for (owner, field, *_), same in candidates.items():
        key = _top_key(field)
        heirs = [n for n, h in hosts.items()
                 if (w := _inherited_from(h, key)) is not None and w[0] == owner]
        if sorted(p.host for p in same) != sorted(heirs):
            continue
        file = "defaults.yaml" if owner == "defaults" else "groups.yaml"
        first = same[0]
        moved[id(first)] = Problem(owner, first.field, first.value,
                                   f"{first.message} (set in {file}, for {_names(heirs)})",
                                   first.severity)
        dropped.update(id(p) for p in same[1:])
    return [moved.get(id(p), p) for p in problems if id(p) not in dropped]


_SECRET_KEYS = frozenset({"password_env", "password_file", "password", "secret",
                          "sudo_password_env", "sudo_password_file"})

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
    if kind == "value_error" and ctx.get("error") is not None:
        return Problem(host, field, value, str(ctx["error"]))  # our validators' own words
    if kind in _TYPE_WORDS:
        words = _TYPE_WORDS[kind]
        if value is None:
            words = f"not set (empty in YAML): {words}"
        return Problem(host, field, value, words)
    return Problem(host, field, value, str(err.get("msg", "invalid")))


def _hosts_of(target: Nornir | Inventory) -> dict[str, Host]:
    inventory = target if isinstance(target, Inventory) else target.inventory
    return dict(inventory.hosts)


def build_design(nr: Nornir | Inventory) -> Design:
    """Convert every host of `nr` (a Nornir or its Inventory; no cross-host validation: see
    load_design).

    A conversion problem with a value set in a group or the defaults is reported once, there
    (`group servers: ...`, `defaults: ...`), with the hosts it concerns.
    """
    problems: list[Problem] = []
    heirs: dict[tuple[str, str, str, str, str], list[str]] = {}  # inherited problem -> hosts
    hosts: dict[str, HostModel] = {}
    for name, host in _hosts_of(nr).items():
        try:
            hosts[name] = host_model(host)
        except InventoryError as exc:
            for p in exc.problems:
                if p.host != name:  # a group's or the defaults' value: once, there
                    key = _problem_key(p)
                    if key in heirs:
                        heirs[key].append(name)
                        continue
                    heirs[key] = [name]
                problems.append(p)
    if problems:
        raise InventoryError([_for_hosts(p, heirs[k]) if (k := _problem_key(p)) in heirs else p
                              for p in problems])
    return Design(hosts=hosts, services=derive_services(hosts))


def load_design(nr: Nornir | Inventory) -> tuple[Design, list[Problem]]:
    """Build the design of every host of `nr` (a Nornir or its Inventory) and validate it.

    A validation problem with a value set in a group or the defaults, found the same for every
    host inheriting it, is reported once, there (see fold_inherited).

    Returns:
        the design and the warnings found (severity "warning").

    A Nornir filtered from one loaded with the AnycastInventory plugin (or load_nornir) gets
    the design of the whole inventory, derived at load time, and its warnings.

    Raises:
        InventoryError: with every error (conversion and validation), nothing touched.
    """
    from nornir_anycast.design.validation import validate

    attached = lookup(nr)
    if attached is not None and set(_hosts_of(nr)) < set(attached.hosts):
        # A filtered Nornir (`nr.filter(role="server")`): its hosts alone are not a design
        # (the servers' edge is missing); the whole inventory's was derived at load time.
        return attached, warnings_for(nr)
    design = build_design(nr)
    problems = fold_inherited(validate(design), _hosts_of(nr))
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise InventoryError(errors)
    return design, [p for p in problems if p.severity != "error"]
