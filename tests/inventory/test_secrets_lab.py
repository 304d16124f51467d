"""A BGP TCP-MD5 password on the real lab, through the CLI in a subprocess: the session comes up
with it, and the secret appears nowhere we print or write (stdout, stderr, `--json` reports,
Nornir's log file at DEBUG); `********` stands where the diff would have shown it."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from lab_fixtures import Lab, deploy_inventory, verify_inventory
from paths import ROOT

VAR = "NA_LAB_BGP_PASSWORD"
pytestmark = [pytest.mark.lab, pytest.mark.lab_disruptive]


def md5_inventory(tmp: Path) -> Path:
    """The default inventory with a password on the edge <-> server-1 session (both ends), and
    Nornir's log file on at DEBUG."""
    inv = tmp / "inventory"
    shutil.copytree(ROOT / "inventory", inv)
    hosts = yaml.safe_load((inv / "hosts.yaml").read_text())
    for n in hosts["edge"]["data"]["bgp"]["neighbors"]:
        if n["address"] == "10.12.12.1":
            n["password_env"] = VAR
    hosts["server-1"]["data"]["bgp"]["neighbors"][0]["password_env"] = VAR
    (inv / "hosts.yaml").write_text(yaml.safe_dump(hosts, sort_keys=False))
    config = yaml.safe_load((inv / "config.yaml").read_text())
    config["logging"] = {"enabled": True, "level": "DEBUG", "log_file": str(tmp / "nornir.log"),
                         "to_console": True}
    (inv / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return inv


def cli(lab: Lab, secret: str, *argv: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, NORNIR_ANYCAST_LAB_PREFIX=lab.prefix, NORNIR_ANYCAST_ROOT=str(ROOT),
               COLUMNS="200", **{VAR: secret})
    return subprocess.run([sys.executable, str(ROOT / "tasks.py"), *argv], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture(scope="module")
def deployed(lab: Lab) -> Iterator[Lab]:
    """The session's lab with the default inventory deployed; deployed back afterwards."""
    assert deploy_inventory().ok
    try:
        yield lab
    finally:
        assert deploy_inventory().ok
        report = verify_inventory(wait=60)
        assert report.ok, [c for c in report.checks if not c["passed"]]


def test_md5_session_comes_up_and_the_secret_is_never_printed(deployed: Lab,
                                                               tmp_path: Path) -> None:
    secret = "na-" + secrets.token_urlsafe(24)
    inv = md5_inventory(tmp_path)
    outputs: dict[str, str] = {}

    dry = cli(deployed, secret, "deploy", "--inventory", str(inv), "--dry-run")
    assert dry.returncode == 0, dry.stdout + dry.stderr
    outputs["dry-run stdout"], outputs["dry-run stderr"] = dry.stdout, dry.stderr
    assert 'password "********";' in dry.stdout  # server-1's bird.conf diff
    assert "neighbor 10.12.12.1 password ********" in dry.stdout  # the edge's frr-reload delta

    res = cli(deployed, secret, "deploy", "--inventory", str(inv), "--json",
              str(tmp_path / "deploy.json"))
    outputs["deploy stdout"], outputs["deploy stderr"] = res.stdout, res.stderr
    assert res.returncode == 0, res.stdout + res.stderr
    report: dict[str, Any] = json.loads((tmp_path / "deploy.json").read_text())
    assert report["ok"]
    assert "********" in report["hosts"]["server-1"]["diff"]
    assert "********" in report["hosts"]["edge"]["diff"]

    ver = cli(deployed, secret, "verify", "--inventory", str(inv), "--wait", "60", "--json",
              str(tmp_path / "verify.json"))
    outputs["verify stdout"], outputs["verify stderr"] = ver.stdout, ver.stderr
    assert ver.returncode == 0, ver.stdout + ver.stderr  # the MD5 session is up
    vreport = json.loads((tmp_path / "verify.json").read_text())
    sessions = [c for c in vreport["checks"] if c["name"] == "server_bgp_session"
                and c["host"] == "server-1"]
    assert sessions and all(c["passed"] for c in sessions)

    # The password really is in use on both ends (so the search below could find it).
    assert f'password "{secret}";' in deployed.run("server-1", ["cat", "/etc/bird/bird.conf"]
                                                   ).stdout
    running = deployed.run("edge", ["vtysh", "-c", "show running-config"]).stdout
    assert f"neighbor 10.12.12.1 password {secret}" in running

    log = tmp_path / "nornir.log"
    assert log.exists() and log.stat().st_size > 0
    outputs["nornir.log"] = log.read_text()
    outputs["deploy.json"] = (tmp_path / "deploy.json").read_text()
    outputs["verify.json"] = (tmp_path / "verify.json").read_text()
    leaked = [name for name, text in outputs.items() if secret in text]
    assert leaked == [], f"the BGP password appears in {leaked}"
