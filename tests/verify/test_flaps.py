"""Flaps verify can see (issue 11): the routers' down counters against the stored baseline.

The comparison (nornir_anycast.verify.checks.flaps), the store (nornir_anycast.deploy.baseline),
and the whole path through run_deploy / run_verify / the CLI with recording fake connections
that answer with the counters captured on the lab (tests/captures/frr/counters_*)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from fake_devices import FakeLinux, patch_connections
from paths import CAPTURES, ROOT

from nornir_anycast.cli.output import stdout_console
from nornir_anycast.cli.verify import print_report
from nornir_anycast.deploy import baseline
from nornir_anycast.deploy.baseline import (
    baseline_file,
    inventory_key,
    load_baseline,
    store_baseline,
)
from nornir_anycast.deploy.runner import run_deploy
from nornir_anycast.design import registry
from nornir_anycast.design.model import Design
from nornir_anycast.inventory.loader import load_nornir
from nornir_anycast.parsing.counters import SessionCounters
from nornir_anycast.verify.checks import Check, severity_of
from nornir_anycast.verify.checks.flaps import check_flaps, when_text
from nornir_anycast.verify.runner import VerifyReport, run_verify

AT = dt.datetime(2026, 12, 1, 12, 1, 5, tzinfo=dt.UTC)
NOW = AT + dt.timedelta(minutes=5)
S1, S2, ISP = "10.12.12.1", "10.12.12.2", "172.16.42.2"


def _c(bfd: int | None, bgp: int | None) -> SessionCounters:
    return {"bfd_down": bfd, "bgp_dropped": bgp}


@pytest.fixture(scope="module")
def design() -> Design:
    found = registry.lookup(load_nornir(ROOT / "inventory"))
    assert found is not None
    return found


# --- the comparison -------------------------------------------------------------------------

def test_moved_counters_are_warnings_naming_the_session_and_the_count(design: Design) -> None:
    before = {S1: _c(0, 0), S2: _c(1, 1), ISP: _c(None, 0)}
    now = {S1: _c(2, 1), S2: _c(1, 1), ISP: _c(None, 0)}
    found = check_flaps(design.hosts["edge"], design, before, now, by="verify",
                        recorded_at=AT, now=NOW)
    assert [(c.name, c.host, c.severity, c.passed, c.expected, c.actual) for c in found] == [
        ("bfd_session_flapped", "edge", "warning", True, 0, 2),
        ("bgp_session_flapped", "edge", "warning", True, 0, 1),
    ]
    assert found[0].message == ("BFD session to server-1 (10.12.12.1) went down 2 times since "
                                "the previous verify (12:01:05 UTC)")
    assert found[1].message == ("BGP session to server-1 (10.12.12.1) went down 1 time since "
                                "the previous verify (12:01:05 UTC)")


def test_since_deploy_and_an_older_date(design: Design) -> None:
    found = check_flaps(design.hosts["edge"], design, {ISP: _c(None, 0)}, {ISP: _c(None, 3)},
                        by="deploy", recorded_at=AT, now=AT + dt.timedelta(days=2))
    assert [c.message for c in found] == [
        "BGP session to isp (172.16.42.2) went down 3 times since deploy "
        "(2026-12-01 12:01:05 UTC)"]


def test_unchanged_counters_say_nothing(design: Design) -> None:
    same = {S1: _c(1, 1), S2: _c(0, 0)}
    assert check_flaps(design.hosts["edge"], design, same, dict(same), recorded_at=AT) == []


def test_a_lower_counter_is_a_note_not_a_warning(design: Design) -> None:
    found = check_flaps(design.hosts["edge"], design, {S2: _c(4, 2)}, {S2: _c(0, 2)},
                        by="verify", recorded_at=AT, now=NOW)
    assert [(c.name, c.severity, c.passed, c.expected, c.actual) for c in found] == [
        ("session_counters_reset", "info", True, 4, 0)]
    assert "server-2 (10.12.12.2) went back from 4 to 0" in found[0].message
    assert "bfdd restarted?" in found[0].message


def test_no_baseline_and_new_sessions_say_nothing(design: Design) -> None:
    assert check_flaps(design.hosts["edge"], design, None, {S1: _c(5, 5)}) == []
    assert check_flaps(design.hosts["edge"], design, {S1: _c(0, 0)},
                       {S1: _c(0, 0), "10.12.12.9": _c(3, 3)}, recorded_at=AT) == []


def test_an_address_no_host_owns_is_named_by_address(design: Design) -> None:
    found = check_flaps(design.hosts["edge"], design, {"192.0.2.7": _c(None, 0)},
                        {"192.0.2.7": _c(None, 1)}, recorded_at=AT, now=NOW)
    assert found[0].message.startswith("BGP session to 192.0.2.7 went down 1 time")


def test_severity_of_checks() -> None:
    ok = Check("x", "edge", True, 1, 1, "fine").as_dict()
    bad = Check("x", "edge", False, 1, 2, "wrong").as_dict()
    warn = Check("x", "edge", True, 0, 1, "flapped", severity="warning").as_dict()
    assert [ok["severity"], bad["severity"], warn["severity"]] == ["ok", "error", "warning"]
    assert list(ok) == ["name", "host", "passed", "expected", "actual", "message", "severity"]
    assert severity_of({"passed": False}) == "error"  # a dict from before severities
    with pytest.raises(ValueError, match="never fails verify"):
        Check("x", "edge", False, 0, 1, "flapped", severity="warning")
    with pytest.raises(ValueError, match="not one of"):
        Check("x", "edge", True, 0, 1, "flapped", severity="critical")


# --- the store ------------------------------------------------------------------------------

def test_store_lives_in_the_home_keyed_by_the_inventory(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(baseline, "STATE_DIR", Path(".state") / "counters")  # the real one
    monkeypatch.setenv("NORNIR_ANYCAST_HOME", str(tmp_path / "home"))
    nr = load_nornir(ROOT / "inventory")
    key = inventory_key(nr)
    assert key == str(ROOT / "inventory")
    path = store_baseline(key, {"edge": {S1: _c(0, 1)}}, by="deploy", now=AT)
    assert path.parent == tmp_path / "home" / ".state" / "counters"
    assert path == baseline_file(key)
    doc = json.loads(path.read_text())
    assert doc == {"inventory": key, "hosts": {"edge": {
        "by": "deploy", "recorded_at": "2026-12-01T12:01:05Z",
        "sessions": {S1: {"bfd_down": 0, "bgp_dropped": 1}}}}}
    got = load_baseline(key)["edge"]
    assert (got.by, got.recorded_at, got.sessions) == ("deploy", AT, {S1: _c(0, 1)})
    # nothing in the inventory's own directory
    assert not list((ROOT / "inventory").glob("*.json"))


def test_store_replaces_the_hosts_it_is_given_and_keeps_the_others() -> None:
    key = "/somewhere/inventory"
    store_baseline(key, {"edge": {S1: _c(0, 0)}, "isp": {"172.16.42.3": _c(None, 0)}},
                   by="deploy", now=AT)
    store_baseline(key, {"edge": {S1: _c(1, 1)}}, by="verify", now=NOW)
    got = load_baseline(key)
    assert got["edge"].sessions == {S1: _c(1, 1)} and got["edge"].by == "verify"
    assert got["isp"].sessions == {"172.16.42.3": _c(None, 0)} and got["isp"].by == "deploy"
    assert load_baseline("/another/inventory") == {}


def test_an_unreadable_or_foreign_file_is_no_baseline() -> None:
    key = "/somewhere/inventory"
    path = baseline_file(key)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{not json")
    assert load_baseline(key) == {}
    path.write_text(json.dumps({"inventory": "/other", "hosts": {}}))
    assert load_baseline(key) == {}
    store_baseline(key, {"edge": {S1: _c(0, 0)}}, by="verify", now=AT)  # starts again
    assert set(load_baseline(key)) == {"edge"}


# --- through run_deploy, run_verify and the CLI ---------------------------------------------

def _edge(state: str) -> FakeLinux:
    d = CAPTURES / "frr" / f"counters_{state}"
    return FakeLinux(answers={
        r"show ip bgp neighbors'?$": (d / "edge__show_ip_bgp_neighbors.txt").read_text(),
        r"show bfd peers counters": (d / "edge__show_bfd_peers_counters.txt").read_text(),
    })


def _isp() -> FakeLinux:
    return FakeLinux(answers={r"show ip bgp neighbors'?$": (
        "BGP neighbor is 172.16.42.3, remote AS 65500, local AS 65000, external link\n"
        "  BGP state = Established, up for 00:01:00\n"
        "  Connections established 1; dropped 0\n")})


def _warnings(report: VerifyReport) -> list[dict[str, Any]]:
    return [c for c in report.checks if c.get("severity") in ("warning", "info")]


def test_a_dry_run_deploy_writes_no_baseline(monkeypatch: pytest.MonkeyPatch) -> None:
    nr = load_nornir(ROOT / "inventory")
    devices = patch_connections(monkeypatch)
    devices["edge"], devices["isp"] = _edge("fresh"), _isp()
    report = run_deploy(nr, dry_run=True)
    assert report.dry_run
    assert not baseline_file(inventory_key(nr)).exists()
    assert not any("show ip bgp neighbors" in c for c in devices["edge"].sent)


def test_deploy_records_and_verify_warns_once_per_flap(monkeypatch: pytest.MonkeyPatch) -> None:
    nr = load_nornir(ROOT / "inventory")
    devices = patch_connections(monkeypatch)
    devices["edge"], devices["isp"] = _edge("fresh"), _isp()
    run_deploy(nr)  # the fakes do not make a working network; the routers' counters are read
    stored = load_baseline(inventory_key(nr))
    assert stored["edge"].by == "deploy"
    assert stored["edge"].sessions == {S1: _c(0, 0), S2: _c(0, 0), ISP: _c(None, 0)}
    assert stored["isp"].sessions == {"172.16.42.3": _c(None, 0)}

    first = run_verify(nr)  # nothing moved since deploy
    assert _warnings(first) == []
    since = when_text(load_baseline(inventory_key(nr))["edge"].recorded_at)

    devices["edge"] = _edge("flapped")  # both servers' sessions went down once
    nr.inventory.hosts["edge"].connections.clear()
    second = run_verify(nr)
    got = sorted((c["name"], c["message"]) for c in _warnings(second))
    assert got == [
        ("bfd_session_flapped", f"BFD session to server-1 ({S1}) went down 1 time since the "
                                f"previous verify ({since})"),
        ("bfd_session_flapped", f"BFD session to server-2 ({S2}) went down 1 time since the "
                                f"previous verify ({since})"),
        ("bgp_session_flapped", f"BGP session to server-1 ({S1}) went down 1 time since the "
                                f"previous verify ({since})"),
        ("bgp_session_flapped", f"BGP session to server-2 ({S2}) went down 1 time since the "
                                f"previous verify ({since})"),
    ]
    assert all(c["passed"] and c["host"] == "edge" for c in _warnings(second))
    assert _warnings(run_verify(nr)) == []  # reported once: the next verify counts from here


def test_a_dry_run_verify_compares_but_stores_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    nr = load_nornir(ROOT / "inventory", dry_run=True)
    devices = patch_connections(monkeypatch)
    devices["edge"], devices["isp"] = _edge("flapped"), _isp()
    key = inventory_key(nr)
    store_baseline(key, {"edge": {S1: _c(0, 0)}}, by="deploy", now=AT)
    report = run_verify(nr)
    assert [c["name"] for c in _warnings(report)] == ["bfd_session_flapped",
                                                      "bgp_session_flapped"]
    assert load_baseline(key)["edge"].sessions == {S1: _c(0, 0)}  # unchanged


def test_a_router_that_cannot_be_read_is_a_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    nr = load_nornir(ROOT / "inventory")
    devices = patch_connections(monkeypatch)
    devices["edge"] = FakeLinux(answers={r"show ip bgp neighbors": "% Unknown command: x"})
    devices["isp"] = _isp()
    report = run_verify(nr)
    unread = [c for c in _warnings(report) if c["name"] == "session_counters"]
    assert [c["host"] for c in unread] == ["edge"]
    assert "the device answered: % Unknown command" in unread[0]["message"]


def test_a_baseline_that_cannot_be_stored_is_a_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    from nornir_anycast.verify import runner

    def refuse(*_: Any, **__: Any) -> Path:
        raise PermissionError(13, "Permission denied", "/state/counters")

    nr = load_nornir(ROOT / "inventory")
    devices = patch_connections(monkeypatch)
    devices["edge"], devices["isp"] = _edge("fresh"), _isp()
    monkeypatch.setattr(runner, "store_baseline", refuse)
    found = runner.flap_checks(nr, registry.lookup(nr) or pytest.fail("no design"))
    assert [(c["name"], c["severity"], c["passed"]) for c in found] == [
        ("session_counters", "warning", True)]
    assert "could not store the session down counters: [Errno 13] Permission denied" in \
        found[0]["message"]


def _report(checks: list[dict[str, Any]]) -> VerifyReport:
    from nornir_anycast.verify.runner import HostOutcome

    return VerifyReport(ok=all(c["passed"] for c in checks), converged_after_s=1.0,
                        checks=checks, hosts=[HostOutcome("edge", "edge", False, 0.5)])


def test_the_terminal_report_shows_warnings_apart(capsys: pytest.CaptureFixture[str]) -> None:
    ok = Check("router_bgp_session", "edge", True, "Established", "Established", "up")
    warn = Check("bfd_session_flapped", "edge", True, 0, 2, severity="warning",
                 message="BFD session to server-1 (10.12.12.1) went down 2 times since the "
                         "previous verify (12:01:05 UTC)")
    note = Check("session_counters_reset", "edge", True, 4, 0, severity="info",
                 message="BGP down counter of the session to isp (172.16.42.2) went back")
    print_report(_report([ok.as_dict(), warn.as_dict(), note.as_dict()]), stdout_console())
    out = capsys.readouterr().out
    assert "ok (1 check, 1 warning, 1 note)" in out
    assert ("WARN edge bfd_session_flapped: BFD session to server-1 (10.12.12.1) went down 2 "
            "times since the previous verify (12:01:05 UTC)") in out
    assert "NOTE edge session_counters_reset: BGP down counter" in out
    assert "verify passed: 1 check, 1 warning, 1 note" in out
    assert "FAIL" not in out


def test_without_warnings_the_report_is_as_before(capsys: pytest.CaptureFixture[str]) -> None:
    ok = Check("router_bgp_session", "edge", True, "Established", "Established", "up")
    print_report(_report([ok.as_dict()]), stdout_console())
    out = capsys.readouterr().out
    assert "ok (1 check)" in out and "verify passed: 1 check\n" in out
    assert "WARN" not in out and "warning" not in out


def test_cli_verify_exits_0_with_a_warning_and_writes_its_severity(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from nornir_anycast.cli import verify as cli_verify

    warn = Check("bgp_session_flapped", "edge", True, 0, 1, severity="warning",
                 message="BGP session to server-1 (10.12.12.1) went down 1 time since deploy "
                         "(12:01:05 UTC)").as_dict()
    ok = Check("router_bgp_session", "edge", True, "Established", "Established", "up").as_dict()
    monkeypatch.setattr(cli_verify, "run_verify", lambda *a, **k: _report([ok, warn]))
    from nornir_anycast.cli.main import main

    out = tmp_path / "v.json"
    assert main(["verify", "-H", "edge", "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert doc["ok"] is True
    assert [(c["name"], c["severity"], c["passed"]) for c in doc["checks"]] == [
        ("router_bgp_session", "ok", True), ("bgp_session_flapped", "warning", True)]
