"""`render` on a machine without BIRD, nginx or FRR still renders (issue 10 §1).

Each file's check column says `checked`, `rejected (...)` or `not checked: bird not installed
here`; `--require-checks` makes a missing checker fail its host (exit 1). Checker messages name
the Debian package to install, never scripts/install.sh (a wheel has none).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from designs import replace_host
from nornir.core.task import Result
from paths import ROOT

from nornir_anycast.cli.main import main
from nornir_anycast.design import build_design
from nornir_anycast.inventory import load_nornir
from nornir_anycast.render import render_host
from nornir_anycast.render.checkers import (
    CheckerNotFoundError,
    CheckRejectedError,
    ChecksFailedError,
    bird1_binary,
    check_bird2,
    check_status,
)
from nornir_anycast.tasks.render_config import render_config


def _checks(result: Result) -> dict[str, str]:
    """{file: its check status} from render_config's plain-data result."""
    return {name: f["check"] for name, f in result.result.items()}


def _render_without_checkers(tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """`python -m nornir_anycast render` with a PATH holding no checker and an empty home."""
    (tmp_path / "bin").mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("NORNIR_ANYCAST_")}
    env.update(PATH=str(tmp_path / "bin"), NORNIR_ANYCAST_HOME=str(tmp_path / "home"),
               COLUMNS="200")
    return subprocess.run(
        [sys.executable, "-m", "nornir_anycast", "render", "-i",
         str(ROOT / "inventory/vyos-seed"), "--out", str(tmp_path / "out"), *extra],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False)


def _rows(stdout: str, column: int = 4) -> dict[tuple[str, str], str]:
    """{(host, file): cell} from the summary table: column 4 = check, 5 = changed."""
    rows = {}
    for line in stdout.splitlines():
        cells = [c.strip() for c in line.strip("│ ").split("│")]
        if len(cells) == 6 and cells[0] not in ("host", ""):
            rows[(cells[0], cells[3])] = cells[column]
    return rows


def test_render_without_any_checker_renders_and_says_not_checked(tmp_path: Path) -> None:
    proc = _render_without_checkers(tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = _rows(proc.stdout)
    # vyos-seed: BIRD 1.6 servers (the home has no unpacked parser) and VyOS routers (no checker)
    assert rows[("server-1", "bird.conf")] == "not checked: BIRD 1.6 not installed here"
    assert rows[("server-1", "nginx-site.conf")] == "not checked: nginx not installed here"
    assert rows[("server-1", "page")] == "-"
    assert rows[("edge", "config.vyos")] == "-"
    assert "not checked: nginx is not installed here (2 files); install the Debian package " \
           "nginx-light" in proc.stdout
    assert "BIRD 1.6 is not installed here (2 files); unpack Debian 12's bird package" \
           in proc.stdout
    assert "install.sh" not in proc.stdout + proc.stderr
    assert (tmp_path / "out/server-1/bird.conf").is_file()


def test_require_checks_fails_the_hosts_missing_a_checker(tmp_path: Path) -> None:
    proc = _render_without_checkers(tmp_path, "--require-checks")
    assert proc.returncode == 1
    assert "FAIL server-1: server-1: nginx-site.conf: not checked: nginx not installed here " \
           "(Debian package nginx-light) and checks are required" in proc.stdout
    assert "render failed on 2 of 5 hosts" in proc.stdout
    assert not (tmp_path / "out/server-1").exists()
    assert (tmp_path / "out/edge/config.vyos").is_file()  # nothing to check there


def test_checker_not_found_names_the_debian_package(monkeypatch: pytest.MonkeyPatch,
                                                    tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(CheckerNotFoundError) as exc:
        check_bird2("router id 1.2.3.4;\n")
    assert str(exc.value) == "bird not installed here (Debian package bird2)"
    assert exc.value.status == "not checked: bird not installed here"
    monkeypatch.setenv("NORNIR_ANYCAST_HOME", str(tmp_path))
    with pytest.raises(CheckerNotFoundError) as exc:
        bird1_binary()
    assert "install.sh" not in str(exc.value)
    assert f"no {tmp_path}/.cache/bird1/usr/sbin/bird: unpack Debian 12's bird package" \
           in str(exc.value)


def test_sbin_beside_a_bin_on_path_is_searched(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # a non-root PATH on Debian: no /usr/sbin
    assert check_bird2("router id 1.2.3.4;\nprotocol device {}\n") == ""


def test_check_status_words() -> None:
    nr = load_nornir(ROOT / "inventory")
    d = build_design(nr)
    files = render_host(d.hosts["server-1"], d)
    assert check_status(files["bird.conf"]) == "checked"
    assert check_status(files["page"]) == "-"
    bad = render_host(replace_host(d, "server-1", router_id="10.12.12.300").hosts["server-1"], d)
    with pytest.raises(CheckRejectedError) as exc:
        check_status(bad["bird.conf"], "server-1: bird.conf")
    assert exc.value.status == "rejected (BIRD 2 (bird -p), exit 1)"
    assert str(exc.value).startswith("server-1: bird.conf: rejected by BIRD 2 (bird -p) (exit 1):")


def test_task_reports_every_files_status(tmp_path: Path) -> None:
    nr = load_nornir(ROOT / "inventory")
    d = build_design(nr)
    res = nr.run(task=render_config, design=d, check=True)
    assert _checks(res["server-1"][0])["bird.conf"] == "checked"
    assert _checks(res["server-1"][0])["page"] == "-"
    assert _checks(res["edge"][0]) == {"frr.conf": "checked"}
    assert _checks(nr.run(task=render_config, design=d)["edge"][0]) == {"frr.conf": "not run"}

    bad = replace_host(d, "server-1", router_id="10.12.12.300")
    res = nr.run(task=render_config, design=bad, check=True)
    exc = res["server-1"][0].exception
    assert isinstance(exc, ChecksFailedError)
    assert exc.statuses["bird.conf"] == "rejected (BIRD 2 (bird -p), exit 1)"
    assert exc.statuses["nginx-site.conf"] == "checked"  # every file is checked, not the first


def test_cli_check_column_per_file(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["render", "--out", str(tmp_path), "-g", "servers"]) == 0
    rows = _rows(capsys.readouterr().out)
    assert rows[("server-2", "bird.conf")] == "checked"
    assert rows[("server-2", "nginx-site.conf")] == "checked"
    assert rows[("server-2", "page")] == "-"
    (tmp_path / "server-2" / "page").write_text("edited\n")
    assert main(["render", "--out", str(tmp_path), "-g", "servers"]) == 0
    changed = _rows(capsys.readouterr().out, column=5)
    assert changed[("server-2", "page")] == "yes"
    assert {v for k, v in changed.items() if k != ("server-2", "page")} == {"no"}
