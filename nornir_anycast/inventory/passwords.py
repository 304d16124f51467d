"""BGP (TCP-MD5) passwords and sudo passwords: read from their environment variable or file,
checked, registered with nornir_anycast.inventory.secrets so that they are redacted from
everything printed."""

from __future__ import annotations

import re

from nornir_anycast.design.model import Design, HostModel, Neighbor
from nornir_anycast.exceptions import InventoryError, Problem
from nornir_anycast.inventory import secrets
from nornir_anycast.settings import project_root

#: What a TCP-MD5 password may hold: it is written bare (FRR), quoted (BIRD, VyOS) and Linux
#: takes at most 80 bytes (TCP_MD5SIG_MAXKEYLEN).
_PASSWORD_OK = re.compile(r"^[!#-\[\]-~]{1,80}$")  # printable ASCII but space, " and \


def neighbor_password(host: HostModel, index: int, nb: Neighbor) -> str | None:
    """The neighbor's TCP-MD5 password from its environment variable or file (registered with
    nornir_anycast.inventory.secrets, so that it is redacted from everything printed). Problems
    name the variable or the file, never the value."""
    if nb.password_env is None and nb.password_file is None:
        return None
    field = f"bgp.neighbors.{index}." + ("password_env" if nb.password_env else "password_file")
    where, value = _read_secret(host, field, nb.password_env, nb.password_file, "BGP password")
    if not _PASSWORD_OK.match(value):
        raise InventoryError([Problem(
            host.name, field, where,
            "the BGP password must be 1..80 printable ASCII characters without space, "
            "double quote or backslash (it is written into the daemons' configuration)")])
    return value


def _read_secret(host: HostModel, field: str, env: str | None, file: str | None,
                 what: str) -> tuple[str, str]:
    """(where it came from, the secret) from the variable `env` or else the file `file`;
    InventoryError naming host, field and where (never the value) when it cannot be read."""
    where = str(env or file)
    try:
        value = secrets.read_env(env) if env else secrets.read_file(str(file), project_root())
    except secrets.SecretError as exc:
        raise InventoryError([Problem(host.name, field, where,
                                      f"{exc} (it must hold the {what})")]) from None
    return where, value


def sudo_password(host: HostModel) -> str | None:
    """The host's sudo password from `sudo_password_env` or `sudo_password_file` (registered
    with nornir_anycast.inventory.secrets), or None when the inventory gives none. Problems
    name the variable or the file, never the value.

    Raises:
        InventoryError: the variable is unset, or the file unreadable or empty.
    """
    if host.sudo_password_env is None and host.sudo_password_file is None:
        return None
    field = "sudo_password_env" if host.sudo_password_env else "sudo_password_file"
    where, value = _read_secret(host, field, host.sudo_password_env, host.sudo_password_file,
                                "sudo password")
    if "\n" in value or "\r" in value:
        raise InventoryError([Problem(host.name, field, where,
                                      "the sudo password must be one line")])
    return value


def check_secrets(design: Design) -> list[Problem]:
    """Read every BGP and sudo password the design refers to (registering it with
    nornir_anycast.inventory.secrets); one Problem per variable unset, file unreadable or
    password the configs cannot hold. The inventory loader (plugin and load_nornir) calls this,
    so a missing secret is bad input (exit 2) found before any device is touched, and verify
    redacts passwords it never renders.
    """
    problems: list[Problem] = []
    for host in design.hosts.values():
        try:
            sudo_password(host)
        except InventoryError as exc:
            problems.extend(exc.problems)
        for index, nb in enumerate(host.bgp.neighbors):
            try:
                neighbor_password(host, index, nb)
            except InventoryError as exc:
                problems.extend(exc.problems)
    return problems
