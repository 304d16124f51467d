"""The package's exception hierarchy: everything it raises on purpose derives from AnycastError."""

from __future__ import annotations

from dataclasses import dataclass


class AnycastError(Exception):
    """Base of every error nornir_anycast raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the inventory: which host, which field, which value, and why."""

    host: str
    field: str
    value: object
    message: str
    severity: str = "error"  # "error" stops the run; "warning" is reported only

    def __str__(self) -> str:
        # One line, whatever the inventory held: a key with a newline, NEL or an escape
        # sequence in it is shown escaped, as repr() shows the value.
        return (f"{_printable(self.host)}: {_printable(self.field)}={self.value!r}: "
                f"{_printable(self.message)}")


def _printable(text: str) -> str:
    """`text` with every non-printable character (line breaks, escapes) backslash-escaped."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


class InventoryError(AnycastError):
    """The inventory is invalid; nothing was rendered or pushed.

    Attributes:
        problems: every problem found, so the user can fix them all in one go.
    """

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = [p for p in problems if p.severity == "error"]
        lines = [str(p) for p in self.problems]
        super().__init__(
            f"invalid inventory ({len(lines)} problem{'s' if len(lines) != 1 else ''}):\n  "
            + "\n  ".join(lines)
        )


class TemplateError(AnycastError):
    """A template could not be found or rendered."""


class ConfigCheckError(AnycastError):
    """A rendered configuration was rejected by the platform's own checker."""


class ParseError(AnycastError):
    """Device output could not be parsed as the output of the given command."""


class UnsupportedCommandError(AnycastError):
    """No parser exists for this platform and command."""


class LabError(AnycastError):
    """The built-in lab could not be built, reached or removed."""


class DeviceError(AnycastError):
    """A device answered a command with an error message."""
