"""Run from anywhere (issue 10 §1): command-line paths are relative to the current directory,
the default inventory is `./inventory` (else the checkout's), and the lab's state and caches
live in ONE documented place, $NORNIR_ANYCAST_HOME (see nornir_anycast.settings).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from paths import ROOT

from nornir_anycast import settings
from nornir_anycast.cli.main import main

TASKS = str(ROOT / "tasks.py")


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NORNIR_ANYCAST_")}
    env.update(extra)
    return env


def _tasks_py(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, TASKS, *argv], cwd=cwd, env=_env(),
                          capture_output=True, text=True, timeout=120, check=False)


def test_relative_inventory_resolves_against_the_cwd_not_the_checkout(tmp_path: Path) -> None:
    # `python3 <checkout>/tasks.py render -i inv` from elsewhere used to look in <checkout>/inv.
    shutil.copytree(ROOT / "inventory" / "vyos-seed-dnat", tmp_path / "inv")
    assert not (ROOT / "inv").exists()
    proc = _tasks_py(["render", "-i", "inv", "--out", "rendered", "--no-check", "-g", "routers"],
                     tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "render ok: 2 hosts, 2 files in rendered" in proc.stdout
    vyos = (tmp_path / "rendered/edge/config.vyos").read_text()
    assert "set policy route-map AS65500-OUT" in vyos
    assert not (ROOT / "rendered").exists()


def test_default_out_is_in_the_cwd(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "inventory" / "vyos-seed", tmp_path / "inv")
    proc = _tasks_py(["render", "-i", "inv", "--no-check", "-H", "isp"], tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (tmp_path / "out" / "isp" / "config.vyos").is_file()


def test_default_inventory_is_the_cwds_then_the_checkouts(tmp_path: Path) -> None:
    assert settings.default_inventory(tmp_path) == ROOT / "inventory"  # run from a checkout
    (tmp_path / "inventory").mkdir()
    assert settings.default_inventory(tmp_path) == tmp_path / "inventory"


def test_cli_without_i_uses_the_cwds_inventory(tmp_path: Path) -> None:
    # ./inventory here is the VyOS seed; the checkout's inventory/ has an FRR edge.
    shutil.copytree(ROOT / "inventory" / "vyos-seed", tmp_path / "inventory")
    proc = _tasks_py(["render", "--no-check", "-H", "edge"], tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (tmp_path / "out" / "edge" / "config.vyos").is_file()
    assert not (tmp_path / "out" / "edge" / "frr.conf").exists()


def test_cli_without_i_elsewhere_uses_the_checkouts_inventory(tmp_path: Path) -> None:
    proc = _tasks_py(["render", "--no-check", "-H", "edge"], tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (tmp_path / "out" / "edge" / "frr.conf").is_file()  # the lab seed: FRR edge


def test_no_inventory_anywhere_says_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(settings, "checkout_root", lambda: None)  # as from an installed wheel
    monkeypatch.chdir(tmp_path)
    assert main(["render", "--no-check"]) == 2
    err = capsys.readouterr().err
    assert "no inventory here: pass -i DIR, or write a starter one with `nornir-anycast init" in err
    assert not any(tmp_path.iterdir())


# ------------------------------------------------------------------ the home setting


def test_home_from_a_checkout_is_the_checkout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NORNIR_ANYCAST_ROOT", raising=False)
    monkeypatch.delenv("NORNIR_ANYCAST_HOME", raising=False)
    monkeypatch.delenv("NORNIR_ANYCAST_LAB_PREFIX", raising=False)
    assert settings.checkout_root() == ROOT
    assert settings.home() == ROOT
    assert settings.lab_dir() == ROOT / ".lab"
    assert settings.cache_dir() == ROOT / ".cache"


def test_home_env_wins_and_root_is_its_alias(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NORNIR_ANYCAST_ROOT", str(tmp_path / "old"))
    monkeypatch.delenv("NORNIR_ANYCAST_HOME", raising=False)
    assert settings.home() == tmp_path / "old"
    monkeypatch.setenv("NORNIR_ANYCAST_HOME", str(tmp_path / "new"))
    monkeypatch.setenv("NORNIR_ANYCAST_LAB_PREFIX", "hepack")
    assert settings.home() == tmp_path / "new"
    assert settings.lab_dir() == tmp_path / "new" / ".lab-hepack"
    assert settings.cache_dir() == tmp_path / "new" / ".cache"
    assert settings.project_root() == settings.home()
    assert not (tmp_path / "new").exists()  # asking never creates anything


def test_home_of_an_installed_package_is_the_xdg_state_dir(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NORNIR_ANYCAST_ROOT", raising=False)
    monkeypatch.delenv("NORNIR_ANYCAST_HOME", raising=False)
    monkeypatch.setattr(settings, "checkout_root", lambda: None)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    assert settings.home() == tmp_path / "state" / "nornir-anycast"
    monkeypatch.delenv("XDG_STATE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    assert settings.home() == tmp_path / "user" / ".local" / "state" / "nornir-anycast"


def test_library_use_writes_nothing_into_the_cwd(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from nornir_anycast.design import build_design, healthcheck
    from nornir_anycast.inventory import load_nornir
    from nornir_anycast.render.checkers import bird1_binary
    from nornir_anycast.tasks.render_config import render_config

    monkeypatch.delenv("NORNIR_ANYCAST_ROOT", raising=False)
    monkeypatch.chdir(tmp_path)
    nr = load_nornir(ROOT / "inventory")
    extras = nr.inventory.hosts["edge"].get_connection_parameters("netmiko").extras or {}
    lab = ROOT / settings.lab_dir_name()  # .lab, or .lab-<prefix> under a lab prefix
    assert extras["ssh_config_file"] == str(lab / "ssh_config")  # the home's lab
    design = build_design(nr)
    assert healthcheck.binary(design.hosts["server-1"]) == str(
        ROOT / ".cache/healthchecker/bin/anycast-healthchecker")  # the home's cache
    assert bird1_binary() == ROOT / ".cache/bird1/usr/sbin/bird"
    result = nr.run(task=render_config, design=design, check=True)
    assert not result.failed
    assert list(tmp_path.iterdir()) == []
