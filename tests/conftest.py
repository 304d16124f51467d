"""Shared test setup.

Lab tests (marker `lab`) need root; without it they are skipped with the reason. Under CI
(`CI=true`, which runs as root) a skipped lab test fails the run, so CI can never go green
without having exercised the real daemons.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest_plugins = ["lab_fixtures"]  # the session-scoped `lab` fixture (tests/lab_fixtures.py)

ROOT = Path(__file__).resolve().parent.parent  # the project root (tests/ is one level down)
IS_ROOT = os.geteuid() == 0
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

_skipped_lab: list[str] = []


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if IS_ROOT:
        return
    skip = pytest.mark.skip(reason="lab tests need root (network namespaces, FRR, BIRD)")
    for item in items:
        if "lab" in item.keywords:
            item.add_marker(skip)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and "lab" in report.keywords:
        _skipped_lab.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if IN_CI and _skipped_lab:
        print(f"\nCI: {len(_skipped_lab)} lab test(s) were skipped; CI requires them all to run:")
        for nodeid in _skipped_lab:
            print(f"  {nodeid}")
        session.exitstatus = 1


@pytest.fixture(autouse=True)
def _project_root(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test sees the checkout as the project root, whatever directory pytest started in."""
    monkeypatch.setenv("NORNIR_ANYCAST_ROOT", str(ROOT))
    yield


@pytest.fixture(autouse=True)
def _counter_baselines(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Deploy and verify store the routers' counters (nornir_anycast.deploy.baseline) in a
    directory of each test's own, not in the checkout's `.state/` (tests in this process; the
    commands lab tests run as subprocesses use the checkout's, git-ignored)."""
    from nornir_anycast.deploy import baseline

    # baseline_dir() is home() / STATE_DIR: an absolute STATE_DIR is taken as it is
    monkeypatch.setattr(baseline, "STATE_DIR", tmp_path / "counter-baselines")
