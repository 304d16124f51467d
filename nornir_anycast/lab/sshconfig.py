"""SSH to the lab: the lab's key pair, each host's sshd config and host key, .lab/ssh_config.

Management goes only through loopback inside each namespace: the ssh_config's ProxyCommand
enters the namespace with `ip netns exec` and connects socat to 127.0.0.1:22 there. Host keys are
generated here and written to .lab/known_hosts, so StrictHostKeyChecking stays on.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable
from pathlib import Path

from nornir_anycast.lab import containers, hostdirs
from nornir_anycast.lab.daemons import SSHD_CONFIG
from nornir_anycast.lab.netns import run
from nornir_anycast.lab.prefix import ns_prefix
from nornir_anycast.lab.topology import LabHost
from nornir_anycast.settings import lab_dir


def key_file() -> Path:
    return lab_dir() / "id_ed25519"


def ssh_config_file() -> Path:
    return lab_dir() / "ssh_config"


def known_hosts_file() -> Path:
    return lab_dir() / "known_hosts"


def _keygen(path: Path, comment: str) -> None:
    run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)])


def ensure_client_key() -> Path:
    """The lab's login key (made once; kept until `lab down`)."""
    lab_dir().mkdir(parents=True, exist_ok=True)
    key = key_file()
    if not key.exists() or not key.with_suffix(".pub").exists():
        key.unlink(missing_ok=True)
        key.with_suffix(".pub").unlink(missing_ok=True)
        _keygen(key, "nornir-anycast-lab")
    os.chmod(key, 0o600)
    return key


def prepare_host(host: LabHost) -> None:
    """sshd_config, host key and authorized_keys in the host's /etc/ssh."""
    etc = hostdirs.host_dir(host) / "etc-ssh"
    etc.mkdir(parents=True, exist_ok=True)
    (etc / "sshd_config").write_text(SSHD_CONFIG.format(name=host.name, netns=host.netns),
                                     encoding="utf-8")
    hostkey = etc / "ssh_host_ed25519_key"
    if not hostkey.exists() or not hostkey.with_suffix(".pub").exists():
        hostkey.unlink(missing_ok=True)
        hostkey.with_suffix(".pub").unlink(missing_ok=True)
        _keygen(hostkey, f"root@{host.name}")
    os.chmod(hostkey, 0o600)
    auth = etc / "authorized_keys"
    auth.write_text(key_file().with_suffix(".pub").read_text(encoding="utf-8"), encoding="utf-8")
    os.chmod(auth, 0o600)
    for name in ("moduli", "ssh_config"):
        src = Path("/etc/ssh") / name
        if src.is_file() and not (etc / name).exists():
            (etc / name).write_bytes(src.read_bytes())


def host_key_file(host: LabHost) -> Path:
    """The host's SSH host key (private half; `.pub` beside it), wherever its kind keeps it."""
    if host.image is not None:
        return containers.host_key(host)
    return hostdirs.host_dir(host) / "etc-ssh" / "ssh_host_ed25519_key"


def write_client_files(hosts: Iterable[LabHost]) -> None:
    """.lab/ssh_config and .lab/known_hosts for every host of the lab (`Host <prefix>-*`)."""
    listed = list(hosts)
    lines = []
    for host in listed:
        pub = host_key_file(host).with_suffix(".pub").read_text()
        keytype, blob = pub.split()[:2]
        lines.append(f"{host.netns} {keytype} {blob}\n")
    known_hosts_file().write_text("".join(lines), encoding="utf-8")
    example = listed[0].netns if listed else f"{ns_prefix()}isp"
    # Hosts booted from an image are logged into as their operator account (first match wins).
    users = "".join(f"Host {h.netns}\n    User {h.user}\n" for h in listed if h.user != "root")
    ssh_config_file().write_text(
        f"""# Written by `python tasks.py lab up`. Lab hosts are reached only through loopback
# inside their own network namespace: ssh -F {ssh_config_file()} {example}
{users}Host {ns_prefix()}*
    User root
    IdentityFile {key_file()}
    IdentitiesOnly yes
    UserKnownHostsFile {known_hosts_file()}
    GlobalKnownHostsFile /dev/null
    StrictHostKeyChecking yes
    PasswordAuthentication no
    KbdInteractiveAuthentication no
    ConnectTimeout 10
    # Classic curve25519 key exchange: the post-quantum default costs ~0.15 s of CPU per login,
    # which adds up on a 2-core machine logging into 20 hosts over loopback.
    KexAlgorithms curve25519-sha256,curve25519-sha256@libssh.org
    LogLevel ERROR
    ProxyCommand ip netns exec %h socat - TCP:127.0.0.1:22
""",
        encoding="utf-8",
    )


def ssh_ok(host: LabHost, timeout: float = 15) -> bool:
    """True when `ssh -F .lab/ssh_config <netns> true` succeeds (real SSH, key and host key)."""
    try:
        proc = subprocess.run(
            ["ssh", "-F", str(ssh_config_file()), "-o", "BatchMode=yes", host.netns, "true"],
            stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout, check=False,
        )
    except subprocess.TimeoutExpired:
        return False
    return proc.returncode == 0


def ssh_error(host: LabHost, timeout: float = 15) -> str:
    """What `ssh` says when logging into the host fails (its last line), for error messages."""
    try:
        proc = subprocess.run(
            ["ssh", "-F", str(ssh_config_file()), "-o", "BatchMode=yes", host.netns, "true"],
            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout,
            check=False)
    except subprocess.TimeoutExpired:
        return f"no answer within {timeout:.0f} s"
    if proc.returncode == 0:
        return "logs in now"
    # The last two lines: the ProxyCommand's own error (socat's `connect(...): Connection
    # refused`) comes before ssh's `kex_exchange_identification: ...`.
    lines = [line for line in (proc.stderr or proc.stdout).strip().splitlines() if line]
    return " / ".join(lines[-2:]) if lines else f"exit {proc.returncode}"


def remove_client_files() -> None:
    for path in (ssh_config_file(), known_hosts_file(), key_file(), key_file().with_suffix(".pub")):
        path.unlink(missing_ok=True)
