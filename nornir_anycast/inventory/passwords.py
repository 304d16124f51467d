"""BGP (TCP-MD5) passwords: read from their environment variable or file, checked, registered
with nornir_anycast.inventory.secrets so that they are redacted from everything printed."""

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
    where = nb.password_env or nb.password_file
    try:
        value = (secrets.read_env(nb.password_env) if nb.password_env
                 else secrets.read_file(str(nb.password_file), project_root()))
    except secrets.SecretError as exc:
        raise InventoryError([Problem(host.name, field, where,
                                      f"{exc} (it must hold the BGP password)")]) from None
    if not _PASSWORD_OK.match(value):
        raise InventoryError([Problem(
            host.name, field, where,
            "the BGP password must be 1..80 printable ASCII characters without space, "
            "double quote or backslash (it is written into the daemons' configuration)")])
    return value


def check_secrets(design: Design) -> list[Problem]:
    """Read every BGP password the design refers to (registering it with
    nornir_anycast.inventory.secrets); one Problem per variable unset, file unreadable or
    password the configs cannot hold. The inventory loader (plugin and load_nornir) calls this,
    so a missing secret is bad input (exit 2) found before any device is touched, and verify
    redacts passwords it never renders.
    """
    problems: list[Problem] = []
    for host in design.hosts.values():
        for index, nb in enumerate(host.bgp.neighbors):
            try:
                neighbor_password(host, index, nb)
            except InventoryError as exc:
                problems.extend(exc.problems)
    return problems
