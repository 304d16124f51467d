"""The wheel ships every subpackage and all package data (templates as `nornir_anycast.templates`).

pyproject lists packages explicitly (the top-level `templates/` directory is mapped onto
`nornir_anycast.templates`), so a new subpackage must be added there; this test says which.
"""

from __future__ import annotations

import tomllib

from paths import ROOT


def test_every_subpackage_is_listed_in_pyproject() -> None:
    conf = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(conf["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts)
             for p in (ROOT / "nornir_anycast").rglob("__init__.py")}
    assert found - listed == set(), f"add to [tool.setuptools] packages: {sorted(found - listed)}"
    assert conf["package-dir"]["nornir_anycast.templates"] == "templates"


def test_package_data_globs_cover_every_template() -> None:
    conf = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    globs = conf["package-data"]["nornir_anycast.templates"]
    files = [p.relative_to(ROOT / "templates") for p in (ROOT / "templates").rglob("*")
             if p.is_file() and p.suffix in (".j2", ".ttp")]
    assert files
    missing = [str(f) for f in files if not any(f.match(g) for g in globs)]
    assert missing == [], f"not shipped by package-data globs {globs}: {missing}"
