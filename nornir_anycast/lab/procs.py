"""Reading the machine's process table from /proc: which processes belong to which lab host."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from nornir_anycast.lab.prefix import ns_prefix

#: Marker in the command line of every lab host's PID 1 (see hostinit.py).
INIT_MARKER = "na-lab-init"


@dataclass(frozen=True)
class Proc:
    """One live process as seen from the machine's own PID namespace."""

    pid: int
    ppid: int
    comm: str
    state: str
    cmdline: tuple[str, ...]
    pidns: int
    netns: int


def read_proc(pid: int) -> Proc | None:
    """The process `pid`, or None when it is gone or a zombie (zombies hold no namespaces)."""
    base = f"/proc/{pid}"
    try:
        with open(f"{base}/stat", encoding="utf-8", errors="replace") as fh:
            stat = fh.read()
        with open(f"{base}/cmdline", "rb") as fh:
            raw = fh.read()
        pidns = os.stat(f"{base}/ns/pid").st_ino
        netns = os.stat(f"{base}/ns/net").st_ino
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    left, _, right = stat.rpartition(")")
    comm = left.partition("(")[2]
    fields = right.split()
    if len(fields) < 2 or fields[0] in ("Z", "X"):
        return None
    cmdline = tuple(p.decode(errors="replace") for p in raw.split(b"\0") if p)
    return Proc(pid=pid, ppid=int(fields[1]), comm=comm, state=fields[0], cmdline=cmdline,
                pidns=pidns, netns=netns)


def all_procs() -> list[Proc]:
    """Every live process of the machine."""
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            proc = read_proc(int(entry))
            if proc is not None:
                out.append(proc)
    return out


def lab_inits(procs: list[Proc] | None = None, *, all_labs: bool = False) -> dict[str, Proc]:
    """PID 1 of each host of this lab, by namespace name (the argument after the marker).

    Only namespaces of this lab's prefix (`<prefix>-*`) count, unless `all_labs`: the PID 1s
    of labs with other prefixes are never returned, so nothing here can lead to killing them.
    The launcher that forks PID 1 shares its command line for a moment; it is told apart by
    living in the machine's own PID namespace.
    """
    own = os.stat("/proc/self/ns/pid").st_ino
    prefix = ns_prefix()
    out: dict[str, Proc] = {}
    for proc in procs if procs is not None else all_procs():
        args = proc.cmdline
        if INIT_MARKER in args and proc.pidns != own:
            i = args.index(INIT_MARKER)
            if i + 1 < len(args) and (all_labs or args[i + 1].startswith(prefix)):
                out[args[i + 1]] = proc
    return out


def init_lab_dir(init: Proc) -> Path | None:
    """The lab directory a host's PID 1 was started from (its spec file is
    `<lab dir>/hosts/<host>/init.json`); None when the command line does not say."""
    args = init.cmdline
    if INIT_MARKER not in args:
        return None
    i = args.index(INIT_MARKER)
    if i + 2 >= len(args):
        return None
    spec = Path(args[i + 2])
    if spec.name != "init.json" or len(spec.parents) < 4 or spec.parents[1].name != "hosts":
        return None
    return spec.parents[2]


def in_pid_namespace(init: Proc, procs: list[Proc] | None = None) -> list[Proc]:
    """Every process of the host whose PID 1 is `init` (init included)."""
    return [p for p in (procs if procs is not None else all_procs()) if p.pidns == init.pidns]


def alive(pid: int) -> bool:
    """True while `pid` exists and is not a zombie."""
    return read_proc(pid) is not None
