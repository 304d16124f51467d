"""Root file systems the lab boots hosts from: Debian 13 with systemd, built once per machine.

A host of the `debian13` kind (inventory `lab_image: debian13`) is a systemd-nspawn container
inside its network namespace, booted from an overlay of a shared, read-only root built here:

- `debian13`: Debian 13 (trixie) minbase with systemd, OpenSSH, sudo, FRR 10.3
  (+ frr-pythontools for frr-reload), BIRD 2.17, nginx-light 1.26, nftables, ifupdown, curl,
  python3 and anycast-healthchecker in `/opt/anycast-healthchecker` (a venv);
- `debian13-bird3`: the same root with BIRD 3.1 (`bird3`, which replaces `bird2`).

Both carry the operator account `ops` (no password, sudo without one, the lab's key added per
host at `lab up`), root's password locked and root login refused by sshd, sshd listening on
loopback only, no SSH host keys (each host gets its own), no machine id, an empty resolv.conf
(nothing to resolve inside the lab) and no console getty. Packaged services stay as Debian
leaves them (frr, bird and nginx enabled; `bird.service` fails on a fresh host for want of a
router id): configuring them is deploy's job.

Images live outside any checkout, in `$NORNIR_ANYCAST_IMAGE_DIR` (default
`/var/cache/nornir-anycast/images`), one directory per image, with `.nornir-anycast-image.json`
naming the recipe it was built from; a changed recipe builds the image again. Builds take a
file lock per image, so concurrent `lab up`s (any prefix) build it once. `debootstrap` fetches
from the Debian mirror this machine's apt sources name (`$NORNIR_ANYCAST_DEBIAN_MIRROR`
overrides).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from nornir_anycast.exceptions import LabError

IMAGE_DIR_ENV = "NORNIR_ANYCAST_IMAGE_DIR"
MIRROR_ENV = "NORNIR_ANYCAST_DEBIAN_MIRROR"
DEFAULT_IMAGE_DIR = Path("/var/cache/nornir-anycast/images")
DEFAULT_MIRROR = "http://deb.debian.org/debian"
STAMP = ".nornir-anycast-image.json"
SUITE = "trixie"
OPS_USER = "ops"
#: anycast-healthchecker for the servers (the same requirement as pyproject's `lab` extra).
HEALTHCHECKER = "anycast-healthchecker==0.9.10"
HEALTHCHECKER_VENV = "/opt/anycast-healthchecker"

BASE_PACKAGES = ("systemd", "systemd-sysv", "dbus", "libpam-systemd", "openssh-server", "sudo",
                 "iproute2", "iputils-ping", "procps", "nftables", "ifupdown", "curl",
                 "ca-certificates", "python3", "python3-venv", "frr", "frr-pythontools",
                 "bird2", "nginx-light", "less")

SSHD_DROPIN = """\
# nornir-anycast lab image: sshd on loopback only (reached through the lab's ProxyCommand),
# keys only, no root login: operators log in as `ops` and use sudo.
ListenAddress 127.0.0.1
PermitRootLogin no
PasswordAuthentication no
KbdInteractiveAuthentication no
UseDNS no
MaxStartups 100:30:200
MaxSessions 100
# Every login reaches sshd from 127.0.0.1 (the ProxyCommand's socat): OpenSSH 9.8's per-source
# penalties would lock the whole lab out for minutes after a few failed or unfinished logins.
PerSourcePenalties no
"""

SUDOERS = f"{OPS_USER} ALL=(ALL:ALL) NOPASSWD: ALL\n"

#: Units a container has no use for (no console to log in on, no kernel modules to load).
MASKED_UNITS = ("console-getty.service", "getty@tty1.service", "systemd-modules-load.service",
                "cron.service", "apt-daily.timer", "apt-daily-upgrade.timer",
                "e2scrub_all.timer", "fstrim.timer", "man-db.timer", "dpkg-db-backup.timer",
                "systemd-networkd-wait-online.service")


@dataclass(frozen=True)
class Image:
    """One image: built by debootstrap (`base` None) or from another image plus packages."""

    name: str
    description: str
    base: str | None = None
    install: tuple[str, ...] = ()  # packages installed on top of `base` (apt-get)

    def recipe(self) -> dict[str, object]:
        """What the image is made of; a change of any of it rebuilds the image."""
        return {"name": self.name, "suite": SUITE, "packages": list(BASE_PACKAGES),
                "base": self.base, "install": list(self.install), "healthchecker": HEALTHCHECKER,
                "sshd": SSHD_DROPIN, "sudoers": SUDOERS, "masked": list(MASKED_UNITS),
                "version": 1}

    def recipe_hash(self) -> str:
        return hashlib.sha256(json.dumps(self.recipe(), sort_keys=True).encode()).hexdigest()[:16]


IMAGES: dict[str, Image] = {
    "debian13": Image("debian13", "Debian 13: FRR 10.3, BIRD 2.17, nginx 1.26, systemd, sudo"),
    "debian13-bird3": Image("debian13-bird3", "Debian 13 with BIRD 3.1 instead of BIRD 2.17",
                            base="debian13", install=("bird3",)),
}

Progress = Callable[[str], None]


def _stderr(msg: str) -> None:
    print(f"lab images: {msg}", file=sys.stderr, flush=True)


def image_dir() -> Path:
    """Where images live: `$NORNIR_ANYCAST_IMAGE_DIR` or /var/cache/nornir-anycast/images."""
    value = os.environ.get(IMAGE_DIR_ENV)
    return Path(value) if value else DEFAULT_IMAGE_DIR


def image(name: str) -> Image:
    try:
        return IMAGES[name]
    except KeyError:
        raise LabError(f"no lab image {name!r}; images: {', '.join(IMAGES)}") from None


def image_path(name: str) -> Path:
    """The root of image `name` (which may not be built yet)."""
    return image_dir() / image(name).name


def is_built(name: str) -> bool:
    """True when image `name` exists and was built from its current recipe."""
    stamp = image_path(name) / STAMP
    try:
        data = json.loads(stamp.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and data.get("recipe_hash") == image(name).recipe_hash()


def debian_mirror() -> str:
    """The Debian mirror of this machine's apt sources (not the security archive)."""
    if os.environ.get(MIRROR_ENV):
        return os.environ[MIRROR_ENV].rstrip("/")
    texts: list[str] = []
    for path in [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]:
        try:
            texts.append(path.read_text(encoding="utf-8", errors="replace"))
        except OSError:
            continue
    for text in texts:
        for url in re.findall(r"^\s*(?:deb\s+(?:\[[^\]]*\]\s+)?|URIs:\s*)(\S+)", text, re.M):
            if "security" not in url and url.startswith(("http://", "https://", "file:")):
                return str(url).rstrip("/")
    return DEFAULT_MIRROR


@contextmanager
def _build_lock(name: str) -> Iterator[None]:
    image_dir().mkdir(parents=True, exist_ok=True)
    with open(image_dir() / f".{name}.lock", "w", encoding="utf-8") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        yield


def _run(argv: list[str], *, what: str, timeout: float = 1800,
         env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False,
                          stdin=subprocess.DEVNULL, env=env)
    if proc.returncode != 0:
        tail = (proc.stderr.strip() or proc.stdout.strip())[-1500:]
        raise LabError(f"building lab image: {what} failed (exit {proc.returncode}): {tail}")
    return str(proc.stdout)


def _chroot(root: Path, script: str, *, what: str, timeout: float = 900) -> str:
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root", "LANG": "C.UTF-8",
           "DEBIAN_FRONTEND": "noninteractive"}
    return _run(["chroot", str(root), "/bin/sh", "-ec", script], what=what, timeout=timeout,
                env=env)


def _healthchecker_wheels(dest: Path) -> None:
    """Wheels of anycast-healthchecker and its dependencies, built with this machine's pip
    (its index settings apply; all are pure Python, so they install on the image's 3.13)."""
    _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-cache-dir", "-w", str(dest),
          HEALTHCHECKER], what=f"pip wheel {HEALTHCHECKER}")


def _configure(root: Path) -> None:
    """What every lab image has on top of its packages (see the module's docstring)."""
    for key in root.glob("etc/ssh/ssh_host_*"):
        key.unlink()
    (root / "etc/ssh/sshd_config.d").mkdir(parents=True, exist_ok=True)
    (root / "etc/ssh/sshd_config.d/nornir-anycast-lab.conf").write_text(SSHD_DROPIN)
    sudoers = root / "etc/sudoers.d" / OPS_USER
    sudoers.write_text(SUDOERS)
    os.chmod(sudoers, 0o440)
    (root / "etc/machine-id").write_text("")
    (root / "var/lib/dbus/machine-id").unlink(missing_ok=True)
    (root / "etc/hostname").write_text("localhost\n")
    resolv = root / "etc/resolv.conf"
    if resolv.is_symlink() or resolv.exists():
        resolv.unlink()
    resolv.write_text("# The lab has no DNS.\n")
    for unit in MASKED_UNITS:
        link = root / "etc/systemd/system" / unit
        link.parent.mkdir(parents=True, exist_ok=True)
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to("/dev/null")
    _chroot(root, f"id {OPS_USER} >/dev/null 2>&1 || useradd -m -s /bin/bash -U {OPS_USER}; "
                  f"passwd -l root >/dev/null; passwd -d {OPS_USER} >/dev/null; "
                  f"usermod -aG frrvty,bird,adm {OPS_USER} 2>/dev/null || "
                  f"usermod -aG adm {OPS_USER}", what="the ops account")


def _install_healthchecker(root: Path) -> None:
    with tempfile.TemporaryDirectory(dir=root / "tmp") as tmp:
        wheels = Path(tmp)
        _healthchecker_wheels(wheels)
        inside = "/" + str(wheels.relative_to(root))
        _chroot(root, f"python3 -m venv {HEALTHCHECKER_VENV} && "
                      f"{HEALTHCHECKER_VENV}/bin/pip install -q --no-index --find-links {inside} "
                      f"{HEALTHCHECKER} && {HEALTHCHECKER_VENV}/bin/anycast-healthchecker "
                      "--version", what="anycast-healthchecker in the image")


def _debootstrap(target: Path, progress: Progress) -> None:
    mirror = debian_mirror()
    if shutil.which("debootstrap") is None:
        raise LabError("debootstrap is missing on this machine (run scripts/install.sh)")
    progress(f"debootstrap {SUITE} from {mirror} (about a minute)")
    _run(["debootstrap", "--variant=minbase", f"--include={','.join(BASE_PACKAGES)}", SUITE,
          str(target), mirror], what="debootstrap", timeout=3600)


def _apt_install(root: Path, packages: tuple[str, ...], progress: Progress) -> None:
    progress(f"apt-get install {' '.join(packages)}")
    shutil.copy("/etc/resolv.conf", root / "etc/resolv.conf.na-build")
    resolv = root / "etc/resolv.conf"
    saved = resolv.read_text() if resolv.exists() else ""
    resolv.unlink(missing_ok=True)
    shutil.copy(root / "etc/resolv.conf.na-build", resolv)
    try:
        # policy-rc.d: no service is started inside the chroot.
        _chroot(root, "printf '#!/bin/sh\\nexit 101\\n' > /usr/sbin/policy-rc.d; "
                      "chmod +x /usr/sbin/policy-rc.d; apt-get update -qq; "
                      f"apt-get install -y -qq --no-install-recommends {' '.join(packages)}; "
                      "apt-get clean; rm -f /usr/sbin/policy-rc.d",
                what=f"apt-get install {' '.join(packages)}")
    finally:
        resolv.write_text(saved)
        (root / "etc/resolv.conf.na-build").unlink(missing_ok=True)


def _build(img: Image, target: Path, progress: Progress) -> None:
    if img.base is None:
        _debootstrap(target, progress)
        _chroot(target, "apt-get clean", what="apt-get clean")
    else:
        base = ensure_image(img.base, progress)
        progress(f"copying {img.base} to {img.name}")
        _run(["cp", "-a", "--reflink=auto", f"{base}/.", str(target)], what="cp -a")
        (target / STAMP).unlink(missing_ok=True)
    if img.install:
        _apt_install(target, img.install, progress)
    if img.base is None:
        progress("installing anycast-healthchecker into the image")
        _install_healthchecker(target)
    _configure(target)


def ensure_image(name: str, progress: Progress = _stderr) -> Path:
    """The root of image `name`, built first when missing or built from another recipe.

    Raises:
        LabError: not root, debootstrap missing, or a build step failed (the half-built tree is
            removed; an image built before stays as it was).
    """
    img = image(name)
    path = image_path(name)
    if is_built(name):
        return path
    if os.geteuid() != 0:
        raise LabError("building a lab image needs root")
    with _build_lock(name):
        if is_built(name):  # another process built it while we waited
            return path
        start = time.monotonic()
        progress(f"building image {name} in {path} ({img.description})")
        work = path.with_name(f"{name}.building-{os.getpid()}")
        if work.exists():
            shutil.rmtree(work)
        work.mkdir(parents=True)
        try:
            _build(img, work, progress)
            stamp = {"name": name, "recipe_hash": img.recipe_hash(), "recipe": img.recipe(),
                     "built": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                     "seconds": round(time.monotonic() - start, 1)}
            (work / STAMP).write_text(json.dumps(stamp, indent=2) + "\n", encoding="utf-8")
            if path.exists():
                old = path.with_name(f"{name}.old-{os.getpid()}")
                path.rename(old)
                shutil.rmtree(old, ignore_errors=True)
            work.rename(path)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
        progress(f"image {name} ready ({time.monotonic() - start:.0f} s, {_size_mb(path)} MB)")
    return path


def _size_mb(path: Path) -> int:
    out = subprocess.run(["du", "-sm", str(path)], capture_output=True, text=True, check=False)
    try:
        return int(out.stdout.split()[0])
    except (IndexError, ValueError):
        return 0


def main(argv: list[str] | None = None) -> int:
    """`python -m nornir_anycast.lab.images [NAME ...]`: build (or check) images; install.sh
    runs it so that the first `lab up` of the Debian 13 kind does not wait for debootstrap."""
    names = list(argv if argv is not None else sys.argv[1:]) or list(IMAGES)
    try:
        for name in names:
            path = ensure_image(name)
            print(f"{name}: {path}")
    except LabError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
