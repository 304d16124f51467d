"""run_drain and run_undrain in dry-run mode (asked, or InitNornir(dry_run=True)) report the
plan and change nothing on any host (recording fake connections, replayed edge output)."""

from __future__ import annotations

import pytest
from fake_devices import FakeLinux, patch_connections
from nornir.core import Nornir
from paths import CAPTURES

from nornir_anycast.design import registry
from nornir_anycast.design.build import build_design
from nornir_anycast.drain.runner import run_drain, run_undrain
from nornir_anycast.inventory.loader import load_nornir
from nornir_anycast.render import render_host

ROUTE = (CAPTURES / "linux" / "two_equal" / "edge__ip_route_show_10.13.13.1.txt").read_text()
PROTOCOLS = (CAPTURES / "bird2" / "admin_down" / "server-2__birdc_show_protocols.txt"
             ).read_text()


def _lab(monkeypatch: pytest.MonkeyPatch, marker: str | None = None,
         dry_run: bool = False) -> tuple[Nornir, dict[str, FakeLinux]]:
    nr = load_nornir("inventory", dry_run=dry_run)
    design = build_design(nr)
    registry.attach(nr, design)
    devices = patch_connections(monkeypatch)
    bird = render_host(design.hosts["server-2"], design)["bird.conf"]
    files = {str(bird.path): bird.content}
    if marker:
        files["/etc/bird/nornir-anycast-drained"] = marker
    devices["server-2"] = FakeLinux(files=files, running=True,
                                    answers={"show protocols": PROTOCOLS})
    devices["edge"] = FakeLinux(answers={r"^ip route show": ROUTE})
    return nr, devices


@pytest.mark.parametrize("how", ["argument", "InitNornir"])
def test_drain_dry_run_reports_the_plan_and_writes_nothing(
        monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    nr, devices = _lab(monkeypatch, dry_run=how == "InitNornir")
    before = dict(devices["server-2"].files)
    report = (run_drain(nr, None, "server-2", grace=30.0, dry_run=True) if how == "argument"
              else run_drain(nr, None, "server-2", grace=30.0))
    assert report.ok and report.dry_run and not report.changed, report.error
    assert report.seconds < 5  # no grace period slept, no waiting
    names = [s.name for s in report.steps]
    assert names[0] == "checked" and "would lower preference" in names
    assert names[-1] == "would keep a grace period"
    assert "bgp_local_pref = 0" in report.diff
    assert report.as_json()["dry_run"] is True
    assert devices["server-2"].files == before
    for name in ("server-2", "edge"):
        assert devices[name].writes() == [], (name, devices[name].writes())


def test_drain_dry_run_still_refuses_what_a_drain_would_refuse(
        monkeypatch: pytest.MonkeyPatch) -> None:
    nr, devices = _lab(monkeypatch)
    only = "10.13.13.1 nhid 13 via 10.12.12.2 dev eth0 proto bgp metric 20 \n"
    devices["edge"].answers = {r"^ip route show": only}
    report = run_drain(nr, None, "server-2", dry_run=True)
    assert not report.ok and "refusing to drain server-2" in (report.error or "")
    assert devices["server-2"].writes() == []


def test_undrain_dry_run_reports_and_keeps_the_marker(monkeypatch: pytest.MonkeyPatch) -> None:
    nr, devices = _lab(monkeypatch, marker="phase=withdrawn\n", dry_run=True)
    before = dict(devices["server-2"].files)
    report = run_undrain(nr, None, "server-2")
    assert report.ok and report.dry_run and not report.changed, report.error
    assert [s.name for s in report.steps][-1] == "would announce"
    assert devices["server-2"].files == before
    assert devices["server-2"].writes() == []
