"""nginx on a server: the anycast site and the page it serves (which server answered)."""

from __future__ import annotations

from nornir_anycast.design.model import HostModel
from nornir_anycast.render.files import TemplateFile


def plan_nginx(host: HostModel) -> dict[str, TemplateFile]:
    """`nginx-site.conf` (checker `nginx`) and `page` (`<paths.web_root>/file`)."""
    return {
        "nginx-site.conf": TemplateFile("nginx/site.conf.j2", {}, host.paths.nginx_site,
                                        "nginx"),
        "page": TemplateFile("nginx/page.j2", {}, host.paths.web_root.rstrip("/") + "/file"),
    }
