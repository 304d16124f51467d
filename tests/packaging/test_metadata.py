"""Packaging that tells the truth (issue 10 §7): the declared dependencies are the imported
ones, the health checker is an extra, the license is an SPDX string with its file.
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib

from paths import ROOT

PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]

#: Declared but not imported, and why; anything else declared must be imported.
USED_WITHOUT_IMPORT = {
    # Nornir loads its `netmiko` connection plugin by name (entry point), for every device task.
    "nornir-netmiko": "connection plugin",
}


def _name(requirement: str) -> str:
    """`ruamel.yaml>=0.17,<1` -> `ruamel-yaml` (PEP 503 normalised)."""
    raw = re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0]
    return re.sub(r"[-_.]+", "-", raw).lower()


def _imported_distributions() -> dict[str, set[str]]:
    """{distribution: {module files}} for every third-party import in the package."""
    owners = importlib.metadata.packages_distributions()
    found: dict[str, set[str]] = {}
    for path in (ROOT / "nornir_anycast").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                tops = [a.name.split(".")[0] for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                tops = [node.module.split(".")[0]]
            else:
                continue
            for top in tops:
                if top in sys.stdlib_module_names or top in ("nornir_anycast", "__future__"):
                    continue
                for dist in owners.get(top, [f"<not installed: {top}>"]):
                    found.setdefault(_name(dist), set()).add(str(path.relative_to(ROOT)))
    return found


def test_declared_dependencies_are_the_imported_ones() -> None:
    declared = {_name(r) for r in PROJECT["dependencies"]}
    imported = _imported_distributions()
    undeclared = {d: sorted(f) for d, f in imported.items() if d not in declared}
    assert undeclared == {}, "imported but not declared in [project] dependencies"
    unused = declared - set(imported) - set(USED_WITHOUT_IMPORT)
    assert unused == set(), "declared but never imported"
    for used in ("ruamel-yaml", "paramiko", "nornir-jinja2", "nornir-utils"):
        assert used in imported


def test_the_health_checker_is_an_extra_for_servers_and_the_lab() -> None:
    assert not any(_name(r) == "anycast-healthchecker" for r in PROJECT["dependencies"])
    lab = PROJECT["optional-dependencies"]["lab"]
    assert [_name(r) for r in lab] == ["anycast-healthchecker"]
    install = (ROOT / "scripts/install.sh").read_text()
    assert '["optional-dependencies"]["lab"]' in install  # the lab's copy comes from the extra
    assert "anycast-healthchecker==" not in install  # no second version written there


def test_license_is_an_spdx_string_with_its_file() -> None:
    build = tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"]
    assert build["requires"] == ["setuptools>=77"]  # the first to take the SPDX string
    assert PROJECT["license"] == "Apache-2.0"
    assert PROJECT["license-files"] == ["LICENSE"]
    assert "Apache License" in (ROOT / "LICENSE").read_text()[:200]
    assert not any(c.startswith("License ::") for c in PROJECT["classifiers"])
    assert "Typing :: Typed" in PROJECT["classifiers"]
    assert PROJECT["scripts"] == {"nornir-anycast": "nornir_anycast.cli.main:console_script"}


def test_the_examples_ship_as_package_data() -> None:
    conf = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert conf["package-dir"]["nornir_anycast.examples"] == "inventory"
    assert "nornir_anycast.examples" in conf["packages"]
    globs = conf["package-data"]["nornir_anycast.examples"]
    files = [p.relative_to(ROOT / "inventory") for p in (ROOT / "inventory").rglob("*.yaml")]
    assert len(files) == 24
    assert [str(f) for f in files if not any(f.match(g) for g in globs)] == []
