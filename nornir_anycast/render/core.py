"""Rendering every configuration file of the anycast design from the typed model.

One Jinja2 Environment (package data `nornir_anycast.templates/jinja`, StrictUndefined,
trim_blocks, lstrip_blocks). `render_host()` picks the templates from the host's platform, role
and OS and returns `{logical name: RenderedFile}`; the logical name doubles as the file name
under `render --out DIR/<host>/`. Facts the templates need but the model does not hold directly
(which neighbor is a server, the edge's anycast prefix list, the timers the inventory sets) are
computed here, once, so the templates stay free of logic.

Logical names and what they are:

| name | hosts | path on device | checker |
|---|---|---|---|
| `frr.conf` | platform frr (isp, edge) | `paths.frr_conf` | `frr` (`vtysh -C -f`) |
| `config.vyos` | platform vyos (isp, edge) | none: `set` commands for configure mode | none |
| `bird.conf` | servers | `paths.bird_conf` | `bird1` / `bird2` (`bird -p -c`) |
| `nginx-site.conf` | servers | `paths.nginx_site` | `nginx` (`nginx -t`) |
| `page` | servers | `<paths.web_root>/file` | none |
| `interfaces` | servers, clients outside the lab | `paths.interfaces_file` | none |
| `nftables.conf` | platform frr with `nat` rules | `paths.nftables_conf` | `nft` (`nft -c -f`) |
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import jinja2

from nornir_anycast.design import healthcheck
from nornir_anycast.design.model import BgpTimers, Design, HostModel, Neighbor, RouteMapRule
from nornir_anycast.exceptions import InventoryError, Problem, TemplateError
from nornir_anycast.inventory import secrets
from nornir_anycast.settings import project_root

Checker = Literal["frr", "bird1", "bird2", "nginx", "nft"]

#: FRR's `frr defaults traditional` values: lines equal to them are left out, because FRR leaves
#: them out of `show running-config` and frr-reload.py would otherwise see a difference.
FRR_DEFAULT_KEEPALIVE = 60
FRR_DEFAULT_HOLD = 180
FRR_DEFAULT_CONNECT_RETRY = 120
FRR_DEFAULT_BFD_INTERVAL_MS = 300
FRR_DEFAULT_BFD_MULTIPLIER = 3

#: Names of the policies rendered for FRR when the inventory names none.
ANYCAST_PREFIX_LIST = "ANYCAST"
SERVERS_IN = "SERVERS-IN"
#: Extra prefixes a server session on an edge may carry beyond the server's own anycast
#: prefixes before FRR tears it down (`maximum-prefix N restart 1 force`, see README
#: "Route safety"); the inventory's `bgp.maximum_prefix` replaces the computed limit.
SERVER_MAXIMUM_PREFIX_MARGIN = 10
#: Minutes FRR waits before re-opening a session torn down by maximum-prefix.
SERVER_MAXIMUM_PREFIX_RESTART = 1
EBGP_IN = "EBGP-IN"
EBGP_OUT = "EBGP-OUT"
BFD_PROFILE = "anycast"

#: The one nftables table NAT rules are rendered into (family ip); nothing else is ever touched.
NFT_TABLE = "nornir_anycast"
#: nftables limits a rule comment to 128 bytes.
NFT_COMMENT_MAX = 128


@dataclass(frozen=True)
class RenderedFile:
    """One rendered file.

    Attributes:
        path: where it goes on the device; None for VyOS `set` commands (entered, not copied).
        content: the text, ending with a newline.
        checker: which local checker validates it (see nornir_anycast.render.checkers), or None.
        includes: (path, content) of files it includes, for checking it.
        create_only: deploy writes it only when missing (anycast-healthchecker's include).
        mode: file mode on the device.
    """

    path: str | None
    content: str
    checker: Checker | None = None
    # Files the content includes, as (path on the device, content to check with): the
    # checkers put them beside the file (BIRD's include of anycast-healthchecker's prefix set).
    includes: tuple[tuple[str, str], ...] = ()
    # Written only when the device has no such file (deploy never rewrites it afterwards).
    create_only: bool = False
    mode: str = "0644"


@dataclass(frozen=True)
class NeighborView:
    """A BGP neighbor with what the templates need resolved."""

    address: str
    remote_as: int
    update_source: str | None
    description: str | None
    ibgp: bool
    to_server: bool
    peer: str | None  # the inventory host that owns the address
    route_map_in: str | None
    route_map_out: str | None
    password: str | None
    ttl_security: bool
    bird_name: str  # a BIRD protocol name
    interface: str | None  # the local interface facing the neighbor (for BFD)
    # FRR edge -> server sessions (route safety): keep what the server sent, rejected or not
    # (`soft-reconfiguration inbound`), and the `maximum-prefix` arguments ("11 restart 1 force").
    soft_reconfiguration: bool = False
    maximum_prefix: str | None = None


@dataclass(frozen=True)
class PolicyRule:
    """One rule of a rendered route-map; `prefix_list` is matched when set."""

    seq: int
    action: str
    prefix_list: str | None = None


@dataclass(frozen=True)
class Policies:
    """Prefix lists and route-maps a router's config defines, in rendering order."""

    prefix_lists: dict[str, list[str]] = field(default_factory=dict)
    route_maps: dict[str, list[PolicyRule]] = field(default_factory=dict)


@functools.cache
def environment() -> jinja2.Environment:
    """The one Jinja2 Environment for every template of the package."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("nornir_anycast.templates", "jinja"),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters["netmask"] = _netmask
    env.filters["ip_only"] = _ip_only
    env.filters["vq"] = _vyos_quote
    return env


def _netmask(address: str) -> str:
    return str(ipaddress.ip_interface(address).netmask)


def _ip_only(address: str) -> str:
    return str(ipaddress.ip_interface(address).ip)


def _vyos_quote(value: object) -> str:
    """A VyOS value quoted the way `show configuration commands` prints it."""
    return "'" + str(value).replace("'", "'\\''") + "'"


def version_tuple(version: str | None) -> tuple[int, ...]:
    """`1.2` -> (1, 2); `1.1.7` -> (1, 1, 7); None or junk -> ()."""
    if not version:
        return ()
    parts: list[int] = []
    for piece in version.split("."):
        digits = "".join(ch for ch in piece if ch.isdigit())
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)


def render_template(name: str, host: HostModel, **context: Any) -> str:
    """Render one template; any Jinja2 problem becomes TemplateError naming host and template."""
    try:
        template = environment().get_template(name)
        text = template.render(host=host, **context)
    except jinja2.TemplateNotFound as exc:
        raise TemplateError(f"{host.name}: template {name}: not found ({exc.name})") from exc
    except jinja2.UndefinedError as exc:
        raise TemplateError(secrets.redact(f"{host.name}: template {name}: {exc.message}")
                            ) from exc
    except jinja2.TemplateError as exc:
        raise TemplateError(secrets.redact(f"{host.name}: template {name}: {exc}")) from exc
    return text.rstrip("\n") + "\n"


# --------------------------------------------------------------------------------------------
# Facts derived for the templates


def _bird_identifier(text: str) -> str:
    out = "".join(ch if ch.isalnum() else "_" for ch in text)
    return out if out and out[0].isalpha() else f"p_{out}"


def _interface_towards(host: HostModel, address: str) -> str | None:
    ip = ipaddress.ip_address(address)
    for itf in host.interfaces:
        for i in itf.interfaces():
            if i.version == ip.version and ip in i.network:
                return itf.name
    return None


#: What a TCP-MD5 password may hold: it is written bare (FRR), quoted (BIRD, VyOS) and Linux
#: takes at most 80 bytes (TCP_MD5SIG_MAXKEYLEN).
_PASSWORD_OK = re.compile(r"^[!#-\[\]-~]{1,80}$")  # printable ASCII but space, " and \


def _secret(host: HostModel, index: int, nb: Neighbor) -> str | None:
    """The neighbor's TCP-MD5 password from its environment variable or file (registered with
    nornir_anycast.inventory.secrets, so that it is redacted from everything printed). Problems
    name the variable or the file, never the value."""
    if nb.password_env is None and nb.password_file is None:
        return None
    field = f"bgp.neighbors.{index}." + ("password_env" if nb.password_env else "password_file")
    where = nb.password_env or nb.password_file
    try:
        value = (secrets.read_env(nb.password_env) if nb.password_env
                 else secrets.read_file(str(nb.password_file), project_root()))
    except secrets.SecretError as exc:
        raise InventoryError([Problem(host.name, field, where,
                                      f"{exc} (it must hold the BGP password)")]) from None
    if not _PASSWORD_OK.match(value):
        raise InventoryError([Problem(
            host.name, field, where,
            "the BGP password must be 1..80 printable ASCII characters without space, "
            "double quote or backslash (it is written into the daemons' configuration)")])
    return value


def check_secrets(design: Design) -> list[Problem]:
    """Read every BGP password the design refers to (registering it with
    nornir_anycast.inventory.secrets); one Problem per variable unset, file unreadable or
    password the configs cannot hold. Commands call this at load time, so a missing secret is bad
    input (exit 2) found before any device is touched, and verify redacts passwords it never
    renders.
    """
    problems: list[Problem] = []
    for host in design.hosts.values():
        for index, nb in enumerate(host.bgp.neighbors):
            try:
                _secret(host, index, nb)
            except InventoryError as exc:
                problems.extend(exc.problems)
    return problems


def neighbor_views(host: HostModel, design: Design, *, frr_policy: bool) -> list[NeighborView]:
    """The host's neighbors, classified; with `frr_policy`, default route-maps filled in.

    FRR 8.4 refuses to exchange routes with an eBGP peer without policies in both directions,
    and an edge must accept from its servers only the anycast prefixes: where the inventory
    names no route-map, EBGP-IN / EBGP-OUT / SERVERS-IN are used (see `policies()`).
    """
    views: list[NeighborView] = []
    used: set[str] = set()
    for index, nb in enumerate(host.bgp.neighbors):
        owner = design.owner_of(nb.address)
        ibgp = host.asn is not None and nb.remote_as == host.asn
        to_server = ibgp and owner is not None and owner.role == "server"
        rm_in, rm_out = nb.route_map_in, nb.route_map_out
        if frr_policy:
            if not ibgp:
                rm_in = rm_in or EBGP_IN
                rm_out = rm_out or EBGP_OUT
            elif to_server and host.role == "edge" and owner is not None:
                rm_in = rm_in or server_route_map(owner.name)
        base = _bird_identifier(owner.name if owner is not None else f"bgp_{nb.address}")
        name, n = base, 1
        while name in used:
            n += 1
            name = f"{base}_{n}"
        used.add(name)
        views.append(NeighborView(
            address=nb.address, remote_as=nb.remote_as, update_source=nb.update_source,
            description=nb.description, ibgp=ibgp, to_server=to_server,
            peer=owner.name if owner is not None else None,
            route_map_in=rm_in, route_map_out=rm_out, password=_secret(host, index, nb),
            ttl_security=nb.ttl_security, bird_name=name,
            interface=_interface_towards(host, nb.address),
            soft_reconfiguration=frr_policy and to_server and host.role == "edge",
            maximum_prefix=_maximum_prefix(host, owner if to_server else None, frr_policy),
        ))
    return views


def server_route_map(server: str) -> str:
    """The edge's import route-map for one server's session (`SERVERS-IN-<server>`)."""
    return f"{SERVERS_IN}-{server}"


def server_prefix_list(server: str) -> str:
    """The edge's prefix-list of what one server may announce (`ANYCAST-<server>`)."""
    return f"{ANYCAST_PREFIX_LIST}-{server}"


def server_allowed_prefixes(server: HostModel) -> list[str]:
    """What an edge accepts from `server`: its own anycast prefixes, as given by the inventory
    (drained or not: draining changes what the server announces, never the edge's filter)."""
    return sorted({a.prefix for a in server.anycast},
                  key=lambda p: (ipaddress.ip_network(p).version, ipaddress.ip_network(p)))


def _maximum_prefix(host: HostModel, server: HostModel | None, frr_policy: bool) -> str | None:
    """`maximum-prefix` arguments for one neighbor (None: no line).

    The inventory's `bgp.maximum_prefix`, when set, applies to every neighbor as written. Else an
    FRR edge limits each server session to the server's anycast prefixes plus
    SERVER_MAXIMUM_PREFIX_MARGIN, counting rejected routes too (`force`: soft-reconfiguration
    keeps them in memory), and re-opens a session torn down by the limit after
    SERVER_MAXIMUM_PREFIX_RESTART minute(s): a flood drops that server's session, loudly (verify's
    session checks fail, FRR logs it), instead of growing the edge's memory.
    """
    if host.bgp.maximum_prefix is not None:
        return str(host.bgp.maximum_prefix)
    if not frr_policy or server is None or host.role != "edge":
        return None
    limit = len(server_allowed_prefixes(server)) + SERVER_MAXIMUM_PREFIX_MARGIN
    return f"{limit} restart {SERVER_MAXIMUM_PREFIX_RESTART} force"


def edge_anycast_prefixes(host: HostModel, design: Design) -> list[str]:
    """The anycast prefixes the servers behind this edge announce (sorted, unique)."""
    prefixes = {s.prefix for s in design.services if s.edge == host.name}
    return sorted(prefixes, key=lambda p: (ipaddress.ip_network(p).version,
                                           ipaddress.ip_network(p)))


def _model_route_map(name: str, rules: list[RouteMapRule], policies: Policies) -> None:
    out: list[PolicyRule] = []
    for r in sorted(rules, key=lambda r: r.rule):
        plist = None
        if r.match_prefix is not None:
            plist = f"{name}-{r.rule}"
            policies.prefix_lists[plist] = [r.match_prefix]
        out.append(PolicyRule(seq=r.rule, action=r.action, prefix_list=plist))
    policies.route_maps[name] = out


def frr_policies(host: HostModel, design: Design, neighbors: list[NeighborView]) -> Policies:
    """Prefix lists and route-maps for an FRR router: the inventory's, plus the defaults used.

    - SERVERS-IN-<server> (edge, in from one server): permit only ANYCAST-<server>, that
      server's own anycast prefixes (exact host routes), deny anything else.
    - EBGP-OUT on an edge: permit only ANYCAST, so internal routes never leak to the ISP.
    - EBGP-OUT on any other router, and EBGP-IN: permit everything (an explicit policy only
      because FRR 8.4 enforces `bgp ebgp-requires-policy`).
    """
    policies = Policies()
    anycast = edge_anycast_prefixes(host, design) if host.role == "edge" else []
    referenced = {n.route_map_in for n in neighbors} | {n.route_map_out for n in neighbors}
    needs_anycast = host.role == "edge" and EBGP_OUT in referenced
    if needs_anycast and anycast:
        policies.prefix_lists[ANYCAST_PREFIX_LIST] = anycast
    per_server: dict[str, list[PolicyRule]] = {}
    for n in neighbors:
        if n.peer is None or n.route_map_in != server_route_map(n.peer):
            continue
        if n.route_map_in in host.route_maps or n.route_map_in in per_server:
            continue
        allowed = server_allowed_prefixes(design.hosts[n.peer])
        if allowed:
            policies.prefix_lists[server_prefix_list(n.peer)] = allowed
            per_server[n.route_map_in] = [PolicyRule(
                seq=10, action="permit", prefix_list=server_prefix_list(n.peer))]
        else:
            per_server[n.route_map_in] = [PolicyRule(seq=10, action="deny")]
    for name in sorted(host.route_maps):
        _model_route_map(name, host.route_maps[name], policies)
    filtered = PolicyRule(seq=10, action="permit", prefix_list=ANYCAST_PREFIX_LIST)
    if not anycast:
        filtered = PolicyRule(seq=10, action="deny")
    defaults = {
        EBGP_IN: [PolicyRule(seq=10, action="permit")],
        EBGP_OUT: [filtered if host.role == "edge" else PolicyRule(seq=10, action="permit")],
    }
    for name, rules in defaults.items():
        if name in referenced and name not in host.route_maps:
            policies.route_maps[name] = rules
    policies.route_maps.update(per_server)
    return policies


def timers_set(host: HostModel) -> dict[str, Any]:
    """The BGP timers the inventory sets explicitly (unset ones keep the daemon's default)."""
    t: BgpTimers = host.bgp_timers
    return {k: getattr(t, k) for k in sorted(t.model_fields_set)}


def frr_timers(host: HostModel) -> dict[str, int | None]:
    """`timers bgp` and `timers connect` values, None where FRR's default applies."""
    t = host.bgp_timers
    bgp = (t.keepalive, t.hold) != (FRR_DEFAULT_KEEPALIVE, FRR_DEFAULT_HOLD)
    return {
        "keepalive": t.keepalive if bgp else None,
        "hold": t.hold if bgp else None,
        "connect": t.connect_retry if t.connect_retry != FRR_DEFAULT_CONNECT_RETRY else None,
    }


def vyos_layer4_hashing(host: HostModel) -> bool:
    """`set system ip multipath layer4-hashing`: as set, else on VyOS 1.2+ edges (the seed's)."""
    if host.multipath_layer4_hashing is not None:
        return host.multipath_layer4_hashing
    return host.role == "edge" and version_tuple(host.os_version) >= (1, 2)


@dataclass(frozen=True)
class DnatView:
    """A destination NAT rule as nftables writes it; `iifname` None for `inbound_interface: any`."""

    iifname: str | None
    daddr: str
    protocol: str
    dport: int
    to: str
    comment: str


@dataclass(frozen=True)
class SnatView:
    """One source NAT rule as nftables writes it; `to` None for masquerade."""

    oifname: str
    saddr: str
    to: str | None
    comment: str


def _nft_comment(text: str) -> str:
    """A comment nft accepts: no double quote, at most NFT_COMMENT_MAX bytes (only a label)."""
    text = text.replace('"', "'").replace("\n", " ")
    while len(text.encode()) > NFT_COMMENT_MAX:
        text = text[:-1]
    return text


def _ipv4(host: HostModel, field_name: str, value: str, *, network: bool = False) -> str:
    """The IPv4 address (or prefix, host bits cleared) as nft writes it; IPv6 is refused."""
    try:
        if network and "/" in value:
            net = ipaddress.ip_network(value, strict=False)
            version, text = net.version, str(net)
        else:
            ip = ipaddress.ip_address(value)
            version, text = ip.version, str(ip)
    except ValueError as exc:
        raise TemplateError(f"{host.name}: {field_name}={value!r}: not an IP address") from exc
    if version != 4:
        raise TemplateError(
            f"{host.name}: {field_name}={value!r}: NAT on platform 'frr' is rendered into an "
            "nftables `ip` table: IPv4 only")
    return text


def nftables_wanted(host: HostModel) -> bool:
    """Whether the host gets `nftables.conf`: a Linux (FRR) router with NAT rules."""
    return host.platform == "frr" and bool(host.nat.source or host.nat.destination)


def nat_views(host: HostModel) -> tuple[list[DnatView], list[SnatView]]:
    """The host's NAT rules, by rule number, in the terms nftables uses."""
    dnat = [
        DnatView(
            iifname=None if d.inbound_interface == "any" else d.inbound_interface,
            daddr=_ipv4(host, f"nat.destination.{k}.destination_address", d.destination_address),
            protocol=d.protocol, dport=d.destination_port,
            to=_ipv4(host, f"nat.destination.{k}.translation_address", d.translation_address),
            comment=_nft_comment(f"rule {d.rule}" + (f": {d.description}" if d.description
                                                     else "")),
        )
        for k, d in sorted(enumerate(host.nat.destination), key=lambda kd: kd[1].rule)
    ]
    snat = [
        SnatView(
            oifname=s.outbound_interface,
            saddr=_ipv4(host, f"nat.source.{k}.source_address", s.source_address, network=True),
            to=(None if s.translation == "masquerade"
                else _ipv4(host, f"nat.source.{k}.translation", s.translation)),
            comment=_nft_comment(f"rule {s.rule}"),
        )
        for k, s in sorted(enumerate(host.nat.source), key=lambda ks: ks[1].rule)
    ]
    return dnat, snat


def _render_nftables(host: HostModel) -> dict[str, RenderedFile]:
    """`nftables.conf` for a Linux router with NAT rules (none without: no file)."""
    if not nftables_wanted(host):
        return {}
    destination, source = nat_views(host)
    text = render_template("nftables/nat.nft.j2", host, table=NFT_TABLE,
                           destination=destination, source=source)
    return {"nftables.conf": RenderedFile(host.paths.nftables_conf, text, "nft")}


# --------------------------------------------------------------------------------------------
# Selecting and rendering


def _render_router_frr(host: HostModel, design: Design) -> dict[str, RenderedFile]:
    # FRR routes, nftables does the NAT (nftables.conf); nothing does DNS forwarding yet.
    # Refuse rather than silently drop what was asked.
    if host.dns_forwarding:
        raise TemplateError(
            f"{host.name}: dns_forwarding is set, but platform 'frr' renders only frr.conf and "
            "nftables.conf (no DNS forwarding on Linux routers yet); remove it or use platform "
            "vyos")
    neighbors = neighbor_views(host, design, frr_policy=True)
    text = render_template(
        f"frr/{host.role}.conf.j2", host,
        design=design, neighbors=neighbors, policies=frr_policies(host, design, neighbors),
        timers=frr_timers(host), bfd_profile=BFD_PROFILE,
        ipv6_forwarding=any(ip.version == 6 for ip in host.addresses()),
        bfd_interval=(host.bfd.interval_ms
                      if host.bfd.interval_ms != FRR_DEFAULT_BFD_INTERVAL_MS else None),
        bfd_multiplier=(host.bfd.multiplier
                        if host.bfd.multiplier != FRR_DEFAULT_BFD_MULTIPLIER else None),
    )
    return {"frr.conf": RenderedFile(host.paths.frr_conf, text, "frr"), **_render_nftables(host)}


#: VyOS versions whose `set` syntax the templates write (the seed's; 1.3 moved BGP settings
#: under address-family and 1.4 to `system-as`).
VYOS_SUPPORTED = ((1, 1), (1, 2))


def _render_router_vyos(host: HostModel, design: Design) -> dict[str, RenderedFile]:
    version = version_tuple(host.os_version)
    if version[:2] not in VYOS_SUPPORTED:
        raise TemplateError(
            f"{host.name}: os_version={host.os_version!r}: the VyOS templates write the syntax of "
            "VyOS 1.1 and 1.2 only")
    if host.bfd.enabled and version[:2] < (1, 2):
        raise TemplateError(
            f"{host.name}: bfd.enabled=True: VyOS {host.os_version} has no BFD (1.2+ has)")
    neighbors = neighbor_views(host, design, frr_policy=False)
    policies = Policies()
    for name in sorted(host.route_maps):
        _model_route_map(name, host.route_maps[name], policies)
    text = render_template(
        f"vyos/{host.role}.vyos.j2", host,
        design=design, neighbors=neighbors, policies=policies, timers=timers_set(host),
        layer4_hashing=vyos_layer4_hashing(host), version=version,
    )
    return {"config.vyos": RenderedFile(None, text, None)}


#: Drain phases a server's BIRD config is rendered in (nornir_anycast.drain.runner).
DRAIN_PHASES = ("lowered", "withdrawn")


def _render_healthchecker(host: HostModel) -> dict[str, RenderedFile]:
    """anycast-healthchecker's files: its settings, one check per prefix, the initial BIRD
    include (created only when missing) and, per service manager, a unit or init script."""
    if not healthcheck.enabled(host):
        return {}
    paths = host.paths
    context: dict[str, Any] = {
        "binary": healthcheck.binary(host), "reconfigure": healthcheck.reconfigure_command(host),
        "pid_dir": healthcheck.pid_dir(host),
        "log_dir": paths.healthchecker_log.rsplit("/", 1)[0] or "/",
    }
    files = {
        "anycast-healthchecker.conf": RenderedFile(
            paths.healthchecker_conf,
            render_template("healthchecker/daemon.conf.j2", host, **context)),
        "anycast-prefixes.conf": RenderedFile(
            paths.healthchecker_include, render_template("healthchecker/include.conf.j2", host),
            create_only=True),
    }
    for check in healthcheck.prefix_checks(host):
        files[f"{healthcheck.SERVICE_DIR}/{check.name}.conf"] = RenderedFile(
            healthcheck.service_file(host, check),
            render_template("healthchecker/service.conf.j2", host, check=check))
    if host.service_manager == "systemd":
        files["anycast-healthchecker.service"] = RenderedFile(
            healthcheck.SYSTEMD_UNIT,
            render_template("healthchecker/systemd.service.j2", host, **context))
    elif host.service_manager == "openrc":
        files["anycast-healthchecker.openrc"] = RenderedFile(
            healthcheck.OPENRC_SCRIPT, render_template("healthchecker/openrc.j2", host, **context),
            mode="0755")
    return files


def _render_server(host: HostModel, design: Design,
                   drain: str | None = None) -> dict[str, RenderedFile]:
    if drain is not None and drain not in DRAIN_PHASES:
        raise TemplateError(f"{host.name}: drain phase {drain!r}: must be one of "
                            f"{', '.join(DRAIN_PHASES)}")
    neighbors = neighbor_views(host, design, frr_policy=False)
    bfd_interfaces = sorted({n.interface for n in neighbors if n.interface is not None})
    checked = healthcheck.enabled(host)
    bird = render_template(
        f"bird/bird{host.bird_version}.conf.j2", host,
        design=design, neighbors=neighbors, timers=timers_set(host),
        bfd_interfaces=bfd_interfaces, healthcheck=checked, drain=drain,
    )
    includes: tuple[tuple[str, str], ...] = ()
    if checked:
        includes = ((host.paths.healthchecker_include,
                     render_template("healthchecker/include.conf.j2", host)),)
    files = {
        "bird.conf": RenderedFile(host.paths.bird_conf, bird,
                                  "bird1" if host.bird_version == 1 else "bird2",
                                  includes=includes),
        "nginx-site.conf": RenderedFile(host.paths.nginx_site,
                                        render_template("nginx/site.conf.j2", host), "nginx"),
        "page": RenderedFile(host.paths.web_root.rstrip("/") + "/file",
                             render_template("nginx/page.j2", host), None),
    }
    files.update(_render_interfaces(host))
    files.update(_render_healthchecker(host))
    return files


def _render_interfaces(host: HostModel) -> dict[str, RenderedFile]:
    """ifupdown's /etc/network/interfaces, for hosts outside the lab (the lab sets addresses)."""
    if host.lab:
        return {}
    text = render_template("linux/interfaces.j2", host)
    return {"interfaces": RenderedFile(host.paths.interfaces_file, text, None)}


def render_host(host: HostModel, design: Design, *,
                drain: str | None = None) -> dict[str, RenderedFile]:
    """Every file one host needs, by logical name (sorted), rendered from the typed model.

    `drain` (servers only): the drain phase to render BIRD's export in ("lowered",
    "withdrawn"; None: announcing), as read from the server's drain marker.

    Raises:
        TemplateError: no template for this platform and role, or a template failed
            (the message names the host and the template).
        InventoryError: a BGP password's environment variable is not set.
    """
    if host.platform == "frr" and host.role in ("isp", "edge"):
        files = _render_router_frr(host, design)
    elif host.platform == "vyos" and host.role in ("isp", "edge"):
        files = _render_router_vyos(host, design)
    elif host.platform == "linux" and host.role == "server":
        files = _render_server(host, design, drain)
    elif host.platform == "linux" and host.role == "client":
        files = _render_interfaces(host)
    else:
        raise TemplateError(
            f"{host.name}: no templates for platform {host.platform!r} with role {host.role!r}")
    return dict(sorted(files.items()))


def render_design(design: Design, names: list[str] | None = None
                  ) -> Mapping[str, dict[str, RenderedFile]]:
    """`render_host` for each host of the design (or of `names`), by host name."""
    selected = names if names is not None else sorted(design.hosts)
    return {n: render_host(design.hosts[n], design) for n in selected}
