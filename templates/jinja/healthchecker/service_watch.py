#!/usr/bin/python3
"""Withdraw a server's anycast prefixes the moment its service's master process exits.

Installed by nornir_anycast's deploy on servers without systemd (the lab) and started as
`/usr/bin/python3 service_watch.py CONFIG.json`; the standard library only. CONFIG holds:

- `pidfile`: the service's pid file (nginx: /run/nginx.pid), `process`: the name the process
  has in /proc/PID/comm (`nginx`), so that a stale pid file naming another process is no service;
- `state_file`: the BIRD include inside the static protocol, `disabled yes;` while the service
  is down: BIRD reads it on every `birdc configure` (deploy's, anycast-healthchecker's), which
  would otherwise enable a protocol that `birdc disable` stopped;
- `bird_ctl`, `protocol`: BIRD's control socket and the static protocol holding the prefixes;
- `poll_interval`: seconds between looks at the pid file while the service is down;
- `own_pidfile`: this watcher's pid file.

While the service runs, the watcher sleeps in poll() on a pidfd of its master process (no
polling, no CPU): when it exits, the state file says `disabled yes;` and `disable <protocol>` goes
to BIRD at once (BIRD withdraws the routes without a reconfiguration). When the pid file names a
live process again, `disabled no;` and `enable <protocol>`; anycast-healthchecker's prefix set
still decides whether a prefix is announced (its `rise` count).
A SIGTERM stops the watcher and changes nothing (a restarted watcher finds the state again).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import select
import signal
import socket
import sys
import time
from collections.abc import Callable
from typing import Any

DOWN = "disabled yes;"
UP = "disabled no;"
#: First line of the state file (deploy's first copy and the systemd unit write the same).
HEADER = "# nornir_anycast service state: disabled yes while the service is down\n"
_FINAL = re.compile(r"^(\d{4}) ")


def log(message: str) -> None:
    """One line on stdout (deploy sends it to the watcher's log)."""
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime())
    print(f"{stamp}.{int(time.time() * 1000) % 1000:03d} {message}", flush=True)


def live_pid(pidfile: str, process: str) -> int | None:
    """The pid in `pidfile` when that process lives and is called `process`, else None."""
    try:
        with open(pidfile, encoding="ascii") as f:
            pid = int(f.read().strip() or "0")
    except (OSError, ValueError):
        return None
    if pid <= 0:
        return None
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            stat = f.read()
    except OSError:
        return None
    # /proc/PID/stat: "PID (comm) STATE ..."; a zombie has exited already.
    comm, _, rest = stat.partition(" (")[2].rpartition(") ")
    if comm != process[:15] or rest[:1] in ("Z", "X"):
        return None
    return pid


def state_text(up: bool) -> str:
    """The state file's content (also what deploy first creates: up)."""
    return HEADER + (UP if up else DOWN) + "\n"


def write_state(path: str, up: bool) -> bool:
    """Write the state file (atomically) unless it says so already; True when it changed."""
    text = state_text(up)
    try:
        with open(path, encoding="utf-8") as f:
            if f.read() == text:
                return False
    except OSError:
        pass
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return True


def bird_command(ctl: str, command: str, timeout: float = 2.0) -> tuple[bool, str]:
    """Send one command on BIRD's control socket (what birdc does); (ok, reply text)."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect(ctl)
            f = s.makefile("rwb", buffering=0)
            _read_reply(f)  # 0001 BIRD x.y ready.
            f.write(command.encode() + b"\n")
            code, text = _read_reply(f)
    except OSError as exc:
        return False, f"{ctl}: {exc}"
    return code < 8000, text  # 8xxx: run-time error, 9xxx: parse error


def _read_reply(f: Any) -> tuple[int, str]:
    lines: list[str] = []
    while True:
        raw = f.readline()
        if not raw:
            raise ConnectionError("BIRD closed the control socket")
        line = raw.decode(errors="replace").rstrip("\n")
        lines.append(line[5:] if line[:4].isdigit() else line.lstrip())
        if m := _FINAL.match(line):
            return int(m.group(1)), "\n".join(x for x in lines if x)


class Watcher:
    """The watcher's state machine; `run` loops until `stop()` (or a signal)."""

    def __init__(self, config: dict[str, Any],
                 bird: Callable[[str, str], tuple[bool, str]] = bird_command) -> None:
        self.pidfile = str(config["pidfile"])
        self.process = str(config["process"])
        self.state_file = str(config["state_file"])
        self.ctl = str(config["bird_ctl"])
        self.protocol = str(config["protocol"])
        self.poll_interval = float(config.get("poll_interval", 0.1))
        self.bird = bird
        self.up: bool | None = None  # what was last told to BIRD
        self._stop_r, self._stop_w = os.pipe()

    def stop(self) -> None:
        """Make `run` return (from another thread or a signal handler)."""
        os.write(self._stop_w, b"x")

    def set_up(self, up: bool, why: str) -> None:
        """State file first (a `birdc configure` in between keeps the new state), then BIRD."""
        write_state(self.state_file, up)
        ok, reply = self.bird(self.ctl, f"{'enable' if up else 'disable'} {self.protocol}")
        self.up = up
        log(f"{why}: {'enable' if up else 'disable'} {self.protocol}: "
            f"{reply.strip() if ok else 'failed: ' + reply.strip()}")

    def _wait(self, fd: int | None, timeout: float | None) -> str:
        """Sleep until `fd` is readable ("event"), stop() ("stop") or `timeout` ("timeout")."""
        poller = select.poll()
        poller.register(self._stop_r, select.POLLIN)
        if fd is not None:
            poller.register(fd, select.POLLIN)
        events = poller.poll(None if timeout is None else timeout * 1000)
        if any(e[0] == self._stop_r for e in events):
            return "stop"
        return "event" if events else "timeout"

    def run(self) -> None:
        """Follow the service: down -> disable at once; back -> enable."""
        while True:
            pid = live_pid(self.pidfile, self.process)
            if pid is None:
                if self.up is not False:
                    self.set_up(False, f"{self.process} not running ({self.pidfile})")
                if self._wait(None, self.poll_interval) == "stop":
                    return
                continue
            try:
                pidfd = os.pidfd_open(pid)
            except ProcessLookupError:
                continue  # gone between the two looks
            try:
                if live_pid(self.pidfile, self.process) != pid:
                    continue  # the pid was reused before the pidfd held it
                if self.up is not True:
                    self.set_up(True, f"{self.process} running (pid {pid})")
                if self._wait(pidfd, None) == "stop":
                    return
                self.set_up(False, f"{self.process} pid {pid} exited")
            finally:
                os.close(pidfd)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(f"usage: {argv[0]} CONFIG.json", file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as f:
        config = json.load(f)
    own = config.get("own_pidfile")
    if own:
        os.makedirs(os.path.dirname(own) or "/", exist_ok=True)
        with open(own, "w", encoding="ascii") as f:
            f.write(f"{os.getpid()}\n")
    watcher = Watcher(config)
    signal.signal(signal.SIGTERM, lambda *_: watcher.stop())
    signal.signal(signal.SIGINT, lambda *_: watcher.stop())
    log(f"watching {watcher.process} ({watcher.pidfile}) for {watcher.protocol}")
    try:
        watcher.run()
    finally:
        if own:
            with contextlib.suppress(OSError):
                os.unlink(own)
    log("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
