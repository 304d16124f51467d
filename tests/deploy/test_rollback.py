"""Rollback without a lab: the inverse commands linux_net plans, and what rollback_anycast sends
for a journal (through a recording connection that answers like a shell). The real thing runs
in tests/test_rollback_lab.py."""

from __future__ import annotations

import re
from typing import Any

import pytest
from nornir.core.inventory import Host

from nornir_anycast.deploy.journal import Journal
from nornir_anycast.design.build import build_design
from nornir_anycast.device.linux_net import NetState, desired_state, plan
from nornir_anycast.inventory.loader import load_nornir
from nornir_anycast.tasks.rollback_anycast import rollback_anycast


def test_every_network_change_has_its_inverse() -> None:
    design = build_design(load_nornir("inventory"))
    edge = design.hosts["edge"]
    was = NetState(addresses={"eth0": {"172.16.42.9/31"}, "eth1": {"10.12.12.254/24"}},
                   link_up={"eth0": False, "eth1": True}, default_gateway="172.16.42.2",
                   sysctls={"net.ipv4.ip_forward": "0",
                            "net.ipv4.fib_multipath_hash_policy": "0"})
    undo = {c.command: c.undo for c in plan(desired_state(edge), was)}
    assert undo == {
        "sysctl -qw net.ipv4.fib_multipath_hash_policy=1":
            "sysctl -qw net.ipv4.fib_multipath_hash_policy=0",
        "sysctl -qw net.ipv4.ip_forward=1": "sysctl -qw net.ipv4.ip_forward=0",
        "ip link set dev eth0 up": "ip link set dev eth0 down",
        "ip addr add 172.16.42.3/31 dev eth0": "ip addr del 172.16.42.3/31 dev eth0",
        "ip addr del 172.16.42.9/31 dev eth0": "ip addr add 172.16.42.9/31 dev eth0",
    }
    server = design.hosts["server-2"]
    none = NetState(addresses={"eth0": {"10.12.12.2/24"}, "lo": {"10.13.13.1/32"}},
                    link_up={"eth0": True, "lo": True})
    [route] = plan(desired_state(server), none)
    assert (route.command, route.undo) == ("ip route replace default via 10.12.12.254",
                                           "ip route del default")


class RecordingShell:
    """Stands in for a netmiko connection to a Linux host: records each command, answers the
    exit-status sentinel Shell expects (exit 1 for commands matching `fail`)."""

    def __init__(self, fail: str | None = None) -> None:
        self.sent: list[str] = []
        self.fail = fail

    def send_command(self, command: str, **_: Any) -> str:
        inner = re.sub(r"^\{ (.*) ; \} 2>&1; echo __NA_RC=\$\?$", r"\1", command, flags=re.S)
        self.sent.append(inner)
        rc = 1 if self.fail and self.fail in inner else 0
        out = "Reconfigured" if "birdc" in inner and "configure" in inner else ""
        return f"{out}\n__NA_RC={rc}"


@pytest.fixture
def shells(monkeypatch: pytest.MonkeyPatch) -> dict[str, RecordingShell]:
    conns: dict[str, RecordingShell] = {}

    def get_connection(self: Host, connection: str, configuration: Any) -> RecordingShell:
        return conns.setdefault(self.name, RecordingShell())

    monkeypatch.setattr(Host, "get_connection", get_connection)
    return conns


def _journal() -> Journal:
    journal = Journal()
    edge = journal.host("edge", "frr")
    edge.files.append(("/etc/frr/frr.conf", True))
    edge.frr_prev_running = "/etc/frr/frr.conf.na-prev-running"
    s2 = journal.host("server-2", "linux")
    s2.files += [("/etc/bird/bird.conf", True), ("/var/www/anycast/file", False)]
    s2.net.append(("~ default via 10.12.12.1 (was 10.12.12.254)",
                   "ip route replace default via 10.12.12.254"))
    s2.services += ["reload nginx", "reload bird"]
    return journal


def test_rollback_sends_frr_first_then_files_network_and_services(
        shells: dict[str, RecordingShell]) -> None:
    nr = load_nornir("inventory")
    design = build_design(nr)
    journal = _journal()
    agg = nr.filter(filter_func=lambda h: h.name in ("edge", "server-2", "server-1")).run(
        task=rollback_anycast, design=design, journal=journal)
    assert not agg.failed
    assert agg["server-1"][0].result == [] and not agg["server-1"][0].changed
    assert "server-1" not in shells  # nothing recorded: not even connected
    edge = shells["edge"].sent
    assert edge[0].startswith("/usr/lib/frr/frr-reload.py --reload")
    assert edge[0].endswith("/etc/frr/frr.conf.na-prev-running")
    assert edge[1] == ("[ -e /etc/frr/frr.conf.na-prev ] && "
                       "mv -f /etc/frr/frr.conf.na-prev /etc/frr/frr.conf")
    s2 = shells["server-2"].sent
    assert s2[:3] == ["rm -f /var/www/anycast/file",
                      "[ -e /etc/bird/bird.conf.na-prev ] && "
                      "mv -f /etc/bird/bird.conf.na-prev /etc/bird/bird.conf",
                      "ip route replace default via 10.12.12.254"]
    assert s2[-1] == "birdc -s /run/bird/bird.ctl configure"
    assert "nginx -s reload" in s2 and s2.index("nginx -s reload") < len(s2) - 1
    assert agg["server-2"][0].result == [
        "removed /var/www/anycast/file (new in this deploy)", "restored /etc/bird/bird.conf",
        "undid '~ default via 10.12.12.1 (was 10.12.12.254)': "
        "ip route replace default via 10.12.12.254",
        "reload nginx (previous configuration)", "reload bird (previous configuration)"]


def test_a_failing_step_is_reported_and_the_others_still_run(
        monkeypatch: pytest.MonkeyPatch) -> None:
    conn = RecordingShell(fail="bird.conf.na-prev")
    monkeypatch.setattr(Host, "get_connection", lambda self, c, cfg: conn)
    nr = load_nornir("inventory")
    design = build_design(nr)
    agg = nr.filter(name="server-2").run(task=rollback_anycast, design=design,
                                         journal=_journal())
    res = agg["server-2"][0]
    assert agg.failed and res.failed
    assert "FAILED restored /etc/bird/bird.conf: exit 1" in res.result, res.result
    assert "rollback incomplete" in str(res.exception)
    assert "ip route replace default via 10.12.12.254" in conn.sent  # went on after it
    assert conn.sent[-1] == "birdc -s /run/bird/bird.ctl configure"


@pytest.mark.parametrize(("before", "expected"), [
    (True, "nft -f /etc/nftables.d/nornir-anycast.nft"),
    (False, "nft list table ip nornir_anycast >/dev/null 2>&1 && "
            "nft delete table ip nornir_anycast || true"),
])
def test_nat_table_goes_back_to_what_it_was(shells: dict[str, RecordingShell], before: bool,
                                            expected: str) -> None:
    nr = load_nornir("inventory")
    design = build_design(nr)
    journal = Journal()
    edge = journal.host("edge", "frr")
    edge.files.append(("/etc/nftables.d/nornir-anycast.nft", before))
    edge.services.append("apply nftables")
    edge.nft_table_before = before
    agg = nr.filter(name="edge").run(task=rollback_anycast, design=design, journal=journal)
    assert not agg.failed, agg["edge"][0].result
    assert shells["edge"].sent[-1] == expected
