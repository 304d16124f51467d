"""The full-table drill's pure parts: generated routes, counter arithmetic, the report and its
targets, convergence polling (on a scripted edge), and the load generator stopping when its
stdin closes (a real process answering a real local HTTP server)."""

from __future__ import annotations

import http.server
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from nornir_anycast.drill import full_table, upstream
from nornir_anycast.drill.runner import LOAD_SCRIPT
from nornir_anycast.exceptions import LabError


def test_generated_routes_are_host_routes_of_the_shared_address_space() -> None:
    assert upstream.route_address(0) == "100.64.0.0/32"
    assert upstream.route_address(257) == "100.64.1.1/32"
    assert upstream.route_address(65536) == "100.65.0.0/32"
    assert upstream.route_address(999_999) == "100.79.66.63/32"
    lines = upstream.route_batch(3).splitlines()
    assert lines == [f"route add blackhole 100.64.0.{i}/32 proto {upstream.ROUTE_PROTO}"
                     for i in range(3)]
    assert upstream.route_batch(1, verb="del").startswith("route del blackhole 100.64.0.0/32")
    last = upstream.route_address(upstream.MAX_ROUTES - 1)
    assert last.startswith("100.") and 64 <= int(last.split(".")[1]) <= 127
    for bad in (0, -1, upstream.MAX_ROUTES + 1):
        with pytest.raises(ValueError, match="count must be"):
            upstream.route_batch(bad)


def test_counter_deltas_per_server_session() -> None:
    peers = {"10.12.12.1": "server-1", "10.12.12.2": "server-2"}
    before: dict[str, dict[str, int | None]] = {"10.12.12.1": {"bfd_down": 3, "bgp_dropped": 1},
              "10.12.12.2": {"bfd_down": 0, "bgp_dropped": 0},
              "172.16.42.2": {"bfd_down": None, "bgp_dropped": 0}}
    after: dict[str, dict[str, int | None]] = {"10.12.12.1": {"bfd_down": 5, "bgp_dropped": 1},
             "10.12.12.2": {"bfd_down": 0, "bgp_dropped": 2},
             "172.16.42.2": {"bfd_down": None, "bgp_dropped": 7}}
    deltas = full_table.counter_deltas(before, after, peers)
    assert deltas == {"10.12.12.1": {"server": "server-1", "bfd_down": 2, "bgp_dropped": 0},
                      "10.12.12.2": {"server": "server-2", "bfd_down": 0, "bgp_dropped": 2}}
    # a restarted daemon counts from zero; a missing counter stays unknown
    back: dict[str, dict[str, int | None]] = {"10.12.12.1": {"bfd_down": 1, "bgp_dropped": None}}
    restarted = full_table.counter_deltas(before, back, peers)
    assert restarted["10.12.12.1"] == {"server": "server-1", "bfd_down": 1, "bgp_dropped": None}
    assert restarted["10.12.12.2"] == {"server": "server-2", "bfd_down": None,
                                       "bgp_dropped": None}


def _report(**over: Any) -> dict[str, Any]:
    load = {"start": 100.0, "short": [{"t0": 101.0, "ok": True}, {"t0": 102.0, "ok": True}],
            "long_lived": [{"broken": False}]}
    args: dict[str, Any] = dict(
        host="edge", routes=1000, duration_s=12.34, load=load,
        deltas={"10.12.12.1": {"server": "server-1", "bfd_down": 0, "bgp_dropped": 0}},
        converge={"announce": {"bgp_s": 1.0, "fib_s": 2.0}},
        memory={"edge": {"bgpd": 1000}}, verify_quiet_s=2.0, verify_during_s=3.0,
        verify_after_s=2.5)
    args.update(over)
    return full_table.build_report(**args)


def test_a_quiet_full_table_meets_every_target() -> None:
    r = _report()
    assert set(full_table.REPORT_KEYS) <= set(r)
    assert r["requests_sent"] == 2 and r["requests_failed"] == 0 and r["outage_ms"] == 0.0
    assert r["verify_after_ratio"] == 1.25
    assert r["met"] is True
    assert all(t["met"] for t in r["target"].values())


def test_any_false_down_failed_request_or_slow_verify_misses_the_target() -> None:
    flapped = _report(deltas={"10.12.12.1": {"server": "server-1", "bfd_down": 2,
                                             "bgp_dropped": 1}})
    assert flapped["server_bfd_down_events"] == 2 and flapped["server_bgp_down_events"] == 1
    assert flapped["met"] is False
    assert not flapped["target"]["server_bfd_down_events"]["met"]
    load = {"start": 100.0, "long_lived": [],
            "short": [{"t0": 101.0, "ok": False}, {"t0": 101.5, "ok": True},
                      {"t0": 101.25, "ok": False}]}
    failed = _report(load=load)
    assert failed["requests_failed"] == 2 and failed["outage_ms"] == 250.0
    assert failed["first_failure_at_s"] == 1.0 and failed["met"] is False
    slow = _report(verify_after_s=3.1)
    assert slow["verify_after_ratio"] == 1.55 and slow["met"] is False
    assert _report(verify_after_s=None)["met"] is False  # never converged: no figure, not met


def test_wait_converged_times_bgp_then_fib(monkeypatch: pytest.MonkeyPatch) -> None:
    readings = iter([upstream.EdgeTable(10, 10), upstream.EdgeTable(1010, 400),
                     upstream.EdgeTable(1010, 1010)])
    now = [0.0]

    def table(edge: str, peer: str) -> upstream.EdgeTable:
        assert (edge, peer) == ("edge", "172.16.42.2")
        now[0] += 1.5
        return next(readings)

    monkeypatch.setattr(upstream, "edge_table", table)
    monkeypatch.setattr("nornir_anycast.drill.upstream.time.sleep", lambda _s: None)
    c = upstream.wait_converged("edge", "172.16.42.2", since=0.0, received=1010, fib=1010,
                                more=True, timeout=60, clock=lambda: now[0])
    assert c == upstream.Convergence(bgp_s=3.0, fib_s=4.5)

    monkeypatch.setattr(upstream, "edge_table", lambda e, p: upstream.EdgeTable(500, 500))
    now[0] = 0.0

    def tick() -> float:
        now[0] += 10
        return now[0]

    with pytest.raises(LabError, match=r"did not converge within 30 s: 500 routes from "
                                       r"172.16.42.2 \(want <= 10\)"):
        upstream.wait_converged("edge", "172.16.42.2", since=0.0, received=10, fib=10,
                                more=False, timeout=30, clock=tick)


class _Page(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as nginx
    def do_GET(self) -> None:
        body = b"server-1\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def local_http() -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def test_the_load_stops_when_its_stdin_closes(local_http: int) -> None:
    spec = {"address": "127.0.0.1", "port": local_http, "path": "/file",
            "sources": ["127.0.0.1"], "duration_s": 600, "rate": 50, "workers": 4,
            "long_lived": 1, "long_interval_ms": [50, 100], "connect_timeout_s": 0.2,
            "read_timeout_s": 1.0, "stop_on_eof": True}
    proc = subprocess.Popen([sys.executable, str(LOAD_SCRIPT), json.dumps(spec)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdin is not None
    started = json.loads(proc.stdout.readline())["started"]
    time.sleep(1.0)
    proc.stdin.close()
    out = proc.stdout.read()
    assert proc.wait(timeout=30) == 0
    load = json.loads(out.strip().splitlines()[-1])
    assert load["end"] - started < 30  # stopped long before its 600 s
    assert len(load["short"]) >= 10 and all(r["ok"] for r in load["short"])
    assert load["long_lived"][0]["requests"] >= 3 and not load["long_lived"][0]["broken"]


@pytest.mark.parametrize(("host", "routes", "field", "message"), [
    ("server-1", 1000, "HOST", "a full-table drill runs on an edge; edges: edge"),
    ("nosuch", 1000, "HOST", "a full-table drill runs on an edge"),
    ("edge", 0, "--routes", "must be 1..2,000,000"),
    ("edge", upstream.MAX_ROUTES + 1, "--routes", "must be 1..2,000,000"),
])
def test_bad_input_is_refused_before_the_lab_is_touched(
        host: str, routes: int, field: str, message: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from designs import design_of

    from nornir_anycast.exceptions import InventoryError

    def no_lab(*_a: Any, **_k: Any) -> Any:
        raise AssertionError("the lab was touched")

    monkeypatch.setattr(upstream, "_run", no_lab)
    monkeypatch.setattr(full_table, "_timed_verify", no_lab)
    with pytest.raises(InventoryError) as err:
        full_table.run_full_table_drill(None, design_of(), host, routes=routes)  # type: ignore[arg-type]
    problem = err.value.problems[0]
    assert (problem.host, problem.field) == (host, field)
    assert message in problem.message


def test_an_edge_without_an_isp_session_has_no_upstream() -> None:
    from designs import design_of, replace_host

    from nornir_anycast.exceptions import InventoryError

    design = design_of()
    edge = design.hosts["edge"]
    servers_only = [n.model_dump(exclude_unset=True) for n in edge.bgp.neighbors
                    if n.remote_as == edge.asn]
    bare = replace_host(design, "edge",
                        bgp={**edge.bgp.model_dump(exclude_unset=True),
                             "neighbors": servers_only})
    with pytest.raises(InventoryError, match="no BGP session to an ISP host"):
        full_table.upstream_of(bare.hosts["edge"], bare)
    assert full_table.upstream_of(edge, design) == full_table.Upstream(
        isp="isp", isp_asn=65000, address="172.16.42.2")
    assert full_table.server_peers(edge, design) == {"10.12.12.1": "server-1",
                                                     "10.12.12.2": "server-2"}
