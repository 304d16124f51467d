"""Secrets: where passwords come from, and keeping them out of everything we print or write.

Passwords never live in the inventory or the templates. The inventory names where to find them:

- an environment variable: `password_env: NAME` on a BGP neighbor, `password: {env: NAME}` for
  SSH (Nornir's `password` of a host, group or defaults);
- a file: `password_file: PATH` on a BGP neighbor, `password: {file: PATH}` for SSH. The first
  line of the file is the password; a relative PATH is taken from the project root.

Every secret read is registered here. `redact(text)` replaces each registered value with
`********`; deploy's diff and errors, verify's messages, `--json` reports, the CLI's error lines
and every log record go through it. Rendered configuration files keep the real password (the
daemons need it): `render --out` writes them readable by their owner only (mode 0600).
"""

from __future__ import annotations

import logging
import os
import threading
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nornir_anycast.exceptions import AnycastError

REDACTED = "********"

_lock = threading.Lock()
_values: set[str] = set()
_ordered: list[str] = []  # longest first, so a secret containing another is replaced whole
_factory_installed = False


class SecretError(AnycastError):
    """A secret could not be read (variable unset, file missing or empty)."""


def register(value: str) -> str:
    """Remember `value` as a secret (so `redact` hides it) and return it unchanged."""
    global _ordered
    if not value:
        return value
    with _lock:
        if value not in _values:
            _values.add(value)
            _ordered = sorted(_values, key=len, reverse=True)
        _install_log_redaction()
    return value


def forget_all() -> None:
    """Forget every registered secret (tests)."""
    global _ordered
    with _lock:
        _values.clear()
        _ordered = []


def known() -> bool:
    """Whether any secret is registered."""
    return bool(_ordered)


def redact(text: str) -> str:
    """`text` with every registered secret replaced by `********`."""
    if not _ordered or not text:
        return text
    for value in _ordered:
        if value in text:
            text = text.replace(value, REDACTED)
        shown = repr(value)[1:-1]  # as it appears inside a repr() of a string (escapes)
        if shown != value and shown in text:
            text = text.replace(shown, REDACTED)
    return text


def redact_data(data: Any) -> Any:
    """A copy of JSON-like `data` (dicts, lists, strings) with every string redacted."""
    if isinstance(data, str):
        return redact(data)
    if isinstance(data, dict):
        return {redact_data(k): redact_data(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [redact_data(v) for v in data]
    return data


def read_env(name: str) -> str:
    """The value of environment variable `name`, registered as a secret.

    Raises:
        SecretError: the variable is not set or empty (the message names it, not a value).
    """
    value = os.environ.get(name)
    if not value:
        raise SecretError(f"environment variable {name} is not set")
    return register(value)


def read_file(path: str, root: Path | None = None) -> str:
    """The first line of file `path` (relative: from `root`), registered as a secret.

    Raises:
        SecretError: the file cannot be read or its first line is empty.
    """
    p = Path(path)
    if not p.is_absolute() and root is not None:
        p = root / p
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not UTF-8 text"
        raise SecretError(f"cannot read {p}: {reason}") from None
    value = text.splitlines()[0].strip() if text.strip() else ""
    if not value:
        raise SecretError(f"{p} is empty (its first line must be the password)")
    return register(value)


def _install_log_redaction() -> None:
    """Wrap the log record factory so every record's message and traceback are redacted.

    A record factory sees each record once, whatever logger or handler it goes to (Nornir logs
    a failed task's traceback at ERROR; with no handler configured Python prints it on stderr).
    Called with the lock held.
    """
    global _factory_installed
    if _factory_installed:
        return
    previous: Callable[..., logging.LogRecord] = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        if not _ordered:
            return record
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a bad format string: leave it to logging to report
            return record
        record.msg, record.args = redact(message), ()
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact("".join(
                traceback.format_exception(*record.exc_info)).rstrip("\n"))
        return record

    logging.setLogRecordFactory(factory)
    _factory_installed = True
