"""Rendered bytes are pinned: every shipped inventory (and the three-server test inventory), every
host, every drain phase of a server, and a BGP password from the environment, rendered and
compared with a sha256 per file taken before render/ was split into one module per platform.

The snapshot in tests/golden/render-sha256.json was written by this script run on the code
before the split (commit aa9f56b, render/core.py still whole); the checkout's own path is
hashed as `<root>`. `python tests/render/test_render_snapshot.py` writes it again, only when a
change of the rendered output is intended (the diff of the JSON file shows which files).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script too

from designs import design_of, edge_server_neighbors, inventory_copy
from paths import GOLDEN

from nornir_anycast.inventory import secrets
from nornir_anycast.render import render_host
from nornir_anycast.settings import project_root

SNAPSHOT = GOLDEN / "render-sha256.json"
INVENTORIES = ["inventory", "inventory/lab-dnat", "inventory/vyos-seed",
               "inventory/vyos-seed-dnat", "tests/inventories/three-servers",
               "tests/inventories/debian13-bird3", "inventory/lab-debian13",
               "inventory/lab-debian13-bird3", "tests/inventories/two-sites",
               "tests/inventories/dual-stack", "tests/inventories/dual-stack-debian13"]
PHASES: tuple[str | None, ...] = (None, "lowered", "withdrawn")
PASSWORD_ENV = "NA_TEST_SNAPSHOT_BGP_PASSWORD"
PASSWORD = "Snap-sh0t-Pw!"


def _sha(text: str) -> str:
    """sha256 of the text with the checkout's own path as `<root>` (a lab host's
    anycast-healthchecker binary lives under the project root)."""
    return hashlib.sha256(text.replace(str(project_root()), "<root>").encode()).hexdigest()


def _designs(tmp: Path) -> Iterator[tuple[str, Any]]:
    for inventory in INVENTORIES:
        yield inventory, design_of(inventory)

    def with_password(hosts: dict[str, Any]) -> None:
        for nb in edge_server_neighbors(hosts):
            nb["password_env"] = PASSWORD_ENV

    for inventory in ("inventory", "inventory/vyos-seed"):
        dest = tmp / inventory.replace("/", "_")
        yield f"{inventory}+password", design_of(inventory_copy(inventory, dest, with_password))


def snapshot(tmp: Path) -> dict[str, dict[str, Any]]:
    """{"<inventory>/<host>[@phase]": {logical name: {path, checker, mode, create_only,
    sha256, includes: [[path, sha256], ...]}}}."""
    os.environ[PASSWORD_ENV] = PASSWORD
    out: dict[str, dict[str, Any]] = {}
    for label, design in _designs(tmp):
        for name, host in sorted(design.hosts.items()):
            phases = PHASES if host.role == "server" else (None,)
            for phase in phases:
                key = f"{label}/{name}" + (f"@{phase}" if phase else "")
                out[key] = {
                    logical: {"path": f.path, "checker": f.checker, "mode": f.mode,
                              "create_only": f.create_only, "sha256": _sha(f.content),
                              "includes": [[p, _sha(c)] for p, c in f.includes]}
                    for logical, f in render_host(host, design, drain=phase).items()}
    return out


@pytest.fixture()
def _password(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    yield
    secrets.forget_all()


@pytest.mark.usefixtures("_password")
def test_rendered_bytes_match_the_snapshot(tmp_path: Path) -> None:
    expected = json.loads(SNAPSHOT.read_text())
    actual = snapshot(tmp_path)
    assert sorted(actual) == sorted(expected)
    differing = [f"{key}/{logical}" for key in expected
                 for logical in sorted(set(expected[key]) | set(actual[key]))
                 if expected[key].get(logical) != actual[key].get(logical)]
    assert differing == []
    assert sum(len(files) for files in actual.values()) > 100


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        SNAPSHOT.write_text(json.dumps(snapshot(Path(tmp)), indent=1, sort_keys=True) + "\n")
    print(f"wrote {SNAPSHOT}")
