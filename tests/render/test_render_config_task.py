"""The render_config task the Nornir way: each file a nornir_jinja2 `template_file` subtask,
written by nornir_utils' `write_file`; print_result prints plain data, each file's content at
most once, and no BGP password anywhere (print_result, repr, Nornir's DEBUG log); files holding
a password are 0600 from the moment they exist, with the password intact.
"""

from __future__ import annotations

import dataclasses
import importlib
import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from debug_log import debug_log
from designs import edge_server_neighbors, inventory_copy
from nornir.core import Nornir
from nornir.core.task import AggregatedResult
from nornir_utils.plugins.functions import print_result
from paths import ROOT

from nornir_anycast.design.build import build_design
from nornir_anycast.design.model import Design
from nornir_anycast.design.registry import attach
from nornir_anycast.exceptions import ConfigCheckError, TemplateError
from nornir_anycast.inventory import secrets
from nornir_anycast.inventory.loader import load_nornir
from nornir_anycast.render import checkers, render_host
from nornir_anycast.tasks.render_config import render_config

#: nornir_utils' write_file module (the package re-exports the function under the same name).
write_file_module = importlib.import_module("nornir_utils.plugins.tasks.files.write_file")

SECRET = "Rc9-t4sk-Pw!x"  # what TCP-MD5 allows: printable, no space, quote or backslash
ENV = "NA_TEST_RENDER_CONFIG_BGP_PASSWORD"


@pytest.fixture(autouse=True)
def _password(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    secrets.forget_all()
    monkeypatch.setenv(ENV, SECRET)
    yield
    secrets.forget_all()


def with_password(tmp: Path, source: str = "inventory") -> tuple[Nornir, Design]:
    """The inventory with a BGP password from the environment on both ends of every
    edge-server session."""
    def edit(hosts: dict[str, Any]) -> None:
        for nb in edge_server_neighbors(hosts):
            nb["password_env"] = ENV

    nr = load_nornir(inventory_copy(source, tmp / "inv", edit))
    return nr, build_design(nr)


def printed(result: AggregatedResult, capsys: pytest.CaptureFixture[str],
            severity: int = logging.INFO) -> str:
    capsys.readouterr()
    print_result(result, severity_level=severity)
    return capsys.readouterr().out


def unique_lines(design: Design, hosts: list[str]) -> list[str]:
    """Lines (longer than 15 characters) found exactly once in all files of `hosts`."""
    count: dict[str, int] = {}
    for h in hosts:
        for f in render_host(design.hosts[h], design).values():
            for line in secrets.redact(f.content).splitlines():
                if len(line.strip()) > 15:
                    count[line] = count.get(line, 0) + 1
    return [line for line, n in count.items() if n == 1]


def everything_of(result: AggregatedResult) -> str:
    """repr of the result and of every attribute of every Result in it."""
    parts = [repr(result)]
    for multi in result.values():
        parts.append(repr(multi))
        for r in multi:
            parts += [repr(r), repr(vars(r)), str(r.result), str(r.diff), str(r.exception)]
    return "\n".join(parts)


# ------------------------------------------------------------------ result shape and print_result

def test_result_is_plain_data_and_the_steps_are_subtasks(tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]
                                                         ) -> None:
    nr, design = with_password(tmp_path)
    res = nr.run(task=render_config, design=design)
    assert not res.failed
    edge = res["edge"]
    assert [r.name for r in edge] == ["render_config", "template_file: frr.conf"]
    frr = edge[0].result["frr.conf"]
    assert frr == {"path": design.hosts["edge"].paths.frr_conf, "checker": "frr",
                   "check": "not run", "mode": "0644", "create_only": False, "secret": True,
                   "lines": frr["lines"]}
    assert frr["lines"] > 20
    assert edge[0].changed is False and edge[0].diff == ""
    # the template_file step keeps the text, its password redacted
    real = render_host(design.hosts["edge"], design)["frr.conf"].content
    assert SECRET in real
    assert edge[1].result == secrets.redact(real)
    assert "password ********" in edge[1].result
    server = res["server-1"][0].result
    assert set(server) == set(render_host(design.hosts["server-1"], design))
    assert server["page"]["secret"] is False and server["page"]["checker"] is None

    out = printed(res, capsys)
    assert "RenderedFile(" not in out and "TemplateFile(" not in out
    assert "NeighborView(" not in out and "HostModel" not in out
    lines = unique_lines(design, sorted(design.hosts))
    assert len(lines) > 50
    shown = out.splitlines()
    assert [line for line in lines if shown.count(line) != 1] == []  # every file's text once
    assert SECRET not in out


def test_with_out_dir_the_content_is_printed_once_as_the_diff(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]
                                                              ) -> None:
    nr, design = with_password(tmp_path)
    res = nr.run(task=render_config, design=design, out_dir=tmp_path / "out", dry_run=False)
    assert not res.failed
    names = [r.name for r in res["server-1"]]
    assert "template_file: bird.conf" in names and "write_file: bird.conf" in names
    out = printed(res, capsys)
    lines = unique_lines(design, sorted(design.hosts))
    shown = out.splitlines()
    assert [line for line in lines if shown.count(line) + shown.count("+" + line) != 1] == []
    assert [line for line in lines if shown.count("+" + line) != 1] == []  # in the diff
    assert "RenderedFile(" not in out
    assert SECRET not in out
    # at DEBUG the steps show too: redacted
    assert SECRET not in printed(res, capsys, logging.DEBUG)
    assert "write_file: frr.conf" in printed(res, capsys, logging.DEBUG)


# ------------------------------------------------------------------ no secret anywhere

@pytest.mark.parametrize("out", [False, True])
def test_no_password_in_print_result_repr_or_debug_log(tmp_path: Path, out: bool,
                                                       capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    nr, design = with_password(tmp_path)
    kwargs: dict[str, Any] = {"out_dir": tmp_path / "out", "dry_run": False} if out else {}
    with debug_log() as log:
        res = nr.run(task=render_config, design=design, **kwargs)
    assert not res.failed
    assert "running task 'template_file: frr.conf'" in log.getvalue()  # Nornir's DEBUG log
    texts = [printed(res, capsys), printed(res, capsys, logging.DEBUG), everything_of(res),
             log.getvalue()]
    for text in texts:
        assert SECRET not in text
    assert "********" in printed(res, capsys, logging.DEBUG)
    if out:  # the real password reaches the files written
        assert f'password "{SECRET}";' in (tmp_path / "out/server-1/bird.conf").read_text()
        assert f"password {SECRET}" in (tmp_path / "out/edge/frr.conf").read_text()


def test_a_rejected_file_fails_the_host_without_printing_the_password(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """vtysh -C quotes the line it rejects; here FRR's checker rejects the password line."""
    def reject(text: str, label: str = "frr.conf") -> str:
        line = next(ln for ln in text.splitlines() if " password " in ln)
        raise ConfigCheckError(f"{label}: rejected by FRR (vtysh -C) (exit 2): line 40: "
                               f"% Unknown command: {line.strip()}")

    monkeypatch.setitem(checkers.CHECKERS, "frr",
                        dataclasses.replace(checkers.CHECKERS["frr"], local=reject))
    nr, design = with_password(tmp_path)
    with debug_log() as log:
        res = nr.filter(name="edge").run(task=render_config, design=design, check=True,
                                         out_dir=tmp_path / "out", dry_run=False)
    assert res["edge"].failed
    exc = res["edge"][0].exception
    assert isinstance(exc, ConfigCheckError)
    assert "edge: frr.conf: rejected by FRR" in str(exc)
    assert "password ********" in str(exc)
    for text in (printed(res, capsys), everything_of(res), log.getvalue()):
        assert SECRET not in text
    assert not (tmp_path / "out").exists()  # checked before anything is written


def test_a_template_error_names_host_and_template(monkeypatch: pytest.MonkeyPatch) -> None:
    from nornir_anycast.render import frr

    real = frr.plan_frr

    def without_policies(host: Any, design: Any) -> Any:
        planned = real(host, design)
        f = planned["frr.conf"]
        context = {k: v for k, v in f.context.items() if k != "policies"}
        return {"frr.conf": dataclasses.replace(f, context=context)}

    monkeypatch.setattr("nornir_anycast.render.host.plan_frr", without_policies)
    nr = load_nornir(ROOT / "inventory")
    res = nr.filter(name="edge").run(task=render_config, design=build_design(nr))
    exc = res["edge"][0].exception
    assert isinstance(exc, TemplateError)
    assert str(exc).startswith("edge: template frr/edge.conf.j2: ")
    assert "undefined" in str(exc)


# ------------------------------------------------------------------ writing: modes, dry run

def test_out_writes_secrets_0600_from_the_start_and_intact(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    nr, design = with_password(tmp_path)
    out = tmp_path / "out"
    seen: dict[str, int] = {}
    real_open = open

    def spy(file: Any, *args: Any, **kwargs: Any) -> Any:
        # the mode of the file at the moment write_file opens it to write the content
        if "r" not in kwargs.get("mode", "r"):
            seen[str(file)] = stat.S_IMODE(os.stat(file).st_mode) if os.path.exists(file) else -1
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(write_file_module, "open", spy, raising=False)
    res = nr.run(task=render_config, design=design, out_dir=out, dry_run=False)
    assert not res.failed
    bird = out / "server-1" / "bird.conf"
    frr = out / "edge" / "frr.conf"
    page = out / "server-1" / "page"
    for f in (bird, frr):
        assert seen[str(f)] == 0o600  # created 0600 before the password went in
        assert stat.S_IMODE(f.stat().st_mode) == 0o600
    assert f'password "{SECRET}";' in bird.read_text()
    assert bird.read_text() == render_host(design.hosts["server-1"], design)["bird.conf"].content
    assert stat.S_IMODE(page.stat().st_mode) == 0o644
    assert res["server-1"][0].result["bird.conf"]["secret"] is True
    assert res["server-1"][0].result["bird.conf"]["file"] == str(bird)


def test_an_existing_wider_file_is_narrowed_before_the_password_is_written(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nr, design = with_password(tmp_path)
    out = tmp_path / "out"
    bird = out / "server-1" / "bird.conf"
    bird.parent.mkdir(parents=True)
    bird.write_text("old\n")
    bird.chmod(0o644)
    seen: list[int] = []
    real_open = open

    def spy(file: Any, *args: Any, **kwargs: Any) -> Any:
        if str(file) == str(bird) and "r" not in kwargs.get("mode", "r"):
            seen.append(stat.S_IMODE(os.stat(file).st_mode))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(write_file_module, "open", spy, raising=False)
    res = nr.filter(name="server-1").run(task=render_config, design=design, out_dir=out,
                                         dry_run=False)
    assert res["server-1"][0].changed
    assert seen == [0o600]
    assert stat.S_IMODE(bird.stat().st_mode) == 0o600
    assert SECRET in bird.read_text()
    # unchanged on the next run, and a widened copy is narrowed again without a rewrite
    bird.chmod(0o644)
    again = nr.filter(name="server-1").run(task=render_config, design=design, out_dir=out,
                                           dry_run=False)
    assert not again["server-1"][0].changed and again["server-1"][0].diff == ""
    assert stat.S_IMODE(bird.stat().st_mode) == 0o600


def test_dry_run_writes_nothing(tmp_path: Path) -> None:
    nr, design = with_password(tmp_path)
    out = tmp_path / "out"
    dry = nr.run(task=render_config, design=design, out_dir=out, dry_run=True)
    assert not dry.failed
    assert not out.exists()
    assert not any(dry[h][0].changed for h in dry)
    assert "+router bgp 65500" in dry["edge"][0].diff
    assert "password ********" in dry["edge"][0].diff
    assert dry["edge"][0].result["frr.conf"]["changed"] is True
    # over an existing tree: bytes and modes stay as they were
    page = out / "server-1" / "page"
    page.parent.mkdir(parents=True)
    page.write_text("old page\n")
    page.chmod(0o640)
    again = nr.filter(name="server-1").run(task=render_config, design=design, out_dir=out,
                                           dry_run=True)
    assert not again["server-1"][0].changed
    assert "-old page" in again["server-1"][0].diff
    assert page.read_text() == "old page\n"
    assert stat.S_IMODE(page.stat().st_mode) == 0o640
    assert sorted(p.name for p in out.rglob("*")) == ["page", "server-1"]


def test_nornir_dry_run_is_the_default(tmp_path: Path) -> None:
    nr, design = with_password(tmp_path)
    nr.data.dry_run = True
    res = nr.run(task=render_config, design=design, out_dir=tmp_path / "out")
    assert not res.failed and not any(res[h][0].changed for h in res)
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------------ design from the inventory

def test_design_found_on_a_filtered_nornir(tmp_path: Path) -> None:
    nr, design = with_password(tmp_path)
    attach(nr, design)
    res = nr.filter(role="server").run(task=render_config)
    assert sorted(res) == ["server-1", "server-2"]
    assert not res.failed
    assert "bird.conf" in res["server-1"][0].result
