"""A control group of its own for each Debian 13 container (the image lab kind).

`systemd-nspawn --keep-unit --register=no` (this machine's PID 1 is not systemd) puts the
container in `<the caller's cgroup>/payload`. Started from one process, every container of a lab
got the same `/payload`, and their systemd instances shared one cgroup tree: server-1's and
server-2's `bird.service` were one directory, so a unit stopped on one host could kill its
namesake's processes on another, and starting a unit failed now and then with "unavailable
resources" (seen in CI on the nginx watcher, and as sshd refusing `ops` for a minute: PAM's
nologin left behind by a session service that had failed the same way).

So `lab up` moves each container's launcher into `nornir-anycast/<namespace>` of every cgroup
hierarchy a systemd uses (the v1 `name=systemd` one and the v2 one, whichever exist) before it
execs systemd-nspawn, and `lab down` removes those groups once their processes are gone. Nothing
else of the machine's cgroups is touched.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

from nornir_anycast.lab.topology import LabHost

#: The directory under each hierarchy's root holding the lab's groups, one per namespace.
TOP = "nornir-anycast"


def hierarchies(mountinfo: str | None = None) -> list[Path]:
    """Mount points of the cgroup hierarchies a container's systemd works in: the cgroup v2 one
    and the v1 `name=systemd` one, as this machine mounts them (writable ones only)."""
    if mountinfo is None:
        mountinfo = Path("/proc/self/mountinfo").read_text(encoding="utf-8")
    out: list[Path] = []
    for line in mountinfo.splitlines():
        left, _, right = line.partition(" - ")
        fields, tail = left.split(), right.split()
        if len(fields) < 6 or len(tail) < 3:
            continue
        mount, options, fstype, super_options = fields[4], fields[5], tail[0], tail[2]
        if "ro" in options.split(","):
            continue
        if fstype == "cgroup2" or (fstype == "cgroup" and "name=systemd" in
                                   super_options.split(",")):
            out.append(Path(mount))
    return out


def group(host: LabHost, hierarchy: Path) -> Path:
    """The host's own group in one hierarchy."""
    return hierarchy / TOP / host.netns


def launcher_argv(host: LabHost, argv: list[str], roots: list[Path] | None = None) -> list[str]:
    """`argv` (systemd-nspawn's command line) run by a shell that first moves itself into the
    host's own groups (made here), then execs it: nspawn then makes its `payload` there."""
    roots = hierarchies() if roots is None else roots
    procs_files = []
    for root in roots:
        path = group(host, root)
        path.mkdir(parents=True, exist_ok=True)
        procs_files.append(str(path / "cgroup.procs"))
    script = 'for f in $NA_CGROUPS; do echo $$ > "$f" || exit 1; done; exec "$@"'
    return ["env", f"NA_CGROUPS={' '.join(procs_files)}", "sh", "-c", script, "sh", *argv]


def remove(netns_names: list[str], roots: list[Path] | None = None,
           wait: float = 5.0) -> list[str]:
    """Remove the groups of these namespaces (deepest first; their processes killed already:
    a group stays busy for a moment while they leave, so this tries again for up to `wait`
    seconds), and the lab's top directory when no lab has a group left; returns what went."""
    roots = hierarchies() if roots is None else roots
    gone: list[str] = []
    for root in roots:
        for name in netns_names:
            top = root / TOP / name
            deadline = time.monotonic() + wait
            while top.is_dir():
                for dirpath, _dirs, _files in sorted(os.walk(top), key=lambda w: -len(w[0])):
                    with contextlib.suppress(OSError):  # busy: a process is still leaving
                        os.rmdir(dirpath)
                if not top.exists():
                    gone.append(str(top))
                elif time.monotonic() < deadline:
                    time.sleep(0.1)
                    continue
                break
        with contextlib.suppress(OSError):  # only when empty: other prefixes' labs use it
            (root / TOP).rmdir()
    return gone
