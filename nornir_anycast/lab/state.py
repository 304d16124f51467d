"""What the running lab was built from (.lab/state.json), so status/exec/down need no inventory.

It also records every namespace `lab up` may have created (written before they are made), so
`lab down` and the next `up` remove exactly those, whatever else carries the same prefix.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from nornir_anycast.lab.prefix import lab_prefix
from nornir_anycast.lab.topology import LabHost, Port, Segment, Topology
from nornir_anycast.settings import lab_dir


def state_file() -> Path:
    return lab_dir() / "state.json"


def save(topology: Topology, inventory: Path, namespaces: Iterable[str] | None = None) -> None:
    """Record the topology and the namespaces made for it (default: the topology's)."""
    data: dict[str, Any] = {
        "prefix": lab_prefix(),
        "inventory": str(inventory),
        "namespaces": sorted(set(namespaces if namespaces is not None else topology.namespaces)),
        "hosts": [asdict(h) for h in topology.hosts.values()],
        "segments": [asdict(s) for s in topology.segments],
    }
    state_file().write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def _read() -> dict[str, Any] | None:
    try:
        data = json.loads(state_file().read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    return data if isinstance(data, dict) else None


def load() -> tuple[Topology, Path] | None:
    """The topology of the lab last brought up, and its inventory; None when there is none."""
    data = _read()
    if data is None:
        return None
    hosts = {h["name"]: LabHost(name=h["name"], netns=h["netns"], role=h["role"],
                                platform=h["platform"], interfaces=tuple(h["interfaces"]),
                                image=h.get("image"))
             for h in data["hosts"]}
    segments = tuple(
        Segment(networks=tuple(s["networks"]), switch=s["switch"],
                ports=tuple(Port(**p) for p in s["ports"]))
        for s in data["segments"]
    )
    return Topology(hosts=hosts, segments=segments), Path(data["inventory"])


def recorded_namespaces() -> set[str]:
    """Namespaces the last `up` of this lab made or meant to make (a state written before
    namespaces were recorded: its topology's); only names of this lab's prefix."""
    data = _read()
    if data is None:
        return set()
    names = data.get("namespaces")
    if not isinstance(names, list):
        loaded = load()
        names = loaded[0].namespaces if loaded is not None else []
    prefix = f"{lab_prefix()}-"
    return {n for n in names if isinstance(n, str) and n.startswith(prefix)}


def remove() -> None:
    state_file().unlink(missing_ok=True)
