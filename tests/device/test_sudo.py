"""sudo from one place: the Shell (every command as root through `sudo -n`) and the command
table (vtysh, birdc); a password asked for is answered once per connection on the channel,
renewed when sudo's credential expired, and never printed (a fake terminal that behaves like
sudo on a pty: `-n` fails while no credential is cached, `-v` prompts with our prompt)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest

from nornir_anycast.design.model import HostModel
from nornir_anycast.device import sudo
from nornir_anycast.device.commands import bird_command, linux_command, router_command
from nornir_anycast.device.shell import LINE_MAX, Shell, shell_for
from nornir_anycast.exceptions import DeviceError, InventoryError
from nornir_anycast.inventory import secrets

PASSWORD = "S3cret-sudo pw!"
_WRAPPED = re.compile(r"^\{ (.*) ; \} 2>&1; echo __NA_RC=\$\?$", re.S)


class SudoTerminal:
    """A netmiko connection to a host whose sudo asks for `password` (None: NOPASSWD).

    Commands: `sudo -n true`, `sudo -n sh -c '<echo ...>'` and `sudo -n birdc ...` succeed
    only with a cached credential; `sudo -p PROMPT -v` written to the channel prompts (the
    prompt echoed as sudo prints it) and caches the credential on the right password.
    """

    RETURN = "\n"

    def __init__(self, password: str | None, *, refuse_user: bool = False) -> None:
        self.password = password
        self.refuse_user = refuse_user
        self.cached = password is None
        self.sent: list[str] = []
        self.written: list[str] = []
        self.buffer = ""
        self.prompting = False
        self.validations = 0

    def _sudo_n(self, inner: str) -> tuple[int, str]:
        if not self.cached:
            return 1, "sudo: a password is required"
        if inner.startswith("sh -c "):
            inner = shlex.split(inner)[2]
        if inner.startswith("echo "):
            return 0, inner[5:]
        return 0, f"ran {inner}"

    def send_command(self, command: str, **_: Any) -> str:
        self.sent.append(command)
        m = _WRAPPED.match(command)
        inner = m.group(1) if m else command
        if inner.startswith("mktemp -d /tmp/.na-"):
            rc, out = 0, "/tmp/.na-abcd1234"
        elif inner.startswith("sudo -n "):
            rc, out = self._sudo_n(inner[len("sudo -n "):])
        else:
            rc, out = 0, f"user ran {inner}"
        return f"{out}\n__NA_RC={rc}" if m else out

    def write_channel(self, text: str) -> None:
        self.written.append(text)
        if text.startswith("sudo -p ") and " -v; echo __NA_RC=$?" in text:
            self.validations += 1
            self.buffer += text  # the echo of the command line
            if self.refuse_user:
                self.buffer += "ops is not in the sudoers file.\n__NA_RC=1\n$ "
            elif self.cached:
                self.buffer += "__NA_RC=0\n$ "
            else:
                self.buffer += "\nWe trust you have received the usual lecture.\n"
                self.buffer += sudo.PROMPT
                self.prompting = True
        elif self.prompting and text.endswith("\n"):  # the password: not echoed (echo off)
            if text[:-1] == self.password:
                self.cached, self.prompting = True, False
                self.buffer += "\n__NA_RC=0\n$ "
            else:
                self.buffer += "\nSorry, try again.\n" + sudo.PROMPT
        elif text == "\x03":  # sudo exits on Ctrl-C at its prompt; the echo after it runs
            self.prompting = False
            self.buffer += "\nsudo: 1 incorrect password attempt\n__NA_RC=1\n$ "

    def read_until_pattern(self, pattern: str, read_timeout: float = 10.0, **_: Any) -> str:
        m = re.search(pattern, self.buffer)
        assert m is not None, f"would hang: {pattern!r} not in {self.buffer!r}"
        out, self.buffer = self.buffer[:m.end()], self.buffer[m.end():]
        return out


def _sudo_shell(term: SudoTerminal, password: str | None = PASSWORD) -> Shell:
    return Shell(term, "server-1",
                 sudo=sudo.Sudo(password=lambda: password, source="sudo_password_env=OPS_PW"))


def test_every_command_runs_as_root_through_sudo_n() -> None:
    term = SudoTerminal(password=None)  # NOPASSWD
    shell = _sudo_shell(term, password=None)
    assert shell.check("echo hello") == "hello"
    assert term.sent[-1] == "{ sudo -n sh -c 'echo hello' ; } 2>&1; echo __NA_RC=$?"
    assert term.validations == 0  # `sudo -n true` answered: no password needed


def test_without_a_password_configured_sudo_asking_is_an_error_naming_the_host() -> None:
    term = SudoTerminal(password=PASSWORD)
    with pytest.raises(DeviceError) as err:
        _sudo_shell(term, password=None).run("echo hello")
    assert str(err.value).startswith("server-1: sudo asks for a password: set "
                                     "sudo_password_env")
    assert term.written == []  # nothing typed at a prompt


def test_the_password_is_answered_once_per_connection_and_never_shown() -> None:
    term = SudoTerminal(password=PASSWORD)
    shell = _sudo_shell(term)
    outputs = [shell.check(f"echo {i}") for i in range(3)]
    outputs.append(_sudo_shell(term).check("echo again"))  # another Shell, same connection
    assert outputs == ["0", "1", "2", "again"]
    assert term.validations == 1
    assert term.written[1] == PASSWORD + "\n"
    # Our prompt is on the command line only as printf's octal: the echo never matches it.
    assert sudo.PROMPT not in term.written[0]
    assert all(PASSWORD not in c for c in term.sent)


def test_an_expired_credential_is_renewed_and_the_command_sent_again() -> None:
    term = SudoTerminal(password=PASSWORD)
    shell = _sudo_shell(term)
    assert shell.check("echo one") == "one"
    term.cached = False  # sudo's timestamp expired
    assert shell.check("echo two") == "two"
    assert term.validations == 2
    term.cached = False
    assert shell.cli("sudo -n birdc -s /run/bird/bird.ctl show status") == (
        "ran birdc -s /run/bird/bird.ctl show status")
    assert term.validations == 3


def test_a_wrong_password_is_refused_naming_its_source_never_its_value() -> None:
    term = SudoTerminal(password="the right one")
    with pytest.raises(DeviceError) as err:
        _sudo_shell(term).run("echo hello")
    assert str(err.value) == "server-1: sudo refused the password (sudo_password_env=OPS_PW)"
    assert PASSWORD not in repr(err.value)
    assert term.written.count(PASSWORD + "\n") == 1 and term.written[-1] == "\x03"


def test_a_user_sudo_refuses_is_an_error_with_sudos_words() -> None:
    term = SudoTerminal(password=PASSWORD, refuse_user=True)
    term.cached = False
    with pytest.raises(DeviceError, match=r"server-1: sudo -v failed: ops is not in the "
                                          r"sudoers file\."):
        _sudo_shell(term).run("echo hello")


def test_a_long_command_goes_as_a_script_in_short_lines() -> None:
    term = SudoTerminal(password=None)
    shell = _sudo_shell(term, password=None)
    long = "echo " + "x" * (LINE_MAX + 50)
    shell.run(long)
    assert max(len(c) for c in term.sent) < LINE_MAX
    assert any(c.startswith("{ printf %s ") for c in term.sent)
    assert any("sh /tmp/.na-abcd1234/cmd" in c for c in term.sent)


def _host(**kw: Any) -> HostModel:
    return HostModel.model_validate({"name": "edge", "platform": "frr", "role": "edge", **kw})


def test_the_command_table_prefixes_vtysh_and_birdc_with_sudo_n_only_under_sudo() -> None:
    edge = _host(privilege="sudo")
    assert router_command(edge, "show ip bgp summary").send == (
        "sudo -n vtysh -c 'show ip bgp summary'")
    assert router_command(_host(), "show ip bgp summary").send == "vtysh -c 'show ip bgp summary'"
    server = HostModel.model_validate({"name": "s", "platform": "linux", "role": "server",
                                       "privilege": "sudo"})
    assert bird_command(server, "configure").send == (
        "sudo -n birdc -s /run/bird/bird.ctl configure")
    assert linux_command("ip route show 10.13.13.1/32").send == "ip route show 10.13.13.1/32"
    assert sudo.as_root(bird_command(server, "configure").send).count("sudo") == 1


def test_shell_for_reads_the_password_only_when_sudo_asks(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    me = _host(privilege="sudo", sudo_password_env="NA_TEST_SUDO_PW")
    term = SudoTerminal(password=None)
    shell_for(term, me).check("echo fine")  # NOPASSWD: the variable is never read
    monkeypatch.delenv("NA_TEST_SUDO_PW", raising=False)
    with pytest.raises(InventoryError, match="NA_TEST_SUDO_PW is not set"):
        shell_for(SudoTerminal(password=PASSWORD), me).run("echo x")
    monkeypatch.setenv("NA_TEST_SUDO_PW", PASSWORD)
    term = SudoTerminal(password=PASSWORD)
    assert shell_for(term, me).check("echo ok") == "ok"
    assert secrets.redact(f"said {PASSWORD}") == "said ********"
    file = tmp_path / "pw"
    file.write_text(PASSWORD + "\n")
    by_file = _host(privilege="sudo", sudo_password_file=str(file))
    assert shell_for(SudoTerminal(password=PASSWORD), by_file).check("echo ok") == "ok"
    assert PASSWORD not in repr(shell_for(term, me).sudo)
