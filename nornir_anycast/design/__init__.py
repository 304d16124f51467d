"""Stage 2, the design: the typed model of an anycast design, derived from the inventory, and
its validation across hosts.

- `model`: the pydantic model (HostModel, Design, AnycastService, ...);
- `build`: inventory -> Design (`build_design`, `load_design`), the ECMP rule (`derive_services`);
- `validation`: the cross-host rules, each problem naming host, field and value;
- `healthcheck`: what anycast-healthchecker checks on a server, derived from the model;
- `registry`: the design derived at load time, found again by tasks (`design_for`).
"""

from __future__ import annotations

from nornir_anycast.design.build import (
    build_design,
    derive_services,
    host_model,
    load_design,
    with_drained,
)
from nornir_anycast.design.model import AnycastService, Design, HostModel, ServerPath
from nornir_anycast.design.registry import attach, design_for

__all__ = ["AnycastService", "Design", "HostModel", "ServerPath", "attach", "build_design",
           "derive_services", "design_for", "host_model", "load_design", "with_drained"]
