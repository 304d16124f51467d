"""The drill's arithmetic: records of the load generator and the route poller -> figures.

Pure functions (unit-tested on made-up records): nothing here talks to the lab.

Rules (issue 6): `outage_ms` is from the fault to the START of the last failed short request
(0 when none failed); `kernel_drop_ms` is from the fault to the first poll of the edge's kernel
route that no longer lists the host's next hop; `withdraw_ms` (service mode) is the same drop
measured from nginx stopping, which in that mode is the fault.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

MODES = ("crash", "graceful", "service", "drain", "restart")
#: Issue 13's drills on sites (nornir_anycast.drill.sites): HOST is an edge / a site.
SITE_MODES = ("edge-crash", "site-down")
REPORT_KEYS = ("mode", "host", "duration_s", "requests_sent", "requests_failed", "outage_ms",
               "kernel_drop_ms", "withdraw_ms", "long_lived_total", "long_lived_broken_on_host",
               "long_lived_broken_elsewhere", "target_ms", "met")
#: site-down reports one of these per client of the dead site: REPORT_KEYS plus the client.
SITE_DOWN_KEYS = (*REPORT_KEYS, "client")
#: site-down: the dead site's clients are served by another site within this (issue 13).
SITE_DOWN_TARGET_MS = 1000.0
CRASH_BFD_TARGET_MS = 300.0
#: With BFD slower than 50 ms x 3 (the lab's default until issue 11) the crash target is the
#: detection time (interval x multiplier) plus this much for bgpd, zebra and the kernel.
CRASH_BFD_SLACK_MS = 150.0
SERVICE_TARGET_MS = 300.0
# Without BFD the edge notices a silent server when its hold timer runs out. The timer restarts
# at each keepalive received (one every `keepalive` s), so it runs out between hold - keepalive
# and hold after the fault; the kernel follows within this much.
HOLD_SLACK_MS = 500.0


def _ms(seconds: float) -> float:
    return round(seconds * 1000.0, 1)


def outage_ms(short: Sequence[Mapping[str, Any]], t_fault: float) -> float:
    """From the fault to the start of the last failed request; 0 when none failed (a failure
    that started before the fault counts as 0)."""
    failed = [float(r["t0"]) for r in short if not r.get("ok")]
    if not failed:
        return 0.0
    return max(0.0, _ms(max(failed) - t_fault))


@dataclass(frozen=True)
class Drop:
    """When the poller first saw the route without the host's next hop."""

    ms: float  # from the fault to that sample
    resolution_ms: float | None  # time since the sample before it (the drop is in between)


def kernel_drop(changes: Sequence[Mapping[str, Any]], t_fault: float,
                next_hop: str | Collection[str]) -> Drop | None:
    """The first poll sample at or after the fault whose next hops leave out `next_hop` (with
    several, e.g. every edge of a dead site: the first sample with none of them left).

    `changes` are the poller's change records ({"t", "prev_t", "hops"}), in time order. None
    when the route kept the next hop until the end of the drill.

    Raises:
        ValueError: the next hop was not in the route when the fault came (nothing to measure).
    """
    gone = {next_hop} if isinstance(next_hop, str) else set(next_hop)
    before = [c for c in changes if float(c["t"]) < t_fault]
    if before and not gone & set(before[-1]["hops"]):
        raise ValueError(f"{', '.join(sorted(gone))} was not a next hop of the route when the "
                         f"fault came (route had {', '.join(before[-1]['hops']) or 'no next hop'})")
    for c in changes:
        if float(c["t"]) >= t_fault and not gone & set(c["hops"]):
            prev = c.get("prev_t")
            res = None if prev is None else _ms(float(c["t"]) - max(float(prev), t_fault))
            return Drop(ms=_ms(float(c["t"]) - t_fault), resolution_ms=res)
    return None


def long_lived_counts(long_lived: Sequence[Mapping[str, Any]],
                      host_page: str | Collection[str]) -> tuple[int, int, int]:
    """(connections that opened, broken ones answered by the host, broken ones answered by
    another server). A connection knows its server from the page it is served. With several
    pages (edge-crash: the edge's site's servers; site-down: the dead site's), "the host" is
    any of them."""
    pages = {host_page} if isinstance(host_page, str) else set(host_page)
    opened = [c for c in long_lived if c.get("opened")]
    on_host = sum(1 for c in opened if c.get("broken") and c.get("server") in pages)
    elsewhere = sum(1 for c in opened if c.get("broken") and c.get("server") not in pages)
    return len(opened), on_host, elsewhere


def crash_bfd_target_ms(bfd_detect_ms: float | None) -> float:
    """A crash drill's target with BFD: 300 ms, or the detection time + CRASH_BFD_SLACK_MS when
    that is longer."""
    if bfd_detect_ms is None:
        return CRASH_BFD_TARGET_MS
    return max(CRASH_BFD_TARGET_MS, bfd_detect_ms + CRASH_BFD_SLACK_MS)


def target_and_met(mode: str, *, bfd: bool, hold_ms: float, keepalive_ms: float,
                   requests_failed: int, outage: float, kernel_drop_ms: float | None,
                   withdraw_ms: float | None,
                   bfd_detect_ms: float | None = None) -> tuple[float, bool]:
    """The target of this drill and whether the figures meet it.

    crash with BFD: kernel_drop_ms and outage_ms <= 300 (or BFD's detection time
    `bfd_detect_ms` + 150 ms, when longer). crash without BFD: the outage equals
    the hold time, i.e. the drop comes between hold - keepalive and hold (+ 500 ms for the
    kernel to follow) after the fault and the outage ends by then; target_ms = hold time.
    service: withdraw_ms <= 300. graceful, drain: no failed request (target_ms 0) and the
    route did go. restart: no failed request and the route kept the server's next hop (BGP
    graceful restart: the edge forwards to it while its BIRD restarts). edge-crash: as crash
    (`kernel_drop_ms` is then the upstream's route losing the edge, `bfd_detect_ms` the slowest
    of the BFD sessions involved). site-down: `kernel_drop_ms` (the dead site's upstream lost
    every edge of it) and `outage_ms` <= SITE_DOWN_TARGET_MS (1 s).
    """
    if mode == "site-down":
        met = (kernel_drop_ms is not None and kernel_drop_ms <= SITE_DOWN_TARGET_MS
               and outage <= SITE_DOWN_TARGET_MS)
        return SITE_DOWN_TARGET_MS, met
    if mode == "edge-crash":
        mode = "crash"
    if mode == "crash" and bfd:
        target = crash_bfd_target_ms(bfd_detect_ms)
        met = kernel_drop_ms is not None and kernel_drop_ms <= target and outage <= target
        return target, met
    if mode == "crash":
        met = (kernel_drop_ms is not None
               and hold_ms - keepalive_ms <= kernel_drop_ms <= hold_ms + HOLD_SLACK_MS
               and outage <= hold_ms + HOLD_SLACK_MS)
        return float(hold_ms), met
    if mode == "service":
        return SERVICE_TARGET_MS, withdraw_ms is not None and withdraw_ms <= SERVICE_TARGET_MS
    if mode in ("graceful", "drain"):
        return 0.0, requests_failed == 0 and kernel_drop_ms is not None
    if mode == "restart":  # graceful restart: the edge kept forwarding to the server throughout
        return 0.0, requests_failed == 0 and kernel_drop_ms is None
    raise ValueError(f"unknown drill mode {mode!r}: one of {', '.join((*MODES, *SITE_MODES))}")


def build_report(*, mode: str, host: str, host_page: str | Collection[str], duration_s: float,
                 t_fault: float, next_hop: str | Collection[str], load: Mapping[str, Any],
                 changes: Sequence[Mapping[str, Any]], bfd: bool, hold_ms: float,
                 keepalive_ms: float, bfd_detect_ms: float | None = None,
                 client: str | None = None) -> tuple[dict[str, Any], Drop | None]:
    """The `--json` report (exactly REPORT_KEYS; SITE_DOWN_KEYS with `client`) and the drop it
    was computed from."""
    short = list(load.get("short", []))
    failed = sum(1 for r in short if not r.get("ok"))
    outage = outage_ms(short, t_fault)
    drop = kernel_drop(changes, t_fault, next_hop)
    kernel_drop_ms = None if drop is None else drop.ms
    withdraw_ms = kernel_drop_ms if mode == "service" else None
    total, on_host, elsewhere = long_lived_counts(load.get("long_lived", []), host_page)
    target, met = target_and_met(mode, bfd=bfd, hold_ms=hold_ms, keepalive_ms=keepalive_ms,
                                 requests_failed=failed, outage=outage,
                                 kernel_drop_ms=kernel_drop_ms, withdraw_ms=withdraw_ms,
                                 bfd_detect_ms=bfd_detect_ms)
    report = {
        "mode": mode, "host": host, "duration_s": duration_s, "requests_sent": len(short),
        "requests_failed": failed, "outage_ms": outage, "kernel_drop_ms": kernel_drop_ms,
        "withdraw_ms": withdraw_ms, "long_lived_total": total,
        "long_lived_broken_on_host": on_host, "long_lived_broken_elsewhere": elsewhere,
        "target_ms": target, "met": met,
    }
    if client is not None:
        report["client"] = client
    assert tuple(report) == (REPORT_KEYS if client is None else SITE_DOWN_KEYS)
    return report, drop


def served_after(short: Sequence[Mapping[str, Any]], t_fault: float,
                 pages: Collection[str] | None = None) -> dict[str, int]:
    """Answered requests started at or after the fault, by the page (server) that answered
    them; only `pages` when given (site-down: the other sites' servers)."""
    out: dict[str, int] = {}
    for r in short:
        if r.get("ok") and float(r["t0"]) >= t_fault and r.get("server") is not None:
            page = str(r["server"])
            if pages is None or page in pages:
                out[page] = out.get(page, 0) + 1
    return out
