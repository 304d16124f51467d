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

The session's lab uses $NORNIR_ANYCAST_LAB_PREFIX (default `na`) like every command, so
`NORNIR_ANYCAST_LAB_PREFIX=nt pytest -m lab` runs beside a lab of another prefix, from the same
checkout or another one; sessions of one prefix wait for each other, machine-wide.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from nornir_anycast.lab import lifecycle, sshconfig
from nornir_anycast.lab import status as lab_status
from nornir_anycast.lab.prefix import DEFAULT, ENV, LabPrefixError, lab_prefix, machine_lock
from nornir_anycast.lab.topology import Topology

ROOT = Path(__file__).resolve().parent.parent  # the project root (tests/ is one level down)


@contextmanager
def _env(name: str, value: str) -> Iterator[None]:
    old = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = old


@contextmanager
def project_root_env() -> Iterator[None]:
    """NORNIR_ANYCAST_ROOT set to this checkout (session fixtures run before the autouse one)."""
    with _env("NORNIR_ANYCAST_ROOT", str(ROOT)):
        yield


@contextmanager
def prefix_env(prefix: str) -> Iterator[None]:
    """NORNIR_ANYCAST_LAB_PREFIX set to `prefix`: everything inside works on that prefix's lab."""
    with _env(ENV, prefix):
        yield


@dataclass
class Lab:
    """A running lab: where its inventory and SSH files are, and a way to run commands in it."""

    inventory: Path
    topology: Topology
    ssh_config: Path
    key_file: Path
    prefix: str = DEFAULT  # the lab's NORNIR_ANYCAST_LAB_PREFIX

    @property
    def hosts(self) -> list[str]:
        return list(self.topology.hosts)

    def ns(self, host: str) -> str:
        """The namespace of a host of this lab (`<prefix>-<host>` for the lab inventories)."""
        return self.topology.host(host).netns

    @contextmanager
    def env(self) -> Iterator[None]:
        """This checkout as project root and this lab's prefix, for code run inside."""
        with project_root_env(), prefix_env(self.prefix):
            yield

    def run(self, host: str, argv: Sequence[str], *, input: str | None = None,
            timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """Run argv in the host (as `lab exec` does) and capture its output."""
        with self.env():
            return lab_status.run(host, argv, input=input, timeout=timeout)

    def netmiko_params(self, host: str) -> dict[str, Any]:
        """ConnectHandler arguments reaching `host` over real SSH through its namespace."""
        return {"device_type": "linux", "host": self.topology.host(host).netns,
                "username": self.topology.host(host).user, "use_keys": True,
                "key_file": str(self.key_file),
                "ssh_config_file": str(self.ssh_config), "allow_agent": False}


def bring_up(inventory: Path | None = None, servers: int | None = None, *,
             sites: int | None = None, edges: int | None = None) -> Lab:
    """`lab up` (for the prefix in the environment) and a Lab describing the result; with
    `sites`/`edges`, the generated multi-site lab (`lab up --sites S --edges E --servers N`)."""
    with project_root_env():
        report = lifecycle.up(inventory, servers, sites=sites, edges=edges)
        return Lab(inventory=report.inventory, topology=report.topology,
                   ssh_config=sshconfig.ssh_config_file(), key_file=sshconfig.key_file(),
                   prefix=lab_prefix())


def tear_down() -> lifecycle.DownReport:
    """`lab down` for the prefix in the environment."""
    with project_root_env():
        return lifecycle.down()


@contextmanager
def session_lock(timeout: float = 1800) -> Iterator[None]:
    """One test session at a time with the lab of this prefix, machine-wide (no file left).

    Several people run the suite in the same working tree or in other checkouts; without this,
    one session's teardown (`lab down`) would pull the lab from under another's tests. Sessions
    with different prefixes have labs of their own and do not wait for each other.
    """
    with machine_lock("tests", timeout=timeout, poll=1):
        yield


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


DEBIAN13 = ROOT / "inventory" / "lab-debian13"
DEBIAN13_BIRD3 = ROOT / "inventory" / "lab-debian13-bird3"


def image_prefix(suffix: str) -> str:
    """The prefix of an image lab beside the session's: `<prefix>` cut to leave room, plus
    `suffix` (`na` -> `nad13`), so both labs run at once and never touch each other."""
    return lab_prefix()[:8 - len(suffix)] + suffix


@contextmanager
def image_lab(inventory: Path, suffix: str) -> Iterator[Lab]:
    """A lab of an image inventory (Debian 13 containers) under its own prefix, always removed
    after (also when building it failed half way)."""
    if os.geteuid() != 0:
        pytest.skip("lab tests need root (network namespaces, systemd-nspawn)")
    with prefix_env(image_prefix(suffix)), session_lock():
        try:
            yield bring_up(inventory)
        finally:
            tear_down()


# Module scope: an image lab is up only while a module uses it (5 s to build), so the
# namespace kind's disruptive tests, which count every lab namespace and PID 1 on the machine,
# never meet one.
@pytest.fixture(scope="module")
def debian13_lab() -> Iterator[Lab]:
    """inventory/lab-debian13 up for the module: FRR 10.3, BIRD 2.17, systemd, sudo."""
    with image_lab(DEBIAN13, "d13") as lab:
        yield lab


@pytest.fixture(scope="module")
def bird3_lab() -> Iterator[Lab]:
    """inventory/lab-debian13-bird3 up for the module: the same with BIRD 3.1 servers."""
    with image_lab(DEBIAN13_BIRD3, "b3") as lab:
        yield lab


#: The lab kinds tests run on, and the session fixture of each: the namespace kind (inventory/,
#: this machine's FRR 8.4 and BIRD 2.0) and the Debian 13 kinds (systemd, sudo, FRR 10.3,
#: BIRD 2.17 or BIRD 3.1).
LAB_KINDS: dict[str, str] = {"namespace": "lab", "debian13": "debian13_lab",
                             "debian13-bird3": "bird3_lab"}


def lab_of_kind(request: pytest.FixtureRequest, default: str = "namespace") -> Lab:
    """The session lab of the kind a test is parametrized with (`indirect`), else `default`."""
    kind = getattr(request, "param", default)
    lab: Lab = request.getfixturevalue(LAB_KINDS[kind])
    return lab


def rebuild(lab: Lab) -> Lab:
    """`lab down` then `lab up` of that lab: as `lab up` leaves it, nothing deployed."""
    with lab.env():
        tear_down()
        return bring_up(lab.inventory)


def stop_bird_argv(lab: Lab, host: str) -> list[str]:
    """How an operator stops BIRD on that host: systemctl on systemd hosts, `birdc down` on
    the namespace kind (no init system)."""
    if lab.topology.host(host).image is not None:
        return ["systemctl", "stop", "bird"]
    return ["birdc", "down"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "lab_disruptive: takes the shared lab apart; runs after every other test")
    try:
        lab_prefix()
    except LabPrefixError as exc:
        raise pytest.UsageError(str(exc)) from None


def pytest_report_header(config: pytest.Config) -> str:
    prefix = os.environ.get(ENV, DEFAULT)
    return f"lab prefix: {prefix} (namespaces {prefix}-*; set by {ENV})"


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Move lab_disruptive tests to the end, keeping the order within each group."""
    calm = [i for i in items if "lab_disruptive" not in i.keywords]
    rough = [i for i in items if "lab_disruptive" in i.keywords]
    items[:] = calm + rough


def deploy_inventory(inventory: Path | str = "inventory", **kw: Any) -> Any:
    """`run_deploy` on a fresh Nornir of `inventory` (connections closed after)."""
    from nornir_anycast.deploy.runner import run_deploy
    from nornir_anycast.design.build import load_design
    from nornir_anycast.inventory.loader import load_nornir

    nr = load_nornir(inventory)
    design, _ = load_design(nr)
    try:
        return run_deploy(nr, design, **kw)
    finally:
        nr.close_connections()


def verify_inventory(inventory: Path | str = "inventory", wait: float = 0.0) -> Any:
    """`run_verify` on a fresh Nornir of `inventory` (connections closed after)."""
    from nornir_anycast.design.build import load_design
    from nornir_anycast.inventory.loader import load_nornir
    from nornir_anycast.verify.runner import run_verify

    nr = load_nornir(inventory)
    design, _ = load_design(nr)
    try:
        return run_verify(nr, design, wait=wait)
    finally:
        nr.close_connections()


def fresh_deployed_lab() -> Iterator[Lab]:
    """For a module fixture: a fresh lab with the default inventory deployed and verified;
    taken down and rebuilt fresh afterwards, also when a test failed."""
    tear_down()
    fresh = bring_up()
    try:
        assert deploy_inventory().ok
        report = verify_inventory(wait=60)
        assert report.ok, [c for c in report.checks if not c["passed"]]
        yield fresh
    finally:
        tear_down()
        bring_up()
