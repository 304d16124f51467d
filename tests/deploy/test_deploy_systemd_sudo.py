"""Deploy, rollback and verify's queries on hosts run the way a Debian 13 host is: systemd, an
operator account with sudo, no lab-only path (a recording fake Linux connection per host).

The inventory is the seed's, turned into real hosts: `lab: false`, `service_manager: systemd`,
`username: ops`, `privilege: sudo`, Debian's paths and an absolute healthchecker binary.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from designs import debian_inventory
from fake_devices import PRIVATE, FakeLinux, patch_connections
from paths import ROOT

from nornir_anycast.deploy import undo
from nornir_anycast.deploy.journal import HostJournal
from nornir_anycast.deploy.runner import run_deploy
from nornir_anycast.design.model import Design
from nornir_anycast.design.registry import lookup
from nornir_anycast.device.shell import shell_for
from nornir_anycast.inventory.loader import load_nornir
from nornir_anycast.render import render_host
from nornir_anycast.tasks import send_parsed

ROUTERS = ("edge", "isp")
SERVERS = ("server-1", "server-2")


def _design(nr: Any) -> Design:
    design = lookup(nr)
    assert design is not None
    return design


@pytest.fixture
def nr(tmp_path: Path) -> Any:
    return load_nornir(debian_inventory(tmp_path / "debian"))


def _unprivileged(dev: FakeLinux) -> list[str]:
    """Commands sent without sudo that are not Shell's own private staging (`mktemp -d`,
    base64 into /tmp/.na-*) or the `sudo -n true` probe."""
    own = [c for c in dev.sent if c == "sudo -n true" or c.startswith("mktemp -d /tmp/.na-")
           or (PRIVATE in c and c.startswith((": > ", "printf %s ", "base64 -d ", "rm -rf ")))]
    return [c for c in dev.sent if c not in own and c not in dev.as_root]


def test_every_privileged_command_and_file_write_goes_through_sudo(
        monkeypatch: pytest.MonkeyPatch, nr: Any) -> None:
    devices = patch_connections(monkeypatch)
    report = run_deploy(nr, baseline=False)
    assert report.ok, [(h.host, h.error) for h in report.hosts if h.error]
    for name in (*ROUTERS, *SERVERS, "client"):
        dev = devices[name]
        assert dev.sudo, name
        assert _unprivileged(dev) == [], (name, _unprivileged(dev))
        # Files reached their place intact, through the private directory and `install`.
        design = _design(nr)
        for f in render_host(design.hosts[name], design).values():
            if f.path is not None and f.checker != "frr" and not f.create_only:
                assert dev.files.get(f.path) == f.content, (name, f.path)
    # vtysh and birdc, from the command table, are prefixed `sudo -n` too (deploy, send_parsed).
    assert any("sudo -n vtysh -c " in c for c in devices["edge"].sudo)
    result = nr.filter(name="server-1").run(task=send_parsed, command="show protocols")
    assert result["server-1"][0].sent == "sudo -n birdc -s /run/bird/bird.ctl show protocols"
    assert devices["server-1"].sudo[-1] == result["server-1"][0].sent


def test_a_fresh_router_gets_its_daemons_file_and_frr_restarted_before_frr_reload(
        monkeypatch: pytest.MonkeyPatch, nr: Any) -> None:
    devices = patch_connections(monkeypatch)
    devices["edge"] = FakeLinux(running=True)  # frr.service runs, with Debian's bgpd=no
    report = run_deploy(nr.filter(name="edge"), baseline=False)
    assert report.ok, [h.error for h in report.hosts]
    dev = devices["edge"]
    assert "bgpd=yes" in dev.files["/etc/frr/daemons"]
    assert "bfdd=yes" in dev.files["/etc/frr/daemons"]  # the seed's BFD is on
    assert "net.ipv4.fib_multipath_hash_policy = 1" in dev.files[
        "/etc/sysctl.d/90-nornir-anycast.conf"]
    placed = dev.sent.index("mv -f /etc/frr/daemons.na-new /etc/frr/daemons")
    restart = dev.sent.index("systemctl restart frr")
    reload = next(i for i, c in enumerate(dev.sent) if "frr-reload.py --reload" in c)
    assert placed < restart < reload
    (host,) = report.hosts
    assert "restart frr" in host.actions and "~ restart frr" in host.diff


def test_a_fresh_server_starts_and_enables_its_units_unit_files_read_first(
        monkeypatch: pytest.MonkeyPatch, nr: Any) -> None:
    devices = patch_connections(monkeypatch)
    report = run_deploy(nr.filter(name="server-1"), baseline=False)
    assert report.ok, [h.error for h in report.hosts]
    sent = devices["server-1"].sent
    # bird.service failed on a fresh Debian host: its failed state is cleared, then it is
    # enabled and started in one go.
    assert "systemctl reset-failed bird 2>/dev/null; systemctl enable --now bird" in sent
    assert "systemctl reset-failed nginx 2>/dev/null; systemctl enable --now nginx" in sent
    assert sent.index("systemctl daemon-reload") < sent.index(
        "systemctl reset-failed anycast-healthchecker 2>/dev/null; "
        "systemctl enable --now anycast-healthchecker")
    (host,) = report.hosts
    assert host.actions.index("reload systemd") < host.actions.index("start healthchecker")


def test_a_running_unit_that_is_not_enabled_is_enabled_and_a_rollback_disables_it(
        monkeypatch: pytest.MonkeyPatch, nr: Any) -> None:
    devices = patch_connections(monkeypatch)
    devices["server-1"] = FakeLinux(
        running=True, fail={r"^systemctl is-enabled --quiet bird$": ""},
        answers={r"birdc .*show protocols$": "edge_1    BGP  ---  up  10:00:00  Established"})
    report = run_deploy(nr.filter(name="server-1"), baseline=False)
    assert report.ok, [h.error for h in report.hosts]
    (host,) = report.hosts
    assert "enable bird" in host.actions and "enable nginx" not in host.actions
    assert "systemctl enable bird" in devices["server-1"].sent
    me = _design(nr).hosts["server-1"]
    log = HostJournal("server-1", "linux", services=["enable bird", "reload systemd"])
    dev = FakeLinux()
    done, errors = undo.undo(shell_for(dev, me), me, log)
    assert errors == [], done
    assert "systemctl disable bird" in dev.sent
    assert "systemctl daemon-reload" in dev.sent


def test_rollback_of_a_daemons_change_restarts_frr_with_the_previous_file(
        nr: Any) -> None:
    me = _design(nr).hosts["edge"]
    dev = FakeLinux(files={"/etc/frr/daemons.na-prev": "bgpd=no\n"})
    log = HostJournal("edge", "frr", files=[("/etc/frr/daemons", True)],
                      services=["restart frr"])
    done, errors = undo.undo(shell_for(dev, me), me, log)
    assert errors == [], done
    assert dev.files["/etc/frr/daemons"] == "bgpd=no\n"
    restored = next(i for i, c in enumerate(dev.sent)
                    if "mv -f /etc/frr/daemons.na-prev /etc/frr/daemons" in c)
    assert restored < dev.sent.index("systemctl restart frr")
    assert all(c.startswith("sudo -n ") for c in dev.sudo) and dev.sudo


def test_a_lab_true_host_run_by_systemd_takes_the_real_host_paths(tmp_path: Path) -> None:
    """`lab: true` means only how SSH reaches the host: a Debian container of the lab renders
    /etc/network/interfaces, the sysctl file and FRR's daemons file like any real host."""
    nr = load_nornir(debian_inventory(tmp_path / "debian-lab", lab=True))
    design = _design(nr)
    edge = render_host(design.hosts["edge"], design)
    server = render_host(design.hosts["server-1"], design)
    assert {"daemons", "sysctl.conf"} <= set(edge)
    assert "interfaces" in server
    lab = load_nornir(ROOT / "inventory")
    seed = _design(lab)
    assert not {"daemons", "sysctl.conf"} & set(render_host(seed.hosts["edge"], seed))
    assert "interfaces" not in render_host(seed.hosts["server-1"], seed)


def test_a_watcher_unit_that_will_not_start_is_reported_with_what_systemd_says(
        monkeypatch: pytest.MonkeyPatch, nr: Any) -> None:
    """`systemctl enable --now` only says to go and read the journal (its words below are CI's,
    from a Debian 13 container); the host's error carries the unit's result and journal."""
    devices = patch_connections(monkeypatch)
    devices["server-2"] = FakeLinux(
        fail={r"enable --now nornir-anycast-nginx-watch": (
            "Job for nornir-anycast-nginx-watch.service failed because of unavailable resources "
            "or another system error.")},
        answers={r"^systemctl show -p ActiveState,SubState,Result nornir-anycast-nginx-watch":
                 "failed/failed/resources",
                 r"^journalctl -u nornir-anycast-nginx-watch": (
                     "nornir-anycast-nginx-watch.service: Failed to spawn 'start' task: "
                     "Resource temporarily unavailable\n")})
    report = run_deploy(nr, baseline=False)
    host = next(h for h in report.hosts if h.host == "server-2")
    assert host.failed and not report.ok
    error = str(host.error)
    assert "unavailable resources" in error, error
    assert "nornir-anycast-nginx-watch: failed/failed/resources" in error, error
    assert "Failed to spawn 'start' task: Resource temporarily unavailable" in error, error
