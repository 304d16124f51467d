"""sudo and file transfer over real SSH, on a throwaway Debian 13 host (tests/device/debian_sshd:
an overlay of the lab's Debian 13 image, its sshd in a network namespace of this test's own):
SFTP on netmiko's own transport where sshd has the subsystem, base64 over the shell where it
has not; files owned and moded as asked, root-only files read through sudo; a sudo that asks
for a password answered on the channel and never shown.

Marked `lab` (run under the machine lock with the lab tests): it needs root (mount, netns) and
the lab's Debian 13 image, and is skipped with the reason otherwise.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from debian_sshd import PASSWORD, DebianSshd, image

from nornir_anycast.device.shell import Shell
from nornir_anycast.device.sudo import Sudo
from nornir_anycast.exceptions import DeviceError
from nornir_anycast.inventory import secrets

pytestmark = [pytest.mark.lab,
              pytest.mark.skipif(os.geteuid() != 0 or image() is None,
                                 reason="needs root and the lab's Debian 13 image")]

CONTENT = "".join(f"line {i}: ümlaut ' \" $HOME `x` \\ tab\t end\n" for i in range(120))


@pytest.fixture(scope="module")
def debian() -> Iterator[DebianSshd]:
    prefix = os.environ.get("NORNIR_ANYCAST_LAB_PREFIX", "na")[:6]
    host = DebianSshd(prefix)
    try:
        yield host.start()
    finally:
        host.close()


@pytest.fixture
def conns(debian: DebianSshd) -> Iterator[list[Any]]:
    opened: list[Any] = []
    yield opened
    for conn in opened:
        conn.disconnect()


def _connect(debian: DebianSshd, conns: list[Any], user: str = "ops", port: int = 22) -> Any:
    conn = debian.connect(user, port)
    conns.append(conn)
    return conn


def _stat(path: Path) -> tuple[int, int, str]:
    st = path.stat()
    return st.st_uid, st.st_gid, oct(st.st_mode & 0o7777)


def _no_leftovers(debian: DebianSshd) -> None:
    assert [p.name for p in debian.in_root("/tmp").iterdir() if p.name.startswith(".na-")] == []


@pytest.mark.parametrize("port, transfer", [(22, "sftp"), (2222, "shell")])
def test_files_written_through_sudo_keep_owner_mode_and_bytes(
        debian: DebianSshd, conns: list[Any], port: int, transfer: str) -> None:
    shell = Shell(_connect(debian, conns, port=port), "debian", sudo=Sudo())
    assert shell.transfer() == transfer
    # A new file under a root-only directory: root's, with the mode asked for.
    path = f"/etc/nornir-anycast-test-{port}/secret.conf"
    shell.write_file(path, CONTENT, mode="0600")
    assert debian.in_root(path).read_text() == CONTENT
    assert _stat(debian.in_root(path)) == (0, 0, "0o600")
    assert shell.read_file(path) == CONTENT  # root-only: read through sudo
    # A replaced file keeps its owner and group (Debian's bird.conf is bird:bird).
    bird = debian.in_root("/etc/bird/bird.conf")
    owner = _stat(bird)[:2]
    assert owner != (0, 0)
    shell.write_file("/etc/bird/bird.conf", CONTENT, mode="0640")
    assert _stat(bird) == (*owner, "0o640") and bird.read_text() == CONTENT
    # A staged copy takes the owner of the file it will replace (`like`).
    shell.write_file("/etc/bird/bird.conf.na-new", "x\n", like="/etc/bird/bird.conf")
    assert _stat(debian.in_root("/etc/bird/bird.conf.na-new"))[:2] == owner
    _no_leftovers(debian)


def test_root_login_writes_by_sftp_without_sudo(debian: DebianSshd, conns: list[Any]) -> None:
    conn = _connect(debian, conns, user="root")
    shell = Shell(conn, "debian")
    assert shell.check("id -u").strip() == "0" and shell.transfer() == "sftp"
    shell.write_file("/etc/nornir-anycast-root/f", CONTENT, mode="0644")
    assert debian.in_root("/etc/nornir-anycast-root/f").read_text() == CONTENT
    _no_leftovers(debian)


def test_without_sudo_an_operator_cannot_write_and_says_so(
        debian: DebianSshd, conns: list[Any]) -> None:
    shell = Shell(_connect(debian, conns), "debian")  # privilege root assumed, but user ops
    with pytest.raises(DeviceError, match=r"debian: .*(Permission denied|Operation not perm)"):
        shell.write_file("/etc/nornir-anycast-denied/f", "x\n")
    assert not debian.in_root("/etc/nornir-anycast-denied").exists()


def test_a_sudo_password_is_answered_once_and_never_shown(
        debian: DebianSshd, conns: list[Any]) -> None:
    secrets.register(PASSWORD)
    try:
        conn = _connect(debian, conns, user="opspw")
        with pytest.raises(DeviceError, match="debian: sudo asks for a password: set "
                                              "sudo_password_env"):
            Shell(conn, "debian", sudo=Sudo()).run("id -u")
        wrong = Sudo(password=lambda: "not-it", source="sudo_password_env=X")
        with pytest.raises(DeviceError) as err:
            Shell(conn, "debian", sudo=wrong).run("id -u")
        assert str(err.value) == "debian: sudo refused the password (sudo_password_env=X)"
        asked: list[int] = []

        def password() -> str:
            asked.append(1)
            return PASSWORD

        shell = Shell(conn, "debian", sudo=Sudo(password=password))
        outputs = [shell.check("id -u").strip(), shell.check("id -un").strip(),
                   shell.check("cat /etc/sudoers.d/opspw")]
        assert outputs[:2] == ["0", "root"] and asked == [1]
        # The credential expired (sudo -k): authenticated again, the command sent again.
        conn.send_command("sudo -k", expect_string=r"\$\s*$")
        assert shell.check("id -u").strip() == "0" and asked == [1, 1]
        shell.write_file("/etc/nornir-anycast-pw/f", CONTENT, mode="0644")
        assert debian.in_root("/etc/nornir-anycast-pw/f").read_text() == CONTENT
        for text in outputs:
            assert PASSWORD not in text
    finally:
        secrets.forget_all()
