"""Stage 6, verify: the state the inventory implies, compared with what the devices say.

- `runner`: `run_verify` over a Nornir inventory, retried until it passes (VerifyReport);
- `checks`: the pure checks, expected state from the design vs parsed device state;
- `bfd`: the BFD checks.
"""

from __future__ import annotations

from nornir_anycast.verify.runner import VerifyReport, run_verify, verify_once

__all__ = ["VerifyReport", "run_verify", "verify_once"]
