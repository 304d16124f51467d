"""The pure checks of verify: expected state from the Design, compared with parsed device state.

Every function takes parsed output (the shapes of nornir_anycast.parsing) and returns `Check`s;
nothing here talks to a device (that is nornir_anycast.verify.host), so the logic is tested by
replaying captured output. One module per area:

- `sessions`: BGP sessions (a server's to its edge, with its exports; a router's to every
  neighbor);
- `health`: anycast-healthchecker on a server;
- `edge`: the edge's multipath set and kernel route against the expected ECMP set;
- `isp`: what the ISP learned (the anycast prefix, and nothing internal);
- `safety`: route safety, what a server announces to the edge;
- `http`: requests from the client, answered by exactly the expected servers;
- `bfd`: BFD sessions on both ends;
- `graceful_restart`: graceful restart negotiated on the edge's server sessions;
- `flaps`: sessions that went down since the previous verify or deploy (warnings: the routers'
  down counters against the stored baseline, nornir_anycast.deploy.baseline).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from nornir_anycast.design.model import Design

#: A check's severity: `ok` (passed), `error` (failed: verify fails), `warning` (something an
#: engineer should look at that does not make the network wrong now, such as a session that
#: flapped; verify still passes), `info` (a note: a counter that restarted).
SEVERITIES = ("ok", "error", "warning", "info")


@dataclass(frozen=True)
class Check:
    """One named check on one host, with what was expected and what was found.

    `severity` None: `ok` when passed, `error` when not. A `warning` or `info` check has
    `passed` True: it never fails verify.
    """

    name: str
    host: str
    passed: bool
    expected: Any
    actual: Any
    message: str
    severity: str | None = None

    def __post_init__(self) -> None:
        if self.severity is not None and self.severity not in SEVERITIES:
            raise ValueError(f"severity {self.severity!r}: not one of {', '.join(SEVERITIES)}")
        if self.severity in ("warning", "info") and not self.passed:
            raise ValueError(f"a {self.severity} check passes (it never fails verify)")

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["severity"] = severity_of(data)
        return data


def severity_of(check: dict[str, Any]) -> str:
    """The severity of a check dict (`as_dict()`): its `severity`, else `ok`/`error` from
    `passed` (a dict written before severities existed has none)."""
    given = check.get("severity")
    if given in SEVERITIES:
        return str(given)
    return "ok" if check.get("passed") else "error"


def ip_sort(addresses: Iterable[str]) -> list[str]:
    """Distinct addresses, IPv4 first, in numeric order."""
    return sorted(set(addresses), key=lambda a: (ipaddress.ip_address(a).version,
                                                 ipaddress.ip_address(a)))


def fmt(addresses: Sequence[str]) -> str:
    """`a, b, c`, or `none`."""
    return ", ".join(addresses) if addresses else "none"


def drained_servers(design: Design) -> set[str]:
    """Servers the design has out of service (`python tasks.py drain`)."""
    return {p.host for s in design.services for p in s.drained}
