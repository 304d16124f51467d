"""Fuzzing the inventory loader, the model and validation with hypothesis.

Every inventory here is a directory written to a temporary directory: one of the shipped
inventories, broken in one place (malformed YAML, a value of the wrong type, a number out of
range, a duplicated address, a reference to something that does not exist, or random junk).
Loading it the way every command does (`cli.common.load`) must either succeed or raise
InventoryError whose problems name the host, the field and the value; nothing else may escape.
The CLI on such an inventory exits 2, prints no traceback, and never opens a connection.
"""

from __future__ import annotations

import contextlib
import copy
import io
import ipaddress
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nornir.core.inventory import Host
from paths import ROOT

from nornir_anycast.cli.main import main
from nornir_anycast.design.build import load_design
from nornir_anycast.exceptions import InventoryError, Problem
from nornir_anycast.inventory.loader import load_nornir
from nornir_anycast.inventory.schema import check_inventory_files
from nornir_anycast.render import render_host

INVENTORIES = {
    "default": ROOT / "inventory",
    "vyos-seed": ROOT / "inventory" / "vyos-seed",
    "vyos-seed-dnat": ROOT / "inventory" / "vyos-seed-dnat",
    "lab-dnat": ROOT / "inventory" / "lab-dnat",
}
FILES = ("hosts.yaml", "groups.yaml", "defaults.yaml")
SECRET_KEYS = ("password_env", "password", "secret")

#: Examples per fuzz test: modest by default; NA_FUZZ_EXAMPLES=2000 for a long hunt.
EXAMPLES = int(os.environ.get("NA_FUZZ_EXAMPLES", "40"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


# --- building inventories -------------------------------------------------------------------


def base_docs(name: str) -> dict[str, Any]:
    """The inventory's YAML files as Python data (a fresh deep copy each time)."""
    inv = INVENTORIES[name]
    return {f: yaml.safe_load((inv / f).read_text()) for f in FILES}


_BASE = {name: base_docs(name) for name in INVENTORIES}


@contextlib.contextmanager
def inventory_dir(name: str, *, docs: dict[str, Any] | None = None,
                  texts: dict[str, str] | None = None) -> Iterator[Path]:
    """A temporary copy of inventory `name`, with some files replaced by `docs` (dumped as
    YAML) or raw `texts`."""
    with tempfile.TemporaryDirectory(prefix="na-fuzz-") as tmp:
        d = Path(tmp)
        for f in (*FILES, "config.yaml"):
            src = INVENTORIES[name] / f
            if src.is_file():
                shutil.copy(src, d / f)
        for f, data in (docs or {}).items():
            (d / f).write_text(yaml.safe_dump(data, sort_keys=False))
        for f, text in (texts or {}).items():
            (d / f).write_text(text)
        yield d


def load_like_the_cli(inv: Path) -> None:
    """What `cli.common.load` does before any device is touched; renders every host too."""
    nr = load_nornir(inv)
    in_files = check_inventory_files(inv)
    try:
        design, _ = load_design(nr)
    except InventoryError as exc:
        raise InventoryError(in_files + exc.problems) from None
    if in_files:
        raise InventoryError(in_files)
    for host in design.hosts.values():
        render_host(host, design)  # a valid inventory renders: validation caught the rest


def outcome(inv: Path) -> list[Problem] | None:
    """None when the inventory loads; else its problems, each checked to be well-formed."""
    try:
        load_like_the_cli(inv)
    except InventoryError as exc:
        assert exc.problems, "InventoryError without problems"
        for p in exc.problems:
            assert_well_formed(p)
        assert len(str(exc).splitlines()) == len(exc.problems) + 1
        return exc.problems
    return None


def assert_well_formed(p: Problem) -> None:
    assert isinstance(p.host, str) and p.host, p
    assert isinstance(p.field, str) and p.field, p
    assert p.message and str(p).isprintable(), p  # one line, no terminal escapes
    assert "Traceback" not in p.message and "pydantic" not in p.message, p
    assert p.severity == "error"


def listing(problems: list[Problem] | None) -> str:
    return "; ".join(str(p) for p in problems) if problems else "loaded without problems"


def data_paths(obj: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every path into nested dicts and lists."""
    if prefix:
        yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from data_paths(v, (*prefix, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from data_paths(v, (*prefix, i))


def get_at(obj: Any, path: tuple[Any, ...]) -> Any:
    for p in path:
        obj = obj[p]
    return obj


def set_at(obj: Any, path: tuple[Any, ...], value: Any) -> None:
    for p in path[:-1]:
        obj = obj[p]
    obj[path[-1]] = value


def dotted(path: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in path)


#: (inventory, host, path inside that host's data) for every value set in hosts.yaml.
HOST_DATA_PATHS = sorted(
    (inv, host, path)
    for inv, docs in _BASE.items()
    for host, entry in docs["hosts.yaml"].items()
    for path in data_paths(entry.get("data") or {})
)


# --- strategies -------------------------------------------------------------------------------

_letters = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=12)
_not_a_bool_text = _letters.filter(
    lambda t: t not in ("y", "yes", "n", "no", "on", "off", "t", "f", "true", "false"))
_fractions = st.integers(-10**6, 10**6).map(lambda i: i + 0.5)
_scalars = (st.none() | st.booleans() | st.integers(-2**70, 2**70)
            | st.floats(allow_nan=False) | st.text(max_size=30)
            | st.sampled_from(["10.12.12.1", "10.12.12.254/24", "::1/128", "0.0.0.0/0", "dhcp",
                               "edge", "65500", "10.13.13.1/32", "fe80::1", "1.2.3.4/33",
                               "eth0", "lo", "", "yes", "1e3", "0x10", "a\nb", 'say "hi"']))
JUNK = st.recursive(
    _scalars,
    lambda inner: (st.lists(inner, max_size=3)
                   | st.dictionaries(st.sampled_from(["prefix", "address", "remote_as", "name",
                                                      "addresses", "rule", "action", "junk"])
                                     | st.text(max_size=6), inner, max_size=3)),
    max_leaves=8,
)


def wrong_kind(original: Any) -> st.SearchStrategy[Any]:
    """Values of a kind the model can never accept where `original` stands."""
    lists = st.lists(st.integers(), min_size=1, max_size=2)
    dicts = st.fixed_dictionaries({"junk": st.integers()})
    if isinstance(original, bool):
        return st.integers(2, 10**6) | _not_a_bool_text | lists | dicts
    if isinstance(original, int):
        return _letters | _fractions | lists | dicts
    if isinstance(original, str):
        return st.integers() | _fractions | st.booleans() | lists | dicts
    if isinstance(original, list):
        return st.integers() | _letters | dicts
    if isinstance(original, dict):
        return st.integers() | _letters | lists
    raise AssertionError(f"unexpected value {original!r}")


# --- the loader and model ---------------------------------------------------------------------


_yaml_breakers = st.sampled_from(
    [":", "- ", "[", "]", "{", "}", "\t", '"', "'", "&a", "*nope", "!!python/object:os.system",
     "? ", "|", ">", "%", "@", "`", "\n  ", "\n", "#", ",", "\x00", "\ufeff", "---\n", "..."])


@FUZZ
@given(inv=st.sampled_from(sorted(INVENTORIES)), file=st.sampled_from(FILES),
       where=st.floats(0, 1), insert=_yaml_breakers | st.text(max_size=5),
       cut=st.booleans(), drop_line=st.booleans())
def test_malformed_yaml_is_a_problem_naming_the_file(inv: str, file: str, where: float,
                                                     insert: str, cut: bool,
                                                     drop_line: bool) -> None:
    text = (INVENTORIES[inv] / file).read_text()
    at = int(where * len(text))
    if cut:
        broken = text[:at]
    elif drop_line:
        lines = text.splitlines(keepends=True)
        k = int(where * (len(lines) - 1))
        broken = "".join(lines[:k] + lines[k + 1:])
    else:
        broken = text[:at] + insert + text[at:]
    with inventory_dir(inv, texts={file: broken}) as d:
        problems = outcome(d)
    try:
        yaml_ok = True
        from ruamel.yaml import YAML
        YAML(typ="safe").load(broken)
    except Exception:
        yaml_ok = False
    if not yaml_ok:
        assert problems is not None
        [p] = problems
        assert p.field == file and "not valid YAML" in p.message, p
        assert str(p.value).startswith("line "), p


@FUZZ
@given(target=st.sampled_from(HOST_DATA_PATHS), data=st.data())
def test_wrong_type_anywhere_names_host_field_and_value(
        target: tuple[str, str, tuple[Any, ...]], data: st.DataObject) -> None:
    inv, host, path = target
    docs = copy.deepcopy(_BASE[inv])
    entry = docs["hosts.yaml"][host]
    original = get_at(entry["data"], path)
    junk = data.draw(wrong_kind(original), label="junk")
    set_at(entry["data"], path, junk)
    with inventory_dir(inv, docs={"hosts.yaml": docs["hosts.yaml"]}) as d:
        problems = outcome(d)
    field = dotted(path)
    assert problems is not None, f"{host} {field}={junk!r} was accepted"
    mine = [p for p in problems if p.host == host and (p.field == field
                                                        or p.field.startswith(field + "."))]
    assert mine, f"no problem for {host} {field}={junk!r}; got: {listing(problems)}"
    shown = "(hidden)" if str(path[-1]) in SECRET_KEYS else junk
    # A mapping is reported at its keys (missing / unknown); a string in `anycast` is the
    # shorthand for {prefix: ...}, reported at anycast.N.prefix.
    shorthand = path[0] == "anycast" and len(path) == 2 and isinstance(junk, str)
    if not isinstance(junk, dict) and not shorthand:
        assert any(p.field == field and p.value == shown for p in mine), listing(problems)


@FUZZ
@given(inv=st.sampled_from(sorted(INVENTORIES)), data=st.data(), junk=JUNK,
       more=st.lists(st.tuples(st.integers(0, 10**6), JUNK), max_size=2))
def test_random_junk_in_any_data_key_is_never_a_crash(inv: str, data: st.DataObject,
                                                      junk: Any,
                                                      more: list[tuple[int, Any]]) -> None:
    """Junk at any place of hosts', groups' or defaults' data (or as a new key): either the
    inventory is still valid and renders, or every problem is well-formed."""
    docs = copy.deepcopy(_BASE[inv])
    places: list[tuple[str, Any, tuple[Any, ...]]] = []
    for file in FILES:
        owners = {"": docs[file]} if file == "defaults.yaml" else docs[file] or {}
        for owner in owners.values():
            if isinstance(owner, dict) and isinstance(owner.get("data"), dict):
                places += [(file, owner["data"], p) for p in data_paths(owner["data"])]
                places.append((file, owner["data"], ("junk_key",)))
    for index, value in [(data.draw(st.integers(0, 10**6)), junk), *more]:
        _file, obj, path = places[index % len(places)]
        with contextlib.suppress(KeyError, IndexError, TypeError):
            set_at(obj, path, value)  # an earlier change may have replaced the parent
    with inventory_dir(inv, docs=docs) as d:
        outcome(d)


# (inventory, host, path in data, a base value to start from, values that must be refused)
_ASN_BAD = st.integers(-2**40, 0) | st.integers(2**32, 2**70)
_U32_BAD = st.integers(-2**40, -1) | st.integers(2**32, 2**70)
_PORT_BAD = st.integers(-2**20, 0) | st.integers(65536, 2**40)
OUT_OF_RANGE: list[tuple[str, str, tuple[Any, ...], st.SearchStrategy[int]]] = [
    ("default", "edge", ("asn",), _ASN_BAD),
    ("default", "isp", ("bgp", "neighbors", 0, "remote_as"), _ASN_BAD),
    ("default", "server-1", ("local_pref",), _U32_BAD),
    ("default", "edge", ("bgp", "maximum_paths_ibgp"), st.integers(-2**20, 0)),
    ("default", "edge", ("bgp", "maximum_prefix"), st.integers(-2**20, 0) | st.integers(
        2**32, 2**70)),
    ("default", "server-2", ("bgp_timers", "hold"), st.integers(-2**20, -1) | st.integers(1, 2)
     | st.integers(65536, 2**40)),  # 0 is valid: no hold timer
    ("default", "server-2", ("bgp_timers", "keepalive"), st.integers(-2**20, -1) | st.integers(
        65536, 2**40)),
    ("default", "server-2", ("bgp_timers", "connect_retry"), st.integers(-2**20, 0)
     | st.integers(65536, 2**40)),
    ("default", "server-1", ("bfd", "interval_ms"), st.integers(-2**20, 9) | st.integers(
        60001, 2**40)),
    ("default", "server-1", ("bfd", "multiplier"), st.integers(-2**20, 1) | st.integers(
        256, 2**40)),
    ("lab-dnat", "edge", ("nat", "destination", 0, "destination_port"), _PORT_BAD),
    ("lab-dnat", "edge", ("nat", "destination", 0, "rule"), st.integers(-2**20, 0)
     | st.integers(10000, 2**40)),
    ("vyos-seed-dnat", "edge", ("route_maps", "AS65500-OUT", 0, "rule"), st.integers(-2**20, 0)
     | st.integers(65536, 2**40)),
    ("vyos-seed", "isp", ("dns_forwarding", "cache_size"), st.integers(-2**40, -1)),
]


def _effective_data(docs: dict[str, Any], host: str) -> dict[str, Any]:
    """The host's data with inherited top-level keys copied in (so nested edits stay local)."""
    entry = docs["hosts.yaml"][host]
    merged: dict[str, Any] = dict(docs["defaults.yaml"].get("data") or {})
    for g in reversed(entry.get("groups") or []):
        merged.update(copy.deepcopy((docs["groups.yaml"].get(g) or {}).get("data") or {}))
    merged.update(entry.get("data") or {})
    return copy.deepcopy(merged)


@FUZZ
@given(spec=st.sampled_from(OUT_OF_RANGE), data=st.data())
def test_out_of_range_numbers_name_host_field_and_value(
        spec: tuple[str, str, tuple[Any, ...], st.SearchStrategy[int]],
        data: st.DataObject) -> None:
    inv, host, path, bad = spec
    number = data.draw(bad, label="number")
    docs = copy.deepcopy(_BASE[inv])
    merged = _effective_data(docs, host)
    if path[0] not in merged:
        merged[path[0]] = {}
    set_at(merged, path, number)
    docs["hosts.yaml"][host]["data"][path[0]] = merged[path[0]]
    with inventory_dir(inv, docs={"hosts.yaml": docs["hosts.yaml"]}) as d:
        problems = outcome(d)
    field = dotted(path)
    assert problems is not None, f"{host} {field}={number} was accepted"
    assert any(p.host == host and p.field == field and p.value == number for p in problems), (
        f"{host} {field}={number}: {listing(problems)}")


@FUZZ
@given(inv=st.sampled_from(sorted(INVENTORIES)), port=_PORT_BAD | _letters, data=st.data())
def test_nornir_port_out_of_range_or_not_a_number(inv: str, port: int | str,
                                                  data: st.DataObject) -> None:
    docs = copy.deepcopy(_BASE[inv])
    host = data.draw(st.sampled_from(sorted(docs["hosts.yaml"])), label="host")
    docs["hosts.yaml"][host]["port"] = port
    with inventory_dir(inv, docs={"hosts.yaml": docs["hosts.yaml"]}) as d:
        problems = outcome(d)
    assert problems is not None
    assert [(p.host, p.field, p.value) for p in problems] == [(host, "port", port)]


def _interface_addresses(docs: dict[str, Any]) -> list[tuple[str, int, int, str]]:
    return [(h, i, j, a)
            for h, e in docs["hosts.yaml"].items()
            for i, itf in enumerate((e.get("data") or {}).get("interfaces") or [])
            for j, a in enumerate(itf.get("addresses") or []) if a != "dhcp"]


@FUZZ
@given(inv=st.sampled_from(sorted(INVENTORIES)), data=st.data())
def test_duplicate_address_names_both_places(inv: str, data: st.DataObject) -> None:
    docs = copy.deepcopy(_BASE[inv])
    owner, i, j, address = data.draw(st.sampled_from(_interface_addresses(docs)), label="addr")
    other = data.draw(st.sampled_from(sorted(
        h for h, e in docs["hosts.yaml"].items()
        if h != owner and (e.get("data") or {}).get("interfaces"))), label="other")
    itfs = docs["hosts.yaml"][other]["data"]["interfaces"]
    k = data.draw(st.integers(0, len(itfs) - 1), label="interface")
    itfs[k]["addresses"] = [*itfs[k].get("addresses", []), address]
    n = len(itfs[k]["addresses"]) - 1
    with inventory_dir(inv, docs={"hosts.yaml": docs["hosts.yaml"]}) as d:
        problems = outcome(d)
    assert problems is not None
    for host, field in ((owner, f"interfaces.{i}.addresses.{j}"),
                        (other, f"interfaces.{k}.addresses.{n}")):
        assert any(p.host == host and p.field == field and p.value == address
                   and "also configured on" in p.message for p in problems), listing(problems)


def _owned(docs: dict[str, Any]) -> set[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    return {ipaddress.ip_interface(a).ip for *_, a in _interface_addresses(docs)}


def _neighbors(docs: dict[str, Any]) -> list[tuple[str, int]]:
    return [(h, n) for h, e in docs["hosts.yaml"].items()
            for n, _ in enumerate(((e.get("data") or {}).get("bgp") or {}).get("neighbors")
                                  or [])]


_names = st.from_regex(r"\A[A-Z][A-Z0-9-]{0,15}\Z")


@FUZZ
@given(inv=st.sampled_from(sorted(INVENTORIES)), kind=st.sampled_from(
    ["neighbor", "route_map_in", "route_map_out", "group"]), data=st.data())
def test_dangling_references_name_host_field_and_value(inv: str, kind: str,
                                                       data: st.DataObject) -> None:
    docs = copy.deepcopy(_BASE[inv])
    hosts = docs["hosts.yaml"]
    if kind == "group":
        host = data.draw(st.sampled_from(sorted(hosts)), label="host")
        name = data.draw(_names.filter(lambda g: g not in docs["groups.yaml"]), label="group")
        groups = hosts[host].setdefault("groups", [])
        groups.append(name)
        field, value = f"groups.{len(groups) - 1}", name
    else:
        host, n = data.draw(st.sampled_from(_neighbors(docs)), label="neighbor")
        nb = hosts[host]["data"]["bgp"]["neighbors"][n]
        if kind == "neighbor":
            owned = _owned(docs)
            ip = data.draw(st.ip_addresses(v=4).filter(lambda a: a not in owned), label="ip")
            nb["address"] = value = str(ip)
            field = f"bgp.neighbors.{n}.address"
        else:
            defined = (hosts[host]["data"].get("route_maps") or {})
            value = data.draw(_names.filter(lambda m: m not in defined), label="route map")
            nb[kind] = value
            field = f"bgp.neighbors.{n}.{kind}"
    with inventory_dir(inv, docs={"hosts.yaml": hosts}) as d:
        problems = outcome(d)
    assert problems is not None
    assert any(p.host == host and p.field == field and p.value == value for p in problems), (
        f"{host} {field}={value!r}: {listing(problems)}")


@pytest.mark.parametrize(("texts", "host", "field", "value"), [
    ({"hosts.yaml": "- isp\n- edge\n"}, "-", "hosts.yaml", ["isp", "edge"]),
    ({"hosts.yaml": "isp: hello\n"}, "isp", "hosts.yaml", "hello"),
    ({"hosts.yaml": "isp:\n  groups: [isp, frr]\n  data: [1, 2]\n"}, "isp", "data", [1, 2]),
    ({"hosts.yaml": "isp:\n  groups: frr\n"}, "isp", "groups", "frr"),
    ({"hosts.yaml": "isp:\n"}, "isp", "hosts.yaml", None),
    ({"hosts.yaml": "# nothing\n"}, "-", "hosts.yaml", None),
    ({"groups.yaml": "frr: 5\n"}, "group frr", "groups.yaml", 5),
    ({"groups.yaml": "a:\n  groups: [b]\nb:\n  groups: [a]\n",
      "hosts.yaml": "x:\n  groups: [a]\n"}, "group a", "groups", ["b"]),
    ({"defaults.yaml": "connection_options:\n  netmiko: [1]\n"}, "defaults",
     "connection_options.netmiko", [1]),
    ({"hosts.yaml": "isp: {}\nedge: {}\nisp: {}\n"}, "isp", "hosts.yaml", "line 3, column 1"),
])
def test_shapes_nornir_would_crash_on(texts: dict[str, str], host: str, field: str,
                                      value: object) -> None:
    """Found by the fuzzers above: each of these crashed inside Nornir's SimpleInventory
    (AttributeError, TypeError, KeyError, RecursionError) before the structure check."""
    with inventory_dir("default", texts=texts) as d:
        problems = outcome(d)
    assert problems is not None
    assert any((p.host, p.field, p.value) == (host, field, value) for p in problems), (
        listing(problems))


def test_yaml_aliases_expanding_without_end_are_refused_quickly() -> None:
    lines = ["x_anchors:", "  a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"  a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    text = (INVENTORIES["default"] / "defaults.yaml").read_text()
    text = "\n".join(lines) + "\n" + text.replace("data:\n", "data:\n  page: *a8\n", 1)
    with inventory_dir("default", texts={"defaults.yaml": text}) as d:
        problems = outcome(d)
    assert problems is not None
    [p] = problems
    assert p.field == "defaults.yaml" and "expands to more than" in p.message


@pytest.mark.parametrize(("host", "path", "value", "words"), [
    ("edge", ("bgp", "neighbors", 0, "description"), "s1\nrouter bgp 1", "newline"),
    ("server-1", ("bgp", "neighbors", 0, "description"), 'edge "x"', "double quote"),
    ("edge", ("interfaces", 1, "name"), "eth1 x", "interface name"),
    ("edge", ("interfaces", 1, "description"), "lan\n!", "newline"),
])
def test_text_that_would_inject_config_lines_is_refused(host: str, path: tuple[Any, ...],
                                                        value: str, words: str) -> None:
    """Found by the junk fuzzer: a newline in a description started a line of its own in the
    rendered frr.conf (`router bgp 1`), a space split an interface name."""
    docs = copy.deepcopy(_BASE["default"])
    set_at(docs["hosts.yaml"][host]["data"], path, value)
    with inventory_dir("default", docs={"hosts.yaml": docs["hosts.yaml"]}) as d:
        problems = outcome(d)
    assert any(p.host == host and p.field == dotted(path) and p.value == value
               and words in p.message for p in problems or []), listing(problems)


@pytest.mark.parametrize(("inv", "host", "path", "value", "field"), [
    ("vyos-seed", "isp", ("os_version",), "1.3", "os_version"),
    ("vyos-seed", "edge", ("os_version",), "10.12.12.1", "os_version"),
    ("lab-dnat", "edge", ("nat", "destination", 0, "translation_address"), "fe80::1",
     "nat.destination.0.translation_address"),
    ("default", "isp", ("dns_forwarding",), {"listen_on": ["eth1"]}, "dns_forwarding"),
])
def test_what_the_templates_cannot_render_is_a_validation_error(
        inv: str, host: str, path: tuple[Any, ...], value: Any, field: str) -> None:
    """Found by the junk fuzzer: these passed validation and failed only at render (exit 1)."""
    docs = copy.deepcopy(_BASE[inv])
    set_at(docs["hosts.yaml"][host]["data"], path, value)
    with inventory_dir(inv, docs={"hosts.yaml": docs["hosts.yaml"]}) as d:
        problems = outcome(d)
    assert any(p.host == host and p.field == field for p in problems or []), listing(problems)


# --- the CLI ----------------------------------------------------------------------------------


BadInventory = Callable[[], dict[str, str]]


def _bad_inventories() -> st.SearchStrategy[tuple[str, dict[str, str], str]]:
    """(inventory, replaced files, text that must appear in the error output)."""
    def with_data(host: str, path: tuple[Any, ...], value: Any) -> dict[str, str]:
        docs = copy.deepcopy(_BASE["default"])
        set_at(docs["hosts.yaml"][host]["data"], path, value)
        return {"hosts.yaml": yaml.safe_dump(docs["hosts.yaml"], sort_keys=False)}

    text = (INVENTORIES["default"] / "hosts.yaml").read_text()
    return st.one_of(
        st.integers(10, len(text) - 10).map(
            lambda at: ("default", {"hosts.yaml": text[:at] + "\n  - : [\n"},
                        "hosts.yaml='line ")),
        _letters.map(lambda v: ("default", with_data("edge", ("asn",), v), "edge: asn=")),
        _ASN_BAD.map(lambda v: ("default", with_data("edge", ("asn",), v), f"edge: asn={v}")),
        st.just(("default", with_data("server-2", ("interfaces", 0, "addresses", 0),
                                      "10.12.12.1/24"), "server-2: interfaces.0.addresses.0")),
        st.ip_addresses(v=4).filter(lambda a: not str(a).startswith(("10.", "172.16."))).map(
            lambda a: ("default", with_data("server-1", ("bgp", "neighbors", 0, "address"),
                                            str(a)), f"server-1: bgp.neighbors.0.address='{a}'")),
        _names.map(lambda g: ("default", {"hosts.yaml": text.replace(
            "groups: [isp, frr]", f"groups: [isp, frr, {g}X]")}, f"isp: groups.2='{g}X'")),
        JUNK.filter(lambda v: not isinstance(v, list) or v == []).map(
            lambda v: ("default", with_data("client", ("interfaces",), v), "client: ")),
    )


_COMMANDS = [["render", "--no-check"], ["deploy"], ["deploy", "--dry-run"], ["verify"]]


@settings(max_examples=max(EXAMPLES // 2, 10), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(bad=_bad_inventories(), command=st.sampled_from(_COMMANDS))
def test_cli_on_a_bad_inventory_exits_2_without_traceback_or_connection(
        bad: tuple[str, dict[str, str], str], command: list[str]) -> None:
    inv, texts, expected = bad
    out, err = io.StringIO(), io.StringIO()
    logs = io.StringIO()
    handler = logging.StreamHandler(logs)
    root = logging.getLogger()
    root.addHandler(handler)
    connect = mock.Mock(side_effect=AssertionError("a device was contacted"))
    try:
        with (inventory_dir(inv, texts=texts) as d, tempfile.TemporaryDirectory() as outdir,
              mock.patch.object(Host, "get_connection", connect),
              mock.patch.object(Host, "open_connection", connect),
              contextlib.redirect_stdout(out), contextlib.redirect_stderr(err)):
            argv = [command[0], "--inventory", str(d), *command[1:]]
            if command[0] == "render":
                argv += ["--out", outdir]
            rc = main(argv)
            assert not any(Path(outdir).iterdir()), "render wrote files for a bad inventory"
    finally:
        root.removeHandler(handler)
    everything = out.getvalue() + err.getvalue() + logs.getvalue()
    assert rc == 2, everything
    assert "Traceback" not in everything
    assert not connect.called
    assert "error: invalid inventory" in err.getvalue()
    assert expected in err.getvalue(), err.getvalue()
