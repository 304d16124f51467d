"""anycast-healthchecker on a server: it runs and announces every anycast prefix."""

from __future__ import annotations

from nornir_anycast.design import healthcheck
from nornir_anycast.design.model import Design, HostModel
from nornir_anycast.verify.checks import Check, drained_servers, fmt


def check_server_health(server: HostModel, design: Design, *, running: bool,
                        pid: int | None, include: str | None,
                        watch: tuple[bool, str | None] | None = None) -> Check:
    """Check `server_health`: anycast-healthchecker runs and announces every anycast prefix of
    the server (its BIRD include lists them). verify expects every configured server healthy,
    so an unhealthy one fails here, by name, besides missing from the edge's ECMP set. A
    drained server's health is reported, not required (it announces nothing anyway).

    Args:
        running: the daemon runs (pid file names a live anycast-healthchecker).
        pid: its process id, when known.
        include: the text of the include it writes (None: missing).
        watch: with the event path (design.healthcheck.watched): whether it runs (the lab's
            watcher, the systemd unit) and the text of its state file (None: missing). A state
            saying `disabled yes;` (nginx is down: every prefix withdrawn at once, before the
            healthchecker's `fall` checks) fails, and so does an event path that does not run.
    """
    _, listed = healthcheck.parse_include(include or "")
    want = [a.prefix for a in server.anycast]
    announcing = [p for p in want if p in listed]
    withdrawn = [p for p in want if p not in listed]
    drained = server.name in drained_servers(design)
    checks_by_prefix = {c.prefix: c for c in healthcheck.prefix_checks(server)}
    actual: dict[str, object] = {
        "running": running, "pid": pid, "announcing": announcing, "withdrawn": withdrawn,
        "include": include is not None, "drained": drained}
    who = f"anycast-healthchecker{f' (pid {pid})' if pid else ''}"
    if not running:
        problem = "anycast-healthchecker is not running"
        if include is None:
            problem += f" and its include {server.paths.healthchecker_include} is missing"
    elif include is None:
        problem = f"{who} runs, but its include {server.paths.healthchecker_include} is missing"
    elif withdrawn:
        problem = f"{who} withdrew " + "; ".join(
            f"{p} (its check fails: {checks_by_prefix[p].check_cmd})" if p in checks_by_prefix
            else p for p in withdrawn)
    else:
        problem = ""
    if watch is not None:
        watching, state = watch
        down = state is not None and any(
            ln.strip() == "disabled yes;" for ln in state.splitlines())
        actual["event_path"] = {"running": watching, "service_down": down}
        extra = []
        if down:
            extra.append(f"nginx is down: the event path withdrew {fmt(want)} "
                         f"({server.paths.service_state} says disabled yes)")
        if not watching:
            extra.append("the event path that follows nginx is not running (deploy starts it)")
        problem = "; ".join([p for p in (problem, *extra) if p])
    passed = drained or not problem
    if drained:
        health = problem or f"{who} finds {fmt(want)} healthy"
        message = f"drained: health not required; {health}"
    else:
        message = problem or f"{who} announces {fmt(announcing)}: healthy"
    return Check(name="server_health", host=server.name, passed=passed,
                 expected={"running": True, "announcing": want} if not drained
                 else {"drained": True},
                 actual=actual, message=message)
