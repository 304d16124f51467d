"""Nornir task: render every configuration file one host of an anycast design needs."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import jinja2
from nornir.core.exceptions import NornirSubTaskError
from nornir.core.task import Result, Task
from nornir_jinja2.plugins.tasks import template_file
from nornir_utils.plugins.tasks.files import write_file

from nornir_anycast.design.model import Design, HostModel
from nornir_anycast.design.registry import design_for
from nornir_anycast.exceptions import ConfigCheckError
from nornir_anycast.inventory.secrets import redact
from nornir_anycast.render import RenderedFile, TemplateFile, plan_host
from nornir_anycast.render.checkers import CHECKED, NO_CHECKER, check_files
from nornir_anycast.render.environment import environment, finish, template_error

#: The `check` of a file when checks were not asked for (render.checkers: CHECKED, NO_CHECKER,
#: `not checked: <program> not installed here`, `rejected (...)`).
NOT_RUN = "not run"
__all__ = ["CHECKED", "NOT_RUN", "NO_CHECKER", "render_config"]


def _render_step(task: Task, me: HostModel, name: str, planned: TemplateFile,
                 severity: int) -> RenderedFile:
    """Render one file as a nornir_jinja2 `template_file` subtask with the project's own
    Environment; the subtask's Result keeps the text with secrets redacted."""
    try:
        multi = task.run(task=template_file, name=f"template_file: {name}",
                         severity_level=severity, template=planned.template,
                         jinja_env=environment(), model=me, **planned.context)
    except NornirSubTaskError as exc:
        inner = exc.result[0].exception
        if isinstance(inner, jinja2.TemplateError):
            raise template_error(me, planned.template, inner) from None
        raise
    text = finish(str(multi[0].result))
    multi[0].result = redact(text)
    return planned.with_text(text)


def _create_private(path: Path) -> None:
    """Make `path` exist with mode 0600 before anything is written into it (an existing file
    is narrowed first), so a secret is never readable by others, not even for a moment."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


def _write_step(task: Task, name: str, path: Path, f: RenderedFile, secret: bool,
                dry: bool) -> Result:
    """Write one file with nornir_utils' `write_file` (its diff, its dry run); a file holding a
    secret is created (or narrowed to) mode 0600 first, the others end up 0644."""
    if not dry:
        path.parent.mkdir(parents=True, exist_ok=True)
        if secret:
            _create_private(path)
    step = task.run(task=write_file, name=f"write_file: {name}", severity_level=logging.DEBUG,
                    filename=str(path), content=f.content, dry_run=dry)[0]
    step.diff = redact(step.diff or "")
    if not dry and not secret:
        path.chmod(0o644)
    return step


def _check(files: dict[str, RenderedFile], host: str, require: bool) -> dict[str, str]:
    """Every file's local check status (render.checkers.check_files). A rejected file (or,
    with `require`, a missing checker) raises ChecksFailedError, a ConfigCheckError with every
    file's status in `.statuses`, its message redacted: checkers quote the line they reject."""
    try:
        return check_files(files, host, require=require)
    except ConfigCheckError as exc:
        exc.args = tuple(redact(str(a)) for a in exc.args)
        raise


def render_config(task: Task, *, design: Design | None = None,
                  out_dir: str | Path | None = None, check: bool = False,
                  require_checks: bool = False, dry_run: bool | None = None) -> Result:
    """Render the host's files from the typed design; optionally check and write them.

    Each file is rendered by a nornir_jinja2 `template_file` subtask (named
    `template_file: <file>`, with the package's own Jinja2 Environment as `jinja_env`) and,
    with `out_dir`, written by a nornir_utils `write_file` subtask (`write_file: <file>`), so
    processors and `print_result` see the steps. The `template_file` results keep the text
    with secrets redacted (`********`): at INFO without `out_dir`, at DEBUG with it (the diff
    shows what changed), so `print_result` shows each file's content at most once. The real
    content goes only into the files written; deploy renders for itself. (A processor's
    `subtask_instance_completed` sees a `template_file` result before it is redacted.)

    Args:
        task: the Nornir task (its host must be in the design).
        design: the validated design of the whole inventory; default: the one derived when the
            inventory was loaded (nornir_anycast.design.registry.design_for).
        out_dir: when set, write each file to `<out_dir>/<host>/<file>`; files holding a
            secret are created with mode 0600 before anything is written, the others get 0644.
        check: run each file's own checker locally (`bird -p`, `nginx -t`, `vtysh -C`,
            `nft -c`) before anything is written; a rejected file raises ChecksFailedError
            (a ConfigCheckError with every file's status in `.statuses`; secrets redacted
            from its message), which fails the host; a checker not installed here leaves the
            file `not checked: <program> not installed here`.
        require_checks: with `check`, a checker not installed here fails the host too.
        dry_run: with out_dir, compute the diff but write nothing (default: Nornir's dry_run).

    Returns:
        Result with `result` = {file: {"path": where it goes on the device (None: VyOS `set`
        commands), "checker": its checker's name or None, "check": "checked" | "-" (no
        checker) | "not checked: <program> not installed here" | "not run" (check not
        asked), "mode": its mode on the device ("0644"),
        "create_only": bool, "secret": whether it holds a password, "lines": its line count,
        and with out_dir "file": the local path, "changed": whether it differs (was or, dry,
        would be written)}}, plain data, no content; `diff` = the `write_file` diffs of the
        files that differ, secrets redacted ("" without out_dir); `changed` = True only when
        a file was written with new content (never on a dry run).
    """
    the_design = design_for(task, design)
    me = the_design.hosts[task.host.name]
    severity = logging.INFO if out_dir is None else logging.DEBUG
    files = {name: _render_step(task, me, name, planned, severity)
             for name, planned in plan_host(me, the_design).items()}
    checks = _check(files, me.name, require_checks) if check else {}
    summary: dict[str, dict[str, Any]] = {}
    for name, f in files.items():
        summary[name] = {
            "path": f.path, "checker": f.checker,
            "check": checks.get(name, NOT_RUN),
            "mode": f.mode, "create_only": f.create_only,
            "secret": redact(f.content) != f.content, "lines": len(f.content.splitlines()),
        }
    if out_dir is None:
        return Result(host=task.host, result=summary, changed=False)

    dry = task.is_dry_run(dry_run)
    host_dir = Path(out_dir) / me.name
    diffs: list[str] = []
    written = False
    for name, f in files.items():
        path = host_dir / name
        secret = bool(summary[name]["secret"])
        same = path.is_file() and path.read_text() == f.content
        summary[name].update({"file": str(path), "changed": not same})
        if same:
            if secret and not dry and path.stat().st_mode & 0o077:
                path.chmod(0o600)
            continue
        step = _write_step(task, name, path, f, secret, dry)
        if step.diff:
            diffs.append(step.diff)
        written = written or not dry
    return Result(host=task.host, result=summary, diff="\n".join(diffs), changed=written)
