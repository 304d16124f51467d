"""The send_parsed task: what it sends for each platform, and against the real lab over SSH."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from nornir import InitNornir
from nornir.core import Nornir
from paths import ROOT

from nornir_anycast.exceptions import ParseError, UnsupportedCommandError
from nornir_anycast.inventory.loader import load_nornir
from nornir_anycast.tasks.send_parsed import (
    device_error,
    platform_for,
    send_parsed,
    wire_command,
)


@pytest.fixture
def shipped() -> Iterator[Nornir]:
    nr = load_nornir(ROOT / "inventory")
    yield nr
    nr.close_connections()


@pytest.fixture
def seed() -> Iterator[Nornir]:
    nr = load_nornir(ROOT / "inventory" / "vyos-seed")
    yield nr
    nr.close_connections()


def test_platform_and_wire_command_per_host(shipped: Nornir, seed: Nornir) -> None:
    edge, server = shipped.inventory.hosts["edge"], shipped.inventory.hosts["server-1"]
    assert platform_for(edge, "show ip bgp") == "frr"
    assert wire_command(edge, "frr", "show ip bgp 10.13.13.1/32") \
        == "vtysh -c 'show ip bgp 10.13.13.1/32'"
    assert platform_for(server, "show protocols all") == "bird2"
    assert platform_for(server, "ip route show") == "linux"
    ctl = server.get("paths", {}).get("bird_ctl", "/run/bird/bird.ctl")
    assert wire_command(server, "bird2", "show protocols all") == \
        f"birdc -s {ctl} show protocols all"
    assert wire_command(server, "linux", "ip route show") == "ip route show"
    s1 = seed.inventory.hosts["server-1"]
    assert platform_for(s1, "show route export bgp1") == "bird"  # the seed runs BIRD 1.6
    assert platform_for(seed.inventory.hosts["edge"], "show ip bgp") == "vyos"
    assert wire_command(seed.inventory.hosts["edge"], "vyos", "show ip bgp") == "show ip bgp"


@pytest.mark.parametrize(("text", "said"), [
    ("% Unknown command: show ip bgpp\n", "% Unknown command: show ip bgpp"),
    ("% Can't open configuration file /etc/frr/x/vtysh.conf due to 'No such file'.\n"
     "% BGP instance not found\n", "% BGP instance not found"),
    ("  Invalid command: [show ip bgpp]\n", "Invalid command: [show ip bgpp]"),
    ("bash: line 1: vtysh: command not found\n", "bash: line 1: vtysh: command not found"),
    ("Unable to connect to server control socket (/run/bird/bird.ctl): No such file or "
     "directory\n", "Unable to connect to server control socket (/run/bird/bird.ctl): No such "
                    "file or directory"),
    ("BIRD 2.0.12 ready.\nsyntax error, unexpected CF_SYM_UNDEFINED\n",
     "syntax error, unexpected CF_SYM_UNDEFINED"),
    ("   Network          Next Hop            Metric LocPrf Weight Path\n", None),
])
def test_device_error(text: str, said: str | None) -> None:
    assert device_error(text) == said


# ------------------------------------------------------------- over real SSH, own namespace

# One per lab prefix, so test sessions of two prefixes can run at once (tests/lab_fixtures.py).
NS = f"cap-sshtest-{os.environ.get('NORNIR_ANYCAST_LAB_PREFIX', 'na')}"
BIRD_CONF = """\
router id 10.99.0.1;
protocol device { }
protocol static static_bgp {
  ipv4;
  route 10.13.13.1/32 reject;
}
"""


def _sh(*argv: str, ns: bool = False) -> None:
    cmd = (["ip", "netns", "exec", NS] if ns else []) + list(argv)
    subprocess.run(cmd, check=True, capture_output=True, timeout=30)


@pytest.fixture
def ssh_host(tmp_path: Path) -> Iterator[Nornir]:
    """A namespace of its own (`cap-sshtest-<lab prefix>`) with a real sshd, a multipath kernel
    route and a running BIRD 2, reached by netmiko through a ProxyCommand; always torn down."""
    if os.geteuid() != 0:
        pytest.skip("needs root (network namespace, sshd)")
    d = tmp_path
    procs: list[Path] = []
    # a run killed half-way may have left the namespace behind: it is ours, remove it
    subprocess.run(["ip", "netns", "del", NS], capture_output=True, check=False)
    try:
        _sh("ip", "netns", "add", NS)
        _sh("ip", "link", "set", "lo", "up", ns=True)
        _sh("ip", "link", "add", "v0", "type", "veth", "peer", "name", "v1", ns=True)
        _sh("ip", "addr", "add", "10.99.0.1/24", "dev", "v0", ns=True)
        _sh("ip", "link", "set", "v0", "up", ns=True)
        _sh("ip", "link", "set", "v1", "up", ns=True)
        _sh("ip", "route", "add", "10.13.13.1/32", "nexthop", "via", "10.99.0.2", "dev", "v0",
            "nexthop", "via", "10.99.0.3", "dev", "v0", ns=True)
        _sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(d / "host_key"))
        _sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(d / "id"))
        (d / "authorized_keys").write_text((d / "id.pub").read_text())
        (d / "sshd_config").write_text(
            f"ListenAddress 127.0.0.1\nPort 22\nHostKey {d}/host_key\nPidFile {d}/sshd.pid\n"
            f"AuthorizedKeysFile {d}/authorized_keys\nPermitRootLogin prohibit-password\n"
            "PasswordAuthentication no\nUsePAM no\nStrictModes no\n")
        Path("/run/sshd").mkdir(exist_ok=True)
        _sh("/usr/sbin/sshd", "-f", str(d / "sshd_config"), ns=True)
        procs.append(d / "sshd.pid")
        (d / "bird.conf").write_text(BIRD_CONF)
        _sh("bird", "-c", str(d / "bird.conf"), "-s", str(d / "bird.ctl"), "-P",
            str(d / "bird.pid"), ns=True)
        procs.append(d / "bird.pid")
        (d / "ssh_config").write_text(
            f"Host {NS}\n  User root\n  IdentityFile {d}/id\n  StrictHostKeyChecking no\n"
            f"  UserKnownHostsFile /dev/null\n  LogLevel ERROR\n"
            f"  ProxyCommand ip netns exec {NS} socat - TCP:127.0.0.1:22\n")
        (d / "hosts.yaml").write_text(
            f"probe:\n  hostname: {NS}\n  platform: linux\n  username: root\n"
            f"  connection_options:\n    netmiko:\n      platform: linux\n      extras:\n"
            f"        use_keys: true\n        key_file: {d}/id\n"
            f"        ssh_config_file: {d}/ssh_config\n        allow_agent: false\n"
            f"  data:\n    bird_version: 2\n    paths:\n      bird_ctl: {d}/bird.ctl\n")
        nr = InitNornir(runner={"plugin": "threaded", "options": {"num_workers": 1}},
                        inventory={"plugin": "SimpleInventory",
                                   "options": {"host_file": str(d / "hosts.yaml")}},
                        logging={"enabled": False})
        try:
            yield nr
        finally:
            nr.close_connections()
    finally:
        for pidfile in procs:
            with contextlib.suppress(OSError, ValueError):
                os.kill(int(pidfile.read_text().strip()), signal.SIGTERM)
        subprocess.run(["ip", "netns", "del", NS], capture_output=True, check=False)


@pytest.mark.lab
def test_send_parsed_over_real_ssh(ssh_host: Nornir) -> None:
    routes = ssh_host.run(task=send_parsed, command="ip route show 10.13.13.1")["probe"]
    assert not routes.failed and not routes.changed, routes.result
    assert routes.sent == "ip route show 10.13.13.1" and routes.platform == "linux"
    assert routes.result == {"routes": [{
        "prefix": "10.13.13.1/32", "protocol": None, "type": "unicast", "metric": None,
        "scope": None, "src": None, "nhid": None,
        "next_hops": [{"via": "10.99.0.2", "dev": "v0", "weight": 1},
                      {"via": "10.99.0.3", "dev": "v0", "weight": 1}]}]}

    bird = ssh_host.run(task=send_parsed, command="show route")["probe"]
    assert bird.platform == "bird2" and bird.sent.startswith("birdc -s ")
    assert not bird.failed, bird.result
    (route,) = bird.result["routes"]
    assert (route["prefix"], route["protocol"], route["type"], route["primary"]) == (
        "10.13.13.1/32", "static_bgp", "unreachable", True)

    protocols = ssh_host.run(task=send_parsed, command="birdc show protocols")["probe"]
    assert [p["name"] for p in protocols.result["protocols"]] == ["device1", "static_bgp"]

    # The device refuses: a failed Result carrying the device's own message.
    bad = ssh_host.run(task=send_parsed, command="ip route show",
                       send="ip route shoe")["probe"]
    assert bad.failed and not bad.changed
    assert 'failed: Command "shoe" is unknown, try "ip route help".' in str(bad.result)
    assert isinstance(bad.exception, ParseError)
    assert "linux" in str(bad.exception) and "ip route show" in str(bad.exception)

    missing = ssh_host.run(task=send_parsed, command="show ip bgp", platform="frr",
                           on_failed=True)["probe"]
    assert missing.failed and missing.sent == "vtysh -c 'show ip bgp'"
    assert "failed: Exiting: failed to connect to any daemons." in str(missing.result)

    unknown = ssh_host.run(task=send_parsed, command="show ip ospf", platform="frr",
                           on_failed=True)["probe"]
    assert unknown.failed and isinstance(unknown.exception, UnsupportedCommandError)
    assert "show ip bgp summary" in str(unknown.exception)


# ------------------------------------------------------------- secrets the device echoes

class _EchoConnection:
    """A netmiko stand-in answering every command with one text."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.sent: list[str] = []

    def send_command(self, command: str, read_timeout: float = 30.0) -> str:
        self.sent.append(command)
        return self.text


def test_a_secret_the_device_echoes_is_redacted(shipped: Nornir, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    from nornir.core.inventory import Host
    from nornir_utils.plugins.functions import print_result

    from nornir_anycast.inventory import secrets

    secret = "Ec-ho-s3cret!"
    secrets.register(secret)
    try:
        conn = _EchoConnection(f"% Unknown command: neighbor 10.12.12.1 password {secret}\n")
        monkeypatch.setattr(Host, "get_connection", lambda self, name, config: conn)
        res = shipped.filter(name="edge").run(task=send_parsed, command="show ip bgp summary")
        r = res["edge"][0]
        assert r.failed
        assert conn.sent == ["vtysh -c 'show ip bgp summary'"]
        assert r.result == ("edge: \"vtysh -c 'show ip bgp summary'\" failed: % Unknown command: "
                            "neighbor 10.12.12.1 password ********")
        assert "password ********" in r.raw  # type: ignore[attr-defined]
        print_result(res)
        shown = capsys.readouterr().out
        assert "password ********" in shown
        for text in (shown, repr(vars(r)), str(r.exception), repr(res)):
            assert secret not in text
    finally:
        secrets.forget_all()
