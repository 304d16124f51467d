"""Stage 3, rendering: every configuration file of the design, from the typed model, and the
platforms' own checkers.

- `host`: which files a host gets (`plan_host`, `render_host`, `render_design`);
- one module per platform: `frr`, `vyos`, `bird`, `nginx`, `healthchecker`, `nftables`,
  `linux` (each plans its files: template, context, path, checker);
- `neighbors`: BGP neighbors and policies as every daemon's templates see them;
- `passwords`: BGP passwords from the environment or a file (`check_secrets`);
- `environment`: the one Jinja2 Environment, `render_template`;
- `files`: `RenderedFile` (what rendering produces) and `TemplateFile` (what is planned);
- `checkers`: THE checker table, used locally (`check_file`) and on the target
  (`target_check_command`).
"""

from __future__ import annotations

from nornir_anycast.inventory.passwords import check_secrets
from nornir_anycast.render.files import RenderedFile, TemplateFile
from nornir_anycast.render.host import plan_host, render_design, render_host

__all__ = ["RenderedFile", "TemplateFile", "check_secrets", "plan_host", "render_design",
           "render_host"]
