"""A runbook on `InitNornir(dry_run=True)` changes nothing on any host (issue 10 §3): every
runner and every task with its default `dry_run=None`, against recording fake connections.
Only deploy's staging copies (`<path>.na-new`, checked on the target, removed again) are
written; verify, retried, writes nothing at all."""

from __future__ import annotations

from typing import Any

import pytest
from fake_devices import FakeLinux, patch_connections
from paths import CAPTURES

from nornir_anycast import run_deploy, run_deploy_with_rollback, run_drain, run_undrain, run_verify
from nornir_anycast.deploy.journal import Journal
from nornir_anycast.design import registry
from nornir_anycast.inventory.loader import load_nornir
from nornir_anycast.render import render_host
from nornir_anycast.tasks import (
    apply_drain,
    confirm_commit,
    deploy_anycast,
    read_drain_state,
    rollback_anycast,
    verify_anycast,
)

ROUTE = (CAPTURES / "linux" / "two_equal" / "edge__ip_route_show_10.13.13.1.txt").read_text()


def test_a_dry_run_runbook_writes_nothing_but_staging_copies(
        monkeypatch: pytest.MonkeyPatch) -> None:
    nr = load_nornir("inventory", dry_run=True)  # attaches the design: no design= below
    design = registry.lookup(nr)
    assert design is not None
    devices = patch_connections(monkeypatch)
    bird = render_host(design.hosts["server-2"], design)["bird.conf"]
    devices["server-2"] = FakeLinux(files={str(bird.path): bird.content}, running=True)
    devices["edge"] = FakeLinux(answers={r"^ip route show": ROUTE})
    before = {name: dict(dev.files) for name, dev in devices.items()}

    assert run_deploy(nr).dry_run
    assert run_deploy_with_rollback(nr, wait=0).deploy.dry_run
    verify = run_verify(nr, design, wait=0.6, interval=0.2)
    assert not verify.ok and verify.attempts > 1  # the fakes answer nothing: retried
    assert run_drain(nr, None, "server-2", grace=0).dry_run
    assert run_undrain(nr, None, "server-2").dry_run
    journal = Journal()
    journal.host("server-2", "linux").files.append(("/etc/bird/bird.conf", True))
    journal.host("edge", "vyos").commit_confirm_minutes = 5
    kwargs: dict[str, Any] = {"journal": journal}
    for task, kw in ((deploy_anycast, {}), (verify_anycast, {}), (read_drain_state, {}),
                     (rollback_anycast, kwargs), (confirm_commit, kwargs)):
        agg = nr.run(task, on_failed=True, **kw)
        assert not any(m[0].changed for m in agg.values()), task.__name__
    servers = nr.filter(name="server-2")
    agg = servers.run(task=apply_drain, phase="withdrawn", on_failed=True)
    assert not agg.failed and not agg["server-2"][0].changed, agg["server-2"][0].exception

    for name, dev in devices.items():
        assert all(".na-new" in w for w in dev.writes()), (name, dev.writes())
        assert dev.files == before.get(name, {}), name
    assert "confirm" not in devices["edge"].sent
