"""Verify one host: query its state over its netmiko connection and run the checks its role
calls for (nornir_anycast.verify.checks holds the checks themselves).

`verify_host(task, me, design)` is what the Nornir task nornir_anycast.tasks.verify_anycast
runs; it returns one `Check` per thing checked, and a failed query becomes a failed check
named after what it was for (`could not read state with '...'`), so the report stays complete.
"""

from __future__ import annotations

import ipaddress
import math
import shlex
from typing import Any

from nornir.core.task import Task
from nornir_netmiko.connections import CONNECTION_NAME

from nornir_anycast.design import healthcheck
from nornir_anycast.design.ecmp import derive_upstream_routes
from nornir_anycast.design.model import AnycastService, Design, HostModel
from nornir_anycast.device import services
from nornir_anycast.device.commands import (
    DeviceCommand,
    bird_command,
    device_error,
    family_of,
    linux_family_command,
    router_command,
    router_family_command,
)
from nornir_anycast.device.shell import shell_for
from nornir_anycast.exceptions import AnycastError, DeviceError, ParseError
from nornir_anycast.verify.checks import (
    Check,
    bfd,
    edge,
    graceful_restart,
    health,
    http,
    isp,
    safety,
    sessions,
)

HTTP_PATH = "/file"


def requests_per_source(servers: int) -> int:
    """Requests per client address so that every one of `servers` equally likely servers is hit
    with probability better than 1 - 1e-6 (coupon collector bound: n >= k ln(k / 1e-6))."""
    k = max(servers, 1)
    return max(20, math.ceil(k * math.log(k * 1e6)))


def _send(task: Task, me: HostModel, cmd: DeviceCommand) -> dict[str, Any]:
    """Send a command over the host's netmiko connection (through sudo when the command table
    says so) and parse its output."""
    from nornir_anycast.parsing import parse_output

    conn = task.host.get_connection(CONNECTION_NAME, task.nornir.config)
    text = shell_for(conn, me).cli(cmd.send, read_timeout=30)
    try:
        parsed: dict[str, Any] = parse_output(cmd.parse_platform, cmd.parse_command, text)
    except ParseError as exc:
        # The device refused (`% Unknown command`, `Unable to connect to server control
        # socket`, `syntax error`): report its own words, wherever they are in the output.
        said = device_error(str(text))
        if said is None:
            raise
        raise DeviceError(f"the device answered: {said}") from exc
    return parsed


def _failed_query(name: str, host: str, cmd: DeviceCommand, exc: Exception) -> Check:
    """The failed check `name` of a query that got no usable answer."""
    return Check(name=name, host=host, passed=False, expected=f"output of {cmd.send!r}",
                 actual=None, message=f"could not read state with {cmd.send!r}: {exc}")


def _verify_server(task: Task, me: HostModel, design: Design) -> list[Check]:
    """A server: its BGP sessions and exports, BFD, and anycast-healthchecker when enabled."""
    cmd = bird_command(me, "show protocols all")
    try:
        protocols = _send(task, me, cmd)
    except AnycastError as exc:
        return [_failed_query("server_bgp_session", me.name, cmd, exc)]
    out = sessions.check_server_sessions(me, design, protocols)
    out += sessions.check_server_receives_no_routes(me, design, protocols)
    if bfd.bfd_pairs(me, design):
        cmd = bird_command(me, "show bfd sessions")
        try:
            out += bfd.check_server_bfd(me, design, _send(task, me, cmd))
        except AnycastError as exc:
            out.append(_failed_query("server_bfd_session", me.name, cmd, exc))
    if healthcheck.enabled(me):
        out.append(_verify_health(task, me, design))
    return out


def _verify_health(task: Task, me: HostModel, design: Design) -> Check:
    """Whether anycast-healthchecker runs and which prefixes its BIRD include announces; with
    the event path, whether it runs and what its state file says."""
    shell = shell_for(task.host.get_connection(CONNECTION_NAME, task.nornir.config), me)
    try:
        running = shell.run(services.healthchecker(me).running).ok
        pid_text = (shell.read_file(me.paths.healthchecker_pid) or "").strip()
        include = shell.read_file(me.paths.healthchecker_include)
        if include is not None and healthcheck.has_ipv6(me):
            # The IPv6 side's include (docs/ipv6.md), read as one with the IPv4 one.
            include += "\n" + (shell.read_file(me.paths.healthchecker_include6) or "")
        watch = None
        if healthcheck.watched(me):
            watch = (shell.run(services.watcher(me).running).ok,
                     shell.read_file(me.paths.service_state))
    except AnycastError as exc:
        return Check(name="server_health", host=me.name, passed=False,
                     expected="anycast-healthchecker's state", actual=None,
                     message=f"could not read anycast-healthchecker's state: {exc}")
    pid = int(pid_text) if pid_text.isdigit() else None
    return health.check_server_health(me, design, running=running,
                                      pid=pid if running else None, include=include,
                                      watch=watch)


def _verify_router(task: Task, me: HostModel, design: Design) -> list[Check]:
    """An edge or the ISP: sessions, BFD (FRR), multipath and kernel routes per prefix (edge),
    route safety (FRR edge), the ISP's view (ISP)."""
    out: list[Check] = []
    cmd = router_command(me, "show ip bgp summary")
    try:
        summary = _send(task, me, cmd)
        if any(family_of(nb.address) == 6 for nb in me.bgp.neighbors):
            # IPv6 sessions (one per family) are listed in the IPv6 unicast summary only.
            cmd = router_family_command(me, "bgp_summary", 6)
            more = _send(task, me, cmd).get("peers", [])
            summary = {**summary, "peers": [*summary.get("peers", []), *more]}
        out += sessions.check_router_sessions(me, design, summary)
        out += sessions.check_edge_sends_no_routes(me, design, summary)
    except AnycastError as exc:
        out.append(_failed_query("router_bgp_session", me.name, cmd, exc))
    if me.platform == "frr" and bfd.bfd_pairs(me, design):
        cmd = router_command(me, "show bfd peers")
        try:
            out += bfd.check_edge_bfd(me, design, _send(task, me, cmd))
        except AnycastError as exc:
            out.append(_failed_query("edge_bfd_session", me.name, cmd, exc))
    own = [s for s in design.services if s.edge == me.name] if me.role == "edge" else []
    for service in own:
        cmd = router_family_command(me, "bgp_prefix", prefix=service.prefix)
        try:
            out += edge.check_edge_multipath(service, me, _send(task, me, cmd))
        except AnycastError as exc:
            out.append(_failed_query("edge_multipath", me.name, cmd, exc))
        if me.platform == "frr":
            cmd = linux_family_command("kernel_route", prefix=service.prefix)
            try:
                out.append(edge.check_edge_kernel(service, me, _send(task, me, cmd)))
            except AnycastError as exc:
                out.append(_failed_query("edge_kernel_route", me.name, cmd, exc))
    if me.role == "edge" and me.platform == "frr":
        out += _verify_route_safety(task, me, design)
        out += _verify_graceful_restart(task, me, design)
    if me.role == "isp":
        out += _verify_isp(task, me, design)
    return out


def _verify_route_safety(task: Task, me: HostModel, design: Design) -> list[Check]:
    """rogue_announcements, one per server session of the edge (docs/safety.md)."""
    out: list[Check] = []
    for server, address in safety.server_neighbors(me, design):
        tables: list[dict[str, Any]] = []
        for kind in ("bgp_received_routes", "bgp_neighbor_routes"):
            cmd = router_family_command(me, kind, address=address)
            try:
                tables.append(_send(task, me, cmd))
            except AnycastError as exc:
                out.append(_failed_query("rogue_announcements", me.name, cmd, exc))
                break
        if len(tables) == 2:
            out.append(safety.check_rogue_announcements(me, server, address, tables[0], tables[1]))
    return out


def _verify_graceful_restart(task: Task, me: HostModel, design: Design) -> list[Check]:
    """edge_graceful_restart, one per server session with graceful restart on both ends, from
    ONE `show ip bgp neighbors json` (sent only when there is such a session)."""
    if not graceful_restart.graceful_restart_pairs(me, design):
        return []
    cmd = router_command(me, "show ip bgp neighbors json")
    try:
        return graceful_restart.check_graceful_restart(design, me, _send(task, me, cmd))
    except AnycastError as exc:
        return [_failed_query(graceful_restart.NAME, me.name, cmd, exc)]


def _verify_isp(task: Task, me: HostModel, design: Design) -> list[Check]:
    """The ISP: each anycast prefix as the edge exports it, and no internal prefix."""
    out: list[Check] = []
    if isp.has_sites(design):
        out += _verify_upstream_routes(task, me, design)
    for service in ([] if isp.has_sites(design) else design.services):
        edge_host = design.hosts[service.edge]
        cmd = router_family_command(me, "bgp_prefix", prefix=service.prefix)
        try:
            out.append(isp.check_isp_learned(service, me, edge_host, _send(task, me, cmd),
                                             exported=isp.exports_anycast(edge_host)))
        except AnycastError as exc:
            out.append(_failed_query("isp_anycast_route", me.name, cmd, exc))
    leaked: dict[str, dict[str, Any]] = {}
    unread = 0
    for prefix in isp.internal_prefixes(design):
        cmd = router_family_command(me, "bgp_prefix", prefix=prefix)
        try:
            leaked[prefix] = _send(task, me, cmd)
        except AnycastError as exc:
            unread += 1
            out.append(_failed_query("isp_no_internal_routes", me.name, cmd, exc))
    # And nothing else came through an edge: a rogue server's prefixes, whatever they are. On
    # FRR only the routes each edge sent are read: the ISP's whole table may be a full table
    # (a million routes take minutes to print and parse).
    edges = [nb.address for nb in me.bgp.neighbors
             if (owner := design.owner_of(nb.address)) is not None and owner.role == "edge"]
    families = sorted({family_of(nb.address) for nb in me.bgp.neighbors}) or [4]
    commands = ([router_family_command(me, "bgp_neighbor_routes", address=a) for a in edges]
                if me.platform == "frr" else
                [router_family_command(me, "bgp_table", f) for f in families])
    for cmd in commands:
        try:
            leaked.update(isp.routes_from_edges(design, _send(task, me, cmd)))
        except AnycastError as exc:
            unread += 1
            out.append(_failed_query("isp_no_internal_routes", me.name, cmd, exc))
    if not unread:  # "nothing leaked" is only true when every prefix could be read
        out.append(isp.check_isp_no_leak(me, leaked))
    return out


def _verify_upstream_routes(task: Task, me: HostModel, design: Design) -> list[Check]:
    """An upstream in a design with sites: each anycast prefix goes to the site it should
    prefer (design.ecmp.derive_upstream_routes)."""
    out: list[Check] = []
    for route in derive_upstream_routes(design):
        if route.upstream != me.name:
            continue
        cmd = router_family_command(me, "bgp_prefix", prefix=route.prefix)
        try:
            out.append(isp.check_upstream_route(route, me, _send(task, me, cmd)))
        except AnycastError as exc:
            out.append(_failed_query("upstream_anycast_route", me.name, cmd, exc))
    return out


def _curl_script(target: str, sources: list[str], count: int) -> str:
    """One shell loop on the client: each request a new connection (new source port)."""
    lines = []
    for src in sources:
        lines.append(
            f"for i in $(seq {count}); do "
            f"r=$(curl -g -s -f --connect-timeout 2 --max-time 3 --interface {shlex.quote(src)} "
            f"{shlex.quote(target)}) && echo \"OK {src} $r\" || echo \"FAIL {src}\"; done"
        )
    return "; ".join(lines)


def anycast_url(address: str, port: int | None = None) -> str:
    """`http://ADDRESS[:PORT]/file`, an IPv6 address in brackets."""
    host = f"[{address}]" if ":" in address else address
    return f"http://{host}{f':{port}' if port is not None else ''}{HTTP_PATH}"


def _http(task: Task, me: HostModel, target: str, count: int) -> dict[str, list[str | None]]:
    """`count` requests to `target` from each of the client's addresses of the target's
    family: the response bodies per source address, None for a failed request."""
    version = 6 if "://[" in target else 4
    sources = [str(i.ip) for itf in me.interfaces for i in itf.interfaces()
               if i.version == version]
    conn = task.host.get_connection(CONNECTION_NAME, task.nornir.config)
    text = conn.send_command(_curl_script(target, sources, count),
                             read_timeout=30 + 4 * count * len(sources))
    answers: dict[str, list[str | None]] = {s: [] for s in sources}
    for line in text.splitlines():
        parts = line.strip().split(" ", 2)
        if len(parts) >= 2 and parts[0] in ("OK", "FAIL") and parts[1] in answers:
            body = parts[2].strip() if parts[0] == "OK" and len(parts) == 3 else None
            answers[parts[1]].append(body if parts[0] == "OK" else None)
    return answers


def _service_of(design: Design, address: str) -> AnycastService | None:
    """The anycast service whose prefix holds `address`, if any."""
    ip = ipaddress.ip_address(address)
    for s in design.services:
        if ip in ipaddress.ip_network(s.prefix):
            return s
    return None


def client_upstream(design: Design, client: HostModel) -> HostModel | None:
    """The upstream router (role isp) the client's default gateway belongs to."""
    for itf in client.interfaces:
        for gw in itf.gateways():
            owner = design.owner_of(gw)
            if owner is not None and owner.role == "isp":
                return owner
    return None


def expected_site_servers(design: Design, client: HostModel) -> dict[str, list[str]]:
    """In a design with sites: for each anycast prefix the client reaches, the pages of the
    servers that should answer it, the ECMP sets of the edges of the site(s) its upstream
    prefers (design.ecmp.derive_upstream_routes). Prefixes no site announces expect nobody;
    a client behind no upstream gets nothing to check."""
    upstream = client_upstream(design, client)
    if upstream is None:
        return {}
    out: dict[str, list[str]] = {}
    for route in derive_upstream_routes(design):
        if route.upstream != upstream.name:
            continue
        if not any(isp.exports_anycast(design.hosts[s.edge]) for s in design.services
                   if s.prefix == route.prefix):
            continue  # destination NAT: the anycast address is not reachable from outside
        pages = {design.hosts[p.host].page_text for s in design.services
                 if s.prefix == route.prefix and design.hosts[s.edge].site in route.sites
                 for p in s.ecmp}
        out[route.prefix] = sorted(pages)
    return out


def _verify_client(task: Task, me: HostModel, design: Design) -> list[Check]:
    """The client: HTTP to each exported anycast address and each destination NAT rule."""
    out: list[Check] = []
    if isp.has_sites(design):
        for prefix, expected in expected_site_servers(design, me).items():
            target = anycast_url(prefix.split("/")[0])
            out.append(http.check_http(me, target, expected, _http(
                task, me, target, requests_per_source(len(expected)))))
    for service in ([] if isp.has_sites(design) else design.services):
        expected = [design.hosts[p.host].page_text for p in service.ecmp]
        count = requests_per_source(len(expected))
        address = service.prefix.split("/")[0]
        target = anycast_url(address)
        if not isp.exports_anycast(design.hosts[service.edge]):
            continue  # destination NAT: the anycast address is not reachable from outside
        out.append(http.check_http(me, target, expected, _http(task, me, target, count)))
    for router in design.by_role("edge"):
        for rule in router.nat.destination:
            svc = _service_of(design, rule.translation_address)
            if svc is None:
                continue
            expected = [design.hosts[p.host].page_text for p in svc.ecmp]
            target = anycast_url(rule.destination_address, rule.destination_port)
            answers = _http(task, me, target, requests_per_source(len(expected)))
            out.append(http.check_http(me, target, expected, answers, name="http_dnat"))
    return out


def verify_host(task: Task, me: HostModel, design: Design) -> list[Check]:
    """The checks of one host, by role (see nornir_anycast.tasks.verify_anycast)."""
    if me.role == "server":
        return _verify_server(task, me, design)
    if me.role in ("edge", "isp"):
        return _verify_router(task, me, design)
    return _verify_client(task, me, design)
