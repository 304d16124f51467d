"""The resilient agent's pure parts (templates/jinja/resilient/resilient_agent.py), fed with the
rtnetlink messages real FRR installs: desired state from zebra's route in each of its three
multipath forms, the event path (route and nexthop messages replayed in order), and the plan
from the kernel's current state to the desired one (member objects kept, ids in range, fail
open when zebra has no route, cleanup leaves nothing).

Captures: tests/resilient/captures/frr8.4/ (this machine's FRR 8.4.4, Linux 6.18) and
captures/frr10.3/ (FRR 10.3 from the Debian 13 lab image), written by
tests/resilient/capture_routes.py: the edge of tests/captures/capture.py's topology with BIRD 2
servers 10.12.12.1-4 announcing 10.13.13.1/32, raw netlink messages as the kernel sent them.
"""

from __future__ import annotations

import json
import socket
import struct
from pathlib import Path
from typing import Any

import pytest
from paths import RESILIENT_AGENT, ROOT, load_resilient_agent

ra = load_resilient_agent()
CAPTURES = Path(__file__).resolve().parent / "captures"
VERSIONS = ["frr8.4", "frr10.3"]
PREFIX = "10.13.13.1/32"
CONF = ra.Config.from_dict({"prefixes": [PREFIX]})

#: state -> the servers zebra's route forwards to (10.12.12.N), in capture order
STATES: dict[str, set[int]] = {
    "four": {1, 2, 3, 4}, "three": {1, 3, 4}, "none": set(), "one": {1},
    "two_no_compat": {1, 3}, "three_no_nhg": {1, 3, 4},
}
ORDER = list(STATES)


def load(version: str, state: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((CAPTURES / version / f"{state}.json").read_text())
    return doc


def bodies(hexes: list[str]) -> list[tuple[int, bytes]]:
    """(message type, body) of whole captured netlink messages."""
    out = []
    for h in hexes:
        for kind, _flags, _seq, body in ra.messages(bytes.fromhex(h)):
            out.append((kind, body))
    return out


def dump_state(doc: dict[str, Any]) -> tuple[Any, dict[int, Any]]:
    """(zebra's route for the prefix or None, nexthop objects) from a state's dumps."""
    routes = [ra.decode_route(b) for _k, b in bodies(doc["dump"]["routes"])]
    followed = [r for r in routes if r is not None and ra.follows(r, PREFIX, CONF)]
    assert len(followed) <= 1
    nhs = {nh.id: nh for _k, b in bodies(doc["dump"]["nexthops"])
           if (nh := ra.decode_nexthop(b)) is not None}
    return (followed[0] if followed else None), nhs


def gateways(hops: Any) -> set[int]:
    return {int(h.gateway.rsplit(".", 1)[1]) for h, _w in hops}


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("state", ORDER)
def test_desired_hops_from_each_captured_route(version: str, state: str) -> None:
    doc = load(version, state)
    route, nhs = dump_state(doc)
    hops = ra.route_hops(route, nhs)
    assert gateways(hops) == STATES[state], doc["ip_route"]
    assert all(w == 1 for _h, w in hops) and all(h.oif > 0 for h, _w in hops)
    assert ra.desired_state(CONF, {PREFIX: route}, nhs) == {PREFIX: hops}
    if route is None:
        return
    assert route.protocol == 186 and route.table == ra.RT_TABLE_MAIN  # zebra's BGP route
    # the three forms zebra's route takes
    if state == "two_no_compat":  # nexthop_compat_mode=0: the object only, no copy of hops
        assert route.nhid is not None and route.hops == ()
    elif state == "three_no_nhg":  # `no zebra nexthop kernel enable`: RTA_MULTIPATH only
        assert route.nhid is None and gateways(route.hops) == STATES[state]
    else:  # the object and the kernel's compat copy, which agree
        assert route.nhid is not None and gateways(route.hops) == STATES[state]
        assert ra.route_hops(route, {}) == hops  # the copy alone gives the same answer


@pytest.mark.parametrize("version", VERSIONS)
def test_events_replayed_in_order_give_each_state(version: str) -> None:
    """The agent's view after each state's events (route messages recorded, nexthop objects as
    the dump after them shows) is that state's route: nothing is missed between states."""
    first = load(version, ORDER[0])
    route, _ = dump_state(first)
    routes: dict[str, dict[tuple[int, int], Any]] = {}
    assert ra.note_route(CONF, routes, ra.RTM_NEWROUTE, route)
    nexthops: dict[int, Any] = {}
    for state in ORDER[1:]:
        doc = load(version, state)
        assert doc["events"], state
        for kind, body in bodies([e["hex"] for e in doc["events"]]):
            if kind in (ra.RTM_NEWROUTE, ra.RTM_DELROUTE):
                r = ra.decode_route(body)
                assert ra.note_route(CONF, routes, kind, r), (state, r)
            else:
                nh = ra.decode_nexthop(body)
                assert kind in (ra.RTM_NEWNEXTHOP, ra.RTM_DELNEXTHOP) and nh is not None
                if kind == ra.RTM_NEWNEXTHOP:
                    nexthops[nh.id] = nh
                else:
                    nexthops.pop(nh.id, None)
        _, dumped = dump_state(doc)
        best = ra.best_routes(CONF, routes)[PREFIX]
        assert gateways(ra.route_hops(best, {**dumped, **nexthops})) == STATES[state], state


def test_route_messages_of_other_prefixes_and_tables_are_not_followed() -> None:
    route, _ = dump_state(load("frr8.4", "four"))
    routes: dict[str, dict[tuple[int, int], Any]] = {}
    for other in (ra.Route(route.family, "10.13.13.2/32", 254, 186, 1),
                  ra.Route(route.family, PREFIX, 32000, 186, 1),  # the agent's own table
                  ra.Route(route.family, PREFIX, 254, 4, 1)):  # a static route, not BGP
        assert not ra.note_route(CONF, routes, ra.RTM_NEWROUTE, other)
    assert ra.best_routes(CONF, routes) == {PREFIX: None}


# ---------------------------------------------------------------- the plan
class Kernel:
    """What the kernel would hold after the agent's ops (only the agent's own objects)."""

    def __init__(self) -> None:
        self.owned = ra.Owned()

    def apply(self, ops: list[Any]) -> None:
        o = self.owned
        for op in ops:
            in_range = CONF.nhid_min <= op.id <= CONF.nhid_max
            assert in_range or op.kind.startswith(("rule", "route_d"))
            if op.kind == "member_add":
                assert op.id not in o.nexthops
                o.nexthops[op.id] = ra.Nexthop(op.id, op.hop.family, CONF.protocol, op.hop)
            elif op.kind == "group_set":
                assert all(m in o.nexthops and not o.nexthops[m].group for m, _w in op.members)
                assert (op.id in o.nexthops) != op.create
                o.nexthops[op.id] = ra.Nexthop(
                    op.id, 0, CONF.protocol, None, op.members, ra.NEXTHOP_GRP_TYPE_RES,
                    CONF.buckets, round(CONF.idle_timer * 100), round(CONF.unbalanced_timer * 100))
            elif op.kind == "route_set":
                assert op.id in o.nexthops
                o.routes[op.prefix] = op.id
            elif op.kind == "route_del":
                del o.routes[op.prefix]
            elif op.kind in ("group_del", "member_del"):
                users = [g for g in o.nexthops.values() if any(m == op.id for m, _w in g.group)]
                assert not users, f"{op.id} still used by {users}"
                assert op.id not in o.routes.values()
                del o.nexthops[op.id]
            elif op.kind == "rule_add":
                o.rules.add(op.prefix)
            elif op.kind == "rule_del":
                o.rules.remove(op.prefix)

    def group(self) -> Any:
        return self.owned.nexthops[self.owned.routes[PREFIX]]

    def members(self) -> dict[int, int]:
        """member id -> server N of the prefix's group."""
        return {m: int(self.owned.nexthops[m].hop.gateway.rsplit(".", 1)[1])
                for m, _w in self.group().group}


def desired(version: str, state: str) -> Any:
    route, nhs = dump_state(load(version, state))
    return ra.desired_state(CONF, {PREFIX: route}, nhs)


@pytest.mark.parametrize("version", VERSIONS)
def test_plan_follows_the_captured_states_keeping_member_objects(version: str) -> None:
    k = Kernel()
    ops = ra.plan(CONF, desired(version, "four"), k.owned)
    assert [op.kind for op in ops] == ["member_add"] * 4 + ["group_set", "route_set", "rule_add"]
    k.apply(ops)
    assert ra.plan(CONF, desired(version, "four"), k.owned) == []  # idempotent
    before = k.members()
    gid = k.owned.routes[PREFIX]
    assert sorted(before.values()) == [1, 2, 3, 4] and k.owned.rules == {PREFIX}

    # 4 -> 3: the same group replaced in place, surviving members keep their objects
    ops = ra.plan(CONF, desired(version, "three"), k.owned)
    assert [op.kind for op in ops] == ["group_set", "member_del"]
    assert not ops[0].create and ops[0].id == gid
    k.apply(ops)
    assert k.members() == {m: s for m, s in before.items() if s != 2}
    assert "group 855638016/855638018/855638019 type resilient buckets 128" in ops[0].text(CONF)

    # zebra has no route: the prefix's route and group go (the rule stays, finds nothing, and
    # the lookup goes on to the main table); nothing of the agent's is left in use
    ops = ra.plan(CONF, desired(version, "none"), k.owned)
    assert [op.kind for op in ops] == ["route_del", "group_del"] + ["member_del"] * 3
    k.apply(ops)
    assert k.owned.nexthops == {} and k.owned.routes == {} and k.owned.rules == {PREFIX}

    for state in ORDER[3:]:
        k.apply(ra.plan(CONF, desired(version, state), k.owned))
        assert sorted(k.members().values()) == sorted(STATES[state]), state
        assert ra.plan(CONF, desired(version, state), k.owned) == []

    # cleanup (SIGTERM, --cleanup): nothing left, rule included
    ops = ra.plan(CONF, {}, k.owned, rules=False)
    assert [op.kind for op in ops][-1] == "rule_del"
    k.apply(ops)
    assert (k.owned.nexthops, k.owned.routes, k.owned.rules) == ({}, {}, set())


def test_a_joining_server_adds_one_member_and_keeps_the_others() -> None:
    k = Kernel()
    k.apply(ra.plan(CONF, desired("frr8.4", "three"), k.owned))
    before = k.members()
    ops = ra.plan(CONF, desired("frr8.4", "four"), k.owned)
    assert [op.kind for op in ops] == ["member_add", "group_set"]
    k.apply(ops)
    after = k.members()
    assert {m: s for m, s in after.items() if s != 2} == before and sorted(after.values()) == [
        1, 2, 3, 4]


def test_the_agent_adopts_its_own_objects_and_never_touches_zebras() -> None:
    """After a restart (or SIGKILL without cleanup) the agent finds its objects by id range,
    table and protocol in the kernel's dumps; zebra's ids (all below the range) are not its."""
    k = Kernel()
    k.apply(ra.plan(CONF, desired("frr8.4", "four"), k.owned))
    route, zebra_nhs = dump_state(load("frr8.4", "four"))
    assert max(zebra_nhs) < CONF.nhid_min
    assert ra.zebra_ignores(CONF.nhid_min, CONF.nhid_max)
    assert not any(ra.zebra_ignores(i, i) for i in zebra_nhs)  # zebra's ids: never in there
    dumped_nhs = [*zebra_nhs.values(), *k.owned.nexthops.values()]
    table = [ra.Route(socket.AF_INET, PREFIX, CONF.table, ra.RTPROT_KERNEL, 1, 0, gid)
             for gid in k.owned.routes.values()]
    table.append(ra.Route(socket.AF_INET, "10.99.0.0/16", CONF.table, 4, 1))  # not the agent's
    rules = [ra.Rule(socket.AF_INET, PREFIX, CONF.table, CONF.rule_priority, CONF.protocol),
             ra.Rule(socket.AF_INET, None, 254, 32766, 2)]
    owned = ra.owned_state(CONF, dumped_nhs, [route, *table], rules)
    assert owned.nexthops == k.owned.nexthops and owned.routes == k.owned.routes
    assert owned.rules == {PREFIX}
    assert ra.plan(CONF, desired("frr8.4", "four"), owned) == []
    cleanup = ra.plan(CONF, {}, owned, rules=False)
    assert {op.id for op in cleanup if op.kind.endswith("_del") and op.id} <= set(
        range(CONF.nhid_min, CONF.nhid_max + 1))
    assert all(op.prefix != "10.99.0.0/16" for op in cleanup)


def test_changed_group_parameters_and_a_full_range() -> None:
    k = Kernel()
    k.apply(ra.plan(CONF, desired("frr8.4", "four"), k.owned))
    more = ra.Config.from_dict({"prefixes": [PREFIX], "buckets": 256})
    # the kernel cannot change a resilient group's bucket count: a new group, then the old goes
    ops = ra.plan(more, desired("frr8.4", "four"), k.owned)
    assert [op.kind for op in ops] == ["group_set", "route_set", "group_del"]
    assert ops[0].create and ops[0].id != ops[2].id
    idle = ra.Config.from_dict({"prefixes": [PREFIX], "idle_timer": 1})
    ops = ra.plan(idle, desired("frr8.4", "four"), k.owned)
    assert [(op.kind, op.create) for op in ops] == [("group_set", False)]
    tiny = ra.Config.from_dict({"prefixes": [PREFIX], "nhid_min": 0x33000000,
                                "nhid_max": 0x33000003})
    with pytest.raises(RuntimeError, match=r"no free nexthop id in 855638016\.\.855638019"):
        ra.plan(tiny, desired("frr8.4", "four"), ra.Owned())


def test_encoded_messages_decode_back() -> None:
    hop = ra.Hop(socket.AF_INET, "10.12.12.3", 5)
    kind, flags, body = ra.encode(CONF, ra.Op("member_add", 260000007, hop=hop))
    assert kind == ra.RTM_NEWNEXTHOP and flags & ra.NLM_F_EXCL
    nh = ra.decode_nexthop(body)
    assert (nh.id, nh.hop, nh.protocol) == (260000007, hop, 240)
    members = ((260000001, 1), (260000007, 3))
    conf = ra.Config.from_dict({"prefixes": [PREFIX], "buckets": 64, "idle_timer": 2.5,
                                "unbalanced_timer": 30})
    kind, flags, body = ra.encode(conf, ra.Op("group_set", 260000009, members=members))
    assert flags & ra.NLM_F_REPLACE and not flags & ra.NLM_F_EXCL
    g = ra.decode_nexthop(body)
    assert (g.id, g.group, g.group_type, g.buckets, g.idle_timer, g.unbalanced_timer) == (
        260000009, members, ra.NEXTHOP_GRP_TYPE_RES, 64, 250, 3000)
    kind, _f, body = ra.encode(CONF, ra.Op("route_set", 260000009, prefix=PREFIX))
    r = ra.decode_route(body)
    # proto kernel: zebra ignores the route (else it holds the group and reverts each replace)
    assert (kind, r.dst, r.table, r.nhid, r.protocol) == (
        ra.RTM_NEWROUTE, PREFIX, 32000, 260000009, 2)
    kind, _f, body = ra.encode(CONF, ra.Op("rule_add", prefix=PREFIX))
    rule = ra.decode_rule(body)
    assert (kind, rule) == (ra.RTM_NEWRULE, ra.Rule(socket.AF_INET, PREFIX, 32000, 32000, 240))
    # IPv6 prefixes get IPv6 messages
    kind, _f, body = ra.encode(CONF, ra.Op("rule_del", prefix="fd00:13::1/128"))
    assert (kind, ra.decode_rule(body).dst) == (ra.RTM_DELRULE, "fd00:13::1/128")


def test_multipath_entries_marked_dead_or_linkdown_are_not_members() -> None:
    def rtnh(flags: int, gw: str) -> bytes:
        gattr = ra.attr(ra.RTA_GATEWAY, socket.inet_aton(gw))
        return bytes(struct.pack("=HBBi", 8 + len(gattr), flags, 0, 3) + gattr)
    body = (struct.pack("=BBBBBBBBI", socket.AF_INET, 32, 0, 0, 254, 186, 0, 1, 0)
            + ra.attr(ra.RTA_DST, socket.inet_aton("10.13.13.1"))
            + ra.attr(ra.RTA_MULTIPATH, rtnh(0, "10.12.12.1") + rtnh(ra.RTNH_F_LINKDOWN,
                                                                    "10.12.12.2")
                      + rtnh(ra.RTNH_F_DEAD, "10.12.12.3") + rtnh(0, "10.12.12.4")))
    assert gateways(ra.route_hops(ra.decode_route(body), {})) == {1, 4}


@pytest.mark.parametrize(("raw", "field"), [
    ({}, "prefixes"),
    ({"prefixes": ["10.13.13.1/24"]}, "prefixes"),
    ({"prefixes": [PREFIX], "table": 254}, "table"),
    ({"prefixes": [PREFIX], "protocol": 186}, "protocol"),
    ({"prefixes": [PREFIX], "rule_priority": 32766}, "rule_priority"),
    ({"prefixes": [PREFIX], "buckets": 0}, "buckets"),
    ({"prefixes": [PREFIX], "nhid_min": 5, "nhid_max": 4}, "nhid_min"),
    ({"prefixes": [PREFIX], "bukets": 64}, "bukets"),
    # ids zebra would learn (and then reuse and re-install): not allowed
    ({"prefixes": [PREFIX], "nhid_min": 260000000, "nhid_max": 260000999}, "zebra ignores"),
    ({"prefixes": [PREFIX], "nhid_min": 0x33FFFFFF, "nhid_max": 0x34000005}, "zebra ignores"),
])
def test_bad_settings_are_named(raw: dict[str, Any], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        ra.Config.from_dict(raw)


def test_shipped_as_package_data_and_renders_as_itself() -> None:
    """The agent travels like service_watch.py: package data, rendered through the package's
    Jinja environment (deploy's TemplateFile) without a change."""
    import tomllib

    from nornir_anycast.render.environment import environment

    text = RESILIENT_AGENT.read_text()
    assert environment().get_template("resilient/resilient_agent.py").render() == text
    globs = tomllib.loads((ROOT / "pyproject.toml").read_text())[
        "tool"]["setuptools"]["package-data"]["nornir_anycast.templates"]
    assert "jinja/resilient/resilient_agent.py" in globs
    assert text.startswith("#!/usr/bin/python3\n")


def test_docs_give_the_start_wrapper_and_the_unit_as_shipped() -> None:
    docs = (ROOT / "docs" / "resilient.md").read_text()
    assert ra.lab_start_command("AGENT", "CONFIG", "LOG") in docs
    from nornir_anycast.render.environment import environment

    unit = environment().get_template("resilient/resilient-agent.service.j2").render(
        agent="/usr/local/lib/nornir-anycast/resilient_agent.py", config="/etc/x.json")
    assert "ExecStart=/usr/bin/python3 /usr/local/lib/nornir-anycast/resilient_agent.py " \
           "/etc/x.json\n" in unit
    assert "ExecStopPost=/usr/bin/python3 /usr/local/lib/nornir-anycast/resilient_agent.py " \
           "--cleanup /etc/x.json\n" in unit
    for line in ("ExecStart=/usr/bin/python3 AGENT CONFIG", "ExecStopPost=/usr/bin/python3 AGENT "
                 "--cleanup"):
        assert line in docs.replace("`\n  ", "").replace("\n  ", " "), line


@pytest.mark.parametrize("version", VERSIONS)
def test_watched_ids_are_the_followed_routes_objects(version: str) -> None:
    """Nexthop messages about these wake the agent (zebra replacing a group in place); zebra's
    other objects do not."""
    route, nhs = dump_state(load(version, "four"))
    ids = ra.watched_ids({PREFIX: route}, nhs)
    assert route.nhid in ids and len(ids) == 5
    assert {nhs[i].hop.gateway for i in ids - {route.nhid}} == {f"10.12.12.{i}" for i in
                                                                  range(1, 5)}
    assert ra.watched_ids({PREFIX: None}, nhs) == set()
    multipath, nhs3 = dump_state(load(version, "three_no_nhg"))
    assert ra.watched_ids({PREFIX: multipath}, nhs3) == set()
