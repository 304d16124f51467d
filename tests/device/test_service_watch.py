"""The lab's nginx watcher (templates/jinja/healthchecker/service_watch.py, stdlib only): it
follows a real child process through a pidfd, disables the BIRD protocol the moment that process
exits and enables it when the pid file names a live process again; state file first, so a
`birdc configure` in between keeps the protocol as the file says (checked on a real BIRD)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from paths import WATCHER, load_watcher

sw = load_watcher()


class FakeBird:
    """A BIRD control socket that answers like BIRD 2 and records each command with its time."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)
        self.commands: list[tuple[float, str]] = []
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(self.path)
        self.sock.listen(8)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                f = conn.makefile("rwb", buffering=0)
                f.write(b"0001 BIRD 2.0.12 ready.\n")
                line = f.readline().decode().strip()
                self.commands.append((time.time(), line))
                verb, _, proto = line.partition(" ")
                if proto == "static_bgp":
                    f.write(f"0009 {proto}: {verb}d\n".encode())
                else:
                    f.write(b"9001 syntax error, unexpected CF_SYM_UNDEFINED\n")

    def close(self) -> None:
        self.sock.close()

    def verbs(self) -> list[str]:
        return [c for _, c in self.commands]


def wait_for(pred: Any, timeout: float = 3.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.005)
    return bool(pred())


@pytest.fixture()
def bird(tmp_path: Path) -> Iterator[FakeBird]:
    fake = FakeBird(tmp_path / "bird.ctl")
    yield fake
    fake.close()


def config(tmp_path: Path, ctl: str) -> dict[str, Any]:
    return {"pidfile": str(tmp_path / "svc.pid"), "process": "sleep",
            "state_file": str(tmp_path / "state.conf"), "bird_ctl": ctl,
            "protocol": "static_bgp", "poll_interval": 0.05,
            "own_pidfile": str(tmp_path / "watch.pid")}


def start_service(tmp_path: Path) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(["sleep", "60"])
    (tmp_path / "svc.pid").write_text(f"{proc.pid}\n")
    return proc


def test_live_pid(tmp_path: Path) -> None:
    pidfile = tmp_path / "p"
    assert sw.live_pid(str(pidfile), "sleep") is None  # no pid file
    pidfile.write_text("garbage\n")
    assert sw.live_pid(str(pidfile), "sleep") is None
    proc = subprocess.Popen(["sleep", "60"])
    try:
        pidfile.write_text(f"{proc.pid}\n")
        assert sw.live_pid(str(pidfile), "sleep") == proc.pid
        assert sw.live_pid(str(pidfile), "nginx") is None  # a stale file naming another process
        proc.kill()
        assert wait_for(lambda: sw.live_pid(str(pidfile), "sleep") is None)  # a zombie is dead
    finally:
        proc.kill()
        proc.wait()
    assert sw.live_pid(str(pidfile), "sleep") is None


def test_bird_command_answers(bird: FakeBird) -> None:
    assert sw.bird_command(bird.path, "disable static_bgp") == (True, "static_bgp: disabled")
    ok, text = sw.bird_command(bird.path, "disable nosuch")
    assert not ok and "syntax error" in text
    ok, text = sw.bird_command(bird.path + ".missing", "disable static_bgp")
    assert not ok and "No such file" in text


def test_watcher_follows_a_real_process(tmp_path: Path, bird: FakeBird) -> None:
    state = tmp_path / "state.conf"
    svc = start_service(tmp_path)
    watcher = sw.Watcher(config(tmp_path, bird.path))
    thread = threading.Thread(target=watcher.run, daemon=True)
    thread.start()
    try:
        assert wait_for(lambda: bird.verbs() == ["enable static_bgp"])
        assert state.read_text() == sw.state_text(True)
        # the service exits: disabled at once (pidfd), the state file says so first
        t_kill = time.time()
        svc.kill()
        assert wait_for(lambda: bird.verbs() == ["enable static_bgp", "disable static_bgp"])
        latency = bird.commands[-1][0] - t_kill
        assert latency < 0.1, latency  # event-driven: not a polling interval of the checker
        assert state.read_text() == sw.state_text(False)
        svc.wait()
        # down: nothing more is sent while it stays down (no repeated disable)
        time.sleep(0.3)
        assert len(bird.commands) == 2
        # back: enabled again once the pid file names a live process
        svc = start_service(tmp_path)
        assert wait_for(lambda: bird.verbs()[-1:] == ["enable static_bgp"])
        assert len(bird.commands) == 3 and state.read_text() == sw.state_text(True)
    finally:
        watcher.stop()
        thread.join(timeout=3)
        svc.kill()
        svc.wait()
    assert not thread.is_alive()


def test_watcher_started_while_the_service_is_down(tmp_path: Path, bird: FakeBird) -> None:
    (tmp_path / "svc.pid").write_text("999999999\n")  # stale: no such process
    watcher = sw.Watcher(config(tmp_path, bird.path))
    thread = threading.Thread(target=watcher.run, daemon=True)
    thread.start()
    try:
        assert wait_for(lambda: bird.verbs() == ["disable static_bgp"])
        assert (tmp_path / "state.conf").read_text() == sw.state_text(False)
    finally:
        watcher.stop()
        thread.join(timeout=3)
    assert not thread.is_alive()


def test_script_runs_with_system_python_and_sigterm_changes_nothing(
        tmp_path: Path, bird: FakeBird) -> None:
    cfg = config(tmp_path, bird.path)
    (tmp_path / "watch.json").write_text(json.dumps(cfg))
    svc = start_service(tmp_path)
    python = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else shutil.which("python3")
    assert python is not None
    watch = subprocess.Popen([python, str(WATCHER), str(tmp_path / "watch.json")],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert wait_for(lambda: bird.verbs() == ["enable static_bgp"], timeout=10)
        assert (tmp_path / "watch.pid").read_text().strip() == str(watch.pid)
        watch.send_signal(signal.SIGTERM)
        out, _ = watch.communicate(timeout=5)
    finally:
        watch.kill()
        svc.kill()
        svc.wait()
    assert watch.returncode == 0, out
    assert bird.verbs() == ["enable static_bgp"]  # stopping the watcher withdrew nothing
    assert not (tmp_path / "watch.pid").exists()
    assert "running (pid" in out and "stopped" in out


@pytest.mark.skipif(shutil.which("bird") is None, reason="BIRD 2 is not installed here")
def test_state_file_keeps_bird_disabled_across_configure(tmp_path: Path) -> None:
    """BIRD 2 enables on `configure` a protocol that `disable` stopped; with the state file
    written first, it stays as the file says."""
    state = tmp_path / "state.conf"
    state.write_text(sw.state_text(True))
    conf = tmp_path / "bird.conf"
    conf.write_text(f'router id 10.99.99.1;\nprotocol device {{ scan time 10; }}\n'
                    f'protocol static static_bgp {{\n  ipv4;\n  include "{state}";\n'
                    f'  route 10.13.13.1/32 reject;\n}}\n')
    ctl, pid = str(tmp_path / "bird.ctl"), tmp_path / "bird.pid"
    subprocess.run(["bird", "-c", str(conf), "-s", ctl, "-P", str(pid)], check=True)
    watcher = sw.Watcher(config(tmp_path, ctl))

    def static_up() -> bool:
        _, text = sw.bird_command(ctl, "show protocols static_bgp")
        return " up " in text

    try:
        assert wait_for(static_up)
        watcher.set_up(False, "test")
        assert not static_up()
        assert sw.bird_command(ctl, "configure")[0]
        assert not static_up()  # still disabled: the state file says so
        watcher.set_up(True, "test")
        assert wait_for(static_up)
        assert sw.bird_command(ctl, "configure")[0]
        assert static_up()
        # without the state file, configure enables what disable stopped (why it exists)
        assert sw.bird_command(ctl, "disable static_bgp")[0]
        assert sw.bird_command(ctl, "configure")[0]
        assert wait_for(static_up)
    finally:
        if pid.exists():
            os.kill(int(pid.read_text()), signal.SIGTERM)
