"""Stage 3, rendering: every configuration file of the design, from the typed model, and the
platforms' own checkers.

- `core`: Jinja2 environment and the per-platform rendering (`render_host`, `render_design`);
- `checkers`: checking rendered files with the platform's own parser.
"""

from __future__ import annotations

from nornir_anycast.render.core import RenderedFile, check_secrets, render_design, render_host

__all__ = ["RenderedFile", "check_secrets", "render_design", "render_host"]
