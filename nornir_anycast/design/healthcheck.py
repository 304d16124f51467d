"""Health-checked announcements with anycast-healthchecker (PyPI, 0.9.10).

A server with `healthcheck.enabled` runs anycast-healthchecker beside BIRD. For each anycast
prefix it runs a check (an HTTP GET by default) every `interval` seconds; after `fall` failures
in a row it removes the prefix from a BIRD include file that it owns and runs
`birdc -s <paths.bird_ctl> configure`, after `rise` successes it puts it back. The include holds
one prefix set:

    define ACAST_PS_ADVERTISE =
        [
            10.189.200.255/32,
            10.13.13.1/32
        ];

and BIRD's export filter announces a prefix only when `net ~ ACAST_PS_ADVERTISE` (the first
entry is anycast-healthchecker's dummy prefix: BIRD refuses an empty set; it matches no route
of ours). Changing the include changes the export filter only, so BIRD re-exports without
resetting the BGP session.

Deploy writes the healthchecker's configuration (`anycast-healthchecker.conf` and one file per
prefix under `anycast-healthchecker.d/`), creates the include when it is missing (announcing
nothing but the dummy: a fresh server announces a prefix only after its check has passed `rise`
times) and never touches it afterwards, and starts (or, on a changed configuration, restarts)
the daemon. This module holds what rendering, deploy and verify share.

The event path (`healthcheck.watch`, docs/design.md "Withdrawal in a blink"): polling needs
`fall` failed checks before it withdraws (about `fall` x `interval`); a service that exits says
so at once. Every anycast prefix of a server sits in one static protocol (`static_bgp`: they are
all served by the server's one nginx, so that protocol is the per-service one) and
`birdc disable static_bgp` withdraws them without a reconfiguration. `birdc configure` enables
a protocol that `disable` stopped (BIRD 2.0.12, checked), so the protocol block includes a
state file (`service_state`) saying `disabled yes;` while nginx is down; whoever disables writes
it first. Who does: under systemd a oneshot unit bound to nginx.service (stopped with it, so
its ExecStop runs before nginx even stops), in the lab a watcher process sleeping on a pidfd of
nginx's master (templates/jinja/healthchecker/service_watch.py). Re-enabling does not bypass
the healthchecker: its prefix set still needs `rise` good checks after a withdrawal.
"""

from __future__ import annotations

import ipaddress
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

from nornir_anycast.design.model import AnycastPrefix, HealthCheck, HostModel
from nornir_anycast.settings import project_root

#: Logical name of the per-prefix files (render --out DIR/<host>/anycast-healthchecker.d/...).
SERVICE_DIR = "anycast-healthchecker.d"
SYSTEMD_UNIT = "/etc/systemd/system/anycast-healthchecker.service"
#: The event path: the static protocol it disables, the systemd unit bound to nginx.service.
WATCH_PROTOCOL = "static_bgp"
WATCH_PROTOCOL6 = "static_bgp6"
WATCH_UNIT_NAME = "nornir-anycast-nginx-watch"
WATCH_UNIT = f"/etc/systemd/system/{WATCH_UNIT_NAME}.service"
#: The service the event path follows (its process name, its systemd unit).
WATCHED_SERVICE = "nginx"
OPENRC_SCRIPT = "/etc/init.d/anycast-healthchecker"
#: The page the default check fetches (what nginx serves; verify fetches the same).
DEFAULT_PATH = "/file"


@dataclass(frozen=True)
class PrefixCheck:
    """One service check of anycast-healthchecker (one section, one file)."""

    name: str  # section name and file name (without .conf)
    prefix: str
    check_cmd: str
    interval: float
    timeout: float
    rise: int
    fall: int
    disabled: bool
    on_disabled: str
    ip_check_disabled: bool  # the prefix is not on `lo` as such (seed: 10.13.13.1/24)


def enabled(host: HostModel) -> bool:
    """Whether the host runs anycast-healthchecker (a server with `healthcheck.enabled`)."""
    return host.role == "server" and host.healthcheck.enabled


def binary(host: HostModel) -> str:
    """The program's path on the server; on a host of the namespace lab (`service_manager:
    lab`, this machine's filesystem) a relative path is under the project root."""
    path = host.healthcheck.binary
    if host.service_manager == "lab" and not path.startswith("/"):
        return str(project_root() / path)
    return path


def watched(host: HostModel) -> bool:
    """Whether nginx's exit withdraws at once (event path): `healthcheck.watch` on a health-
    checked server whose service manager can tell (systemd, the lab's watcher)."""
    return enabled(host) and host.healthcheck.watch and host.service_manager in ("systemd", "lab")


def has_ipv6(host: HostModel) -> bool:
    """Whether the server announces IPv6 anycast prefixes (anycast-healthchecker's IPv6 side:
    its own include, `paths.healthchecker_include6`, read by the same BIRD)."""
    return any(":" in a.prefix for a in host.anycast)


def include_paths(host: HostModel) -> list[str]:
    """The BIRD includes anycast-healthchecker writes on this server (IPv4, then IPv6)."""
    paths = [host.paths.healthchecker_include]
    if has_ipv6(host):
        paths.append(host.paths.healthchecker_include6)
    return paths


def watch_protocols(host: HostModel) -> list[str]:
    """The static protocols the event path disables: `static_bgp`, and `static_bgp6` holding
    the IPv6 prefixes (bird/bird2.conf.j2)."""
    return [WATCH_PROTOCOL, *([WATCH_PROTOCOL6] if has_ipv6(host) else [])]


def watch_config(host: HostModel) -> dict[str, object]:
    """The lab watcher's settings (service_watch.py's CONFIG.json). With IPv6 prefixes the
    protocol is the BIRD pattern `"static_bgp*"` (the watcher sends `disable <protocol>` as it
    is, and BIRD's `disable` takes a quoted pattern): both static protocols at once."""
    paths = host.paths
    protocol = WATCH_PROTOCOL if not has_ipv6(host) else f'"{WATCH_PROTOCOL}*"'
    return {"pidfile": paths.nginx_pid, "process": WATCHED_SERVICE,
            "state_file": paths.service_state, "bird_ctl": paths.bird_ctl,
            "protocol": protocol, "poll_interval": 0.1,
            "own_pidfile": paths.service_watch_pid}


#: BIRD 3's answers to a `configure` whose configuration it accepted, and what BIRD 2 says for
#: the same. BIRD 3 applies a new configuration asynchronously and answers `0004 Reconfiguration
#: in progress` (exit 0) where BIRD 2 answers `0003 Reconfigured`; a rejected file is `8002
#: FILE:LINE:COL ...` with exit 1 (BIRD 3.1.8, checked). anycast-healthchecker 0.9.10
#: (utils.reconfigure_bird) looks for a line `Reconfigured` only and logs anything else as
#: "most likely we generated an invalid configuration file" (its issue #55): with BIRD 3 every
#: good reconfiguration would be logged as an error, and a real one would look the same.
BIRD3_ACCEPTED = ("Reconfiguration in progress",
                  "Reconfiguration already in progress, queueing new config")
BIRD_RECONFIGURED = "Reconfigured"


def reconfigure_command(host: HostModel) -> str:
    """What anycast-healthchecker runs after changing the include: our BIRD's control socket.

    BIRD 1 and 2: `birdc -s CTL configure`. BIRD 3: the same through `/bin/sh -c`, with BIRD 3's
    "accepted, in progress" answers (BIRD3_ACCEPTED) printed as BIRD 2's `Reconfigured` and
    every other line (errors) and the exit status passed on as they are, so
    anycast-healthchecker logs `reconfigured BIRD daemon` for a good reconfiguration and an
    error for a bad one. It needs no file on the server (the healthchecker splits the setting
    with shlex and runs it without a shell of its own).
    """
    birdc = f"birdc -s {shlex.quote(host.paths.bird_ctl)} configure"
    if host.bird_version != 3:
        return f"birdc -s {host.paths.bird_ctl} configure"
    seds = " ".join(f'-e "s/^{line}\\$/{BIRD_RECONFIGURED}/"' for line in BIRD3_ACCEPTED)
    script = f'out=$({birdc} 2>&1); rc=$?; printf "%s\\n" "$out" | sed {seds}; exit $rc'
    return f"/bin/sh -c {shlex.quote(script)}"


def section_name(prefix: str) -> str:
    """`10.13.13.1/32` -> `anycast_10.13.13.1_32` (a section and file name without `/`)."""
    return "anycast_" + prefix.replace("/", "_").replace(":", "-")


def default_url(prefix: str) -> str:
    ip = ipaddress.ip_network(prefix, strict=False).network_address
    host = f"[{ip}]" if ip.version == 6 else str(ip)
    return f"http://{host}{DEFAULT_PATH}"


def curl_command(url: str, timeout: float) -> str:
    """The check for a URL: curl, failing on HTTP errors, within the check's timeout."""
    return (f"curl --fail --silent --show-error --output /dev/null --max-time {timeout:g} "
            f"{shlex.quote(url)}")


def _on_loopback(host: HostModel, prefix: str) -> bool:
    """anycast-healthchecker looks for `prefix` verbatim in `ip address show dev lo`."""
    try:
        want = ipaddress.ip_network(prefix, strict=False)
    except ValueError:
        return False
    for text in host.loopback:
        try:
            itf = ipaddress.ip_interface(text)
        except ValueError:
            continue
        if itf.ip == want.network_address and itf.network.prefixlen == want.prefixlen:
            return True
    return False


def prefix_check(host: HostModel, anycast: AnycastPrefix) -> PrefixCheck:
    """The check of one anycast prefix: the server's `healthcheck`, with the prefix's overrides."""
    hc: HealthCheck = host.healthcheck
    over = anycast.healthcheck

    def pick(name: str) -> object:
        value = getattr(over, name) if over is not None else None
        return getattr(hc, name) if value is None else value

    timeout = float(pick("timeout"))  # type: ignore[arg-type]
    command = pick("command")
    url = pick("url")
    if command is None:
        command = curl_command(str(url) if url is not None else default_url(anycast.prefix),
                               timeout)
    return PrefixCheck(
        name=section_name(anycast.prefix), prefix=anycast.prefix, check_cmd=str(command),
        interval=float(pick("interval")), timeout=timeout,  # type: ignore[arg-type]
        rise=int(pick("rise")), fall=int(pick("fall")),  # type: ignore[call-overload]
        disabled=bool(pick("disabled")), on_disabled=str(pick("on_disabled")),
        ip_check_disabled=not _on_loopback(host, anycast.prefix),
    )


def prefix_checks(host: HostModel) -> list[PrefixCheck]:
    return [prefix_check(host, a) for a in host.anycast]


def service_file(host: HostModel, check: PrefixCheck) -> str:
    """Where one prefix's check lives on the server."""
    return f"{host.paths.healthchecker_dir.rstrip('/')}/{check.name}.conf"


_PREFIX_LINE = re.compile(r"^\s*([0-9A-Fa-f:.]+/\d{1,3})\s*,?\s*$")
_DEFINE = re.compile(r"^\s*define\s+(\S+)\s*=")


def parse_include(text: str) -> tuple[str | None, list[str]]:
    """The variable name and the prefixes of an include anycast-healthchecker wrote.

    Comments (`# 10.189.200.255/32 is a dummy IP Prefix...`) are skipped; the dummy prefix is
    returned like any other (callers drop it).
    """
    name = None
    prefixes: list[str] = []
    for line in text.splitlines():
        if line.lstrip().startswith("#"):
            continue
        if name is None and (m := _DEFINE.match(line)):
            name = m.group(1)
            continue
        if m := _PREFIX_LINE.match(line):
            prefixes.append(m.group(1))
    return name, prefixes


def pid_dir(host: HostModel) -> str:
    return str(Path(host.paths.healthchecker_pid).parent)
