"""load_design(), the services derived from the inventory, cli.common.load(), and the CLI's
exit code 2 on bad input (before any device is touched)."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import pytest
import yaml
from paths import ROOT

from nornir_anycast.cli import main as cli_main
from nornir_anycast.cli.common import add_inventory_args, load
from nornir_anycast.design.build import build_design, load_design
from nornir_anycast.exceptions import InventoryError
from nornir_anycast.inventory.loader import load_nornir
from nornir_anycast.inventory.schema import check_inventory_files

DEFAULT = ROOT / "inventory"
BAD = ROOT / "tests" / "inventories" / "bad"
THREE_SERVERS = ROOT / "tests" / "inventories" / "three-servers"

# The problems tests/inventories/bad holds, as the CLI prints them.
BAD_LINES = [
    "isp: bgp.neighbors.0.remote_as=65501: neighbor 172.16.42.3 is edge, whose asn is 65500",
    "edge: bgp.neighbors.0.address='10.12.12.1': server-1 has no BGP neighbor 10.12.12.254 "
    "(this end's update_source): the session cannot come up",
    "server-1: bgp.neighbors.0.address='10.12.12.253': no host of the inventory has this address "
    "on an interface",
    "server-1: bgp.neighbors=['10.12.12.253']: a server needs a BGP neighbor that is an address "
    "of an edge router",
]


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_inventory_args(parser)
    return parser.parse_args(list(argv))


# --- load_design ----------------------------------------------------------------------------


def test_load_design_raises_with_every_error() -> None:
    with pytest.raises(InventoryError) as info:
        load_design(load_nornir(BAD))
    assert [str(p) for p in info.value.problems] == BAD_LINES
    assert str(info.value).splitlines() == ["invalid inventory (4 problems):",
                                            *(f"  {line}" for line in BAD_LINES)]


def test_load_design_returns_warnings_not_errors() -> None:
    design, warnings = load_design(load_nornir(THREE_SERVERS))
    assert [w.severity for w in warnings] == ["warning"]
    assert sorted(design.hosts) == ["edge", "server-1", "server-2", "server-3"]


def test_backup_server_by_local_pref() -> None:
    """The seed's variant: server-2 at bgp_local_pref 50 is a valid path that carries nothing."""
    nr = load_nornir(DEFAULT)
    nr.inventory.hosts["server-2"].data["local_pref"] = 50
    design, warnings = load_design(nr)
    assert warnings == []
    [svc] = design.services
    assert [(p.host, p.next_hop, p.local_pref) for p in svc.ecmp] == [
        ("server-1", "10.12.12.1", 100)]
    assert [(p.host, p.local_pref) for p in svc.backups] == [("server-2", 50)]
    assert [p.host for p in svc.announcers] == ["server-1", "server-2"]


def test_next_hop_is_update_source_when_set() -> None:
    nr = load_nornir(DEFAULT)
    s1 = nr.inventory.hosts["server-1"].data
    s1["interfaces"][0]["addresses"].append("10.12.12.11/24")
    s1["bgp"]["neighbors"][0]["update_source"] = "10.12.12.11"
    nr.inventory.hosts["edge"].data["bgp"]["neighbors"][0]["address"] = "10.12.12.11"
    design, _ = load_design(nr)
    assert [p.next_hop for p in design.services[0].ecmp] == ["10.12.12.2", "10.12.12.11"]


def test_build_design_survives_addresses_that_do_not_parse() -> None:
    nr = load_nornir(DEFAULT)
    nr.inventory.hosts["edge"].data["interfaces"][1]["addresses"] = ["10.12.12.300/24"]
    design = build_design(nr)  # no ValueError: validation reports it
    assert design.services == []
    with pytest.raises(InventoryError) as info:
        load_design(nr)
    assert any(p.host == "edge" and p.field == "interfaces.1.addresses.0"
               and p.value == "10.12.12.300/24" for p in info.value.problems)


def test_conversion_errors_of_all_hosts_come_together() -> None:
    nr = load_nornir(DEFAULT)
    nr.inventory.hosts["edge"].data["asn"] = "abc"
    nr.inventory.hosts["server-2"].data["lcoal_pref"] = 50
    with pytest.raises(InventoryError) as info:
        load_design(nr)
    assert [str(p) for p in info.value.problems] == [
        "edge: asn='abc': must be a whole number",
        "server-2: lcoal_pref=50: unknown key 'lcoal_pref'; did you mean 'local_pref'? "
        "(set in hosts.yaml)",
    ]


# --- cli.common -----------------------------------------------------------------------------


def test_inventory_args() -> None:
    args = parse("--inventory", "x", "-H", "edge", "--host", "isp", "-g", "servers")
    assert (args.inventory, args.hosts, args.groups) == ("x", ["edge", "isp"], ["servers"])
    args = parse()
    assert (args.inventory, args.hosts, args.groups) == (None, [], [])


def test_load_filters_hosts_but_validates_all() -> None:
    nr, design, warnings = load(parse("--inventory", str(DEFAULT), "-g", "servers"))
    assert sorted(nr.inventory.hosts) == ["server-1", "server-2"]
    assert len(design.hosts) == 5
    assert warnings == []
    nr, _, _ = load(parse("--inventory", str(DEFAULT), "-H", "edge"))
    assert list(nr.inventory.hosts) == ["edge"]
    # -H selects only client, which is fine, but isp/edge/server-1 are broken: refused.
    with pytest.raises(InventoryError) as info:
        load(parse("--inventory", str(BAD), "-H", "client"))
    assert [str(p) for p in info.value.problems] == BAD_LINES


def test_load_prints_warnings_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    _, _, warnings = load(parse("--inventory", str(THREE_SERVERS)))
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [
        "warning: edge: bgp.maximum_paths_ibgp=2: 3 servers share the best local_pref 100 for "
        "10.13.13.1/32 but only 2 paths are used: server-3 (10.12.12.3) will not carry traffic"]
    assert len(warnings) == 1


def test_load_unknown_host_or_directory() -> None:
    with pytest.raises(InventoryError, match="no such host"):
        load(parse("--inventory", str(DEFAULT), "-H", "server-9"))
    with pytest.raises(InventoryError, match=r"no hosts\.yaml"):
        load(parse("--inventory", str(ROOT / "tests")))


# --- the CLI --------------------------------------------------------------------------------


def registered_commands() -> list[str]:
    sub = next(a for a in cli_main.build_parser()._actions
               if isinstance(a, argparse._SubParsersAction))
    return sorted(sub.choices)


@pytest.mark.parametrize("command", ["render", "deploy", "verify"])
def test_cli_exits_2_before_touching_anything(command: str, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    if command not in registered_commands():
        pytest.fail(f"command {command} is not registered")
    argv = [command, "--inventory", str(BAD)]
    if command == "render":
        argv += ["--out", str(tmp_path / "out")]
    assert cli_main.main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == ["error: invalid inventory (4 problems):",
                                *(f"  {line}" for line in BAD_LINES)]
    assert not (tmp_path / "out").exists()


def test_cli_prints_warnings_and_goes_on(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    rc = cli_main.main(["render", "--inventory", str(THREE_SERVERS), "--out", str(tmp_path),
                        "--no-check", "-H", "edge"])
    out, err = capsys.readouterr()
    assert "warning: edge: bgp.maximum_paths_ibgp=2:" in err
    assert "server-3 (10.12.12.3) will not carry traffic" in err
    assert rc == 0, out + err
    assert (tmp_path / "edge").is_dir()


def test_unknown_nornir_attributes_in_files_are_errors(tmp_path: Path) -> None:
    """Nornir silently ignores `grups:`; load() names the key, the host and the file."""
    inv = tmp_path / "inv"
    shutil.copytree(DEFAULT, inv)
    hosts = yaml.safe_load((inv / "hosts.yaml").read_text())
    hosts["client"]["grups"] = hosts["client"].pop("groups")
    (inv / "hosts.yaml").write_text(yaml.safe_dump(hosts))
    groups = yaml.safe_load((inv / "groups.yaml").read_text())
    groups["frr"]["plaform"] = groups["frr"].pop("platform")
    (inv / "groups.yaml").write_text(yaml.safe_dump(groups))
    with pytest.raises(InventoryError) as info:
        load(parse("--inventory", str(inv)))
    lines = [str(p) for p in info.value.problems]
    assert lines[:2] == [
        "client: grups=['clients', 'linux']: unknown key 'grups' in hosts.yaml (Nornir would "
        "ignore it); did you mean 'groups'?",
        "group frr: plaform='frr': unknown key 'plaform' in groups.yaml (Nornir would ignore "
        "it); did you mean 'platform'?",
    ]
    # ...and the consequences the model sees come with them, in the same error:
    assert lines[2:] == [
        "client: platform=None: not set: must be 'frr', 'vyos' or 'linux'",
        "client: role=None: required, but not set",
        "edge: platform=None: not set: must be 'frr', 'vyos' or 'linux'",
        "isp: platform=None: not set: must be 'frr', 'vyos' or 'linux'",
    ]


@pytest.mark.parametrize("inventory", [DEFAULT, DEFAULT / "vyos-seed", DEFAULT / "vyos-seed-dnat",
                                       BAD, THREE_SERVERS])
def test_inventory_files_have_only_nornir_attributes(inventory: Path) -> None:
    assert check_inventory_files(inventory) == []
