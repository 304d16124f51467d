"""`--num-workers N` on the inventory commands (render, deploy, verify): Nornir's threaded
runner with N workers for this run; a count outside 1..1000 is refused before anything runs."""

from __future__ import annotations

import argparse

import pytest
from paths import ROOT

from nornir_anycast.cli import common
from nornir_anycast.cli.main import main
from nornir_anycast.design.registry import lookup
from nornir_anycast.exceptions import InventoryError


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    common.add_inventory_args(parser)
    return parser.parse_args(["-i", str(ROOT / "inventory"), *argv])


def test_num_workers_sets_the_runner_and_keeps_the_design() -> None:
    nr, design, _ = common.load(_args("--num-workers", "3"))
    assert nr.runner.num_workers == 3  # type: ignore[attr-defined]
    assert lookup(nr) is design  # tasks still find the design
    default, _, _ = common.load(_args())
    assert default.runner.num_workers == 20  # type: ignore[attr-defined]  # config.yaml's


@pytest.mark.parametrize("count", ["0", "1001"])
def test_a_worker_count_out_of_range_is_refused(count: str) -> None:
    with pytest.raises(InventoryError) as err:
        common.load(_args("--num-workers", count))
    assert f"--num-workers={count}: must be 1..1000" in str(err.value)


def test_the_cli_refuses_it_with_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["render", "-i", str(ROOT / "inventory"), "--num-workers", "0"])
    assert code == 2
    assert "--num-workers=0: must be 1..1000" in capsys.readouterr().err
