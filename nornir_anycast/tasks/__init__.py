"""The Nornir tasks of nornir_anycast, one per module, re-exported here (the nornir_netmiko way).

    from nornir_anycast.tasks import deploy_anycast, render_config, verify_anycast

Every task takes `design: Design | None = None` (default: the design attached when the
inventory was loaded, nornir_anycast.design.registry) and `dry_run: bool | None = None`
(default: Nornir's `dry_run`), and gets its connection as
`task.host.get_connection(CONNECTION_NAME, task.nornir.config)` with nornir_netmiko's one
`CONNECTION_NAME`. The logic lives in the stage packages (render/, deploy/, verify/, drain/);
these modules are the thin Nornir wrappers.
"""

from __future__ import annotations

from nornir_netmiko.connections import CONNECTION_NAME

from nornir_anycast.tasks.apply_drain import apply_drain
from nornir_anycast.tasks.confirm_commit import confirm_commit
from nornir_anycast.tasks.deploy_anycast import deploy_anycast
from nornir_anycast.tasks.read_counters import read_counters
from nornir_anycast.tasks.read_drain_state import read_drain_state
from nornir_anycast.tasks.render_config import render_config
from nornir_anycast.tasks.rollback_anycast import rollback_anycast
from nornir_anycast.tasks.send_parsed import send_parsed
from nornir_anycast.tasks.verify_anycast import verify_anycast
from nornir_anycast.tasks.wait_edge_route import wait_edge_route

__all__ = (
    "CONNECTION_NAME",
    "apply_drain",
    "confirm_commit",
    "deploy_anycast",
    "read_counters",
    "read_drain_state",
    "render_config",
    "rollback_anycast",
    "send_parsed",
    "verify_anycast",
    "wait_edge_route",
)
