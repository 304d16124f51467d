"""Linux `ip route show [prefix]` (iproute2): single-path and multipath routes.

`linux_ip_route_show.ttp` recognises route lines and `nexthop` lines; this module reads their
key/value pairs. Empty output (no route matches) is an empty result.
"""

from __future__ import annotations

import re
from typing import Any

from nornir_anycast.parsing._common import Ctx, clean_lines, host_cidr, run_ttp

# iproute2 keywords followed by a value; the others (onlink, linkdown, dead, pervasive, ...)
# are flags.
_VALUED = frozenset((
    "nhid", "via", "dev", "proto", "scope", "src", "metric", "weight", "table", "mtu",
    "advmss", "pref", "expires", "realm", "realms", "from", "tos", "encap", "error", "hoplimit",
    "initcwnd", "initrwnd", "rto_min", "quickack", "congctl", "features", "ttl-propagate",
    "fastopen_no_cookie", "window", "rtt", "rttvar", "ssthresh", "cwnd", "reordering",
))


#: `ip -6 route ...`: its `default` is ::/0
_IPV6_COMMAND_RE = re.compile(r"^ip -6 ")


def _pairs(tokens: list[str]) -> tuple[dict[str, str], list[str]]:
    values: dict[str, str] = {}
    flags: list[str] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok in _VALUED and i + 1 < len(tokens):
            if tok == "via" and tokens[i + 1] in ("inet", "inet6"):  # `via inet6 fe80::1`
                values[tok] = tokens[i + 2] if i + 2 < len(tokens) else ""
                i += 3
                continue
            values[tok] = tokens[i + 1]
            i += 2
        else:
            flags.append(tok)
            i += 1
    return values, flags


def _int(v: str | None) -> int | None:
    return int(v) if v is not None and v.isdigit() else None


def parse_ip_route(ctx: Ctx, text: str) -> dict[str, Any]:
    """`ip route show [PREFIX]`.

    Each route: prefix (CIDR; `default` -> 0.0.0.0/0, ::/0 for `ip -6 route`, a bare
    address -> /32, /128 for an IPv6 one), protocol
    (`proto`, None if not printed), type (`unicast` unless printed: unreachable, blackhole,
    ...), metric, scope, src, nhid, next_hops [{via, dev, weight}] (one entry for a
    single-path route, one per `nexthop` line for a multipath route, none for a blackhole or
    unreachable route).
    """
    lines = clean_lines(text, ctx)
    sig = [ln for ln in lines if ln.strip()]
    if not sig:
        return {"routes": []}
    records = run_ttp("linux_ip_route_show", "\n".join(lines))
    if len(records) != len(sig):
        seen = " ".join(str(v) for r in records for v in r.values())
        bad = next((ln for ln in sig if ln.strip() not in seen), sig[0])
        raise ctx.error("line is not an `ip route` line", bad)
    ipv6 = _IPV6_COMMAND_RE.match(ctx.command) is not None
    routes: list[dict[str, Any]] = []
    route: dict[str, Any] | None = None
    for rec in records:
        if "nexthop" in rec:
            if route is None:
                raise ctx.error("nexthop line before any route", rec["nexthop"])
            values, _ = _pairs(rec["nexthop"].split()[1:])
            if "dev" not in values and "via" not in values:
                raise ctx.error("nexthop line without via or dev", rec["nexthop"])
            route["next_hops"].append({"via": values.get("via"), "dev": values.get("dev"),
                                       "weight": _int(values.get("weight"))})
            continue
        values, flags = _pairs((rec.get("rest") or "").split())
        rtype = (rec.get("type") or "unicast").strip()
        dest = rec["dest"]
        route = {
            "prefix": "::/0" if dest == "default" and ipv6 else host_cidr(dest),
            "protocol": values.get("proto"),
            "type": rtype,
            "metric": _int(values.get("metric")),
            "scope": values.get("scope"),
            "src": values.get("src"),
            "nhid": _int(values.get("nhid")),
            "next_hops": [],
        }
        if flags:
            route["flags"] = flags
        if "via" in values or "dev" in values:
            route["next_hops"].append({"via": values.get("via"), "dev": values.get("dev"),
                                       "weight": _int(values.get("weight"))})
        routes.append(route)
    return {"routes": routes}
