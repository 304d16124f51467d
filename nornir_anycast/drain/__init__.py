"""Stage 7, drain: taking a server out of service without failing a request, and back.

- `runner`: `run_drain`, `run_undrain` (DrainReport).
"""

from __future__ import annotations

from nornir_anycast.drain.runner import DrainError, DrainReport, run_drain, run_undrain

__all__ = ["DrainError", "DrainReport", "run_drain", "run_undrain"]
