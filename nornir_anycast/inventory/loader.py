"""Reading an inventory directory into Nornir: the one path behind the AnycastInventory plugin
and `load_nornir`, and selecting hosts from the CLI's -H/-g.

`read_inventory(files)` does, in order: the YAML files' shape (nornir_anycast.inventory.schema),
SimpleInventory's reading, paths written in the inventory made absolute against the inventory's
directory, lab hostnames, SSH passwords, host-key policy, and the design: derived once from the
whole inventory, validated, and attached to it (nornir_anycast.design.registry) so tasks running
on any filtered Nornir find it. Every problem raises one InventoryError naming host, field and
value (the CLI exits 2).

This is the one place the inventory stage reaches the design stage: the design is part of what
loading an anycast inventory means (issue 10 §2). nornir_anycast.design imports nothing from here.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import paramiko
from nornir import InitNornir
from nornir.core import Nornir
from nornir.core.filter import OR, F
from nornir.core.inventory import ConnectionOptions, Defaults, Group, Host, Inventory
from nornir.plugins.inventory.simple import SimpleInventory
from ruamel.yaml import YAML

from nornir_anycast.design.build import load_design
from nornir_anycast.design.registry import WeakDefaults, attach
from nornir_anycast.exceptions import InventoryError, Problem
from nornir_anycast.inventory import secrets
from nornir_anycast.inventory.passwords import check_secrets
from nornir_anycast.inventory.schema import InventoryFiles, check_inventory_files, check_structure
from nornir_anycast.settings import default_inventory, lab_dir, project_root, runtime_hostname

#: netmiko extras that hold a path (key, ssh_config, known_hosts).
PATH_EXTRAS = ("key_file", "ssh_config_file", "alt_key_file")

#: The plugin's name in config.yaml (`inventory: {plugin: AnycastInventory}`).
PLUGIN_NAME = "AnycastInventory"


def resolve_path(value: str, base: Path) -> str:
    """A path written in an inventory, made absolute.

    `.lab/...` is the lab's state directory (nornir_anycast.settings.lab_dir(), whatever the
    lab prefix); `~` is the user's home; any other relative path is taken from `base` (the
    inventory's directory). Absolute paths are unchanged.
    """
    path = Path(value)
    with contextlib.suppress(RuntimeError):  # `~nosuchuser/...`: left as written, under `base`
        path = path.expanduser()
    if path.is_absolute():
        return str(path)
    parts = path.parts
    if parts and parts[0] == ".lab":
        return str(lab_dir().joinpath(*parts[1:]))
    return str(base / path)


def read_inventory(files: InventoryFiles, *, validate: bool = True) -> Inventory:
    """The inventory in `files`, checked, with its design attached.

    Args:
        files: the inventory's files.
        validate: False: an inventory that is no valid anycast design (some hosts only, or
            a work in progress) loads anyway, with no design attached (tasks then need
            `design=`); its files' shape and secrets are still checked.

    Raises:
        InventoryError: every problem (shape, unknown keys, secrets, design), nothing touched.
    """
    if not files.hosts.is_file():
        raise InventoryError([Problem("-", "inventory", str(files.directory),
                                      f"no {files.hosts.name} in this inventory directory")])
    shape = check_structure(files)  # what would crash Nornir's loader, by host and attribute
    if shape:
        raise InventoryError(shape)
    try:
        inventory = _weak_defaults(SimpleInventory(
            host_file=str(files.hosts), group_file=str(files.groups),
            defaults_file=str(files.defaults)).load())
    except Exception as exc:  # what the shape checks did not foresee
        raise InventoryError([Problem("-", "inventory", str(files.directory),
                                      f"cannot load: {type(exc).__name__}: {exc}")]) from exc
    _absolutise_paths(inventory, files.directory)
    _lab_hostnames(inventory)  # before check_host_keys: .lab-<prefix>/known_hosts names <prefix>-*
    resolve_passwords(inventory, files.directory)
    check_host_keys(inventory)
    in_files = check_inventory_files(files)
    try:
        design, warnings = load_design(inventory)
    except InventoryError as exc:
        if not validate:
            return inventory
        raise InventoryError(in_files + exc.problems) from None
    if in_files and validate:
        raise InventoryError(in_files)
    # BGP passwords read (and registered for redaction) now: a runbook that only verifies or
    # drains never renders, yet a device that echoes a password must still show ********.
    missing = check_secrets(design)
    if missing:
        raise InventoryError(missing)
    attach(inventory, design, warnings)
    return inventory


def _weak_defaults(inventory: Inventory) -> Inventory:
    """The inventory with its Defaults as a WeakDefaults (its design is forgotten with it)."""
    old = inventory.defaults
    new = WeakDefaults(hostname=old.hostname, port=old.port, username=old.username,
                       password=old.password, platform=old.platform, data=old.data,
                       connection_options=old.connection_options)
    for element in (*inventory.hosts.values(), *inventory.groups.values()):
        element.defaults = new
    inventory.defaults = new
    return inventory


def load_nornir(inventory: str | Path | None = None, *, validate: bool = True,
                **overrides: Any) -> Nornir:
    """InitNornir on an inventory directory (config.yaml, hosts/groups/defaults.yaml) with the
    AnycastInventory plugin, whatever config.yaml names.

    The same as `InitNornir(config_file="<dir>/config.yaml")` with a shipped config.yaml; a
    directory without config.yaml gets the threaded runner (20 workers) and no logging. Paths
    written in the inventory (key files, ssh_config, known_hosts, password files) are taken
    from its directory; `.lab/...` means this lab prefix's directory (`.lab-<prefix>/...`
    under $NORNIR_ANYCAST_LAB_PREFIX). A lab host's (`lab: true`) hostname `na-<name>` becomes
    `<prefix>-<name>` (see nornir_anycast.settings). The design is derived and attached
    (`nornir_anycast.design.design_for`).

    Args:
        inventory: the directory; default nornir_anycast.settings.default_inventory().
        validate: False: load an inventory that is not a valid design (the plugin's
            `validate` option; see read_inventory).
        overrides: passed to InitNornir (for example `runner={...}`, `dry_run=True`).

    Raises:
        InventoryError: the inventory cannot be loaded or is invalid.
    """
    inv = Path(inventory) if inventory is not None else default_inventory()
    inv = inv if inv.is_absolute() else (Path.cwd() / inv)
    config_file = inv / "config.yaml"
    options: dict[str, Any] = {}
    if config_file.is_file():
        section = _inventory_section(config_file)
        if section.get("plugin") == PLUGIN_NAME and isinstance(section.get("options"), dict):
            options.update(section["options"])
    options["directory"] = str(inv)
    if not validate:
        options["validate"] = False
    kwargs: dict[str, Any] = {"inventory": {"plugin": PLUGIN_NAME, "options": options}}
    if config_file.is_file():
        kwargs["config_file"] = str(config_file)
    else:
        kwargs.update(runner={"plugin": "threaded", "options": {"num_workers": 20}},
                      logging={"enabled": False})
    kwargs.update(overrides)
    from nornir_anycast.inventory.plugin import register

    register()  # a checkout used without `pip install` has no entry point
    try:
        return InitNornir(**kwargs)
    except InventoryError:
        raise
    except Exception as exc:  # config.yaml that Nornir rejects
        raise InventoryError(
            [Problem("-", "inventory", str(inv), f"cannot load: {type(exc).__name__}: {exc}")]
        ) from exc


def inventory_directory(nr: Nornir) -> Path | None:
    """The inventory directory `nr` was loaded from (load_nornir, or InitNornir with this
    plugin's `directory` option); None when Nornir was not told (the plugin then read the
    config file's directory or the current one, which Nornir does not keep)."""
    options = nr.config.inventory.options or {}
    directory = options.get("directory") if nr.config.inventory.plugin == PLUGIN_NAME else None
    return Path(directory) if isinstance(directory, str) and directory else None


def _inventory_section(config_file: Path) -> dict[str, Any]:
    """config.yaml's `inventory:` mapping ({} when it has none or the file is not a mapping:
    check_structure reports that)."""
    try:
        data = YAML(typ="safe").load(config_file.read_text(encoding="utf-8"))
    except Exception:  # reported by check_structure, with line and column
        return {}
    section = data.get("inventory") if isinstance(data, dict) else None
    return section if isinstance(section, dict) else {}


def check_host_keys(nr: Nornir | Inventory) -> None:
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
    for host in _inventory_of(nr).hosts.values():
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


def _inventory_of(target: Nornir | Inventory) -> Inventory:
    return target if isinstance(target, Inventory) else target.inventory


def _owners(inventory: Inventory) -> list[tuple[str, Defaults | Group | Host]]:
    """Where settings are written: `defaults`, `group NAME`, and each host, in that order."""
    return [("defaults", inventory.defaults),
            *((f"group {n}", g) for n, g in inventory.groups.items()),
            *((n, h) for n, h in inventory.hosts.items())]


def resolve_passwords(nr: Nornir | Inventory, base: Path | None = None) -> None:
    """Replace `password: {env: NAME}` / `{file: PATH}` (hosts, groups, defaults, and their
    connection_options) with the password, registered with nornir_anycast.inventory.secrets.

    Args:
        nr: the Nornir (or its inventory).
        base: what a relative `{file: PATH}` is relative to (the inventory's directory;
            default the project root).

    Raises:
        InventoryError: a variable is unset or a file unreadable (naming where, never a value).
    """
    root = base if base is not None else project_root()
    problems: list[Problem] = []
    for owner, obj in _owners(_inventory_of(nr)):
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
                                   else secrets.read_file(resolve_path(where, root)))
            except secrets.SecretError as exc:
                problems.append(Problem(owner, f"{field}.{kind}", where, str(exc)))
    if problems:
        raise InventoryError(problems)


def _lab_hostnames(inventory: Inventory) -> None:
    """`na-<name>` -> `<prefix>-<name>` for lab hosts (their namespace and ssh_config Host)."""
    for host in inventory.hosts.values():
        if host.get("lab") is True and host.hostname:
            host.hostname = runtime_hostname(host.hostname)


def _absolutise_paths(inventory: Inventory, base: Path) -> None:
    """Paths written in the inventory, made absolute where they are written (see
    resolve_path): netmiko extras' key_file, ssh_config_file, alt_key_file, the BGP
    neighbors' `password_file` and `sudo_password_file` in data."""
    for _, obj in _owners(inventory):
        opts = obj.connection_options.get("netmiko")
        if opts is not None and opts.extras:
            for key in PATH_EXTRAS:
                value = opts.extras.get(key)
                if isinstance(value, str) and value.strip():
                    opts.extras[key] = resolve_path(value, base)
        sudo_file = obj.data.get("sudo_password_file")
        if isinstance(sudo_file, str) and sudo_file.strip() and sudo_file.isprintable():
            obj.data["sudo_password_file"] = resolve_path(sudo_file, base)
        bgp = obj.data.get("bgp")
        neighbors = bgp.get("neighbors") if isinstance(bgp, dict) else None
        for nb in neighbors if isinstance(neighbors, list) else []:
            value = nb.get("password_file") if isinstance(nb, dict) else None
            if isinstance(value, str) and value.strip() and value.isprintable():
                nb["password_file"] = resolve_path(value, base)


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
