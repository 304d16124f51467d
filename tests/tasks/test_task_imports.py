"""The tasks compose the Nornir way (issue 10 §3): `from nornir_anycast.tasks import ...` gives
the task functions (re-exported with `__all__`, the nornir_netmiko way), the runners come from
the package, there is one CONNECTION_NAME (nornir_netmiko's), every task takes `design=None`
and `dry_run=None` (import cycles: tests/packaging/test_layout.py)."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from pathlib import Path

import nornir_netmiko.connections
import pytest

import nornir_anycast
import nornir_anycast.tasks as tasks

PACKAGE = Path(nornir_anycast.__file__).parent
TASK_MODULES = sorted(m.name for m in pkgutil.iter_modules([str(PACKAGE / "tasks")]))


def test_every_task_module_is_re_exported_as_its_task_function() -> None:
    assert TASK_MODULES, "no task modules found"
    assert set(tasks.__all__) == {*TASK_MODULES, "CONNECTION_NAME"}
    for name in TASK_MODULES:
        fn = getattr(tasks, name)
        assert inspect.isfunction(fn), f"nornir_anycast.tasks.{name} is {type(fn).__name__}"
        assert fn.__name__ == name and fn.__module__ == f"nornir_anycast.tasks.{name}"
    # after the submodules were imported by name, the package still gives the functions
    for name in TASK_MODULES:
        importlib.import_module(f"nornir_anycast.tasks.{name}")
        assert inspect.isfunction(getattr(tasks, name)), name


@pytest.mark.parametrize("name", TASK_MODULES)
def test_every_task_takes_design_and_dry_run_defaulting_to_none(name: str) -> None:
    params = inspect.signature(getattr(tasks, name)).parameters
    assert next(iter(params)) == "task"
    # send_parsed works on any host, from its Nornir data alone: it needs no design.
    for arg in ("dry_run",) if name == "send_parsed" else ("design", "dry_run"):
        assert arg in params, f"{name} has no {arg}="
        assert params[arg].default is None, f"{name}: {arg} defaults to {params[arg].default!r}"
        assert params[arg].kind is inspect.Parameter.KEYWORD_ONLY


def test_one_connection_name_nornir_netmikos() -> None:
    assert tasks.CONNECTION_NAME is nornir_netmiko.connections.CONNECTION_NAME
    defined = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Assign | ast.AnnAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if any(isinstance(t, ast.Name) and t.id == "CONNECTION_NAME" for t in targets):
                    defined.append(str(path.relative_to(PACKAGE)))
    assert defined == [], f"CONNECTION_NAME defined again in {defined}"


def test_the_runners_come_from_the_package() -> None:
    from nornir_anycast import (
        load_nornir,
        run_deploy,
        run_deploy_with_rollback,
        run_drain,
        run_undrain,
        run_verify,
    )

    for fn in (load_nornir, run_deploy, run_deploy_with_rollback, run_drain, run_undrain,
               run_verify):
        assert inspect.isfunction(fn)
    for name in ("run_deploy", "run_drain", "run_undrain"):
        assert inspect.signature(getattr(nornir_anycast, name)).parameters["dry_run"].default \
            is None
    with pytest.raises(AttributeError):
        nornir_anycast.no_such_runner  # noqa: B018
