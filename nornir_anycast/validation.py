"""Cross-host and per-host checks of a `Design` (see nornir_anycast.model).

`validate()` returns every problem found; errors stop a run before any device is touched,
warnings are only reported. Each problem names the host, the dotted field path, the bad value
and says in words what is wrong.
"""

from __future__ import annotations

from nornir_anycast.exceptions import Problem
from nornir_anycast.model import Design


def validate(design: Design) -> list[Problem]:
    """Check the whole design; returns errors and warnings (Problem.severity)."""
    problems: list[Problem] = []
    return problems
