"""Lab hosts as processes: starting each host's PID 1, finding it, running commands inside it.

A host's PID 1 (hostinit.py) owns the host's mount, UTS and PID namespaces; every other process
of the host (sshd, FRR, `lab exec`) enters them with
`nsenter --target PID1 --net --mount --pid --uts`, which is why an SSH session and `lab exec`
see the same files and processes.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from nornir_anycast.exceptions import LabError
from nornir_anycast.lab import hostdirs, netns, procs
from nornir_anycast.lab.topology import LabHost

HOSTINIT = Path(__file__).with_name("hostinit.py")

#: The environment of processes started in a host, like a root login on Debian.
BASE_ENV: dict[str, str] = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "HOME": "/root",
    "USER": "root",
    "LOGNAME": "root",
    "SHELL": "/bin/bash",
    "LANG": "C.UTF-8",
}


def start_init(host: LabHost) -> subprocess.Popen[bytes]:
    """Launch the host's PID 1 inside its network namespace (see wait_init)."""
    spec = {"hostname": host.name, "binds": hostdirs.bind_spec(host),
            "log": "/var/log/lab-init.log"}
    spec_file = hostdirs.host_dir(host) / "init.json"
    spec_file.write_text(json.dumps(spec, indent=2) + "\n", encoding="utf-8")
    argv = ["ip", "netns", "exec", host.netns, sys.executable, "-I", "-S", str(HOSTINIT),
            procs.INIT_MARKER, host.netns, str(spec_file)]
    return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=BASE_ENV, start_new_session=True)


def wait_init(host: LabHost, launcher: subprocess.Popen[bytes], timeout: float = 20) -> int:
    """PID (in the machine's PID namespace) of the host's PID 1, once its mounts are in place."""
    assert launcher.stdout is not None
    ready, _, _ = select.select([launcher.stdout], [], [], timeout)
    line = launcher.stdout.readline().decode().strip() if ready else ""
    try:
        launcher.wait(timeout=5)
    except subprocess.TimeoutExpired:
        launcher.kill()
        launcher.wait()
    err = launcher.stderr.read().decode().strip() if launcher.stderr else ""
    if launcher.stdout:
        launcher.stdout.close()
    if launcher.stderr:
        launcher.stderr.close()
    if not line.startswith("ready "):
        raise LabError(f"host {host.name}: PID 1 did not start in {host.netns}: "
                       f"{line or err or 'no answer'}")
    return int(line.split()[1])


def find_init(host: LabHost) -> procs.Proc | None:
    """The host's PID 1 if it runs in the host's current namespace with this host's
    directories (an init of another topology's host with the same namespace does not count)."""
    init = procs.lab_inits().get(host.netns)
    inode = netns.netns_inode(host.netns)
    if init is None or inode is None or init.netns != inode:
        return None
    if str(hostdirs.host_dir(host) / "init.json") not in init.cmdline:
        return None
    return init


def kill_pids(pids: Sequence[int], timeout: float = 5) -> list[int]:
    """SIGKILL the processes and wait until they are gone; returns those still alive."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + timeout
    left = [p for p in pids if procs.alive(p)]
    while left and time.monotonic() < deadline:
        time.sleep(0.02)
        left = [p for p in left if procs.alive(p)]
    return left


def nsenter_argv(init_pid: int, argv: Sequence[str], *, workdir: str = "/root") -> list[str]:
    """Command line that runs `argv` inside the host whose PID 1 is `init_pid`."""
    return ["nsenter", f"--target={init_pid}", "--net", "--mount", "--pid", "--uts",
            f"--wd={workdir}", "--", *argv]


def host_env(host: LabHost, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = dict(BASE_ENV, HOSTNAME=host.name)
    if "TERM" in os.environ:
        env["TERM"] = os.environ["TERM"]
    if extra:
        env.update(extra)
    return env


def run_in(host: LabHost, init_pid: int, argv: Sequence[str], *, input: str | None = None,
           timeout: float = 60, check: bool = False) -> subprocess.CompletedProcess[str]:
    """Run `argv` inside the host and capture its output."""
    proc = subprocess.run(nsenter_argv(init_pid, argv), input=input, capture_output=True,
                          text=True, timeout=timeout, env=host_env(host), check=False,
                          stdin=None if input is not None else subprocess.DEVNULL)
    if check and proc.returncode != 0:
        raise LabError(f"host {host.name}: `{' '.join(argv)}` exited {proc.returncode}: "
                       f"{(proc.stderr or proc.stdout).strip()}")
    return proc
