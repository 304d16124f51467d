"""What the running lab was built from (.lab/state.json), so status/exec/down need no inventory."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from nornir_anycast.lab.topology import LabHost, Port, Segment, Topology
from nornir_anycast.paths import lab_dir


def state_file() -> Path:
    return lab_dir() / "state.json"


def save(topology: Topology, inventory: Path) -> None:
    data: dict[str, Any] = {
        "inventory": str(inventory),
        "hosts": [asdict(h) for h in topology.hosts.values()],
        "segments": [asdict(s) for s in topology.segments],
    }
    state_file().write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def load() -> tuple[Topology, Path] | None:
    """The topology of the lab last brought up, and its inventory; None when there is none."""
    try:
        data = json.loads(state_file().read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    hosts = {h["name"]: LabHost(name=h["name"], netns=h["netns"], role=h["role"],
                                platform=h["platform"], interfaces=tuple(h["interfaces"]))
             for h in data["hosts"]}
    segments = tuple(
        Segment(networks=tuple(s["networks"]), switch=s["switch"],
                ports=tuple(Port(**p) for p in s["ports"]))
        for s in data["segments"]
    )
    return Topology(hosts=hosts, segments=segments), Path(data["inventory"])


def remove() -> None:
    state_file().unlink(missing_ok=True)
