"""Rollback honours Nornir's dry run: rollback_anycast lists what it would undo and sends
nothing; run_deploy_with_rollback on a dry-run Nornir deploys as a dry run, verifies once
(verify is passed in: deploy does not import the verify stage) and rolls nothing back."""

from __future__ import annotations

from typing import Any

import pytest
from fake_devices import FakeLinux, patch_connections

from nornir_anycast.deploy.journal import Journal
from nornir_anycast.deploy.rollback import run_deploy_with_rollback
from nornir_anycast.design import registry
from nornir_anycast.design.build import build_design
from nornir_anycast.inventory.loader import load_nornir
from nornir_anycast.tasks import rollback_anycast


class Outcome:
    def __init__(self, ok: bool) -> None:
        self.ok = ok

    def as_json(self) -> dict[str, Any]:
        return {"ok": self.ok}


@pytest.fixture
def fake_linux(monkeypatch: pytest.MonkeyPatch) -> dict[str, FakeLinux]:
    return patch_connections(monkeypatch)


def test_rollback_task_in_dry_run_lists_the_steps_and_sends_nothing(
        fake_linux: dict[str, FakeLinux]) -> None:
    nr = load_nornir("inventory", dry_run=True)
    registry.attach(nr, build_design(nr))
    journal = Journal()
    log = journal.host("server-2", "linux")
    log.files += [("/etc/bird/bird.conf", True), ("/var/www/anycast/file", False)]
    log.services.append("reload bird")
    agg = nr.filter(name="server-2").run(task=rollback_anycast, journal=journal)
    res = agg["server-2"][0]
    assert not res.failed and not res.changed
    assert res.result == ["would remove /var/www/anycast/file (new in this deploy)",
                          "would restore /etc/bird/bird.conf", "would undo 'reload bird'"]
    assert "server-2" not in fake_linux  # not even connected


@pytest.mark.parametrize("verify_ok", [True, False])
def test_deploy_with_rollback_on_a_dry_run_nornir_changes_nothing(
        fake_linux: dict[str, FakeLinux], verify_ok: bool) -> None:
    nr = load_nornir("inventory", dry_run=True)
    registry.attach(nr, build_design(nr))
    seen: list[float] = []

    def verify(nr: Any, design: Any, wait: float = 0.0, **_: Any) -> Outcome:
        seen.append(wait)
        return Outcome(verify_ok)

    run = run_deploy_with_rollback(nr, verify=verify, wait=30.0)
    assert run.deploy.dry_run and run.deploy.ok
    assert all(not h.changed for h in run.deploy.hosts)
    assert not run.rolled_back and run.restored == {} and run.confirmed == []
    assert seen == [0.0]  # once, without waiting: nothing changed to converge
    assert run.ok is verify_ok
    for name, dev in fake_linux.items():
        assert all(".na-new" in w for w in dev.writes()), (name, dev.writes())
