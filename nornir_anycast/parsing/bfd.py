"""BFD session state: FRR bfdd `show bfd peers [brief]`, BIRD `show bfd sessions`.

TTP templates (`frr_show_bfd_peers.ttp`, `frr_show_bfd_peers_brief.ttp`,
`<bird|bird2>_show_bfd_sessions.ttp`) recognise every line; this module assembles the records.
Every non-blank line must be recognised, so an error message or another command's output raises
ParseError. No session at all (`BFD Peers:` alone, `Session count: 0`, BIRD's `There is no BFD
protocol running`) is an empty result.
"""

from __future__ import annotations

import re
from typing import Any

from nornir_anycast.parsing._common import Ctx, clean_lines, first_text, run_ttp

_PEER_RE = re.compile(
    r"^peer (?P<peer>\S+)(?P<multihop> multihop)?(?: peer-address \S+)?"
    r"(?: local-address (?P<local>\S+))?(?: vrf (?P<vrf>\S+))?(?: interface (?P<itf>\S+))?\s*$"
)
_MS_RE = re.compile(r"^(\d+)ms$")

# `Key: value` lines of a peer, outside the timer blocks, and their result keys.
_PEER_KEYS = {
    "ID": "id", "Remote ID": "remote_id", "Status": "status", "Uptime": "uptime",
    "Downtime": "downtime", "Diagnostics": "diagnostics",
    "Remote diagnostics": "remote_diagnostics", "Peer Type": "peer_type",
    "RTT min/avg/max": "rtt", "Minimum TTL": "minimum_ttl", "Profile": "profile",
    "Label": "label",
}
_TIMER_KEYS = {
    "Detect-multiplier": "detect_multiplier", "Receive interval": "receive_interval_ms",
    "Transmission interval": "transmit_interval_ms",
    "Echo receive interval": "echo_receive_interval_ms",
    "Echo transmission interval": "echo_transmit_interval_ms",
}


def _significant(lines: list[str]) -> list[str]:
    return [ln for ln in lines if ln.strip()]


def _all_recognised(ctx: Ctx, lines: list[str], records: list[dict[str, Any]]) -> None:
    sig = _significant(lines)
    if len(records) == len(sig):
        return
    seen = {" ".join(str(v).split()) for r in records for v in r.values()}
    bad = next((ln for ln in sig if not any(" ".join(ln.split()).startswith(s) or
                                            s in " ".join(ln.split()) for s in seen if s)),
               sig[0] if sig else None)
    raise ctx.error(f"{len(sig) - len(records)} line(s) not recognised", bad)


def _timer(value: str) -> int | str | None:
    """`50ms` -> 50, `3` -> 3, `disabled` -> None; anything else as printed."""
    value = value.strip()
    m = _MS_RE.match(value)
    if m:
        return int(m.group(1))
    if value.isdigit():
        return int(value)
    return None if value == "disabled" else value


def peer_line(ctx: Ctx, line: str) -> dict[str, Any]:
    """A `peer ...` line of `show bfd peers [counters]`: {peer, local_address, vrf, interface,
    multihop}."""
    m = _PEER_RE.match(line.strip())
    if m is None:
        raise ctx.error("peer line not understood", line)
    return {"peer": m.group("peer"), "local_address": m.group("local"), "vrf": m.group("vrf"),
            "interface": m.group("itf"), "multihop": bool(m.group("multihop"))}


def parse_peers(ctx: Ctx, text: str) -> dict[str, Any]:
    """`show bfd peers`: {"peers": [{peer, local_address, vrf, interface, multihop, id,
    remote_id, mode, status, uptime, downtime, diagnostics, remote_diagnostics, peer_type,
    local: {detect_multiplier, receive_interval_ms, transmit_interval_ms,
    echo_receive_interval_ms, echo_transmit_interval_ms}, remote: {...}}]}.

    `status` is as printed (`up`, `down`, `init`, `shutdown`); intervals in ms (None when
    `disabled`); ids are ints; `uptime`/`downtime` as printed, only the one FRR printed.
    """
    lines = clean_lines(text, ctx)
    sig = _significant(lines)
    if not sig:
        raise ctx.error("empty output (FRR prints `BFD Peers:` even with no session)")
    records = run_ttp("frr_show_bfd_peers", "\n".join(lines))
    if not records or "title" not in records[0]:
        raise ctx.error("no `BFD Peers:` title", first_text(lines))
    _all_recognised(ctx, lines, records)
    peers: list[dict[str, Any]] = []
    peer: dict[str, Any] | None = None
    block: dict[str, Any] | None = None
    for rec in records[1:]:
        if "peer" in rec:
            peer = peer_line(ctx, rec["peer"])
            peer.update({"id": None, "remote_id": None, "mode": None, "status": None,
                         "diagnostics": None, "remote_diagnostics": None, "local": {},
                         "remote": {}})
            peers.append(peer)
            block = None
            continue
        if peer is None:
            raise ctx.error("detail line before any peer line", str(next(iter(rec.values()))))
        if "mode" in rec:
            peer["mode"] = rec["mode"].split()[0].lower()
        elif "block" in rec:
            block = peer["local" if rec["block"].strip().startswith("Local") else "remote"]
        elif "key" in rec:
            key, value = rec["key"].strip(), str(rec.get("value", "")).strip()
            if block is not None and key in _TIMER_KEYS:
                block[_TIMER_KEYS[key]] = _timer(value)
            elif key in _PEER_KEYS:
                block = None
                name = _PEER_KEYS[key]
                peer[name] = int(value) if name in ("id", "remote_id") and value.isdigit() \
                    else value
            else:
                raise ctx.error("unknown peer detail", f"{key}: {value}")
    return {"peers": peers}


def parse_peers_brief(ctx: Ctx, text: str) -> dict[str, Any]:
    """`show bfd peers brief`: {"session_count": N, "peers": [{id, local_address, peer,
    status}]}."""
    lines = clean_lines(text, ctx)
    records = run_ttp("frr_show_bfd_peers_brief", "\n".join(lines))
    if not records or "count" not in records[0]:
        raise ctx.error("no `Session count:` line", first_text(lines))
    _all_recognised(ctx, lines, records)
    peers = [{"id": int(r["id"]), "local_address": r["local"], "peer": r["peer"],
              "status": r["status"]} for r in records if "peer" in r]
    count = int(records[0]["count"])
    if count != len(peers):
        raise ctx.error(f"session count {count} but {len(peers)} session line(s)")
    return {"session_count": count, "peers": peers}


def _ms(seconds: str) -> int:
    return round(float(seconds) * 1000)


def parse_sessions(ctx: Ctx, text: str) -> dict[str, Any]:
    """BIRD `show bfd sessions`: {"sessions": [{protocol, address, interface, state, since,
    interval_ms, timeout_ms}], "protocols_not_up": [name, ...]}.

    `state` as BIRD prints it (`Up`, `Down`, `Init`, `AdminDown`); BIRD's interval and timeout
    (seconds with three decimals) as whole milliseconds. BIRD prints `---` as the interface of a
    multihop session: None.
    """
    lines = clean_lines(text, ctx, bird=True)
    if not _significant(lines):
        return {"sessions": [], "protocols_not_up": []}
    records = run_ttp(f"{ctx.platform}_show_bfd_sessions", "\n".join(lines))
    _all_recognised(ctx, lines, records)
    sessions: list[dict[str, Any]] = []
    not_up: list[str] = []
    protocol: str | None = None
    header = False
    for rec in records:
        if "none" in rec:
            continue
        if "not_up" in rec:
            not_up.append(rec["not_up"])
            protocol, header = None, False
        elif "protocol" in rec:
            protocol, header = rec["protocol"], False
        elif "header" in rec:
            if protocol is None:
                raise ctx.error("column header before a protocol name", rec["header"])
            header = True
        else:
            if not header or protocol is None:
                raise ctx.error("session line before the column header", rec["address"])
            sessions.append({
                "protocol": protocol, "address": rec["address"],
                "interface": None if rec["interface"] == "---" else rec["interface"],
                "state": rec["state"], "since": rec["since"],
                "interval_ms": _ms(rec["interval"]), "timeout_ms": _ms(rec["timeout"]),
            })
    return {"sessions": sessions, "protocols_not_up": not_up}
