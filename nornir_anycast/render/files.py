"""What rendering produces: one `RenderedFile` per logical file name of a host."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

Checker = Literal["frr", "bird1", "bird2", "bird3", "nginx", "nft"]


@dataclass(frozen=True)
class RenderedFile:
    """One rendered file.

    Attributes:
        path: where it goes on the device; None for VyOS `set` commands (entered, not copied).
        content: the text, ending with a newline.
        checker: which checker validates it (see nornir_anycast.render.checkers), or None.
        includes: (path, content) of files it includes, for checking it.
        create_only: deploy writes it only when missing (anycast-healthchecker's include).
        mode: file mode on the device.
    """

    path: str | None
    content: str
    checker: Checker | None = None
    # Files the content includes, as (path on the device, content to check with): the
    # checkers put them beside the file (BIRD's include of anycast-healthchecker's prefix set).
    includes: tuple[tuple[str, str], ...] = ()
    # Written only when the device has no such file (deploy never rewrites it afterwards).
    create_only: bool = False
    mode: str = "0644"


@dataclass(frozen=True)
class TemplateFile:
    """A file as planned before rendering: its template and context, and what the
    RenderedFile gets besides its text.

    The templates see the host's typed model as `model` (nornir_jinja2's `template_file`
    passes the Nornir Host as `host`), plus `context`.
    """

    template: str
    context: Mapping[str, Any]
    path: str | None
    checker: Checker | None = None
    includes: tuple[tuple[str, str], ...] = ()
    create_only: bool = False
    mode: str = "0644"

    def with_text(self, content: str) -> RenderedFile:
        """The RenderedFile holding `content` (the template's output, finished)."""
        return RenderedFile(self.path, content, self.checker, includes=self.includes,
                            create_only=self.create_only, mode=self.mode)
