"""BIRD 3 (`bird_version: 3`) and FRR 10 (`frr_version`, or Debian 13) rendering: templates,
the `bird3` checker (BIRD 3.1.8's own `bird -p` from a Debian 13 root, run with that root's
loader: no chroot, no root needed), BIRD 2 configs against BIRD 2.17's parser, the
healthchecker's BIRD 3 reconfigure command, and FRR 10.3's `update-source` exception.

The real binaries come from tests/debian13.py's roots; without them the checks skip saying
where they looked. The daemons themselves run in test_render_frr10.py and
test_healthchecker_bird3.py (marker `lab`).
"""

from __future__ import annotations

import configparser
import dataclasses
import os
import shlex
import subprocess
from pathlib import Path

import pytest
from debian13 import require_root, root_argv
from designs import design_of, replace_host
from pydantic import ValidationError

from nornir_anycast.design import healthcheck
from nornir_anycast.design.model import Bfd, Design, HostModel
from nornir_anycast.render import render_host
from nornir_anycast.render.checkers import (
    BIRD3_ENV,
    BIRD3_ROOT_ENV,
    CheckerNotFoundError,
    CheckRejectedError,
    bird3_argv,
    check_file,
    check_status,
)
from nornir_anycast.render.files import RenderedFile
from nornir_anycast.render.frr import frr_release

PHASES = (None, "lowered", "withdrawn")
INVENTORY = "tests/inventories/debian13-bird3"


def _bird3_design(**update: object) -> Design:
    return replace_host(design_of("inventory"), "server-1", bird_version=3, **update)


def _inlined(rendered: RenderedFile) -> str:
    """bird.conf with its includes' text in place of the include lines (for a parser run on
    its own, without the include files)."""
    text = rendered.content
    for path, content in rendered.includes:
        text = text.replace(f'include "{path}";', content)
    return text


@pytest.fixture
def bird3_root(monkeypatch: pytest.MonkeyPatch) -> Path:
    root = require_root("debian13-bird3", "usr/sbin/bird")
    monkeypatch.delenv(BIRD3_ENV, raising=False)
    monkeypatch.setenv(BIRD3_ROOT_ENV, str(root))
    return root


def test_bird3_is_the_bird2_text_with_its_own_header_and_checker() -> None:
    d2 = design_of("inventory")
    d3 = _bird3_design()
    for phase in PHASES:
        b2 = render_host(d2.hosts["server-1"], d2, drain=phase)["bird.conf"]
        b3 = render_host(d3.hosts["server-1"], d3, drain=phase)["bird.conf"]
        assert (b2.checker, b3.checker) == ("bird2", "bird3")
        assert b3.content.splitlines()[0] == \
            "# bird.conf for server-1, rendered by nornir_anycast (BIRD 3)."
        assert b3.content.splitlines()[1:] == b2.content.splitlines()[1:]
        assert b3.includes == b2.includes


@pytest.mark.parametrize("phase", PHASES)
@pytest.mark.parametrize("bfd", [True, False])
@pytest.mark.parametrize("checked", [True, False])
def test_bird3_accepts_every_rendered_variant(bird3_root: Path, phase: str | None, bfd: bool,
                                              checked: bool) -> None:
    d = _bird3_design(bfd=Bfd(enabled=bfd, interval_ms=100, multiplier=3))
    me = d.hosts["server-1"]
    d = replace_host(d, "server-1",
                     healthcheck=me.healthcheck.model_copy(update={"enabled": checked}))
    rendered = render_host(d.hosts["server-1"], d, drain=phase)["bird.conf"]
    assert check_status(rendered, require=True) == "checked"


def test_bird3_check_rejects_a_broken_file_in_bird3s_words(bird3_root: Path) -> None:
    d = _bird3_design()
    rendered = render_host(d.hosts["server-1"], d)["bird.conf"]
    broken = dataclasses.replace(rendered, content=rendered.content + "protocol nosuch {\n")
    with pytest.raises(CheckRejectedError, match=r"rejected by BIRD 3 \(bird -p\) \(exit 1\):"
                                                 r".*syntax error"):
        check_file(broken, "server-1: bird.conf")
    assert "3.1" in subprocess.run([*bird3_argv(), "--version"], capture_output=True,
                                   text=True, check=False).stderr


@pytest.mark.parametrize("inventory", ["inventory", "tests/inventories/dual-stack"])
def test_bird2_configs_pass_bird_2_17(inventory: str) -> None:
    root = require_root("debian13", "usr/sbin/bird")
    bird = root_argv(root, "usr/sbin/bird")
    version = subprocess.run([*bird, "--version"], capture_output=True, text=True, check=False)
    assert "BIRD version 2.17" in version.stderr
    d = design_of(inventory)
    for name in ("server-1", "server-2"):
        for phase in PHASES:
            rendered = render_host(d.hosts[name], d, drain=phase)["bird.conf"]
            conf = Path(os.environ.get("TMPDIR", "/tmp")) / f"na-bird217-{os.getpid()}.conf"
            conf.write_text(_inlined(rendered))
            try:
                res = subprocess.run([*bird, "-p", "-c", str(conf)], capture_output=True,
                                     text=True, check=False)
            finally:
                conf.unlink()
            assert res.returncode == 0, f"{name}@{phase}: {res.stderr}"


def test_bird3_checker_missing_says_how_to_get_one(monkeypatch: pytest.MonkeyPatch,
                                                   tmp_path: Path) -> None:
    monkeypatch.setenv(BIRD3_ENV, str(tmp_path / "nosuch-bird"))
    with pytest.raises(CheckerNotFoundError, match="nosuch-bird: no such file"):
        bird3_argv()
    monkeypatch.delenv(BIRD3_ENV)
    monkeypatch.setenv(BIRD3_ROOT_ENV, str(tmp_path))  # a root without BIRD 3
    monkeypatch.setenv("PATH", str(tmp_path))  # and no bird on PATH
    d = _bird3_design()
    rendered = render_host(d.hosts["server-1"], d)["bird.conf"]
    assert check_status(rendered) == "not checked: BIRD 3 not installed here"
    with pytest.raises(CheckerNotFoundError) as err:
        check_status(rendered, require=True)
    assert BIRD3_ROOT_ENV in err.value.hint and BIRD3_ENV in err.value.hint


def _fake_birdc(tmp_path: Path, answer: str, rc: int) -> dict[str, str]:
    bindir = tmp_path / "bin"
    bindir.mkdir(exist_ok=True)
    script = bindir / "birdc"
    script.write_text(f"#!/bin/sh\nprintf '%s' {shlex.quote(answer)}\nexit {rc}\n")
    script.chmod(0o755)
    return {**os.environ, "PATH": f"{bindir}:/usr/bin:/bin"}


def _run_as_healthchecker(command: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """As anycast-healthchecker 0.9.10 runs it: shlex.split, no shell of its own."""
    return subprocess.run(shlex.split(command), capture_output=True, text=True, env=env,
                          timeout=10, check=False)


def test_reconfigure_command_turns_bird3s_in_progress_into_reconfigured(
        tmp_path: Path) -> None:
    me = _bird3_design().hosts["server-1"]
    command = healthcheck.reconfigure_command(me)
    assert command.startswith("/bin/sh -c ")
    accepted = ("BIRD 3.1.8 ready.\nReading configuration from /etc/bird/bird.conf\n"
                "Reconfiguration in progress\n")
    res = _run_as_healthchecker(command, _fake_birdc(tmp_path, accepted, 0))
    assert res.returncode == 0
    assert res.stdout.splitlines() == ["BIRD 3.1.8 ready.",
                                       "Reading configuration from /etc/bird/bird.conf",
                                       "Reconfigured"]
    queued = "BIRD 3.1.8 ready.\nReconfiguration already in progress, queueing new config\n"
    res = _run_as_healthchecker(command, _fake_birdc(tmp_path, queued, 0))
    assert res.stdout.splitlines()[-1] == "Reconfigured"
    rejected = ("BIRD 3.1.8 ready.\nReading configuration from /etc/bird/bird.conf\n"
                "/etc/bird/bird.conf:50:10 syntax error, unexpected CF_SYM_UNDEFINED\n")
    res = _run_as_healthchecker(command, _fake_birdc(tmp_path, rejected, 1))
    assert res.returncode == 1
    assert "syntax error" in res.stdout and "Reconfigured" not in res.stdout


def test_reconfigure_command_is_plain_birdc_for_bird2_and_read_back_by_configparser() -> None:
    d2 = design_of("inventory")
    assert healthcheck.reconfigure_command(d2.hosts["server-1"]) == \
        f"birdc -s {d2.hosts['server-1'].paths.bird_ctl} configure"
    d3 = _bird3_design()
    me = d3.hosts["server-1"]
    conf = render_host(me, d3)["anycast-healthchecker.conf"].content
    parser = configparser.ConfigParser()  # as anycast-healthchecker reads it
    parser.read_string(conf)
    assert parser.get("daemon", "bird_reconfigure_cmd") == healthcheck.reconfigure_command(me)


def test_frr_release_from_the_inventory() -> None:
    d = design_of("inventory")
    edge = d.hosts["edge"]
    assert frr_release(edge) == (8, 4)
    assert frr_release(edge.model_copy(update={"frr_version": "10.3"})) == (10, 3)
    assert frr_release(edge.model_copy(update={"os": "debian", "os_version": "13"})) == (10, 3)
    assert frr_release(edge.model_copy(update={"os": "debian", "os_version": "12"})) == (8, 4)
    with pytest.raises(ValidationError, match="frr_version"):
        HostModel.model_validate({**edge.model_dump(exclude_unset=True), "frr_version": "ten"})


def test_frr10_leaves_update_source_out_only_where_bfd_needs_it() -> None:
    d = design_of("inventory")
    seed = render_host(d.hosts["edge"], d)["frr.conf"].content
    assert " neighbor 10.12.12.1 update-source 10.12.12.254" in seed.splitlines()
    d10 = replace_host(d, "edge", frr_version="10.3")
    lines = render_host(d10.hosts["edge"], d10)["frr.conf"].content.splitlines()
    assert " neighbor 10.12.12.1 update-source 10.12.12.254" not in lines
    assert " neighbor 10.12.12.2 update-source 10.12.12.254" not in lines
    assert " neighbor 10.12.12.1 bfd" in lines
    assert " neighbor 172.16.42.2 update-source 172.16.42.3" in lines  # eBGP, no BFD: kept
    assert [ln for ln in seed.splitlines() if "update-source 10.12.12" not in ln] == lines
    no_bfd = replace_host(d10, "edge", bfd=Bfd(enabled=False))
    kept = render_host(no_bfd.hosts["edge"], no_bfd)["frr.conf"].content.splitlines()
    assert " neighbor 10.12.12.1 update-source 10.12.12.254" in kept


def test_debian13_bird3_test_inventory_renders_frr10_and_bird3() -> None:
    d = design_of(INVENTORY)
    assert frr_release(d.hosts["edge"]) == (10, 3)
    files = render_host(d.hosts["server-1"], d)
    assert files["bird.conf"].checker == "bird3"
    assert "/bin/sh -c " in files["anycast-healthchecker.conf"].content
    assert "update-source 10.12.12.254" not in render_host(d.hosts["edge"], d)["frr.conf"].content
