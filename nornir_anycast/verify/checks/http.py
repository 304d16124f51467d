"""HTTP from the client: every request answered, by every expected server and by no other."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from nornir_anycast.design.model import HostModel
from nornir_anycast.verify.checks import Check


def check_http(client: HostModel, target: str, expected_servers: Sequence[str],
               answers: Mapping[str, Sequence[str | None]], name: str = "http_anycast") -> Check:
    """Checks 6 and 7: every request answered, by every expected server and by no other.

    `answers` maps each client source address to the response bodies of its requests (stripped),
    None for a failed request. Every server must answer some source; with the edge hashing on
    ports too, each source alone usually sees them all, but hashing on addresses only is legal.
    """
    flat = [a for per_source in answers.values() for a in per_source]
    failed = sum(1 for a in flat if a is None)
    seen: dict[str, int] = {}
    for a in flat:
        if a is not None:
            seen[a] = seen.get(a, 0) + 1
    want = sorted(expected_servers)
    missing = [s for s in want if s not in seen]
    extra = sorted(s for s in seen if s not in want)
    ok = failed == 0 and not missing and not extra and bool(flat)
    problems = []
    if not flat:
        problems.append("no request was made")
    if failed:
        problems.append(f"{failed} of {len(flat)} requests failed")
    if missing:
        problems.append("never answered by " + ", ".join(missing))
    if extra:
        problems.append("answered by unexpected " + ", ".join(extra))
    per_source = {
        src: {"requests": len(a), "failed": sum(1 for x in a if x is None),
              "servers": dict(sorted({x: sum(1 for y in a if y == x)
                                      for x in a if x is not None}.items()))}
        for src, a in answers.items()
    }
    sources = ", ".join(answers) or "no source"
    return Check(
        name=name, host=client.name, passed=ok,
        expected={"target": target, "servers": want, "failed": 0},
        actual={"servers": dict(sorted(seen.items())), "failed": failed, "requests": len(flat),
                "per_source": per_source},
        message=(f"{len(flat)} requests to {target} from {sources}: answered by "
                 f"{', '.join(f'{k} ({v})' for k, v in sorted(seen.items()))}" if ok else
                 f"requests to {target} from {sources}: " + "; ".join(problems)),
    )
