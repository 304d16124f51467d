#!/usr/bin/python3
"""Send each anycast prefix through a kernel resilient nexthop group that follows zebra.

Runs on a Linux (FRR) edge as `/usr/bin/python3 resilient_agent.py CONFIG.json`, the standard
library only (pyroute2, Debian 12's 0.7.2 and Debian 13's 0.7.7 alike, knows neither nexthop
objects nor RTA_NH_ID: the few rtnetlink messages needed are packed and parsed here).
`resilient_agent.py --cleanup CONFIG.json` removes everything the agent owns and exits (the
systemd unit's ExecStopPost, the lab wrapper's last step; docs/resilient.md).

For every configured prefix the agent follows zebra's route for exactly that prefix in the main
table (initial dump, then RTM_NEWROUTE/RTM_DELROUTE and nexthop events; all three ways zebra
states a multipath route: RTA_MULTIPATH, RTA_NH_ID of a group, or both) and keeps, inside its
own nexthop id range:

- one nexthop object per next hop (`ip nexthop add id M via GW dev DEV`), the SAME object for
  as long as that next hop stays: a resilient group keeps its buckets per member object, so a
  surviving next hop must keep its id;
- one resilient group per prefix (`ip nexthop replace id G group M1/M2/... type resilient
  buckets B idle_timer I unbalanced_timer U`), its members exactly zebra's next hops, replaced in
  place at every change (only the leaving member's buckets move);
- the route `PREFIX nhid G proto kernel` in its own table (zebra ignores that protocol: see
  RTPROT_KERNEL) and the rule `to PREFIX lookup TABLE` (priority just below the main table's
  32766).

When zebra has no route for a prefix, the agent deletes that prefix's group and route: the rule
then finds nothing in its table and the lookup goes on to the main table (fail open). SIGTERM and
SIGINT remove everything the agent owns before it exits; SIGHUP re-reads CONFIG. After SIGKILL
the objects stay (members no longer followed) until `--cleanup` runs or the agent starts again
(it adopts what it finds in its range and corrects it).

CONFIG (JSON) holds:

- `prefixes`: the anycast prefixes (IPv4 or IPv6, e.g. "10.13.13.1/32");
- `table` (32000) and `rule_priority` (32000): the agent's routing table and its rules' priority;
- `protocol` (240): the rtnetlink protocol of its nexthop objects and rules (not one of FRR's
  186-199, so zebra treats them as somebody else's; the table's route is `proto kernel`);
- `nhid_min`, `nhid_max` (0x33000000 .. +999 = 855638016..855639015): its nexthop ids, in a
  range zebra ignores (ZEBRA_IGNORED_BITS): zebra's own ids stay below 2**28, and EVPN's L2
  ids have exactly one type bit set, so nothing of zebra's is ever touched and zebra never
  touches these;
- `buckets` (128), `idle_timer` (120), `unbalanced_timer` (0): the resilient group's parameters
  (seconds; `ip nexthop`'s meaning);
- `route_protocols` ([186]): the main-table routes to follow (186 = zebra's BGP routes);
- `own_pidfile`: this agent's pid file (optional).
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import select
import signal
import socket
import struct
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

# ---------------------------------------------------------------- rtnetlink constants
RTM_NEWROUTE, RTM_DELROUTE, RTM_GETROUTE = 24, 25, 26
RTM_NEWRULE, RTM_DELRULE, RTM_GETRULE = 32, 33, 34
RTM_NEWNEXTHOP, RTM_DELNEXTHOP, RTM_GETNEXTHOP = 104, 105, 106
NLMSG_NOOP, NLMSG_ERROR, NLMSG_DONE, NLMSG_OVERRUN = 1, 2, 3, 4
NLM_F_REQUEST, NLM_F_MULTI, NLM_F_ACK = 0x1, 0x2, 0x4
NLM_F_REPLACE, NLM_F_EXCL, NLM_F_CREATE, NLM_F_DUMP = 0x100, 0x200, 0x400, 0x300
RTA_DST, RTA_OIF, RTA_GATEWAY, RTA_PRIORITY = 1, 4, 5, 6
RTA_MULTIPATH, RTA_TABLE, RTA_VIA, RTA_NH_ID = 9, 15, 18, 30
NHA_ID, NHA_GROUP, NHA_GROUP_TYPE, NHA_BLACKHOLE, NHA_OIF, NHA_GATEWAY = 1, 2, 3, 4, 5, 6
NHA_FDB, NHA_RES_GROUP = 11, 12
NHA_RES_GROUP_BUCKETS, NHA_RES_GROUP_IDLE_TIMER, NHA_RES_GROUP_UNBALANCED_TIMER = 1, 2, 3
NEXTHOP_GRP_TYPE_MPATH, NEXTHOP_GRP_TYPE_RES = 0, 1
FRA_DST, FRA_PRIORITY, FRA_TABLE, FRA_PROTOCOL = 1, 6, 15, 21
FR_ACT_TO_TBL = 1
RTN_UNICAST = 1
#: The protocol of the agent's routes in its table. zebra ignores routes of protocol kernel
#: (rt_netlink.c: `if (rtm->rtm_protocol == RTPROT_KERNEL) return 0;`); a route of any other
#: protocol there becomes a kernel route in zebra's RIB that holds a reference on the group,
#: and zebra then answers every `ip nexthop replace` (and delete) of the group with "Kernel
#: updated a nexthop group ... that we are still using for a route, sending it back down":
#: it re-installs its old copy (seen on the lab: deleted objects came back).
RTPROT_KERNEL = 2
RT_TABLE_MAIN, RT_TABLE_COMPAT = 254, 252
RT_SCOPE_UNIVERSE, RT_SCOPE_LINK = 0, 253
RTNH_F_DEAD, RTNH_F_ONLINK, RTNH_F_LINKDOWN = 0x1, 0x4, 0x10
NLA_F_NESTED, NLA_TYPE_MASK = 0x8000, 0x3FFF
RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE, RTNLGRP_NEXTHOP = 7, 11, 32
SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, NETLINK_GET_STRICT_CHK = 270, 1, 12
USER_HZ = 100  # clock_t of the netlink API (idle_timer, unbalanced_timer)

_NLMSGHDR = struct.Struct("=IHHII")
_RTMSG = struct.Struct("=BBBBBBBBI")  # family dst_len src_len tos table protocol scope type flags
_NHMSG = struct.Struct("=BBBBI")  # family scope protocol resvd flags
_RTNEXTHOP = struct.Struct("=HBBi")  # len flags hops ifindex
_NH_GRP = struct.Struct("=IBBH")  # id weight-1 resvd1 resvd2
_FAMILY_LEN: dict[int, int] = {int(socket.AF_INET): 4, int(socket.AF_INET6): 16}

DEFAULTS: dict[str, Any] = {
    "table": 32000, "rule_priority": 32000, "protocol": 240,
    "nhid_min": 0x33000000, "nhid_max": 0x33000000 + 999,
    "buckets": 128, "idle_timer": 120, "unbalanced_timer": 0,
    "route_protocols": [186], "own_pidfile": None,
}


#: zebra ignores nexthop objects whose id has an EVPN L2 type bit set (rt_netlink.c
#: netlink_nexthop_change: `if (zebra_evpn_mh_is_fdb_nh(id)) ... just ignore it`; the bits are
#: 1<<24 / 2<<24 up to FRR 8.x and sit at bit 28 / 29 later: ids with all four set are ignored
#: by both). Any other id is learned by zebra, which then (seen with FRR 8.4) reuses the
#: agent's member objects for its own routes when their next hop matches, and re-installs them
#: whenever the agent deletes one ("Kernel deleted a nexthop group ... that we are still using
#: for a route, sending it back down"): an endless delete/re-install loop.
ZEBRA_IGNORED_BITS = 0x33000000


def zebra_ignores(lo: int, hi: int) -> bool:
    """True when every id in lo..hi carries ZEBRA_IGNORED_BITS (same top byte at both ends)."""
    return (lo & ZEBRA_IGNORED_BITS == ZEBRA_IGNORED_BITS and hi >> 24 == lo >> 24
            and hi >= lo)


def log(message: str) -> None:
    """One line on stdout, with milliseconds (the lab's start wrapper sends it to the log)."""
    now = time.time()
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(now))
    print(f"{stamp}.{int(now * 1000) % 1000:03d} {message}", flush=True)


# ---------------------------------------------------------------- configuration
@dataclass(frozen=True)
class Config:
    """The agent's settings (CONFIG.json with DEFAULTS filled in)."""

    prefixes: tuple[str, ...]
    table: int = 32000
    rule_priority: int = 32000
    protocol: int = 240
    nhid_min: int = 0x33000000
    nhid_max: int = 0x33000000 + 999
    buckets: int = 128
    idle_timer: float = 120
    unbalanced_timer: float = 0
    route_protocols: tuple[int, ...] = (186,)
    own_pidfile: str | None = None

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Config:
        """Check and normalise CONFIG; ValueError names the bad field and value."""
        unknown = set(raw) - set(DEFAULTS) - {"prefixes"}
        if unknown:
            raise ValueError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        merged = {**DEFAULTS, **raw}
        prefixes = merged.get("prefixes")
        if not isinstance(prefixes, list) or not prefixes:
            raise ValueError(f"prefixes: a non-empty list is needed, got {prefixes!r}")
        nets = []
        for p in prefixes:
            try:
                nets.append(str(ipaddress.ip_network(str(p), strict=True)))
            except ValueError as exc:
                raise ValueError(f"prefixes: {p!r} is not a prefix ({exc})") from None
        conf = cls(prefixes=tuple(dict.fromkeys(nets)),
                   table=int(merged["table"]), rule_priority=int(merged["rule_priority"]),
                   protocol=int(merged["protocol"]), nhid_min=int(merged["nhid_min"]),
                   nhid_max=int(merged["nhid_max"]), buckets=int(merged["buckets"]),
                   idle_timer=float(merged["idle_timer"]),
                   unbalanced_timer=float(merged["unbalanced_timer"]),
                   route_protocols=tuple(int(x) for x in merged["route_protocols"]),
                   own_pidfile=merged["own_pidfile"])
        checks = [
            ("table", conf.table, 1 <= conf.table < 2**32
             and conf.table not in (0, 253, 254, 255)),
            ("rule_priority", conf.rule_priority, 0 < conf.rule_priority < 32766),
            ("protocol", conf.protocol, 0 < conf.protocol < 256
             and conf.protocol not in (2, 11, *range(186, 200))),
            ("nhid_min", conf.nhid_min, 0 < conf.nhid_min <= conf.nhid_max < 2**32),
            ("buckets", conf.buckets, 1 <= conf.buckets <= 65535),
            ("idle_timer", conf.idle_timer, 0 <= conf.idle_timer * USER_HZ < 2**32),
            ("unbalanced_timer", conf.unbalanced_timer,
             0 <= conf.unbalanced_timer * USER_HZ < 2**32),
        ]
        for name, value, ok in checks:
            if not ok:
                raise ValueError(f"{name}: {value!r} is out of range")
        if conf.nhid_max - conf.nhid_min + 1 < 2:
            raise ValueError("nhid_min..nhid_max: at least 2 ids are needed")
        if not zebra_ignores(conf.nhid_min, conf.nhid_max):
            raise ValueError(
                f"nhid_min..nhid_max: {conf.nhid_min}..{conf.nhid_max} is not a range zebra "
                f"ignores: both ends need bits {ZEBRA_IGNORED_BITS:#x} set and the same top "
                f"byte (e.g. {0x33000000}..{0x33000000 + 999})")
        return conf


# ---------------------------------------------------------------- netlink codec (pure)
def attrs(buf: bytes) -> Iterator[tuple[int, bytes]]:
    """The (type, payload) pairs of a run of netlink attributes (nested flag dropped)."""
    off = 0
    while off + 4 <= len(buf):
        length, kind = struct.unpack_from("=HH", buf, off)
        if length < 4:
            return
        yield kind & NLA_TYPE_MASK, buf[off + 4:off + length]
        off += (length + 3) & ~3


def attr(kind: int, payload: bytes, nested: bool = False) -> bytes:
    """One attribute, padded."""
    data = struct.pack("=HH", 4 + len(payload), kind | (NLA_F_NESTED if nested else 0))
    data += payload
    return data + b"\0" * (-len(data) % 4)


def messages(data: bytes) -> Iterator[tuple[int, int, int, bytes]]:
    """(type, flags, seq, body) of each netlink message in one datagram."""
    off = 0
    while off + _NLMSGHDR.size <= len(data):
        length, kind, flags, seq, _pid = _NLMSGHDR.unpack_from(data, off)
        if length < _NLMSGHDR.size:
            return
        yield kind, flags, seq, data[off + _NLMSGHDR.size:off + length]
        off += (length + 3) & ~3


def _u32(b: bytes) -> int:
    return int(struct.unpack_from("=I", b)[0])


def _addr(family: int, raw: bytes) -> str:
    return socket.inet_ntop(family, raw[:_FAMILY_LEN[family]])


@dataclass(frozen=True)
class Hop:
    """One next hop: where (gateway, family) and through which interface; `onlink` kept."""

    family: int
    gateway: str | None
    oif: int
    onlink: bool = False

    def text(self) -> str:
        via = f"via {self.gateway} " if self.gateway else ""
        return f"{via}dev #{self.oif}{' onlink' if self.onlink else ''}"


def _hop_key(item: tuple[Hop, int]) -> tuple[int, str, int, bool]:
    hop = item[0]
    return hop.family, hop.gateway or "", hop.oif, hop.onlink


@dataclass(frozen=True)
class Route:
    """A route message, reduced to what the agent needs."""

    family: int
    dst: str  # the prefix, "10.13.13.1/32"
    table: int
    protocol: int
    type: int
    priority: int = 0
    nhid: int | None = None
    hops: tuple[tuple[Hop, int], ...] = ()  # from RTA_MULTIPATH / RTA_GATEWAY: (hop, weight)


def decode_route(body: bytes) -> Route | None:
    """An RTM_NEWROUTE/RTM_DELROUTE body; None for families the agent ignores."""
    if len(body) < _RTMSG.size:
        return None
    family, dst_len, _src_len, _tos, table, proto, _scope, rtype, _flags = \
        _RTMSG.unpack_from(body)
    if family not in _FAMILY_LEN:
        return None
    dst = "0.0.0.0" if family == socket.AF_INET else "::"
    gateway: str | None = None
    oif = 0
    priority = 0
    nhid: int | None = None
    multipath: list[tuple[Hop, int]] = []
    onlink = bool(_flags & RTNH_F_ONLINK)
    for kind, payload in attrs(body[_RTMSG.size:]):
        if kind == RTA_DST:
            dst = _addr(family, payload)
        elif kind == RTA_TABLE:
            table = _u32(payload)
        elif kind == RTA_GATEWAY:
            gateway = _addr(family, payload)
        elif kind == RTA_OIF:
            oif = _u32(payload)
        elif kind == RTA_PRIORITY:
            priority = _u32(payload)
        elif kind == RTA_NH_ID:
            nhid = _u32(payload)
        elif kind == RTA_MULTIPATH:
            multipath = list(_decode_multipath(family, payload))
    hops: tuple[tuple[Hop, int], ...] = tuple(multipath)
    if not hops and (gateway or oif):
        hops = ((Hop(family, gateway, oif, onlink), 1),)
    return Route(family, f"{dst}/{dst_len}", table, proto, rtype, priority, nhid, hops)


def _decode_multipath(family: int, buf: bytes) -> Iterator[tuple[Hop, int]]:
    off = 0
    while off + _RTNEXTHOP.size <= len(buf):
        length, flags, hops, ifindex = _RTNEXTHOP.unpack_from(buf, off)
        if length < _RTNEXTHOP.size:
            return
        gateway = None
        gw_family = family
        for kind, payload in attrs(buf[off + _RTNEXTHOP.size:off + length]):
            if kind == RTA_GATEWAY:
                gateway = _addr(family, payload)
            elif kind == RTA_VIA and len(payload) >= 2:  # RFC 5549: IPv4 over an IPv6 hop
                gw_family = struct.unpack_from("=H", payload)[0]
                if gw_family in _FAMILY_LEN:
                    gateway = _addr(gw_family, payload[2:])
        if not flags & (RTNH_F_DEAD | RTNH_F_LINKDOWN):
            yield Hop(gw_family, gateway, ifindex, bool(flags & RTNH_F_ONLINK)), hops + 1
        off += (length + 3) & ~3


@dataclass(frozen=True)
class Nexthop:
    """A nexthop object (RTM_NEWNEXTHOP): a single hop, or a group of other objects."""

    id: int
    family: int
    protocol: int
    hop: Hop | None = None
    group: tuple[tuple[int, int], ...] = ()  # (member id, weight)
    group_type: int = NEXTHOP_GRP_TYPE_MPATH
    buckets: int = 0
    idle_timer: int = 0  # clock_t
    unbalanced_timer: int = 0  # clock_t
    blackhole: bool = False
    dead: bool = False  # carrier down / RTNH_F_DEAD


def decode_nexthop(body: bytes) -> Nexthop | None:
    """An RTM_NEWNEXTHOP/RTM_DELNEXTHOP body."""
    if len(body) < _NHMSG.size:
        return None
    family, _scope, proto, _resvd, flags = _NHMSG.unpack_from(body)
    nhid = 0
    gateway: str | None = None
    oif = 0
    group: list[tuple[int, int]] = []
    gtype = NEXTHOP_GRP_TYPE_MPATH
    res = {NHA_RES_GROUP_BUCKETS: 0, NHA_RES_GROUP_IDLE_TIMER: 0,
           NHA_RES_GROUP_UNBALANCED_TIMER: 0}
    blackhole = False
    for kind, payload in attrs(body[_NHMSG.size:]):
        if kind == NHA_ID:
            nhid = _u32(payload)
        elif kind == NHA_GATEWAY and family in _FAMILY_LEN:
            gateway = _addr(family, payload)
        elif kind == NHA_OIF:
            oif = _u32(payload)
        elif kind == NHA_BLACKHOLE:
            blackhole = True
        elif kind == NHA_GROUP:
            for i in range(0, len(payload) - _NH_GRP.size + 1, _NH_GRP.size):
                mid, weight, _r1, _r2 = _NH_GRP.unpack_from(payload, i)
                group.append((mid, weight + 1))
        elif kind == NHA_GROUP_TYPE:
            gtype = struct.unpack_from("=H", payload)[0]
        elif kind == NHA_RES_GROUP:
            for sub, value in attrs(payload):
                if sub == NHA_RES_GROUP_BUCKETS:
                    res[sub] = struct.unpack_from("=H", value)[0]
                elif sub in res:
                    res[sub] = _u32(value)
    hop = None
    if not group and not blackhole and (gateway or oif):
        hop = Hop(family, gateway, oif, bool(flags & RTNH_F_ONLINK))
    return Nexthop(nhid, family, proto, hop, tuple(group), gtype, res[NHA_RES_GROUP_BUCKETS],
                   res[NHA_RES_GROUP_IDLE_TIMER], res[NHA_RES_GROUP_UNBALANCED_TIMER],
                   blackhole, bool(flags & (RTNH_F_DEAD | RTNH_F_LINKDOWN)))


@dataclass(frozen=True)
class Rule:
    """A policy rule, reduced: family, destination prefix, table, priority, protocol."""

    family: int
    dst: str | None
    table: int
    priority: int
    protocol: int


def decode_rule(body: bytes) -> Rule | None:
    if len(body) < _RTMSG.size:
        return None
    family, dst_len, _s, _t, table, _r1, _r2, _action, _flags = _RTMSG.unpack_from(body)
    if family not in _FAMILY_LEN:
        return None
    dst = None
    priority = 0
    proto = 0
    for kind, payload in attrs(body[_RTMSG.size:]):
        if kind == FRA_DST:
            dst = f"{_addr(family, payload)}/{dst_len}"
        elif kind == FRA_TABLE:
            table = _u32(payload)
        elif kind == FRA_PRIORITY:
            priority = _u32(payload)
        elif kind == FRA_PROTOCOL:
            proto = payload[0]
    return Rule(family, dst, table, priority, proto)


# ---------------------------------------------------------------- desired state (pure)
def follows(route: Route, prefix: str, conf: Config) -> bool:
    """True when `route` is zebra's main-table route for exactly `prefix`."""
    return (route.table == RT_TABLE_MAIN and route.type == RTN_UNICAST
            and route.protocol in conf.route_protocols
            and route.dst == str(ipaddress.ip_network(prefix)))


def route_hops(route: Route | None,
               nexthops: dict[int, Nexthop]) -> tuple[tuple[Hop, int], ...]:
    """The next hops (with weights) a main-table route forwards to, sorted, live ones only.

    A route naming a nexthop object (RTA_NH_ID) is resolved through `nexthops` (zebra may
    change a group in place without a route message); its RTA_MULTIPATH copy (the kernel's
    compat mode) or RTA_GATEWAY is used when the object is unknown.
    """
    if route is None:
        return ()
    if route.nhid is not None and route.nhid in nexthops:
        top = nexthops[route.nhid]
        members = [(nexthops.get(mid), w) for mid, w in top.group] if top.group else [(top, 1)]
        found: dict[Hop, int] = {}
        for nh, weight in members:
            if nh is None or nh.hop is None or nh.dead or nh.blackhole:
                continue
            found[nh.hop] = found.get(nh.hop, 0) + weight
        return tuple(sorted(found.items(), key=_hop_key))
    merged: dict[Hop, int] = {}
    for hop, weight in route.hops:
        merged[hop] = merged.get(hop, 0) + weight
    return tuple(sorted(merged.items(), key=_hop_key))


Routes = dict[str, dict[tuple[int, int], Route]]


def note_route(conf: Config, routes: Routes, kind: int, r: Route) -> bool:
    """Record one main-table route message (RTM_NEWROUTE or RTM_DELROUTE) in `routes`
    (prefix -> (protocol, metric) -> route); True when it concerns a followed prefix."""
    for p in conf.prefixes:
        if follows(r, p, conf):
            key = (r.protocol, r.priority)
            if kind == RTM_NEWROUTE:
                routes.setdefault(p, {})[key] = r
            else:
                routes.setdefault(p, {}).pop(key, None)
            return True
    return False


def best_routes(conf: Config, routes: Routes) -> dict[str, Route | None]:
    """Prefix -> the route the kernel uses among those recorded (lowest metric), or None."""
    return {p: (min(routes[p].values(), key=lambda r: r.priority) if routes.get(p) else None)
            for p in conf.prefixes}


def watched_ids(routes: dict[str, Route | None], nexthops: dict[int, Nexthop]) -> set[int]:
    """The nexthop objects (and their members) the followed routes use: a message about one of
    them (zebra replacing a group in place) changes the desired state; others do not."""
    ids: set[int] = set()
    for r in routes.values():
        if r is not None and r.nhid is not None:
            ids.add(r.nhid)
            if r.nhid in nexthops:
                ids.update(m for m, _w in nexthops[r.nhid].group)
    return ids


def desired_state(conf: Config, routes: dict[str, Route | None],
                  nexthops: dict[int, Nexthop]) -> dict[str, tuple[tuple[Hop, int], ...]]:
    """Prefix -> the next hops its resilient group must have (empty: no route, fail open)."""
    return {p: route_hops(routes.get(p), nexthops) for p in conf.prefixes}


# ---------------------------------------------------------------- current state and plan
@dataclass
class Owned:
    """What the agent owns in the kernel now: nexthop objects in its range, routes in its
    table (prefix -> nhid), its rules (prefixes)."""

    nexthops: dict[int, Nexthop] = field(default_factory=dict)
    routes: dict[str, int | None] = field(default_factory=dict)
    rules: set[str] = field(default_factory=set)


def owned_state(conf: Config, nexthops: Iterable[Nexthop], table_routes: Iterable[Route],
                rules: Iterable[Rule]) -> Owned:
    """Pick the agent's objects out of kernel dumps."""
    mine = {nh.id: nh for nh in nexthops if conf.nhid_min <= nh.id <= conf.nhid_max}
    routes = {r.dst: r.nhid for r in table_routes
              if r.table == conf.table and r.protocol == RTPROT_KERNEL}
    own_rules = {r.dst for r in rules
                 if r.dst and r.table == conf.table and r.priority == conf.rule_priority
                 and r.protocol == conf.protocol}
    return Owned(mine, routes, own_rules)


@dataclass(frozen=True)
class Op:
    """One change to the kernel; `text` is how `ip` would say it."""

    kind: str  # member_add, group_set, route_set, route_del, group_del, member_del,
    #            rule_add, rule_del
    id: int = 0
    prefix: str = ""
    hop: Hop | None = None
    members: tuple[tuple[int, int], ...] = ()
    create: bool = False  # group_set: a new group (else replaced in place)

    def text(self, conf: Config) -> str:
        if self.kind == "member_add":
            assert self.hop is not None
            return f"ip nexthop add id {self.id} {self.hop.text()}"
        if self.kind == "group_set":
            group = "/".join(f"{m}" if w == 1 else f"{m},{w}" for m, w in self.members)
            return (f"ip nexthop {'add' if self.create else 'replace'} id {self.id} "
                    f"group {group} type resilient buckets {conf.buckets} "
                    f"idle_timer {conf.idle_timer:g} unbalanced_timer "
                    f"{conf.unbalanced_timer:g}")
        if self.kind == "route_set":
            return (f"ip route replace {self.prefix} nhid {self.id} table {conf.table} "
                    "proto kernel")
        if self.kind == "route_del":
            return f"ip route del {self.prefix} table {conf.table}"
        if self.kind in ("group_del", "member_del"):
            return f"ip nexthop del id {self.id}"
        verb = "add" if self.kind == "rule_add" else "del"
        return (f"ip rule {verb} to {self.prefix} lookup {conf.table} "
                f"priority {conf.rule_priority}")


def _group_matches(nh: Nexthop, members: tuple[tuple[int, int], ...], conf: Config) -> bool:
    return (nh.group_type == NEXTHOP_GRP_TYPE_RES and tuple(sorted(nh.group)) == members
            and nh.buckets == conf.buckets
            and nh.idle_timer == round(conf.idle_timer * USER_HZ)
            and nh.unbalanced_timer == round(conf.unbalanced_timer * USER_HZ))


def plan(conf: Config, desired: dict[str, tuple[tuple[Hop, int], ...]], owned: Owned,
         rules: bool = True) -> list[Op]:
    """The changes from `owned` to `desired`, in a safe order.

    New member objects first, then the groups (replaced in place, so surviving members keep
    their buckets), the table routes, and only then deletions (routes of prefixes without next
    hops, unused groups, unused members). A member object is reused for as long as its next hop
    stays. `rules=False` (cleanup) removes the agent's rules too; `desired` then is empty.
    """
    ops: list[Op] = []
    used_ids = set(owned.nexthops)
    members_by_hop: dict[Hop, int] = {}
    for nh in sorted(owned.nexthops.values(), key=lambda n: n.id):
        if nh.hop is not None and not nh.group and not nh.dead:
            members_by_hop.setdefault(nh.hop, nh.id)

    def allocate() -> int:
        for i in range(conf.nhid_min, conf.nhid_max + 1):
            if i not in used_ids:
                used_ids.add(i)
                return i
        raise RuntimeError(f"no free nexthop id in {conf.nhid_min}..{conf.nhid_max}")

    wanted_members: set[int] = set()
    wanted_groups: set[int] = set()
    group_ops: list[Op] = []
    route_ops: list[Op] = []
    for prefix in conf.prefixes:
        hops = desired.get(prefix, ())
        if not hops:
            continue
        entries = []
        for hop, weight in hops:
            if hop not in members_by_hop:
                members_by_hop[hop] = allocate()
                ops.append(Op("member_add", members_by_hop[hop], hop=hop))
            entries.append((members_by_hop[hop], min(max(weight, 1), 256)))
            wanted_members.add(members_by_hop[hop])
        members = tuple(sorted(entries))
        current = owned.routes.get(prefix)
        group = owned.nexthops.get(current) if current is not None else None
        if group is not None and group.group_type == NEXTHOP_GRP_TYPE_RES \
                and group.buckets == conf.buckets:
            gid = group.id
            if not _group_matches(group, members, conf):
                group_ops.append(Op("group_set", gid, prefix=prefix, members=members))
        else:
            gid = allocate()
            group_ops.append(Op("group_set", gid, prefix=prefix, members=members, create=True))
        wanted_groups.add(gid)
        if current != gid:
            route_ops.append(Op("route_set", gid, prefix=prefix))
    ops += group_ops + route_ops
    for prefix in sorted(owned.routes):
        if prefix not in conf.prefixes or not desired.get(prefix) or not rules:
            ops.append(Op("route_del", owned.routes[prefix] or 0, prefix=prefix))
    for nh in sorted(owned.nexthops.values(), key=lambda n: n.id):
        if nh.group and nh.id not in wanted_groups:
            ops.append(Op("group_del", nh.id))
    for nh in sorted(owned.nexthops.values(), key=lambda n: n.id):
        if not nh.group and nh.id not in wanted_members:
            ops.append(Op("member_del", nh.id))
    want_rules = set(conf.prefixes) if rules else set()
    ops += [Op("rule_add", prefix=p) for p in conf.prefixes if p in want_rules - owned.rules]
    ops += [Op("rule_del", prefix=p) for p in sorted(owned.rules - want_rules)]
    return ops


# ---------------------------------------------------------------- message builders (pure)
def _family_of(prefix: str) -> int:
    return socket.AF_INET6 if ipaddress.ip_network(prefix).version == 6 else socket.AF_INET


def encode(conf: Config, op: Op) -> tuple[int, int, bytes]:
    """(message type, flags, body) carrying `op`."""
    req = NLM_F_REQUEST | NLM_F_ACK
    if op.kind == "member_add":
        hop = op.hop
        assert hop is not None
        body = _NHMSG.pack(hop.family, 0, conf.protocol, 0, RTNH_F_ONLINK if hop.onlink else 0)
        body += attr(NHA_ID, struct.pack("=I", op.id)) + attr(NHA_OIF, struct.pack("=I", hop.oif))
        if hop.gateway:
            body += attr(NHA_GATEWAY, socket.inet_pton(hop.family, hop.gateway))
        return RTM_NEWNEXTHOP, req | NLM_F_CREATE | NLM_F_EXCL, body
    if op.kind == "group_set":
        body = _NHMSG.pack(socket.AF_UNSPEC, 0, conf.protocol, 0, 0)
        grp = b"".join(_NH_GRP.pack(m, w - 1, 0, 0) for m, w in op.members)
        res = (attr(NHA_RES_GROUP_BUCKETS, struct.pack("=H", conf.buckets))
               + attr(NHA_RES_GROUP_IDLE_TIMER,
                      struct.pack("=I", round(conf.idle_timer * USER_HZ)))
               + attr(NHA_RES_GROUP_UNBALANCED_TIMER,
                      struct.pack("=I", round(conf.unbalanced_timer * USER_HZ))))
        body += (attr(NHA_ID, struct.pack("=I", op.id)) + attr(NHA_GROUP, grp)
                 + attr(NHA_GROUP_TYPE, struct.pack("=H", NEXTHOP_GRP_TYPE_RES))
                 + attr(NHA_RES_GROUP, res, nested=True))
        flags = NLM_F_CREATE | (NLM_F_EXCL if op.create else NLM_F_REPLACE)
        return RTM_NEWNEXTHOP, req | flags, body
    if op.kind in ("group_del", "member_del"):
        body = _NHMSG.pack(socket.AF_UNSPEC, 0, 0, 0, 0) + attr(NHA_ID, struct.pack("=I", op.id))
        return RTM_DELNEXTHOP, req, body
    net = ipaddress.ip_network(op.prefix)
    family = _family_of(op.prefix)
    table_b = conf.table if conf.table < 256 else RT_TABLE_COMPAT
    if op.kind in ("route_set", "route_del"):
        new = op.kind == "route_set"
        body = _RTMSG.pack(family, net.prefixlen, 0, 0, table_b, RTPROT_KERNEL if new else 0,
                           RT_SCOPE_UNIVERSE, RTN_UNICAST if new else 0, 0)
        body += attr(RTA_DST, net.network_address.packed)
        body += attr(RTA_TABLE, struct.pack("=I", conf.table))
        if new:
            body += attr(RTA_NH_ID, struct.pack("=I", op.id))
            return RTM_NEWROUTE, req | NLM_F_CREATE | NLM_F_REPLACE, body
        return RTM_DELROUTE, req, body
    add = op.kind == "rule_add"
    body = _RTMSG.pack(family, net.prefixlen, 0, 0, table_b, 0, 0, FR_ACT_TO_TBL, 0)
    body += (attr(FRA_DST, net.network_address.packed)
             + attr(FRA_TABLE, struct.pack("=I", conf.table))
             + attr(FRA_PRIORITY, struct.pack("=I", conf.rule_priority))
             + attr(FRA_PROTOCOL, bytes([conf.protocol])))
    if add:
        return RTM_NEWRULE, req | NLM_F_CREATE | NLM_F_EXCL, body
    return RTM_DELRULE, req, body


# ---------------------------------------------------------------- netlink I/O
class NetlinkError(OSError):
    """The kernel refused a request (errno and the request's text)."""


class Netlink:
    """One rtnetlink socket: requests with acknowledgements, and dumps."""

    def __init__(self, groups: Iterable[int] = ()) -> None:
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 * 1024 * 1024)
        self.sock.bind((0, 0))
        with contextlib.suppress(OSError):
            self.sock.setsockopt(SOL_NETLINK, NETLINK_GET_STRICT_CHK, 1)
        for g in groups:
            self.sock.setsockopt(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, g)
        self.seq = int(time.time()) & 0xFFFF

    def close(self) -> None:
        self.sock.close()

    def send(self, kind: int, flags: int, body: bytes) -> int:
        self.seq += 1
        self.sock.send(_NLMSGHDR.pack(_NLMSGHDR.size + len(body), kind, flags, self.seq, 0)
                       + body)
        return self.seq

    def request(self, kind: int, flags: int, body: bytes) -> None:
        """Send one request and wait for its acknowledgement; NetlinkError when refused."""
        seq = self.send(kind, flags, body)
        while True:
            for mtype, _f, mseq, mbody in messages(self.sock.recv(65536)):
                if mseq != seq:
                    continue
                if mtype == NLMSG_ERROR:
                    err = -struct.unpack_from("=i", mbody)[0]
                    if err:
                        raise NetlinkError(err, os.strerror(err))
                    return

    def dump(self, kind: int, body: bytes) -> list[tuple[int, bytes]]:
        """(type, body) of every message of a dump."""
        seq = self.send(kind, NLM_F_REQUEST | NLM_F_DUMP, body)
        out: list[tuple[int, bytes]] = []
        while True:
            for mtype, _f, mseq, mbody in messages(self.sock.recv(1024 * 1024)):
                if mseq != seq:
                    continue
                if mtype == NLMSG_DONE:
                    return out
                if mtype == NLMSG_ERROR:
                    err = -struct.unpack_from("=i", mbody)[0]
                    if err == 2:  # ENOENT: a filtered dump of a table that does not exist
                        return out
                    if err:
                        raise NetlinkError(err, os.strerror(err))
                    return out
                out.append((mtype, mbody))


def route_dump_body(family: int, table: int, protocol: int = 0) -> bytes:
    """An RTM_GETROUTE dump request the kernel filters (strict checking) by table/protocol."""
    return (_RTMSG.pack(family, 0, 0, 0, table if table < 256 else RT_TABLE_COMPAT, protocol,
                        0, 0, 0) + attr(RTA_TABLE, struct.pack("=I", table)))


class Agent:
    """The loop: dumps, events, reconcile. `io` is a Netlink for requests and dumps."""

    def __init__(self, conf: Config, path: str = "") -> None:
        self.conf = conf
        self.path = path
        self.io = Netlink()
        self.events = Netlink([RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE, RTNLGRP_NEXTHOP])
        self.events.sock.setblocking(False)
        self.routes: Routes = {}
        self.last: dict[str, tuple[tuple[Hop, int], ...]] = {}
        self.watched: set[int] = set()  # zebra's objects the followed routes use
        self._stop_r, self._stop_w = os.pipe()
        self.reload_requested = False
        self.stopping = False

    def stop(self) -> None:
        self.stopping = True
        os.write(self._stop_w, b"x")

    def families(self) -> set[int]:
        return {_family_of(p) for p in self.conf.prefixes}

    # -- kernel reads
    def nexthops(self) -> dict[int, Nexthop]:
        found = {}
        for _t, body in self.io.dump(RTM_GETNEXTHOP, _NHMSG.pack(0, 0, 0, 0, 0)):
            nh = decode_nexthop(body)
            if nh is not None:
                found[nh.id] = nh
        return found

    def table_routes(self, table: int, protocol: int = 0) -> list[Route]:
        out = []
        for fam in self.families():
            for _t, body in self.io.dump(RTM_GETROUTE, route_dump_body(fam, table, protocol)):
                r = decode_route(body)
                if r is not None and r.table == table:
                    out.append(r)
        return out

    def rules(self) -> list[Rule]:
        out = []
        for fam in self.families():
            for _t, body in self.io.dump(RTM_GETRULE, _RTMSG.pack(fam, 0, 0, 0, 0, 0, 0, 0, 0)):
                r = decode_rule(body)
                if r is not None:
                    out.append(r)
        return out

    def owned(self) -> Owned:
        return owned_state(self.conf, self.nexthops().values(),
                           self.table_routes(self.conf.table), self.rules())

    def resync_routes(self) -> None:
        """zebra's routes for the prefixes, from a (kernel-filtered) dump of the main table."""
        self.routes = {p: {} for p in self.conf.prefixes}
        for proto in self.conf.route_protocols:
            for r in self.table_routes(RT_TABLE_MAIN, proto):
                self.note_route(RTM_NEWROUTE, r)

    def note_route(self, kind: int, r: Route) -> bool:
        return note_route(self.conf, self.routes, kind, r)

    def best_routes(self) -> dict[str, Route | None]:
        return best_routes(self.conf, self.routes)

    # -- changes
    def apply(self, ops: list[Op]) -> list[str]:
        """Apply ops in order; the failures' texts (a failed prefix falls back to main)."""
        failed = []
        for op in ops:
            try:
                self.io.request(*encode(self.conf, op))
            except OSError as exc:
                if op.kind in ("route_del", "group_del", "member_del", "rule_del") \
                        and exc.errno in (2, 3):  # ENOENT, ESRCH: gone already
                    continue
                failed.append(f"{op.text(self.conf)}: {exc.strerror or exc}")
                if op.prefix and op.kind in ("group_set", "route_set"):
                    self.fail_open(op.prefix)
        return failed

    def fail_open(self, prefix: str) -> None:
        with contextlib.suppress(OSError):
            self.io.request(*encode(self.conf, Op("route_del", prefix=prefix)))

    def reconcile(self, why: str, t0: float) -> bool:
        """Bring the kernel to the desired state; True when it is there."""
        nexthops = self.nexthops()
        best = self.best_routes()
        self.watched = watched_ids(best, nexthops)
        desired = desired_state(self.conf, best, nexthops)
        owned = owned_state(self.conf, nexthops.values(), self.table_routes(self.conf.table),
                            self.rules())
        ops = plan(self.conf, desired, owned)
        if not ops:
            return True
        failed = self.apply(ops)
        ms = (time.monotonic() - t0) * 1000
        for p in self.conf.prefixes:
            if desired[p] != self.last.get(p):
                hops = ", ".join(h.text() for h, _w in desired[p]) or "none: main table"
                log(f"{p}: next hops {hops}")
        self.last = dict(desired)
        for op in ops:
            log(f"  {op.text(self.conf)}")
        log(f"{why}: {len(ops)} change(s) in {ms:.1f} ms" + (f", {len(failed)} failed" if failed
                                                             else ""))
        for f in failed:
            log(f"  FAILED {f}")
        return not failed

    def cleanup(self) -> int:
        ops = plan(self.conf, {}, self.owned(), rules=False)
        failed = self.apply(ops)
        for op in ops:
            log(f"  {op.text(self.conf)}")
        log(f"cleanup: {len(ops)} change(s)" + (f", {len(failed)} failed" if failed else ""))
        return 1 if failed else 0

    def drain_events(self) -> tuple[bool, bool]:
        """Read every pending event: (relevant, overrun)."""
        relevant = overrun = False
        while True:
            try:
                data = self.events.sock.recv(1024 * 1024)
            except BlockingIOError:
                return relevant, overrun
            except OSError as exc:
                if exc.errno == 105:  # ENOBUFS: events lost, dump again
                    overrun = True
                    continue
                raise
            for mtype, _f, _s, body in messages(data):
                if mtype in (RTM_NEWROUTE, RTM_DELROUTE):
                    r = decode_route(body)
                    if r is not None and (self.note_route(mtype, r) or r.table == self.conf.table):
                        relevant = True
                elif mtype in (RTM_NEWNEXTHOP, RTM_DELNEXTHOP):
                    nh = decode_nexthop(body)
                    if nh is not None and (nh.id in self.watched
                                           or self.conf.nhid_min <= nh.id <= self.conf.nhid_max):
                        relevant = True
                elif mtype == NLMSG_OVERRUN:
                    overrun = True

    def reload(self) -> None:
        """SIGHUP: read CONFIG again (prefixes, group parameters; a new table, priority or id
        range needs a restart: the old one's objects would be left behind)."""
        try:
            new = load_config(self.path)
        except (OSError, ValueError) as exc:
            log(f"reload: {self.path}: {exc}; keeping the running settings")
            return
        keep = ("table", "rule_priority", "protocol", "nhid_min", "nhid_max")
        if any(getattr(new, k) != getattr(self.conf, k) for k in keep):
            log(f"reload: {', '.join(keep)} changed: restart the agent to apply them")
            return
        self.conf = new
        log(f"reload: following {', '.join(new.prefixes)}")
        self.resync_routes()

    def run(self) -> None:
        self.resync_routes()
        ok = self.reconcile("start", time.monotonic())
        poller = select.poll()
        poller.register(self.events.sock.fileno(), select.POLLIN)
        poller.register(self._stop_r, select.POLLIN)
        while not self.stopping:
            # retry once a second while a change failed; else sleep until an event
            events = poller.poll(None if ok else 1000)
            if self.stopping:
                break
            t0 = time.monotonic()
            if any(fd == self._stop_r for fd, _e in events):
                os.read(self._stop_r, 64)
            if self.reload_requested:
                self.reload_requested = False
                self.reload()
                ok = self.reconcile("reload", time.monotonic())
                continue
            if not events:
                ok = self.reconcile("retry", t0)
                continue
            relevant, overrun = self.drain_events()
            if overrun:
                self.resync_routes()
            if relevant or overrun:
                ok = self.reconcile("overrun" if overrun else "event", t0)


def lab_start_command(agent: str, config: str, log: str) -> str:
    """How a host without systemd (the namespace lab) starts the agent: detached, and its
    cleanup run after it whatever way it ended (SIGKILL too), as the unit's ExecStopPost."""
    return (f"setsid -f sh -c '/usr/bin/python3 {agent} {config}; "
            f"exec /usr/bin/python3 {agent} --cleanup {config}' </dev/null >>{log} 2>&1")


def load_config(path: str) -> Config:
    with open(path, encoding="utf-8") as f:
        return Config.from_dict(json.load(f))


def main(argv: list[str]) -> int:
    args = argv[1:]
    cleanup = "--cleanup" in args
    args = [a for a in args if a != "--cleanup"]
    if len(args) != 1:
        print(f"usage: {argv[0]} [--cleanup] CONFIG.json", file=sys.stderr)
        return 2
    try:
        conf = load_config(args[0])
    except (OSError, ValueError) as exc:
        print(f"{args[0]}: {exc}", file=sys.stderr)
        return 2
    agent = Agent(conf, args[0])
    if cleanup:
        return agent.cleanup()
    own = conf.own_pidfile
    if own:
        os.makedirs(os.path.dirname(own) or "/", exist_ok=True)
        with open(own, "w", encoding="ascii") as f:
            f.write(f"{os.getpid()}\n")

    def on_hup(*_: object) -> None:
        agent.reload_requested = True
        os.write(agent._stop_w, b"r")

    signal.signal(signal.SIGTERM, lambda *_: agent.stop())
    signal.signal(signal.SIGINT, lambda *_: agent.stop())
    signal.signal(signal.SIGHUP, on_hup)
    log(f"following {', '.join(conf.prefixes)}: table {conf.table}, rule priority "
        f"{conf.rule_priority}, nexthop ids {conf.nhid_min}..{conf.nhid_max}, resilient buckets "
        f"{conf.buckets} idle_timer {conf.idle_timer:g} unbalanced_timer "
        f"{conf.unbalanced_timer:g}")
    rc = 0
    try:
        agent.run()
    finally:
        rc = agent.cleanup()
        if own:
            with contextlib.suppress(OSError):
                os.unlink(own)
    log("stopped")
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv))
