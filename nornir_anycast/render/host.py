"""Which files a host gets: by platform and role, planned (`plan_host`: template, context,
path, checker) and rendered (`render_host`).

| name | hosts | path on device | checker |
|---|---|---|---|
| `frr.conf` | platform frr (isp, edge) | `paths.frr_conf` | `frr` (`vtysh -C -f`) |
| `config.vyos` | platform vyos (isp, edge) | none: `set` commands for configure mode | none |
| `bird.conf` | servers | `paths.bird_conf` | `bird1` / `bird2` (`bird -p -c`) |
| `nginx-site.conf` | servers | `paths.nginx_site` | `nginx` (`nginx -t`) |
| `page` | servers | `<paths.web_root>/file` | none |
| `interfaces` | servers, clients not in the namespace lab | `paths.interfaces_file` | none |
| `sysctl.conf` | platform frr not in the namespace lab | `paths.sysctl_conf` | none |
| `daemons` | platform frr under systemd or OpenRC | `paths.frr_daemons` | none |
| `nftables.conf` | platform frr with `nat` rules | `paths.nftables_conf` | `nft` (`nft -c -f`) |

plus anycast-healthchecker's files on servers that run it (nornir_anycast.render.healthchecker).
The logical name doubles as the file name under `render --out DIR/<host>/`.
"""

from __future__ import annotations

from collections.abc import Mapping

from nornir_anycast.design.model import Design, HostModel
from nornir_anycast.exceptions import TemplateError
from nornir_anycast.render.bird import plan_bird
from nornir_anycast.render.environment import render_template
from nornir_anycast.render.files import RenderedFile, TemplateFile
from nornir_anycast.render.frr import plan_frr
from nornir_anycast.render.healthchecker import plan_healthchecker
from nornir_anycast.render.linux import plan_frr_daemons, plan_interfaces, plan_sysctl
from nornir_anycast.render.nftables import plan_nftables
from nornir_anycast.render.nginx import plan_nginx
from nornir_anycast.render.vyos import plan_vyos


def plan_host(host: HostModel, design: Design, *,
              drain: str | None = None) -> dict[str, TemplateFile]:
    """Every file one host needs, by logical name (sorted), as template and context.

    `drain` (servers only): the drain phase to render BIRD's export in ("lowered",
    "withdrawn"; None: announcing), as read from the server's drain marker.

    Raises:
        TemplateError: no template for this platform and role, or a fact the templates
            cannot write (the message names the host and the field).
        InventoryError: a BGP password's environment variable is not set.
    """
    files: dict[str, TemplateFile]
    if host.platform == "frr" and host.role in ("isp", "edge"):
        files = {**plan_frr(host, design), **plan_nftables(host), **plan_frr_daemons(host),
                 **plan_sysctl(host)}
    elif host.platform == "vyos" and host.role in ("isp", "edge"):
        files = plan_vyos(host, design)
    elif host.platform == "linux" and host.role == "server":
        files = {**plan_bird(host, design, drain), **plan_nginx(host), **plan_interfaces(host),
                 **plan_healthchecker(host)}
    elif host.platform == "linux" and host.role == "client":
        files = plan_interfaces(host)
    else:
        raise TemplateError(
            f"{host.name}: no templates for platform {host.platform!r} with role {host.role!r}")
    return dict(sorted(files.items()))


def render_host(host: HostModel, design: Design, *,
                drain: str | None = None) -> dict[str, RenderedFile]:
    """Every file one host needs, by logical name (sorted), rendered from the typed model
    (see `plan_host`; real passwords in the content).

    Raises:
        TemplateError: no template for this platform and role, or a template failed
            (the message names the host and the template).
        InventoryError: a BGP password's environment variable is not set.
    """
    return {name: f.with_text(render_template(f.template, host, **f.context))
            for name, f in plan_host(host, design, drain=drain).items()}


def render_design(design: Design, names: list[str] | None = None
                  ) -> Mapping[str, dict[str, RenderedFile]]:
    """`render_host` for each host of the design (or of `names`), by host name."""
    selected = names if names is not None else sorted(design.hosts)
    return {n: render_host(design.hosts[n], design) for n in selected}
