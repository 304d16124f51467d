"""NAT on Linux (FRR) routers with nftables, and the lab's DNAT variant `inventory/lab-dnat/`.

- Rendering: the lab-dnat edge's `nftables.conf` against tests/golden/lab-dnat_edge.nft (its
  table block is what `nft list table` itself prints after loading the file: checked below with
  the real nft), rule variants, clear errors.
- The real `nft`: `nft -c -f` accepts the file and rejects a broken one; `nft -f` twice in a
  throw-away network namespace (`cap-nft-<pid>`, deleted afterwards) gives the same table both
  times and leaves another table alone.
- The deploy task's nftables steps (`target_check_command`, `_service_actions`, `_run_services`) run
  through `nornir_anycast.device.shell.Shell` with real commands in that namespace; only the SSH
  hop is replaced by a local shell (the lab tests go through SSH).
- The lab-dnat edge's frr.conf (AS65500-OUT deny) is stable under frr-reload against real FRR.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from paths import GOLDEN as GOLDEN_DIR
from paths import ROOT
from test_render_frr_reload import FrrInstance, _diff_lines, frr_instance  # noqa: F401

from nornir_anycast.deploy.linux import (
    FileToApply,
    _service_actions,
)
from nornir_anycast.deploy.linux import run_services as _run_services
from nornir_anycast.design.build import build_design, derive_services, load_design
from nornir_anycast.design.model import Design, HostModel
from nornir_anycast.device.shell import Shell
from nornir_anycast.exceptions import ConfigCheckError, DeviceError, TemplateError
from nornir_anycast.inventory.loader import load_nornir
from nornir_anycast.inventory.schema import check_inventory_files
from nornir_anycast.render import render_host
from nornir_anycast.render.checkers import (
    check_file,
    check_frr,
    check_nft,
    target_check_command,
)
from nornir_anycast.render.nftables import NFT_TABLE

GOLDEN = GOLDEN_DIR / "lab-dnat_edge.nft"
LAB_DNAT = ROOT / "inventory" / "lab-dnat"


def design_of(inventory: Path) -> Design:
    return build_design(load_nornir(inventory))


def with_nat(design: Design, host: str, nat: dict[str, Any], **update: object) -> Design:
    hosts = dict(design.hosts)
    raw = {**hosts[host].model_dump(exclude_unset=True), "nat": nat, **update}
    hosts[host] = HostModel.model_validate(raw)
    return Design(hosts=hosts, services=derive_services(hosts))


def table_block(text: str) -> str:
    """The `table ip nornir_anycast { ... }` block of a rendered file (what nft lists back)."""
    start = text.index(f"table ip {NFT_TABLE} {{")
    return text[start:]


# ------------------------------------------------------------------ inventory/lab-dnat

def test_lab_dnat_validates_clean() -> None:
    assert check_inventory_files(LAB_DNAT) == []
    design, warnings = load_design(load_nornir(LAB_DNAT))  # raises InventoryError on errors
    assert warnings == []
    assert design.hosts["edge"].nat.destination[0].translation_address == "10.13.13.1"


def test_lab_dnat_is_the_lab_with_the_seed_dnat_section() -> None:
    """Same hosts and hostnames as inventory/; only the edge differs, and only in NAT/policy."""
    lab = yaml.safe_load((ROOT / "inventory" / "hosts.yaml").read_text())
    dnat = yaml.safe_load((LAB_DNAT / "hosts.yaml").read_text())
    assert {h: v["hostname"] for h, v in dnat.items()} == {
        h: v["hostname"] for h, v in lab.items()}
    assert all(v["hostname"].startswith("na-") for v in dnat.values())
    for name in ("config.yaml", "defaults.yaml", "groups.yaml"):
        strip = [ln for ln in (ROOT / "inventory" / name).read_text().splitlines()
                 if not ln.startswith("#")]
        assert strip == [ln for ln in (LAB_DNAT / name).read_text().splitlines()
                         if not ln.startswith("#")], name
    assert {h: v for h, v in dnat.items() if h != "edge"} == {
        h: v for h, v in lab.items() if h != "edge"}
    lab_edge, dnat_edge = lab["edge"]["data"], dnat["edge"]["data"]
    assert set(dnat_edge) - set(lab_edge) == {"nat", "route_maps", "paths"}
    isp = [n for n in dnat_edge["bgp"]["neighbors"] if n["remote_as"] == 65000]
    assert [n.get("route_map_out") for n in isp] == ["AS65500-OUT"]
    assert dnat_edge["route_maps"] == {"AS65500-OUT": [{"rule": 20, "action": "deny"}]}


def test_lab_dnat_files_per_host() -> None:
    d = design_of(LAB_DNAT)
    names = {h: sorted(render_host(d.hosts[h], d)) for h in d.hosts}
    assert names["edge"] == ["frr.conf", "nftables.conf"]
    assert names["isp"] == ["frr.conf"]  # the ISP needs nothing: 172.16.42.3 is connected
    plain = design_of(ROOT / "inventory")
    assert "nftables.conf" not in render_host(plain.hosts["edge"], plain)  # no NAT, no file


def test_lab_dnat_edge_nftables_golden() -> None:
    d = design_of(LAB_DNAT)
    f = render_host(d.hosts["edge"], d)["nftables.conf"]
    assert f.content == GOLDEN.read_text()
    assert f.checker == "nft"
    # per-host /etc/frr in the lab, never the machine's own /etc/nftables.d
    assert f.path == "/etc/frr/nornir-anycast.nft"
    assert d.hosts["isp"].paths.nftables_conf == "/etc/nftables.d/nornir-anycast.nft"


def test_lab_dnat_edge_frr_sends_nothing_to_the_isp() -> None:
    d = design_of(LAB_DNAT)
    text = render_host(d.hosts["edge"], d)["frr.conf"].content
    lines = text.splitlines()
    assert "  neighbor 172.16.42.2 route-map AS65500-OUT out" in lines
    assert "  neighbor 172.16.42.2 route-map EBGP-IN in" in lines
    block = text.split("route-map AS65500-OUT deny 20\n", 1)[1].split("!", 1)[0]
    assert block.strip() == "exit"  # deny everything: no match clause
    assert "EBGP-OUT" not in text
    # the servers' sessions still accept only the anycast prefixes
    assert "ip prefix-list ANYCAST-server-1 seq 5 permit 10.13.13.1/32" in lines
    assert "  neighbor 10.12.12.1 route-map SERVERS-IN-server-1 in" in lines
    assert "  maximum-paths ibgp 2" in lines
    check_frr(text)


# ------------------------------------------------------------------ rendering variants and errors

def test_nat_rule_variants() -> None:
    d = with_nat(design_of(ROOT / "inventory"), "edge", {
        "destination": [
            {"rule": 20, "destination_address": "172.16.42.3", "destination_port": 53,
             "protocol": "udp", "inbound_interface": "eth0", "translation_address": "10.13.13.1",
             "description": 'dns "resolver"'},
            {"rule": 5, "destination_address": "172.16.42.3", "destination_port": 443,
             "translation_address": "10.13.13.1"},
        ],
        "source": [{"rule": 7, "outbound_interface": "eth0", "source_address": "10.12.12.9/24",
                    "translation": "172.16.42.3"}],
    })
    text = render_host(d.hosts["edge"], d)["nftables.conf"].content
    rules = [ln.strip() for ln in text.splitlines() if "comment" in ln]
    assert rules == [
        'ip daddr 172.16.42.3 tcp dport 443 dnat to 10.13.13.1 comment "rule 5"',
        'iifname "eth0" ip daddr 172.16.42.3 udp dport 53 dnat to 10.13.13.1 '
        "comment \"rule 20: dns 'resolver'\"",
        'oifname "eth0" ip saddr 10.12.12.0/24 snat to 172.16.42.3 comment "rule 7"',
    ]


def test_only_destination_nat_has_no_postrouting_chain() -> None:
    d = with_nat(design_of(ROOT / "inventory"), "edge", {"destination": [
        {"rule": 10, "destination_address": "172.16.42.3", "destination_port": 80,
         "translation_address": "10.13.13.1"}]})
    text = render_host(d.hosts["edge"], d)["nftables.conf"].content
    assert "chain prerouting" in text
    assert "postrouting" not in text


def test_ipv6_nat_is_a_clear_error() -> None:
    d = with_nat(design_of(ROOT / "inventory"), "edge", {"destination": [
        {"rule": 10, "destination_address": "2001:db8::1", "destination_port": 80,
         "translation_address": "10.13.13.1"}]})
    with pytest.raises(TemplateError, match=r"^edge: nat\.destination\.0\.destination_address="
                                            r"'2001:db8::1': .*IPv4 only"):
        render_host(d.hosts["edge"], d)


def test_frr_still_refuses_dns_forwarding_but_not_nat() -> None:
    d = with_nat(design_of(ROOT / "inventory"), "edge", {"source": [
        {"rule": 1, "outbound_interface": "eth0", "source_address": "10.12.12.0/24"}]},
        dns_forwarding={"name_servers": ["8.8.8.8"]})
    with pytest.raises(TemplateError, match=r"^edge: dns_forwarding is set"):
        render_host(d.hosts["edge"], d)


# ------------------------------------------------------------------ the real nft (root)

def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), capture_output=True, text=True, timeout=30, check=False)


@pytest.fixture
def netns() -> Iterator[str]:
    """A throw-away network namespace of our own (never a lab's na-*)."""
    name = f"cap-nft-{os.getpid()}"
    _run("ip", "netns", "del", name)
    res = _run("ip", "netns", "add", name)
    assert res.returncode == 0, res.stderr
    try:
        yield name
    finally:
        _run("ip", "netns", "del", name)


def nft(ns: str, *args: str) -> subprocess.CompletedProcess[str]:
    return _run("ip", "netns", "exec", ns, "nft", *args)


@pytest.mark.lab
def test_nft_check_accepts_the_file_and_rejects_a_broken_one() -> None:
    text = GOLDEN.read_text()
    d = design_of(LAB_DNAT)
    assert check_file(render_host(d.hosts["edge"], d)["nftables.conf"]) == ""
    with pytest.raises(ConfigCheckError, match=r"(?s)rejected by nftables \(nft -c\) \(exit 1\).*"
                                                r"dnatt"):
        check_nft(text.replace("dnat to", "dnatt to"))
    # the kernel takes part in the check: it refuses a route chain in a nat table's place
    broken = text.replace("type nat hook prerouting", "type route hook prerouting")
    with pytest.raises(ConfigCheckError, match=r"(?s)nft -c.*Operation not supported"):
        check_nft(broken)


@pytest.mark.lab
def test_nft_apply_twice_is_idempotent_and_leaves_other_tables(netns: str,
                                                               tmp_path: Path) -> None:
    conf = tmp_path / "anycast.nft"
    conf.write_text(GOLDEN.read_text())
    other = "table inet keepme {\n\tchain input {\n\t\ttype filter hook input priority filter; " \
            "policy accept;\n\t\ttcp dport 22 accept\n\t}\n}\n"
    (tmp_path / "other.nft").write_text(other)
    assert nft(netns, "-f", str(tmp_path / "other.nft")).returncode == 0
    other_before = nft(netns, "list", "table", "inet", "keepme").stdout

    assert nft(netns, "list", "table", "ip", NFT_TABLE).returncode != 0  # absent at first
    listings = []
    for _ in range(2):
        res = nft(netns, "-f", str(conf))
        assert res.returncode == 0, res.stderr
        listed = nft(netns, "list", "table", "ip", NFT_TABLE)
        assert listed.returncode == 0, listed.stderr
        listings.append(listed.stdout)
    assert listings[0] == listings[1]
    assert listings[0] == table_block(GOLDEN.read_text())  # the golden is nft's own form
    assert nft(netns, "list", "table", "inet", "keepme").stdout == other_before
    ruleset = nft(netns, "list", "ruleset").stdout
    assert ruleset.count("table ip nornir_anycast") == 1


class _LocalConn:
    """Stands in for the netmiko connection only: the commands run for real, in `ns`."""

    def __init__(self, ns: str) -> None:
        self.ns = ns
        self.sent: list[str] = []

    def send_command(self, command: str, **_: Any) -> str:
        self.sent.append(command)
        res = _run("ip", "netns", "exec", self.ns, "sh", "-c", command)
        return res.stdout + res.stderr


@pytest.mark.lab
def test_deploy_steps_apply_the_table_when_changed_or_missing(netns: str,
                                                              tmp_path: Path) -> None:
    d = design_of(LAB_DNAT)
    path = str(tmp_path / "nornir-anycast.nft")
    edge = d.hosts["edge"].model_copy(
        update={"paths": d.hosts["edge"].paths.model_copy(update={"nftables_conf": path})})
    content = render_host(edge, d)["nftables.conf"].content
    shell = Shell(_LocalConn(netns), "edge")

    # staged file checked on the target with the command the deploy task uses
    Path(path + ".na-new").write_text(content)
    assert shell.run(target_check_command("nft", path + ".na-new")).ok
    Path(path + ".na-new").write_text(content.replace("masquerade", "masq"))
    res = shell.run(target_check_command("nft", path + ".na-new"))
    assert not res.ok and "masq" in res.output

    # the file changed: apply
    Path(path).write_text(content)
    changed = [FileToApply(path, content, "nft", None)]
    actions = _service_actions(shell, edge, changed)
    assert actions == ["apply nftables"]
    assert _run_services(shell, edge, actions, None) == ["apply nftables"]
    listed = nft(netns, "list", "table", "ip", NFT_TABLE)
    assert listed.stdout == table_block(content)

    # nothing changed and the table is there: nothing to do
    assert _service_actions(shell, edge, []) == []

    # the table is gone (a restarted host) although the file is unchanged: apply again
    assert nft(netns, "delete", "table", "ip", NFT_TABLE).returncode == 0
    actions = _service_actions(shell, edge, [])
    assert actions == ["apply nftables"]
    _run_services(shell, edge, actions, None)
    assert nft(netns, "list", "table", "ip", NFT_TABLE).stdout == listed.stdout

    # `nft -c` passes a masquerade in a prerouting chain, the kernel refuses it at commit: the
    # deploy fails, the running table stays, and the previous file is put back
    bad = content.replace("tcp dport 80 dnat to 10.13.13.1", "masquerade")
    assert shell.run(target_check_command("nft", path)).ok
    Path(path + ".na-prev").write_text(content)
    Path(path).write_text(bad)
    assert shell.run(target_check_command("nft", path)).ok  # what the staged check would say
    actions = _service_actions(shell, edge, [FileToApply(path, bad, "nft", content)])
    with pytest.raises(DeviceError, match=r"^edge: 'nft -f .*' failed \(exit 1\), previous NAT "
                                          r"table and file kept: .*Operation not supported"):
        _run_services(shell, edge, actions, None)
    assert Path(path).read_text() == content
    assert nft(netns, "list", "table", "ip", NFT_TABLE).stdout == listed.stdout

    # NAT removed from the inventory: the table and the file go
    plain = edge.model_copy(update={"nat": type(edge.nat)()})
    actions = _service_actions(shell, plain, [])
    assert actions == ["remove nftables"]
    _run_services(shell, plain, actions, None)
    assert nft(netns, "list", "table", "ip", NFT_TABLE).returncode != 0
    assert not Path(path).exists()
    assert _service_actions(shell, plain, []) == []


# ------------------------------------------------------------------ real FRR (root)

@pytest.mark.lab
@pytest.mark.parametrize("frr_instance", ["edge"], indirect=True)
def test_lab_dnat_edge_frr_conf_is_stable_under_frr_reload(
        frr_instance: FrrInstance, tmp_path: Path) -> None:  # noqa: F811 (the imported fixture)
    d = design_of(LAB_DNAT)
    rendered = render_host(d.hosts["edge"], d)["frr.conf"]
    conf = tmp_path / "frr.conf"
    conf.write_text(rendered.content)
    assert any("AS65500-OUT" in ln for ln in _diff_lines(frr_instance.reload(conf, "--test")))
    frr_instance.reload(conf, "--reload")
    running = frr_instance.vtysh("show running-config")
    assert "route-map AS65500-OUT deny 20" in running
    assert "neighbor 172.16.42.2 route-map AS65500-OUT out" in running
    assert _diff_lines(frr_instance.reload(conf, "--test")) == []
