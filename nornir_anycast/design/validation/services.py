"""Anycast service rules: the prefixes, loopbacks, and the health checker."""

from __future__ import annotations

import re
from typing import Any

from nornir_anycast.design.model import Design
from nornir_anycast.design.validation.common import (
    CONTROL_CHARS,
    Report,
    join_names,
    parse_interface,
    parse_network,
)


def rule_anycast_prefixes(design: Design, r: Report) -> None:
    """Anycast prefixes are host routes (/32, /128), announced by servers only."""
    for h in design.hosts.values():
        for a, any_ in enumerate(h.anycast):
            field = f"anycast.{a}.prefix"
            net = parse_network(any_.prefix, strict=False)
            if net is None:
                r.error(h.name, field, any_.prefix, "not a prefix such as 10.13.13.1/32")
                continue
            if net.prefixlen != net.max_prefixlen:
                r.error(h.name, field, any_.prefix,
                        f"anycast prefixes must be host routes (/{net.max_prefixlen})")
            if h.role != "server":
                r.error(h.name, field, any_.prefix,
                        f"only servers announce anycast prefixes (role is {h.role})")


def rule_anycast_on_loopback(design: Design, r: Report) -> None:
    """Each server holds each anycast address on loopback; loopback entries are address/length.

    An anycast /32 inside a loopback address's subnet counts as held: the seed puts
    10.13.13.1/24 on lo and Linux answers for the whole /24.
    """
    for h in design.hosts.values():
        loops = []
        for i, text in enumerate(h.loopback):
            parsed = parse_interface(text)
            if parsed is None:
                r.error(h.name, f"loopback.{i}", text,
                        "not an address/length such as 10.13.13.1/32")
            else:
                loops.append(parsed)
        if h.role != "server":
            continue
        for a, any_ in enumerate(h.anycast):
            net = parse_network(any_.prefix, strict=False)
            if net is None:
                continue
            if not any(net.network_address == lo.ip or net.subnet_of(lo.network)  # type: ignore[arg-type]
                       for lo in loops if lo.version == net.version):
                have = join_names(h.loopback) or "nothing"
                r.error(h.name, f"anycast.{a}.prefix", any_.prefix,
                        f"{net.network_address} is not on the loopback (loopback has {have}); "
                        "the server would drop the traffic it attracts")


_BIRD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


def _check_timing(r: Report, host: str, field: str, check: Any) -> None:
    """interval and timeout (seconds, fractions allowed) > 0; rise and fall >= 1."""
    for key in ("interval", "timeout"):
        value = getattr(check, key)
        if value is not None and not value > 0:
            r.error(host, f"{field}.{key}", value, "must be more than 0 seconds")
    for key in ("rise", "fall"):
        value = getattr(check, key)
        if value is not None and value < 1:
            r.error(host, f"{field}.{key}", value, "must be at least 1 (checks in a row)")
    url = getattr(check, "url", None)
    if url is not None and (not re.match(r"^https?://\S+$", url) or CONTROL_CHARS.search(url)):
        r.error(host, f"{field}.url", url, "must be an http:// or https:// URL without spaces")
    command = getattr(check, "command", None)
    if command is not None and (not command.strip() or CONTROL_CHARS.search(command)):
        r.error(host, f"{field}.command", command,
                "must be one line: the command whose exit status 0 means healthy")


def rule_healthcheck(design: Design, r: Report) -> None:
    """anycast-healthchecker settings make sense and can be rendered (rule 28)."""
    anycast = {a.prefix for h in design.hosts.values() for a in h.anycast}
    for h in design.hosts.values():
        hc = h.healthcheck
        if not hc.enabled:
            continue
        if h.role != "server":
            r.error(h.name, "healthcheck.enabled", True,
                    "only servers run anycast-healthchecker (they announce the anycast prefixes)")
            continue
        _check_timing(r, h.name, "healthcheck", hc)
        if (not hc.binary.strip() or CONTROL_CHARS.search(hc.binary) or " " in hc.binary
                or (not hc.binary.startswith("/") and h.service_manager != "lab")):
            r.error(h.name, "healthcheck.binary", hc.binary,
                    "must be the absolute path of anycast-healthchecker on the server "
                    "(a relative path, under the project root, only for hosts of the "
                    "namespace lab: service_manager lab)")
        for key, prefix, version, variable in (
                ("", hc.dummy_prefix, 4, hc.variable), ("6", hc.dummy_prefix6, 6, hc.variable6)):
            if not _BIRD_NAME.match(variable):
                r.error(h.name, f"healthcheck.variable{key}", variable,
                        "must be a BIRD name: letters, digits, '_', not starting with a digit")
            dummy = parse_network(prefix, strict=False)
            if dummy is None or dummy.version != version or "/" not in prefix:
                r.error(h.name, f"healthcheck.dummy_prefix{key}", prefix,
                        f"must be an IPv{version} prefix (address/length)")
            elif prefix in anycast or str(dummy) in anycast:
                r.error(h.name, f"healthcheck.dummy_prefix{key}", prefix,
                        "is an anycast prefix: the dummy entry of the prefix set must be used "
                        "nowhere (it is always announced as healthy)")
        if hc.variable == hc.variable6:
            r.error(h.name, "healthcheck.variable6", hc.variable6,
                    "the IPv6 prefix set needs a name of its own (healthcheck.variable is the "
                    "same): both are defined in the one BIRD configuration")
        has6 = any(":" in a.prefix for a in h.anycast)
        if has6 and h.paths.healthchecker_include == h.paths.healthchecker_include6:
            r.error(h.name, "paths.healthchecker_include6", h.paths.healthchecker_include6,
                    "anycast-healthchecker writes the IPv6 prefix set to a file of its own: "
                    "must differ from paths.healthchecker_include")
        for k, a in enumerate(h.anycast):
            if a.healthcheck is not None:
                _check_timing(r, h.name, f"anycast.{k}.healthcheck", a.healthcheck)
