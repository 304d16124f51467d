"""run_verify without a lab: every device refuses every command (a fake netmiko connection), so
every attempt fails; what the runner reports and when it calls on_attempt."""

from __future__ import annotations

from typing import Any

import pytest
from nornir.core.inventory import Host
from paths import ROOT

from nornir_anycast.design.registry import NoDesignError
from nornir_anycast.inventory.loader import load_nornir, select
from nornir_anycast.verify.runner import VerifyReport, run_verify


class Refuses:
    """A netmiko connection that answers every command with an FRR/BIRD-style error."""

    def send_command(self, command: str, **_: Any) -> str:
        return "% Unknown command: " + command


@pytest.fixture
def refusing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Host, "get_connection", lambda self, c, cfg: Refuses())


@pytest.mark.usefixtures("refusing")
def test_run_verify_finds_the_design_attached_at_load_time() -> None:
    nr = load_nornir(ROOT / "inventory")
    report = run_verify(select(nr, hosts=["edge"]), everyone=nr)  # no design=
    assert not report.ok and report.attempts == 1
    assert {c["host"] for c in report.checks} == {"edge"}
    assert all("the device answered: % Unknown command" in c["message"]
               for c in report.checks if c["message"].startswith("could not read state"))
    assert [h.host for h in report.hosts] == ["edge"] and report.hosts[0].failed


@pytest.mark.usefixtures("refusing")
def test_on_attempt_is_called_before_each_retry_and_not_after_the_last_attempt() -> None:
    nr = load_nornir(ROOT / "inventory")
    calls: list[tuple[int, VerifyReport]] = []
    report = run_verify(select(nr, hosts=["edge"]), wait=0.6, interval=0.05,
                        on_attempt=lambda n, r, elapsed: calls.append((n, r)), everyone=nr)
    assert not report.ok and report.attempts >= 2
    assert [n for n, _ in calls] == list(range(1, report.attempts))  # not the last one
    assert all(not r.ok for _, r in calls)


def test_run_verify_without_any_design_says_how_to_get_one() -> None:
    from nornir import InitNornir

    nr = InitNornir(inventory={"plugin": "SimpleInventory", "options": {
        "host_file": str(ROOT / "tests" / "inventories" / "three-servers" / "hosts.yaml"),
        "group_file": str(ROOT / "tests" / "inventories" / "three-servers" / "groups.yaml"),
        "defaults_file": str(ROOT / "tests" / "inventories" / "three-servers" /
                             "defaults.yaml")}}, logging={"enabled": False})
    with pytest.raises(NoDesignError, match="AnycastInventory"):
        run_verify(nr)
