"""The runbooks in examples/ work from a directory outside the checkout, with public API only.

Each test copies one example (and an inventory or a capture) into a temporary directory and runs
it there with the project's interpreter, NORNIR_ANYCAST_ROOT unset: a runbook does not know
where the checkout is.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from docs_helpers import docs_lab_prefix
from paths import CAPTURES, ROOT

EXAMPLES = ROOT / "examples"
PUBLIC = {"nornir", "nornir_utils.plugins.functions", "nornir_anycast.tasks",
          "nornir_anycast.parsing", "__future__", "sys", "json", "time", "pathlib"}


def run_example(name: str, cwd: Path, *args: str,
                env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    shutil.copy(EXAMPLES / name, cwd / name)
    env = dict(env if env is not None else os.environ)
    env.pop("NORNIR_ANYCAST_ROOT", None)
    return subprocess.run([sys.executable, name, *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600, check=False)


def test_examples_import_only_public_api() -> None:
    files = sorted(EXAMPLES.glob("*.py"))
    assert [f.name for f in files] == ["deploy_verify.py", "parse_capture.py", "render_only.py"]
    for f in files:
        tree = ast.parse(f.read_text())
        modules = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        modules |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        assert modules <= PUBLIC, f"{f.name} imports {sorted(modules - PUBLIC)}"


def test_parse_capture_example_outside_the_checkout(tmp_path: Path) -> None:
    capture = CAPTURES / "frr" / "two_equal" / "edge__show_ip_bgp_10.13.13.1_32.txt"
    shutil.copy(capture, tmp_path / "capture.txt")
    proc = run_example("parse_capture.py", tmp_path, "frr", "show ip bgp 10.13.13.1/32",
                       "capture.txt")
    assert proc.returncode == 0, proc.stderr
    expected = json.loads(capture.with_suffix(".json").read_text())["expected"]
    assert json.loads(proc.stdout) == expected
    assert [p["next_hop"] for p in expected["routes"][0]["paths"]] == ["10.12.12.2", "10.12.12.1"]


def test_parse_capture_example_fails_on_text_that_is_not_the_output(tmp_path: Path) -> None:
    (tmp_path / "capture.txt").write_text("% Unknown command: show ip bgpp\n")
    proc = run_example("parse_capture.py", tmp_path, "frr", "show ip bgp", "capture.txt")
    assert proc.returncode != 0
    assert "ParseError" in proc.stderr


def test_render_only_example_outside_the_checkout(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "inventory", tmp_path / "net",
                    ignore=shutil.ignore_patterns("lab-dnat", "vyos-seed*"))
    proc = run_example("render_only.py", tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert "render_config" in out and "server-1" in out and "server-2" in out
    for host in ("isp", "edge", "client"):              # the filter left them out
        assert f"* {host} " not in out
    assert "10.13.13.1/32" in out                      # what BIRD announces, in the rendered files
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net", "render_only.py"]


@pytest.fixture
def docs_lab(tmp_path: Path) -> Iterator[dict[str, str]]:
    """A lab of the docs tests' own prefix, built for the test and always removed."""
    base = os.environ.get("NORNIR_ANYCAST_LAB_PREFIX") or "na"
    env = dict(os.environ, NORNIR_ANYCAST_LAB_PREFIX=docs_lab_prefix(base))
    lab = [sys.executable, str(ROOT / "tasks.py"), "lab"]
    try:
        up = subprocess.run([*lab, "up"], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=600, check=False)
        assert up.returncode == 0, up.stdout + up.stderr
        yield env
    finally:
        subprocess.run([*lab, "down"], cwd=ROOT, env=env, capture_output=True, timeout=600,
                       check=False)


@pytest.mark.lab
def test_deploy_verify_example_on_the_lab(tmp_path: Path, docs_lab: dict[str, str]) -> None:
    shutil.copytree(ROOT / "inventory", tmp_path / "net",
                    ignore=shutil.ignore_patterns("lab-dnat", "vyos-seed*"))
    proc = run_example("deploy_verify.py", tmp_path, "net/config.yaml", "60", env=docs_lab)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert "deploy_anycast" in out and "verify_anycast" in out
    for host in ("isp", "edge", "server-1", "server-2", "client"):
        assert f"* {host} " in out                      # print_result's host headers
