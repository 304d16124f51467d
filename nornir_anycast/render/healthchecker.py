"""anycast-healthchecker on a server: its settings, one check per anycast prefix, the initial
BIRD include (created only when missing) and, per service manager, a unit or an init script.
What the checks are (prefixes, commands, paths) is nornir_anycast.design.healthcheck's."""

from __future__ import annotations

from typing import Any

from nornir_anycast.design import healthcheck
from nornir_anycast.design.model import HostModel
from nornir_anycast.render.environment import render_template
from nornir_anycast.render.files import TemplateFile

INCLUDE_TEMPLATE = "healthchecker/include.conf.j2"


def initial_include(host: HostModel) -> str:
    """The BIRD include as first written (the dummy prefix only); the daemon rewrites it."""
    return render_template(INCLUDE_TEMPLATE, host)


def plan_healthchecker(host: HostModel) -> dict[str, TemplateFile]:
    """anycast-healthchecker's files (none when the host does not run it)."""
    if not healthcheck.enabled(host):
        return {}
    paths = host.paths
    context: dict[str, Any] = {
        "binary": healthcheck.binary(host), "reconfigure": healthcheck.reconfigure_command(host),
        "pid_dir": healthcheck.pid_dir(host),
        "log_dir": paths.healthchecker_log.rsplit("/", 1)[0] or "/",
    }
    files = {
        "anycast-healthchecker.conf": TemplateFile(
            "healthchecker/daemon.conf.j2", context, paths.healthchecker_conf),
        "anycast-prefixes.conf": TemplateFile(
            INCLUDE_TEMPLATE, {}, paths.healthchecker_include, create_only=True),
    }
    for check in healthcheck.prefix_checks(host):
        files[f"{healthcheck.SERVICE_DIR}/{check.name}.conf"] = TemplateFile(
            "healthchecker/service.conf.j2", {"check": check},
            healthcheck.service_file(host, check))
    if host.service_manager == "systemd":
        files["anycast-healthchecker.service"] = TemplateFile(
            "healthchecker/systemd.service.j2", context, healthcheck.SYSTEMD_UNIT)
    elif host.service_manager == "openrc":
        files["anycast-healthchecker.openrc"] = TemplateFile(
            "healthchecker/openrc.j2", context, healthcheck.OPENRC_SCRIPT, mode="0755")
    return files
