"""How the commands print: for people on a terminal, and for pipes, files and logs.

On a terminal the output is rich's: colours, tables as wide as the terminal. Anywhere else
(`| less`, `> log`, CI) nothing is cut or re-wrapped: a table is as wide as its widest cell
(full host and file names, no `anycast-healthchecker.con…`), a long line (a FAIL message holding
a path) stays one line, no line ends in padding, and there is no colour.

Every command builds its consoles with `stdout_console()` / `stderr_console()`, counts with
`plural()`, and draws section rules with `rule()`.
"""

from __future__ import annotations

import logging

from rich.console import Console

#: The width of a console that does not write to a terminal: wider than any line we print, so
#: rich never cuts a cell or wraps a line; a table still takes only the width it needs.
PIPE_WIDTH = 10_000

#: The width of a section rule (`rule()`) when not on a terminal.
RULE_WIDTH = 80


def _console(*, stderr: bool) -> Console:
    console = Console(stderr=stderr)
    if not console.is_terminal:
        console.width = PIPE_WIDTH
        console.soft_wrap = True
    return console


def stdout_console() -> Console:
    """The console for a command's report (stdout)."""
    return _console(stderr=False)


def stderr_console() -> Console:
    """The console for progress, warnings and errors (stderr)."""
    return _console(stderr=True)


def one_line(text: str) -> str:
    """`text` on one line: line breaks and runs of spaces become one space (an exception's
    text, netmiko's for one, may span several lines; a FAIL line stays one line)."""
    return " ".join(str(text).split())


class _NotNornir(logging.Filter):
    """Drops the records of Nornir's own loggers (`nornir`, `nornir.core`, ...)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.name == "nornir" or record.name.startswith("nornir."))


def quiet_nornir_logging() -> None:
    """Keep Nornir's own log records (`Host 'x': task 'y' failed with traceback: ...`, `Task
    'y' has not been run - 0 hosts selected`) off the terminal when nobody configured logging.

    With Nornir's logging disabled (the shipped config.yaml) its loggers have no handler, and
    Python's last-resort handler prints their warnings and errors, tracebacks included, to
    stderr; the commands report every failure themselves. This filters Nornir's records out of
    that last-resort handler only: Nornir's own logging (`logging: {enabled: true, log_file:
    ...}`) and any handler the user configured still receive everything.
    """
    last_resort = logging.lastResort
    if last_resort is not None and not any(isinstance(f, _NotNornir)
                                           for f in last_resort.filters):
        last_resort.addFilter(_NotNornir())


def command_name(args: object) -> str:
    """The command as the user typed it, for hints (`nornir-anycast`, `python3 tasks.py`):
    cli.main sets `args.prog`; `python3 tasks.py` when it did not."""
    return str(getattr(args, "prog", None) or "python3 tasks.py")


def plural(n: int, word: str, many: str | None = None) -> str:
    """`1 host`, `2 hosts`, `0 hosts`; `many` for an irregular plural (`process`, `processes`)."""
    return f"{n} {word if n == 1 else (many or word + 's')}"


def rule(console: Console, title: str) -> None:
    """A section rule with `title`: rich's full-width rule on a terminal, else a fixed-width
    line (a pipe has no width to fill)."""
    if console.is_terminal:
        console.rule(title)
        return
    line = f"── {title} "
    console.print(line + "─" * max(3, RULE_WIDTH - len(line)), markup=False, highlight=False)
