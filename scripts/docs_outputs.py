#!/usr/bin/env python3
"""Regenerate (or check) every command output shown in README.md and docs/*.md.

An output block is an HTML comment naming the command, followed at once by a fenced block:

    <!-- output: python3 tasks.py render --inventory tests/inventories/bad -->
    ```console
    $ python3 tasks.py render --inventory tests/inventories/bad
    error: invalid inventory (4 problems):
    ...
    (exit status 2)
    ```

The comment is invisible on GitHub and in the MkDocs site. Words between `output` and the colon
are options:

- `lab`: the command needs the built-in lab (root). Lab blocks run only with `--lab`: the lab of
  $NORNIR_ANYCAST_LAB_PREFIX is removed first (`lab down`), then the lab blocks' commands run in
  the order they appear (README.md first, then docs/ in file-name order), each distinct command
  once (so the first of them should be `python3 tasks.py lab up`), and `lab down` runs at the
  end, also when a command failed.
- `stdout`: show stdout only (progress lines, which a run prints to stderr in an order that
  depends on thread timing, are left out). Without it, stdout and stderr are shown interleaved
  as a terminal would show them.
- `fresh=PATH`: PATH (inside the checkout) is moved aside while the command runs and put back
  afterwards, so the command sees a first run (`render` writing into an empty `out/`).
- `session=NAME`: the command runs in a directory outside the checkout, empty when the first
  block of that session runs; the blocks of one session run one after the other in it, in the
  order they appear (a walkthrough: `nornir-anycast init net`, then `nornir-anycast render -i
  net`). The directory is removed afterwards; its path is shown as `~`.

Each command runs with `bash -c` from the checkout's root (or its session's directory), with the
Python environment that runs this script first on PATH (as if its virtual environment were
activated), without COLUMNS/LINES (so the width is what a pipe gets), and with
PYTHONUNBUFFERED=1. The block holds `$ COMMAND`,
the output, and `(exit status N)` when N is not 0.

What is written (display form): the checkout's absolute path is shown as `~/nornir_anycast`, a
lab prefix other than the default as `na` (`hfdocs-edge` -> `na-edge`, `.lab-hfdocs` -> `.lab`),
and trailing spaces are stripped. What is compared (`--check`, and the tests in tests/docs/): both
sides in display form, then normalised by `normalise()`: clock times (`17:03:07.248`), decimal
numbers (durations and seconds columns: `4.75`, `2.0 s`; IPv4 addresses and versions such as
`0.9.10` are kept), `pid N`, and paths under /tmp are masked; runs of spaces and of table rule
characters (`━`, `─`) are collapsed, so a column one digit wider still matches.

Usage (from the checkout's root):

    .venv/bin/python scripts/docs_outputs.py             # rewrite the non-lab blocks
    .venv/bin/python scripts/docs_outputs.py --check     # exit 1 with a diff when one is stale
    NORNIR_ANYCAST_LAB_PREFIX=me flock /tmp/na-heavy.lock \\
        .venv/bin/python scripts/docs_outputs.py --lab   # also the lab blocks (root)
    .venv/bin/python scripts/docs_outputs.py --list      # every block: file, line, options
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DISPLAY_ROOT = "~/nornir_anycast"
DEFAULT_PREFIX = "na"
PREFIX_ENV = "NORNIR_ANYCAST_LAB_PREFIX"
TIMEOUT_S = 600

_OPENING = re.compile(r"^<!-- output\b", re.M)
_BLOCK = re.compile(
    r"^<!-- output(?P<opts>(?:[ \t]+[\w=./-]+)*):[ \t]+(?P<cmd>.+?)[ \t]+-->\n"
    r"(?P<fence>```+)(?P<lang>[\w-]*)\n(?P<body>.*?)^(?P=fence)[ \t]*$",
    re.M | re.S)
_OPTION = re.compile(r"^(lab|stdout|fresh=[\w./-]+|session=[\w-]+)$")


class MarkerError(ValueError):
    """A marker that is not followed by a fenced block, or has an unknown option."""


@dataclass(frozen=True)
class Block:
    """One marked output block of a Markdown file."""

    path: Path
    line: int
    cmd: str
    options: tuple[str, ...]
    lang: str
    fence: str
    body: str
    start: int
    end: int

    @property
    def lab(self) -> bool:
        return "lab" in self.options

    @property
    def stdout_only(self) -> bool:
        return "stdout" in self.options

    @property
    def fresh(self) -> list[str]:
        return [o.split("=", 1)[1] for o in self.options if o.startswith("fresh=")]

    @property
    def session(self) -> str | None:
        names = [o.split("=", 1)[1] for o in self.options if o.startswith("session=")]
        return names[0] if names else None

    @property
    def where(self) -> str:
        try:
            name = str(self.path.relative_to(ROOT))
        except ValueError:
            name = str(self.path)
        return f"{name}:{self.line}"


@dataclass
class Run:
    """A command's output as run now, in display form."""

    text: str
    returncode: int = 0
    extra: dict[str, str] = field(default_factory=dict)


def doc_files(root: Path = ROOT) -> list[Path]:
    """README.md, then every Markdown file under docs/ in file-name order."""
    files = [root / "README.md"]
    files += sorted((root / "docs").rglob("*.md")) if (root / "docs").is_dir() else []
    return [f for f in files if f.is_file()]


def find_blocks(path: Path, text: str | None = None) -> list[Block]:
    """Every marked block of one file; a malformed marker raises MarkerError naming its line."""
    text = path.read_text() if text is None else text
    blocks: list[Block] = []
    for m in _OPENING.finditer(text):
        line = text.count("\n", 0, m.start()) + 1
        b = _BLOCK.match(text, m.start())
        if b is None:
            raise MarkerError(f"{path}:{line}: an output marker must be one line "
                              "`<!-- output[ OPTIONS]: COMMAND -->` followed at once by a "
                              "fenced block")
        options = tuple(b.group("opts").split())
        bad = [o for o in options if not _OPTION.match(o)]
        if bad:
            raise MarkerError(f"{path}:{line}: unknown option(s) {bad} "
                              "(known: lab, stdout, fresh=PATH, session=NAME)")
        blocks.append(Block(path=path, line=line, cmd=b.group("cmd"), options=options,
                            lang=b.group("lang"), fence=b.group("fence"),
                            body=b.group("body"), start=b.start("body"), end=b.end("body")))
    return blocks


def all_blocks(files: Sequence[Path] | None = None) -> list[Block]:
    return [b for f in (files if files is not None else doc_files()) for b in find_blocks(f)]


def lab_prefix() -> str:
    return os.environ.get(PREFIX_ENV) or DEFAULT_PREFIX


def display(raw: str, root: Path = ROOT, prefix: str | None = None) -> str:
    """The output as the docs show it: checkout path as ~/nornir_anycast, prefix as `na`,
    no trailing spaces, one final newline."""
    prefix = prefix or lab_prefix()
    text = raw.replace(str(root.resolve()), DISPLAY_ROOT)
    if str(root) != str(root.resolve()):
        text = text.replace(str(root), DISPLAY_ROOT)
    if prefix != DEFAULT_PREFIX:
        text = re.sub(rf"\.lab-{re.escape(prefix)}\b", ".lab", text)
        text = re.sub(rf"\b{re.escape(prefix)}-", f"{DEFAULT_PREFIX}-", text)
    lines = [ln.rstrip() for ln in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines) + "\n" if lines else ""


_NORMALISE: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\b\d{1,2}:\d{2}:\d{2}(?:\.\d+)?\b"), "HH:MM:SS"),   # clock times
    (re.compile(r"/tmp/[^\s'\"│,;)]+"), "/tmp/…"),                   # temporary paths
    (re.compile(r"\bpid (\d+)"), "pid N"),                            # process ids
    (re.compile(r"(?<![\d.])\d+\.\d+(?![\d.])"), "N.N"),               # durations, seconds
    # `verify --wait` says how long it retried only when its first attempt failed, which
    # depends on how fast the sessions came up: with or without it, the same verdict
    (re.compile(r"^(verify passed: .*?) after N\.N s\s*$"), r"\1"),
    (re.compile(r"([━─═┄])\1+"), r"\1"),                              # table rules
    (re.compile(r"[ \t]+"), " "),                                     # column padding
]


def normalise(text: str) -> str:
    """What two outputs must have in common to count as the same (see the module docstring)."""
    out = []
    for line in text.splitlines():
        for pattern, repl in _NORMALISE:
            line = pattern.sub(repl, line)
        out.append(line.strip())
    while out and not out[-1]:
        out.pop()
    return "\n".join(out)


@contextmanager
def _moved_aside(paths: Sequence[str], root: Path) -> Iterator[None]:
    moved: list[tuple[Path, Path]] = []
    try:
        for p in paths:
            target = (root / p).resolve()
            if root.resolve() not in target.parents:
                raise MarkerError(f"fresh={p}: must be inside the checkout")
            if target.exists():
                aside = target.with_name(f"{target.name}.docs-aside-{uuid.uuid4().hex[:8]}")
                target.rename(aside)
                moved.append((target, aside))
            else:
                moved.append((target, Path()))
        yield
    finally:
        for target, aside in moved:
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
            if aside != Path():
                aside.rename(target)


def command_env(root: Path = ROOT, prefix: str | None = None) -> dict[str, str]:
    env = dict(os.environ)
    for name in ("COLUMNS", "LINES", "FORCE_COLOR", "CLICOLOR_FORCE", "NORNIR_ANYCAST_ROOT"):
        env.pop(name, None)
    env["PYTHONUNBUFFERED"] = "1"
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    if prefix:
        env[PREFIX_ENV] = prefix
    return env


def run_command(cmd: str, *, stdout_only: bool = False, fresh: Sequence[str] = (),
                root: Path = ROOT, prefix: str | None = None, cwd: Path | None = None) -> Run:
    """Run one shown command from the checkout's root (or `cwd`); its block body in display
    form (`cwd` shown as `~`)."""
    with _moved_aside(fresh, root):
        proc = subprocess.run(
            ["bash", "-c", cmd], cwd=cwd or root, env=command_env(root, prefix), text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL if stdout_only else subprocess.STDOUT,
            timeout=TIMEOUT_S, check=False)
    out = proc.stdout
    if cwd is not None:
        out = out.replace(str(cwd.resolve()), "~").replace(str(cwd), "~")
    text = f"$ {cmd}\n" + display(out, root, prefix)
    if proc.returncode:
        text += f"(exit status {proc.returncode})\n"
    return Run(text=text, returncode=proc.returncode)


def block_run(block: Block, root: Path = ROOT, prefix: str | None = None,
              cwd: Path | None = None) -> Run:
    return run_command(block.cmd, stdout_only=block.stdout_only, fresh=block.fresh,
                       root=root, prefix=prefix, cwd=cwd)


def run_session(blocks: Sequence[Block], root: Path = ROOT,
                prefix: str | None = None) -> dict[Block, Run]:
    """The blocks of one session, in order, in one fresh directory outside the checkout."""
    with tempfile.TemporaryDirectory(prefix="docs-session-") as tmp:
        return {b: block_run(b, root, prefix, cwd=Path(tmp)) for b in blocks}


def same(shown: str, now: str) -> bool:
    return normalise(shown) == normalise(now)


def mismatch(block: Block, now: str) -> str:
    """A unified diff of the normalised texts, '' when they are the same."""
    diff = difflib.unified_diff(normalise(block.body).splitlines(), normalise(now).splitlines(),
                                f"{block.where} (shown)", f"{block.cmd} (now)", lineterm="")
    return "\n".join(diff)


def _rewrite(path: Path, results: dict[tuple[int, int], str]) -> bool:
    text = path.read_text()
    pieces: list[str] = []
    pos = 0
    for (start, end), body in sorted(results.items()):
        pieces += [text[pos:start], body]
        pos = end
    pieces.append(text[pos:])
    new = "".join(pieces)
    if new != text:
        path.write_text(new)
        return True
    return False


@contextmanager
def fresh_lab(root: Path = ROOT, prefix: str | None = None) -> Iterator[None]:
    """No lab of this prefix before (lab down), and none after, whatever happens between."""
    down = ["python3", "tasks.py", "lab", "down"]
    env = command_env(root, prefix)
    subprocess.run(down, cwd=root, env=env, check=False, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=TIMEOUT_S)
    try:
        yield
    finally:
        subprocess.run(down, cwd=root, env=env, check=False, stdout=subprocess.DEVNULL,
                       timeout=TIMEOUT_S)


def run_blocks(blocks: Sequence[Block], *, lab: bool, root: Path = ROOT,
               prefix: str | None = None,
               on_run: Callable[[Block, Run], None] | None = None) -> dict[Block, Run]:
    """Run each distinct command once: the non-lab blocks, and with `lab` the lab blocks
    (in their order, on a lab built fresh for them and removed afterwards)."""
    done: dict[tuple[str, tuple[str, ...]], Run] = {}
    out: dict[Block, Run] = {}

    def go(b: Block) -> None:
        key = (b.cmd, b.options)
        if key not in done:
            done[key] = block_run(b, root, prefix)
            if on_run is not None:
                on_run(b, done[key])
        out[b] = done[key]

    sessions: dict[str, list[Block]] = {}
    for b in blocks:
        if b.session is not None and not b.lab:
            sessions.setdefault(b.session, []).append(b)
        elif not b.lab:
            go(b)
    for members in sessions.values():
        for b, r in run_session(members, root, prefix).items():
            if on_run is not None:
                on_run(b, r)
            out[b] = r
    lab_blocks = [b for b in blocks if b.lab]
    if lab and lab_blocks:
        with fresh_lab(root, prefix):
            for b in lab_blocks:
                go(b)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--check", action="store_true",
                    help="compare only; exit 1 with a diff when a shown output is stale")
    ap.add_argument("--lab", action="store_true",
                    help="also the blocks marked `lab` (root; builds and removes a lab)")
    ap.add_argument("--list", action="store_true", help="list the blocks and exit")
    ap.add_argument("files", nargs="*", type=Path,
                    help="Markdown files (default: README.md and docs/**/*.md)")
    args = ap.parse_args(argv)
    files = [f.resolve() for f in args.files] or doc_files()
    try:
        blocks = all_blocks(files)
    except MarkerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.list:
        for b in blocks:
            print(f"{b.where}\t{' '.join(b.options) or '-'}\t{b.cmd}")
        return 0

    def progress(b: Block, r: Run) -> None:
        print(f"ran ({b.where}): {b.cmd}", file=sys.stderr)

    runs = run_blocks(blocks, lab=args.lab, on_run=progress)
    stale = []
    for b, r in runs.items():
        if not same(b.body, r.text):
            stale.append((b, r))
    if args.check:
        for b, r in stale:
            print(mismatch(b, r.text))
        skipped = sum(1 for b in blocks if b not in runs)
        print(f"{len(runs)} block(s) checked, {len(stale)} stale"
              + (f", {skipped} lab block(s) not run (--lab)" if skipped else ""))
        return 1 if stale else 0
    by_file: dict[Path, dict[tuple[int, int], str]] = {}
    for b, r in runs.items():
        # Rewrite only what changed beyond the normalisation, so timings do not churn the docs.
        if b in dict(stale):
            by_file.setdefault(b.path, {})[(b.start, b.end)] = r.text
    for path, results in by_file.items():
        if _rewrite(path, results):
            print(f"rewrote {path.relative_to(ROOT) if ROOT in path.parents else path}: "
                  f"{len(results)} block(s)")
    skipped = sum(1 for b in blocks if b not in runs)
    print(f"{len(runs)} block(s) run, {len(stale)} rewritten"
          + (f", {skipped} lab block(s) left as they are (--lab)" if skipped else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
