"""Servers get nothing from the edge, on the real lab (docs/safety.md#route-safety).

The ISP announces 2,000 extra routes (kernel blackholes redistributed into BGP, the way
bench/deploy_bench.py's add_extra_routes does it); the edge learns them all and sends its servers
none (SERVERS-OUT): verify passes, each server's BIRD counted 0 routes received from the edge
(`server_receives_no_routes`), the edge's PfxSnt to each server is 0 (`edge_sends_no_routes`),
a second deploy before the routes changes nothing, and one after them only the ISP (whose
`redistribute kernel` the test typed by hand). The lab is rebuilt fresh before and after (the
routes go with it), also when the test fails.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from lab_fixtures import Lab, deploy_inventory, fresh_deployed_lab, verify_inventory

pytestmark = [pytest.mark.lab, pytest.mark.lab_disruptive]

EXTRA = 2000
ISP = "172.16.42.2"
SERVERS = {"server-1": "10.12.12.1", "server-2": "10.12.12.2"}


@pytest.fixture(scope="module")
def deployed(lab: Lab) -> Iterator[Lab]:
    """A fresh lab with the default inventory deployed and verified; rebuilt after, always."""
    yield from fresh_deployed_lab()


def edge_peers(lab: Lab) -> dict[str, Any]:
    out = lab.run("edge", ["vtysh", "-c", "show ip bgp summary json"]).stdout
    peers: dict[str, Any] = json.loads(out).get("ipv4Unicast", {}).get("peers", {})
    return peers


def announce_extra_routes(lab: Lab, count: int, timeout: float = 120.0) -> None:
    """The ISP announces `count` host routes from 100.64.0.0 on; wait until the edge has them."""
    batch = "".join(f"route add blackhole 100.{64 + i // 65536}.{(i // 256) % 256}.{i % 256}/32\n"
                    for i in range(count))
    res = lab.run("isp", ["ip", "-batch", "-"], input=batch)
    assert res.returncode == 0, res.stderr
    res = lab.run("isp", ["vtysh", "-c", "configure terminal", "-c", "router bgp 65000",
                          "-c", "address-family ipv4 unicast", "-c", "redistribute kernel"])
    assert res.returncode == 0, res.stdout + res.stderr
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if edge_peers(lab).get(ISP, {}).get("pfxRcd", 0) >= count:
            return
        time.sleep(1)
    pytest.fail(f"the edge did not learn {count} routes from the ISP in {timeout} s")


def test_servers_receive_nothing_of_the_isps_routes(deployed: Lab) -> None:
    # deployed and verified: a second deploy has nothing to change (SERVERS-OUT is in the form
    # FRR prints back, so frr-reload sees no difference)
    noop = deploy_inventory()
    assert noop.ok
    assert [h.host for h in noop.hosts if h.changed] == []

    announce_extra_routes(deployed, EXTRA)
    report = verify_inventory(wait=60)
    assert report.ok, [c for c in report.checks if not c["passed"]]

    received = {c["host"]: c for c in report.checks if c["name"] == "server_receives_no_routes"}
    assert sorted(received) == sorted(SERVERS)
    for check in received.values():
        assert check["passed"], check
        assert check["actual"]["received"] == 0, check
        assert check["message"] == "received no route from edge (10.12.12.254)"
    sent = {c["actual"]["neighbor"]: c for c in report.checks
            if c["name"] == "edge_sends_no_routes"}
    assert sorted(sent) == sorted(SERVERS.values())
    assert all(c["passed"] and c["actual"]["prefixes_sent"] == 0 for c in sent.values()), sent

    # the edge did take in the ISP's table; it just kept it to itself
    peers = edge_peers(deployed)
    assert peers[ISP]["pfxRcd"] >= EXTRA
    assert {a: peers[a]["pfxSnt"] for a in SERVERS.values()} == {a: 0 for a in SERVERS.values()}

    # deploy changes only what the test did by hand on the ISP (`redistribute kernel`)
    again = deploy_inventory()
    assert again.ok
    assert [h.host for h in again.hosts if h.changed] == ["isp"]
