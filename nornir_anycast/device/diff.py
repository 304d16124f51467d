"""THE unified diff of a file as the device has it and as rendered (deploy, drain)."""

from __future__ import annotations

import difflib


def unified_diff(old: str | None, new: str, *, fromfile: str, tofile: str) -> str:
    """`diff -u` of `old` (None: the file does not exist, shown as /dev/null) and `new`.

    Args:
        old: the current text, or None when there is no such file.
        new: the text it becomes.
        fromfile: label of the current text (`/etc/bird/bird.conf (running)`).
        tofile: label of the new text (`/etc/bird/bird.conf (rendered)`).

    Returns:
        The diff, lines ending with newlines; "" when the texts are equal. Secrets are not
        redacted here: callers redact what they report (nornir_anycast.inventory.secrets).
    """
    return "".join(difflib.unified_diff(
        (old or "").splitlines(keepends=True), new.splitlines(keepends=True),
        fromfile=fromfile if old is not None else "/dev/null", tofile=tofile))
