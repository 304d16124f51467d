"""SSH host keys are checked: real devices against the user's known_hosts, lab hosts against the
lab's own `.lab/known_hosts`, unless the inventory decides otherwise.

No connection is made: nornir_netmiko's own connection plugin builds the ConnectHandler
arguments from the loaded inventory (ConnectHandler is replaced by a recorder), and those
arguments are given to a real netmiko object with `auto_connect=False` to see the host key
policy paramiko would use.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import paramiko
import pytest
import yaml
from netmiko import ConnectHandler
from nornir.core import Nornir
from paths import ROOT

from nornir_anycast.inventory.loader import load_nornir


def connect_arguments(nr: Nornir, host: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """What nornir_netmiko would pass to netmiko's ConnectHandler for `host`."""
    import nornir_netmiko.connections.netmiko as plugin

    seen: dict[str, Any] = {}

    def record(**kwargs: Any) -> object:
        seen.update(kwargs)
        return object()

    monkeypatch.setattr(plugin, "ConnectHandler", record)
    h = nr.inventory.hosts[host]
    h.open_connection("netmiko", nr.config)
    h.connections.pop("netmiko", None)
    return seen


def netmiko_policy(args: dict[str, Any]) -> Any:
    """The real netmiko object for these arguments, not connected."""
    args = {k: v for k, v in args.items() if k not in ("use_keys", "key_file")}
    return ConnectHandler(**args, auto_connect=False)


@pytest.mark.parametrize("inventory", ["inventory/vyos-seed", "inventory/vyos-seed-dnat"])
def test_real_devices_verify_host_keys_by_default(inventory: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    nr = load_nornir(ROOT / inventory)
    for name, host in nr.inventory.hosts.items():
        assert host.get("lab") is False
        args = connect_arguments(nr, name, monkeypatch)
        assert args["ssh_strict"] is True and args["system_host_keys"] is True, name
        assert args["host"] == host.hostname
        conn = netmiko_policy(args)
        assert isinstance(conn.key_policy, paramiko.RejectPolicy), name
        assert conn.system_host_keys is True


def _copy(tmp: Path, source: str) -> Path:
    d = tmp / "inv"
    d.mkdir()
    for f in (ROOT / source).glob("*.yaml"):
        (d / f.name).write_text(f.read_text())
    return d


def test_the_inventory_may_decide_and_keeps_its_other_extras(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    inv = _copy(tmp_path, "inventory/vyos-seed")
    groups = yaml.safe_load((inv / "groups.yaml").read_text())
    groups["vyos"]["connection_options"] = {"netmiko": {"extras": {"ssh_strict": False,
                                                                   "global_delay_factor": 2}}}
    groups["alpine"]["connection_options"] = {"netmiko": {"extras": {"conn_timeout": 7}}}
    (inv / "groups.yaml").write_text(yaml.safe_dump(groups))
    nr = load_nornir(inv)
    edge = connect_arguments(nr, "edge", monkeypatch)
    assert edge["ssh_strict"] is False and "system_host_keys" not in edge
    assert edge["global_delay_factor"] == 2
    assert isinstance(netmiko_policy(edge).key_policy, paramiko.AutoAddPolicy)
    server = connect_arguments(nr, "server-1", monkeypatch)
    assert server["conn_timeout"] == 7  # inherited extras kept
    assert server["ssh_strict"] is True and server["system_host_keys"] is True
    # The group's own options are not changed: only each host's.
    assert "ssh_strict" not in (nr.inventory.groups["alpine"].connection_options["netmiko"].extras
                                or {})


def _lab_known_hosts(root: Path, names: list[str]) -> None:
    lab = root / ".lab"
    lab.mkdir()
    lines = []
    for name in names:
        key = root / f"key-{name}"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)],
                       check=True)
        keytype, blob = key.with_suffix(".pub").read_text().split()[:2]
        lines.append(f"{name} {keytype} {blob}\n")
    (lab / "known_hosts").write_text("".join(lines))


def test_lab_hosts_use_the_labs_known_hosts(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NORNIR_ANYCAST_ROOT", str(tmp_path))
    monkeypatch.delenv("NORNIR_ANYCAST_LAB_PREFIX", raising=False)  # the default lab: .lab, na-*
    names = ["na-isp", "na-edge", "na-server-1", "na-server-2"]  # not the client
    _lab_known_hosts(tmp_path, names)
    nr = load_nornir(ROOT / "inventory")
    for name, host in nr.inventory.hosts.items():
        args = connect_arguments(nr, name, monkeypatch)
        assert args["key_file"] == str(tmp_path / ".lab" / "id_ed25519")  # still inherited
        assert args["ssh_config_file"] == str(tmp_path / ".lab" / "ssh_config")
        if host.hostname in names:
            assert args["ssh_strict"] is True and args["alt_host_keys"] is True
            assert args["alt_key_file"] == str(tmp_path / ".lab" / "known_hosts")
            assert "system_host_keys" not in args  # ~/.ssh/known_hosts has no lab host
            conn = netmiko_policy({k: v for k, v in args.items() if k != "ssh_config_file"})
            assert isinstance(conn.key_policy, paramiko.RejectPolicy)
            assert conn.alt_key_file == args["alt_key_file"]
        else:  # no key for it: left as it was (the lab has not written it)
            assert "ssh_strict" not in args, name


def test_lab_without_known_hosts_is_left_alone(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NORNIR_ANYCAST_ROOT", str(tmp_path))
    nr = load_nornir(ROOT / "inventory")
    args = connect_arguments(nr, "edge", monkeypatch)
    assert "ssh_strict" not in args and "alt_key_file" not in args
