"""Stage 2, the design: the typed model of an anycast design, derived from the inventory, and
its validation across hosts.

- `model`: the pydantic model (HostModel, Design, AnycastService, ...);
- `build`: inventory -> Design (`build_design`, `load_design`);
- `ecmp`: the one ECMP rule (`expected_paths`, `derive_services`, `with_drained`) and the
  upstreams' expected routes (`derive_upstream_routes`);
- `sites`: sites and who peers with whom (`sites`, `peers`);
- `validation/`: the cross-host rules by area, each problem naming host, field and value;
- `healthcheck`: what anycast-healthchecker checks on a server, derived from the model;
- `registry`: the design derived at load time, found again by tasks (`design_for`).
"""

from __future__ import annotations

from nornir_anycast.design.build import build_design, host_model, load_design
from nornir_anycast.design.ecmp import (
    ExpectedPaths,
    derive_services,
    derive_upstream_routes,
    expected_for,
    expected_paths,
    with_drained,
)
from nornir_anycast.design.model import (
    AnycastService,
    Design,
    HostModel,
    ServerPath,
    UpstreamRoute,
)
from nornir_anycast.design.registry import attach, design_for

__all__ = ["AnycastService", "Design", "ExpectedPaths", "HostModel", "ServerPath",
           "UpstreamRoute", "attach", "build_design", "derive_services", "derive_upstream_routes",
           "design_for", "expected_for", "expected_paths", "host_model", "load_design",
           "with_drained"]
