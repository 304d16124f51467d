"""Lab hosts booted from an image: systemd-nspawn containers inside the hosts' namespaces.

Each such host (`lab_image` in the inventory) gets `.lab/hosts/<host>/image/`:

- `upper/` and `work/`: its own layer of an overlay mount whose lower layer is the shared,
  read-only image (nornir_anycast.lab.images), mounted at `root/`: whatever the host writes
  (deploy's files, logs, its journal) lands in `upper/`, so 16 servers cost 16 small layers;
- before booting, the lab puts in: the host name, its own SSH host key (the lab's known_hosts
  holds it), the lab's public key in `~ops/.ssh/authorized_keys`, and the role's units: FRR on
  routers only, BIRD and nginx on servers only (disabled elsewhere, as they would not be
  installed there).

The host then boots: `systemd-nspawn --boot` with the host's network namespace
(`--network-namespace-path`), all capabilities (zebra needs them) and /proc/sys/net writable
(deploy sets the host's forwarding and multipath sysctls, as on a real machine). The container's
systemd gets `na-lab-init <netns> <spec>` as arguments (it ignores them), which is how the lab
finds every host's PID 1, whatever its kind (nornir_anycast.lab.procs.lab_inits).

`lab down` kills the containers (their PID 1 and everything in their namespaces), unmounts the
overlays and removes the directories; the image stays for the next lab.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

from nornir_anycast.exceptions import LabError
from nornir_anycast.lab import cgroups, hostdirs, images, procs
from nornir_anycast.lab.hosts import BASE_ENV, run_in
from nornir_anycast.lab.topology import LabHost
from nornir_anycast.settings import lab_dir

#: Units each role keeps enabled (the others of ROLE_UNITS are disabled on that host).
ROLE_UNITS: dict[str, tuple[str, ...]] = {
    "router": ("frr.service",),
    "server": ("bird.service", "nginx.service"),
    "client": (),
}
ALL_ROLE_UNITS = ("frr.service", "bird.service", "nginx.service")
#: What `lab up` waits for on every image host (and routers: FRR, started empty).
BOOT_UNITS = ("ssh.service",)


def _kind(host: LabHost) -> str:
    if host.runs_frr or host.role in ("edge", "isp"):
        return "router"
    return "server" if host.role == "server" else "client"


def base(host: LabHost) -> Path:
    return hostdirs.host_dir(host) / "image"


def root(host: LabHost) -> Path:
    """Where the host's overlay is mounted: its `/` as seen from this machine."""
    return base(host) / "root"


def upper(host: LabHost) -> Path:
    return base(host) / "upper"


def host_key(host: LabHost) -> Path:
    """The host's SSH host key as kept in its layer (`/etc/ssh/ssh_host_ed25519_key`)."""
    return upper(host) / "etc/ssh/ssh_host_ed25519_key"


def spec_file(host: LabHost) -> Path:
    return hostdirs.host_dir(host) / "init.json"


def _mountpoints() -> list[str]:
    out = []
    with open("/proc/self/mountinfo", encoding="utf-8") as fh:
        for line in fh:
            fields = line.split()
            if len(fields) > 4:
                out.append(fields[4].replace("\\040", " "))
    return out


def is_mounted(path: Path) -> bool:
    return str(path) in _mountpoints()


def _ids(name: str, image_root: Path) -> tuple[int, int]:
    """uid and gid of `name` in the image's passwd (the container's own numbering)."""
    for line in (image_root / "etc/passwd").read_text(encoding="utf-8").splitlines():
        parts = line.split(":")
        if parts and parts[0] == name and len(parts) > 3:
            return int(parts[2]), int(parts[3])
    raise LabError(f"image {image_root}: no user {name}")


def _write(path: Path, text: str, mode: int, uid: int = 0, gid: int = 0) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    os.chown(path, uid, gid)
    os.chmod(path, mode)


def prepare(host: LabHost, client_pub: str) -> list[str]:
    """Mount the host's overlay (when not mounted) and put in what the lab provides.

    Idempotent: a host key that exists is kept; a second `lab up` keeps what deploy wrote.
    Returns what it did.
    """
    if host.image is None:
        raise LabError(f"host {host.name}: not an image host")
    done: list[str] = []
    lower = images.image_path(host.image)
    if not images.is_built(host.image):
        raise LabError(f"lab image {host.image} is not built (run scripts/install.sh)")
    up, work, mnt = upper(host), base(host) / "work", root(host)
    for d in (up, work, mnt):
        d.mkdir(parents=True, exist_ok=True)
    key = host_key(host)
    if not key.exists() or not key.with_suffix(".pub").exists():
        key.parent.mkdir(parents=True, exist_ok=True)
        key.unlink(missing_ok=True)
        key.with_suffix(".pub").unlink(missing_ok=True)
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"root@{host.name}",
                        "-f", str(key)], check=True, capture_output=True)
        os.chmod(key, 0o600)
    if not is_mounted(mnt):
        proc = subprocess.run(
            ["mount", "-t", "overlay", "overlay", "-o",
             f"lowerdir={lower},upperdir={up},workdir={work}", str(mnt)],
            capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise LabError(f"host {host.name}: overlay mount failed: {proc.stderr.strip()}")
        done.append(f"mounted {host.name}'s root (overlay of {host.image})")
    uid, gid = _ids(images.OPS_USER, lower)
    home = mnt / "home" / images.OPS_USER
    ssh_dir = home / ".ssh"
    ssh_dir.mkdir(parents=True, exist_ok=True)
    os.chown(ssh_dir, uid, gid)
    os.chmod(ssh_dir, 0o700)
    _write(ssh_dir / "authorized_keys", client_pub, 0o600, uid, gid)
    _write(mnt / "etc/hostname", f"{host.name}\n", 0o644)
    # As Debian's installer writes it: sudo and others resolve the host's own name locally.
    _write(mnt / "etc/hosts", f"127.0.0.1\tlocalhost\n127.0.1.1\t{host.name}\n"
           "::1\tlocalhost ip6-localhost ip6-loopback\n", 0o644)
    wants = mnt / "etc/systemd/system/multi-user.target.wants"
    keep = ROLE_UNITS[_kind(host)]
    for unit in ALL_ROLE_UNITS:
        link = wants / unit
        if unit not in keep and (link.is_symlink() or link.exists()):
            link.unlink()  # `systemctl disable`, done before boot
    return done


def command(host: LabHost) -> list[str]:
    """The systemd-nspawn command line that boots the host."""
    return ["systemd-nspawn", "--quiet", f"--directory={root(host)}", "--register=no",
            "--keep-unit", "--boot", "--capability=all", "--console=passive",
            "--resolv-conf=off", "--timezone=off", "--link-journal=no",
            f"--network-namespace-path=/run/netns/{host.netns}", f"--machine={host.netns}",
            f"--hostname={host.name}", "--", procs.INIT_MARKER, host.netns, str(spec_file(host))]


def start(host: LabHost) -> subprocess.Popen[bytes]:
    """Boot the host (see wait_init); nspawn's own output goes to `.lab/hosts/<host>/nspawn.log`."""
    spec_file(host).write_text(json.dumps({"hostname": host.name, "image": host.image},
                                          indent=2) + "\n", encoding="utf-8")
    log = open(hostdirs.host_dir(host) / "nspawn.log", "ab")  # noqa: SIM115 (child keeps it)
    env = dict(BASE_ENV, SYSTEMD_NSPAWN_API_VFS_WRITABLE="network")
    cgroups.remove([host.netns])  # left by a container killed earlier (its processes gone)
    argv = cgroups.launcher_argv(host, command(host))
    try:
        return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                env=env, start_new_session=True)
    finally:
        log.close()


def wait_init(host: LabHost, launcher: subprocess.Popen[bytes], timeout: float = 30) -> int:
    """PID (in this machine's PID namespace) of the container's systemd, once it runs."""
    deadline = time.monotonic() + timeout
    spec = str(spec_file(host))
    while time.monotonic() < deadline:
        init = procs.lab_inits().get(host.netns)
        if init is not None and spec in init.cmdline:
            return init.pid
        if launcher.poll() is not None:
            break
        time.sleep(0.05)
    log = (hostdirs.host_dir(host) / "nspawn.log").read_text(errors="replace").strip()[-800:]
    raise LabError(f"host {host.name}: systemd-nspawn did not boot it in {host.netns}: "
                   f"{log or 'no message'}")


def wait_booted(host: LabHost, init_pid: int, timeout: float = 120) -> str:
    """Wait until the host's systemd finished booting and sshd runs; returns its state
    (`running`, or `degraded` when a unit failed, e.g. BIRD without a configuration)."""
    deadline = time.monotonic() + timeout
    state = ""
    while time.monotonic() < deadline:
        proc = run_in(host, init_pid, ["systemctl", "is-system-running"], timeout=30)
        state = proc.stdout.strip()
        if state in ("running", "degraded"):
            break
        time.sleep(0.2)
    else:
        raise LabError(f"host {host.name}: systemd still {state or 'silent'} after "
                       f"{timeout:.0f} s")
    for unit in units_wanted(host):
        ensure_active(host, init_pid, unit)
    return state


def units_wanted(host: LabHost) -> tuple[str, ...]:
    """Units `lab up` makes sure run: sshd everywhere, FRR on routers."""
    return BOOT_UNITS + (("frr.service",) if _kind(host) == "router" else ())


def sshd_listening(host: LabHost, init_pid: int) -> bool:
    """True when something listens on TCP port 22 inside the host (where the ProxyCommand's
    socat connects)."""
    proc = run_in(host, init_pid, ["ss", "-Hltn", "sport = :22"], timeout=15)
    return proc.returncode == 0 and bool(proc.stdout.strip())


def ssh_state(host: LabHost, init_pid: int) -> str:
    """ssh.service's state and its last journal lines, for an error message."""
    active = run_in(host, init_pid, ["systemctl", "is-active", "ssh.service"], timeout=15)
    log = run_in(host, init_pid, ["journalctl", "-q", "-n", "3", "-o", "cat", "-u",
                                  "ssh.service"], timeout=15)
    lines = " | ".join(line for line in log.stdout.strip().splitlines() if line)
    return (f"ssh.service {active.stdout.strip() or 'unknown'}, "
            f"{'listening' if sshd_listening(host, init_pid) else 'nothing on port 22'}"
            + (f"; journal: {lines}" if lines else ""))


def ensure_active(host: LabHost, init_pid: int, unit: str) -> bool:
    """Start `unit` when it is not active; True when it had to be (re)started."""
    if run_in(host, init_pid, ["systemctl", "is-active", "--quiet", unit]).returncode == 0:
        return False
    run_in(host, init_pid, ["systemctl", "restart", unit], timeout=90, check=True)
    return True


def unmount_all(under: Path | None = None) -> list[str]:
    """Unmount every mount below `under` (default: the lab's host directories), deepest first;
    returns the mount points. A busy mount is detached lazily (`umount -l`)."""
    top = str(under or hostdirs.hosts_root())
    mine = sorted({m for m in _mountpoints() if m == top or m.startswith(top + "/")},
                  key=len, reverse=True)
    for mnt in mine:
        proc = subprocess.run(["umount", mnt], capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            subprocess.run(["umount", "-l", mnt], capture_output=True, check=False)
    left = [m for m in mine if m in _mountpoints()]
    if left:
        raise LabError(f"could not unmount: {', '.join(left)}")
    return mine


def nspawn_launchers(netns_names: set[str]) -> list[int]:
    """systemd-nspawn processes (in this machine's PID namespace) of these namespaces."""
    out = []
    paths = {f"--network-namespace-path=/run/netns/{n}" for n in netns_names}
    for proc in procs.all_procs():
        if proc.comm == "systemd-nspawn" and any(a in paths for a in proc.cmdline):
            out.append(proc.pid)
    return out


def lab_mounts() -> list[str]:
    """Mount points of this lab (for `lab status` and tests)."""
    top = str(lab_dir())
    return [m for m in _mountpoints() if m.startswith(top + "/")]
