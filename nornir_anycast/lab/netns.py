"""Network namespaces and links of the lab, through iproute2.

Every interface is created directly inside a lab namespace (`ip -n NS link add ... peer ... netns
OTHER`), so no lab interface ever exists, even for a moment, in the machine's own namespace.
Only namespaces whose name starts with this lab's `<prefix>-` (nornir_anycast.lab.prefix) are ever
listed, changed or deleted here: another lab's namespaces are invisible.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Sequence
from typing import Any

from nornir_anycast.exceptions import LabError
from nornir_anycast.lab.prefix import ns_prefix

NETNS_DIR = "/run/netns"
BRIDGE = "br0"


def run(argv: Sequence[str], *, input: str | None = None, check: bool = True,
        timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run a command; a non-zero exit raises LabError with the command and its stderr."""
    proc = subprocess.run(list(argv), input=input, capture_output=True, text=True,
                          timeout=timeout, check=False)
    if check and proc.returncode != 0:
        raise LabError(f"`{' '.join(argv)}` exited {proc.returncode}: "
                       f"{(proc.stderr or proc.stdout).strip()}")
    return proc


def _guard(name: str) -> None:
    prefix = ns_prefix()
    if not name.startswith(prefix):
        raise LabError(f"refusing to touch namespace {name!r}: "
                       f"this lab's namespaces start with {prefix!r}")


def list_netns() -> list[str]:
    """Namespaces named like this lab's (`<prefix>-*`), sorted."""
    try:
        names = os.listdir(NETNS_DIR)
    except FileNotFoundError:
        return []
    prefix = ns_prefix()
    return sorted(n for n in names if n.startswith(prefix))


def netns_inode(name: str) -> int | None:
    """The namespace's inode (what /proc/PID/ns/net points at), None when it does not exist."""
    try:
        st = os.stat(os.path.join(NETNS_DIR, name))
    except FileNotFoundError:
        return None
    # An unmounted leftover file has the inode of the tmpfs, not of an nsfs object.
    return st.st_ino if st.st_dev != os.stat(NETNS_DIR).st_dev else None


def add_netns(name: str) -> None:
    """Create the namespace (a stale leftover file of that name is removed first)."""
    _guard(name)
    if os.path.exists(os.path.join(NETNS_DIR, name)):
        run(["ip", "netns", "delete", name], check=False)
    run(["ip", "netns", "add", name])


def delete_netns(name: str) -> None:
    """Delete the namespace; missing is fine."""
    _guard(name)
    if os.path.exists(os.path.join(NETNS_DIR, name)):
        run(["ip", "netns", "delete", name], check=False)


def batch(name: str, commands: Sequence[str]) -> None:
    """Run `ip` commands inside namespace `name` in one process (`ip -n NAME -batch -`)."""
    _guard(name)
    if commands:
        run(["ip", "-n", name, "-batch", "-"], input="\n".join(commands) + "\n")


def links(name: str) -> dict[str, dict[str, Any]]:
    """The namespace's links by name, as `ip -d -j link show` gives them."""
    _guard(name)
    proc = run(["ip", "-n", name, "-d", "-j", "link", "show"], check=False)
    if proc.returncode != 0 or not proc.stdout.strip():
        return {}
    return {link["ifname"]: link for link in json.loads(proc.stdout)}


def sysctl(name: str, settings: dict[str, str]) -> None:
    """Set sysctls inside namespace `name` (net.* keys are per namespace)."""
    _guard(name)
    args = [f"{k}={v}" for k, v in settings.items()]
    run(["ip", "netns", "exec", name, "sysctl", "-q", "-w", *args])


def nsid_names(name: str) -> dict[int, str | None]:
    """Inside namespace `name`: the namespace ids it has assigned, with the lab name they map to.

    A peer namespace not listed under /run/netns (the machine's own namespace, for example)
    maps to None.
    """
    _guard(name)
    proc = run(["ip", "-n", name, "-j", "netns", "list-id"], check=False)
    if proc.returncode != 0 or not proc.stdout.strip():
        return {}
    return {int(e["nsid"]): e.get("name") for e in json.loads(proc.stdout)}
