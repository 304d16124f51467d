"""The session-scoped `lab` fixture: a running lab for the default inventory, always torn down.

Registered from tests/conftest.py (`pytest_plugins`). Use it from any test marked
`@pytest.mark.lab`:

    @pytest.mark.lab
    def test_something(lab: Lab) -> None:
        nr = load_nornir(lab.inventory)           # netmiko reaches the hosts over real SSH
        out = lab.run("server-1", ["ip", "-br", "addr"]).stdout

The lab is built once per test session (`lab up`) and removed at the end (`lab down`), also when
building it failed half-way or a test failed. Tests marked `lab_disruptive` take the lab apart on
purpose (repair, `down`); they are moved after every other test so they cannot disturb them.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from nornir_anycast.lab import lifecycle, sshconfig
from nornir_anycast.lab import status as lab_status
from nornir_anycast.lab.topology import Topology

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def project_root_env() -> Iterator[None]:
    """NORNIR_ANYCAST_ROOT set to this checkout (session fixtures run before the autouse one)."""
    old = os.environ.get("NORNIR_ANYCAST_ROOT")
    os.environ["NORNIR_ANYCAST_ROOT"] = str(ROOT)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("NORNIR_ANYCAST_ROOT", None)
        else:
            os.environ["NORNIR_ANYCAST_ROOT"] = old


@dataclass
class Lab:
    """A running lab: where its inventory and SSH files are, and a way to run commands in it."""

    inventory: Path
    topology: Topology
    ssh_config: Path
    key_file: Path

    @property
    def hosts(self) -> list[str]:
        return list(self.topology.hosts)

    def run(self, host: str, argv: Sequence[str], *, input: str | None = None,
            timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """Run argv in the host (as `lab exec` does) and capture its output."""
        with project_root_env():
            return lab_status.run(host, argv, input=input, timeout=timeout)

    def netmiko_params(self, host: str) -> dict[str, Any]:
        """ConnectHandler arguments reaching `host` over real SSH through its namespace."""
        return {"device_type": "linux", "host": self.topology.host(host).netns,
                "username": "root", "use_keys": True, "key_file": str(self.key_file),
                "ssh_config_file": str(self.ssh_config), "allow_agent": False}


def bring_up(inventory: Path | None = None, servers: int | None = None) -> Lab:
    """`lab up` and a Lab describing the result."""
    with project_root_env():
        report = lifecycle.up(inventory, servers)
        return Lab(inventory=report.inventory, topology=report.topology,
                   ssh_config=sshconfig.ssh_config_file(), key_file=sshconfig.key_file())


def tear_down() -> lifecycle.DownReport:
    with project_root_env():
        return lifecycle.down()


@contextmanager
def session_lock(timeout: float = 1800) -> Iterator[None]:
    """One test session with a lab at a time in this checkout (an flock on tests/, no file).

    Several people run the suite in the same working tree; without this, one session's
    teardown (`lab down`) would pull the lab from under another's tests.
    """
    fd = os.open(Path(__file__).resolve().parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"another test session held the lab for {timeout:.0f} s") from None
                time.sleep(1)
        yield
    finally:
        os.close(fd)


@pytest.fixture(scope="session")
def lab() -> Iterator[Lab]:
    """The lab of the default inventory, up for the whole session and always removed after."""
    if os.geteuid() != 0:
        pytest.skip("lab tests need root (network namespaces, FRR, BIRD)")
    with session_lock():
        try:
            yield bring_up()
        finally:
            tear_down()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "lab_disruptive: takes the shared lab apart; runs after every other test")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Move lab_disruptive tests to the end, keeping the order within each group."""
    calm = [i for i in items if "lab_disruptive" not in i.keywords]
    rough = [i for i in items if "lab_disruptive" in i.keywords]
    items[:] = calm + rough
