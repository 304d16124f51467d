"""nornir_anycast: Nornir tasks that deploy and verify BGP anycast services.

Several servers announce the same service address over BGP; the edge router spreads traffic
over them with equal-cost multipath ("load balancing without load balancers").
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# The runners, re-exported lazily (nornir_anycast.runners): importing the package stays cheap
# and free of import cycles (a stage module imports `nornir_anycast.<stage>` first).
_RUNNERS = ("load_nornir", "run_deploy", "run_deploy_with_rollback", "run_drain",
            "run_undrain", "run_verify")

if TYPE_CHECKING:
    from nornir_anycast.runners import (
        load_nornir,
        run_deploy,
        run_deploy_with_rollback,
        run_drain,
        run_undrain,
        run_verify,
    )


def __getattr__(name: str) -> Any:
    if name in _RUNNERS:
        from nornir_anycast import runners

        return getattr(runners, name)
    raise AttributeError(f"module 'nornir_anycast' has no attribute {name!r}")


__all__ = ["__version__", "load_nornir", "run_deploy", "run_deploy_with_rollback", "run_drain",
           "run_undrain", "run_verify"]
