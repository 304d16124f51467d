"""The drill's arithmetic (nornir_anycast.drill.measure) on made-up request and poll records."""

from __future__ import annotations

from typing import Any

import pytest

from nornir_anycast.drill import measure

T = 1000.0  # the fault, in time.time() seconds


def req(t0: float, ok: bool = True, server: str | None = "server-1") -> dict[str, Any]:
    return {"t0": T + t0, "t1": T + t0 + 0.01, "ok": ok, "server": server if ok else None,
            "error": None if ok else "connect timeout"}


def test_outage_is_fault_to_start_of_last_failed_request() -> None:
    records = [req(-0.5), req(0.01, ok=False), req(0.05), req(0.19, ok=False), req(0.3)]
    assert measure.outage_ms(records, T) == 190.0
    assert measure.outage_ms([req(-1), req(1)], T) == 0.0  # none failed
    assert measure.outage_ms([], T) == 0.0
    assert measure.outage_ms([req(-0.2, ok=False), req(0.1)], T) == 0.0  # failed before


def change(t: float, hops: list[str], prev: float | None) -> dict[str, Any]:
    return {"t": T + t, "prev_t": None if prev is None else T + prev, "hops": hops}


def test_kernel_drop_first_sample_without_the_next_hop() -> None:
    changes = [change(-2.0, ["10.12.12.1", "10.12.12.2"], None),
               change(0.187, ["10.12.12.1"], 0.181),
               change(3.0, ["10.12.12.1", "10.12.12.2"], 2.995)]
    drop = measure.kernel_drop(changes, T, "10.12.12.2")
    assert drop == measure.Drop(ms=187.0, resolution_ms=6.0)
    assert measure.kernel_drop(changes, T, "10.12.12.1") is None  # never dropped
    # a route that loses every next hop (gone) counts as dropped
    gone = [change(-1, ["10.12.12.2"], None), change(0.25, [], 0.245)]
    assert measure.kernel_drop(gone, T, "10.12.12.2") == measure.Drop(250.0, 5.0)


def test_kernel_drop_needs_the_next_hop_before_the_fault() -> None:
    with pytest.raises(ValueError, match=r"10\.12\.12\.2 was not a next hop"):
        measure.kernel_drop([change(-1, ["10.12.12.1"], None)], T, "10.12.12.2")


def test_long_lived_counts() -> None:
    conns: list[dict[str, Any]] = [{"opened": True, "server": "server-2", "broken": True},
             {"opened": True, "server": "server-2", "broken": False},
             {"opened": True, "server": "server-1", "broken": True},
             {"opened": True, "server": "server-1", "broken": False},
             {"opened": False, "server": None, "broken": False}]
    assert measure.long_lived_counts(conns, "server-2") == (4, 1, 1)


@pytest.mark.parametrize(("mode", "bfd", "failed", "outage", "drop", "withdraw", "want"), [
    ("crash", True, 10, 190.0, 200.0, None, (300.0, True)),
    ("crash", True, 10, 310.0, 200.0, None, (300.0, False)),
    ("crash", True, 10, 100.0, 301.0, None, (300.0, False)),
    ("crash", True, 0, 0.0, None, None, (300.0, False)),  # the route never went
    ("crash", False, 90, 2900.0, 2950.0, None, (3000.0, True)),
    ("crash", False, 90, 2900.0, 1500.0, None, (3000.0, False)),  # earlier than a hold time
    ("crash", False, 90, 4000.0, 2950.0, None, (3000.0, False)),
    ("service", True, 4, 90.0, 100.0, 100.0, (300.0, True)),
    ("service", True, 10, 290.0, 300.0, 300.0, (300.0, True)),
    ("service", True, 40, 900.0, 1000.0, 1000.0, (300.0, False)),  # polling's ~1 s
    ("service", True, 10, 290.0, 301.0, 301.0, (300.0, False)),
    ("graceful", True, 0, 0.0, 110.0, None, (0.0, True)),
    ("graceful", True, 1, 12.0, 110.0, None, (0.0, False)),
    ("drain", True, 0, 0.0, None, None, (0.0, False)),
    ("restart", True, 0, 0.0, None, None, (0.0, True)),  # the edge kept the next hop
    ("restart", True, 0, 0.0, 40.0, None, (0.0, False)),  # it dropped it: no graceful restart
    ("restart", True, 2, 30.0, None, None, (0.0, False)),
])
def test_target_and_met(mode: str, bfd: bool, failed: int, outage: float, drop: float | None,
                        withdraw: float | None, want: tuple[float, bool]) -> None:
    got = measure.target_and_met(mode, bfd=bfd, hold_ms=3000.0, keepalive_ms=1000.0,
                                 requests_failed=failed, outage=outage, kernel_drop_ms=drop,
                                 withdraw_ms=withdraw)
    assert got == want


def test_report_has_exactly_the_keys() -> None:
    load = {"short": [req(-1), req(0.05, ok=False), req(0.5)],
            "long_lived": [{"opened": True, "server": "server-2", "broken": True}]}
    changes = [change(-2, ["10.12.12.1", "10.12.12.2"], None), change(0.2, ["10.12.12.1"], 0.195)]
    report, drop = measure.build_report(
        mode="service", host="server-2", host_page="server-2", duration_s=10.0, t_fault=T,
        next_hop="10.12.12.2", load=load, changes=changes, bfd=True, hold_ms=3000.0,
        keepalive_ms=1000.0)
    assert tuple(report) == measure.REPORT_KEYS
    assert report["requests_sent"] == 3 and report["requests_failed"] == 1
    assert report["outage_ms"] == 50.0
    assert report["kernel_drop_ms"] == report["withdraw_ms"] == 200.0
    assert (report["long_lived_total"], report["long_lived_broken_on_host"],
            report["long_lived_broken_elsewhere"]) == (1, 1, 0)
    assert report["met"] is True and report["target_ms"] == 300.0
    assert drop is not None and drop.resolution_ms == 5.0
    crash, _ = measure.build_report(
        mode="crash", host="server-2", host_page="server-2", duration_s=10.0, t_fault=T,
        next_hop="10.12.12.2", load=load, changes=changes, bfd=True, hold_ms=3000.0,
        keepalive_ms=1000.0)
    assert crash["withdraw_ms"] is None


def test_unknown_mode() -> None:
    with pytest.raises(ValueError, match="unknown drill mode 'reboot'"):
        measure.target_and_met("reboot", bfd=True, hold_ms=3000, keepalive_ms=1000,
                               requests_failed=0, outage=0, kernel_drop_ms=None,
                               withdraw_ms=None)


def test_route_poller_samples_without_a_process_per_sample() -> None:
    """The poller reads the kernel's table through one `ip -batch` process (here for this
    machine's own loopback route, which is in the local table, not main: no hops; nothing is
    sent anywhere) and ends with its statistics."""
    import json
    import subprocess
    import sys

    from nornir_anycast.drill import poll

    out = subprocess.run([sys.executable, poll.__file__, "127.0.0.0/8", "2", "0.5"],
                         capture_output=True, text=True, check=True, timeout=30).stdout
    lines = [json.loads(ln) for ln in out.splitlines()]
    assert lines[0]["prev_t"] is None and lines[0]["hops"] == []
    stats = lines[-1]
    assert stats["samples"] >= 2 and stats["max_gap_ms"] >= 0 and stats["end"] > 0
    assert poll.hops_of([{"dst": "10.13.13.1", "nexthops": [{"gateway": "10.12.12.2"},
                                                            {"gateway": "10.12.12.1"}]}]) == [
        "10.12.12.1", "10.12.12.2"]


def test_crash_target_follows_slower_bfd_timers() -> None:
    assert measure.crash_bfd_target_ms(None) == 300.0
    assert measure.crash_bfd_target_ms(150.0) == 300.0  # 50 ms x 3: the fixed target
    assert measure.crash_bfd_target_ms(300.0) == 450.0  # 100 ms x 3: detection + 150 ms
    common: dict[str, Any] = dict(bfd=True, hold_ms=3000.0, keepalive_ms=1000.0,
                                  requests_failed=5, withdraw_ms=None)
    assert measure.target_and_met("crash", outage=400.0, kernel_drop_ms=420.0,
                                  bfd_detect_ms=300.0, **common) == (450.0, True)
    assert measure.target_and_met("crash", outage=400.0, kernel_drop_ms=420.0,
                                  bfd_detect_ms=150.0, **common) == (300.0, False)
    assert measure.target_and_met("crash", outage=400.0, kernel_drop_ms=460.0,
                                  bfd_detect_ms=300.0, **common) == (450.0, False)
