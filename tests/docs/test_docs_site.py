"""The documentation site builds without a warning, and the README stays a short front page."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from paths import ROOT

QUICK_START = [
    "bash scripts/install.sh && python3 tasks.py lab up && python3 tasks.py deploy && "
    "python3 tasks.py verify --wait 60",
    "bash scripts/install.sh && .venv/bin/python -m pytest",
]


def mkdocs_build(config: Path, site: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(config),
         "--site-dir", str(site)],
        cwd=config.parent, env=env, capture_output=True, text=True, timeout=300, check=False)


def test_mkdocs_build_strict_has_no_warning(tmp_path: Path) -> None:
    site = tmp_path / "site"
    before = sorted(p.name for p in ROOT.iterdir())
    proc = mkdocs_build(ROOT / "mkdocs.yml", site)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert "WARNING" not in output, output
    assert sorted(p.name for p in ROOT.iterdir()) == before       # nothing written into the tree
    # The API reference was generated from the docstrings, not left as `::: module` text.
    tasks = (site / "reference" / "tasks" / "index.html").read_text()
    assert ":::" not in tasks and "render_config" in tasks and "Returns" in tasks
    # Snippets included the real example files.
    assert "InitNornir" in (site / "runbooks" / "index.html").read_text()


def test_mkdocs_build_strict_fails_on_a_broken_link(tmp_path: Path) -> None:
    """The strict build is what catches a stale page: a link to a missing page fails it."""
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.md").write_text("# Home\n\nSee [the lab](lab.md).\n")
    (tmp_path / "mkdocs.yml").write_text("site_name: t\ntheme:\n  name: material\n")
    proc = mkdocs_build(tmp_path / "mkdocs.yml", tmp_path / "site")
    assert proc.returncode != 0
    assert "lab.md" in proc.stdout + proc.stderr


def test_every_page_is_in_the_nav() -> None:
    nav = (ROOT / "mkdocs.yml").read_text()
    pages = [p.relative_to(ROOT / "docs").as_posix() for p in (ROOT / "docs").rglob("*.md")]
    assert pages
    assert [p for p in pages if f": {p}" not in nav] == []


def test_readme_is_short_and_keeps_the_quick_start() -> None:
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= 250, f"README.md has {len(lines)} lines; move reference text to docs/"
    for command in QUICK_START:
        assert f"    {command}" in lines, f"README.md lost the Quick start line: {command}"
    for word in ("pip install", "nornir-anycast init", "InitNornir(config_file=",
                 "print_result", "docs/"):
        assert any(word in line for line in lines), word


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert QUICK_START[1] in ci


def test_readme_runbook_is_the_tested_example() -> None:
    """The README's runbook lines are examples/render_only.py's (which the suite runs)."""
    readme = (ROOT / "README.md").read_text()
    block = readme.split("```python\n", 1)[1].split("```", 1)[0]
    example = {line.strip() for line in (ROOT / "examples" / "render_only.py").read_text()
               .splitlines()}
    lines = [line.strip() for line in block.splitlines() if line.strip()]
    assert len(lines) >= 5
    assert [line for line in lines if line not in example] == []


def test_readme_links_to_pages_that_exist() -> None:
    links = re.findall(r"\]\((docs/[^)#]+)", (ROOT / "README.md").read_text())
    assert len(links) >= 9
    assert [link for link in links if not (ROOT / link).is_file()] == []
