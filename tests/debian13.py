"""Debian 13 roots for tests that run Debian 13's own daemons (FRR 10.3, BIRD 2.17, BIRD 3.1):
where they are, and a throw-away host made of one.

A root is found, first match wins, at
1. $NORNIR_ANYCAST_TEST_DEBIAN13 / $NORNIR_ANYCAST_TEST_DEBIAN13_BIRD3;
2. the lab's images debian13 / debian13-bird3 (nornir_anycast.lab.images: built by
   scripts/install.sh into /var/cache/nornir-anycast/images or $NORNIR_ANYCAST_IMAGE_DIR).
Tests that need one call `require_root(name, program)`, which skips with the reason when none
holds the program. Roots are only read: a `Debian13Host` runs on an overlay of its root.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

import pytest

from nornir_anycast.lab import images
from nornir_anycast.render.checkers import root_program
from nornir_anycast.settings import ns_prefix

ENV = {"debian13": "NORNIR_ANYCAST_TEST_DEBIAN13",
       "debian13-bird3": "NORNIR_ANYCAST_TEST_DEBIAN13_BIRD3"}


def candidates(name: str) -> list[Path]:
    """Where root `name` (`debian13`, `debian13-bird3`) is looked for, in order."""
    env = os.environ.get(ENV[name])
    return [*([Path(env)] if env else []), images.image_path(name)]


def find_root(name: str, program: str) -> Path | None:
    """The first root `name` that holds `program` (a path inside it, `usr/sbin/bird`)."""
    return next((r for r in candidates(name) if (r / program).is_file()), None)


def require_root(name: str, program: str) -> Path:
    """find_root(), or skip the test saying where it looked."""
    root = find_root(name, program)
    if root is None:
        where = ", ".join(str(c / program) for c in candidates(name))
        pytest.skip(f"no Debian 13 root with {program} (looked at {where}; set {ENV[name]})")
    return root


def root_argv(root: Path, program: str) -> list[str]:
    """argv running `program` of `root` here with the root's own loader (no chroot, no root)."""
    argv = root_program(root, program)
    assert argv is not None, f"{root}: no {program} or no dynamic loader"
    return argv


class Debian13Host:
    """A throw-away Debian 13 host: an overlay of `root` (upper layer in a temporary directory),
    /proc mounted in it, its own network namespace and hostname. Needs root privileges.

    `run(cmd)` runs a shell command inside it (netns, hostname, chroot); `start(cmd)` starts a
    long-running one; leaving the `with` block kills every process of the namespace, unmounts
    and removes everything, also when the test failed.
    """

    def __init__(self, root: Path, hostname: str) -> None:
        self.root = root
        self.hostname = hostname
        self.ns = f"{ns_prefix()}t13{os.getpid() % 100000}{hostname.replace('-', '')[:6]}"
        self.base = Path(tempfile.mkdtemp(prefix=f"{ns_prefix()}-d13-"))
        self.merged = self.base / "merged"
        self._mounts: list[Path] = []
        self._logs: list[Path] = []

    def __enter__(self) -> Debian13Host:
        try:
            for d in ("upper", "work", "merged"):
                (self.base / d).mkdir()
            self._mount(["-t", "overlay", "overlay", "-o",
                         f"lowerdir={self.root},upperdir={self.base / 'upper'},"
                         f"workdir={self.base / 'work'}"], self.merged)
            self._mount(["-t", "proc", "proc"], self.merged / "proc")
            subprocess.run(["ip", "netns", "add", self.ns], check=True)
            subprocess.run(["ip", "-n", self.ns, "link", "set", "lo", "up"], check=True)
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def _mount(self, args: list[str], target: Path) -> None:
        subprocess.run(["mount", *args, str(target)], check=True)
        self._mounts.append(target)

    def path(self, inside: str) -> Path:
        """A path inside the host, as seen from here (to write its files)."""
        return self.merged / inside.lstrip("/")

    def _argv(self, command: str) -> list[str]:
        inner = f"hostname {shlex.quote(self.hostname)} && exec chroot {self.merged} " \
                f"/bin/sh -c {shlex.quote(command)}"
        return ["ip", "netns", "exec", self.ns, "unshare", "-u", "sh", "-c", inner]

    def run(self, command: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """Run a shell command in the host; its output and exit status (never raises on exit)."""
        return subprocess.run(self._argv(command), capture_output=True, text=True,
                              timeout=timeout, check=False, stdin=subprocess.DEVNULL)

    def start(self, command: str) -> Path:
        """Start a long-running command in the host (its own session); returns its log file."""
        log = self.base / f"start-{len(self._logs)}.log"
        self._logs.append(log)
        with log.open("w") as out:
            subprocess.Popen(self._argv(command), stdout=out, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, start_new_session=True)
        return log

    def link(self, name: str) -> None:
        """An interface `name` that is up (one end of a veth pair whose peer stays here too)."""
        subprocess.run(["ip", "-n", self.ns, "link", "add", name, "type", "veth", "peer",
                        "name", f"p{name}"], check=True)
        for itf in (name, f"p{name}"):
            subprocess.run(["ip", "-n", self.ns, "link", "set", itf, "up"], check=True)

    def ip(self, *args: str) -> None:
        """`ip ARGS` in the host's network namespace."""
        subprocess.run(["ip", "-n", self.ns, *args], check=True)

    def sysctl(self, key: str, value: str) -> None:
        subprocess.run(["ip", "netns", "exec", self.ns, "sysctl", "-qw", f"{key}={value}"],
                       check=True)

    def pids(self) -> list[int]:
        res = subprocess.run(["ip", "netns", "pids", self.ns], capture_output=True, text=True,
                             check=False)
        return [int(p) for p in res.stdout.split()]

    def close(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            pids = self.pids()
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, sig)
            deadline = time.monotonic() + 5
            while pids and time.monotonic() < deadline and self.pids():
                time.sleep(0.1)
        for target in reversed(self._mounts):
            subprocess.run(["umount", "-l", str(target)], check=False)
        self._mounts.clear()
        subprocess.run(["ip", "netns", "del", self.ns], check=False, capture_output=True)
        subprocess.run(["rm", "-rf", "--one-file-system", str(self.base)], check=False)


def connect(a: Debian13Host, a_itf: str, b: Debian13Host, b_itf: str) -> None:
    """A veth pair between two hosts (`a_itf` in a, `b_itf` in b), both ends up."""
    subprocess.run(["ip", "link", "add", f"{a.ns[-6:]}x", "type", "veth", "peer", "name",
                    f"{b.ns[-6:]}y"], check=True)
    subprocess.run(["ip", "link", "set", f"{a.ns[-6:]}x", "netns", a.ns, "name", a_itf],
                   check=True)
    subprocess.run(["ip", "link", "set", f"{b.ns[-6:]}y", "netns", b.ns, "name", b_itf],
                   check=True)
    a.ip("link", "set", a_itf, "up")
    b.ip("link", "set", b_itf, "up")
