"""Route safety in the real lab (docs/safety.md).

1. A rogue server: server-1's bird.conf is rewritten by hand to also export 0.0.0.0/0, the
   servers' LAN 10.12.12.0/24 and an anycast prefix the inventory does not give it
   (10.13.13.2/32). The server really sends them (the edge's `received-routes`, kept by
   soft-reconfiguration inbound), the edge ignores them (not in its BGP table from server-1,
   not in its kernel, not at the ISP), verify's `rogue_announcements` fails naming server-1 and
   each prefix; deploy puts server-1's configuration back and verify passes again.
2. TCP-MD5 + GTSM on the edge-server sessions, the password from an environment variable: both
   sessions come up (verify passes); a wrong password on server-1's side keeps its session down
   and verify fails naming that session.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from lab_fixtures import (
    Lab,
    deploy_inventory,
    fresh_deployed_lab,
    verify_inventory,
)
from paths import ROOT

from nornir_anycast.inventory import secrets
from nornir_anycast.parsing import parse_output

pytestmark = [pytest.mark.lab, pytest.mark.lab_disruptive]

ROGUE = ["0.0.0.0/0", "10.12.12.0/24", "10.13.13.2/32"]
BIRD_CTL = "/run/bird/bird.ctl"
PW_ENV = "NA_TEST_LAB_BGP_MD5"
PW = "Lab-md5-Secret-9"


@pytest.fixture(scope="module")
def deployed(lab: Lab) -> Iterator[Lab]:
    """A fresh lab with the default inventory deployed and verified; rebuilt after, always."""
    yield from fresh_deployed_lab()


def vtysh(lab: Lab, host: str, command: str) -> dict[str, Any]:
    out = lab.run(host, ["vtysh", "-c", command]).stdout
    parsed: dict[str, Any] = parse_output("frr", command, out)
    return parsed


def prefixes(table: dict[str, Any], next_hop: str | None = None) -> set[str]:
    return {r["prefix"] for r in table["routes"] for p in r["paths"]
            if next_hop is None or p["next_hop"] == next_hop}


def wait_for(what: Callable[[], bool], timeout: float = 20.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if what():
            return True
        time.sleep(0.5)
    return what()


def edit_bird(lab: Lab, host: str, script: str) -> None:
    """Run a shell edit of the host's bird.conf and `birdc configure` it."""
    res = lab.run(host, ["sh", "-c", f"{script} && birdc -s {BIRD_CTL} configure"])
    # "Reconfiguration in progress" when a session has to restart first (a new password)
    assert res.returncode == 0 and "Reconfigur" in res.stdout, res.stdout + res.stderr
    assert "error" not in res.stdout.lower(), res.stdout


ROGUE_EDIT = (
    "sed -i 's|    export filter {|    export filter {\\n"
    "      if proto = \"static_rogue\" then accept;|' /etc/bird/bird.conf && "
    "printf '\\nprotocol static static_rogue {\\n  ipv4;\\n"
    + "".join(f"  route {p} reject;\\n" for p in ROGUE)
    + "}\\n' >> /etc/bird/bird.conf"
)


def failing(report: Any) -> list[dict[str, Any]]:
    return [c for c in report.checks if not c["passed"]]


def test_a_rogue_server_is_ignored_by_the_edge_and_named_by_verify(deployed: Lab) -> None:
    lab = deployed
    edit_bird(lab, "server-1", ROGUE_EDIT)
    # the server really sends them: the edge received all of them from 10.12.12.1
    received_cmd = "show ip bgp neighbors 10.12.12.1 received-routes"
    assert wait_for(lambda: set(ROGUE) <= prefixes(vtysh(lab, "edge", received_cmd))), \
        lab.run("edge", ["vtysh", "-c", received_cmd]).stdout
    # ... and the edge ignores them: nothing from server-1 but 10.13.13.1/32 in its table
    assert prefixes(vtysh(lab, "edge", "show ip bgp neighbors 10.12.12.1 routes")) == {
        "10.13.13.1/32"}
    table = vtysh(lab, "edge", "show ip bgp")
    assert prefixes(table, "10.12.12.1") == {"10.13.13.1/32"}
    assert "10.12.12.0/24" not in prefixes(table) and "10.13.13.2/32" not in prefixes(table)
    assert prefixes(table, "172.16.42.2") == {"0.0.0.0/0"}  # the ISP's default, untouched
    # ... not in its kernel either
    kernel = lab.run("edge", ["ip", "-4", "route", "show"]).stdout
    assert "10.13.13.2" not in kernel
    assert "10.12.12.0/24 dev eth1 proto kernel" in kernel and "10.12.12.0/24 via" not in kernel
    default = lab.run("edge", ["ip", "route", "show", "default"]).stdout
    assert "via 172.16.42.2" in default and "10.12.12.1" not in default
    # ... nor at the ISP (whose own 0.0.0.0/0 has an empty AS path)
    isp = vtysh(lab, "isp", "show ip bgp")
    assert "10.12.12.0/24" not in prefixes(isp) and "10.13.13.2/32" not in prefixes(isp)
    assert [p["as_path"] for r in isp["routes"] if r["prefix"] == "0.0.0.0/0"
            for p in r["paths"]] == [[]]

    report = verify_inventory()
    bad = failing(report)
    assert not report.ok
    assert [(c["name"], c["host"]) for c in bad] == [("rogue_announcements", "edge")], bad
    message = bad[0]["message"]
    assert message.startswith("server-1 (10.12.12.1) announces prefixes it may not: ")
    for p in ROGUE:
        assert p in message
    assert bad[0]["actual"]["rogue"] == ROGUE and bad[0]["actual"]["accepted_rogue"] == []
    assert "edge rejected them" in message
    passed = {c["actual"]["server"] for c in report.checks
              if c["name"] == "rogue_announcements" and c["passed"]}
    assert passed == {"server-2"}
    isp_leak = [c for c in report.checks if c["name"] == "isp_no_internal_routes"]
    assert isp_leak and all(c["passed"] for c in isp_leak)

    # deploy puts server-1's own configuration back
    again = deploy_inventory()
    assert again.ok
    assert [h.host for h in again.hosts if h.changed] == ["server-1"]
    report = verify_inventory(wait=60)
    assert report.ok, failing(report)
    assert prefixes(vtysh(lab, "edge", received_cmd)) == {"10.13.13.1/32"}


def protected_inventory(tmp: Path) -> Path:
    """The default inventory with TCP-MD5 (password_env) and GTSM on both ends of every
    edge-server session."""
    inv = tmp / "inventory"
    shutil.copytree(ROOT / "inventory", inv)
    hosts = yaml.safe_load((inv / "hosts.yaml").read_text())
    for name, entry in hosts.items():
        for nb in ((entry.get("data") or {}).get("bgp") or {}).get("neighbors", []):
            if name.startswith("server") or nb["address"].startswith("10.12.12."):
                nb.update({"password_env": PW_ENV, "ttl_security": True})
    (inv / "hosts.yaml").write_text(yaml.safe_dump(hosts, sort_keys=False))
    return inv


def test_md5_sessions_come_up_and_a_wrong_password_keeps_one_down(
        deployed: Lab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lab = deployed
    secrets.forget_all()
    monkeypatch.setenv(PW_ENV, PW)
    inv = protected_inventory(tmp_path)
    try:
        report = deploy_inventory(inv)
        assert report.ok, [(h.host, h.error) for h in report.hosts]
        # rendered for both ends, from the environment (checked without printing it)
        assert PW in lab.run("server-1", ["cat", "/etc/bird/bird.conf"]).stdout
        running = lab.run("edge", ["vtysh", "-c", "show running-config"]).stdout
        assert "neighbor 10.12.12.1 password" in running
        assert "neighbor 10.12.12.1 ttl-security hops 1" in running
        result = verify_inventory(inv, wait=60)
        assert result.ok, failing(result)

        # a wrong password on server-1's side only: that session goes down and stays down
        edit_bird(lab, "server-1", f"sed -i 's|password \"{PW}\"|password \"Wrong-pw-1\"|' "
                                   "/etc/bird/bird.conf")
        summary = "show ip bgp summary"

        def s1_down() -> bool:
            peers = vtysh(lab, "edge", summary)["peers"]
            return any(p["neighbor"] == "10.12.12.1" and p.get("state") != "Established"
                       for p in peers)

        assert wait_for(s1_down, timeout=20), lab.run("edge", ["vtysh", "-c", summary]).stdout
        time.sleep(5)  # hold time 3 s: had MD5 not mattered, it would have come back by now
        assert s1_down()
        result = verify_inventory(inv)
        bad = failing(result)
        assert not result.ok
        names = {(c["name"], c["host"]) for c in bad}
        assert ("router_bgp_session", "edge") in names, bad
        assert ("server_bgp_session", "server-1") in names, bad
        # the session named is server-1's; server-2's stays up (the multipath and HTTP checks
        # fail too, as a consequence: one of the two expected paths is gone)
        assert not [c for c in bad if c["host"] == "server-2"], bad
        sessions = [c for c in bad if c["name"] == "router_bgp_session"]
        assert [c["expected"]["neighbor"] for c in sessions] == ["10.12.12.1"], sessions
        assert "10.12.12.1" in sessions[0]["message"]
        assert all(PW not in str(c) for c in result.checks)
    finally:
        deploy_inventory()  # back to the default inventory, no password
        secrets.forget_all()
