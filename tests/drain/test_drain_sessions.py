"""same_sessions: whether BIRD's BGP sessions survived a reconfigure, from their `since` times.

The times are as BIRD 2.0.12 printed them in the lab (`show protocols`): the same session read
twice showed `17:28:01.552` and then `17:28:01.553` (BIRD converts its monotonic clock to wall
time on every read); a reset session shows the moment it came up again.
"""

from __future__ import annotations

from nornir_anycast.drain.runner import same_sessions


def test_a_millisecond_of_jitter_is_the_same_session() -> None:
    assert same_sessions({"edge": "17:28:01.552"}, {"edge": "17:28:01.553"})


def test_a_session_that_came_up_again_is_not() -> None:
    assert not same_sessions({"edge": "17:28:01.552"}, {"edge": "17:28:04.118"})


def test_missing_or_unknown_sessions_are_not_kept() -> None:
    assert not same_sessions({}, {})
    assert not same_sessions({"edge": "17:28:01.552"}, {})
    assert not same_sessions({"edge": "17:28:01.552"}, {"edge2": "17:28:01.552"})


def test_midnight_and_dates() -> None:
    assert same_sessions({"edge": "23:59:59.999"}, {"edge": "00:00:00.001"})
    assert same_sessions({"edge": "2026-11-26 17:28:01"}, {"edge": "2026-11-26 17:28:01"})
    assert not same_sessions({"edge": "garbled"}, {"edge": "other"})
