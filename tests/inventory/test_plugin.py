"""The AnycastInventory plugin (issue 10 §2, §1 paths, §5 inventory messages).

`InitNornir(config_file=...)` from any directory, the design found by tasks on a filtered
Nornir, invalid inventories refused with the CLI's lines, paths written in an inventory taken
from its directory, netmiko extras checked, and a group's or the defaults' problem reported once.
"""

from __future__ import annotations

import gc
import os
import shutil
import weakref
from pathlib import Path
from typing import Any

import pytest
import yaml
from nornir import InitNornir
from nornir.core.task import Result, Task
from paths import ROOT, TESTS

from nornir_anycast.cli.main import main
from nornir_anycast.design.registry import NoDesignError, design_for, lookup, warnings_for
from nornir_anycast.exceptions import InventoryError
from nornir_anycast.inventory import secrets
from nornir_anycast.inventory.loader import load_nornir
from nornir_anycast.inventory.plugin import AnycastInventory
from nornir_anycast.settings import lab_dir

SHIPPED = sorted(p.parent for p in (ROOT / "inventory").glob("**/config.yaml"))
SECRET = "s3cr3t-Plugin-Pw"
ENV = "NA_TEST_PLUGIN_SSH_PW"
CONFIG = "inventory:\n  plugin: AnycastInventory\nlogging:\n  enabled: false\n"


def _copy(source: Path, dest: Path) -> Path:
    shutil.copytree(source, dest)
    return dest


def _edit(path: Path, edit: Any) -> None:
    doc = yaml.safe_load(path.read_text()) or {}
    edit(doc)
    path.write_text(yaml.safe_dump(doc, sort_keys=False))


def _problems(exc: pytest.ExceptionInfo[InventoryError]) -> list[str]:
    return [str(p) for p in exc.value.problems]


# --- InitNornir from anywhere ---------------------------------------------------------------


def test_every_shipped_config_names_the_plugin() -> None:
    configs = [*SHIPPED, *(p.parent for p in (TESTS / "inventories").glob("*/config.yaml"))]
    assert len(SHIPPED) == 6  # inventory/, vyos-seed, vyos-seed-dnat, lab-dnat, lab-debian13*
    for directory in configs:
        doc = yaml.safe_load((directory / "config.yaml").read_text())
        assert doc["inventory"] == {"plugin": "AnycastInventory"}, directory


@pytest.mark.parametrize("inventory", SHIPPED, ids=lambda p: str(p.relative_to(ROOT)))
def test_initnornir_from_another_directory(inventory: Path, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """It was FileNotFoundError (hosts.yaml) unless run from the project root."""
    monkeypatch.chdir(tmp_path)
    relative = os.path.relpath(inventory / "config.yaml", tmp_path)
    for config_file in (str(inventory / "config.yaml"), relative):
        nr = InitNornir(config_file=config_file)
        assert sorted(nr.inventory.hosts) == ["client", "edge", "isp", "server-1", "server-2"]
        design = lookup(nr)
        assert design is not None and sorted(design.hosts) == sorted(nr.inventory.hosts)
        assert warnings_for(nr) == []
    assert list(tmp_path.iterdir()) == []  # nothing written into the current directory


def _prefixes(task: Task) -> Result:
    design = design_for(task)
    return Result(host=task.host, result={"prefixes": [s.prefix for s in design.services],
                                          "hosts": sorted(design.hosts)})


def test_filtered_nornir_finds_the_design_of_the_whole_inventory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    nr = InitNornir(config_file=str(ROOT / "inventory" / "config.yaml"))
    servers = nr.filter(role="server")
    assert sorted(servers.inventory.hosts) == ["server-1", "server-2"]
    result = servers.run(task=_prefixes)
    assert not result.failed
    for host in ("server-1", "server-2"):
        assert result[host][0].result == {
            "prefixes": ["10.13.13.1/32"],
            "hosts": ["client", "edge", "isp", "server-1", "server-2"]}  # the whole inventory
    assert lookup(servers.filter(name="server-1")) is lookup(nr)


def test_load_nornir_attaches_the_same_kind_of_design() -> None:
    nr = load_nornir(ROOT / "inventory")
    design = lookup(nr.filter(role="edge"))
    assert design is not None
    assert [p.host for p in design.services[0].ecmp] == ["server-1", "server-2"]


def test_inventory_without_config_file_takes_options(tmp_path: Path) -> None:
    """Used by hand (InitNornir(inventory={...})): `directory` says where the files are."""
    inv = _copy(TESTS / "inventories" / "three-servers", tmp_path / "inv")
    nr = InitNornir(inventory={"plugin": "AnycastInventory",
                               "options": {"directory": str(inv)}},
                    logging={"enabled": False})
    assert sorted(nr.inventory.hosts) == ["edge", "server-1", "server-2", "server-3"]
    assert [w.severity for w in warnings_for(nr)] == ["warning"]
    assert AnycastInventory(directory=str(inv)).files.hosts == inv / "hosts.yaml"


# --- invalid inventories --------------------------------------------------------------------


def test_invalid_inventory_through_initnornir_gives_the_cli_lines(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inv = _copy(TESTS / "inventories" / "bad", tmp_path / "bad")
    (inv / "config.yaml").write_text(CONFIG)
    with pytest.raises(InventoryError) as info:
        InitNornir(config_file=str(inv / "config.yaml"))
    lines = str(info.value).splitlines()
    assert lines[0] == "invalid inventory (4 problems):"
    assert "server-1: bgp.neighbors.0.address='10.12.12.253': no host of the inventory has " \
           "this address on an interface" in _problems(info)
    assert main(["render", "-i", str(inv), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [f"error: {lines[0]}", *lines[1:]]


def test_load_nornir_and_initnornir_refuse_alike(tmp_path: Path) -> None:
    inv = _copy(TESTS / "inventories" / "bad", tmp_path / "bad")
    with pytest.raises(InventoryError) as by_helper:
        load_nornir(inv)
    (inv / "config.yaml").write_text(CONFIG)
    with pytest.raises(InventoryError) as by_nornir:
        InitNornir(config_file=str(inv / "config.yaml"))
    assert _problems(by_helper) == _problems(by_nornir)


def test_shape_problem_through_initnornir(tmp_path: Path) -> None:
    inv = _copy(ROOT / "inventory", tmp_path / "inv")
    _edit(inv / "hosts.yaml", lambda d: d["edge"].update(groups="routers"))
    with pytest.raises(InventoryError) as info:
        InitNornir(config_file=str(inv / "config.yaml"))
    assert _problems(info) == [
        "edge: groups='routers': must be a list of group names ([a, b]), not text"]


# --- paths written in an inventory ----------------------------------------------------------


def _own_inventory(tmp_path: Path) -> Path:
    """The default inventory in tmp with files of its own: key, ssh_config, known_hosts,
    SSH password file and a BGP password file, all written as relative paths."""
    inv = _copy(ROOT / "inventory", tmp_path / "net")
    (inv / "keys").mkdir()
    (inv / "keys" / "id").write_text("not a real key\n")
    (inv / "ssh_config").write_text("Host *\n")
    (inv / "known_hosts").write_text("")
    (inv / "ssh.pw").write_text(SECRET + "\n")
    (inv / "secrets").mkdir()
    (inv / "secrets" / "bgp.pw").write_text("bgp-" + SECRET + "\n")

    def defaults(d: dict[str, Any]) -> None:
        d["password"] = {"file": "ssh.pw"}
        d["connection_options"]["netmiko"]["extras"].update(
            key_file="keys/id", ssh_config_file="./ssh_config", alt_key_file="known_hosts",
            ssh_strict=True)

    def hosts(d: dict[str, Any]) -> None:
        for name in ("server-1", "edge"):
            for nb in d[name]["data"]["bgp"]["neighbors"]:
                if nb["address"].startswith("10.12.12."):
                    nb["password_file"] = "secrets/bgp.pw"

    _edit(inv / "defaults.yaml", defaults)
    _edit(inv / "hosts.yaml", hosts)
    return inv


def test_relative_paths_are_taken_from_the_inventory_directory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """They were taken from the project root (here: the checkout, where none of them is)."""
    inv = _own_inventory(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    nr = InitNornir(config_file="../net/config.yaml")
    extras = nr.inventory.defaults.connection_options["netmiko"].extras
    assert extras is not None
    assert extras["key_file"] == str(inv / "keys" / "id")
    assert extras["ssh_config_file"] == str(inv / "ssh_config")
    assert extras["alt_key_file"] == str(inv / "known_hosts")
    assert nr.inventory.hosts["edge"].password == SECRET
    design = lookup(nr)
    assert design is not None
    files = {nb.password_file for h in ("server-1", "edge")
             for nb in design.hosts[h].bgp.neighbors if nb.password_file}
    assert files == {str(inv / "secrets" / "bgp.pw")}
    secrets.forget_all()


def test_dot_lab_still_means_the_lab_directory(tmp_path: Path) -> None:
    inv = _copy(ROOT / "inventory", tmp_path / "inv")
    nr = InitNornir(config_file=str(inv / "config.yaml"))
    extras = nr.inventory.defaults.connection_options["netmiko"].extras
    assert extras is not None
    assert extras["key_file"] == str(lab_dir() / "id_ed25519")
    assert extras["ssh_config_file"] == str(lab_dir() / "ssh_config")


def test_a_missing_relative_password_file_is_named_in_the_inventory_directory(
        tmp_path: Path) -> None:
    inv = _own_inventory(tmp_path)
    (inv / "ssh.pw").unlink()
    with pytest.raises(InventoryError) as info:
        InitNornir(config_file=str(inv / "config.yaml"))
    [problem] = info.value.problems
    assert (problem.host, problem.field, problem.value) == ("defaults", "password.file", "ssh.pw")
    assert str(inv / "ssh.pw") in problem.message


# --- netmiko extras -------------------------------------------------------------------------


def test_unknown_netmiko_extra_is_refused_with_a_hint(tmp_path: Path) -> None:
    """`use_keyz: true` was accepted silently (netmiko fails on it at connect time)."""
    inv = _copy(ROOT / "inventory", tmp_path / "inv")
    _edit(inv / "defaults.yaml",
          lambda d: d["connection_options"]["netmiko"]["extras"].update(use_keyz=True))
    _edit(inv / "hosts.yaml", lambda d: d["edge"].update(
        connection_options={"netmiko": {"extras": {"conn_timeout": 5, "timeoutt": 9}}}))
    with pytest.raises(InventoryError) as info:
        InitNornir(config_file=str(inv / "config.yaml"))
    assert _problems(info) == [
        "edge: connection_options.netmiko.extras.timeoutt=9: unknown key 'timeoutt' in "
        "hosts.yaml (not an argument of netmiko's ConnectHandler); did you mean 'timeout'?",
        "defaults: connection_options.netmiko.extras.use_keyz=True: unknown key 'use_keyz' in "
        "defaults.yaml (not an argument of netmiko's ConnectHandler); did you mean 'use_keys'?",
    ]


# --- reported once, where it is set ---------------------------------------------------------


def test_a_defaults_typo_is_reported_once(tmp_path: Path) -> None:
    """It was reported once per host (five lines for the default inventory)."""
    inv = _copy(ROOT / "inventory", tmp_path / "inv")
    _edit(inv / "defaults.yaml", lambda d: d["data"].update(lcoal_pref=50))
    with pytest.raises(InventoryError) as info:
        InitNornir(config_file=str(inv / "config.yaml"))
    assert _problems(info) == [
        "defaults: lcoal_pref=50: unknown key 'lcoal_pref'; did you mean 'local_pref'? "
        "(set in defaults.yaml, for isp, edge, server-1, server-2, client)"]
    assert not [p for p in info.value.problems if p.host in ("edge", "server-1")]


def test_a_group_value_wrong_for_every_member_is_reported_once_at_the_group(
        tmp_path: Path) -> None:
    inv = _copy(ROOT / "inventory", tmp_path / "inv")
    _edit(inv / "groups.yaml", lambda d: d["servers"]["data"].update(
        bfd={"enabled": True, "interval_ms": 5, "multiplier": 3}))
    with pytest.raises(InventoryError) as info:
        InitNornir(config_file=str(inv / "config.yaml"))
    at_group = [p for p in info.value.problems if p.host == "group servers"]
    assert [p.field for p in at_group] == ["bfd.interval_ms"]
    assert at_group[0].value == 5
    assert "(set in groups.yaml, for server-1, server-2)" in at_group[0].message
    assert not [p for p in info.value.problems if p.host.startswith("server-")]


def test_a_host_level_problem_stays_with_the_host(tmp_path: Path) -> None:
    inv = _copy(ROOT / "inventory", tmp_path / "inv")
    _edit(inv / "hosts.yaml", lambda d: d["server-2"]["data"].update(local_pref="high"))
    with pytest.raises(InventoryError) as info:
        InitNornir(config_file=str(inv / "config.yaml"))
    assert _problems(info) == ["server-2: local_pref='high': must be a whole number"]


# --- secrets --------------------------------------------------------------------------------


def test_ssh_password_from_env_resolved_by_the_plugin_and_never_shown(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, SECRET)
    inv = _copy(ROOT / "inventory", tmp_path / "inv")
    _edit(inv / "defaults.yaml", lambda d: d.update(password={"env": ENV}))
    nr = InitNornir(config_file=str(inv / "config.yaml"))
    try:
        host = nr.inventory.hosts["server-1"]
        assert host.password == SECRET
        assert host.get_connection_parameters("netmiko").password == SECRET
        assert SECRET not in repr(host) and SECRET not in str(host)
        # the same inventory with a mistake: the problems never show the password
        _edit(inv / "hosts.yaml", lambda d: d["edge"]["data"].update(asn="x"))
        with pytest.raises(InventoryError) as info:
            InitNornir(config_file=str(inv / "config.yaml"))
        assert SECRET not in str(info.value)
        assert all(SECRET not in str(p) and SECRET not in repr(p) for p in info.value.problems)
    finally:
        secrets.forget_all()


def test_unset_password_variable_is_named_not_shown(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV, raising=False)
    inv = _copy(ROOT / "inventory", tmp_path / "inv")
    _edit(inv / "groups.yaml", lambda d: d["servers"].update(password={"env": ENV}))
    with pytest.raises(InventoryError) as info:
        InitNornir(config_file=str(inv / "config.yaml"))
    assert _problems(info) == [
        f"group servers: password.env='{ENV}': environment variable {ENV} is not set"]


def test_validate_false_loads_hosts_that_are_no_design(tmp_path: Path) -> None:
    inv = tmp_path / "inv"
    inv.mkdir()
    (inv / "hosts.yaml").write_text("r1:\n  hostname: 192.0.2.1\n")
    with pytest.raises(InventoryError):
        InitNornir(inventory={"plugin": "AnycastInventory", "options": {"directory": str(inv)}},
                   logging={"enabled": False})
    nr = InitNornir(inventory={"plugin": "AnycastInventory",
                               "options": {"directory": str(inv), "validate": False}},
                    logging={"enabled": False})
    assert list(nr.inventory.hosts) == ["r1"] and lookup(nr) is None
    result = nr.run(task=_prefixes)
    assert isinstance(result["r1"].exception, NoDesignError)
    # the files' shape is still checked
    (inv / "hosts.yaml").write_text("r1: [1]\n")
    with pytest.raises(InventoryError) as info:
        load_nornir(inv, validate=False)
    assert [p.host for p in info.value.problems] == ["r1"]


def test_a_design_is_forgotten_with_its_inventory() -> None:
    nr = load_nornir(ROOT / "inventory")
    design = lookup(nr)
    assert design is not None
    gone = weakref.ref(design)
    del nr, design
    gc.collect()
    assert gone() is None  # the registry held it only as long as the inventory lived


def test_resolve_path_rules(tmp_path: Path) -> None:
    from nornir_anycast.inventory.loader import resolve_path

    assert resolve_path("/etc/ssh/key", tmp_path) == "/etc/ssh/key"
    assert resolve_path("keys/id", tmp_path) == str(tmp_path / "keys" / "id")
    assert resolve_path(".lab/ssh_config", tmp_path) == str(lab_dir() / "ssh_config")
    assert resolve_path("~/.ssh/config", tmp_path) == str(Path.home() / ".ssh" / "config")
    assert resolve_path("~nosuchuser-na/x", tmp_path) == str(tmp_path / "~nosuchuser-na" / "x")


def test_inventory_directory_is_where_the_inventory_was_loaded_from(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """drill's drain/undrain commands run on the inventory the drill's Nornir came from."""
    from nornir_anycast.drill.runner import commands_inventory
    from nornir_anycast.inventory.loader import inventory_directory

    inv = _copy(ROOT / "inventory" / "lab-dnat", tmp_path / "elsewhere")
    monkeypatch.chdir(tmp_path)
    nr = load_nornir(inv)
    assert inventory_directory(nr) == inv
    assert commands_inventory(nr, None) == str(inv)
    assert commands_inventory(nr, "/given") == "/given"
    plain = InitNornir(config_file=str(inv / "config.yaml"))
    assert inventory_directory(plain) is None  # Nornir keeps no record of config_file
    assert commands_inventory(plain, None) is None
