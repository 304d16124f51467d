"""The shape of an inventory directory's YAML files, checked before Nornir reads them.

Nornir's SimpleInventory trusts its files: a host entry that is a list, `data:` that is not a
mapping, `groups: frr` (a string), a group nobody defined or two groups that list each other
end in AttributeError, KeyError, TypeError or RecursionError deep inside Nornir. Each of those
is found here first and reported as a Problem naming the host (or `group NAME`, `defaults`), the
attribute and the value, so every command stops with exit code 2 before any device is touched.

Files are read with the loader Nornir uses (ruamel.yaml, safe), so both see the same values;
a file that is not YAML is reported with its line and column and the entry it belongs to.

`check_inventory_files` then reports what Nornir would silently ignore: unknown attributes of an
entry, and netmiko extras that are not arguments of netmiko's ConnectHandler (`use_keyz`). Each
problem is reported once, where it is written (a host, `group NAME` or `defaults`).
"""

from __future__ import annotations

import difflib
import functools
import inspect
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from ruamel.yaml import YAML

from nornir_anycast.exceptions import Problem

#: Attributes of a host or group entry, and which of them a defaults.yaml has.
_TEXT_ATTRIBUTES = ("hostname", "username", "platform")
_CONNECTION_KEYS = ("hostname", "port", "username", "password", "platform", "extras")
_TOP_LEVEL_KEY = re.compile(r"""^(?:"([^"]*)"|'([^']*)'|([^\s#'"-][^:#]*?))\s*:(?:\s|$)""")

HIDDEN = "(hidden)"

#: Values a file may expand to. YAML aliases share one value in memory, but everything that
#: walks the data (validation, error messages) sees each use: `&a [*b, *b, ...]` ten levels deep
#: is 10**10 values from a few lines ("billion laughs").
MAX_VALUES = 200_000


@dataclass(frozen=True)
class InventoryFiles:
    """The files of one inventory: the directory paths inside them are relative to, and its
    hosts, groups and defaults files (absolute)."""

    directory: Path
    hosts: Path
    groups: Path
    defaults: Path

    @classmethod
    def in_directory(cls, directory: str | Path, hosts: str = "hosts.yaml",
                     groups: str = "groups.yaml",
                     defaults: str = "defaults.yaml") -> InventoryFiles:
        """The files named `hosts`, `groups`, `defaults` (relative: inside `directory`)."""
        base = Path(os.path.normpath(Path(directory).absolute()))  # `..` gone, symlinks kept
        return cls(directory=base, hosts=base / hosts, groups=base / groups,
                   defaults=base / defaults)


def _files(where: str | Path | InventoryFiles) -> InventoryFiles:
    return where if isinstance(where, InventoryFiles) else InventoryFiles.in_directory(where)


def _kind(value: object) -> str:
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _entry_at(text: str, line: int) -> str | None:
    """The top-level key (host or group name) whose block holds 1-based `line`, if any."""
    lines = text.splitlines()
    for ln in reversed(lines[:max(line, 1)]):
        m = _TOP_LEVEL_KEY.match(ln)
        if m:
            return next(g for g in m.groups() if g is not None).strip()
    return None


def _too_many_values(data: Any) -> bool:
    """Whether walking `data` (aliases followed each time) meets more than MAX_VALUES values."""
    count = 0
    stack = [data]
    while stack:
        item = stack.pop()
        count += 1
        if count > MAX_VALUES:
            return True
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def load_yaml_file(path: Path, problems: list[Problem],
                   role: str | None = None) -> tuple[bool, Any]:
    """Read one file as Nornir would; on failure append a Problem and return (False, None).

    `role` is what the file is (`hosts.yaml`, `groups.yaml`, `defaults.yaml`), default its name.
    """
    file = path.name
    role = role or file
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        problems.append(Problem("-", file, f"byte {exc.start}", "not UTF-8 text"))
        return False, None
    except OSError as exc:
        problems.append(Problem("-", file, str(path), f"cannot read: {exc.strerror or exc}"))
        return False, None
    try:
        data = YAML(typ="safe").load(text)
        if _too_many_values(data):
            problems.append(Problem("-", file, str(path),
                                    f"expands to more than {MAX_VALUES} values (YAML aliases "
                                    "used over and over?)"))
            return False, None
        return True, data
    except RecursionError:
        problems.append(Problem("-", file, str(path), "not valid YAML: nested too deeply"))
    except Exception as exc:  # ruamel's YAMLError and its DuplicateKeyError (a warning class)
        mark = getattr(exc, "problem_mark", None)
        what = " ".join(str(p) for p in (getattr(exc, "context", None),
                                         getattr(exc, "problem", None)) if p)
        if not what:
            what = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        position = getattr(exc, "position", None)  # ReaderError: a character YAML forbids
        if mark is None and isinstance(position, int):
            before = text[:position]
            line, column = before.count("\n") + 1, position - (before.rfind("\n") + 1) + 1
        if mark is not None:
            line, column = int(mark.line) + 1, int(mark.column) + 1
        if mark is not None or isinstance(position, int):
            host = _entry_at(text, line) if role != "defaults.yaml" else "defaults"
            if host is not None and role == "groups.yaml":
                host = f"group {host}"
            problems.append(Problem(host or "-", file, f"line {line}, column {column}",
                                    f"not valid YAML: {what}"))
        else:
            problems.append(Problem("-", file, str(path), f"not valid YAML: {what}"))
    return False, None


def _check_entry(owner: str, entry: Any, file: str, problems: list[Problem], *,
                 groups: dict[Any, Any] | None, is_defaults: bool = False) -> None:
    """One host, group or the defaults: each attribute Nornir reads has the type it needs."""

    def bad(field: str, value: object, message: str) -> None:
        problems.append(Problem(owner, field, value, message))

    if entry is None:
        bad(file, None, f"empty entry in {file}: write `{{}}` for an entry with no settings")
        return
    if not isinstance(entry, dict):
        bad(file, entry, f"must be a mapping of attributes (hostname, groups, data, ...), "
                        f"not {_kind(entry)}")
        return
    for key in entry:
        if not isinstance(key, str):
            bad(str(key), key, "attribute names are text")
    for attr in _TEXT_ATTRIBUTES:
        value = entry.get(attr)
        if value is not None and not isinstance(value, str):
            bad(attr, value, f"must be text, not {_kind(value)}")
    check_password_reference(entry.get("password"), "password", bad)
    _check_port(entry.get("port"), "port", bad)
    data = entry.get("data")
    if data is not None:
        if not isinstance(data, dict):
            bad("data", data, f"must be a mapping (key: value), not {_kind(data)}")
        else:
            for key in data:
                if not isinstance(key, str):
                    bad(f"data.{key}", key, "data keys are text (quote it in YAML)")
    if "groups" in entry and not is_defaults:
        _check_groups(entry["groups"], groups, bad)
    if "connection_options" in entry:
        _check_connection_options(entry["connection_options"], bad)


_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def check_password_reference(value: Any, field: str, bad: Any) -> None:
    """An SSH password is `{env: NAME}` or `{file: PATH}`, never the password itself: the
    inventory lives in a repository (nornir_anycast.inventory.secrets reads it at load time)."""
    if value is None:
        return
    if not isinstance(value, dict):
        bad(field, HIDDEN, "a password is never written in the inventory: give "
                           "`{env: NAME}` (an environment variable) or `{file: PATH}`")
        return
    if len(value) != 1 or next(iter(value)) not in ("env", "file"):
        bad(field, sorted(str(k) for k in value),
            "give exactly one of `{env: NAME}` or `{file: PATH}`")
        return
    kind, ref = next(iter(value.items()))
    if kind == "env" and not (isinstance(ref, str) and _ENV_NAME.match(ref)):
        bad(f"{field}.env", HIDDEN, "must be the NAME of an environment variable "
                                    "(letters, digits, _), not the password itself")
    if kind == "file" and not (isinstance(ref, str) and ref.strip()):
        bad(f"{field}.file", HIDDEN, "must be the path of a file holding the password")


def _check_port(port: Any, field: str, bad: Any) -> None:
    if port is None:
        return
    if isinstance(port, bool) or not isinstance(port, int):
        bad(field, port, f"must be a TCP port number, not {_kind(port)}")
    elif not 1 <= port <= 65535:
        bad(field, port, "TCP ports are 1..65535")


def _check_groups(value: Any, groups: dict[Any, Any] | None, bad: Any) -> None:
    if value is None:
        return
    if not isinstance(value, list):
        bad("groups", value, f"must be a list of group names ([a, b]), not {_kind(value)}")
        return
    defined = groups or {}
    for i, name in enumerate(value):
        if not isinstance(name, str):
            bad(f"groups.{i}", name, f"a group name is text, not {_kind(name)}")
        elif name not in defined:
            known = ", ".join(sorted(str(g) for g in defined)) or "none"
            bad(f"groups.{i}", name, f"no such group in groups.yaml (defined: {known})")


def _check_connection_options(value: Any, bad: Any) -> None:
    if value is None:
        return
    if not isinstance(value, dict):
        bad("connection_options", value,
            f"must be a mapping of connection name (netmiko) to options, not {_kind(value)}")
        return
    for name, opts in value.items():
        base = f"connection_options.{name}"
        if not isinstance(opts, dict):
            bad(base, opts, f"must be a mapping (platform, extras, ...), not {_kind(opts)}")
            continue
        for key, item in opts.items():
            field = f"{base}.{key}"
            if key not in _CONNECTION_KEYS:
                bad(field, item, f"unknown key '{key}' (Nornir reads only "
                                 f"{', '.join(_CONNECTION_KEYS)})")
            elif key == "port":
                _check_port(item, field, bad)
            elif key == "extras":
                if item is not None and not isinstance(item, dict):
                    bad(field, item, f"must be a mapping of netmiko arguments, not {_kind(item)}")
            elif key == "password":
                check_password_reference(item, field, bad)
            elif item is not None and not isinstance(item, str):
                bad(field, item, f"must be text, not {_kind(item)}")


def _group_cycles(groups: dict[Any, Any], problems: list[Problem]) -> None:
    """Groups whose parents lead back to themselves (Nornir would recurse forever)."""
    parents = {
        name: [g for g in entry.get("groups") or [] if isinstance(g, str) and g in groups]
        if isinstance(entry, dict) and isinstance(entry.get("groups"), list) else []
        for name, entry in groups.items()
    }
    reported: set[Any] = set()
    for start in parents:
        # Walk from `start`; a path that comes back to `start` is a cycle through it.
        stack: list[tuple[Any, list[Any]]] = [(start, [start])]
        seen: set[Any] = set()
        while stack:
            node, path = stack.pop()
            for parent in parents.get(node, []):
                if parent == start:
                    if start not in reported:
                        reported.update(path)
                        loop = " -> ".join(str(p) for p in [*path, start])
                        problems.append(Problem(f"group {start}", "groups",
                                                groups[start].get("groups"),
                                                f"groups form a loop: {loop}"))
                elif parent not in seen:
                    seen.add(parent)
                    stack.append((parent, [*path, parent]))


def check_structure(directory: str | Path | InventoryFiles) -> list[Problem]:
    """Every problem with the shape of hosts.yaml, groups.yaml and defaults.yaml.

    An empty list means Nornir can load the files; what the data means is checked later
    (nornir_anycast.design.build and nornir_anycast.design.validation).

    Args:
        directory: the inventory directory (files by their usual names), or its files.
    """
    files = _files(directory)
    problems: list[Problem] = []
    loaded: dict[str, Any] = {}
    for file, path in (("hosts.yaml", files.hosts), ("groups.yaml", files.groups),
                       ("defaults.yaml", files.defaults),
                       ("config.yaml", files.directory / "config.yaml")):
        if not path.is_file():
            continue
        ok, data = load_yaml_file(path, problems, file)
        if ok:
            loaded[file] = data
        if ok and data is not None and not isinstance(data, dict):
            what = "host name" if file == "hosts.yaml" else "group name"
            shape = ("a mapping of attributes" if file in ("defaults.yaml", "config.yaml")
                     else f"a mapping of {what} to its attributes")
            problems.append(Problem("-", file, data, f"must be {shape}, not {_kind(data)}"))
            loaded[file] = None
    if problems:
        return problems
    hosts = loaded.get("hosts.yaml")
    groups = loaded.get("groups.yaml") or {}
    defaults = loaded.get("defaults.yaml")
    if not hosts:
        return [Problem("-", "hosts.yaml", None, "defines no hosts")]
    for name, entry in groups.items():
        _check_entry(f"group {name}", entry, "groups.yaml", problems, groups=groups)
    for name, entry in hosts.items():
        if not isinstance(name, str):
            problems.append(Problem(str(name), "name", name,
                                    "host names are text (quote it in YAML)"))
        _check_entry(str(name), entry, "hosts.yaml", problems, groups=groups)
    if defaults is not None:
        _check_entry("defaults", defaults, "defaults.yaml", problems, groups=None,
                     is_defaults=True)
    _group_cycles(groups, problems)
    return problems


# Attributes Nornir's SimpleInventory reads from an entry of hosts.yaml / groups.yaml /
# defaults.yaml. It silently ignores anything else, so a misspelt `grups:` would drop the
# host's groups (and with them its role and platform) without a word.
_NORNIR_ATTRIBUTES = ("hostname", "port", "username", "password", "platform", "groups", "data",
                      "connection_options")


@functools.cache
def netmiko_arguments() -> tuple[str, ...]:
    """The keyword arguments netmiko's ConnectHandler takes (what `extras` may hold)."""
    from netmiko.base_connection import BaseConnection

    return tuple(name for name in inspect.signature(BaseConnection.__init__).parameters
                 if name != "self")


def check_inventory_files(directory: str | Path | InventoryFiles) -> list[Problem]:
    """What Nornir (or netmiko) would silently ignore or choke on later, in the YAML files.

    - an attribute of an entry Nornir does not read (`grups:`);
    - a key of `connection_options.netmiko.extras` that is not an argument of netmiko's
      ConnectHandler (`use_keyz: true`; netmiko would fail with a TypeError at connect time).

    Returns one error per unknown key, where it is written: the host, `group NAME` or
    `defaults` (once, not once per host inheriting it), with the key, its value and a "did you
    mean" hint. Files that do not parse are left to the loader to report.
    """
    files = _files(directory)
    problems: list[Problem] = []

    def one(owner: str, entry: Any, allowed: tuple[str, ...], file: str) -> None:
        if not isinstance(entry, dict):
            return
        for key, value in entry.items():
            if key in allowed:
                continue
            close = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else (
                "; data keys go under 'data:'")
            shown = HIDDEN if key in ("password", "secret") else value
            problems.append(Problem(owner, str(key), shown,
                                    f"unknown key '{key}' in {file} (Nornir would ignore it)"
                                    f"{hint}"))
        _netmiko_extras(owner, entry, file)

    def _netmiko_extras(owner: str, entry: dict[Any, Any], file: str) -> None:
        options = entry.get("connection_options")
        netmiko = options.get("netmiko") if isinstance(options, dict) else None
        extras = netmiko.get("extras") if isinstance(netmiko, dict) else None
        if not isinstance(extras, dict):
            return
        known = netmiko_arguments()
        for key, value in extras.items():
            if key in known:
                continue
            close = difflib.get_close_matches(str(key), known, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            shown = HIDDEN if key in ("password", "secret", "passphrase") else value
            problems.append(Problem(owner, f"connection_options.netmiko.extras.{key}", shown,
                                    f"unknown key '{key}' in {file} (not an argument of "
                                    f"netmiko's ConnectHandler){hint}"))

    for file, path, kind in (("hosts.yaml", files.hosts, "host"),
                             ("groups.yaml", files.groups, "group")):
        for name, entry in (_load_yaml(path) or {}).items():
            owner = str(name) if kind == "host" else f"group {name}"
            one(owner, entry, _NORNIR_ATTRIBUTES, file)
    defaults = _load_yaml(files.defaults)
    one("defaults", defaults, tuple(a for a in _NORNIR_ATTRIBUTES if a != "groups"),
        "defaults.yaml")
    return problems


def _load_yaml(path: Path) -> Any:
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError):
        return None
    return data if isinstance(data, dict) else None
