"""The one Jinja2 Environment of the package and rendering one template with it.

Package data `nornir_anycast.templates/jinja`, StrictUndefined, trim_blocks, lstrip_blocks,
keep_trailing_newline; filters `netmask`, `ip_only` and `vq` (a VyOS value quoted).
"""

from __future__ import annotations

import functools
import ipaddress
from typing import Any

import jinja2

from nornir_anycast.design.model import HostModel
from nornir_anycast.exceptions import TemplateError
from nornir_anycast.inventory import secrets


@functools.cache
def environment() -> jinja2.Environment:
    """The one Jinja2 Environment for every template of the package."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("nornir_anycast.templates", "jinja"),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters["netmask"] = _netmask
    env.filters["ip_only"] = _ip_only
    env.filters["vq"] = _vyos_quote
    # `select("ipv6")`: addresses and prefixes of the IPv6 family (templates' IPv6 blocks).
    env.tests["ipv6"] = _is_ipv6
    return env


def _is_ipv6(text: object) -> bool:
    return ":" in str(text)


def _netmask(address: str) -> str:
    return str(ipaddress.ip_interface(address).netmask)


def _ip_only(address: str) -> str:
    return str(ipaddress.ip_interface(address).ip)


def _vyos_quote(value: object) -> str:
    """A VyOS value quoted the way `show configuration commands` prints it."""
    return "'" + str(value).replace("'", "'\\''") + "'"


def version_tuple(version: str | None) -> tuple[int, ...]:
    """`1.2` -> (1, 2); `1.1.7` -> (1, 1, 7); None or junk -> ()."""
    if not version:
        return ()
    parts: list[int] = []
    for piece in version.split("."):
        digits = "".join(ch for ch in piece if ch.isdigit())
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)


def finish(text: str) -> str:
    """A rendered text as a file holds it: exactly one newline at the end."""
    return text.rstrip("\n") + "\n"


def template_error(host: HostModel, name: str, exc: jinja2.TemplateError) -> TemplateError:
    """A Jinja2 problem as TemplateError naming host and template (secrets redacted)."""
    if isinstance(exc, jinja2.TemplateNotFound):
        return TemplateError(f"{host.name}: template {name}: not found ({exc.name})")
    if isinstance(exc, jinja2.UndefinedError):
        return TemplateError(secrets.redact(f"{host.name}: template {name}: {exc.message}"))
    return TemplateError(secrets.redact(f"{host.name}: template {name}: {exc}"))


def render_template(name: str, host: HostModel, **context: Any) -> str:
    """Render one template with the host's typed model as `model`, plus `context`; any Jinja2
    problem becomes TemplateError naming host and template."""
    try:
        template = environment().get_template(name)
        text = template.render(model=host, **context)
    except jinja2.TemplateError as exc:
        raise template_error(host, name, exc) from exc
    return finish(text)
