"""Flaps verify can see: a router's session down counters against the stored baseline.

`check_flaps(router, design, previous, current)` compares one router's counters now
(nornir_anycast.parsing.counters.session_counters) with the ones stored by deploy or the
previous verify (nornir_anycast.deploy.baseline.HostBaseline):

- a counter that went up: a `bfd_session_flapped` / `bgp_session_flapped` warning naming the
  session and how often it went down (`BFD session to server-1 (10.12.12.1) went down 2 times
  since the previous verify (12:01:05 UTC)`); verify still passes;
- a counter lower than stored (bfdd or bgpd restarted, counting from 0 again): a
  `session_counters_reset` note (severity `info`), no warning; the new value is the baseline;
- unchanged, a session the baseline does not know, no baseline at all: nothing (the caller
  records the new values).

A server's sessions are counted on its edge (BIRD keeps no down counter), so each warning is
on the router, naming the server by inventory name when the address is one of its own.
Pure functions, replayed with captured counters in the tests.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from nornir_anycast.design.model import Design, HostModel
from nornir_anycast.parsing.counters import SessionCounters
from nornir_anycast.verify.checks import Check

#: counter key -> (check name, what the session is called, its daemon)
KINDS = {
    "bfd_down": ("bfd_session_flapped", "BFD", "bfdd"),
    "bgp_dropped": ("bgp_session_flapped", "BGP", "bgpd"),
}


def when_text(recorded_at: dt.datetime, now: dt.datetime | None = None) -> str:
    """`12:01:05 UTC` (today, UTC), else `2026-11-30 12:01:05 UTC`."""
    at = recorded_at.astimezone(dt.UTC)
    today = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).date()
    return at.strftime("%H:%M:%S UTC" if at.date() == today else "%Y-%m-%d %H:%M:%S UTC")


def since_text(by: str, recorded_at: dt.datetime, now: dt.datetime | None = None) -> str:
    """`the previous verify (12:01:05 UTC)` / `deploy (12:01:05 UTC)`."""
    what = "the previous verify" if by == "verify" else by
    return f"{what} ({when_text(recorded_at, now)})"


def peer_name(design: Design, address: str) -> str:
    """`server-1 (10.12.12.1)` when an inventory host owns the address, else the address."""
    try:
        owner = design.owner_of(address)
    except ValueError:  # not an address (an interface-named neighbor)
        owner = None
    return f"{owner.name} ({address})" if owner is not None else address


def _times(n: int) -> str:
    return "1 time" if n == 1 else f"{n} times"


def check_flaps(router: HostModel, design: Design,
                previous_sessions: Mapping[str, SessionCounters] | None,
                current: Mapping[str, SessionCounters], *, by: str = "deploy",
                recorded_at: dt.datetime | None = None,
                now: dt.datetime | None = None) -> list[Check]:
    """The warnings and notes for one router's counters.

    Args:
        router: the router whose counters these are.
        design: the whole design (to name the peers).
        previous_sessions: the stored counters ({peer address: counters}), None: no baseline.
        current: the counters read now.
        by: who stored the baseline (`deploy`, `verify`).
        recorded_at: when (UTC).
        now: the time now (for the date in messages).

    Returns:
        One warning per counter that went up, one note per counter that went down; [] when
        nothing moved or there is no baseline.
    """
    if previous_sessions is None:
        return []
    since = since_text(by, recorded_at or dt.datetime.now(dt.UTC), now)
    out: list[Check] = []
    for address in current:
        before = previous_sessions.get(address)
        if before is None:
            continue  # a session the baseline does not know: counted from now on
        for key, (name, proto, daemon) in KINDS.items():
            old, new = before.get(key), current[address].get(key)
            if not isinstance(old, int) or not isinstance(new, int) or old == new:
                continue
            who = peer_name(design, address)
            if new > old:
                out.append(Check(
                    name=name, host=router.name, passed=True, expected=old, actual=new,
                    severity="warning",
                    message=f"{proto} session to {who} went down {_times(new - old)} since "
                            f"{since}",
                ))
            else:
                out.append(Check(
                    name="session_counters_reset", host=router.name, passed=True,
                    expected=old, actual=new, severity="info",
                    message=f"{proto} down counter of the session to {who} went back from "
                            f"{old} to {new} since {since} ({daemon} restarted?): counting "
                            "from here",
                ))
    return out


def check_unread(router: str, error: str) -> Check:
    """The warning for a router whose counters could not be read (no flap can be seen)."""
    return Check(name="session_counters", host=router, passed=True,
                 expected="the router's session down counters", actual=None,
                 severity="warning",
                 message=f"could not read the session down counters: {error}")
