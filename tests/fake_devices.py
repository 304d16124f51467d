"""A recording fake netmiko connection to a Linux host, for deploy, drain and rollback tests.

It answers the way nornir_anycast.device.shell.Shell expects (the `__NA_RC=` sentinel), keeps
the files deploy writes in memory (so a test can check a file reached the "device" intact),
and records every command. Services run once started (or from the start, `running=True`);
any command matching a key of `fail` (a regular expression) exits 1 with that key's text as
its output, and one matching a key of `answers` exits 0 with that text.
"""

from __future__ import annotations

import base64
import re
import shlex
from typing import Any

import pytest
from nornir.core.inventory import Host

_WRAPPED = re.compile(r"^\{ (.*) ; \} 2>&1; echo __NA_RC=\$\?$", re.S)
_READ = re.compile(r"^if \[ -e (\S+) \]; then base64 -w0 \S+; echo; else echo __NA_ABSENT; fi$")
_SYSTEMCTL = re.compile(r"^systemctl (start|restart|stop|enable --now|disable --now"
                        r"|is-active --quiet) (\S+)$")
_UNITS = {"anycast-healthchecker": "healthchecker", "nornir-anycast-nginx-watch": "watcher"}
_MKTEMP = re.compile(r"^mktemp -d (/tmp/\.na-)X+$")
_CHUNK = re.compile(r"^printf %s (\S+) >> (\S+)\.b64$")
_DECODE = re.compile(r"^base64 -d (\S+)\.b64 > (\S+) && rm -f \S+$")
_INSTALL = re.compile(r"^s=(\S+); p=(\S+); l=(\S+); mkdir .* rm -rf (\S+); \[ \$r = 0 \]$")
_SCRIPT = re.compile(r"^base64 -d (\S+)\.b64 > \S+ && sh \S+$")
#: The private temporary directories Shell writes files through (mktemp -d /tmp/.na-XXXXXXXX).
PRIVATE = "/tmp/.na-"
_MV = re.compile(r"^mv -f (\S+) (\S+)$")
_RM = re.compile(r"^rm -f (\S+)$")
_KEEP = re.compile(r"^if \[ -e (\S+) \]; then cp -p \S+ (\S+); else rm -f \S+; fi$")

#: Commands that change a host; a dry run may send these only for staging paths (`.na-new`).
WRITES = ("mv ", "cp ", "rm ", "printf ", "s=", "mkdir ", "ip addr", "ip link", "ip route r",
          "ip route a", "ip route d", "sysctl -qw", "nft -f", "nft delete",
          "frr-reload.py --reload", "systemctl start", "systemctl reload", "systemctl stop",
          "nginx", "setsid", "kill", "rc-service", "/etc/init.d", "umask")


def _unquote(word: str) -> str:
    parts = shlex.split(word)
    return parts[0] if parts else word


def _private(cmd: str) -> bool:
    """Whether `cmd` writes only inside a private temporary directory of Shell's."""
    return (cmd.startswith(("printf %s ", f"rm -rf {PRIVATE}", f": > {PRIVATE}"))
            and PRIVATE in cmd and not _INSTALL.match(cmd)) or bool(_DECODE.match(cmd))


class FakeLinux:
    """Records commands like a netmiko connection to a Linux host and keeps its files."""

    def __init__(self, files: dict[str, str] | None = None,
                 fail: dict[str, str] | None = None, running: bool = False,
                 answers: dict[str, str] | None = None) -> None:
        self.files: dict[str, str] = dict(files or {})
        self.fail = dict(fail or {})
        self.answers = dict(answers or {})
        self.running = running  # BIRD, nginx, healthchecker, nginx watcher
        self.sent: list[str] = []
        self.b64: dict[str, str] = {}
        self.started: set[str] = set()
        self.tmpdirs = 0
        self.sudo: list[str] = []  # commands that came through sudo -n, as sent
        self.as_root: list[str] = []  # the same, as run (sudo's wrapper taken off)
        self.stopped: set[str] = set()  # systemd units stopped (running=True hosts)

    # netmiko's interface, as Shell and the VyOS code use it
    def send_command(self, command: str, **_: Any) -> str:
        m = _WRAPPED.match(command)
        inner = m.group(1) if m else command
        if inner.startswith("sudo -n sh -c "):  # privilege: sudo (the Shell's wrapper)
            self.sudo.append(inner)
            inner = shlex.split(inner)[4]
            self.as_root.append(inner)
        elif inner.startswith("sudo -n ") and inner != "sudo -n true":  # vtysh, birdc
            self.sudo.append(inner)
            inner = inner[len("sudo -n "):]
            self.as_root.append(inner)
        self.sent.append(inner)
        rc, out = self.answer(inner)
        return f"{out}\n__NA_RC={rc}" if m else out

    def answer(self, cmd: str) -> tuple[int, str]:
        if cmd == "sudo -n true":
            return 0, ""
        for key, text in self.fail.items():
            if re.search(key, cmd):
                return 1, text
        for key, text in self.answers.items():
            if re.search(key, cmd):
                return 0, text
        if m := _READ.match(cmd):
            path = _unquote(m.group(1))
            if path not in self.files:
                return 0, "__NA_ABSENT"
            return 0, base64.b64encode(self.files[path].encode()).decode()
        if m := _MKTEMP.match(cmd):
            self.tmpdirs += 1
            return 0, f"{m.group(1)}fake{self.tmpdirs:04d}"
        if cmd.startswith(": > ") and cmd.endswith(".b64"):
            self.b64[cmd[4:-4]] = ""
            return 0, ""
        if m := _CHUNK.match(cmd):
            self.b64[_unquote(m.group(2))] = self.b64.get(_unquote(m.group(2)), "") + m.group(1)
            return 0, ""
        if m := _SCRIPT.match(cmd):  # a long command sent as a script (Shell.LINE_MAX)
            script = base64.b64decode(self.b64.pop(m.group(1), "")).decode()
            self.sent.append(script)
            return self.answer(script)
        if m := _DECODE.match(cmd):
            src, dst = m.group(1), m.group(2)
            self.files[dst] = base64.b64decode(self.b64.pop(src, "")).decode()
            return 0, ""
        if m := _INSTALL.match(cmd):
            src, path = m.group(1), _unquote(m.group(2))
            if src not in self.files:
                return 1, f"cp: cannot stat '{src}': No such file or directory"
            self.files[path] = self.files.pop(src)
            return 0, ""
        if cmd.startswith(f"rm -rf {PRIVATE}"):
            return 0, ""
        if m := _KEEP.match(cmd):
            src, dst = _unquote(m.group(1)), _unquote(m.group(2))
            if src in self.files:
                self.files[dst] = self.files[src]
            return 0, ""
        parts = [x for x in re.split(r"\s*(?:;|&&)\s*", cmd) if x]
        if len(parts) > 1 and not cmd.startswith(("if ", "p=$(", "umask", "mkdir -p")):
            answers = [self.answer(x) for x in parts]
            return max(rc for rc, _ in answers), "\n".join(o for _, o in answers if o)
        if m := _MV.match(cmd):
            src, dst = _unquote(m.group(1)), _unquote(m.group(2))
            if src in self.files:
                self.files[dst] = self.files.pop(src)
            return 0, ""
        if m := _RM.match(cmd):
            self.files.pop(_unquote(m.group(1)), None)
            return 0, ""
        if cmd.startswith(("ip -j addr show", "ip -j route show")):
            return 0, "[]"
        if cmd.startswith("sysctl -n"):
            return 0, "1"
        if cmd.startswith(("[ -e", "[ -x")):
            path = _unquote(cmd.split()[2])
            return (0 if path in self.files or cmd.startswith("[ -x") else 1), ""
        for name, start in (("bird", " bird -c "), ("nginx", "nginx"),
                            ("watcher", "setsid -f /usr/bin/python3"),
                            ("healthchecker", "setsid -f")):
            if cmd == start or (start != "nginx" and start in cmd and "kill" not in cmd):
                self.started.add(name)
                return 0, ""
        if m := _SYSTEMCTL.match(cmd):  # systemd units, by the names deploy uses
            verb, unit = m.group(1), _UNITS.get(m.group(2), m.group(2))
            if verb in ("start", "restart", "enable --now"):
                self.started.add(unit)
            elif verb in ("stop", "disable --now"):
                self.started.discard(unit)
                self.stopped.add(unit)
            elif verb == "is-active --quiet":
                up = (self.running and unit not in self.stopped) or unit in self.started
                return (0 if up else 1), ""
            return 0, ""
        if cmd.startswith(("systemctl is-active", "pgrep", "rc-service", "p=$(cat")):
            name = ("watcher" if "service_watch" in cmd or "nginx-watch" in cmd
                    else "healthchecker" if cmd.startswith("p=$(cat") or "healthchecker" in cmd
                    else "nginx" if "nginx" in cmd else "bird")
            return (0 if self.running or name in self.started else 1), ""
        if cmd.startswith("nft list table"):
            return 1, ""
        if "frr-reload.py --test" in cmd:
            return 0, "\nLines To Delete\n===============\n\nLines To Add\n============\n" \
                      "router bgp 65000\n"
        if "birdc" in cmd and cmd.endswith(" configure"):
            return 0, "Reconfigured"
        return 0, ""

    def writes(self) -> list[str]:
        """The commands sent that change a host (see WRITES); those that only touch Shell's
        private temporary directories (PRIVATE) change nothing anyone else sees."""
        return [c for c in self.sent if not _private(c) and (c.startswith(WRITES) or (
            c.startswith("birdc") and re.search(r" (configure|down|disable|enable|restart)", c)))]

    # what the VyOS path and close_connections may call
    def config_mode(self) -> str:
        return ""

    def exit_config_mode(self) -> str:
        return ""

    def disconnect(self) -> None:
        return None


def patch_connections(monkeypatch: pytest.MonkeyPatch) -> dict[str, FakeLinux]:
    """Make every host's netmiko connection a FakeLinux (created on first use, by host name);
    put one in the returned dict first to give a host its own."""
    devices: dict[str, FakeLinux] = {}

    def get_connection(self: Host, connection: str, configuration: Any) -> FakeLinux:
        assert connection == "netmiko"
        return devices.setdefault(self.name, FakeLinux())

    monkeypatch.setattr(Host, "get_connection", get_connection)
    return devices


class AnswersWith:
    """A netmiko connection that answers every command with `text`; records what was sent."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.sent: list[str] = []

    def send_command(self, command: str, **_: Any) -> str:
        self.sent.append(command)
        return self.text
