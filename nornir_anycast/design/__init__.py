"""Stage 2, the design: the typed model of an anycast design, derived from the inventory, and
its validation across hosts.

- `model`: the pydantic model (HostModel, Design, AnycastService, ...);
- `build`: inventory -> Design (`build_design`, `load_design`);
- `ecmp`: the one ECMP rule (`expected_paths`, `derive_services`, `with_drained`);
- `validation/`: the cross-host rules by area, each problem naming host, field and value;
- `healthcheck`: what anycast-healthchecker checks on a server, derived from the model;
- `registry`: the design derived at load time, found again by tasks (`design_for`).
"""

from __future__ import annotations

from nornir_anycast.design.build import build_design, host_model, load_design
from nornir_anycast.design.ecmp import (
    ExpectedPaths,
    derive_services,
    expected_for,
    expected_paths,
    with_drained,
)
from nornir_anycast.design.model import AnycastService, Design, HostModel, ServerPath
from nornir_anycast.design.registry import attach, design_for

__all__ = ["AnycastService", "Design", "ExpectedPaths", "HostModel", "ServerPath", "attach",
           "build_design", "derive_services", "design_for", "expected_for", "expected_paths",
           "host_model", "load_design", "with_drained"]
