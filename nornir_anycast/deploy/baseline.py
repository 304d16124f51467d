"""The routers' session down counters as last seen: deploy records them, verify compares.

A flap that is over by the time verify runs leaves no trace in a session's state, only in the
router's own counters (`Session down events` of bfdd, `Connections established N; dropped M`
of bgpd; nornir_anycast.parsing.counters). So deploy, once every host has applied, reads each
router's counters and stores them here; every verify reads them again, warns about each counter
that moved (nornir_anycast.verify.checks.flaps) and stores the new values, so the next verify
reports only what happened since.

Where: one JSON file per inventory in `<home>/.state/counters/` (home:
nornir_anycast.settings.home(), `$NORNIR_ANYCAST_HOME`), named after a hash of the inventory
directory's absolute path, which the file also holds; never inside the inventory directory.
It holds addresses and counts only, no secret:

    {"inventory": "/abs/path/inventory",
     "hosts": {"edge": {"recorded_at": "2026-12-01T12:01:05Z", "by": "deploy",
                        "sessions": {"10.12.12.1": {"bfd_down": 0, "bgp_dropped": 0}}}}}

Each host's entry is replaced as a whole when it is recorded again; the hosts a run did not
read (`-H`, an unreachable router) keep theirs.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nornir.core import Nornir

from nornir_anycast.design.model import Design
from nornir_anycast.device.counters import reads_counters
from nornir_anycast.inventory.secrets import redact
from nornir_anycast.parsing.counters import SessionCounters
from nornir_anycast.settings import home

#: Under home(): where the baselines are.
STATE_DIR = Path(".state") / "counters"


def baseline_dir() -> Path:
    """`<home>/.state/counters`: the directory of the baseline files (may not exist yet)."""
    return home() / STATE_DIR


def inventory_key(nr: Nornir) -> str:
    """The absolute path of `nr`'s inventory directory: what its baseline is keyed by.

    The AnycastInventory plugin's `directory` option (nornir_anycast.inventory.load_nornir
    always sets it); else the directory of a `host_file` option (SimpleInventory); else the
    current directory (where both plugins look without either).
    """
    options = dict(getattr(nr.config.inventory, "options", None) or {})
    if options.get("directory"):
        where = Path(str(options["directory"]))
    elif options.get("host_file"):
        where = Path(str(options["host_file"])).expanduser().absolute().parent
    else:
        where = Path.cwd()
    return os.path.normpath(where.expanduser().absolute())


def baseline_file(key: str) -> Path:
    """The baseline file of the inventory `key` (inventory_key)."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return baseline_dir() / f"{digest}.json"


@dataclass(frozen=True)
class HostBaseline:
    """A router's counters as recorded at `recorded_at` (UTC) by `by` (`deploy`, `verify`)."""

    recorded_at: dt.datetime
    by: str
    sessions: dict[str, SessionCounters]

    def as_json(self) -> dict[str, Any]:
        return {"recorded_at": self.recorded_at.strftime("%Y-%m-%dT%H:%M:%SZ"), "by": self.by,
                "sessions": {a: dict(c) for a, c in self.sessions.items()}}


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _host_from_json(data: Any) -> HostBaseline | None:
    if not isinstance(data, dict) or not isinstance(data.get("sessions"), dict):
        return None
    try:
        when = dt.datetime.strptime(str(data.get("recorded_at")), "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return None
    sessions: dict[str, SessionCounters] = {}
    for address, c in data["sessions"].items():
        if isinstance(c, dict):
            sessions[str(address)] = {"bfd_down": _count(c.get("bfd_down")),
                                      "bgp_dropped": _count(c.get("bgp_dropped"))}
    return HostBaseline(recorded_at=when.replace(tzinfo=dt.UTC),
                        by=str(data.get("by") or "?"), sessions=sessions)


def _read(path: Path, key: str) -> dict[str, HostBaseline]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}  # none yet, or unreadable: start again
    if not isinstance(data, dict) or data.get("inventory") != key:
        return {}  # another inventory's (a hash collision): not ours
    hosts = data.get("hosts")
    if not isinstance(hosts, dict):
        return {}
    out = {}
    for name, entry in hosts.items():
        parsed = _host_from_json(entry)
        if parsed is not None:
            out[str(name)] = parsed
    return out


def load_baseline(key: str) -> dict[str, HostBaseline]:
    """The stored counters of the inventory `key`, by router ({} when none is stored)."""
    return _read(baseline_file(key), key)


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One writer at a time per baseline file (two verifies at once merge, neither is lost)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def store_baseline(key: str, counters: Mapping[str, Mapping[str, SessionCounters]], by: str,
                   now: dt.datetime | None = None) -> Path:
    """Record `counters` ({router: {peer address: counters}}) for the inventory `key`.

    The routers in `counters` replace their entries; the others are kept. Written to a
    temporary file and renamed, so a reader never sees half a file.

    Returns:
        The baseline file.
    """
    path = baseline_file(key)
    when = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    with _locked(path):
        hosts = _read(path, key)
        for name, sessions in counters.items():
            hosts[name] = HostBaseline(recorded_at=when.replace(microsecond=0), by=by,
                                       sessions={a: {"bfd_down": c["bfd_down"],
                                                     "bgp_dropped": c["bgp_dropped"]}
                                                 for a, c in sessions.items()})
        doc = {"inventory": key,
               "hosts": {n: hosts[n].as_json() for n in sorted(hosts)}}
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        try:
            with os.fdopen(fd, "w") as f:
                f.write(json.dumps(doc, indent=1, sort_keys=True) + "\n")
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return path


@dataclass
class CounterRead:
    """What reading the routers' counters found: counters by router, errors by router."""

    counters: dict[str, dict[str, SessionCounters]]
    errors: dict[str, str]


def read_routers(nr: Nornir, design: Design) -> CounterRead:
    """Read the counters of every router of `nr` (edge and ISP, FRR or VyOS) in parallel.

    A router that cannot be read is in `errors` (its message, secrets redacted), not in
    `counters`.
    """
    from nornir_anycast.tasks.read_counters import read_counters  # see tasks/__init__

    routers = nr.filter(filter_func=lambda h: h.name in design.hosts
                        and reads_counters(design.hosts[h.name]))
    out = CounterRead(counters={}, errors={})
    if not routers.inventory.hosts:
        return out
    agg = routers.run(task=read_counters, design=design, name="read_counters", on_failed=True)
    for name, multi in agg.items():
        res = multi[0]
        if res.exception is not None or multi.failed:
            exc = res.exception
            out.errors[name] = redact(f"{type(exc).__name__}: {exc}" if exc is not None
                                      else "failed")
        elif isinstance(res.result, dict):
            out.counters[name] = res.result
    return out


def record_baseline(nr: Nornir, design: Design, by: str = "deploy") -> CounterRead:
    """Read every router of `nr` and store what was read as the baseline of its inventory."""
    found = read_routers(nr, design)
    if found.counters:
        store_baseline(inventory_key(nr), found.counters, by=by)
    return found
