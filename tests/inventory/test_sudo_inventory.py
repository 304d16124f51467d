"""`privilege` and the sudo password in the inventory: bad values are named by host, field and
value before any device is touched; the password comes from its variable or file and is
redacted from Results, log records and exceptions."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
import yaml
from designs import debian_inventory
from fake_devices import FakeLinux

from nornir_anycast.design.model import HostModel
from nornir_anycast.exceptions import InventoryError, Problem
from nornir_anycast.inventory import secrets
from nornir_anycast.inventory.loader import load_nornir
from nornir_anycast.tasks import send_parsed

PASSWORD = "Op5-sudo-Secret"
ENV = "NA_TEST_OPS_SUDO_PASSWORD"


@pytest.fixture(autouse=True)
def _forget() -> Any:
    yield
    secrets.forget_all()


def _edit_defaults(inv: Path, **data: Any) -> Path:
    path = inv / "defaults.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["data"].update(data)
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return inv


def _problems(inv: Path) -> list[Problem]:
    with pytest.raises(InventoryError) as err:
        load_nornir(inv)
    return err.value.problems


def _one(problems: list[Problem], field: str, *words: str) -> Problem:
    hit = [p for p in problems if p.field == field and all(w in p.message for w in words)]
    assert hit, "; ".join(map(str, problems))
    return hit[0]


def test_privilege_is_root_or_sudo_named_with_host_field_and_value(tmp_path: Path) -> None:
    inv = _edit_defaults(debian_inventory(tmp_path / "inv"), privilege="admin")
    p = _one(_problems(inv), "privilege", "'root' or 'sudo'")
    assert p.value == "admin" and p.host == "defaults"
    assert HostModel.model_fields["privilege"].default == "root"


def test_sudo_password_settings_are_checked_before_anything_is_touched(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, PASSWORD)
    inv = _edit_defaults(debian_inventory(tmp_path / "a"), sudo_password_env=PASSWORD)
    p = _one(_problems(inv), "sudo_password_env", "NAME of an environment variable")
    assert p.value == "(hidden)" and PASSWORD not in str(p)
    both = _edit_defaults(debian_inventory(tmp_path / "b"), sudo_password_env=ENV,
                          sudo_password_file="pw")
    _one(_problems(both), "sudo_password_file", "not both")
    root = _edit_defaults(debian_inventory(tmp_path / "c"), privilege="root",
                          sudo_password_env=ENV)
    _one(_problems(root), "sudo_password_env", "privilege is 'root'")


def test_vyos_hosts_take_no_sudo(tmp_path: Path) -> None:
    inv = tmp_path / "vyos"
    inv.mkdir()
    src = Path(__file__).resolve().parents[2] / "inventory" / "vyos-seed"
    for f in ("hosts.yaml", "groups.yaml", "defaults.yaml"):
        (inv / f).write_text((src / f).read_text())
    _edit_defaults(inv, privilege="sudo")
    p = _one(_problems(inv), "privilege", "VyOS")
    assert p.host in ("isp", "edge") and p.value == "sudo"


def test_an_unset_variable_or_missing_file_names_host_field_and_where(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV, raising=False)
    inv = _edit_defaults(debian_inventory(tmp_path / "a"), sudo_password_env=ENV)
    p = _one(_problems(inv), "sudo_password_env", f"{ENV} is not set", "sudo password")
    assert p.value == ENV
    inv = _edit_defaults(debian_inventory(tmp_path / "b"), sudo_password_file="no-such-file")
    p = _one(_problems(inv), "sudo_password_file", "cannot read", "sudo password")
    assert str(p.value).endswith("/b/no-such-file")  # relative: from the inventory's directory


def test_the_password_is_redacted_from_results_logs_and_errors(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "pw").write_text(PASSWORD + "\n")
    inv = _edit_defaults(debian_inventory(tmp_path / "inv"), sudo_password_file="../pw")
    nr = load_nornir(inv)
    assert secrets.redact(f"x {PASSWORD} y") == "x ******** y"
    # A device that echoes the password (a misconfigured prompt, a log line): ********.
    conn = FakeLinux(answers={"birdc": f"Password: {PASSWORD}\nsyntax error"})
    monkeypatch.setattr(type(nr.inventory.hosts["server-1"]), "get_connection",
                        lambda self, *a: conn)
    result = nr.filter(name="server-1").run(task=send_parsed, command="show protocols")
    r = result["server-1"][0]
    assert r.failed and conn.sudo == ["sudo -n birdc -s /run/bird/bird.ctl show protocols"]
    for text in (r.raw, str(r.result), repr(r.exception), r.sent):  # type: ignore[attr-defined]
        assert PASSWORD not in text, text
    with caplog.at_level(logging.INFO):
        logging.getLogger("nornir_anycast.test").warning("typed %s", PASSWORD)
    assert PASSWORD not in caplog.text and "********" in caplog.text
    me = HostModel.model_validate({"name": "s", "platform": "linux", "role": "server",
                                   "privilege": "sudo", "sudo_password_file": "pw"})
    assert PASSWORD not in repr(me)
