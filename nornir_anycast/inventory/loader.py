"""Loading an inventory directory into Nornir, and selecting hosts from the CLI's -H/-g."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import paramiko
from nornir import InitNornir
from nornir.core import Nornir
from nornir.core.filter import OR, F
from nornir.core.inventory import ConnectionOptions, Defaults, Group, Host

from nornir_anycast.exceptions import InventoryError, Problem
from nornir_anycast.inventory import secrets
from nornir_anycast.inventory.schema import check_structure
from nornir_anycast.settings import lab_dir, project_root, runtime_hostname

_PATH_EXTRAS = ("key_file", "ssh_config_file", "alt_key_file")


def load_nornir(inventory: str | Path | None = None, **overrides: Any) -> Nornir:
    """InitNornir from an inventory directory (config.yaml, hosts/groups/defaults.yaml).

    Relative file paths in netmiko extras (`.lab/ssh_config`) are made absolute against the
    project root, so a runbook may run from any directory; `.lab/...` means this lab prefix's
    directory (`.lab-<prefix>/...` under $NORNIR_ANYCAST_LAB_PREFIX). A lab host's (`lab: true`)
    hostname `na-<name>` becomes `<prefix>-<name>` (see nornir_anycast.settings).

    Args:
        inventory: the directory; default `<project root>/inventory`.
        overrides: passed to InitNornir (for example `runner={...}`).
    """
    inv = Path(inventory) if inventory is not None else project_root() / "inventory"
    inv = inv if inv.is_absolute() else (Path.cwd() / inv)
    if not (inv / "hosts.yaml").is_file():
        raise InventoryError(
            [Problem("-", "inventory", str(inv), "no hosts.yaml in this inventory directory")]
        )
    shape = check_structure(inv)  # what would crash Nornir's loader, by host and attribute
    if shape:
        raise InventoryError(shape)
    config_file = inv / "config.yaml"
    options = {
        "host_file": str(inv / "hosts.yaml"),
        "group_file": str(inv / "groups.yaml"),
        "defaults_file": str(inv / "defaults.yaml"),
    }
    kwargs: dict[str, Any] = {"inventory": {"plugin": "SimpleInventory", "options": options}}
    if config_file.is_file():
        kwargs["config_file"] = str(config_file)
    else:
        kwargs.update(runner={"plugin": "threaded", "options": {"num_workers": 20}},
                      logging={"enabled": False})
    kwargs.update(overrides)
    try:
        nr = InitNornir(**kwargs)
    except Exception as exc:  # YAML and schema errors from SimpleInventory
        raise InventoryError(
            [Problem("-", "inventory", str(inv), f"cannot load: {type(exc).__name__}: {exc}")]
        ) from exc
    _absolutise_paths(nr)
    _lab_hostnames(nr)  # before check_host_keys: .lab-<prefix>/known_hosts names <prefix>-*
    resolve_passwords(nr)
    check_host_keys(nr)
    return nr


def check_host_keys(nr: Nornir) -> None:
    """Make netmiko verify SSH host keys unless the inventory says otherwise (`ssh_strict` set
    in a host's, group's or the defaults' netmiko extras).

    netmiko's default is paramiko's AutoAddPolicy: any host key is accepted. Here:

    - a real device (data `lab` false): `ssh_strict: true` (unknown keys rejected) and
      `system_host_keys: true` (the user's ~/.ssh/known_hosts);
    - a lab host: `ssh_strict: true` with the lab's own `.lab/known_hosts` (`alt_host_keys`,
      `alt_key_file`), when that file holds the host's key. netmiko reads only the host, user,
      port and ProxyCommand from `.lab/ssh_config`, not its `StrictHostKeyChecking` or
      `UserKnownHostsFile`; with the file missing (no lab built yet) the lab host is left as it
      was, and fails to connect anyway.

    Only the host's own netmiko extras are set (a copy of the ones it inherits plus these), so
    other hosts sharing a group are untouched.
    """
    known = _lab_known_hosts()
    for host in nr.inventory.hosts.values():
        params = host.get_connection_parameters("netmiko")
        extras = dict(params.extras or {})
        if "ssh_strict" in extras:
            continue  # the inventory decided
        if host.get("lab", False) is True:
            name = host.hostname or host.name
            if known is None or known.lookup(name) is None:
                continue
            extras.update(ssh_strict=True, alt_host_keys=True,
                          alt_key_file=str(lab_dir() / "known_hosts"))
        else:
            extras.update(ssh_strict=True, system_host_keys=True)
        own = host.connection_options.get("netmiko")
        if own is None:
            host.connection_options["netmiko"] = ConnectionOptions(extras=extras)
        else:
            own.extras = extras


def _lab_known_hosts() -> paramiko.HostKeys | None:
    path = lab_dir() / "known_hosts"
    if not path.is_file():
        return None
    try:
        return paramiko.HostKeys(str(path))
    except (OSError, paramiko.SSHException):
        return None


def resolve_passwords(nr: Nornir) -> None:
    """Replace `password: {env: NAME}` / `{file: PATH}` (hosts, groups, defaults, and their
    connection_options) with the password, registered with nornir_anycast.inventory.secrets.

    Raises:
        InventoryError: a variable is unset or a file unreadable (naming where, never a value).
    """
    problems: list[Problem] = []
    owners: list[tuple[str, Defaults | Group | Host]] = [
        ("defaults", nr.inventory.defaults),
        *((f"group {n}", g) for n, g in nr.inventory.groups.items()),
        *((n, h) for n, h in nr.inventory.hosts.items()),
    ]
    for owner, obj in owners:
        places: list[tuple[str, Any]] = [("password", obj)]
        places += [(f"connection_options.{name}.password", opts)
                   for name, opts in obj.connection_options.items()]
        for field, target in places:
            # The object's own value: a Host's `password` attribute answers with its groups' or
            # the defaults' when it has none of its own.
            ref = object.__getattribute__(target, "password")
            if not isinstance(ref, dict):
                continue
            kind, where = next(iter(ref.items()))
            try:
                target.password = (secrets.read_env(where) if kind == "env"
                                   else secrets.read_file(where, project_root()))
            except secrets.SecretError as exc:
                problems.append(Problem(owner, f"{field}.{kind}", where, str(exc)))
    if problems:
        raise InventoryError(problems)


def _lab_hostnames(nr: Nornir) -> None:
    """`na-<name>` -> `<prefix>-<name>` for lab hosts (their namespace and ssh_config Host)."""
    for host in nr.inventory.hosts.values():
        if host.get("lab") is True and host.hostname:
            host.hostname = runtime_hostname(host.hostname)


def _absolutise_paths(nr: Nornir) -> None:
    root = project_root()
    targets: list[Defaults | Group | Host] = [
        nr.inventory.defaults, *nr.inventory.groups.values(), *nr.inventory.hosts.values()]
    for obj in targets:
        opts = obj.connection_options.get("netmiko")
        if opts is None or not opts.extras:
            continue
        for key in _PATH_EXTRAS:
            value = opts.extras.get(key)
            if isinstance(value, str) and value and not Path(value).is_absolute():
                parts = Path(value).parts
                opts.extras[key] = str(lab_dir().joinpath(*parts[1:]) if parts[0] == ".lab"
                                       else root / value)


def select(nr: Nornir, hosts: Sequence[str] | None = None,
           groups: Sequence[str] | None = None) -> Nornir:
    """Filter by host names (-H) and groups (-g, with child groups); unknown names are errors."""
    if hosts:
        unknown = [h for h in hosts if h not in nr.inventory.hosts]
        if unknown:
            raise InventoryError([Problem(h, "-H", h, "no such host in the inventory")
                                  for h in unknown])
        nr = nr.filter(filter_func=lambda h: h.name in hosts)
    if groups:
        unknown = [g for g in groups if g not in nr.inventory.groups]
        if unknown:
            raise InventoryError([Problem("-", "-g", g, "no such group in the inventory")
                                  for g in unknown])
        cond: F | OR = F(has_parent_group=groups[0])
        for g in groups[1:]:
            cond = cond | F(has_parent_group=g)
        nr = nr.filter(cond)
    return nr
