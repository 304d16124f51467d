"""No task's Result holds a secret (issue 10, §3): a known BGP password and a known SSH
password, both from the environment, are searched for in print_result's output, in repr()
and str() of every Result (and of every attribute it has), in exception tracebacks, and in
Nornir's log at DEBUG, for every task of nornir_anycast.tasks, failed Results included. The
devices are recording fakes (tests/fake_devices.py) that echo the password where a real one
might (a checker quoting the rejected line, frr-reload's delta, a refused command). The files
that carry the BGP password still reach the (fake) device byte for byte."""

from __future__ import annotations

import contextlib
import io
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from debug_log import debug_log
from designs import edge_server_neighbors, inventory_copy
from fake_devices import FakeLinux, patch_connections
from nornir.core import Nornir
from nornir.core.task import AggregatedResult
from nornir_utils.plugins.functions import print_result

from nornir_anycast.deploy.journal import Journal
from nornir_anycast.design import registry
from nornir_anycast.design.build import build_design
from nornir_anycast.design.model import Design
from nornir_anycast.inventory import secrets
from nornir_anycast.inventory.loader import load_nornir
from nornir_anycast.render import RenderedFile, render_host
from nornir_anycast.tasks import (
    apply_drain,
    confirm_commit,
    deploy_anycast,
    read_drain_state,
    render_config,
    rollback_anycast,
    send_parsed,
    verify_anycast,
    wait_edge_route,
)

SECRET = "Zq9-s3cr3t-Kx7!"
SSH_SECRET = "ssh-Pw-77#abc"
ENV = "NA_TEST_TASK_BGP_PASSWORD"
SSH_ENV = "NA_TEST_TASK_SSH_PASSWORD"


@pytest.fixture(autouse=True)
def _secrets(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    secrets.forget_all()
    monkeypatch.setenv(ENV, SECRET)
    monkeypatch.setenv(SSH_ENV, SSH_SECRET)
    yield
    secrets.forget_all()


@pytest.fixture
def lab(tmp_path: Path) -> tuple[Nornir, Design]:
    """The lab seed with a BGP password on every edge-server session and an SSH password."""
    def change(hosts: dict[str, Any]) -> None:
        for nb in edge_server_neighbors(hosts):
            nb["password_env"] = ENV

    inv = inventory_copy("inventory", tmp_path / "inv", change)
    defaults = yaml.safe_load((inv / "defaults.yaml").read_text()) or {}
    defaults["password"] = {"env": SSH_ENV}
    (inv / "defaults.yaml").write_text(yaml.safe_dump(defaults))
    nr = load_nornir(inv)
    assert {h.password for h in nr.inventory.hosts.values()} == {SSH_SECRET}
    design = build_design(nr)
    registry.attach(nr, design)
    # Registered for redaction at load time (a runbook that only verifies renders nothing).
    assert secrets.redact(SECRET) == "********"
    return nr, design


def _everything(agg: AggregatedResult) -> str:
    """print_result's output and repr/str of every Result, its attributes and exceptions."""
    shown = io.StringIO()
    with contextlib.redirect_stdout(shown):
        print_result(agg)
        print_result(agg, vars=["diff", "result", "stdout", "exception", "changed", "failed"])
    parts = [shown.getvalue(), repr(agg), str(agg)]
    for multi in agg.values():
        parts += [repr(multi), str(multi)]
        for r in multi:
            parts += [repr(r), str(r), repr(vars(r))]
            parts += [repr(v) for v in vars(r).values()]
            if r.exception is not None:
                parts.append("".join(traceback.format_exception(r.exception)))
    return "\n".join(parts)


def _run(nr: Nornir, hosts: tuple[str, ...], **kw: Any) -> tuple[AggregatedResult, str]:
    with debug_log() as logs:  # on_failed: a host an earlier run failed is run again
        agg = nr.filter(filter_func=lambda h: h.name in hosts).run(on_failed=True, **kw)
    return agg, _everything(agg) + "\n" + logs.getvalue()


def _assert_no_secret(text: str) -> None:
    assert text, "nothing was looked at"
    for value in (SECRET, SSH_SECRET):
        assert value not in text
        assert repr(value)[1:-1] not in text


def test_deploy_applies_the_password_files_intact_and_shows_no_secret(
        monkeypatch: pytest.MonkeyPatch, lab: tuple[Nornir, Design]) -> None:
    nr, design = lab
    devices = patch_connections(monkeypatch)
    devices["edge"] = FakeLinux(answers={r"frr-reload\.py --test": (
        "Lines To Delete\n===============\n\nLines To Add\n============\n"
        f" neighbor 10.12.12.1 password {SECRET}\n")})
    # server-2's checker rejects bird.conf quoting the line it read (a failed deploy).
    devices["server-2"] = FakeLinux(fail={r"^bird -p -c": (
        f'bird: /etc/bird/bird.conf.na-new:20:5 syntax error near "password \\"{SECRET}\\";"')})
    agg, text = _run(nr, ("edge", "server-1", "server-2"), task=deploy_anycast)
    assert agg["server-2"].failed and not agg["server-2"][0].changed
    assert "syntax error" in str(agg["server-2"][0].exception)
    assert not agg["server-1"].failed and not agg["edge"].failed, agg["edge"][0].exception
    assert "********" in agg["edge"][0].diff
    _assert_no_secret(text)
    bird = render_host(design.hosts["server-1"], design)["bird.conf"]
    assert SECRET in bird.content
    assert devices["server-1"].files[str(bird.path)] == bird.content  # reached the device intact
    frr = render_host(design.hosts["edge"], design)["frr.conf"]
    assert SECRET in frr.content
    assert devices["edge"].files[str(frr.path)] == frr.content


def test_deploy_vyos_compare_echoing_the_password_is_redacted(
        monkeypatch: pytest.MonkeyPatch, lab: tuple[Nornir, Design]) -> None:
    nr, design = lab

    class Vyos(FakeLinux):
        def send_config_set(self, commands: list[str], exit_config_mode: bool = True) -> str:
            self.sent += commands
            return ""

        def commit(self) -> str:
            raise RuntimeError(f"Commit failed: neighbor password {SECRET} refused")

    vyos = Vyos(answers={"^compare$": f"+set protocols bgp neighbor x password '{SECRET}'"})
    patch_connections(monkeypatch)["edge"] = vyos
    edge = design.hosts["edge"].model_copy(update={"platform": "vyos"})
    vy_design = Design(hosts={**design.hosts, "edge": edge}, services=design.services)
    files = {"x.set": RenderedFile(path=None, content=f"set protocols bgp password {SECRET}\n")}
    agg, text = _run(nr, ("edge",), task=deploy_anycast, design=vy_design, files=files)
    assert agg["edge"].failed
    assert f"set protocols bgp password {SECRET}" in vyos.sent  # sent as given
    _assert_no_secret(text)


def test_verify_read_drain_and_wait_show_no_secret(
        monkeypatch: pytest.MonkeyPatch, lab: tuple[Nornir, Design]) -> None:
    nr, _ = lab
    devices = patch_connections(monkeypatch)
    refusal = f"syntax error, unexpected password {SECRET}"
    for name in ("edge", "isp", "server-1", "server-2", "client"):
        devices[name] = FakeLinux(answers={"show": refusal, "curl": f"FAIL {SECRET}"})
    devices["server-1"].files["/etc/bird/nornir-anycast-drained"] = "phase=withdrawn\n"
    agg, text = _run(nr, ("edge", "isp", "server-1", "server-2", "client"),
                     task=verify_anycast)
    assert agg.failed  # the devices refused: every check says so
    _assert_no_secret(text)
    agg, text = _run(nr, ("server-1", "server-2"), task=read_drain_state)
    assert agg["server-1"][0].result["phase"] == "withdrawn"
    _assert_no_secret(text)
    agg, text = _run(nr, ("edge",), task=wait_edge_route, prefix="10.13.13.1/32",
                     next_hop="10.12.12.1", present=True, timeout=0)
    assert agg["edge"].failed
    _assert_no_secret(text)


def test_apply_drain_rollback_and_confirm_show_no_secret(
        monkeypatch: pytest.MonkeyPatch, lab: tuple[Nornir, Design]) -> None:
    nr, design = lab
    devices = patch_connections(monkeypatch)
    bird = render_host(design.hosts["server-1"], design)["bird.conf"]
    devices["server-1"] = FakeLinux(files={str(bird.path): bird.content}, running=True)
    agg, text = _run(nr, ("server-1",), task=apply_drain, phase="lowered")
    assert not agg.failed and agg["server-1"][0].changed, agg["server-1"][0].exception
    assert agg["server-1"][0].diff
    _assert_no_secret(text)
    lowered = render_host(design.hosts["server-1"], design, drain="lowered")["bird.conf"]
    assert SECRET in lowered.content
    assert devices["server-1"].files[str(bird.path)] == lowered.content  # intact

    journal = Journal()
    log = journal.host("server-2", "linux")
    log.files.append(("/etc/bird/bird.conf", True))
    log.services.append("reload bird")
    devices["server-2"] = FakeLinux(fail={"bird.conf.na-prev": f"mv: password {SECRET}"})
    agg, text = _run(nr, ("server-2",), task=rollback_anycast, journal=journal)
    assert agg["server-2"].failed
    _assert_no_secret(text)

    vy = Journal()
    vy.host("edge", "vyos").commit_confirm_minutes = 5
    devices["edge"] = FakeLinux(answers={"^confirm$": f"Error: password {SECRET}"})
    agg, text = _run(nr, ("edge",), task=confirm_commit, journal=vy)
    assert agg["edge"].failed
    _assert_no_secret(text)


def test_send_parsed_shows_no_secret(monkeypatch: pytest.MonkeyPatch,
                                     lab: tuple[Nornir, Design]) -> None:
    nr, _ = lab
    patch_connections(monkeypatch)
    agg, text = _run(nr, ("edge", "server-1"), task=send_parsed, command="show ip bgp summary")
    assert agg.failed  # the fake answers nothing a parser accepts
    _assert_no_secret(text)


def test_render_config_shows_no_secret(lab: tuple[Nornir, Design]) -> None:
    nr, _ = lab
    agg, text = _run(nr, ("edge", "server-1"), task=render_config)
    assert not agg.failed
    _assert_no_secret(text)
