"""How services are checked, started and reloaded on each kind of host.

`service_manager` in the inventory picks the row: `systemd` (Debian), `openrc` (the seed's
Alpine), `lab` (the built-in namespace lab: no init system, daemons started directly in the
host's namespaces, exactly as an SSH session there would).

Under systemd, `start` also enables the unit (it survives a reboot) and clears a failed state
first (a fresh Debian host's bird.service has failed: its packaged configuration has no router
id); `enabled`/`enable` let deploy enable a unit someone started by hand; `stop` of a unit deploy
no longer wants disables it too. A changed unit file is re-read with `systemctl daemon-reload`
(deploy's `reload systemd` action, `DAEMON_RELOAD`) before anything starts.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from nornir_anycast.design import healthcheck
from nornir_anycast.design.model import HostModel
from nornir_anycast.device.commands import bird_command

#: Re-read unit files (deploy's `reload systemd`, when a unit file it writes changed).
DAEMON_RELOAD = "systemctl daemon-reload"
#: Where unit files deploy writes live.
UNIT_DIR = "/etc/systemd/system/"


@dataclass(frozen=True)
class ServiceCommands:
    running: str  # exit 0 when the service runs
    start: str
    reload: str
    stop: str
    # A restart sent as separate commands (stop, then start), when `reload` is that pair as one
    # line: netmiko loses the echo of a line over ~500 characters (the lab's long paths).
    restart: tuple[str, ...] = ()
    # systemd: exit 0 when the unit is enabled at boot, and how to enable it (None elsewhere).
    enabled: str | None = None
    enable: str | None = None
    disable: str | None = None

    def restart_steps(self) -> tuple[str, ...]:
        """The commands of a restart, one by one (`reload` when no separate steps are set)."""
        return self.restart or (self.reload,)


def _unit(name: str, reload: str, stop: str | None = None) -> ServiceCommands:
    """A systemd unit: started (failed state cleared first) and enabled at once."""
    return ServiceCommands(f"systemctl is-active --quiet {name}",
                           f"systemctl reset-failed {name} 2>/dev/null; "
                           f"systemctl enable --now {name}",
                           reload, stop or f"systemctl stop {name}",
                           enabled=f"systemctl is-enabled --quiet {name}",
                           enable=f"systemctl enable {name}", disable=f"systemctl disable {name}")


def bird(host: HostModel) -> ServiceCommands:
    conf = shlex.quote(host.paths.bird_conf)
    ctl = shlex.quote(host.paths.bird_ctl)
    configure = bird_command(host, "configure").send
    if host.service_manager == "systemd":
        return _unit("bird", configure)
    if host.service_manager == "openrc":
        return ServiceCommands("rc-service bird status", "/etc/init.d/bird start", configure,
                               "/etc/init.d/bird stop")
    return ServiceCommands(
        "pgrep -x bird >/dev/null",
        f"mkdir -p \"$(dirname {ctl})\" && bird -c {conf} -s {ctl}",
        configure,
        bird_command(host, "down").send,
    )


def nginx(host: HostModel) -> ServiceCommands:
    if host.service_manager == "systemd":
        return _unit("nginx", "systemctl reload nginx")
    if host.service_manager == "openrc":
        return ServiceCommands("rc-service nginx status", "/etc/init.d/nginx start",
                               "/etc/init.d/nginx reload", "/etc/init.d/nginx stop")
    return ServiceCommands("pgrep -x nginx >/dev/null", "nginx", "nginx -s reload", "nginx -s quit")


def healthchecker(host: HostModel) -> ServiceCommands:
    """anycast-healthchecker: it has no reload (SIGHUP stops it), so `reload` restarts it.

    Under `lab` it is started directly in the host's namespaces, detached from the SSH session
    (`setsid -f`), its output (start-up errors) in `<log>.out`; `running` trusts the pid file
    only when that process is an anycast-healthchecker.
    """
    if host.service_manager == "systemd":
        unit = "anycast-healthchecker"
        return _unit(unit, f"systemctl restart {unit}", f"systemctl disable --now {unit}")
    if host.service_manager == "openrc":
        script = healthcheck.OPENRC_SCRIPT
        return ServiceCommands("rc-service anycast-healthchecker status >/dev/null 2>&1",
                               f"rc-update add anycast-healthchecker default >/dev/null; "
                               f"{script} start",
                               f"{script} restart", f"{script} stop")
    pid = shlex.quote(host.paths.healthchecker_pid)
    log = host.paths.healthchecker_log
    dirs = " ".join(shlex.quote(d) for d in (healthcheck.pid_dir(host), log.rsplit("/", 1)[0]))
    running = (f"p=$(cat {pid} 2>/dev/null) && [ -n \"$p\" ] && "
               f"grep -qa anycast-healthchecker /proc/$p/cmdline 2>/dev/null")
    start = (f"mkdir -p {dirs} && setsid -f {shlex.quote(healthcheck.binary(host))} "
             f"-f {shlex.quote(host.paths.healthchecker_conf)} "
             f"-d {shlex.quote(host.paths.healthchecker_dir)} "
             f"</dev/null >{shlex.quote(log + '.out')} 2>&1")
    stop = (f"if {running}; then kill \"$p\"; "
            f"for i in $(seq 50); do kill -0 \"$p\" 2>/dev/null || break; sleep 0.1; done; fi")
    return ServiceCommands(running, start, f"{stop}; {start}", stop, restart=(stop, start))


def watcher(host: HostModel) -> ServiceCommands:
    """The event path that follows nginx (design.healthcheck.watched).

    Under systemd a oneshot unit bound to nginx.service: `start` enables it (it then starts and
    stops with nginx); `reload` only makes sure it is enabled and active (`restart` would run its
    ExecStop, which withdraws; the changed unit file is re-read by deploy's daemon-reload);
    `stop` disables and stops it, withdrawing, as its job is. Under `lab` the
    watcher script runs with Debian's /usr/bin/python3 (a lab host's /root hides other
    interpreters), detached like anycast-healthchecker, its output in its log; `running` trusts
    its pid file only when that process runs the script. Stopping it (SIGTERM) changes nothing
    in BIRD.
    """
    if host.service_manager == "systemd":
        unit = healthcheck.WATCH_UNIT_NAME
        return _unit(unit, f"systemctl enable --now {unit}", f"systemctl disable --now {unit}")
    paths = host.paths
    pid = shlex.quote(paths.service_watch_pid)
    script = paths.service_watch
    log = paths.service_watch_log
    dirs = " ".join(shlex.quote(d) for d in (paths.service_watch_pid.rsplit("/", 1)[0] or "/",
                                            log.rsplit("/", 1)[0] or "/"))
    name = shlex.quote(script.rsplit("/", 1)[-1])
    running = (f"p=$(cat {pid} 2>/dev/null) && [ -n \"$p\" ] && "
               f"grep -qa {name} /proc/$p/cmdline 2>/dev/null")
    start = (f"mkdir -p {dirs} && setsid -f /usr/bin/python3 {shlex.quote(script)} "
             f"{shlex.quote(paths.service_watch_conf)} </dev/null >>{shlex.quote(log)} 2>&1")
    stop = (f"if {running}; then kill \"$p\"; "
            f"for i in $(seq 50); do kill -0 \"$p\" 2>/dev/null || break; sleep 0.1; done; fi")
    return ServiceCommands(running, start, f"{stop}; {start}", stop, restart=(stop, start))


def frr(host: HostModel) -> ServiceCommands | None:
    """FRR on a router whose service manager runs it (None under the lab, where `lab up`
    starts FRR, and without a service manager). Its configuration changes go through
    frr-reload; `reload` is a restart, for what only a restart applies (/etc/frr/daemons)."""
    if host.service_manager == "systemd":
        return _unit("frr", "systemctl restart frr")
    if host.service_manager == "openrc":
        return ServiceCommands("rc-service frr status >/dev/null 2>&1",
                               "rc-update add frr default >/dev/null; /etc/init.d/frr start",
                               "/etc/init.d/frr restart", "/etc/init.d/frr stop")
    return None


def by_name(host: HostModel, name: str) -> ServiceCommands | None:
    """The commands of service `name` (`bird`, `nginx`, `healthchecker`, `watcher`, `frr`)."""
    table = {"bird": bird, "nginx": nginx, "healthchecker": healthchecker, "watcher": watcher}
    if name == "frr":
        return frr(host)
    return table[name](host) if name in table else None
