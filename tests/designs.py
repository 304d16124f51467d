"""Designs for tests: a shipped inventory as a Design, and a Design with one host changed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml

from nornir_anycast.design.build import build_design, derive_services
from nornir_anycast.design.model import Design, HostModel
from nornir_anycast.inventory.loader import load_nornir

ROOT = Path(__file__).resolve().parent.parent  # the project root (tests/ is one level down)


def design_of(inventory: str | Path = "inventory") -> Design:
    """The Design of an inventory directory (relative paths from the project root)."""
    return build_design(load_nornir(ROOT / inventory))


def replace_host(design: Design, name: str, **update: object) -> Design:
    """The design with one host's fields replaced (validated; services derived again)."""
    hosts = dict(design.hosts)
    raw = {**hosts[name].model_dump(exclude_unset=True), **update}
    hosts[name] = HostModel.model_validate(raw)
    return Design(hosts=hosts, services=derive_services(hosts))


def inventory_copy(source: str | Path, dest: Path,
                   edit: Callable[[dict[str, Any]], None] | None = None) -> Path:
    """Copy inventory `source` (relative to the project root) to `dest`, applying
    `edit(hosts_doc)` to hosts.yaml on the way."""
    src = ROOT / source
    dest.mkdir()
    for f in ("config.yaml", "groups.yaml", "defaults.yaml"):
        if (src / f).is_file():
            (dest / f).write_text((src / f).read_text())
    hosts = yaml.safe_load((src / "hosts.yaml").read_text())
    if edit is not None:
        edit(hosts)
    (dest / "hosts.yaml").write_text(yaml.safe_dump(hosts, sort_keys=False))
    return dest


def edge_server_neighbors(hosts: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Both ends' neighbor entries of every edge-server session in a hosts.yaml document."""
    for name, entry in hosts.items():
        for nb in ((entry.get("data") or {}).get("bgp") or {}).get("neighbors", []):
            if name.startswith("server") or nb["address"].startswith("10.12.12."):
                yield nb


def debian_inventory(dest: Path, **defaults_data: Any) -> Path:
    """The seed inventory as Debian 13 hosts reached as `ops` with sudo."""
    dest.mkdir()
    src = ROOT / "inventory"
    (dest / "hosts.yaml").write_text((src / "hosts.yaml").read_text())
    groups = yaml.safe_load((src / "groups.yaml").read_text())
    for entry in groups.values():
        data = (entry or {}).get("data") or {}
        if data.get("service_manager") == "lab":
            data["service_manager"] = "systemd"
        data.pop("paths", None)
        if "healthcheck" in data:
            data["healthcheck"]["binary"] = "/usr/local/bin/anycast-healthchecker"
    (dest / "groups.yaml").write_text(yaml.safe_dump(groups, sort_keys=False))
    defaults = yaml.safe_load((src / "defaults.yaml").read_text())
    defaults["username"] = "ops"
    defaults["data"].update({"lab": False, "privilege": "sudo", **defaults_data})
    defaults["connection_options"]["netmiko"]["extras"] = {"use_keys": True,
                                                          "allow_agent": False}
    (dest / "defaults.yaml").write_text(yaml.safe_dump(defaults, sort_keys=False))
    return dest
