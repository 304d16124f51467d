"""Nornir task: render every configuration file one host of an anycast design needs."""

from __future__ import annotations

import difflib
from pathlib import Path

from nornir.core.task import Result, Task

from nornir_anycast.design.model import Design
from nornir_anycast.inventory.secrets import redact
from nornir_anycast.render import RenderedFile, render_host
from nornir_anycast.render.checkers import check_file


def _diff(path: Path, old: str | None, new: str) -> str:
    return "".join(difflib.unified_diff(
        (old or "").splitlines(keepends=True), new.splitlines(keepends=True),
        fromfile=str(path) if old is not None else "/dev/null", tofile=str(path)))


def render_config(task: Task, *, design: Design, out_dir: str | Path | None = None,
                  check: bool = False, dry_run: bool | None = None) -> Result:
    """Render the host's files from the typed design; optionally check and write them.

    Args:
        task: the Nornir task (its host must be in `design`).
        design: the validated design of the whole inventory (see design.load_design).
        out_dir: when set, write each file to `<out_dir>/<host>/<logical name>`.
        check: run each file's own checker locally (`bird -p`, `nginx -t`, `vtysh -C`);
            a rejected file raises ConfigCheckError, which fails the host.
        dry_run: with out_dir, compute the diff but write nothing (default: Nornir's dry_run).

    Returns:
        Result with `result` = {logical name: RenderedFile} (real passwords in the content);
        with out_dir, `diff` = unified diff of the files written (or that would be), secrets
        redacted, and `changed` = True only when a file was written with new content. Files
        holding a secret are written with mode 0600.
    """
    me = design.hosts[task.host.name]
    files: dict[str, RenderedFile] = render_host(me, design)
    if check:
        for name, f in files.items():
            check_file(f, f"{me.name}: {name}")
    if out_dir is None:
        return Result(host=task.host, result=files, changed=False)

    dry = task.is_dry_run(dry_run)
    host_dir = Path(out_dir) / me.name
    diffs: list[str] = []
    to_write: list[tuple[Path, str]] = []
    for name, f in files.items():
        path = host_dir / name
        old = path.read_text() if path.is_file() else None
        if old != f.content:
            diffs.append(_diff(path, old, f.content))
            to_write.append((path, f.content))
    if not dry:
        for path, content in to_write:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(path.name + ".tmp")
            tmp.write_text(content)
            # A file holding a password (bird.conf, frr.conf with TCP-MD5) is for its owner only.
            tmp.chmod(0o600 if redact(content) != content else 0o644)
            tmp.replace(path)
    return Result(host=task.host, result=files, diff=redact("".join(diffs)),
                  changed=bool(to_write) and not dry)
