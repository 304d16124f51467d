"""anycast-healthchecker on a server: its settings, one check per anycast prefix, the initial
BIRD include (created only when missing) and, per service manager, a unit or an init script.
With the event path (design.healthcheck.watched): the state file included in BIRD's static
protocol (created only when missing) and, under systemd, a unit bound to nginx.service, in the
lab the watcher script (package data, copied as it is) and its settings.
What the checks are (prefixes, commands, paths) is nornir_anycast.design.healthcheck's."""

from __future__ import annotations

from typing import Any

from nornir_anycast.design import healthcheck
from nornir_anycast.design.model import HostModel
from nornir_anycast.render.environment import render_template
from nornir_anycast.render.files import TemplateFile

INCLUDE_TEMPLATE = "healthchecker/include.conf.j2"
STATE_TEMPLATE = "healthchecker/service-state.conf.j2"
#: The lab's watcher: a stdlib Python script, package data rendered verbatim (it holds no Jinja).
WATCHER_SCRIPT = "healthchecker/service_watch.py"
#: Its first line (the state file's header, which the systemd unit writes too).
STATE_HEADER = "# nornir_anycast service state: disabled yes while the service is down"


def initial_include(host: HostModel, version: int = 4) -> str:
    """The BIRD include as first written (the dummy prefix only); the daemon rewrites it.
    `version` 6: the IPv6 include (its own prefix set and dummy prefix)."""
    if version == 6:
        return render_template(INCLUDE_TEMPLATE, host, version=6)
    return render_template(INCLUDE_TEMPLATE, host)


def initial_state(host: HostModel) -> str:
    """The event path's state file as first written (nginx up); the watcher rewrites it."""
    return render_template(STATE_TEMPLATE, host)


def plan_watch(host: HostModel) -> dict[str, TemplateFile]:
    """The event path's files (none when nginx's exit is not watched on this host)."""
    if not healthcheck.watched(host):
        return {}
    paths = host.paths
    files = {"nginx-state.conf": TemplateFile(STATE_TEMPLATE, {}, paths.service_state,
                                              create_only=True)}
    if host.service_manager == "systemd":
        files[f"{healthcheck.WATCH_UNIT_NAME}.service"] = TemplateFile(
            "healthchecker/nginx-watch.service.j2",
            {"state": paths.service_state, "ctl": paths.bird_ctl,
             "protocol": healthcheck.WATCH_PROTOCOL, "header": STATE_HEADER,
             "protocols": healthcheck.watch_protocols(host)},
            healthcheck.WATCH_UNIT)
    else:
        files["service_watch.py"] = TemplateFile(WATCHER_SCRIPT, {}, paths.service_watch,
                                                 mode="0755")
        files["service-watch.json"] = TemplateFile(
            "healthchecker/service-watch.json.j2", {"config": healthcheck.watch_config(host)},
            paths.service_watch_conf)
    return files


def plan_healthchecker(host: HostModel) -> dict[str, TemplateFile]:
    """anycast-healthchecker's files (none when the host does not run it)."""
    if not healthcheck.enabled(host):
        return {}
    paths = host.paths
    context: dict[str, Any] = {
        "binary": healthcheck.binary(host), "reconfigure": healthcheck.reconfigure_command(host),
        "pid_dir": healthcheck.pid_dir(host),
        "log_dir": paths.healthchecker_log.rsplit("/", 1)[0] or "/",
        "ipv6": healthcheck.has_ipv6(host),
    }
    files = {
        "anycast-healthchecker.conf": TemplateFile(
            "healthchecker/daemon.conf.j2", context, paths.healthchecker_conf),
        "anycast-prefixes.conf": TemplateFile(
            INCLUDE_TEMPLATE, {}, paths.healthchecker_include, create_only=True),
    }
    if healthcheck.has_ipv6(host):
        files["anycast-prefixes6.conf"] = TemplateFile(
            INCLUDE_TEMPLATE, {"version": 6}, paths.healthchecker_include6, create_only=True)
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
    files.update(plan_watch(host))
    return files
