"""Secrets stay secret: a known BGP password (and SSH password) set in the environment or a
file is searched for in everything the commands print, log and write as reports.

render runs the real checkers (bird -p, vtysh -C, nginx -t); deploy runs against a recording
fake VyOS connection (the approach of tests/test_deploy_vyos.py: Host.get_connection is
patched), so the diff is what VyOS's `compare` would print, password line included. The real-lab
version (deploy over SSH to BIRD and FRR) is the lead's.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from debug_log import debug_log
from designs import edge_server_neighbors, inventory_copy
from nornir.core.inventory import Host
from paths import ROOT

from nornir_anycast.cli.main import main
from nornir_anycast.design.build import load_design
from nornir_anycast.exceptions import InventoryError
from nornir_anycast.inventory import secrets
from nornir_anycast.inventory.loader import load_nornir
from nornir_anycast.render import render_host

SECRET = "Zq9-s3cr3t-Kx7!"  # what TCP-MD5 allows: printable, no space, quote or backslash
SSH_SECRET = "ssh-Pw-77#abc"
ENV = "NA_TEST_BGP_PASSWORD"
SSH_ENV = "NA_TEST_SSH_PASSWORD"


@pytest.fixture(autouse=True)
def _fresh_registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    secrets.forget_all()
    monkeypatch.setenv(ENV, SECRET)
    monkeypatch.setenv(SSH_ENV, SSH_SECRET)
    yield
    secrets.forget_all()


def write_inventory(tmp: Path, source: str, *, password: dict[str, Any] | None = None,
                    edit: Any = None) -> Path:
    """Copy inventory `source`, give the edge-server sessions (both ends) `password` (a
    neighbor's password_env / password_file), and apply `edit(hosts_doc)`."""
    def change(hosts: dict[str, Any]) -> None:
        if password is not None:
            for nb in edge_server_neighbors(hosts):
                nb.update(password)
        if edit is not None:
            edit(hosts)

    return inventory_copy(source, tmp / "inv", change)


@contextlib.contextmanager
def captured() -> Iterator[dict[str, io.StringIO]]:
    """stdout, stderr and every log record (root logger, DEBUG and up) of the block."""
    out = {"stdout": io.StringIO(), "stderr": io.StringIO()}
    with debug_log() as logs, contextlib.redirect_stdout(out["stdout"]), \
            contextlib.redirect_stderr(out["stderr"]):
        out["logs"] = logs
        yield out


def assert_nowhere(secret: str, *texts: str) -> None:
    for text in texts:
        assert secret not in text, f"secret leaked in: {text[:2000]}"


def everything(out: dict[str, io.StringIO], *files: Path) -> list[str]:
    return [v.getvalue() for v in out.values()] + [f.read_text() for f in files if f.exists()]


# --- redact() and the log records -----------------------------------------------------------


def test_redact_replaces_every_registered_value_longest_first() -> None:
    assert secrets.redact(f"a {SECRET} b") == f"a {SECRET} b"  # nothing registered yet
    secrets.register("abc")
    secrets.register("abcdef")
    assert secrets.redact("x abcdef y abc") == "x ******** y ********"
    secrets.register("tab\there")
    assert secrets.redact(repr("tab\there")) == "'********'"  # as repr() shows it too
    assert secrets.redact_data({"k": ["abc", 1, {"abc": None}]}) == {
        "k": ["********", 1, {"********": None}]}


def test_log_records_are_redacted_message_args_and_traceback() -> None:
    secrets.register(SECRET)
    log = logging.getLogger("nornir_anycast.test")
    with captured() as out:
        log.warning("sent %s to %s", f"neighbor 10.12.12.1 password {SECRET}", "edge")
        try:
            raise RuntimeError(f"device said: password {SECRET} rejected")
        except RuntimeError:
            log.exception("deploy failed")
    logs = out["logs"].getvalue()
    assert "neighbor 10.12.12.1 password ********" in logs
    assert "device said: password ******** rejected" in logs  # the traceback
    assert_nowhere(SECRET, logs)


# --- render -----------------------------------------------------------------------------------


def test_render_writes_the_password_into_configs_but_never_prints_it(tmp_path: Path) -> None:
    inv = write_inventory(tmp_path, "inventory", password={"password_env": ENV})
    out_dir = tmp_path / "out"
    with captured() as out:
        rc = main(["render", "--inventory", str(inv), "--out", str(out_dir)])
    assert rc == 0, out["stderr"].getvalue() + out["stdout"].getvalue()
    assert "render ok" in out["stdout"].getvalue()
    assert_nowhere(SECRET, *everything(out))
    # The daemons need the real password (checked by the real bird -p and vtysh -C above).
    bird = out_dir / "server-1" / "bird.conf"
    frr = out_dir / "edge" / "frr.conf"
    assert f'password "{SECRET}";' in bird.read_text()
    assert f"neighbor 10.12.12.1 password {SECRET}" in frr.read_text()
    assert SECRET not in (out_dir / "isp" / "frr.conf").read_text()
    for f in (bird, frr):
        assert stat.S_IMODE(f.stat().st_mode) == 0o600, f
    assert stat.S_IMODE((out_dir / "isp" / "frr.conf").stat().st_mode) == 0o644


def test_a_checker_quoting_the_password_line_is_redacted(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """vtysh -C quotes the line it rejects (`line 40: % Unknown command: neighbor ...
    password ...`); here the FRR checker is made to reject the password line the same way."""
    from nornir_anycast.exceptions import ConfigCheckError
    from nornir_anycast.render import checkers

    def reject(text: str, label: str = "frr.conf") -> str:
        line = next(ln for ln in text.splitlines() if " password " in ln)
        raise ConfigCheckError(f"{label}: rejected by FRR (vtysh -C) (exit 2): line 40: "
                               f"% Unknown command: {line.strip()}")

    monkeypatch.setitem(checkers.CHECKERS, "frr",
                        dataclasses.replace(checkers.CHECKERS["frr"], local=reject))
    inv = write_inventory(tmp_path, "inventory", password={"password_env": ENV})
    with captured() as out:
        rc = main(["render", "--inventory", str(inv), "--out", str(tmp_path / "out"), "-H",
                   "edge"])
    assert rc == 1
    printed = " ".join(out["stdout"].getvalue().split())  # rich wraps at 80 columns
    assert "% Unknown command: neighbor 10.12.12.1 password ********" in printed
    assert_nowhere(SECRET, *everything(out))


def test_password_from_a_file(tmp_path: Path) -> None:
    secret_file = tmp_path / "bgp.secret"
    secret_file.write_text(SECRET + "\n")
    inv = write_inventory(tmp_path, "inventory", password={"password_file": str(secret_file)})
    design, _ = load_design(load_nornir(inv))
    files = render_host(design.hosts["server-2"], design)
    assert f'password "{SECRET}";' in files["bird.conf"].content
    assert secrets.redact(files["bird.conf"].content).count("********") == 1


@pytest.mark.parametrize(("password", "field", "value", "words"), [
    ({"password_env": "NA_TEST_UNSET_VARIABLE"}, "password_env", "NA_TEST_UNSET_VARIABLE",
     "is not set"),
    ({"password_file": "/nonexistent/bgp.secret"}, "password_file", "/nonexistent/bgp.secret",
     "cannot read"),
    ({"password_env": ENV, "password_file": "/x"}, "password_file", "/x", "not both"),
])
def test_missing_or_ambiguous_password_names_where_not_what(
        tmp_path: Path, password: dict[str, str], field: str, value: str, words: str) -> None:
    inv = write_inventory(tmp_path, "inventory", password=password)
    with captured() as out:
        rc = main(["render", "--inventory", str(inv), "--out", str(tmp_path / "out")])
    assert rc == 2
    err = out["stderr"].getvalue()
    assert f"server-1: bgp.neighbors.0.{field}={value!r}" in err and words in err, err
    assert "Traceback" not in err
    assert_nowhere(SECRET, *everything(out))


@pytest.mark.parametrize("bad", ["with space", 'quo"te', "back\\slash", "x" * 81])
def test_a_password_the_configs_cannot_hold_is_refused_without_showing_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bad: str) -> None:
    monkeypatch.setenv(ENV, bad)
    inv = write_inventory(tmp_path, "inventory", password={"password_env": ENV})
    with captured() as out:
        rc = main(["render", "--inventory", str(inv), "--out", str(tmp_path / "out")])
    assert rc == 2
    assert f"bgp.neighbors.0.password_env='{ENV}'" in out["stderr"].getvalue()
    assert "printable ASCII" in out["stderr"].getvalue()
    assert_nowhere(bad, *everything(out))


def test_validation_errors_never_show_a_secret(tmp_path: Path) -> None:
    """A broken inventory while the password is set, registered by an earlier run, and even
    pasted where a description belongs: the error lines show `********`."""
    def edit(hosts: dict[str, Any]) -> None:
        hosts["edge"]["data"]["asn"] = 0
        hosts["edge"]["data"]["bgp"]["neighbors"][2]["description"] = f"isp {SECRET}\n"

    secrets.read_env(ENV)  # as a render of the same process would have
    inv = write_inventory(tmp_path, "inventory", password={"password_env": ENV}, edit=edit)
    with captured() as out:
        rc = main(["render", "--inventory", str(inv), "--out", str(tmp_path / "out")])
    assert rc == 2
    err = out["stderr"].getvalue()
    assert "edge: asn=0" in err
    assert "edge: bgp.neighbors.2.description='isp ********\\n'" in err
    assert_nowhere(SECRET, *everything(out))


# --- deploy (fake VyOS) -----------------------------------------------------------------------


class FakeVyos:
    """netmiko's VyOS driver as tests/test_deploy_vyos.py fakes it: `compare` shows what was
    set beyond the committed configuration, with VyOS's quoting."""

    def __init__(self, fail_commit: bool = False) -> None:
        self.sent: list[str] = []
        self.fail_commit = fail_commit

    def config_mode(self) -> str:
        return ""

    def send_config_set(self, commands: list[str], exit_config_mode: bool = True) -> str:
        self.sent += commands
        return ""

    def send_command(self, command: str, **_: Any) -> str:
        if command == "compare":
            return "\n".join(f"+{c}" for c in self.sent)
        return ""

    def commit(self) -> str:
        if self.fail_commit:
            bad = next(c for c in self.sent if " password " in c)
            raise RuntimeError(f"Commit failed: [ {bad} ] invalid TCP-MD5 key")
        return ""

    def exit_config_mode(self) -> str:
        return ""


def _fake_devices(monkeypatch: pytest.MonkeyPatch, fail_commit: bool = False
                  ) -> dict[str, FakeVyos]:
    devices: dict[str, FakeVyos] = {}

    def get_connection(self: Host, connection: str, configuration: Any) -> FakeVyos:
        return devices.setdefault(self.name, FakeVyos(fail_commit))

    monkeypatch.setattr(Host, "get_connection", get_connection)
    return devices


def test_deploy_dry_run_diff_and_json_are_redacted(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    devices = _fake_devices(monkeypatch)
    inv = write_inventory(tmp_path, "inventory/vyos-seed", password={"password_env": ENV})
    report = tmp_path / "deploy.json"
    with captured() as out:
        rc = main(["deploy", "--inventory", str(inv), "-g", "routers", "--dry-run",
                   "--json", str(report)])
    assert rc == 0, out["stdout"].getvalue() + out["stderr"].getvalue()
    # The device gets the real password; the printed diff shows the line, redacted.
    assert any(f"password '{SECRET}'" in c for c in devices["edge"].sent)
    assert "neighbor 10.12.12.1 password '********'" in " ".join(out["stdout"].getvalue().split())
    data = json.loads(report.read_text())
    assert "password '********'" in data["hosts"]["edge"]["diff"]
    assert_nowhere(SECRET, *everything(out, report))


def test_deploy_error_echoing_the_password_is_redacted_everywhere(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_devices(monkeypatch, fail_commit=True)
    inv = write_inventory(tmp_path, "inventory/vyos-seed", password={"password_env": ENV})
    report = tmp_path / "deploy.json"
    with captured() as out:
        rc = main(["deploy", "--inventory", str(inv), "-g", "routers", "--json", str(report)])
    assert rc == 1
    printed = " ".join(out["stdout"].getvalue().split())
    assert "Commit failed" in printed and "password '********' ] invalid TCP-MD5 key" in printed
    assert "Commit failed" in out["logs"].getvalue()  # Nornir logged the traceback, redacted
    assert json.loads(report.read_text())["hosts"]["edge"]["failed"] is True
    assert_nowhere(SECRET, *everything(out, report))


# --- verify -----------------------------------------------------------------------------------


class EchoingDevice:
    """Answers every command with an error that quotes the password (a CLI echoing input)."""

    def send_command(self, command: str, **_: Any) -> str:
        return f"% Unknown command: neighbor 10.12.12.1 password {SECRET}"


def test_verify_messages_and_json_are_redacted(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Host, "get_connection", lambda self, c, cfg: EchoingDevice())
    inv = write_inventory(tmp_path, "inventory", password={"password_env": ENV})
    report = tmp_path / "verify.json"
    with captured() as out:
        rc = main(["verify", "--inventory", str(inv), "-H", "edge", "--json", str(report)])
    assert rc == 1
    assert "password ********" in " ".join(out["stdout"].getvalue().split())
    assert "password ********" in report.read_text()
    assert_nowhere(SECRET, *everything(out, report))


# --- SSH passwords ----------------------------------------------------------------------------


def _with_defaults_password(tmp_path: Path, password: Any) -> Path:
    inv = write_inventory(tmp_path, "inventory/vyos-seed")
    defaults = yaml.safe_load((inv / "defaults.yaml").read_text())
    defaults["password"] = password
    (inv / "defaults.yaml").write_text(yaml.safe_dump(defaults))
    return inv


def test_ssh_password_from_env_or_file_reaches_nornir_and_is_registered(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    nr = load_nornir(_with_defaults_password(tmp_path / "a", {"env": SSH_ENV}))
    assert {h.password for h in nr.inventory.hosts.values()} == {SSH_SECRET}
    assert secrets.redact(f"login {SSH_SECRET}") == "login ********"
    secrets.forget_all()
    pw = tmp_path / "ssh.secret"
    pw.write_text("from-a-file\n")
    nr = load_nornir(_with_defaults_password(tmp_path / "b", {"file": str(pw)}))
    assert nr.inventory.hosts["edge"].password == "from-a-file"
    params = nr.inventory.hosts["edge"].get_connection_parameters("netmiko")
    assert params.password == "from-a-file"


@pytest.mark.parametrize(("password", "field", "words"), [
    ("hunter2-in-the-repo", "password", "never written in the inventory"),
    ({"env": "NA_TEST_UNSET_VARIABLE"}, "password.env", "is not set"),
    ({"env": "hunter2-in-the-repo"}, "password.env", "NAME of an environment variable"),
    ({"vault": "x"}, "password", "exactly one of"),
])
def test_ssh_password_errors_exit_2_and_never_show_a_value(
        tmp_path: Path, password: Any, field: str, words: str) -> None:
    inv = _with_defaults_password(tmp_path, password)
    with pytest.raises(InventoryError) as exc:
        load_nornir(inv)
    [p] = exc.value.problems
    assert (p.host, p.field) == ("defaults", field) and words in p.message, p
    with captured() as out:
        rc = main(["deploy", "--inventory", str(inv), "--dry-run"])
    assert rc == 2
    assert_nowhere("hunter2", *everything(out))


def test_shipped_inventories_hold_no_password() -> None:
    for f in ROOT.glob("inventory/**/*.yaml"):
        doc = yaml.safe_load(f.read_text()) or {}
        for entry in [doc, *doc.values()] if isinstance(doc, dict) else []:
            if isinstance(entry, dict) and "password" in entry:
                assert isinstance(entry["password"], dict), f
    assert os.environ.get(ENV) == SECRET


# --- load time --------------------------------------------------------------------------------


def test_initnornir_reads_bgp_passwords_at_load_so_verify_redacts_them(tmp_path: Path) -> None:
    """A runbook that loads with InitNornir and never renders (verify, drain) still has every BGP
    password registered: a device echoing one is shown as ********."""
    from nornir import InitNornir

    inv = write_inventory(tmp_path, "inventory", password={"password_env": ENV})
    assert secrets.redact(f"neighbor x password {SECRET}") != "neighbor x password ********"
    nr = InitNornir(config_file=str(inv / "config.yaml"))
    try:
        assert secrets.redact(f"neighbor x password {SECRET}") == "neighbor x password ********"
    finally:
        nr.close_connections()


def test_initnornir_refuses_an_unset_bgp_password_variable(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from nornir import InitNornir

    inv = write_inventory(tmp_path, "inventory", password={"password_env": ENV})
    monkeypatch.delenv(ENV)
    with pytest.raises(InventoryError) as info:
        InitNornir(config_file=str(inv / "config.yaml"))
    assert f"bgp.neighbors.0.password_env='{ENV}'" in str(info.value)
    assert "is not set" in str(info.value) or "not set" in str(info.value)
