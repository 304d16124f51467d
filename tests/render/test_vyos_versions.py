"""VyOS 1.1, 1.2, 1.4 and 1.5: each release gets its own `set` syntax, chosen by os_version.

No VyOS runs here. Every line rendered for a release must be one of the command forms VyOS
documents for it (tests/golden/vyos/forms-<family>.txt, each form with the documentation file and
line it comes from: tests/golden/vyos/SOURCES.md); the one known exception is pinned by name
(SEED_PINNED_1_2). tests/inventories/vyos-current/ (ISP on 1.4.2, edge on 1.5, every feature the
templates render) is pinned byte for byte, and its lines are compared with the forms of the
Ansible collection vyos.vyos, whose two disagreements with VyOS's documentation are named
(ANSIBLE_DISAGREES).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import pytest
from designs import design_of, replace_host
from paths import GOLDEN

from nornir_anycast.design.model import Bfd, Design, DnsForwarding
from nornir_anycast.render import render_host

VYOS = GOLDEN / "vyos"
CURRENT = "tests/inventories/vyos-current"

# A value as VyOS takes it: quoted ('eth0', 'http server') or one bare word.
_VALUE = r"(?:'[^']*'|[^\s']+)"


def forms(name: str) -> dict[str, re.Pattern[str]]:
    """The forms of one file: {form text: regex matching a rendered line of that form}."""
    out: dict[str, re.Pattern[str]] = {}
    for line in (VYOS / name).read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        words = [(_VALUE if re.fullmatch(r"<[a-z]+>", w) else re.escape(w)) for w in line.split()]
        out[line] = re.compile(r"\s".join(words) + r"$")
    return out


FORMS = {family: forms(f"forms-{family}.txt") for family in ("1.1", "1.2", "1.4")}
ANSIBLE = forms("ansible-vyos.vyos-1.4.txt")

#: VyOS 1.2 takes a neighbor's route-map under `address-family ipv4-unicast` only (1.2.0's
#: migration quagga/2-to-3); the seed inventories' 1.2 edge renders it flat, as issue 11 left
#: it, and keeps its bytes (tests/golden/render-sha256.json). docs/vyos.md says so.
SEED_PINNED_1_2 = re.compile(
    rf"set protocols bgp \d+ neighbor \S+ route-map (?:import|export) {_VALUE}$")

#: Where vyos.vyos (its 1.4 templates) and VyOS's 1.4/1.5 documentation disagree: Ansible
#: writes `maximum-paths` at the top of `protocols bgp` (VyOS moved it under the address family
#: in 1.3: migration quagga/7-to-8) and `ttl-security N` (VyOS: `ttl-security hops N`).
#: We follow VyOS's documentation.
ANSIBLE_DISAGREES = {
    "set protocols bgp address-family ipv4-unicast maximum-paths ibgp <number>":
        "set protocols bgp maximum-paths ibgp <number>",
    "set protocols bgp neighbor <address> ttl-security hops <number>":
        "set protocols bgp neighbor <address> ttl-security <number>",
}

#: Forms no test input renders: a `lo*` interface on a VyOS router.
NOT_EXERCISED = {"set interfaces loopback <interface> address <address>"}


def set_lines(design: Design, host: str) -> list[str]:
    text = render_host(design.hosts[host], design)["config.vyos"].content
    return [ln for ln in text.splitlines() if ln.startswith(("set ", "delete "))]


def unmatched(lines: Iterable[str], patterns: dict[str, re.Pattern[str]]) -> list[str]:
    return [ln for ln in lines if not any(p.match(ln) for p in patterns.values())]


def form_of(line: str, patterns: dict[str, re.Pattern[str]]) -> str | None:
    return next((f for f, p in patterns.items() if p.match(line)), None)


def at(design: Design, host: str, version: str, **update: object) -> Design:
    return replace_host(design, host, os_version=version, **update)


def _current_with_password(monkeypatch: pytest.MonkeyPatch) -> Design:
    """vyos-current with a TCP-MD5 password on the edge's ISP session (from the environment)."""
    monkeypatch.setenv("NA_TEST_VYOS_BGP_PASSWORD", "vyos-Pw1")
    d = design_of(CURRENT)
    nbs = [nb.model_copy(update={"password_env": "NA_TEST_VYOS_BGP_PASSWORD"})
           if nb.address == "172.16.42.2" else nb for nb in d.hosts["edge"].bgp.neighbors]
    return replace_host(d, "edge", bgp=d.hosts["edge"].bgp.model_copy(update={"neighbors": nbs}))


# --- each release's lines are its documented forms --------------------------------------------

def _cases() -> list[tuple[str, str, Design, str]]:
    seed, dnat, cur = (design_of("inventory/vyos-seed"), design_of("inventory/vyos-seed-dnat"),
                       design_of(CURRENT))
    no_bfd = {"bfd": Bfd(enabled=False)}
    isp_12 = {"dns_forwarding": DnsForwarding(listen_on=["eth1"], name_servers=["8.8.8.8"])}
    return [
        ("1.1", "vyos-seed isp", seed, "isp"),
        ("1.1", "vyos-seed-dnat isp", dnat, "isp"),
        ("1.1", "vyos-current edge at 1.1.7", at(cur, "edge", "1.1.7", **no_bfd), "edge"),
        ("1.2", "vyos-seed edge", seed, "edge"),
        ("1.2", "vyos-seed-dnat edge", dnat, "edge"),
        ("1.2", "vyos-current edge at 1.2", at(cur, "edge", "1.2"), "edge"),
        ("1.2", "vyos-current isp at 1.2.9", at(cur, "isp", "1.2.9", **isp_12), "isp"),
        ("1.4", "vyos-current isp (1.4.2)", cur, "isp"),
        ("1.4", "vyos-current edge at 1.4", at(cur, "edge", "1.4"), "edge"),
        ("1.4", "vyos-current edge (1.5)", cur, "edge"),
        ("1.4", "vyos-current isp at 1.5", at(cur, "isp", "1.5"), "isp"),
    ]


@pytest.mark.parametrize(("family", "label", "design", "host"), _cases(),
                         ids=[c[1] for c in _cases()])
def test_every_rendered_line_is_a_form_of_its_release(family: str, label: str, design: Design,
                                                      host: str) -> None:
    lines = set_lines(design, host)
    assert len(lines) >= 10
    left = unmatched(lines, FORMS[family])
    if family == "1.2":
        pinned = [ln for ln in left if SEED_PINNED_1_2.match(ln)]
        left = [ln for ln in left if ln not in pinned]
    assert left == [], f"{label}: lines that are no documented VyOS {family} form"


def test_the_only_12_exception_is_the_seeds_flat_route_map() -> None:
    """The pinned exception is real (the seeds render it) and the only one."""
    for inventory in ("inventory/vyos-seed", "inventory/vyos-seed-dnat"):
        left = unmatched(set_lines(design_of(inventory), "edge"), FORMS["1.2"])
        assert left and all(SEED_PINNED_1_2.match(ln) for ln in left), left
    assert "set protocols bgp 65500 neighbor 10.12.12.1 route-map export 'SERVERS-OUT'" in left


def test_the_forms_files_have_no_unused_form(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each 1.4 form is rendered by some input (so the file describes what we write)."""
    d = _current_with_password(monkeypatch)
    lines = set_lines(d, "isp") + set_lines(d, "edge")
    used = {form_of(ln, FORMS["1.4"]) for ln in lines}
    assert set(FORMS["1.4"]) - used == NOT_EXERCISED
    assert "set protocols bgp neighbor 172.16.42.2 password 'vyos-Pw1'" in lines


def test_the_14_forms_are_not_the_12_forms() -> None:
    """The families differ where VyOS changed (a form file copied by mistake would pass)."""
    lines = set_lines(design_of(CURRENT), "edge")
    assert unmatched(lines, FORMS["1.2"]) and unmatched(lines, FORMS["1.1"])
    seed_edge = set_lines(design_of("inventory/vyos-seed"), "edge")
    assert unmatched(seed_edge, FORMS["1.4"])


# --- VyOS 1.4 / 1.5: the pinned rendering -----------------------------------------------------

@pytest.mark.parametrize("host", ["isp", "edge"])
def test_vyos_current_rendering_is_pinned(host: str) -> None:
    d = design_of(CURRENT)
    got = render_host(d.hosts[host], d)["config.vyos"].content
    assert got == (VYOS / f"vyos-current_{host}.set").read_text()


def test_vyos_15_renders_what_14_renders() -> None:
    d = design_of(CURRENT)
    for host, other in (("isp", "1.5"), ("edge", "1.4.2")):
        assert set_lines(at(d, host, other), host) == set_lines(d, host), host


def test_vyos_14_structure() -> None:
    """The changes users meet moving to 1.4: system-as, neighbors activated for IPv4, the
    address family holding maximum-paths / maximum-prefix / route-maps / networks, NAT by
    interface name, DNS by address (from listen_on when not given)."""
    d = design_of(CURRENT)
    edge, isp = set_lines(d, "edge"), set_lines(d, "isp")
    assert edge[edge.index("set protocols bgp system-as '65500'") + 1] == \
        "set protocols bgp address-family ipv4-unicast maximum-paths ibgp '2'"
    for n in ("10.12.12.1", "10.12.12.2", "172.16.42.2"):
        assert f"set protocols bgp neighbor {n} address-family ipv4-unicast" in edge
    assert not any(re.match(r"set protocols bgp \d+ ", ln) for ln in edge + isp)
    assert "set protocols bgp address-family ipv4-unicast network '0.0.0.0/0'" in isp
    assert "set nat source rule 100 outbound-interface name 'eth0'" in edge
    assert "set nat destination rule 10 inbound-interface name 'eth0'" in edge
    assert not any(ln.startswith("set nat destination rule 20 inbound-interface") for ln in edge)
    assert "set service dns forwarding listen-address '10.12.12.254'" in edge
    assert "set service dns forwarding allow-from '10.12.12.0/24'" in edge
    assert not any("listen-on" in ln for ln in edge + isp)


def test_vyos_12_writes_address_family_where_the_seed_has_no_line() -> None:
    """1.2 lines no seed renders follow VyOS 1.2 (address-family network, maximum-prefix);
    1.2 keeps listen-on and adds listen-address / allow-from only when given."""
    d = at(design_of(CURRENT), "isp", "1.2")
    isp = set_lines(d, "isp")
    assert "set protocols bgp 65000 address-family ipv4-unicast network '0.0.0.0/0'" in isp
    assert "set service dns forwarding allow-from '10.0.0.0/24'" in isp
    edge = set_lines(at(design_of(CURRENT), "edge", "1.2"), "edge")
    assert ("set protocols bgp 65500 neighbor 172.16.42.2 address-family ipv4-unicast "
            "maximum-prefix '100'") in edge
    assert "set service dns forwarding listen-on 'eth1'" in edge
    assert not any("allow-from" in ln for ln in edge)


# --- the Ansible collection vyos.vyos ---------------------------------------------------------

def test_our_14_lines_agree_with_ansible_vyos_vyos_but_where_named(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Every 1.4 form we render that vyos.vyos also renders has vyos.vyos's form, except the
    two where vyos.vyos disagrees with VyOS's documentation (ANSIBLE_DISAGREES)."""
    d = _current_with_password(monkeypatch)
    lines = set_lines(d, "isp") + set_lines(d, "edge")
    compared, disagree = 0, set()
    for ln in lines:
        ours = form_of(ln, FORMS["1.4"])
        assert ours is not None, ln
        if ours.startswith(("set nat ", "set service dns ", "set protocols bfd ", "set system ",
                            "set interfaces ")) or ours.endswith(" bfd"):
            continue  # no vyos.vyos resource module renders these
        compared += 1
        if form_of(ln, ANSIBLE) is None:
            disagree.add(ours)
    assert compared >= 30
    assert disagree == set(ANSIBLE_DISAGREES)
    for theirs in ANSIBLE_DISAGREES.values():
        assert theirs in ANSIBLE


def test_ansible_form_file_names_only_forms_vyos_documents_or_the_disagreements() -> None:
    documented = set(FORMS["1.4"])
    for form in ANSIBLE:
        assert form in documented or form in ANSIBLE_DISAGREES.values(), form



# --- VyOS's own documentation examples, same input --------------------------------------------
#
# Each case gives our templates the input of an example in VyOS's documentation and expects the
# example's lines: written here as (form, values), the form from forms-<family>.txt and the
# values of the example (the example's text is not copied; its place is named). Lines of an
# example that the inventory cannot express (ebgp-multihop, distance, port, domain, IPv6
# prefix-lists) are left out.

def _node(version: str, **data: object) -> Design:
    from nornir_anycast.design.build import derive_services
    from nornir_anycast.design.model import HostModel

    host = HostModel.model_validate({"name": "node1", "platform": "vyos", "role": "isp",
                                     "os": "vyos", "os_version": version, **data})
    return Design(hosts={"node1": host}, services=derive_services({"node1": host}))


_PEERING = {"asn": 65534, "router_id": "192.168.0.1",
            "interfaces": [{"name": "eth0", "addresses": ["192.168.0.1/24"]}],
            "bgp": {"networks": ["172.16.0.0/16"],
                    "neighbors": [{"address": "192.168.0.2", "remote_as": 65535,
                                   "update_source": "192.168.0.1"}]}}
_FILTERING = {**_PEERING,
              "bgp": {"neighbors": [{"address": "2001:db8::2", "remote_as": 65535,
                                     "route_map_in": "AS65535-IN",
                                     "route_map_out": "AS65535-OUT"}]},
              "route_maps": {"AS65535-IN": [{"rule": 10, "action": "permit",
                                             "match_prefix": "172.16.0.0/16"},
                                            {"rule": 20, "action": "deny"}],
                             "AS65535-OUT": [{"rule": 10, "action": "deny",
                                              "match_prefix": "172.16.0.0/16"},
                                             {"rule": 20, "action": "permit"}]}}
_SNAT = {"interfaces": [{"name": "eth0", "addresses": ["dhcp"]},
                        {"name": "eth1", "addresses": ["192.168.0.1/24"]}],
         "nat": {"source": [{"rule": 100, "outbound_interface": "eth0",
                             "source_address": "192.168.0.0/24"}]}}
_DNAT = {"interfaces": [{"name": "pppoe0", "addresses": ["dhcp"]}],
         "nat": {"destination": [{"rule": 100,
                                  "description": "Regular destination NAT from external",
                                  "destination_address": "203.0.113.1", "destination_port": 3389,
                                  "inbound_interface": "pppoe0", "protocol": "tcp",
                                  "translation_address": "192.0.2.40"}]}}
_DNS = {"interfaces": [{"name": "eth1", "addresses": ["192.168.1.254/24"]}],
        "dns_forwarding": {"listen_addresses": ["192.168.1.254", "2001:db8::ffff"],
                           "allow_from": ["192.168.1.0/24", "2001:db8::/64"],
                           "name_servers": ["192.0.2.1", "192.0.2.2", "2001:db8::1:ffff"]}}
_BLACKHOLE = {"static_routes": [{"prefix": "172.16.0.0/16", "blackhole": True}]}

_B14 = "set protocols bgp"
_N14 = "set protocols bgp neighbor <address>"
_N12 = "set protocols bgp <asn> neighbor <address>"

DOC_EXAMPLES: list[Any] = [
    ("docs-1.4 docs/configuration/protocols/bgp.rst:1128-1133, docs-1.5 :1129-1134 "
     "(IPv4 peering, node 1)",
     ("1.4.2", "1.5"), _PEERING, [
         (f"{_B14} system-as <asn>", ("65534",)),
         (f"{_N14} remote-as <asn>", ("192.168.0.2", "65535")),
         (f"{_N14} update-source <address>", ("192.168.0.2", "192.168.0.1")),
         (f"{_B14} address-family ipv4-unicast network <prefix>", ("172.16.0.0/16",)),
         (f"{_B14} parameters router-id <address>", ("192.168.0.1",)),
     ]),
    ("docs-1.2 docs/configuration/protocols/bgp.rst:17-21 (IPv4 peering, node 1)",
     ("1.2",), _PEERING, [
         (f"{_N12} remote-as <asn>", ("65534", "192.168.0.2", "65535")),
         (f"{_N12} update-source <address>", ("65534", "192.168.0.2", "192.168.0.1")),
         ("set protocols bgp <asn> address-family ipv4-unicast network <prefix>",
          ("65534", "172.16.0.0/16")),
         ("set protocols bgp <asn> parameters router-id <address>", ("65534", "192.168.0.1")),
     ]),
    ("docs-1.4 docs/configuration/protocols/bgp.rst:1218-1240, docs-1.5 :1219-1241 "
     "(route filtering, node 1)",
     ("1.4.2", "1.5"), _FILTERING, [
         ("set policy route-map <name> rule <number> action <action>",
          ("AS65535-IN", "10", "permit")),
         ("set policy route-map <name> rule <number> action <action>",
          ("AS65535-IN", "20", "deny")),
         ("set policy route-map <name> rule <number> action <action>",
          ("AS65535-OUT", "10", "deny")),
         ("set policy route-map <name> rule <number> action <action>",
          ("AS65535-OUT", "20", "permit")),
         ("set policy prefix-list <name> rule <number> prefix <prefix>",
          ("AS65535-IN-10", "10", "172.16.0.0/16")),
         (f"{_N14} address-family ipv4-unicast route-map export <name>",
          ("2001:db8::2", "AS65535-OUT")),
         (f"{_N14} address-family ipv4-unicast route-map import <name>",
          ("2001:db8::2", "AS65535-IN")),
     ]),
    pytest.param(
        "docs-1.2 docs/configuration/protocols/bgp.rst:103-122 (route filtering, node 1)",
        ("1.2",), {**_FILTERING, "bgp": {"neighbors": [
            {"address": "192.168.0.2", "remote_as": 65535, "route_map_in": "AS65535-IN",
             "route_map_out": "AS65535-OUT"}]}}, [
            (f"{_N12} address-family ipv4-unicast route-map export <name>",
             ("65534", "192.168.0.2", "AS65535-OUT")),
            (f"{_N12} address-family ipv4-unicast route-map import <name>",
             ("65534", "192.168.0.2", "AS65535-IN")),
        ],
        marks=pytest.mark.xfail(strict=True, reason="1.2 route-maps stay flat for the seeds' "
                                "bytes (SEED_PINNED_1_2, docs/vyos.md)"),
        id="docs-1.2 route filtering"),
    ("docs-1.4 docs/configuration/protocols/bgp.rst:1155, docs-1.5 :1156 "
     "(blackhole static route)",
     ("1.2", "1.4.2", "1.5"), _BLACKHOLE, [
         ("set protocols static route <prefix> blackhole", ("172.16.0.0/16",)),
     ]),
    ("docs-1.4 and docs-1.5 docs/configuration/nat/nat44.rst:338-340 (source NAT, masquerade)",
     ("1.4.2", "1.5"), _SNAT, [
         ("set nat source rule <number> outbound-interface name <interface>", ("100", "eth0")),
         ("set nat source rule <number> source address <prefix>", ("100", "192.168.0.0/24")),
         ("set nat source rule <number> translation address <address>", ("100", "masquerade")),
     ]),
    ("docs-1.2 docs/configuration/nat/index.rst:26-28 (source NAT, masquerade)",
     ("1.2",), _SNAT, [
         ("set nat source rule <number> outbound-interface <interface>", ("100", "eth0")),
         ("set nat source rule <number> source address <prefix>", ("100", "192.168.0.0/24")),
         ("set nat source rule <number> translation address <address>", ("100", "masquerade")),
     ]),
    ("docs-1.4 and docs-1.5 docs/configuration/nat/nat44.rst:439-443 (destination NAT, rule 100)",
     ("1.4.2", "1.5"), _DNAT, [
         ("set nat destination rule <number> description <text>",
          ("100", "Regular destination NAT from external")),
         ("set nat destination rule <number> destination port <number>", ("100", "3389")),
         ("set nat destination rule <number> inbound-interface name <interface>",
          ("100", "pppoe0")),
         ("set nat destination rule <number> protocol <protocol>", ("100", "tcp")),
         ("set nat destination rule <number> translation address <address>",
          ("100", "192.0.2.40")),
     ]),
    ("docs-1.4 docs/configuration/service/dns.rst:167-178, docs-1.5 :261-272 "
     "(DNS forwarding example)",
     ("1.4.2", "1.5"), _DNS, [
         ("set service dns forwarding name-server <address>", ("192.0.2.1",)),
         ("set service dns forwarding name-server <address>", ("192.0.2.2",)),
         ("set service dns forwarding name-server <address>", ("2001:db8::1:ffff",)),
         ("set service dns forwarding listen-address <address>", ("192.168.1.254",)),
         ("set service dns forwarding listen-address <address>", ("2001:db8::ffff",)),
         ("set service dns forwarding allow-from <prefix>", ("192.168.1.0/24",)),
         ("set service dns forwarding allow-from <prefix>", ("2001:db8::/64",)),
     ]),
]


def filled(form: str, values: tuple[str, ...]) -> re.Pattern[str]:
    """`form` with its placeholders replaced, in order, by `values` (quoted or bare)."""
    it = iter(values)
    words = [(f"'?{re.escape(next(it))}'?" if re.fullmatch(r"<[a-z]+>", w) else re.escape(w))
             for w in form.split()]
    assert next(it, None) is None, f"{form}: more values than placeholders"
    return re.compile(r"\s".join(words) + r"$")


def _doc_params() -> list[Any]:
    """pytest params named `<docs key> <example>`, e.g. `docs-1.2 IPv4 peering, node 1`."""
    return [c if hasattr(c, "marks") else
            pytest.param(*c, id=f"{c[0].split()[0]} {c[0].rsplit('(', 1)[1].rstrip(')')}")
            for c in DOC_EXAMPLES]


@pytest.mark.parametrize(("source", "releases", "data", "expect"), _doc_params())
def test_a_documentation_example_renders_as_documented(
        source: str, releases: tuple[str, ...], data: dict[str, object],
        expect: list[tuple[str, tuple[str, ...]]]) -> None:
    for release in releases:
        d = _node(release, **data)
        lines = set_lines(d, "node1")
        family = "1.4" if release.startswith(("1.4", "1.5")) else release[:3]
        for form, values in expect:
            assert form in FORMS[family], form
            pattern = filled(form, values)
            assert any(pattern.match(ln) for ln in lines), \
                f"{source} at {release}: no line {form} {values}; got {lines}"
        assert unmatched(lines, FORMS[family]) == []
