"""One CLI, three ways in (issue 10 §1): `nornir-anycast`, `python -m nornir_anycast`,
`python tasks.py`; each usage line names the command that was typed, and `--version` works.

Each test runs the real entry point in a subprocess, from a directory outside the checkout.
"""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from paths import ROOT

import nornir_anycast

VENV_BIN = Path(sys.executable).parent


def _run(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NORNIR_ANYCAST_")}
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=60,
                          check=False)


def test_python_m_cli_main_no_longer_says_python_tasks_py(tmp_path: Path) -> None:
    proc = _run([sys.executable, "-m", "nornir_anycast.cli.main"], tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.startswith("usage: python -m nornir_anycast.cli.main [-h] [--version]")
    assert "tasks.py" not in proc.stderr


@pytest.mark.parametrize("python", ["python", "python3"])
def test_python_m_nornir_anycast_is_the_cli(tmp_path: Path, python: str) -> None:
    proc = _run([str(VENV_BIN / python), "-m", "nornir_anycast", "--help"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"usage: {python} -m nornir_anycast [-h] [--version] COMMAND")
    for command in ("init", "render", "lab", "deploy", "verify", "drill", "drain"):
        assert command in proc.stdout
    assert "NORNIR_ANYCAST_HOME" in proc.stdout  # where the state lives is documented


def test_console_script_usage_and_version(tmp_path: Path) -> None:
    script = VENV_BIN / "nornir-anycast"
    assert script.is_file(), "pip install -e . gives the nornir-anycast console script"
    proc = _run([str(script), "render", "--out"], tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.startswith("usage: nornir-anycast render ")
    version = _run([str(script), "--version"], tmp_path)
    assert version.returncode == 0
    assert version.stdout == f"nornir-anycast {nornir_anycast.__version__}\n"


@pytest.mark.parametrize("python", ["python3", sys.executable])
def test_tasks_py_names_itself_as_typed(tmp_path: Path, python: str) -> None:
    # System python3 re-executes under the checkout's .venv; the prog survives the re-exec.
    tasks = str(ROOT / "tasks.py")
    proc = _run([python, tasks, "--version"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"nornir-anycast {nornir_anycast.__version__}\n"
    usage = _run([python, tasks], tmp_path)
    assert usage.returncode == 2
    assert usage.stderr.startswith(f"usage: {Path(python).name} {tasks} [-h] [--version]")
    sub = _run([python, tasks, "render", "--out"], tmp_path)
    assert sub.stderr.startswith(f"usage: {Path(python).name} {tasks} render ")


def test_one_version_source() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in project["project"]
    assert project["project"]["dynamic"] == ["version"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {
        "attr": "nornir_anycast.__version__"}
    assert importlib.metadata.version("nornir_anycast") == nornir_anycast.__version__
