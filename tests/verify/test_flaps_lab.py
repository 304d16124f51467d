"""Flaps verify can see, on the real lab (issue 11): deploy records the edge's down counters,
a verify with nothing new says nothing, a real flap (server-1's BGP protocol disabled and enabled
again in BIRD) is a warning on the next verify naming the session and the count, verify still
exits 0 once the session is back, and the verify after that says nothing again.

The baselines go to this test's own directory (tests/conftest.py); the lab is the session's
(tests/lab_fixtures.py), deployed here and always taken down at the end of the session."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lab_fixtures import Lab, deploy_inventory

from nornir_anycast.cli.main import main
from nornir_anycast.parsing import parse_output

pytestmark = [pytest.mark.lab]

BIRDC = ["birdc", "-s", "/run/bird/bird.ctl"]


@pytest.fixture
def deployed(lab: Lab) -> Iterator[Lab]:
    with lab.env():
        report = deploy_inventory()
        assert report.ok, [h.error for h in report.hosts if h.failed]
        yield lab


def _verify(lab: Lab, out: Path) -> tuple[int, list[dict[str, Any]]]:
    with lab.env():
        code = main(["verify", "--wait", "60", "--json", str(out)])
    checks: list[dict[str, Any]] = json.loads(out.read_text())["checks"]
    return code, [c for c in checks if c["severity"] in ("warning", "info")]


def _bgp_protocol(lab: Lab, server: str) -> str:
    text = lab.run(server, [*BIRDC, "show", "protocols"]).stdout
    protocols = parse_output("bird2", "show protocols", text)["protocols"]
    return next(str(p["name"]) for p in protocols if p["proto"] == "BGP")


def test_a_real_flap_is_a_warning_on_the_next_verify_only(deployed: Lab, tmp_path: Path) -> None:
    lab = deployed
    code, remarks = _verify(lab, tmp_path / "first.json")
    assert code == 0 and remarks == []

    bgp = _bgp_protocol(lab, "server-1")
    assert lab.run("server-1", [*BIRDC, "disable", bgp]).returncode == 0
    time.sleep(1.0)  # the edge notices: the session goes down (and BIRD's BFD session with it)
    assert lab.run("server-1", [*BIRDC, "enable", bgp]).returncode == 0

    code, remarks = _verify(lab, tmp_path / "second.json")
    assert code == 0  # the session is back: a flap is a warning, not a failure
    by_name = {c["name"]: c for c in remarks if "server-1" in c["message"]}
    assert set(by_name) >= {"bgp_session_flapped"}, remarks
    bgp_warning = by_name["bgp_session_flapped"]
    assert bgp_warning["host"] == "edge" and bgp_warning["passed"] is True
    assert bgp_warning["message"].startswith(
        "BGP session to server-1 (10.12.12.1) went down 1 time since the previous verify (")
    assert bgp_warning["actual"] - bgp_warning["expected"] == 1
    assert not [c for c in remarks if "server-2" in c["message"]], remarks

    code, remarks = _verify(lab, tmp_path / "third.json")
    assert code == 0 and remarks == []
