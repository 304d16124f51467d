"""FRR / Quagga (VyOS) BGP output: the table, one prefix's detail, the summary, FRR's JSON.

The table (`show ip bgp`) is the one output that can be huge (a full Internet table is about a
million paths), so only its header goes through TTP (`<platform>_show_ip_bgp.ttp`): router id,
local AS, legend and the column header line. The body is read in Python by the positions of
that header line: FRR up to 8.x and Quagga print the status in columns 0-2, the network from
the `Network` column (wrapping to the next line when it is 17 characters or longer), the next
hop from `Next Hop`, then Metric, LocPrf and Weight right-aligned under their headers (Metric
and LocPrf blank when the attribute is absent), then the AS path and the origin code.

FRR 10 (already 9.x) prints a column more in front: the RPKI state (`V`, `I`, `N` or blank)
in column 0, the status in columns 1-3 and a space, so its header's `Network` starts at
column 5 instead of 3; the status is read from where the header puts it. It also prints the
best path of a prefix first, and after a wrapped long network it indents the path line by 20
as before, two columns short of the header's `Next Hop`: such a line is moved back under the
header before it is read. Both layouts give the same result.

IPv6 (`show bgp ipv6 unicast`, the same header and columns): a next hop of 16 characters or
more (every link-local one, FRR's choice when a path has both) ends its line, and FRR prints
Metric, LocPrf, Weight and the path on the next line from column 36: under the header on FRR
8's layout, two columns short on FRR 10's, so the line is shifted to put its weight under
`Weight`. With a long network too, one path takes three lines. The prefix detail names the
global next hop first (`fd00:12:1::1 from ...`) and the link-local one on a line of its own,
`(fe80::...) (used)`, which is not read: the detail's next hop is the global one, the table's
(text and JSON) the one FRR uses and prints.

When the columns are collapsed (a table copied from a web page, as in the seed howto), the
numbers cannot be told apart by position; `_token_path` applies this documented rule:

* the numbers between the next hop and the origin code are `[metric] [localpref] weight`
  followed by the AS path;
* the split chosen is the smallest number of leading fields k (1..3) such that the AS path
  left over contains no 0 (AS 0 is never in a path, RFC 7607) and, for an internal (`i`)
  path, k >= 2 (an iBGP path always carries LOCAL_PREF); a split whose weight is 32768 (a
  locally originated route) is preferred over one whose weight is 0, and both over any other;
* k = 1: weight; k = 2: internal -> localpref, weight; external -> metric, weight;
  k = 3: metric, localpref, weight.

So `*>i10.13.13.1/32 10.12.12.1 100 0 i` is localpref 100, weight 0, empty AS path;
`*> 0.0.0.0 172.16.42.2 0 0 65000 i` is metric 0, weight 0, AS path [65000].
"""

from __future__ import annotations

import gc
import json
import re
from typing import Any

from nornir_anycast.parsing._common import (
    ORIGIN_WORDS,
    Ctx,
    as_path_numbers,
    classful,
    clean_lines,
    first_text,
    is_ip,
    run_ttp,
)

Path = dict[str, Any]

_ORIGINS = frozenset(("i", "e", "?"))
_HEADER_SCAN = 60  # the column header is within the first lines of the table
_FOOTERS = ("Displayed ", "Total number of prefixes", "Total number of paths")
_STATUS_RE = re.compile(r"^([*sSRdh]?)([>=dhr]?) ?(i?)")


class _AsnCache(dict[str, int]):
    """`cache[text]` is int(text), computed once per distinct AS number (a full table has a few
    hundred thousand paths per distinct AS): a dict hit is cheaper than int(), and the ints
    are shared."""

    def __missing__(self, key: str) -> int:
        value = int(key)
        self[key] = value
        return value


def _empty_table(router_id: str | None = None, local_as: int | None = None) -> dict[str, Any]:
    return {"router_id": router_id, "local_as": local_as, "routes": []}


# --------------------------------------------------------------------------- show ip bgp


def parse_table(ctx: Ctx, text: str) -> dict[str, Any]:
    """`show ip bgp` (FRR, VyOS 1.2+ and Quagga/VyOS 1.1), aligned or collapsed columns."""
    lines = clean_lines(text, ctx)
    header_at = None
    for i, line in enumerate(lines[:_HEADER_SCAN]):
        s = line.lstrip()
        if s.startswith("Network ") and "Next Hop" in s and "Path" in s:
            header_at = i
            break
    head_text = "\n".join(lines[: (header_at + 1) if header_at is not None else _HEADER_SCAN])
    records = run_ttp(f"{ctx.platform}_show_ip_bgp", head_text)
    info: dict[str, Any] = {}
    for rec in records:
        info.update(rec)
    router_id = info.get("router_id")
    local_as = int(info["local_as"]) if "local_as" in info else None

    if header_at is None:
        if "empty_total" in info:
            return _empty_table(router_id, local_as)
        raise ctx.error("no BGP table header (Network  Next Hop  Metric ...)",
                        first_text(lines))
    if "columns" not in info:  # pragma: no cover - template and scan disagree
        raise ctx.error("column header not recognised", lines[header_at], header_at + 1)

    header = lines[header_at]
    return {
        "router_id": router_id,
        "local_as": local_as,
        "routes": _table_body(ctx, lines, header_at + 1, header),
    }


def parse_neighbor_routes(ctx: Ctx, text: str) -> dict[str, Any]:
    """`show ip bgp neighbors <address> received-routes` / `routes` (FRR): the table of `show ip
    bgp` restricted to one neighbor (received-routes: everything it sent, kept by
    `soft-reconfiguration inbound`, filtered or not). FRR prints nothing at all when the
    neighbor sent (or the edge accepted) no route: an empty table."""
    if not text.strip():
        return _empty_table()
    return parse_table(ctx, text)


def _status_column(header: str) -> int:
    """Where the 3-character status starts: 0 (FRR 8, Quagga: `   Network`), 1 after FRR 10's
    RPKI-state column (`     Network`: the status, then a space, then the network)."""
    return 1 if header.find("Network") >= 5 else 0


def _columns(header: str) -> tuple[int, int, int, int, int] | None:
    """(network, next hop, metric end, locprf end, weight end) from an aligned header line,
    None when the header's spacing was collapsed."""
    net = header.find("Network")
    nh = header.find("Next Hop")
    me = header.find("Metric") + len("Metric")
    le = header.find("LocPrf") + len("LocPrf")
    we = header.find("Weight") + len("Weight")
    if nh - net < 10 or le - me < 4 or we - le < 4:
        return None
    return net, nh, me, le, we


def _table_body(ctx: Ctx, lines: list[str], start: int, header: str) -> list[dict[str, Any]]:
    # A full table makes millions of small dicts and lists, none in a reference cycle; the
    # cyclic garbage collector would rescan them again and again (about half the run time).
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _table_rows(ctx, lines, start, header)
    finally:
        if enabled:
            gc.enable()


def _table_rows(ctx: Ctx, lines: list[str], start: int, header: str) -> list[dict[str, Any]]:
    cols = _columns(header)
    routes: list[dict[str, Any]] = []
    route: dict[str, Any] | None = None
    pending: str | None = None  # a line holding only status + a long network (wrapped)
    aligned = cols is not None
    st = _status_column(header)  # status in line[st:st + 3]
    asn = _AsnCache().__getitem__  # AS number text -> int, each distinct one parsed once
    net, nh, me, le, we = cols if cols is not None else (0, 0, 0, 0, 0)
    origins = _ORIGINS
    # The fast path below is the hot loop of a full-table parse. Each line is cut at the
    # header's column positions into three pieces, and each piece is looked up in a memo of the
    # pieces seen before: "next hop + metric", "locprf + weight" and "AS path + origin" repeat a
    # lot in a real table (few next hops; one AS path per origin AS and peer), so most lines
    # cost three slices, three dict hits and one dict literal. A right-aligned column is blank
    # when its last character is a space; int() ignores the padding.
    hops: dict[str, tuple[str, int | None]] = {}
    nums: dict[str, tuple[int | None, int | None]] = {}
    tails: dict[str, tuple[tuple[int, ...], str]] = {}
    hop_get, num_get, tail_get = hops.get, nums.get, tails.get
    # A next hop of 16 characters or more (IPv6: every link-local one) ends its line; the
    # numbers follow on the next line under their headers: (the line up to Next Hop, the hop).
    hop_wrap: tuple[str, str] | None = None
    for lineno in range(start, len(lines)):
        line = lines[lineno]
        if not line:
            continue
        p: Path | None = None
        network = ""
        wrapped_hop: str | None = None
        if hop_wrap is not None:
            head, wrapped_hop = hop_wrap
            hop_wrap = None
            cont = _hop_continuation(line, nh, we)
            if cont is None:
                raise ctx.error("wrapped next hop not followed by its metric, local "
                                "preference, weight and path", line, lineno + 1)
            line = head + cont[nh:]
        elif pending is not None and aligned and line[:1] == " ":
            # the path of a wrapped network: FRR 10 indents it by 20, two short of `Next Hop`
            body = line.lstrip()
            if body and len(line) - len(body) != nh:
                line = " " * nh + body
        if aligned and line[nh - 1:nh] == " ":
            try:
                piece = line[we:]
                tail = tail_get(piece)
                if tail is None:
                    rest = piece.split()
                    origin = rest.pop()
                    if origin not in origins:
                        raise ValueError(origin)
                    try:
                        tail = (tuple(map(asn, rest)), origin)
                    except ValueError:
                        tail = (tuple(as_path_numbers(rest)), origin)
                    tails[piece] = tail
                piece = line[nh:me]
                hop = hop_get(piece) if wrapped_hop is None else _metric_only(wrapped_hop, piece)
                if hop is None:
                    seg = piece.split()
                    if not 0 < len(seg) < 3:
                        raise ValueError(piece)
                    hop = hops[piece] = (seg[0], int(seg[1]) if len(seg) == 2 else None)
                piece = line[me:we]
                num = num_get(piece)
                if num is None:
                    num = nums[piece] = (
                        None if line[le - 1] == " " else int(line[me:le]),
                        None if line[we - 1] == " " else int(line[le:we]),
                    )
                sel = line[st + 1]
                p = {
                    "next_hop": hop[0],
                    "valid": line[st] == "*",
                    "best": sel == ">",
                    "multipath": sel == "=",
                    "internal": line[st + 2] == "i",
                    "metric": hop[1],
                    "local_pref": num[0],
                    "weight": num[1],
                    "as_path": list(tail[0]),
                    "origin": tail[1],
                }
                if line[net] != " ":
                    network = line[net:nh].rstrip()
            except (ValueError, IndexError):
                p = None
        if p is None:
            if line.isspace() or line.startswith(_FOOTERS):
                continue
            if wrapped_hop is None and aligned and _hop_ends_line(line, nh):
                # (no fast path for it: such a line has nothing under Weight and Path)
                hop_wrap = (line[:nh], line[nh:].strip())
                continue
            if pending is None and _wrapped_network(line[st:]):
                # status and a network of 17+ characters; the path follows on the next line
                pending = line[st:]
                continue
            parsed = _token_path(line[st:])
            if parsed is None:
                raise ctx.error("not a BGP table line", line, lineno + 1)
            network, p = parsed
        if pending is not None:
            if network:
                raise ctx.error("wrapped network not followed by its path", pending, lineno)
            status, network = _split_status(pending)
            p.update(_status_flags(status))
            pending = None
        if network:
            try:
                prefix = network if "/" in network else classful(network)
            except ValueError:
                raise ctx.error("not a network", line, lineno + 1) from None
            route = {"prefix": prefix, "paths": [p]}
            routes.append(route)
        elif route is None:
            raise ctx.error("path line before any network", line, lineno + 1)
        else:
            route["paths"].append(p)
    if pending is not None or hop_wrap is not None:
        raise ctx.error("table ends in the middle of a wrapped line",
                        pending if pending is not None else "".join(hop_wrap or ()), len(lines))
    return routes


def _hop_ends_line(line: str, nh: int) -> bool:
    """A line whose next hop (16 characters or more, an IPv6 address) is its last field: FRR
    prints the metric, local preference, weight and path on the next line."""
    if line[nh - 1:nh] != " " or line[nh:nh + 1] in ("", " "):
        return False
    rest = line[nh:].rstrip()
    return len(rest) >= 16 and ":" in rest and " " not in rest


def _hop_continuation(line: str, nh: int, we: int) -> str | None:
    """The line after a wrapped next hop, aligned under the header: FRR (8.4 and 10.3 alike)
    starts its numbers 36 columns in, which is under the header on FRR 8's layout but two
    columns short on FRR 10's (RPKI column: `Next Hop` at 22): the shift that puts the last
    digit of the weight (always printed) under the header's `Weight` is applied. None when the
    line is not such a continuation."""
    if line[:nh - 4].strip() or not line.strip():
        return None
    for shift in dict.fromkeys((nh - 20, 0)):
        cont = " " * shift + line if shift >= 0 else line[-shift:]
        if cont[:nh].isspace() and cont[we - 1:we].isdigit() and cont[we:we + 1] in (" ", ""):
            return cont
    return None


def _metric_only(next_hop: str, piece: str) -> tuple[str, int | None]:
    """(next hop, metric) when the next hop was wrapped: `piece` (the columns from Next Hop to
    the end of Metric of the continuation line) holds the metric alone, or nothing."""
    seg = piece.split()
    if len(seg) > 1 or (seg and not seg[0].isdigit()):
        raise ValueError(piece)
    return next_hop, int(seg[0]) if seg else None


def _split_status(line: str) -> tuple[str, str]:
    m = _STATUS_RE.match(line)
    end = m.end() if m else 0
    return line[:end], line[end:].strip()


def _status_flags(status: str) -> dict[str, bool]:
    m = _STATUS_RE.match(status)
    v, sel, i = (m.group(1), m.group(2), m.group(3)) if m else ("", "", "")
    return {"valid": v == "*", "best": sel == ">", "multipath": sel == "=", "internal": i == "i"}


def _wrapped_network(line: str) -> bool:
    status, rest = _split_status(line)
    return bool(status.strip()) and len(rest.split()) == 1 and _looks_ip(rest.split("/")[0])


def _looks_ip(tok: str) -> bool:
    return tok.count(".") == 3 or ":" in tok


def _token_path(line: str) -> tuple[str, Path] | None:
    """One table line with collapsed whitespace -> (network or "", path); None if it is not one.

    See the module docstring for the rule that splits metric / localpref / weight / AS path.
    """
    m = _STATUS_RE.match(line)
    if m is None or not m.group(1):
        return None
    flag_valid, flag_sel, flag_int = m.group(1), m.group(2), m.group(3)
    toks = line[m.end():].split()
    if len(toks) < 2:
        return None
    network = ""
    if len(toks) >= 3 and _looks_ip(toks[0]) and _looks_ip(toks[1]) and "/" not in toks[1]:
        network, next_hop, rest = toks[0], toks[1], toks[2:]
    elif _looks_ip(toks[0]) and "/" not in toks[0]:
        next_hop, rest = toks[0], toks[1:]
    else:
        return None
    if not rest or rest[-1] not in _ORIGINS or not is_ip(next_hop):
        return None
    if network and not is_ip(network.split("/")[0]):
        return None
    origin = rest[-1]
    body = rest[:-1]
    nums: list[int] = []
    for tok in body:
        if not tok.isdigit():
            break
        nums.append(int(tok))
    tail = body[len(nums):]
    internal = flag_int == "i"

    def ok(k: int) -> bool:
        return 1 <= k <= len(nums) and 0 not in nums[k:] and (not internal or k >= 2)

    candidates = [k for k in (1, 2, 3) if ok(k)]
    if not candidates:
        k = min(len(nums), 3)
    else:
        k = next((c for c in candidates if nums[c - 1] == 32768),
                 next((c for c in candidates if nums[c - 1] == 0), candidates[0]))
    fields = nums[:k]
    metric = local_pref = weight = None
    if k == 1:
        weight = fields[0]
    elif k == 2:
        if internal:
            local_pref, weight = fields
        else:
            metric, weight = fields
    elif k == 3:
        metric, local_pref, weight = fields
    as_path = nums[k:] + as_path_numbers(tail)
    return network, {
        "next_hop": next_hop,
        "valid": flag_valid == "*",
        "best": flag_sel == ">",
        "multipath": flag_sel == "=",
        "internal": internal,
        "metric": metric,
        "local_pref": local_pref,
        "weight": weight,
        "as_path": as_path,
        "origin": origin,
    }


# --------------------------------------------------------------------------- show ip bgp PREFIX


def parse_prefix(ctx: Ctx, text: str) -> dict[str, Any]:
    """`show ip bgp <prefix>`: every path of one prefix with its flags.

    `% Network not in table` is the answer for a prefix the router does not have: an empty
    result (no routes), not an error.
    """
    lines = clean_lines(text, ctx)
    records = run_ttp(f"{ctx.platform}_show_ip_bgp_prefix", "\n".join(lines))
    if any("not_in_table" in r for r in records):
        return _empty_table()
    if not records or "prefix" not in records[0]:
        raise ctx.error("no 'BGP routing table entry for ...' line", first_text(lines))
    routes: list[dict[str, Any]] = []
    route: dict[str, Any] | None = None
    path: Path | None = None
    for rec in records:
        if "prefix" in rec:
            route = {"prefix": classful(rec["prefix"]), "paths": []}
            routes.append(route)
            path = None
        elif "as_path" in rec and route is not None:
            aspath = rec["as_path"].split(",", 1)[0]
            path = {
                "next_hop": None, "valid": False, "best": False, "multipath": False,
                "internal": False, "metric": None, "local_pref": None, "weight": None,
                "as_path": [] if aspath.strip() == "Local" else as_path_numbers(aspath.split()),
                "origin": None,
            }
            route["paths"].append(path)
        elif "next_hop_line" in rec and path is not None:
            path["next_hop"] = rec["next_hop_line"].split()[0]
        elif "origin" in rec and path is not None:
            _attrs(path, rec["origin"], rec.get("attrs", ""))
    for r in routes:
        for p in r["paths"]:
            if p["next_hop"] is None or p["origin"] is None:
                raise ctx.error(f"path of {r['prefix']} without next hop or origin line")
    return {"router_id": None, "local_as": None, "routes": routes}


def _attrs(path: Path, origin: str, attrs: str) -> None:
    origin = origin.rstrip(",")
    path["origin"] = ORIGIN_WORDS.get(origin, origin)
    for item in (a.strip() for a in attrs.split(",")):
        if not item:
            continue
        word, _, value = item.partition(" ")
        if word == "metric" and value.isdigit():
            path["metric"] = int(value)
        elif word == "localpref" and value.isdigit():
            path["local_pref"] = int(value)
        elif word == "weight" and value.isdigit():
            path["weight"] = int(value)
        elif word == "valid":
            path["valid"] = True
        elif word in ("internal", "confed-internal"):
            path["internal"] = True
        elif word == "multipath":
            path["multipath"] = True
        elif word == "best":
            path["best"] = True


# --------------------------------------------------------------------------- summary


def parse_summary(ctx: Ctx, text: str) -> dict[str, Any]:
    """`show ip bgp summary`: one entry per neighbor.

    State/PfxRcd holds a count when the session is Established (state "Established",
    prefixes_received the count), else the state name ("Active", "Idle (Admin)", ...) and
    prefixes_received None. FRR's `(Policy)` (Established, but no policy lets routes in/out)
    gives state "Established", prefixes_received None, `"policy": "(Policy)"`.
    `% No BGP neighbors found` is an empty result.
    """
    lines = _join_wrapped_neighbors(clean_lines(text, ctx))
    records = run_ttp(f"{ctx.platform}_show_ip_bgp_summary", "\n".join(lines))
    if any("no_neighbors" in r for r in records):
        return {"router_id": None, "local_as": None, "peers": []}
    ident = next((r for r in records if "router_id" in r), None)
    if ident is None or not any("columns" in r for r in records):
        raise ctx.error("no 'BGP router identifier' line and neighbor table header",
                        first_text(lines))
    peers = []
    for rec in records:
        if "peer" not in rec:
            continue
        toks = rec["peer"].split()
        rest = toks[9:]
        peer: dict[str, Any] = {
            "neighbor": toks[0],
            "remote_as": int(toks[2]),
            "state": "",
            "prefixes_received": None,
            "up_down": toks[8],
        }
        if rest and rest[0].isdigit():
            peer["state"] = "Established"
            peer["prefixes_received"] = int(rest[0])
            rest = rest[1:]
        elif rest and rest[0] == "(Policy)":
            peer["state"] = "Established"
            peer["policy"] = "(Policy)"
            rest = rest[1:]
        elif rest:
            state = rest[0]
            rest = rest[1:]
            if rest and rest[0].startswith("("):
                state = f"{state} {rest[0]}"
                rest = rest[1:]
            peer["state"] = state
        if rest and (rest[0].isdigit() or rest[0] == "(Policy)"):
            peer["prefixes_sent"] = int(rest[0]) if rest[0].isdigit() else None
            rest = rest[1:]
        if rest:
            desc = " ".join(rest)
            peer["description"] = None if desc == "N/A" else desc
        peers.append(peer)
    return {"router_id": ident["router_id"], "local_as": int(ident["local_as"]), "peers": peers}


def _join_wrapped_neighbors(lines: list[str]) -> list[str]:
    """FRR prints a neighbor longer than 15 characters (IPv6) alone on its line and the columns
    on the next one, indented; join them."""
    out: list[str] = []
    for line in lines:
        if out and line.startswith(" " * 16) and line.strip()[:1].isdigit():
            prev = out[-1]
            if prev.strip() and len(prev.split()) == 1 and not prev.startswith(" "):
                out[-1] = prev + " " + line.strip()
                continue
        out.append(line)
    return out


# --------------------------------------------------------------------------- JSON (FRR)


def _json(ctx: Ctx, text: str) -> Any:
    lines = clean_lines(text, ctx)
    body = "\n".join(lines).strip()
    try:
        return json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than FRR ever nests
        raise ctx.error("output is not JSON", first_text(lines)) from None


#: What a JSON document of the wrong shape raises while it is read as FRR's (a list where FRR
#: prints an object, text where it prints a number): turned into ParseError.
_SHAPE_ERRORS = (AttributeError, TypeError, ValueError, KeyError, IndexError)


def parse_table_json(ctx: Ctx, text: str) -> dict[str, Any]:
    """`show ip bgp json` (FRR) mapped to the shape of the text table.

    Flags follow what the text table prints: `multipath` is FRR's "multipath" key on the non-best
    paths only, as the `=` marker (FRR 8.4 sets the key on those only; FRR 10 on the best path
    too, whose text line still reads `*>`).
    """
    data = _json(ctx, text)
    try:
        return _table_json(ctx, data, text)
    except _SHAPE_ERRORS as exc:
        raise ctx.error(f"JSON not shaped like FRR's ({type(exc).__name__}: {exc})",
                        text.strip()[:80]) from None


def _table_json(ctx: Ctx, data: Any, text: str) -> dict[str, Any]:
    if not isinstance(data, dict) or "routes" not in data or not isinstance(data["routes"], dict):
        raise ctx.error("JSON without a 'routes' object", text.strip()[:80])
    routes = []
    for prefix, paths in data["routes"].items():
        routes.append({"prefix": classful(prefix),
                       "paths": [_json_table_path(p) for p in paths]})
    local_as = data.get("localAS")
    return {"router_id": data.get("routerId"),
            "local_as": int(local_as) if local_as is not None else None, "routes": routes}


def _first_nexthop(p: dict[str, Any]) -> str | None:
    hops = p.get("nexthops") or []
    for h in hops:
        if h.get("used", True) and h.get("ip"):
            return str(h["ip"])
    return str(hops[0]["ip"]) if hops and hops[0].get("ip") else None


def _used_nexthop(p: dict[str, Any]) -> str | None:
    """The next hop FRR's text table prints: the one marked `used` (IPv6: the link-local one
    when the path has both, unless `prefer-global`), else the first."""
    for h in p.get("nexthops") or []:
        if h.get("used") is True and h.get("ip"):
            return str(h["ip"])
    return _first_nexthop(p)


def _json_table_path(p: dict[str, Any]) -> Path:
    path = p.get("path", "")
    return {
        "next_hop": _used_nexthop(p),
        "valid": bool(p.get("valid")),
        "best": bool(p.get("bestpath")),
        "multipath": bool(p.get("multipath")) and not p.get("bestpath"),
        "internal": p.get("pathFrom") == "internal",
        "metric": p.get("metric"),
        "local_pref": p.get("locPrf"),
        "weight": p.get("weight"),
        "as_path": as_path_numbers(str(path).split()),
        "origin": ORIGIN_WORDS.get(str(p.get("origin")), p.get("origin")),
    }


def parse_prefix_json(ctx: Ctx, text: str) -> dict[str, Any]:
    """`show ip bgp <prefix> json` (FRR) mapped to the shape of the text detail; `{}` (the
    prefix is not in the table) is an empty result."""
    data = _json(ctx, text)
    try:
        return _prefix_json(ctx, data, text)
    except _SHAPE_ERRORS as exc:
        raise ctx.error(f"JSON not shaped like FRR's ({type(exc).__name__}: {exc})",
                        text.strip()[:80]) from None


def _prefix_json(ctx: Ctx, data: Any, text: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ctx.error("JSON is not an object", text.strip()[:80])
    if not data:
        return _empty_table()
    if "prefix" not in data or not isinstance(data.get("paths"), list):
        raise ctx.error("JSON without 'prefix' and 'paths'", text.strip()[:80])
    paths = []
    for p in data["paths"]:
        best = p.get("bestpath")
        aspath = p.get("aspath")
        segs = aspath.get("string", "") if isinstance(aspath, dict) else str(aspath or "")
        paths.append({
            "next_hop": _first_nexthop(p),
            "valid": bool(p.get("valid")),
            "best": bool(best.get("overall")) if isinstance(best, dict) else bool(best),
            "multipath": bool(p.get("multipath")),
            "internal": (p.get("peer") or {}).get("type") in ("internal", "confed-internal"),
            "metric": p.get("metric"),
            "local_pref": p.get("locPrf"),
            "weight": p.get("weight"),
            "as_path": [] if segs == "Local" else as_path_numbers(segs.split()),
            "origin": ORIGIN_WORDS.get(str(p.get("origin")), p.get("origin")),
        })
    return {"router_id": None, "local_as": None,
            "routes": [{"prefix": classful(str(data["prefix"])), "paths": paths}]}
