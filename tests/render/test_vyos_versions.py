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

