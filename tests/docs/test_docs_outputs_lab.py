"""The outputs the docs show from the lab (blocks marked `lab`) are what the commands print.

A lab of the docs tests' own prefix is built fresh (`lab down` first), the lab blocks' commands
run in the order they appear (README.md first: lab up, deploy, verify --wait 60), each output is
compared after the documented normalisation, and the lab is removed at the end, also on failure.
Refresh them with `NORNIR_ANYCAST_LAB_PREFIX=... flock /tmp/na-heavy.lock .venv/bin/python
scripts/docs_outputs.py --lab`.
"""

from __future__ import annotations

import os

import pytest
from docs_helpers import docs_lab_prefix, load_docs_outputs

do = load_docs_outputs()


@pytest.mark.lab
def test_lab_outputs_shown_in_the_docs_are_what_the_commands_print() -> None:
    blocks = [b for b in do.all_blocks() if b.lab]
    assert blocks
    prefix = docs_lab_prefix(os.environ.get("NORNIR_ANYCAST_LAB_PREFIX") or "na")
    runs = do.run_blocks(blocks, lab=True, prefix=prefix)   # lab down before and after
    stale = [f"{b.where}: `{b.cmd}`\n{do.mismatch(b, runs[b].text)}"
             for b in blocks if not do.same(b.body, runs[b].text)]
    assert stale == [], ("stale lab outputs; refresh with scripts/docs_outputs.py --lab:\n"
                         + "\n".join(stale))
    assert all(runs[b].returncode == 0 for b in blocks), [runs[b].text for b in blocks]
