"""The Debian 13 containers' own cgroups (nornir_anycast.lab.cgroups), without a lab.

`mountinfo/cgroups.txt` (beside this file) is this machine's /proc/self/mountinfo, cgroup lines
(cgroup v1 with the `name=systemd` hierarchy and a cgroup2 at /sys/fs/cgroup/unified: what
systemd-nspawn's containers use here); `mountinfo/cgroup2-ro.txt` is a read-only cgroup2 line,
as a container sees its /sys/fs/cgroup.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from nornir_anycast.lab import cgroups
from nornir_anycast.lab.topology import LabHost

CAPTURES = Path(__file__).resolve().parent / "mountinfo"


def _host(netns: str = "na-server-1") -> LabHost:
    return LabHost(name="server-1", netns=netns, role="server", platform="linux",
                   interfaces=("eth0",), image="debian13")


def test_the_systemd_and_v2_hierarchies_are_found_and_read_only_ones_skipped() -> None:
    text = (CAPTURES / "cgroups.txt").read_text()
    assert cgroups.hierarchies(text) == [Path("/sys/fs/cgroup/systemd"),
                                         Path("/sys/fs/cgroup/unified")]
    assert cgroups.hierarchies((CAPTURES / "cgroup2-ro.txt").read_text()) == []


def test_the_launcher_moves_itself_into_the_hosts_groups_before_exec(tmp_path: Path) -> None:
    roots = [tmp_path / "systemd", tmp_path / "unified"]
    argv = cgroups.launcher_argv(_host(), ["sh", "-c", "echo started"], roots)
    done = subprocess.run(argv, capture_output=True, text=True, check=True)
    assert done.stdout == "started\n"
    for root in roots:
        written = (root / cgroups.TOP / "na-server-1" / "cgroup.procs").read_text().split()
        assert len(written) == 1 and written[0].isdigit(), written


def test_a_group_that_cannot_be_joined_stops_the_launch(tmp_path: Path) -> None:
    root = tmp_path / "systemd"
    argv = cgroups.launcher_argv(_host(), ["sh", "-c", "echo started"], [root])
    (root / cgroups.TOP / "na-server-1" / "cgroup.procs").mkdir()  # not writable as a file
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert done.returncode != 0 and "started" not in done.stdout


def test_remove_takes_only_the_named_groups_deepest_first(tmp_path: Path) -> None:
    root = tmp_path / "systemd"
    for netns in ("na-server-1", "na-server-2", "nt-server-1"):
        (root / cgroups.TOP / netns / "payload" / "system.slice" / "bird.service").mkdir(
            parents=True)
    gone = cgroups.remove(["na-server-1", "na-server-2"], [root])
    assert gone == [str(root / cgroups.TOP / n) for n in ("na-server-1", "na-server-2")]
    assert sorted(p.name for p in (root / cgroups.TOP).iterdir()) == ["nt-server-1"]
    cgroups.remove(["nt-server-1"], [root])
    assert not (root / cgroups.TOP).exists()  # the last lab's group gone: the top goes too
