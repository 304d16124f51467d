"""Every command output shown in README.md and docs/ is what the command prints now.

Each marked block (`<!-- output: COMMAND -->` + a fenced block, see scripts/docs_outputs.py) is
run from the checkout's root and compared after the documented normalisation. Blocks marked `lab`
are checked by test_docs_outputs_lab.py. Refresh the docs with
`.venv/bin/python scripts/docs_outputs.py`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from docs_helpers import load_docs_outputs
from paths import ROOT

do = load_docs_outputs()
BLOCKS = do.all_blocks()
KEYS = sorted({(b.cmd, b.options) for b in BLOCKS if not b.lab and b.session is None})
SESSIONS = sorted({b.session for b in BLOCKS if not b.lab and b.session is not None})


def test_the_docs_show_outputs_of_both_kinds() -> None:
    files = {b.path.name for b in BLOCKS}
    assert {"README.md", "cli.md", "your-network.md", "parsing.md", "getting-started.md"} <= files
    lab = {b.cmd for b in BLOCKS if b.lab}
    assert {"python3 tasks.py deploy", "python3 tasks.py verify --wait 60"} <= lab
    # The lab outputs stay few, so their lab test stays quick.
    assert len(lab) <= 4, sorted(lab)


@pytest.mark.parametrize(("cmd", "options"), KEYS, ids=[k[0] for k in KEYS])
def test_shown_output_is_what_the_command_prints(cmd: str, options: tuple[str, ...]) -> None:
    blocks = [b for b in BLOCKS if (b.cmd, b.options) == (cmd, options)]
    now = do.block_run(blocks[0])
    for b in blocks:
        assert b.body.startswith(f"$ {cmd}\n"), f"{b.where}: the block must start with `$ {cmd}`"
        fresh: bool = do.same(b.body, now.text)
        assert fresh, (f"{b.where}: the shown output of `{cmd}` is stale; refresh it with "
                       f"`.venv/bin/python scripts/docs_outputs.py`:\n{do.mismatch(b, now.text)}")


@pytest.mark.parametrize("session", SESSIONS)
def test_a_session_shows_what_its_commands_print_in_turn(session: str) -> None:
    """A walkthrough outside the checkout (`session=NAME`): its blocks, in order, in one
    fresh directory."""
    blocks = [b for b in BLOCKS if b.session == session]
    runs = do.run_session(blocks)
    stale = [f"{b.where}: `{b.cmd}`\n{do.mismatch(b, runs[b].text)}"
             for b in blocks if not do.same(b.body, runs[b].text)]
    assert stale == [], ("stale outputs; refresh with `.venv/bin/python "
                         "scripts/docs_outputs.py`:\n" + "\n".join(stale))


def test_session_blocks_share_one_directory_outside_the_checkout(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("<!-- output session=s: echo one > f && pwd -->\n```console\n```\n\n"
                    "<!-- output session=s: cat f -->\n```console\n```\n")
    first, second = do.find_blocks(page)
    runs = do.run_session([first, second])
    assert runs[first].text == "$ echo one > f && pwd\n~\n"      # the directory, shown as ~
    assert runs[second].text == "$ cat f\none\n"
    assert not (ROOT / "f").exists()


def test_a_stale_block_is_found_and_rewritten(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("Intro.\n\n<!-- output: printf 'a 1.25 s\\nb\\n'; exit 3 -->\n```console\n"
                    "$ printf 'a 1.25 s\\nb\\n'; exit 3\na 9.99 s\nc\n```\n\nEnd.\n")
    (block,) = do.find_blocks(page)
    now = do.block_run(block)
    assert now.text == "$ printf 'a 1.25 s\\nb\\n'; exit 3\na 1.25 s\nb\n(exit status 3)\n"
    assert not do.same(block.body, now.text)          # `c` is not `b`, and the exit status
    assert "-c" in do.mismatch(block, now.text) and "+b" in do.mismatch(block, now.text)
    assert do.main([str(page)]) == 0
    text = page.read_text()
    assert text.startswith("Intro.\n\n<!-- output:") and text.endswith("```\n\nEnd.\n")
    (again,) = do.find_blocks(page)
    assert again.body == now.text
    assert do.main(["--check", str(page)]) == 0


def test_check_mode_fails_on_a_stale_block(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("<!-- output: echo hello -->\n```console\n$ echo hello\nhullo\n```\n")
    assert do.main(["--check", str(page)]) == 1
    assert "hullo" in page.read_text()                # --check never writes


def test_normalise_masks_timings_pids_and_temp_paths_but_not_addresses() -> None:
    a = ("│ edge │ ok │    2.94 │\nverify passed: 21 checks after 5.1 s\nsince 17:03:07.248\n"
         "pid 293 wrote /tmp/tmpab12/out\nnext hops 10.12.12.1, 10.12.12.2 (0.9.10)")
    b = ("│ edge │ ok │   31.57 │\nverify passed: 21 checks after 12.0 s\nsince 09:11:01.001\n"
         "pid 40213 wrote /tmp/pytest-7/out\nnext hops 10.12.12.1, 10.12.12.2 (0.9.10)")
    assert do.normalise(a) == do.normalise(b)
    assert not do.same("next hops 10.12.12.1", "next hops 10.12.12.2")
    assert not do.same("0.9.10", "0.9.11")
    assert not do.same("verify passed: 21 checks", "verify passed: 20 checks")
    # whether `verify --wait` needed a second attempt is timing, not output to pin down
    assert do.same("verify passed: 25 checks after 2.1 s", "verify passed: 25 checks")
    assert not do.same("verify passed: 25 checks after 2.1 s", "verify FAILED: 25 checks")
    assert not do.same("┃ host ┃ changed ┃", "┃ host ┃ result ┃")


def test_display_shows_the_checkout_and_the_default_lab_prefix() -> None:
    raw = f"lab up: 5 hosts from {ROOT}/inventory   \nhfdocs-edge .lab-hfdocs/ssh_config\n\n"
    assert do.display(raw, ROOT, "hfdocs") == (
        "lab up: 5 hosts from ~/nornir_anycast/inventory\nna-edge .lab/ssh_config\n")


def test_fresh_moves_the_path_aside_and_back(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "old").write_text("kept")
    run = do.run_command("test ! -e out && mkdir out && touch out/new && ls out",
                         fresh=["out"], root=tmp_path)
    assert run.text.endswith("\nnew\n")               # out/ was absent while it ran
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["old"]


@pytest.mark.parametrize("text", [
    "<!-- output: echo hi -->\n\n```console\n$ echo hi\nhi\n```\n",      # blank line first
    "<!-- output: echo hi -->\n```console\n$ echo hi\nhi\n",             # fence never closed
    "<!-- output lab2: echo hi -->\n```console\n$ echo hi\nhi\n```\n",   # unknown option
])
def test_a_malformed_marker_is_an_error(tmp_path: Path, text: str) -> None:
    page = tmp_path / "page.md"
    page.write_text(text)
    with pytest.raises(do.MarkerError, match=r"page.md:1"):
        do.find_blocks(page)
