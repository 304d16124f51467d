"""Output for people and for pipes (issue 10 §5): what the commands print when stdout is not a
terminal, and how they refuse an empty selection.

The CLI runs in a subprocess with stdout and stderr piped (not a terminal, as in `| less`, a log
or CI), or in-process through cli.main.main with pytest capturing both; devices are the fake
connection of tests/device/test_device_errors.py (answers every command with an error), so no
lab is needed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from fake_devices import AnswersWith
from nornir.core.inventory import Host
from nornir_utils.plugins.functions import print_result
from paths import INVENTORIES, ROOT

from nornir_anycast.cli import main as cli_main
from nornir_anycast.cli.deploy import print_report as print_deploy
from nornir_anycast.cli.drain import print_report as print_drain
from nornir_anycast.cli.output import command_name, plural, rule, stdout_console
from nornir_anycast.cli.verify import attempt_line, print_next_steps, print_report
from nornir_anycast.deploy.runner import DeployReport, HostDeploy
from nornir_anycast.design.build import load_design
from nornir_anycast.design.registry import attach
from nornir_anycast.drain.runner import DrainReport, Step
from nornir_anycast.inventory import secrets
from nornir_anycast.inventory.loader import load_nornir, select
from nornir_anycast.tasks.verify_anycast import verify_anycast
from nornir_anycast.verify.runner import HostOutcome, VerifyReport

SEED = ROOT / "inventory"
THREE = INVENTORIES / "three-servers"
STRAY = "has not been run"  # Nornir's `Task '...' has not been run - 0 hosts selected`


def cli(*argv: str, cwd: Path, env: dict[str, str] | None = None
        ) -> subprocess.CompletedProcess[str]:
    """`python tasks.py ARGV` with stdout and stderr piped."""
    return subprocess.run([sys.executable, str(ROOT / "tasks.py"), *argv], cwd=cwd,
                          env={**os.environ, **(env or {})}, capture_output=True, text=True,
                          timeout=120, check=False)


def _no_padding(text: str) -> None:
    padded = [line for line in text.splitlines() if line != line.rstrip()]
    assert not padded, padded


# --- nothing cut or re-wrapped -----------------------------------------------------------------

def test_render_to_a_pipe_prints_full_file_names_and_pads_nothing(tmp_path: Path) -> None:
    res = cli("render", "-i", str(SEED), "-o", str(tmp_path / "out"), "--no-check",
              cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    # the longest file name of the seed's servers, whole (was `anycast-healthchecker.con…`)
    assert "anycast-healthchecker.d/anycast_10.13.13.1_32.conf" in res.stdout, res.stdout
    assert "…" not in res.stdout
    _no_padding(res.stdout)  # the title was padded with spaces to 80 columns
    assert res.stdout.splitlines()[0] == f"render -> {tmp_path / 'out'}"
    assert "\x1b[" not in res.stdout  # no colour codes in a pipe
    assert STRAY not in res.stderr


def test_a_long_fail_line_stays_one_line_off_a_terminal(capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    path = "/run/bird/" + "very-long-directory-name/" * 6 + "bird.ctl"
    message = f"could not read state with 'birdc -s {path} show protocols all': no such file"
    report = VerifyReport(ok=False, converged_after_s=None, checks=[
        {"name": "server_bgp_session", "host": "server-1", "passed": False, "expected": None,
         "actual": None, "message": message}],
        hosts=[HostOutcome(host="server-1", role="server", failed=True, seconds=0.1)])
    print_report(report, stdout_console())
    out = capsys.readouterr().out
    assert f"FAIL server-1 server_bgp_session: {message}\n" in out, out
    assert len(message) > 200  # far wider than the 80 columns rich assumes off a terminal
    _no_padding(out)


def test_rule_off_a_terminal_is_one_short_line(capsys: pytest.CaptureFixture[str]) -> None:
    rule(stdout_console(), "edge: would change")
    out = capsys.readouterr().out
    assert out.startswith("── edge: would change ─") and out.count("\n") == 1
    assert len(out.rstrip("\n")) == 80


def test_verify_of_an_unreachable_host_prints_one_fail_line_and_no_traceback(
        tmp_path: Path) -> None:
    """A lab prefix with no lab: the seed's hosts have no SSH key, netmiko refuses at once with
    a message of several lines. Verify reports it as one FAIL line; Nornir's own `task
    'read_drain_state' failed with traceback` records stay off stderr."""
    res = cli("verify", "-i", str(SEED), "-H", "server-1", cwd=tmp_path,
              env={"NORNIR_ANYCAST_LAB_PREFIX": "nolab0"})
    assert res.returncode == 1, (res.stdout, res.stderr)
    fails = [line for line in res.stdout.splitlines() if line.startswith("FAIL ")]
    assert len(fails) == 1, res.stdout
    assert fails[0].startswith("FAIL server-1 host_reachable: server-1: ValueError: use_keys "
                               "has been set to True, but specified key_file does not exist:")
    assert fails[0].endswith("id_ed25519"), fails[0]
    assert "verify failed: 1 of 1 check failed" in res.stdout
    assert "Traceback" not in res.stderr and "failed with traceback" not in res.stderr, res.stderr
    assert STRAY not in res.stderr
    assert not re.search(r"^\s*server-1: failed$", res.stderr, re.MULTILINE)


def test_nornir_logging_configured_in_config_yaml_still_writes_its_log(tmp_path: Path) -> None:
    """Keeping Nornir's records off the terminal does not keep them from a log file the
    inventory's config.yaml asks Nornir for."""
    inv = tmp_path / "inventory"
    shutil.copytree(SEED, inv)
    config = yaml.safe_load((inv / "config.yaml").read_text())
    config["logging"] = {"enabled": True, "level": "DEBUG",
                         "log_file": str(tmp_path / "nornir.log"), "to_console": False}
    (inv / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    res = cli("render", "-i", str(inv), "-H", "edge", "-o", str(tmp_path / "out"), "--no-check",
              cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    log = (tmp_path / "nornir.log").read_text()
    assert "render_config" in log, log


# --- an empty selection is an error naming the filter --------------------------------------------

@pytest.mark.parametrize("command", ["render", "deploy", "verify"])
def test_an_empty_selection_is_an_error_naming_the_filter(command: str, tmp_path: Path) -> None:
    res = cli(command, "-i", str(SEED), "-H", "edge", "-g", "servers", cwd=tmp_path)
    assert res.returncode == 2, (res.stdout, res.stderr)
    assert "selection='-H edge -g servers': selects no host" in res.stderr, res.stderr
    assert STRAY not in res.stderr  # Task 'render_config' ...
    assert res.stdout == ""  # nothing was run, nothing reported


def test_a_selection_naming_an_unknown_host_is_still_its_own_error(tmp_path: Path) -> None:
    res = cli("render", "-i", str(SEED), "-H", "nosuch", cwd=tmp_path)
    assert res.returncode == 2
    assert "-H='nosuch': no such host in the inventory" in res.stderr, res.stderr


# --- plurals -------------------------------------------------------------------------------------

def test_plural() -> None:
    assert [plural(n, "host") for n in (0, 1, 2)] == ["0 hosts", "1 host", "2 hosts"]
    assert plural(1, "process", "processes") == "1 process"
    assert plural(3, "process", "processes") == "3 processes"


def test_render_of_one_host_says_1_host_1_file(tmp_path: Path) -> None:
    # The seed's lab edge renders frr.conf only (three-servers' edge, a systemd host, also
    # gets FRR's daemons file and its sysctl file).
    res = cli("render", "-i", str(SEED), "-H", "edge", "-o", str(tmp_path / "out"),
              "--no-check", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert f"render ok: 1 host, 1 file in {tmp_path / 'out'}" in res.stdout, res.stdout


def test_verify_report_counts_one_check_as_one_check(capsys: pytest.CaptureFixture[str]) -> None:
    check = {"name": "http_anycast", "host": "client", "passed": True, "expected": None,
             "actual": None, "message": "ok"}
    report = VerifyReport(ok=True, converged_after_s=0.2, checks=[check],
                          hosts=[HostOutcome(host="client", role="client", failed=False,
                                             seconds=0.3)])
    print_report(report, stdout_console())
    out = capsys.readouterr().out
    assert "ok (1 check)" in out and "verify passed: 1 check\n" in out, out
    assert "1 checks" not in out


def test_deploy_report_of_one_host_off_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    """`deploy --dry-run` of one host: a short rule above its diff (not one as wide as the
    console), the diff as it is, `1 host`; a failed host's multi-line error is one FAIL line."""
    diff = "--- /etc/bird/bird.conf\n+++ /etc/bird/bird.conf (rendered)\n-a\n+b"
    ok = HostDeploy(host="server-1", role="server", changed=False, failed=False, seconds=0.5,
                    diff=diff, error=None, actions=[])
    print_deploy(DeployReport(ok=True, dry_run=True, hosts=[ok]), stdout_console())
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "── server-1: would change " + "─" * 54
    assert diff in out and "would change" in out
    assert "deploy dry run ok: 1 host, 0 changed" in out, out
    _no_padding(out)
    bad = HostDeploy(host="edge", role="edge", changed=False, failed=True, seconds=0.5, diff="",
                     error="edge: vtysh -C rejected /etc/frr/frr.conf:\n  line 3: % Unknown "
                           "command: neighbr 10.12.12.1 remote-as 65500", actions=[])
    print_deploy(DeployReport(ok=False, dry_run=False, hosts=[bad]), stdout_console())
    out = capsys.readouterr().out
    assert ("FAIL edge: vtysh -C rejected /etc/frr/frr.conf: line 3: % Unknown command: neighbr "
            "10.12.12.1 remote-as 65500\n") in out, out
    assert "deploy failed on 1 of 1 host\n" in out


def test_hints_name_the_command_as_typed(capsys: pytest.CaptureFixture[str]) -> None:
    """verify's `next:` hints on the lab use the command the user ran (cli.main sets prog)."""
    nr = load_nornir(SEED)
    design, _ = load_design(nr)
    report = VerifyReport(ok=False, converged_after_s=None, checks=[])
    print_next_steps(report, design, stdout_console(), command_name(
        argparse.Namespace(prog="nornir-anycast")))
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "next:"
    assert lines[1:] and all(line.startswith("  nornir-anycast ") for line in lines[1:]), lines
    assert "  nornir-anycast lab exec client -- curl -s http://10.13.13.1/file" in lines
    assert command_name(argparse.Namespace()) == "python3 tasks.py"


def test_drain_dry_run_prints_the_plan_and_the_diff(capsys: pytest.CaptureFixture[str]) -> None:
    """`drain --dry-run`: the bird.conf diff under a short rule, the plan titled (dry run), and
    `drain dry run ok` (nothing changed)."""
    diff = ("--- /etc/bird/bird.conf\n+++ /etc/bird/bird.conf (rendered)\n"
            "-bgp_local_pref = 100;\n+bgp_local_pref = 0;")
    report = DrainReport(action="drain", host="server-2", dry_run=True, ok=True, diff=diff,
                         steps=[Step(name="lower", at="10:00:00", t=0.0, seconds=0.0,
                                     detail="would lower server-2's preference")])
    print_drain(report, stdout_console())
    out = capsys.readouterr().out
    assert out.startswith("── server-2: would change ─")
    assert diff in out and "drain server-2 (dry run)" in out
    assert "would lower server-2's preference" in out
    assert "drain dry run ok: server-2 in 0.00 s" in out and "(nothing changed)" in out, out
    _no_padding(out)


def test_drain_and_undrain_take_dry_run() -> None:
    parser = cli_main.build_parser()
    for command in ("drain", "undrain"):
        assert parser.parse_args([command, "server-2", "--dry-run"]).dry_run is True
        assert parser.parse_args([command, "server-2"]).dry_run is False


# --- verify --wait -------------------------------------------------------------------------------

def test_verify_wait_shows_attempts_without_a_failed_line_per_host(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Every device refuses every command: verify fails on every attempt until --wait is over.
    Each retried attempt is one line on stderr; no host is printed as `failed` before it; the
    last attempt is not announced as retried; the report is printed once, FAIL lines whole."""
    monkeypatch.setattr(Host, "get_connection",
                        lambda self, c, cfg: AnswersWith("% Unknown command: show"))
    code = cli_main.main(["verify", "-i", str(SEED), "--wait", "2"])
    captured = capsys.readouterr()
    assert code == 1
    attempts = [line for line in captured.err.splitlines() if line.startswith("attempt ")]
    assert attempts, captured.err  # at least the first attempt was retried
    assert all(re.fullmatch(r"attempt \d+: \d+ of \d+ checks failing \([a-z0-9, -]+\) after "
                            r"\d+\.\d s; retrying until 2 s", a) for a in attempts), attempts
    assert [int(a.split()[1].rstrip(":")) for a in attempts] == list(range(1, len(attempts) + 1))
    assert not re.search(r"^\s*\S+: (failed|ok)$", captured.err, re.MULTILINE), captured.err
    assert STRAY not in captured.err
    out = captured.out
    assert out.count("verify failed:") == 1, out
    fails = [line for line in out.splitlines() if line.startswith("FAIL ")]
    assert fails and all("the device answered: % Unknown command: show" in f for f in fails
                         if "could not read state" in f), fails
    assert any(len(f) > 100 for f in fails)  # one line each, however long
    _no_padding(out)


def test_attempt_line_names_the_failing_hosts() -> None:
    checks = [{"host": "edge", "passed": False}, {"host": "server-2", "passed": False},
              {"host": "edge", "passed": True}, {"host": "edge", "passed": False}]
    report = VerifyReport(ok=False, converged_after_s=None, checks=checks)
    assert attempt_line(1, report, 1.26, 60.0) == (
        "attempt 1: 3 of 4 checks failing (edge, server-2) after 1.3 s; retrying until 60 s")


# --- print_result of verify_anycast: plain data, no secret ---------------------------------------

def test_print_result_of_verify_anycast_is_plain_data_without_secrets(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    secret = secrets.register("Sw0rdf1sh-hdvfy")
    monkeypatch.setattr(Host, "get_connection", lambda self, c, cfg: AnswersWith(
        f"% Unknown command: neighbor 10.12.12.1 password {secret}"))
    nr = load_nornir(SEED)
    design, _ = load_design(nr)
    attach(nr, design)  # no design= below: the task finds the design of its inventory
    result = select(nr, hosts=["edge", "server-1"]).run(task=verify_anycast)
    for host in ("edge", "server-1"):
        res = result[host][0]
        assert res.failed and res.exception is None
        data = res.result
        assert isinstance(data, list) and data and all(isinstance(c, dict) for c in data)
        text = json.dumps(data)  # JSON as it is: no object to stringify
        assert secret not in text and "********" in text
    print_result(result)
    out = capsys.readouterr().out
    assert secret not in out
    assert "Check(" not in out and " object at 0x" not in out, out
    assert "'name': 'router_bgp_session'" in out and "'passed': False" in out
