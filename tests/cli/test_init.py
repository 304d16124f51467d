"""`init DIR [--example NAME]` writes a starter inventory from the shipped examples (§1)."""

from __future__ import annotations

from pathlib import Path

import pytest
from paths import ROOT

from nornir_anycast.cli.init import EXAMPLES, FILES, example_files
from nornir_anycast.cli.main import main

SOURCES = {"lab": ROOT / "inventory", "vyos-seed": ROOT / "inventory/vyos-seed",
           "vyos-seed-dnat": ROOT / "inventory/vyos-seed-dnat",
           "lab-dnat": ROOT / "inventory/lab-dnat",
           "lab-debian13": ROOT / "inventory/lab-debian13",
           "lab-debian13-bird3": ROOT / "inventory/lab-debian13-bird3"}


def test_the_examples_are_the_shipped_inventories() -> None:
    assert set(EXAMPLES) == set(SOURCES)
    for name, source in SOURCES.items():
        assert example_files(name) == {f: (source / f).read_text() for f in FILES}, name


@pytest.mark.parametrize("example", sorted(SOURCES))
def test_init_writes_an_inventory_that_renders(example: str, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["init", "net", "--example", example]) == 0
    out = capsys.readouterr().out
    assert sorted(p.name for p in (tmp_path / "net").iterdir()) == sorted(FILES)
    for f in FILES:
        assert f"  {Path('net') / f}\n" in out
        assert (tmp_path / "net" / f).read_text() == (SOURCES[example] / f).read_text()
    assert "net/hosts.yaml" in out and "render -i net" in out  # what to edit and run next
    assert main(["render", "-i", "net", "--out", "out", "--no-check"]) == 0
    assert (tmp_path / "out" / "edge").is_dir()


def test_init_defaults_to_the_lab_seed(tmp_path: Path) -> None:
    assert main(["init", str(tmp_path / "a" / "b")]) == 0  # parents created
    assert (tmp_path / "a/b/hosts.yaml").read_text() == (ROOT / "inventory/hosts.yaml").read_text()


def test_init_refuses_a_non_empty_directory(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "notes.txt").write_text("mine\n")
    assert main(["init", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"init: DIR '{tmp_path}' is not empty; nothing written" in err
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]

    (tmp_path / "hosts.yaml").write_text("edited: {}\n")
    assert main(["init", str(tmp_path), "--example", "vyos-seed", "--force"]) == 0
    assert (tmp_path / "hosts.yaml").read_text() == (
        ROOT / "inventory/vyos-seed/hosts.yaml").read_text()
    assert (tmp_path / "notes.txt").read_text() == "mine\n"  # --force touches only its files


def test_init_refuses_a_file_and_an_unknown_example(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "f").write_text("")
    assert main(["init", str(tmp_path / "f")]) == 2
    assert "is not a directory; nothing written" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["init", str(tmp_path / "x"), "--example", "nosuch"])
    assert exc.value.code == 2
    assert "invalid choice: 'nosuch'" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
