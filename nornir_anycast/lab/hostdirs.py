"""Per-host directories under .lab/hosts/<host>/, bound over the host's own paths.

Each lab host sees `.lab/hosts/<host>/etc-frr` as its `/etc/frr`, and so on (BIND_TARGETS). They
start as a fresh Debian install would leave them (copies of the machine's /etc/frr, /etc/bird,
/etc/nginx, with owners kept), plus what the lab needs: an empty frr.conf with zebra, bgpd,
staticd and bfdd enabled, sshd's configuration and host key, the run directories each daemon
expects. Preparing is idempotent and never overwrites a file that exists, so a second `lab up`
keeps what deploy wrote.
"""

from __future__ import annotations

import grp
import os
import pwd
import re
import shutil
from pathlib import Path

from nornir_anycast.exceptions import LabError
from nornir_anycast.lab.topology import LabHost
from nornir_anycast.settings import lab_dir, project_root

#: (directory under .lab/hosts/<host>/, path it is bound over inside the host). /run last but one
#: and /tmp last only for readability: hostinit opens every source before mounting any.
BIND_TARGETS: tuple[tuple[str, str], ...] = (
    ("etc-frr", "/etc/frr"),
    ("etc-bird", "/etc/bird"),
    ("etc-nginx", "/etc/nginx"),
    ("etc-ssh", "/etc/ssh"),
    ("var-www", "/var/www"),
    ("var-lib-nginx", "/var/lib/nginx"),
    ("var-log", "/var/log"),
    ("root", "/root"),
    ("run", "/run"),
    ("tmp", "/tmp"),
)

#: Debian's defaults copied in as the starting point of each host.
_COPIED = (("etc-frr", "/etc/frr"), ("etc-bird", "/etc/bird"), ("etc-nginx", "/etc/nginx"),
           ("var-www/html", "/var/www/html"))

#: (path under the host dir, user, group, mode): made when missing, owners as Debian has them.
_DIRS: tuple[tuple[str, str, str, int], ...] = (
    ("etc-ssh", "root", "root", 0o755),
    ("var-www", "root", "root", 0o755),
    ("var-www/anycast", "root", "root", 0o755),
    ("var-lib-nginx", "root", "root", 0o755),
    ("var-log", "root", "root", 0o755),
    ("var-log/frr", "frr", "frr", 0o775),
    ("var-log/nginx", "root", "adm", 0o755),
    ("root", "root", "root", 0o700),
    ("tmp", "root", "root", 0o1777),
)

#: The run directory of a freshly booted host (made again each time the host's PID 1 starts).
_RUN_DIRS: tuple[tuple[str, str, str, int], ...] = (
    ("run", "root", "root", 0o755),
    ("run/sshd", "root", "root", 0o755),
    ("run/frr", "frr", "frr", 0o755),
    ("run/bird", "bird", "bird", 0o775),
    ("run/nginx", "root", "root", 0o755),
    ("run/lock", "root", "root", 0o1777),
)

FRR_DAEMONS = ("zebra", "bgpd", "staticd", "bfdd")


def hosts_root() -> Path:
    return lab_dir() / "hosts"


def host_dir(host: LabHost | str) -> Path:
    """The host's directory, `.lab/hosts/<inventory name>`."""
    return hosts_root() / (host if isinstance(host, str) else host.name)


def _ids(user: str, group: str) -> tuple[int, int]:
    try:
        return pwd.getpwnam(user).pw_uid, grp.getgrnam(group).gr_gid
    except KeyError as exc:
        raise LabError(f"user or group missing on this machine: {exc.args[0]} "
                       "(run scripts/install.sh)") from None


def _make_dir(path: Path, user: str, group: str, mode: int) -> None:
    if not path.is_dir():
        path.mkdir(parents=True)
        uid, gid = _ids(user, group)
        os.chown(path, uid, gid)
        os.chmod(path, mode)


def _copy_tree(src: Path, dst: Path) -> None:
    """Copy a directory keeping symlinks, modes and owners."""
    shutil.copytree(src, dst, symlinks=True)
    for path in [dst, *dst.rglob("*")]:
        rel = path.relative_to(dst)
        st = os.lstat(src / rel)
        os.lchown(path, st.st_uid, st.st_gid)
        if not path.is_symlink():
            os.chmod(path, st.st_mode & 0o7777)


def _write(path: Path, text: str, user: str = "root", group: str = "root",
           mode: int = 0o644) -> None:
    path.write_text(text, encoding="utf-8")
    uid, gid = _ids(user, group)
    os.chown(path, uid, gid)
    os.chmod(path, mode)


def _frr_daemons_file(text: str) -> str:
    for daemon in FRR_DAEMONS:
        if re.search(rf"^{daemon}=", text, flags=re.M):
            text = re.sub(rf"^{daemon}=.*$", f"{daemon}=yes", text, flags=re.M)
        else:
            text += f"{daemon}=yes\n"
    return text


def prepare(host: LabHost) -> None:
    """Create whatever is missing in the host's directory (never overwrites existing files)."""
    base = host_dir(host)
    base.mkdir(parents=True, exist_ok=True)
    os.chmod(base, 0o755)
    for rel, src in _COPIED:
        if not (base / rel).exists():
            if Path(src).is_dir():
                (base / rel).parent.mkdir(parents=True, exist_ok=True)
                _copy_tree(Path(src), base / rel)
            elif rel.startswith("etc-"):
                raise LabError(f"{src} is missing on this machine (run scripts/install.sh)")
    for rel, user, group, mode in _DIRS:
        _make_dir(base / rel, user, group, mode)
    frr = base / "etc-frr"
    marker = frr / ".lab-initialised"
    if not marker.exists():
        # A freshly installed router: empty configuration, the lab's daemons enabled.
        _write(frr / "frr.conf", "", "frr", "frr", 0o640)
        daemons = frr / "daemons"
        text = daemons.read_text(encoding="utf-8") if daemons.exists() else ""
        _write(daemons, _frr_daemons_file(text), "frr", "frr", 0o640)
        _write(marker, "frr.conf emptied and daemons enabled by `lab up`\n", mode=0o600)


def reset_run(host: LabHost) -> None:
    """Empty the host's /run as a reboot would (only while its PID 1 is not running)."""
    run = host_dir(host) / "run"
    if run.exists():
        shutil.rmtree(run)
    for rel, user, group, mode in _RUN_DIRS:
        _make_dir(host_dir(host) / rel, user, group, mode)


def ensure_run_dirs(host: LabHost) -> None:
    """Recreate run directories someone removed (sshd refuses to start without /run/sshd)."""
    for rel, user, group, mode in _RUN_DIRS:
        _make_dir(host_dir(host) / rel, user, group, mode)


def bind_spec(host: LabHost) -> list[list[str]]:
    """[source, target] pairs for hostinit.py.

    When the project itself lives under a directory the host gets its own copy of (a checkout
    in /tmp or /root, as CI may use), the project is bound back at its own path last, so what
    runs inside a host (the healthchecker's venv under .cache/, the drill's scripts) still finds
    it. hostinit opens every source before mounting any, so the source is the real checkout.
    """
    base = host_dir(host)
    binds = [[str(base / rel), target] for rel, target in BIND_TARGETS]
    root = project_root()
    if any(root == Path(target) or Path(target) in root.parents for _, target in BIND_TARGETS):
        binds.append([str(root), str(root)])
    return binds


def remove_all() -> None:
    """Delete every host directory (only once no lab process holds them mounted)."""
    root = hosts_root()
    if root.exists():
        shutil.rmtree(root)
