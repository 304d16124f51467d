"""How services are checked, started and reloaded on each kind of host.

`service_manager` in the inventory picks the row: `systemd` (Debian), `openrc` (the seed's
Alpine), `lab` (the built-in lab: no init system, daemons started directly in the host's
namespaces, exactly as an SSH session there would).
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from nornir_anycast.model import HostModel


@dataclass(frozen=True)
class ServiceCommands:
    running: str  # exit 0 when the service runs
    start: str
    reload: str
    stop: str


def bird(host: HostModel) -> ServiceCommands:
    conf = shlex.quote(host.paths.bird_conf)
    ctl = shlex.quote(host.paths.bird_ctl)
    configure = f"birdc -s {ctl} configure"
    if host.service_manager == "systemd":
        return ServiceCommands("systemctl is-active --quiet bird", "systemctl start bird",
                               configure, "systemctl stop bird")
    if host.service_manager == "openrc":
        return ServiceCommands("rc-service bird status", "/etc/init.d/bird start", configure,
                               "/etc/init.d/bird stop")
    return ServiceCommands(
        "pgrep -x bird >/dev/null",
        f"mkdir -p \"$(dirname {ctl})\" && bird -c {conf} -s {ctl}",
        configure,
        f"birdc -s {ctl} down",
    )


def nginx(host: HostModel) -> ServiceCommands:
    if host.service_manager == "systemd":
        return ServiceCommands("systemctl is-active --quiet nginx", "systemctl start nginx",
                               "systemctl reload nginx", "systemctl stop nginx")
    if host.service_manager == "openrc":
        return ServiceCommands("rc-service nginx status", "/etc/init.d/nginx start",
                               "/etc/init.d/nginx reload", "/etc/init.d/nginx stop")
    return ServiceCommands("pgrep -x nginx >/dev/null", "nginx", "nginx -s reload", "nginx -s quit")
