"""BIRD 1.6 (`bird`), BIRD 2 (`bird2`: 2.0, 2.17) and BIRD 3 (`bird3`: 3.1) output:
`show protocols [all] [name]`, `show route`.

TTP templates (`<platform>_show_protocols.ttp`, `..._show_protocols_all.ttp`,
`..._show_route.ttp`) recognise each line; this module assembles the records. Every non-blank
line of `show protocols` and `show route` must be recognised, so another command's output or
an error message (`syntax error, ...`) raises ParseError.

`show route export|protocol P` on a protocol whose channel is down has no table to show:
BIRD 2 answers `No valid tables`, BIRD 3.1 `Requested 'show route export' to protocols which
aren't accepting exports at all.`; both are a ParseError saying so (verify reads what a server
exports from `show protocols all`, where a down session is a state, not an error). A plain
`show route` answered with `No valid tables` (BIRD 3 with no channel at all: nothing creates
a table) is an empty result, as BIRD 2's empty answer to it is.

BIRD 3 prints more than BIRD 2 in `show protocols all` (`Created:`, a channel's `Import state`
and `Export state`, BGP's `TX pending` and `Send hold timer`, the `RX limit` and `limit`
columns of the route change stats) and prints `show route` in its own order; none of it
changes the shape of a result, so the same state parses to the same result on every version.
"""

from __future__ import annotations

import re
from typing import Any

from nornir_anycast.parsing._common import Ctx, clean_lines, first_text, run_ttp

_ROUTES_RE = re.compile(
    r"(\d+) imported(?:, (\d+) filtered)?, (\d+) exported(?:, (\d+) preferred)?"
)
_ROUTE_RE = re.compile(
    r"^(?P<kind>unicast|unreachable|blackhole|prohibit|multipath|via (?P<via>\S+) on (?P<on>\S+)"
    r"|dev (?P<dev>\S+)|[a-z]+)"
    r"(?: (?P<via_extra>[^\[]*?))?"
    r" +\[(?P<proto>\S+) (?P<since>[^\]]*?)(?: from (?P<from>\S+))?\]"
    r"(?P<primary> \*)?"
    r"(?: (?P<ospf>\S+))?"
    r" \((?P<pref>\d+)(?:/(?P<metric>[^)]*))?\)"
    r"(?: \[(?P<attr>[^\]]*)\])?\s*$"
)
_NH_RE = re.compile(r"^(?:via (?P<via>\S+) on (?P<on>\S+)|dev (?P<dev>\S+))(?: weight (?P<w>\d+))?")
_AS_RE = re.compile(r"^(?:AS(?P<asn>\d+))?(?P<origin>[ie?])$")

#: What BIRD answers `show route ...` with when it has no table to show (BIRD 2; BIRD 3.1).
_NO_TABLE_ANSWERS = frozenset((
    "No valid tables",
    "Requested 'show route export' to protocols which aren't accepting exports at all.",
))
_ROUTE_OF_PROTOCOL_RE = re.compile(r"\b(?:export|protocol) ")

_ROUTE_KEYS = {"imported": 1, "filtered": 2, "exported": 3, "preferred": 4}


def _significant(lines: list[str]) -> list[str]:
    return [ln for ln in lines if ln.strip()]


def _check_all_recognised(ctx: Ctx, lines: list[str], records: list[dict[str, Any]]) -> None:
    """Each template line matches a whole line, one record per line: a count that differs
    means some line is not what this command prints."""
    sig = _significant(lines)
    if len(records) == len(sig):
        return
    seen = " ".join(str(v) for r in records for v in r.values())
    bad = next((ln for ln in sig if ln.split()[0] not in seen), sig[0] if sig else None)
    raise ctx.error(f"{len(sig) - len(records)} line(s) not recognised", bad)


def _protocol(rec: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": rec["name"],
        "proto": rec["proto"],
        "table": rec["table"],
        "state": rec["state"],
        "since": rec["since"],
        "info": (rec.get("info") or "").strip(),
    }


def parse_protocols(ctx: Ctx, text: str) -> dict[str, Any]:
    """`show protocols [name]`: one entry per protocol line."""
    lines = clean_lines(text, ctx, bird=True)
    records = run_ttp(f"{ctx.platform}_show_protocols", "\n".join(lines))
    if not records or "header" not in records[0]:
        raise ctx.error("no protocol table header (Name Proto Table State Since Info)",
                        first_text(lines))
    _check_all_recognised(ctx, lines, records)
    stray = next((r for r in records[1:] if "name" not in r), None)
    if stray is not None:  # e.g. a second header line: not one `show protocols` answer
        raise ctx.error("a line in the protocol table that is not a protocol",
                        " ".join(str(v) for v in stray.values()))
    return {"protocols": [_protocol(r) for r in records[1:]]}


def parse_protocols_all(ctx: Ctx, text: str) -> dict[str, Any]:
    """`show protocols all [name]`: protocol lines with their details.

    Every protocol carries `routes` when BIRD printed a `Routes:` line (BIRD 2: one per
    channel, summed; also per channel in `channels`), and the rows of its `Route change stats`
    table when printed, each a dict of the columns given (received, rejected, filtered,
    ignored, accepted; `---` left out), summed over the channels like `routes`:
    `import_updates`, `import_withdraws`, `export_updates`, `export_withdraws`. With
    `import none`, BIRD 2.0.12 counts each route it receives (and drops) as an import
    withdrawal, received and ignored, not as an update. BGP protocols also carry `bgp_state`,
    `neighbor_address`, `neighbor_as`, `local_as` (None on BIRD 1.6, which does not print it),
    and when shown `neighbor_id`, `session`, `source_address`, `hold_timer`,
    `keepalive_timer`, `last_error`, `description`.
    """
    lines = clean_lines(text, ctx, bird=True)
    records = run_ttp(f"{ctx.platform}_show_protocols_all", "\n".join(lines))
    if not records or "header" not in records[0]:
        raise ctx.error("no protocol table header (Name Proto Table State Since Info)",
                        first_text(lines))
    protocols: list[dict[str, Any]] = []
    proto: dict[str, Any] | None = None
    channel: dict[str, Any] | None = None
    for rec in records[1:]:
        if "name" in rec:
            proto = _protocol(rec)
            if proto["proto"].upper() == "BGP":
                proto.update({"bgp_state": None, "neighbor_address": None,
                              "neighbor_as": None, "local_as": None, "routes": None})
            protocols.append(proto)
            channel = None
        elif proto is None:
            raise ctx.error("detail line before any protocol line", str(rec))
        elif "channel" in rec:
            channel = {"name": rec["channel"]}
            proto.setdefault("channels", []).append(channel)
        elif "key" in rec:
            _detail(proto, channel, rec["key"].strip(), rec.get("value", "").strip())
    for p in protocols:  # the stats tables' header, kept only while reading their rows
        p.pop("_stats_columns", None)
        for c in p.get("channels", []):
            c.pop("_stats_columns", None)
    return {"protocols": protocols}


_BGP_KEYS = {
    "BGP state": ("bgp_state", str),
    "Neighbor address": ("neighbor_address", str),
    "Neighbor AS": ("neighbor_as", int),
    "Local AS": ("local_as", int),
    "Neighbor ID": ("neighbor_id", str),
    "Session": ("session", str),
    "Source address": ("source_address", str),
    "Hold timer": ("hold_timer", str),
    "Keepalive timer": ("keepalive_timer", str),
    "Last error": ("last_error", str),
    "Description": ("description", str),
}
_CHANNEL_KEYS = {
    "State": "state",
    "Table": "table",
    "Preference": "preference",
    "Input filter": "input_filter",
    "Output filter": "output_filter",
}


def _routes(value: str) -> dict[str, int] | None:
    m = _ROUTES_RE.search(value)
    if m is None:
        return None
    out = {"imported": int(m.group(1)), "exported": int(m.group(3)),
           "preferred": int(m.group(4) or 0)}
    if m.group(2) is not None:
        out["filtered"] = int(m.group(2))
    return out


#: `Route change stats` rows and their key in the parsed protocol / channel.
_STATS_ROWS = {"Import updates": "import_updates", "Import withdraws": "import_withdraws",
               "Export updates": "export_updates", "Export withdraws": "export_withdraws"}
#: The columns BIRD 1.6 and 2.x print (their header line, `Route change stats:`, names them),
#: and the ones a parsed row keeps. BIRD 3 prints two more, `RX limit` and `limit` (between
#: ignored and accepted): they are read by name and left out, so a row has the same keys on
#: every version.
_STATS_COLUMNS = ("received", "rejected", "filtered", "ignored", "accepted")
_STATS_HEADER_RE = re.compile(r"RX limit|\S+")


def _stats_header(value: str) -> tuple[str, ...]:
    """The column names of a `Route change stats:` header line (`RX limit` is one)."""
    return tuple(_STATS_HEADER_RE.findall(value))


def _stats_row(value: str, columns: tuple[str, ...]) -> dict[str, int] | None:
    """One `Route change stats` row: its numbers by column (`---`: not counted, left out)."""
    cells = value.split()
    if len(cells) != len(columns) or not all(c.isdigit() or c == "---" for c in cells):
        return None
    return {col: int(c) for col, c in zip(columns, cells, strict=True)
            if c != "---" and col in _STATS_COLUMNS}


def _add_stats(proto: dict[str, Any], channel: dict[str, Any] | None, name: str,
               row: dict[str, int]) -> None:
    if channel is not None:
        channel[name] = row
    total: dict[str, int] = proto.setdefault(name, {})
    for k, v in row.items():
        total[k] = total.get(k, 0) + v


def _detail(proto: dict[str, Any], channel: dict[str, Any] | None, key: str, value: str) -> None:
    if key == "Route change stats":
        columns = _stats_header(value)
        if columns:
            (channel if channel is not None else proto)["_stats_columns"] = columns
        return
    if key in _STATS_ROWS:
        holder = channel if channel is not None else proto
        columns = holder.get("_stats_columns", _STATS_COLUMNS)
        row = _stats_row(value, columns)
        if row is not None:
            _add_stats(proto, channel, _STATS_ROWS[key], row)
        return
    if key == "Routes":
        routes = _routes(value)
        if routes is None:
            return
        if channel is not None:
            channel["routes"] = routes
        total = proto.get("routes") or {"imported": 0, "exported": 0, "preferred": 0}
        proto["routes"] = total
        for k, v in routes.items():
            total[k] = total.get(k, 0) + v
        return
    if channel is not None and key in _CHANNEL_KEYS:
        channel[_CHANNEL_KEYS[key]] = int(value) if key == "Preference" and value.isdigit() \
            else value
        return
    if key in _BGP_KEYS and proto["proto"].upper() == "BGP":
        name, conv = _BGP_KEYS[key]
        try:
            proto[name] = conv(value.split()[0]) if conv is int else value
        except (ValueError, IndexError):
            proto[name] = value
        return
    if key == "Preference" and channel is None and value.isdigit():
        proto["preference"] = int(value)  # BIRD 1.6: at protocol level
    elif key in ("Input filter", "Output filter") and channel is None:
        proto[_CHANNEL_KEYS[key]] = value
    elif key == "Description" and "description" not in proto:
        proto["description"] = value


def parse_route(ctx: Ctx, text: str) -> dict[str, Any]:
    """`show route [...]`: one entry per route, in the order printed.

    Each route: prefix, protocol, primary (`*`), type (unicast/unreachable/...; BIRD 1.6
    prints the next hop instead, and `unicast` is given), since, from (the BGP neighbor when
    BIRD prints it), preference, metric (BIRD 1.6's `pref/metric`), origin_as and origin (from
    `[AS65000i]`: BIRD shows the AS that originated the route, not the whole path; `[i]` is an
    empty path, origin_as None), next_hops [{via, dev, weight}], table (BIRD 2's `Table master4:`).
    """
    lines = clean_lines(text, ctx, bird=True)
    answer = " ".join(_significant(lines)).strip()
    if answer in _NO_TABLE_ANSWERS:
        if _ROUTE_OF_PROTOCOL_RE.search(ctx.command):
            raise ctx.error("no table to show: the protocol is not exporting (its session or "
                            "channel is down)", answer)
        return {"routes": []}
    records = run_ttp(f"{ctx.platform}_show_route", "\n".join(lines))
    _check_all_recognised(ctx, lines, records)
    routes: list[dict[str, Any]] = []
    table: str | None = None
    prefix: str | None = None
    route: dict[str, Any] | None = None
    for rec in records:
        if "table" in rec:
            table = rec["table"]
            continue
        if "route" in rec:
            if "prefix" in rec:
                prefix = rec["prefix"]
            if prefix is None:
                raise ctx.error("route line before any prefix", rec["route"])
            route = _route(ctx, prefix, rec["route"].strip(), table)
            routes.append(route)
        elif "next_hop" in rec:
            if route is None:
                raise ctx.error("next hop line before any route", rec["next_hop"])
            m = _NH_RE.match(rec["next_hop"].strip())
            if m is None:
                raise ctx.error("next hop line not understood", rec["next_hop"])
            route["next_hops"].append({"via": m.group("via"), "dev": m.group("on") or
                                       m.group("dev"),
                                       "weight": int(m.group("w")) if m.group("w") else None})
    return {"routes": routes}


def _route(ctx: Ctx, prefix: str, text: str, table: str | None) -> dict[str, Any]:
    m = _ROUTE_RE.match(text)
    if m is None:
        raise ctx.error("route line not understood", text)
    kind = m.group("kind")
    next_hops: list[dict[str, Any]] = []
    if m.group("via"):
        kind = "unicast"
        next_hops.append({"via": m.group("via"), "dev": m.group("on"), "weight": None})
    elif m.group("dev"):
        kind = "unicast"
        next_hops.append({"via": None, "dev": m.group("dev"), "weight": None})
    origin_as: int | None = None
    origin: str | None = None
    attr = m.group("attr")
    if attr is not None:
        am = _AS_RE.match(attr.strip())
        if am:
            origin_as = int(am.group("asn")) if am.group("asn") else None
            origin = am.group("origin")
    metric = m.group("metric")
    return {
        "prefix": prefix,
        "protocol": m.group("proto"),
        "primary": bool(m.group("primary")),
        "type": kind,
        "since": m.group("since"),
        "from": m.group("from"),
        "preference": int(m.group("pref")),
        "metric": int(metric) if metric and metric.isdigit() else None,
        "origin_as": origin_as,
        "origin": origin,
        "next_hops": next_hops,
        "table": table,
    }
