"""Designs for tests: a shipped inventory as a Design, and a Design with one host changed."""

from __future__ import annotations

from pathlib import Path

from nornir_anycast.design import build_design, derive_services
from nornir_anycast.inventory import load_nornir
from nornir_anycast.model import Design, HostModel

ROOT = Path(__file__).resolve().parent.parent


def design_of(inventory: str | Path = "inventory") -> Design:
    """The Design of an inventory directory (relative paths from the project root)."""
    return build_design(load_nornir(ROOT / inventory))


def replace_host(design: Design, name: str, **update: object) -> Design:
    """The design with one host's fields replaced (validated; services derived again)."""
    hosts = dict(design.hosts)
    raw = {**hosts[name].model_dump(exclude_unset=True), **update}
    hosts[name] = HostModel.model_validate(raw)
    return Design(hosts=hosts, services=derive_services(hosts))
