"""deploy_anycast as a grouped task: its steps are subtasks (seen by processors and
print_result), it applies files the caller rendered, its Results are honest, and a dry run,
asked of the task or of InitNornir, changes nothing (a recording fake Linux connection)."""

from __future__ import annotations

import contextlib
import io
from typing import Any

import pytest
from fake_devices import FakeLinux, patch_connections
from nornir.core.inventory import Host
from nornir.core.task import AggregatedResult, MultiResult, Task
from nornir_utils.plugins.functions import print_result

from nornir_anycast.deploy.runner import run_deploy
from nornir_anycast.design import registry
from nornir_anycast.design.build import build_design
from nornir_anycast.inventory.loader import load_nornir
from nornir_anycast.render import render_host
from nornir_anycast.tasks import deploy_anycast

LINUX = ("edge", "isp", "server-1", "server-2", "client")


@pytest.fixture
def fake_linux(monkeypatch: pytest.MonkeyPatch) -> dict[str, FakeLinux]:
    return patch_connections(monkeypatch)


class Steps:
    """A processor recording every subtask it sees start and complete, by host."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str]] = []

    def task_started(self, task: Task) -> None: ...
    def task_completed(self, task: Task, result: AggregatedResult) -> None: ...
    def task_instance_started(self, task: Task, host: Host) -> None: ...

    def task_instance_completed(self, task: Task, host: Host, result: MultiResult) -> None:
        self.seen.append(("done", host.name, task.name))

    def subtask_instance_started(self, task: Task, host: Host) -> None:
        self.seen.append(("start", host.name, task.name))

    def subtask_instance_completed(self, task: Task, host: Host, result: MultiResult) -> None:
        self.seen.append(("sub", host.name, task.name))


def _nr(**kw: Any):  # type: ignore[no-untyped-def]
    nr = load_nornir("inventory", **kw)
    registry.attach(nr, build_design(nr))
    return nr


def test_steps_are_subtasks_processors_and_print_result_see(
        fake_linux: dict[str, FakeLinux]) -> None:
    nr = _nr()
    steps = Steps()
    agg = nr.filter(name="server-1").with_processors([steps]).run(task=deploy_anycast)
    multi = agg["server-1"]
    assert not multi.failed, multi[0].exception
    assert [r.name for r in multi] == ["deploy_anycast", "read_drain_state", "render",
                                       "stage_and_check", "apply", "services"]
    assert [n for k, h, n in steps.seen if k == "sub"] == [
        "read_drain_state", "render", "stage_and_check", "apply", "services"]
    assert multi[0].changed and multi.changed
    assert not multi[2].changed and not multi[3].changed  # render, stage: nothing live
    assert multi[4].changed and "wrote /etc/bird/bird.conf" in multi[4].result["actions"]
    assert "start bird" in multi[5].result["actions"]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        print_result(agg)
    text = out.getvalue()
    for name in ("render", "stage_and_check", "apply", "services"):
        assert f"---- {name} ** changed" in text
    assert "RenderedFile(" not in text and "object at 0x" not in text
    assert text.count("+++ /etc/bird/bird.conf (rendered)") == 1  # the diff once, no content twice


def test_files_the_caller_rendered_are_applied_as_given(
        fake_linux: dict[str, FakeLinux]) -> None:
    nr = _nr()
    design = registry.lookup(nr)
    assert design is not None
    files = render_host(design.hosts["server-1"], design)
    files = {"index": files["index.html"]} if "index.html" in files else dict(
        list(files.items())[:1])
    [(_, mine)] = files.items()
    agg = nr.filter(name="server-1").run(task=deploy_anycast, files=files)
    multi = agg["server-1"]
    assert not multi.failed, multi[0].exception
    assert "render" not in [r.name for r in multi]
    assert fake_linux["server-1"].files[str(mine.path)] == mine.content
    assert multi[0].diff.count("+++ ") >= 1


@pytest.mark.parametrize("how", ["task", "InitNornir", "run_deploy"])
def test_dry_run_changes_nothing_on_any_host(fake_linux: dict[str, FakeLinux], how: str) -> None:
    if how == "task":
        nr = _nr()
        agg = nr.run(task=deploy_anycast, dry_run=True)
        results = {h: m[0] for h, m in agg.items()}
        assert not agg.failed
    elif how == "InitNornir":
        nr = _nr(dry_run=True)
        agg = nr.run(task=deploy_anycast)
        results = {h: m[0] for h, m in agg.items()}
        assert not agg.failed
    else:
        nr = _nr(dry_run=True)
        report = run_deploy(nr)  # dry_run=None: Nornir's
        assert report.ok and report.dry_run
        assert all(not h.changed and h.diff for h in report.hosts)
        results = {}
    for name, res in results.items():
        assert not res.changed and res.diff and res.result["dry_run"] is True, name
        assert res.result["actions"] == []
    for name in LINUX:
        dev = fake_linux[name]
        # Only the staging copies are written (and removed again): nothing goes live.
        assert all(".na-new" in w for w in dev.writes()), (name, dev.writes())
        assert not any(p.endswith(".na-new") or ".na-new." in p for p in dev.files), dev.files
        assert not any(w.startswith(("mv -f", "cp -p", "ip addr", "sysctl -qw", "birdc"))
                       for w in dev.writes())
        assert [p for p in dev.files if not p.endswith(".na-tmp")] == [], (name, dev.files)


def test_a_failed_check_fails_the_group_unchanged_with_the_checkers_words(
        monkeypatch: pytest.MonkeyPatch) -> None:
    dev = FakeLinux(fail={"^bird -p -c": "bird.conf.na-new:12:3 syntax error"})
    monkeypatch.setattr(Host, "get_connection", lambda self, c, cfg: dev)
    nr = _nr()
    agg = nr.filter(name="server-1").run(task=deploy_anycast)
    multi = agg["server-1"]
    assert multi.failed and multi[0].failed and not multi[0].changed
    assert "rejected by bird2 check" in str(multi[0].exception)
    assert "syntax error" in str(multi[0].exception)
    assert [r.name for r in multi][-1] == "stage_and_check" and multi[-1].failed
    assert "/etc/bird/bird.conf" not in dev.files  # nothing applied
    assert not any(p.endswith(".na-new") for p in dev.files)  # staged files removed


def test_a_step_failing_after_changes_says_changed(monkeypatch: pytest.MonkeyPatch) -> None:
    dev = FakeLinux(fail={"^nginx -t -q$": "nginx: [emerg] bad"})
    monkeypatch.setattr(Host, "get_connection", lambda self, c, cfg: dev)
    nr = _nr()
    agg = nr.filter(name="server-1").run(task=deploy_anycast)
    multi = agg["server-1"]
    res = multi[0]
    assert res.failed and res.changed  # files were already written when nginx failed
    assert "wrote /etc/bird/bird.conf" in res.result["actions"]
    assert multi[-1].name == "services" and multi[-1].failed
    assert "nginx -t -q" in str(res.exception)


def test_the_nginx_watcher_is_started_once_and_restarted_only_on_its_own_change(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Lab server: the first deploy starts the watcher (after nginx and the healthchecker); a
    second deploy changes nothing; a changed watcher script restarts it; a dry run starts
    nothing; the state file deploy created is never rewritten (the watcher's from then on)."""
    dev = FakeLinux()
    monkeypatch.setattr(Host, "get_connection", lambda self, c, cfg: dev)
    nr = _nr()
    script, state = "/etc/bird/nornir-anycast-service_watch.py", \
        "/etc/bird/nornir-anycast-nginx-state.conf"

    dry = nr.filter(name="server-1").run(task=deploy_anycast, dry_run=True)["server-1"]
    assert not dry.failed and "watcher" not in dev.started
    assert "~ start watcher" in dry[0].diff

    first = nr.filter(name="server-1").run(task=deploy_anycast)["server-1"]
    actions = first[0].result["actions"]
    assert not first.failed and actions[-4:] == [
        "start bird", "start nginx", "start healthchecker", "start watcher"]
    assert {f"wrote {script}", f"wrote {state}"} <= set(actions)
    assert "watcher" in dev.started
    assert any(c.startswith("mkdir -p /run/nornir-anycast ") and "setsid -f /usr/bin/python3 "
               f"{script} /etc/bird/nornir-anycast-service-watch.json" in c for c in dev.sent)

    dev.files[state] = "# nornir_anycast service state: ...\ndisabled yes;\n"  # nginx down
    again = nr.filter(name="server-1").run(task=deploy_anycast)["server-1"]
    # (the fake's network state never matches: only those lines repeat)
    assert not again.failed
    assert [a for a in again[0].result["actions"] if not a.startswith(("!", "~"))] == []
    assert dev.files[state].endswith("disabled yes;\n")  # create-only: left to the watcher

    dev.files[script] = "# an older watcher\n"
    changed = nr.filter(name="server-1").run(task=deploy_anycast)["server-1"]
    assert [a for a in changed[0].result["actions"] if not a.startswith(("!", "~"))] == [
        f"wrote {script}", "restart watcher"]

    # a restart goes as two commands (stop, start): netmiko loses the echo of a line over ~500
    # characters, which the stop and start of the healthchecker together were in the lab
    check = "/etc/bird/anycast-healthchecker.d/anycast_10.13.13.1_32.conf"
    dev.files[check] = "# an older check\n"
    dev.sent.clear()
    hc = nr.filter(name="server-1").run(task=deploy_anycast)["server-1"]
    assert [a for a in hc[0].result["actions"] if not a.startswith(("!", "~"))] == [
        f"wrote {check}", "restart healthchecker"]
    assert max(len(c) for c in dev.sent) < 450, max(dev.sent, key=len)
