"""PID 1 of a lab host: its own mount, UTS and PID namespaces, with per-host directories bound in.

Run by `lab up` as `ip netns exec NS python3 -I hostinit.py na-lab-init NS SPEC_FILE`, this
script (standard library only, so it runs under any Python 3) does, in the network namespace NS:

1. unshare(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWPID) and make every mount private, so nothing
   mounted here ever shows in the machine's own mount table;
2. fork: the child is PID 1 of the new PID namespace. It mounts a fresh /proc, detaches every
   `nsfs` mount inherited from the machine (so this host never keeps anybody's deleted network
   namespace alive), sets the hostname (`hostname` in the JSON file SPEC_FILE), and
   bind-mounts the host's directories (`.lab/hosts/HOST/etc-frr` over `/etc/frr`, ...) listed
   in its `binds`;
3. the parent prints `ready <pid of the child>` (its pid in the machine's PID namespace) and
   exits; the child stays, reaping every process of the host, until it is killed. When it dies
   the kernel kills every other process of the host and the namespaces go with them.

Everything else (sshd, FRR, `lab exec`) enters this process's namespaces with `nsenter`.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import socket
import sys
import time

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWPID = 0x20000000
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
MNT_DETACH = 2

_libc = ctypes.CDLL(None, use_errno=True)


def _check(ret: int, what: str) -> None:
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _mount(source: str | None, target: str, fstype: str | None, flags: int) -> None:
    _check(
        _libc.mount(
            source.encode() if source else None,
            target.encode(),
            fstype.encode() if fstype else None,
            ctypes.c_ulong(flags),
            None,
        ),
        f"mount {source} on {target}",
    )


def _detach_nsfs_mounts() -> None:
    """Lazily unmount every namespace file bind-mounted in the copied mount table."""
    targets = []
    with open("/proc/self/mountinfo", encoding="utf-8") as fh:
        for line in fh:
            left, _, right = line.partition(" - ")
            if right.split(" ", 1)[0] == "nsfs":
                targets.append(left.split(" ")[4].encode().decode("unicode_escape"))
    for target in sorted(targets, key=len, reverse=True):
        _libc.umount2(target.encode(), ctypes.c_int(MNT_DETACH))


def _setup(hostname: str, binds: list[list[str]]) -> None:
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    _detach_nsfs_mounts()
    socket.sethostname(hostname)
    # Open every source first: a target may hide a later source (/tmp over /tmp/...).
    fds = [(os.open(source, os.O_PATH | os.O_DIRECTORY), target) for source, target in binds]
    for fd, target in fds:
        os.makedirs(target, exist_ok=True)
        _mount(f"/proc/self/fd/{fd}", target, None, MS_BIND | MS_REC)
        os.close(fd)


def _reap_forever() -> None:
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    signal.signal(signal.SIGINT, lambda *_: os._exit(0))
    while True:
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            time.sleep(0.5)
        except InterruptedError:
            continue


def main(argv: list[str]) -> int:
    """Entry point; see the module docstring for the arguments."""
    if len(argv) != 4 or argv[1] != "na-lab-init":
        print("usage: hostinit.py na-lab-init NETNS SPEC_FILE", file=sys.stderr)
        return 2
    with open(argv[3], encoding="utf-8") as fh:
        spec = json.load(fh)
    hostname = spec["hostname"]
    _check(_libc.unshare(ctypes.c_int(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWPID)), "unshare")
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:  # PID 1 of the host
        os.close(rfd)
        try:
            os.setsid()
            _setup(hostname, spec["binds"])
        except Exception as exc:
            os.write(wfd, f"error {type(exc).__name__}: {exc}\n".encode())
            os._exit(1)
        log = os.open(spec["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.close(null)
        os.close(log)
        os.chdir("/")
        os.write(wfd, b"ok\n")
        os.close(wfd)
        _reap_forever()
    os.close(wfd)
    with os.fdopen(rfd, "rb") as fh:
        answer = fh.readline().decode().strip()
    if answer != "ok":
        print(answer or "error: host init died during setup", flush=True)
        return 1
    print(f"ready {pid}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
