"""VyOS 1.4 / 1.5: their `show ip bgp ...` and `show bfd peers ...` are FRR's own output (VyOS
hands them to vtysh; 1.4 runs FRR 9, 1.5 FRR 10), so platform `vyos` must read every FRR capture
exactly as platform `frr` does. No VyOS capture exists here: this is what verify's parsing of
VyOS 1.4/1.5 rests on (docs/vyos.md). Captures of newer FRR releases that land under
tests/captures/ with platform `frr` are picked up without editing this file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from paths import CAPTURES

from nornir_anycast.parsing import parse_output

#: The commands verify sends to a VyOS router (registered for both `frr` and `vyos`); the JSON
#: and per-neighbor route commands are registered for `frr` only.
VYOS_COMMANDS = ("show ip bgp", "show ip bgp summary", "show ip bgp neighbors",
                 "show bfd peers", "show bfd peers brief", "show bfd peers counters")


def _meta(txt: Path) -> dict[str, Any]:
    meta: dict[str, Any] = json.loads(txt.with_suffix(".json").read_text())
    return meta


def _frr_text_captures() -> list[Path]:
    out = []
    for txt in sorted(CAPTURES.glob("*/*/*.txt")):
        meta = _meta(txt) if txt.with_suffix(".json").exists() else {}
        cmd = str(meta.get("command", ""))
        if meta.get("platform") == "frr" and "error" not in meta and (
                cmd in VYOS_COMMANDS or (cmd.startswith("show ip bgp ")
                                         and not cmd.endswith("json")
                                         and " neighbors " not in cmd)):
            out.append(txt)
    return out


CAPTURED = _frr_text_captures()


def test_there_are_frr_captures_to_replay() -> None:
    assert len(CAPTURED) >= 40
    assert {_meta(t)["command"] for t in CAPTURED} >= {"show ip bgp", "show ip bgp summary",
                                                        "show bfd peers"}


@pytest.mark.parametrize("txt", CAPTURED, ids=lambda p: str(p.relative_to(CAPTURES)))
def test_vyos_reads_frr_output_as_frr_does(txt: Path) -> None:
    meta = _meta(txt)
    text = txt.read_text()
    frr = parse_output("frr", meta["command"], text)
    assert parse_output("vyos", meta["command"], text) == frr == meta["expected"]


def test_vyos_prompt_line_is_ignored_as_on_frr_format_captures() -> None:
    """An operator-mode prompt before FRR's output (`vyos@edge:~$ show ip bgp`) changes
    nothing: tests/captures/vyos/frr_format are FRR captures behind such a line."""
    base = CAPTURES / "vyos" / "frr_format"
    for txt in sorted(base.glob("*.txt")):
        meta = _meta(txt)
        assert parse_output("vyos", meta["command"], txt.read_text()) == meta["expected"]
