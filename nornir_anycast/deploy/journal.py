"""What deploy changed on each host, step by step, so that `deploy --rollback-on-failure` can
put it back (nornir_anycast.tasks.rollback_anycast).

Each step is recorded BEFORE it is carried out: a step that failed half-way is undone as well
(every undo is harmless when the step had no effect). The journal holds no file contents and no
secret: previous files stay on the host as `<path>.na-prev` (absent when the file did not exist
before this deploy), FRR's running configuration before frr-reload as
`<frr_conf>.na-prev-running`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any


@dataclass
class HostJournal:
    """The steps deploy took on one host, in the order it took them."""

    host: str
    platform: str
    files: list[tuple[str, bool]] = field(default_factory=list)  # (path, existed before)
    moved: list[tuple[str, str]] = field(default_factory=list)  # (path, where it went)
    net: list[tuple[str, str | None]] = field(default_factory=list)  # (diff line, undo command)
    frr_prev_running: str | None = None  # saved `show running-config`, when FRR was reloaded
    services: list[str] = field(default_factory=list)  # "reload bird", "start nginx", ...
    nft_table_before: bool | None = None  # our NAT table existed before this deploy
    commit_confirm_minutes: int | None = None  # VyOS: committed with commit-confirm, unconfirmed

    def empty(self) -> bool:
        return not (self.files or self.moved or self.net or self.frr_prev_running
                    or self.services or self.commit_confirm_minutes)

    def as_json(self) -> dict[str, Any]:
        return {"files": [{"path": p, "existed": e} for p, e in self.files],
                "moved": [{"from": a, "to": b} for a, b in self.moved],
                "net": [d for d, _ in self.net], "frr_reloaded": self.frr_prev_running is not None,
                "services": list(self.services),
                "commit_confirm_minutes": self.commit_confirm_minutes}


class Journal:
    """One HostJournal per host; shared by the threads of one deploy run."""

    def __init__(self, confirm_minutes: int = 5) -> None:
        self.confirm_minutes = confirm_minutes  # VyOS commit-confirm timer
        self._hosts: dict[str, HostJournal] = {}
        self._lock = threading.Lock()

    def host(self, name: str, platform: str) -> HostJournal:
        with self._lock:
            return self._hosts.setdefault(name, HostJournal(name, platform))

    def get(self, name: str) -> HostJournal | None:
        with self._lock:
            return self._hosts.get(name)

    def changed_hosts(self) -> list[str]:
        with self._lock:
            return sorted(n for n, j in self._hosts.items() if not j.empty())
