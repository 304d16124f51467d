"""Linux hosts outside the lab (servers, clients): ifupdown's `/etc/network/interfaces` (the
lab sets addresses itself)."""

from __future__ import annotations

from nornir_anycast.design.model import HostModel
from nornir_anycast.render.files import TemplateFile


def plan_interfaces(host: HostModel) -> dict[str, TemplateFile]:
    """`interfaces` (`paths.interfaces_file`, no checker); none for lab hosts."""
    if host.lab:
        return {}
    return {"interfaces": TemplateFile("linux/interfaces.j2", {}, host.paths.interfaces_file)}
