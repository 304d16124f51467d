"""The event path's files (issue 11, "withdrawal in a blink"): nginx's exit disables BIRD's
`static_bgp` at once, and a state file included in that protocol keeps it disabled across
`birdc configure`. Rendering per service manager, the BIRD checkers on both states, the systemd
unit checked by `systemd-analyze verify` and its Exec lines run for real."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
from designs import design_of, replace_host
from paths import WATCHER, load_watcher

from nornir_anycast.design import healthcheck
from nornir_anycast.render import RenderedFile, render_host
from nornir_anycast.render.checkers import check_file

sw = load_watcher()


def with_state(f: RenderedFile, up: bool) -> RenderedFile:
    """bird.conf checked with the state file as the watcher writes it (up or down)."""
    return RenderedFile(f.path, f.content, f.checker, includes=tuple(
        (p, sw.state_text(up) if p.endswith("nginx-state.conf") else c) for p, c in f.includes))


def test_lab_server_gets_the_watcher_state_file_and_settings() -> None:
    d = design_of()
    me = d.hosts["server-2"]
    assert healthcheck.watched(me)
    files = render_host(me, d)
    state = files["nginx-state.conf"]
    assert (state.path, state.create_only) == ("/etc/bird/nornir-anycast-nginx-state.conf", True)
    assert state.content == sw.state_text(True)  # deploy's first copy = what the watcher writes
    script = files["service_watch.py"]
    assert script.path == "/etc/bird/nornir-anycast-service_watch.py" and script.mode == "0755"
    assert script.content == WATCHER.read_text()  # package data copied verbatim (no Jinja)
    conf = files["service-watch.json"]
    assert conf.path == "/etc/bird/nornir-anycast-service-watch.json"
    assert json.loads(conf.content) == {
        "pidfile": "/run/nginx.pid", "process": "nginx",
        "state_file": "/etc/bird/nornir-anycast-nginx-state.conf",
        "bird_ctl": "/run/bird/bird.ctl", "protocol": "static_bgp", "poll_interval": 0.1,
        "own_pidfile": "/run/nornir-anycast/service-watch.pid"}
    assert "nornir-anycast-nginx-watch.service" not in files


@pytest.mark.parametrize("version", [1, 2])
def test_bird_includes_the_state_inside_static_bgp(version: int) -> None:
    d = replace_host(design_of(), "server-2", bird_version=version)
    bird = render_host(d.hosts["server-2"], d)["bird.conf"]
    block = bird.content.split("protocol static static_bgp {", 1)[1].split("}", 1)[0]
    assert 'include "/etc/bird/nornir-anycast-nginx-state.conf";' in block
    assert ("/etc/bird/nornir-anycast-nginx-state.conf", sw.state_text(True)) in bird.includes
    assert check_file(with_state(bird, True)) is not None
    assert check_file(with_state(bird, False)) is not None


@pytest.mark.parametrize("update", [
    {"service_manager": "openrc"},  # no event source there: polling only
    {"service_manager": "none"},
    {"healthcheck": {"enabled": True, "binary": "/usr/local/bin/anycast-healthchecker",
                     "watch": False}},
    {"healthcheck": {"enabled": False}},
])
def test_no_event_path_without_a_source_or_when_off(update: dict[str, object]) -> None:
    d = replace_host(design_of(), "server-2", **update)
    me = d.hosts["server-2"]
    files = render_host(me, d)
    assert not healthcheck.watched(me)
    assert not {"nginx-state.conf", "service_watch.py", "service-watch.json",
                "nornir-anycast-nginx-watch.service"} & set(files)
    assert "nginx-state" not in files["bird.conf"].content
    assert not any(p.endswith("nginx-state.conf") for p, _ in files["bird.conf"].includes)


def _systemd_files(tmp_path: Path) -> dict[str, RenderedFile]:
    d = replace_host(design_of(), "server-2", service_manager="systemd", paths={
        "service_state": str(tmp_path / "state.conf"), "bird_ctl": str(tmp_path / "no.ctl")})
    return render_host(d.hosts["server-2"], d)


def test_systemd_unit_is_bound_to_nginx(tmp_path: Path) -> None:
    files = _systemd_files(tmp_path)
    assert "service_watch.py" not in files and "service-watch.json" not in files
    unit = files["nornir-anycast-nginx-watch.service"]
    assert unit.path == "/etc/systemd/system/nornir-anycast-nginx-watch.service"
    lines = unit.content.splitlines()
    for line in ("BindsTo=nginx.service", "After=nginx.service bird.service", "Type=oneshot",
                 "RemainAfterExit=yes", "WantedBy=nginx.service"):
        assert line in lines


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze here")
def test_systemd_analyze_verify_accepts_the_unit(tmp_path: Path) -> None:
    unit = _systemd_files(tmp_path)["nornir-anycast-nginx-watch.service"]
    path = tmp_path / "nornir-anycast-nginx-watch.service"
    path.write_text(unit.content)
    proc = subprocess.run(["systemd-analyze", "verify", str(path)], capture_output=True,
                          text=True, check=False)
    assert (proc.returncode, proc.stderr) == (0, ""), proc.stderr
    path.write_text(unit.content.replace("ExecStop=/bin/sh -c '", "ExecStop=/bin/sh -c \""))
    bad = subprocess.run(["systemd-analyze", "verify", str(path)], capture_output=True,
                         text=True, check=False)
    assert bad.returncode != 0 and "quoting" in bad.stderr  # the check can fail


def test_systemd_exec_lines_write_the_state_the_watcher_writes(tmp_path: Path) -> None:
    """ExecStop (nginx stopping) then ExecStart, run as systemd would (no BIRD running: the
    birdc step fails and is no error); the state file is the watcher's text each time."""
    files = _systemd_files(tmp_path)
    execs = {ln.split("=", 1)[0]: ln.split("=", 1)[1]
             for ln in files["nornir-anycast-nginx-watch.service"].content.splitlines()
             if ln.startswith(("ExecStart=", "ExecStop="))}
    state = tmp_path / "state.conf"
    for key, up in (("ExecStop", False), ("ExecStart", True)):
        proc = subprocess.run(shlex.split(execs[key]), capture_output=True, text=True,
                              check=False)
        assert proc.returncode == 0, proc.stderr
        assert state.read_text() == sw.state_text(up)
    bird = files["bird.conf"]
    assert check_file(with_state(bird, False)) is not None
