"""The design derived at load time, found again by the tasks that run on a filtered Nornir.

`attach(nr, design)` remembers the design of a Nornir object's inventory; `design_for(task)`
returns it for any task running on that Nornir or on anything filtered from it
(`nr.filter(role="server")` keeps the same inventory `Defaults` object, which is the key).
A task given `design=` explicitly uses that instead. The validation warnings found when the
design was derived are kept beside it (`warnings_for(nr)`), for the CLI to print.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Sequence
from typing import Any

from nornir.core.inventory import Defaults, Inventory

from nornir_anycast.design.model import Design
from nornir_anycast.exceptions import AnycastError, Problem


class NoDesignError(AnycastError):
    """A task needs the design, and its inventory was not loaded by nornir_anycast."""


class WeakDefaults(Defaults):
    """Nornir's Defaults, weakly referable: a design attached to it is forgotten with it.

    Nornir's Defaults has __slots__ and takes no weak reference. The AnycastInventory plugin
    gives its inventories this class, so loading inventories over and over (a long-running
    program, the fuzz tests) does not keep every design alive.
    """

    __slots__ = ("__weakref__",)


# id(defaults) -> (holder, design, warnings). The holder is a weak reference to a WeakDefaults
# (the entry goes when it dies), or a plain Defaults itself: kept with its design, so its id
# cannot be reused while the entry lives.
_Holder = weakref.ReferenceType[Defaults] | Defaults
_DESIGNS: dict[int, tuple[_Holder, Design, tuple[Problem, ...]]] = {}
_LOCK = threading.Lock()


def _held(holder: _Holder) -> Defaults | None:
    return holder() if isinstance(holder, weakref.ReferenceType) else holder


def _forget(key: int, ref: weakref.ReferenceType[Defaults]) -> None:
    with _LOCK:
        entry = _DESIGNS.get(key)
        if entry is not None and entry[0] is ref:
            del _DESIGNS[key]


def _defaults_of(target: Any) -> Defaults:
    inventory = getattr(target, "inventory", target)
    if isinstance(inventory, Inventory):
        return inventory.defaults
    if isinstance(target, Defaults):
        return target
    raise TypeError(f"not a Nornir, an Inventory or Defaults: {type(target).__name__}")


def attach(target: Any, design: Design, warnings: Sequence[Problem] = ()) -> None:
    """Remember `design` (and the validation `warnings` found deriving it) for the inventory of
    `target` (a Nornir, an Inventory or its Defaults)."""
    defaults = _defaults_of(target)
    key = id(defaults)
    holder: _Holder = defaults
    if isinstance(defaults, WeakDefaults):
        holder = weakref.ref(defaults, lambda ref: _forget(key, ref))
    with _LOCK:
        _DESIGNS[key] = (holder, design, tuple(warnings))


def lookup(target: Any) -> Design | None:
    """The design attached to `target`'s inventory, or None."""
    defaults = _defaults_of(target)
    with _LOCK:
        entry = _DESIGNS.get(id(defaults))
    return entry[1] if entry is not None and _held(entry[0]) is defaults else None


def warnings_for(target: Any) -> list[Problem]:
    """The validation warnings attached with the design of `target`'s inventory ([] if none)."""
    defaults = _defaults_of(target)
    with _LOCK:
        entry = _DESIGNS.get(id(defaults))
    return list(entry[2]) if entry is not None and _held(entry[0]) is defaults else []


def design_for(task: Any, design: Design | None = None) -> Design:
    """`design` when given, else the design attached to the task's inventory.

    Raises:
        NoDesignError: neither (the inventory was not loaded with nornir_anycast's inventory
            plugin or `load_nornir`, and no `design=` was passed).
    """
    if design is not None:
        return design
    host = getattr(task, "host", None)
    found = lookup(host.defaults) if host is not None else None
    if found is None and getattr(task, "nornir", None) is not None:
        found = lookup(task.nornir)
    if found is None:
        raise NoDesignError(
            "no anycast design for this inventory: load it with the AnycastInventory plugin "
            "(inventory: {plugin: AnycastInventory} in config.yaml) or "
            "nornir_anycast.inventory.load_nornir, or pass design=")
    return found
