"""verify's `edge_graceful_restart` (nornir_anycast.verify.checks.graceful_restart): graceful
restart negotiated on every edge-server session where both ends have `bgp.graceful_restart`.

The check replayed over the real captures of `capture.py --graceful-restart` (FRR 8.4 and
10.3 against BIRD 2.0 / 2.17: tests/captures/frr*/gr_*), and, in the lab (namespace kind),
the seed with graceful restart on the edge and both servers: deployed, verify passes with the
checks present; server-1's BIRD then switched to `graceful restart off` by hand: verify fails
with the message naming the session and the fix; deploy puts it back and verify passes.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from lab_fixtures import (
    Lab,
    bring_up,
    deploy_inventory,
    image_prefix,
    prefix_env,
    session_lock,
    tear_down,
    verify_inventory,
)
from paths import CAPTURES, ROOT

from nornir_anycast.design import registry
from nornir_anycast.design.model import Design
from nornir_anycast.inventory.loader import load_nornir
from nornir_anycast.parsing import parse_output
from nornir_anycast.verify.checks.graceful_restart import (
    NAME,
    check_graceful_restart,
    graceful_restart_pairs,
)

S1, S2 = "10.12.12.1", "10.12.12.2"
VERSIONS = ("frr", "frr10")


def graceful_restart_inventory(dst: Path, hosts: tuple[str, ...] = (
        "edge", "server-1", "server-2")) -> Path:
    """The seed lab inventory (inventory/) copied to `dst` with `bgp.graceful_restart: true`
    on `hosts`."""
    shutil.copytree(ROOT / "inventory", dst)
    entries = yaml.safe_load((dst / "hosts.yaml").read_text())
    for name in hosts:
        entries[name].setdefault("data", {}).setdefault("bgp", {})["graceful_restart"] = True
    (dst / "hosts.yaml").write_text(yaml.safe_dump(entries, sort_keys=False))
    return dst


def _design(path: Path) -> Design:
    found = registry.lookup(load_nornir(path))
    assert found is not None
    return found


@pytest.fixture(scope="module")
def design(tmp_path_factory: pytest.TempPathFactory) -> Design:
    return _design(graceful_restart_inventory(tmp_path_factory.mktemp("gr") / "inventory"))


def _neighbors(directory: str, state: str, json_form: bool = True) -> dict[str, Any]:
    command = "show ip bgp neighbors" + (" json" if json_form else "")
    text = (CAPTURES / directory / state / f"edge__{command.replace(' ', '_')}.txt").read_text()
    parsed: dict[str, Any] = parse_output("frr", command, text)
    return parsed


def _run(design: Design, directory: str, state: str) -> list[Any]:
    edge = design.hosts["edge"]
    got = check_graceful_restart(design, edge, _neighbors(directory, state))
    # the text form gives the same checks
    assert got == check_graceful_restart(design, edge, _neighbors(directory, state, False))
    return got


# --- which sessions ---------------------------------------------------------------------------

def test_only_sessions_with_graceful_restart_on_both_ends(tmp_path: Path) -> None:
    both = _design(graceful_restart_inventory(tmp_path / "both"))
    assert [(s.name, a) for s, a in graceful_restart_pairs(both.hosts["edge"], both)] == [
        ("server-1", S1), ("server-2", S2)]
    assert graceful_restart_pairs(both.hosts["isp"], both) == []  # not an edge
    assert graceful_restart_pairs(both.hosts["server-1"], both) == []
    one = _design(graceful_restart_inventory(tmp_path / "one", ("edge", "server-1")))
    assert [s.name for s, _ in graceful_restart_pairs(one.hosts["edge"], one)] == ["server-1"]
    servers = _design(graceful_restart_inventory(tmp_path / "srv", ("server-1", "server-2")))
    assert graceful_restart_pairs(servers.hosts["edge"], servers) == []
    seed = _design(ROOT / "inventory")  # graceful restart off: no check, no command sent
    assert graceful_restart_pairs(seed.hosts["edge"], seed) == []
    assert check_graceful_restart(seed, seed.hosts["edge"],
                                  _neighbors("frr", "gr_negotiated")) == []


# --- the check over the captures ------------------------------------------------------------

@pytest.mark.parametrize("directory", VERSIONS)
@pytest.mark.parametrize("state", ["gr_negotiated", "gr_edge_late"])
def test_negotiated_passes(design: Design, directory: str, state: str) -> None:
    got = _run(design, directory, state)
    assert [(c.name, c.host, c.passed, c.actual["graceful_restart"]) for c in got] == [
        (NAME, "edge", True, "advertised and received")] * 2
    assert got[0].message == (
        "edge's session to server-1 (10.12.12.1): graceful restart negotiated (FRR: capability "
        "advertised and received, local mode Restart, remote mode Restart)")


@pytest.mark.parametrize("directory", VERSIONS)
def test_a_server_without_the_capability_fails_with_the_fix(design: Design,
                                                            directory: str) -> None:
    """gr_server_off: server-2's BIRD `graceful restart off`: FRR `advertised` only."""
    got = _run(design, directory, "gr_server_off")
    assert [(c.expected["graceful_restart"], c.passed) for c in got] == [
        ("advertised and received", True), ("advertised and received", False)]
    bad = got[1]
    assert bad.actual == {"graceful_restart": "advertised", "graceful_restart_local": "Restart",
                          "graceful_restart_remote": "Disable"}
    assert bad.message == (
        "edge's session to server-2 (10.12.12.2): graceful restart not negotiated (FRR: "
        "capability advertised, local mode Restart, remote mode Disable): the session predates "
        "the change: reset it (`clear bgp 10.12.12.2`) to negotiate graceful restart; if it "
        "stays so, server-2's BIRD runs without `graceful restart on`: deploy server-2")


@pytest.mark.parametrize("directory", VERSIONS)
def test_advertised_and_received_by_a_helper_only_is_not_enough(design: Design,
                                                                directory: str) -> None:
    """gr_server_aware: BIRD's default `aware` sends the capability without an address family:
    FRR prints `advertised and received` but would drop server-2's routes on its restart."""
    got = _run(design, directory, "gr_server_aware")
    assert [c.passed for c in got] == [True, False]
    assert got[1].actual["graceful_restart"] == "advertised and received"
    assert got[1].message.endswith(
        "remote mode Helper): server-2's capability names no address family, so edge would drop "
        "its routes when its BIRD restarts: server-2's BIRD runs without `graceful restart on` "
        "(BIRD's default is `aware`): deploy server-2")
    # the same for both servers of the counters captures (nothing configured at all)
    assert [c.passed for c in _run(design, directory, "counters_fresh")] == [False, False]


@pytest.mark.parametrize("directory", VERSIONS)
def test_an_edge_without_graceful_restart_fails_naming_the_edge(design: Design,
                                                                directory: str) -> None:
    got = _run(design, directory, "gr_edge_off")
    assert [c.passed for c in got] == [False, False]
    assert got[0].message.endswith(
        "(FRR: capability advertised and received, local mode Helper, remote mode Restart): "
        "edge runs without `bgp graceful-restart`: deploy edge, then reset the session "
        "(`clear bgp 10.12.12.1`)")


def test_a_missing_or_down_session_fails(design: Design) -> None:
    edge = design.hosts["edge"]
    down = parse_output("frr", "show ip bgp neighbors",
                        "BGP neighbor is 10.12.12.1, remote AS 65500, local AS 65500, internal "
                        "link\n  BGP state = Active\n  Connections established 0; dropped 0\n")
    got = check_graceful_restart(design, edge, down)
    assert [(c.passed, c.actual) for c in got] == [
        (False, {"graceful_restart": None, "graceful_restart_local": None,
                 "graceful_restart_remote": None}), (False, None)]
    assert got[0].message.endswith(
        "the session is Active, not Established: graceful restart is negotiated when it opens "
        "(see router_bgp_session)")
    assert got[1].message == ("edge's session to server-2 (10.12.12.2): FRR shows no such "
                              "neighbor, so graceful restart cannot be negotiated")


# --- the lab ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def gr_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Lab, Path]]:
    """The seed lab with graceful restart on the edge and both servers, deployed; always torn
    down after (the session's default lab is not used: this module builds its own)."""
    if os.geteuid() != 0:
        pytest.skip("lab tests need root (network namespaces, FRR, BIRD)")
    inv = graceful_restart_inventory(tmp_path_factory.mktemp("grlab") / "inventory")
    # A prefix of its own (as every module-owned lab): the session's lab prefix is locked by
    # the session itself while its lab is up, and must not be torn down here.
    with prefix_env(image_prefix("gr")), session_lock():
        tear_down()
        try:
            lab = bring_up(inv)
            report = deploy_inventory(inv)
            assert report.ok, [(h.host, h.error) for h in report.hosts]
            yield lab, inv
        finally:
            tear_down()


def _gr_checks(report: Any) -> list[dict[str, Any]]:
    return [c for c in report.checks if c["name"] == NAME]


@pytest.mark.lab
@pytest.mark.lab_disruptive
def test_lab_negotiates_graceful_restart_and_verify_names_a_one_sided_session(
        gr_lab: tuple[Lab, Path]) -> None:
    lab, inv = gr_lab
    running = lab.run("edge", ["vtysh", "-c", "show running-config"]).stdout
    assert " bgp graceful-restart\n" in running
    assert "neighbor 10.12.12.1 bfd check-control-plane-failure" in running
    started = time.monotonic()
    report = verify_inventory(inv, wait=60)
    assert report.ok, [c for c in report.checks if not c["passed"]]
    assert [(c["host"], c["passed"]) for c in _gr_checks(report)] == [("edge", True)] * 2
    print(f"verify with graceful restart: {time.monotonic() - started:.1f} s")

    # server-1's BIRD without graceful restart (by hand, as a drifted server): its session
    # restarts without the capability; FRR says `advertised` only
    res = lab.run("server-1", ["sh", "-c",
                               "sed -i -e 's/graceful restart on;/graceful restart off;/' "
                               "-e '/graceful restart time/d' /etc/bird/bird.conf && "
                               "birdc -s /run/bird/bird.ctl configure"])
    assert res.returncode == 0 and "Reconfigur" in res.stdout, res.stdout + res.stderr
    end = time.monotonic() + 30
    while True:
        report = verify_inventory(inv)
        bad = [c for c in _gr_checks(report) if not c["passed"]]
        if bad and bad[0]["actual"] and bad[0]["actual"]["graceful_restart"] == "advertised":
            break
        assert time.monotonic() < end, [c["message"] for c in report.checks if not c["passed"]]
        time.sleep(1)
    assert not report.ok and len(_gr_checks(report)) == 2
    assert [c["message"] for c in bad] == [
        "edge's session to server-1 (10.12.12.1): graceful restart not negotiated (FRR: "
        "capability advertised, local mode Restart, remote mode Disable): the session predates "
        "the change: reset it (`clear bgp 10.12.12.1`) to negotiate graceful restart; if it "
        "stays so, server-1's BIRD runs without `graceful restart on`: deploy server-1"]

    # the fix: deploy puts server-1's configuration back, its session renegotiates
    again = deploy_inventory(inv)
    assert again.ok and [h.host for h in again.hosts if h.changed] == ["server-1"]
    report = verify_inventory(inv, wait=60)
    assert report.ok, [c for c in report.checks if not c["passed"]]
    assert all(c["passed"] for c in _gr_checks(report)) and len(_gr_checks(report)) == 2
