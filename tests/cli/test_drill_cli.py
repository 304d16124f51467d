"""`drill ... --mode full-table` from the command line: bad input exits 2 naming host and field,
before the lab is looked at (no lab is up for this test)."""

from __future__ import annotations

import pytest

from nornir_anycast.cli.main import main


@pytest.mark.parametrize(("argv", "expected"), [
    (["drill", "server-1", "--mode", "full-table"],
     "server-1: HOST='server-1': a full-table drill runs on an edge; edges: edge"),
    (["drill", "edge", "--mode", "full-table", "--routes", "0"],
     "edge: --routes=0: must be 1..2,000,000"),
])
def test_full_table_bad_input_exits_2(argv: list[str], expected: str,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert expected in " ".join(err.split()), err


def test_full_table_is_a_mode_with_a_routes_option(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["drill", "--help"])
    assert exit_.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "full-table" in out and "--routes N" in out and "default 1,000,000" in out
