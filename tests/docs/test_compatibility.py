"""docs/compatibility.md: every cell that says yes or recorded names tests, and every test it
names exists (collected by pytest, parameter ids included), so the table cannot claim what no
test shows."""

from __future__ import annotations

import re
import subprocess
import sys
from functools import cache

from paths import ROOT

PAGE = ROOT / "docs" / "compatibility.md"
COLUMNS = ("render", "deploy", "verify", "drills", "parse")
CITED = re.compile(r"`(tests/[\w/]+\.py)::(\w+)(?:\[([^\]]+)\])?`")


def table() -> dict[str, dict[str, str]]:
    rows: dict[str, dict[str, str]] = {}
    for line in PAGE.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 6 and cells[0] not in ("release", "---"):
            rows[cells[0]] = dict(zip(COLUMNS, cells[1:], strict=True))
    return rows


def sections() -> dict[str, dict[str, str]]:
    """`**release**` then `- column: tests` lines, by the release's first two words."""
    out: dict[str, dict[str, str]] = {}
    current = ""
    for line in PAGE.read_text().splitlines():
        title = re.fullmatch(r"\*\*(.+)\*\*", line.strip())
        if title:
            current = title.group(1)
            out[current] = {}
        elif current and line.startswith("- "):
            column, _, tests = line[2:].partition(": ")
            out[current][column] = tests
    return out


def release_key(row: str) -> str:
    return " ".join(row.split()[:2])


@cache
def collected() -> frozenset[str]:
    """Node ids of every test the page names, collected by one pytest run."""
    paths = sorted({p for cols in sections().values() for t in cols.values()
                    for p, _, _ in CITED.findall(t) if (ROOT / p).is_file()})
    proc = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-m", "",
                           "-p", "no:cacheprovider", *paths], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, check=False)
    return frozenset(ln.strip() for ln in proc.stdout.splitlines() if "::" in ln)


def test_every_release_and_column_is_in_the_table() -> None:
    rows = table()
    assert list(map(release_key, rows)) == [
        "FRR 8.4", "FRR 10.3", "BIRD 1.6", "BIRD 2.0.12", "BIRD 2.17", "BIRD 3.1",
        "VyOS 1.1", "VyOS 1.2", "VyOS 1.4", "VyOS 1.5"]
    for row, cells in rows.items():
        for column, cell in cells.items():
            assert cell.split()[0] in ("yes", "recorded", "no"), (row, column, cell)


def test_every_yes_names_tests_and_every_no_names_none() -> None:
    rows, cited = table(), sections()
    for row, cells in rows.items():
        tests = cited[release_key(row)]
        for column, cell in cells.items():
            if cell.startswith("no"):
                assert column not in tests, (row, column)
            else:
                assert CITED.findall(tests.get(column, "")), (row, column, "names no test")


def test_every_named_test_is_collected() -> None:
    for release, columns in sections().items():
        for column, text in columns.items():
            for path, name, ids in CITED.findall(text):
                assert (ROOT / path).is_file(), (release, column, path)
                nodes = [n for n in collected()
                         if n == f"{path}::{name}" or n.startswith(f"{path}::{name}[")]
                assert nodes, (release, column, f"{path}::{name}: no such test")
                if ids:
                    want = set(ids.split("-"))
                    assert any(want <= set(n.partition("[")[2].rstrip("]").split("-"))
                               for n in nodes), (release, column, f"{name}[{ids}]", nodes)
