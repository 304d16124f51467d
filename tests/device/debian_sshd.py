"""A throwaway Debian 13 host for real SSH tests of sudo and file transfer: an overlay of the
lab's Debian 13 image (read-only, never modified), its own sshd started in a chroot of it inside
a network namespace of this test's own (`<lab prefix>-sshd`), reached through a ProxyCommand as
the lab's hosts are. Two sshd: port 22 with an SFTP subsystem, port 2222 without one (the
base64 fallback). Users: `ops` (the image's, NOPASSWD sudo) and `opspw` (sudo asks for its
password). Everything it made is removed on `close()`, also after a failed start.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from nornir_anycast.lab import images

PASSWORD = "Ops-pw-4-sudo"

SSHD = """\
ListenAddress 127.0.0.1
Port {port}
HostKey /etc/ssh/ssh_host_ed25519_key
PidFile /run/sshd-{port}.pid
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
UseDNS no
{subsystem}
"""


def image() -> Path | None:
    """The lab's Debian 13 image (nornir_anycast.lab.images builds it), when it is built."""
    path = images.image_path("debian13")
    if (path / "usr/sbin/sshd").is_file() and (path / "usr/bin/sudo").is_file():
        return path
    return None


def _run(*cmd: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, check=check, capture_output=True, text=True, timeout=60)


class DebianSshd:
    def __init__(self, prefix: str) -> None:
        self.netns = f"{prefix}-sshd"
        self.dir = Path(tempfile.mkdtemp(prefix=f"{prefix}-sshd-"))
        self.root = self.dir / "merged"
        self.key = self.dir / "id_ed25519"
        self.ssh_config = self.dir / "ssh_config"
        self.known_hosts = self.dir / "known_hosts"
        self.pids: list[int] = []
        self.mounts: list[Path] = []
        self.netns_made = False

    def start(self) -> DebianSshd:
        base = image()
        assert base is not None
        for d in ("upper", "work", "merged"):
            (self.dir / d).mkdir()
        _run("mount", "-t", "overlay", "overlay", "-o",
             f"lowerdir={base},upperdir={self.dir / 'upper'},workdir={self.dir / 'work'}",
             str(self.root))
        self.mounts.append(self.root)
        for sub, how in (("proc", ("-t", "proc", "proc")), ("dev", ("--rbind", "/dev"))):
            target = self.root / sub
            _run("mount", *how, str(target))
            self.mounts.append(target)
        _run("ip", "netns", "add", self.netns)
        self.netns_made = True
        _run("ip", "-n", self.netns, "link", "set", "lo", "up")
        _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(self.key))
        self._chroot("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
                     "/etc/ssh/ssh_host_ed25519_key")
        self._chroot("useradd", "-m", "-s", "/bin/bash", "opspw")
        pub = self.key.with_suffix(".pub").read_text()
        for user, home in (("ops", "/home/ops"), ("opspw", "/home/opspw"), ("root", "/root")):
            ssh = self.root / home.lstrip("/") / ".ssh"
            ssh.mkdir(mode=0o700, exist_ok=True)
            (ssh / "authorized_keys").write_text(pub)
            self._chroot("chown", "-R", f"{user}:{user}", f"{home}/.ssh")
        subprocess.run(["chroot", str(self.root), "chpasswd"], check=True, timeout=30,
                       input=f"ops:{PASSWORD}x\nopspw:{PASSWORD}\nroot:{PASSWORD}r\n",
                       text=True)  # not locked: sshd without PAM refuses locked accounts
        (self.root / "etc/sudoers.d/opspw").write_text("opspw ALL=(ALL:ALL) ALL\n")
        (self.root / "run/sshd").mkdir(exist_ok=True)
        # The host's own name resolves (else sudo warns "unable to resolve host" each time).
        with (self.root / "etc/hosts").open("a") as hosts:
            hosts.write(f"127.0.1.1 {os.uname().nodename}\n")
        for port, subsystem in ((22, "Subsystem sftp /usr/lib/openssh/sftp-server"),
                                (2222, "")):
            conf = self.root / f"etc/ssh/sshd_config_{port}"
            conf.write_text(SSHD.format(port=port, subsystem=subsystem))
            _run("ip", "netns", "exec", self.netns, "chroot", str(self.root),
                 "/usr/sbin/sshd", "-f", f"/etc/ssh/sshd_config_{port}")
            pidfile = self.root / f"run/sshd-{port}.pid"
            for _ in range(100):  # sshd writes it once it has daemonised
                if pidfile.is_file() and pidfile.read_text().strip():
                    break
                time.sleep(0.05)
            self.pids.append(int(pidfile.read_text()))
        host_key = (self.root / "etc/ssh/ssh_host_ed25519_key.pub").read_text().split()
        self.known_hosts.write_text(
            "".join(f"{self.alias(p)} {host_key[0]} {host_key[1]}\n" for p in (22, 2222)))
        self.ssh_config.write_text("".join(
            f"Host {self.alias(p)}\n"
            f"  ProxyCommand ip netns exec {self.netns} socat - TCP:127.0.0.1:{p}\n"
            for p in (22, 2222)))
        return self

    def alias(self, port: int) -> str:
        """The ssh_config Host of one sshd (paramiko expands %p with ssh_config's port only)."""
        return self.netns if port == 22 else f"{self.netns}-{port}"

    def _chroot(self, *cmd: str) -> None:
        _run("chroot", str(self.root), *cmd)

    def connect(self, username: str = "ops", port: int = 22):  # type: ignore[no-untyped-def]
        from netmiko import ConnectHandler

        return ConnectHandler(device_type="linux", host=self.alias(port),
                              username=username, use_keys=True, key_file=str(self.key),
                              allow_agent=False, ssh_config_file=str(self.ssh_config),
                              ssh_strict=True, alt_host_keys=True,
                              alt_key_file=str(self.known_hosts))

    def in_root(self, path: str) -> Path:
        return self.root / path.lstrip("/")

    def close(self) -> None:
        for pid in self.pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        # sshd's session children in the namespace go with their listener; kill what is left.
        if self.netns_made:
            left = _run("ip", "netns", "pids", self.netns, check=False).stdout.split()
            for word in left:
                with contextlib.suppress(ProcessLookupError, ValueError):
                    os.kill(int(word), signal.SIGKILL)
            _run("ip", "netns", "del", self.netns, check=False)
        for target in reversed(self.mounts):
            _run("umount", "-R", "-l", str(target), check=False)
        shutil.rmtree(self.dir, ignore_errors=True)
