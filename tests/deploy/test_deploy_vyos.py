"""Deploy to VyOS through a recording fake connection (VyOS cannot run here).

The fake stands in for netmiko's VyOS driver: it records what deploy sends, and answers
`compare` the way VyOS does. What was sent is checked against the seed's own commands
(tests/golden/, copied from the seed howto).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from nornir.core.inventory import Host
from paths import GOLDEN

from nornir_anycast.deploy.runner import run_deploy
from nornir_anycast.design.build import load_design
from nornir_anycast.inventory.loader import load_nornir, select


def golden(name: str) -> list[str]:
    return [ln.strip() for ln in (GOLDEN / name).read_text().splitlines()
            if ln.strip() and not ln.startswith("#")]


class FakeVyos:
    """Records calls like netmiko's VyOSSSH; `compare` answers with a diff of what was set
    beyond `running` (the committed configuration), or VyOS's "No changes" message."""

    def __init__(self, running: set[str]) -> None:
        self.running = running
        self.calls: list[tuple[str, Any]] = []
        self.candidate: list[str] = []

    def config_mode(self) -> str:
        self.calls.append(("config_mode", None))
        return ""

    def send_config_set(self, commands: list[str], exit_config_mode: bool = True) -> str:
        self.calls.append(("send_config_set", list(commands)))
        self.candidate += list(commands)
        return ""

    def send_command(self, command: str, **_: Any) -> str:
        self.calls.append(("send_command", command))
        if command == "compare":
            new = [c for c in self.candidate if c not in self.running]
            if not new:
                return "[edit]\nNo changes between working and active configurations"
            return "\n".join(f"+{c}" for c in new)
        if command == "exit discard":
            self.candidate = []
        if command == "show bfd peers counters":
            return "BFD Peers:\n"  # what FRR prints with no session yet (deploy's baseline read)
        return ""

    def commit(self) -> str:
        self.calls.append(("commit", None))
        self.running |= set(self.candidate)
        return ""

    def exit_config_mode(self) -> str:
        self.calls.append(("exit_config_mode", None))
        return ""

    def names(self) -> list[str]:
        return [c if a is None else f"{c}:{a}" if isinstance(a, str) else c
                for c, a in self.calls]


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch) -> dict[str, FakeVyos]:
    devices: dict[str, FakeVyos] = {}

    def get_connection(self: Host, connection: str, configuration: Any) -> FakeVyos:
        assert connection == "netmiko"
        return devices.setdefault(self.name, FakeVyos(set()))

    monkeypatch.setattr(Host, "get_connection", get_connection)
    return devices


def _routers(inventory: str):  # type: ignore[no-untyped-def]
    nr = load_nornir(inventory)
    design, _ = load_design(nr)
    return select(nr, groups=["routers"]), design


@pytest.mark.parametrize(("inventory", "host", "files"), [
    ("inventory/vyos-seed", "isp", ["vyos-seed_isp.set"]),
    ("inventory/vyos-seed", "edge", ["vyos-seed_edge.set"]),
    ("inventory/vyos-seed-dnat", "edge", ["vyos-seed_edge.set", "vyos-seed-dnat_edge.set"]),
])
def test_deploy_sends_every_seed_command_then_commits_and_saves(
        fakes: dict[str, FakeVyos], inventory: str, host: str, files: list[str]) -> None:
    nr, design = _routers(inventory)
    report = run_deploy(nr, design)
    assert report.ok, report.as_json()
    sent = next(a for c, a in fakes[host].calls if c == "send_config_set")
    for line in [ln for f in files for ln in golden(f)]:
        assert line in sent, f"{host}: seed line not sent: {line}"
    names = [c for c, _ in fakes[host].calls]
    assert names[:2] == ["config_mode", "send_config_set"]
    assert "commit" in names and ("send_command", "save") in fakes[host].calls
    h = {x.host: x for x in report.hosts}[host]
    assert h.changed and not h.failed
    assert "+set protocols bgp" in h.diff


def test_dry_run_discards_and_changes_nothing(fakes: dict[str, FakeVyos]) -> None:
    nr, design = _routers("inventory/vyos-seed")
    report = run_deploy(nr, design, dry_run=True)
    assert report.ok
    for name in ("isp", "edge"):
        calls = fakes[name].calls
        assert ("send_command", "exit discard") in calls
        assert all(c != "commit" for c, _ in calls)
        h = {x.host: x for x in report.hosts}[name]
        assert h.diff and not h.changed
        assert fakes[name].running == set()


def test_second_deploy_reports_no_change(fakes: dict[str, FakeVyos]) -> None:
    nr, design = _routers("inventory/vyos-seed")
    assert run_deploy(nr, design).ok
    report = run_deploy(nr, design)
    assert report.ok
    for h in report.hosts:
        assert not h.changed and h.diff == "", h
    assert [c for c, _ in fakes["edge"].calls].count("commit") == 1


def test_a_failing_device_is_reported_and_discarded(fakes: dict[str, FakeVyos]) -> None:
    nr, design = _routers("inventory/vyos-seed")
    broken = FakeVyos(set())

    def fail_commit() -> str:
        raise RuntimeError("Commit failed: [ protocols bgp 65500 ] bgpd failed")

    broken.commit = fail_commit  # type: ignore[method-assign]
    fakes["edge"] = broken
    report = run_deploy(nr, design)
    by = {x.host: x for x in report.hosts}
    assert not report.ok
    assert by["edge"].failed and "bgpd failed" in (by["edge"].error or "")
    assert not by["isp"].failed and by["isp"].changed
    assert ("send_command", "exit discard") in broken.calls


# deploy --rollback-on-failure: commit-confirm, `confirm` only once verify passed.

class ConfirmingVyos(FakeVyos):
    """Answers `commit-confirm N` as VyOS does (asks to proceed; `y` commits)."""

    def send_command(self, command: str, **kw: Any) -> str:
        if command.startswith("commit-confirm "):
            self.calls.append(("send_command", command))
            return ("commit confirm will be automatically reboot in "
                    f"{command.split()[1]} minutes unless confirmed\nProceed? [confirm]")
        if command == "y" and self.calls and self.calls[-1][1].startswith("commit-confirm"):
            self.calls.append(("send_command", command))
            self.running |= set(self.candidate)
            return "[edit]\nvyos@edge# "
        return super().send_command(command, **kw)


def _fake_verify(ok: bool, seen: list[str]):  # type: ignore[no-untyped-def]
    from nornir_anycast.verify.runner import VerifyReport

    def verify(nr: Any, design: Any, wait: float = 0.0, **_: Any) -> VerifyReport:
        seen.append("verify")
        check = {"name": "edge_multipath", "host": "edge", "passed": ok, "expected": "x",
                 "actual": "x" if ok else "y", "message": "ok" if ok else "wrong next hops"}
        return VerifyReport(ok=ok, converged_after_s=0.0 if ok else None, checks=[check])
    return verify


@pytest.fixture
def confirming(monkeypatch: pytest.MonkeyPatch) -> dict[str, ConfirmingVyos]:
    devices: dict[str, ConfirmingVyos] = {}

    def get_connection(self: Host, connection: str, configuration: Any) -> ConfirmingVyos:
        return devices.setdefault(self.name, ConfirmingVyos(set()))

    monkeypatch.setattr(Host, "get_connection", get_connection)
    return devices


def test_rollback_mode_commits_with_confirm_and_confirms_after_verify_passed(
        confirming: dict[str, ConfirmingVyos]) -> None:
    from nornir_anycast.deploy.rollback import run_deploy_with_rollback

    nr, design = _routers("inventory/vyos-seed")
    seen: list[str] = []
    run = run_deploy_with_rollback(nr, design, wait=0, confirm_minutes=7,
                                   verify=_fake_verify(True, seen))
    assert run.ok and not run.rolled_back, run.as_json()
    assert run.confirmed == ["edge", "isp"]
    for name in ("isp", "edge"):
        sent = [a for c, a in confirming[name].calls if c == "send_command"]
        assert "commit-confirm 7" in sent and "commit" not in [c for c, _ in
                                                               confirming[name].calls]
        # `confirm` and `save` only after commit-confirm, and save only after confirm.
        assert sent.index("commit-confirm 7") < sent.index("confirm") < sent.index("save")
        assert sent.count("save") == 1
    assert seen == ["verify"]
    assert run.as_json()["hosts"]["edge"]["changed"] is True


def test_rollback_mode_leaves_the_commit_unconfirmed_when_verify_fails(
        confirming: dict[str, ConfirmingVyos]) -> None:
    from nornir_anycast.deploy.rollback import run_deploy_with_rollback

    nr, design = _routers("inventory/vyos-seed")
    seen: list[str] = []
    run = run_deploy_with_rollback(nr, design, wait=0, confirm_minutes=3,
                                   verify=_fake_verify(False, seen))
    assert not run.ok and run.rolled_back
    assert seen == ["verify", "verify"]  # after deploy, and after the rollback
    for name in ("isp", "edge"):
        sent = [a for c, a in confirming[name].calls if c == "send_command"]
        assert "commit-confirm 3" in sent
        assert "confirm" not in sent and "save" not in sent
        entry = run.restored[name]
        assert not entry["failed"]
        assert "left unconfirmed" in entry["restored"][0]
        assert run.as_json()["hosts"][name]["rollback"]["restored"] == entry["restored"]
    assert run.as_json()["rolled_back"] is True


def test_plain_deploy_still_commits_and_saves_without_confirm(
        confirming: dict[str, ConfirmingVyos]) -> None:
    nr, design = _routers("inventory/vyos-seed")
    assert run_deploy(nr, design).ok
    sent = [a for c, a in confirming["edge"].calls if c == "send_command"]
    assert not any(s.startswith("commit-confirm") for s in sent) and "confirm" not in sent
    assert "commit" in [c for c, _ in confirming["edge"].calls] and "save" in sent


# VyOS 1.4 LTS and 1.5 (tests/inventories/vyos-current: ISP on 1.4.2, edge on 1.5): the same
# configure / compare / commit / save flow (VyOS 1.4 and 1.5 keep `compare`'s "No changes
# between working and active configurations" and `commit-confirm N` / `confirm`: vyos-1x
# python/vyos/config_mgmt.py, docs/cli.rst), with each release's own lines.

CURRENT = "tests/inventories/vyos-current"


def pinned(name: str) -> list[str]:
    return [ln for ln in (GOLDEN / "vyos" / name).read_text().splitlines()
            if ln.startswith("set ")]


@pytest.mark.parametrize(("host", "release"), [("isp", "1.4.2"), ("edge", "1.5")])
def test_deploy_to_vyos_14_and_15_sends_their_lines_commits_and_saves(
        fakes: dict[str, FakeVyos], host: str, release: str) -> None:
    nr, design = _routers(CURRENT)
    assert design.hosts[host].os_version == release
    report = run_deploy(nr, design)
    assert report.ok, report.as_json()
    sent = [a for c, a in fakes[host].calls if c == "send_config_set"]
    assert sent == [pinned(f"vyos-current_{host}.set")]
    assert [c for c, _ in fakes[host].calls][:2] == ["config_mode", "send_config_set"]
    assert ("send_command", "compare") in fakes[host].calls
    names = [c for c, _ in fakes[host].calls]
    assert names.count("commit") == 1 and ("send_command", "save") in fakes[host].calls
    assert names.index("commit") < fakes[host].calls.index(("send_command", "save"))
    h = {x.host: x for x in report.hosts}[host]
    assert h.changed and not h.failed
    assert "+set protocols bgp system-as" in h.diff
    assert not any(re.match(r"set protocols bgp \d+ ", ln) for ln in sent[0])
    # a second deploy: VyOS's "No changes" -> nothing committed again
    again = run_deploy(nr, design)
    assert again.ok and not {x.host: x for x in again.hosts}[host].changed
    assert [c for c, _ in fakes[host].calls].count("commit") == 1


def test_rollback_mode_on_vyos_14_and_15_confirms_after_verify(
        confirming: dict[str, ConfirmingVyos]) -> None:
    from nornir_anycast.deploy.rollback import run_deploy_with_rollback

    nr, design = _routers(CURRENT)
    seen: list[str] = []
    run = run_deploy_with_rollback(nr, design, wait=0, confirm_minutes=4,
                                   verify=_fake_verify(True, seen))
    assert run.ok and run.confirmed == ["edge", "isp"], run.as_json()
    for name in ("isp", "edge"):
        sent = [a for c, a in confirming[name].calls if c == "send_command"]
        assert sent.index("commit-confirm 4") < sent.index("confirm") < sent.index("save")
        assert next(a for c, a in confirming[name].calls if c == "send_config_set") == \
            pinned(f"vyos-current_{name}.set")
