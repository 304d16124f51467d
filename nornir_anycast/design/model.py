"""The typed model of an anycast design, built from a Nornir inventory.

Inventory keys (host `data`, inherited from groups and defaults the Nornir way, top level only)
map one to one onto the fields below; docs/your-network.md "Inventory keys" documents them for
users.
`build_design()` turns a Nornir inventory into a `Design`; `nornir_anycast.design.validation`
checks it across hosts. Nothing here touches a device.
"""

from __future__ import annotations

import ipaddress
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Role = Literal["isp", "edge", "server", "client"]
Platform = Literal["frr", "vyos", "linux"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Interface(_Strict):
    """A data-plane interface: `addresses` are address/length (`172.16.42.3/31`,
    `fd00:12:1::1/64`) or `dhcp`.

    `gateway` is the IPv4 default route's next hop, `gateway6` the IPv6 one (docs/ipv6.md): one
    address (a single edge), or a list of them (a server of a site with several edges: one
    address per edge). With several, the server's BIRD owns the default route (a multipath
    static route, a BFD session per next hop, exported to the kernel: docs/sites.md) and
    ifupdown sets none.
    """

    name: str
    addresses: list[str] = Field(default_factory=list)
    gateway: str | list[str] | None = None
    gateway6: str | list[str] | None = None
    description: str | None = None

    def interfaces(self) -> list[ipaddress.IPv4Interface | ipaddress.IPv6Interface]:
        """The static addresses as ip_interface objects (`dhcp` left out)."""
        return [ipaddress.ip_interface(a) for a in self.addresses if a != "dhcp"]

    @field_validator("gateway", "gateway6", mode="before")
    @classmethod
    def _gateway_kind(cls, value: object) -> object:
        """One error at `gateway` for a wrong kind (not pydantic's one per union member)."""
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return value
        raise ValueError("must be an address, or a list of addresses (quote them in YAML)")

    def gateways(self) -> list[str]:
        """`gateway` as a list (empty when unset)."""
        if self.gateway is None:
            return []
        return [self.gateway] if isinstance(self.gateway, str) else list(self.gateway)

    @property
    def single_gateway(self) -> str | None:
        """The one gateway ifupdown and `ip route` set (None when unset or several: with
        several, BIRD installs the default route)."""
        gws = self.gateways()
        return gws[0] if len(gws) == 1 else None

    def gateways6(self) -> list[str]:
        """`gateway6` as a list (empty when unset)."""
        if self.gateway6 is None:
            return []
        return [self.gateway6] if isinstance(self.gateway6, str) else list(self.gateway6)

    @property
    def single_gateway6(self) -> str | None:
        """The one IPv6 gateway ifupdown and `ip -6 route` set (None when unset or several:
        with several, BIRD installs the IPv6 default route)."""
        gws = self.gateways6()
        return gws[0] if len(gws) == 1 else None


class StaticRoute(_Strict):
    prefix: str
    next_hop: str | None = None
    blackhole: bool = False


class Neighbor(_Strict):
    address: str
    remote_as: int
    update_source: str | None = None
    description: str | None = None
    route_map_in: str | None = None
    route_map_out: str | None = None
    password_env: str | None = None  # TCP-MD5 secret: the NAME of an environment variable
    password_file: str | None = None  # ... or a file whose first line is the secret
    ttl_security: bool = False


class Bgp(_Strict):
    """BGP of a host. Issue 13's additions (docs/sites.md):

    - `maximum_paths`: eBGP multipath (FRR `maximum-paths N`), on an upstream router peering
      with several edges of one site;
    - `graceful_restart` / `graceful_restart_time`: FRR `bgp graceful-restart` (+ `neighbor X
      bfd check-control-plane-failure` on BFD neighbours, so a BIRD restart's BFD down keeps
      the stale routes) and `restart-time`; BIRD `graceful restart on; graceful restart time N;`;
    - `advertisement_interval`: FRR `neighbor X advertisement-interval N` on eBGP neighbours
      (0: a withdrawal goes on at once, without FRR's 30 s eBGP default).
    """

    neighbors: list[Neighbor] = Field(default_factory=list)
    networks: list[str] = Field(default_factory=list)
    maximum_paths_ibgp: int | None = None
    maximum_paths: int | None = None
    maximum_prefix: int | None = None
    graceful_restart: bool = False
    graceful_restart_time: int = 120
    advertisement_interval: int | None = None


class BgpTimers(_Strict):
    keepalive: int = 60
    hold: int = 180
    connect_retry: int = 120
    error_wait: tuple[int, int] = (60, 300)
    # BIRD only: seconds from protocol start to the first connect attempt (BIRD's default 5).
    connect_delay: int = 5


class Bfd(_Strict):
    enabled: bool = False
    interval_ms: int = 300
    multiplier: int = 3


class Resilient(_Strict):
    """Resilient forwarding on a Linux (FRR) edge (docs/resilient.md): each anycast prefix goes
    through a kernel resilient nexthop group whose members follow BGP's next hops, so a server
    leaving or joining moves only its own share of the flows. The group's parameters are the
    kernel's (`ip nexthop ... type resilient buckets B idle_timer I unbalanced_timer U`, timers
    in seconds); VyOS edges have no such group (validation says so)."""

    enabled: bool = False
    buckets: int = 128
    idle_timer: float = 120
    unbalanced_timer: float = 0


class SourceNat(_Strict):
    rule: int
    outbound_interface: str
    source_address: str
    translation: str = "masquerade"


class DestinationNat(_Strict):
    rule: int
    description: str | None = None
    destination_address: str
    destination_port: int
    inbound_interface: str = "any"
    protocol: Literal["tcp", "udp"] = "tcp"
    translation_address: str


class Nat(_Strict):
    source: list[SourceNat] = Field(default_factory=list)
    destination: list[DestinationNat] = Field(default_factory=list)


class DnsForwarding(_Strict):
    """DNS forwarding on a VyOS router. `listen_on` names interfaces (VyOS 1.1/1.2's
    `listen-on`); VyOS 1.2+ also takes `listen_addresses` and `allow_from` (networks allowed to
    query), which VyOS 1.4+ requires: when unset there, both come from the `listen_on`
    interfaces (nornir_anycast.design.vyos)."""

    cache_size: int = 0
    listen_on: list[str] = Field(default_factory=list)
    listen_addresses: list[str] = Field(default_factory=list)
    allow_from: list[str] = Field(default_factory=list)
    name_servers: list[str] = Field(default_factory=list)


class RouteMapRule(_Strict):
    rule: int
    action: Literal["permit", "deny"]
    match_prefix: str | None = None


class PrefixHealthCheck(_Strict):
    """Per-prefix overrides of the server's `healthcheck` (unset fields: the server's value)."""

    url: str | None = None
    command: str | None = None
    interval: float | None = None
    timeout: float | None = None
    rise: int | None = None
    fall: int | None = None
    disabled: bool | None = None
    on_disabled: Literal["withdraw", "advertise"] | None = None


class AnycastPrefix(_Strict):
    """One anycast service prefix a server announces (a host route)."""

    prefix: str
    healthcheck: PrefixHealthCheck | None = None


class HealthCheck(_Strict):
    """anycast-healthchecker on a server: announce each anycast prefix only while its check
    passes (nornir_anycast.design.healthcheck; docs/design.md).

    `command` (exit 0 = healthy) wins over `url` (an HTTP GET that must answer 2xx); with
    neither, the check is `GET http://<anycast address>/file` (the page nginx serves).
    `binary` is the program's path on the server; a relative path is allowed for hosts of the
    namespace lab only (`service_manager: lab`) and means the project root (they share this
    machine's filesystem).
    """

    enabled: bool = False
    binary: str = "/usr/local/bin/anycast-healthchecker"
    url: str | None = None
    command: str | None = None
    interval: float = 10.0  # anycast-healthchecker's defaults
    timeout: float = 2.0
    rise: int = 2
    fall: int = 2
    disabled: bool = False
    on_disabled: Literal["withdraw", "advertise"] = "withdraw"
    # Always in the prefix set (BIRD refuses an empty set); must be used nowhere.
    dummy_prefix: str = "10.189.200.255/32"
    variable: str = "ACAST_PS_ADVERTISE"
    # The IPv6 side (servers with /128 anycast prefixes): its own include
    # (`paths.healthchecker_include6`), prefix set and dummy prefix (anycast-healthchecker's
    # `bird6_variable` and `dummy_ip6_prefix`, their defaults), read by the same BIRD 2 daemon.
    dummy_prefix6: str = "2001:db8::1/128"
    variable6: str = "ACAST6_PS_ADVERTISE"
    loglevel: Literal["debug", "info", "warning", "error", "critical"] = "info"
    # Withdraw every anycast prefix the moment nginx stops or its master process exits, without
    # waiting for `fall` failed checks: a systemd unit bound to nginx.service (service_manager
    # systemd) or a watcher process (lab). The polling above stays the fallback (a hung nginx).
    # No event path under openrc / none (design/healthcheck.watched).
    watch: bool = True


class Paths(_Strict):
    """Where files live on a host; defaults follow Debian, the seed's Alpine sets its own."""

    bird_conf: str = "/etc/bird/bird.conf"
    bird_ctl: str = "/run/bird/bird.ctl"
    frr_conf: str = "/etc/frr/frr.conf"
    nginx_site: str = "/etc/nginx/conf.d/anycast.conf"
    web_root: str = "/var/www/anycast"
    interfaces_file: str = "/etc/network/interfaces"
    # What deploy sets live with sysctl, kept for the next boot (hosts with a service manager).
    sysctl_conf: str = "/etc/sysctl.d/90-nornir-anycast.conf"
    # Which FRR daemons the service manager starts (FRR routers with a service manager).
    frr_daemons: str = "/etc/frr/daemons"
    # Our own nftables table (NAT on Linux routers); Debian's /etc/nftables.conf does not load it.
    nftables_conf: str = "/etc/nftables.d/nornir-anycast.nft"
    # Files that must not exist for our site to be nginx's default server (Debian's own
    # default site also claims `default_server` on port 80). Deploy moves them aside.
    nginx_disable: list[str] = Field(
        default_factory=lambda: ["/etc/nginx/sites-enabled/default"])
    # anycast-healthchecker: its config, one file per prefix, the BIRD include it rewrites
    # (the prefix set `define`), its pid file and log.
    healthchecker_conf: str = "/etc/anycast-healthchecker.conf"
    healthchecker_dir: str = "/etc/anycast-healthchecker.d"
    healthchecker_include: str = "/var/lib/anycast-healthchecker/anycast-prefixes.conf"
    # ... and its IPv6 include (anycast-healthchecker's `bird6_conf`, its default path).
    healthchecker_include6: str = "/var/lib/anycast-healthchecker/6/anycast-prefixes.conf"
    healthchecker_pid: str = "/run/anycast-healthchecker/anycast-healthchecker.pid"
    healthchecker_log: str = "/var/log/anycast-healthchecker/anycast-healthchecker.log"
    # The event path (healthcheck.watch): nginx's pid file (the watcher follows that process),
    # the BIRD include inside `protocol static static_bgp` that says `disabled yes;` while
    # nginx is down (so that any `birdc configure` keeps it disabled), and the lab's watcher:
    # its script, settings, pid file and log.
    nginx_pid: str = "/run/nginx.pid"
    service_state: str = "/var/lib/nornir-anycast/nginx-state.conf"
    service_watch: str = "/usr/local/lib/nornir-anycast/service_watch.py"
    service_watch_conf: str = "/etc/nornir-anycast/service-watch.json"
    service_watch_pid: str = "/run/nornir-anycast/service-watch.pid"
    service_watch_log: str = "/var/log/nornir-anycast/service-watch.log"
    # Present while the server is drained (`python tasks.py drain HOST`); deploy reads it.
    drain_marker: str = "/etc/bird/nornir-anycast-drained"


class HostModel(_Strict):
    """One inventory host, typed. Field names are the inventory's data keys."""

    name: str
    hostname: str | None = None
    platform: Platform
    role: Role
    lab: bool = False
    # The lab only: the image `lab up` boots this host from (a Debian 13 systemd container,
    # nornir_anycast.lab.images); unset: a namespace running this machine's own binaries.
    lab_image: str | None = None
    os: Literal["debian", "alpine", "vyos"] | None = None
    os_version: str | None = None
    service_manager: Literal["systemd", "openrc", "lab", "none"] = "systemd"
    # How the SSH user runs what needs root: it is root, or every privileged command and file
    # write goes through `sudo -n` (nornir_anycast.device.sudo). When the host's sudo asks for a
    # password, it comes from an environment variable or a file, like every other secret.
    privilege: Literal["root", "sudo"] = "root"
    sudo_password_env: str | None = None  # the NAME of an environment variable
    sudo_password_file: str | None = None  # ... or a file whose first line is the password
    bird_version: Literal[1, 2, 3] = 2
    # The FRR release of a Linux router (`8.4`, `10.3`); unset: Debian 13's 10.3 on an
    # `os: debian` host with `os_version` 13, else Debian 12's 8.4 (render/frr.frr_release).
    frr_version: str | None = Field(default=None, pattern=r"^\d+(?:\.\d+)*$")
    asn: int | None = None
    router_id: str | None = None
    # Sites (docs/sites.md): the site of an edge, server, client or upstream router (an
    # upstream's site is the site whose edges it serves); unset everywhere = one implicit site.
    # `site_standby` (edges; all edges of a site agree): the site's anycast prefixes go to the
    # upstreams with the edge's AS prepended `site_prepend` more times, so they prefer any
    # other site.
    site: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9-]*$")
    site_standby: bool = False
    site_prepend: int = 3
    interfaces: list[Interface] = Field(default_factory=list)
    loopback: list[str] = Field(default_factory=list)
    static_routes: list[StaticRoute] = Field(default_factory=list)
    bgp: Bgp = Field(default_factory=Bgp)
    bgp_timers: BgpTimers = Field(default_factory=BgpTimers)
    bfd: Bfd = Field(default_factory=Bfd)
    resilient: Resilient = Field(default_factory=Resilient)
    anycast: list[AnycastPrefix] = Field(default_factory=list)
    local_pref: int = 100
    healthcheck: HealthCheck = Field(default_factory=HealthCheck)
    nat: Nat = Field(default_factory=Nat)
    dns_forwarding: DnsForwarding | None = None
    route_maps: dict[str, list[RouteMapRule]] = Field(default_factory=dict)
    multipath_layer4_hashing: bool | None = None
    paths: Paths = Field(default_factory=Paths)
    page: str | None = None  # content of the page the client fetches; default: the host name

    @field_validator("anycast", mode="before")
    @classmethod
    def _anycast_shorthand(cls, value: object) -> object:
        """Accept `anycast: [10.13.13.1/32]` as well as `anycast: [{prefix: ...}]`."""
        if isinstance(value, list):
            return [{"prefix": v} if isinstance(v, str) else v for v in value]
        return value

    def addresses(self) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
        """Every static interface address this host owns (not the loopback anycast ones)."""
        return [i.ip for itf in self.interfaces for i in itf.interfaces()]

    @property
    def page_text(self) -> str:
        return self.page if self.page is not None else self.name


class ServerPath(_Strict):
    """One server's announcement of an anycast prefix, as the edge should see it."""

    host: str
    next_hop: str
    local_pref: int


class AnycastService(_Strict):
    """An anycast prefix and what the edge should do with it."""

    prefix: str
    edge: str
    announcers: list[ServerPath]
    ecmp: list[ServerPath]  # the best preference group, capped by maximum-paths
    backups: list[ServerPath]  # valid paths that should not carry traffic
    # Servers drained on purpose (`python tasks.py drain`): they announce nothing.
    drained: list[ServerPath] = Field(default_factory=list)


class UpstreamRoute(_Strict):
    """What one upstream router (role isp) should do with one anycast prefix: which site it
    should prefer and where it should forward (nornir_anycast.design.ecmp.derive_upstream_routes,
    docs/sites.md).

    Attributes:
        prefix, upstream: the anycast prefix and the upstream router's name.
        sites: the preferred site(s): whose edges originate the shortest AS path (standby
            sites prepended); several only on a tie; empty when nobody announces the prefix.
        as_path_length: the length of that best AS path as the upstream sees it (0: none).
        via: "edges" (its own neighbours, the edges of the preferred site), "upstreams" (the
            neighbouring upstream router(s) leading to it), or "none".
        candidates: every neighbour address with a best path (edges or upstreams).
        next_hops: the neighbour addresses it should forward to: the edges' multipath set,
            capped by `bgp.maximum_paths` (unset: FRR's build limit, every equal path); or the
            one upstream neighbour (when several tie, `router_chooses`).
        router_chooses: several candidates with different AS paths tie (no multipath between
            them): the router picks one (`next_hops` holds them all then).
    """

    prefix: str
    upstream: str
    sites: list[str | None]
    as_path_length: int
    via: Literal["edges", "upstreams", "none"]
    candidates: list[str]
    next_hops: list[str]
    router_chooses: bool = False


class Design(_Strict):
    """The whole design: every host, plus the anycast services derived from them."""

    hosts: dict[str, HostModel]
    services: list[AnycastService]

    def by_role(self, role: Role) -> list[HostModel]:
        return [h for h in self.hosts.values() if h.role == role]

    def owner_of(self, address: str) -> HostModel | None:
        """The host that owns `address` on one of its interfaces, if any."""
        ip = ipaddress.ip_address(address)
        for h in self.hosts.values():
            if ip in h.addresses():
                return h
        return None
