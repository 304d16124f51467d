"""Helpers shared by the parsers: cleaning device output, running TTP templates, converters."""

from __future__ import annotations

import functools
import importlib.resources
import ipaddress
import re
from dataclasses import dataclass
from typing import Any

from ttp import ttp

from nornir_anycast.exceptions import ParseError

# A CLI prompt at the start of a line: `vyos@edge:~$`, `root@server-1:~#`, `edge#`, `bird>`.
_PROMPT_RE = re.compile(r"^\s*[\w.@:~/()\[\]-]+[#$>]\s?(?P<rest>.*?)\s*$")
_BIRD_BANNER_RE = re.compile(r"^BIRD \S+ ready\.\s*$")
# vtysh warns on stderr (merged into an SSH terminal) when it has no vtysh.conf
_VTYSH_CONF_RE = re.compile(r"^% Can't open configuration file \S*vtysh\.conf")


@dataclass(frozen=True)
class Ctx:
    """What is being parsed: for error messages and for command arguments."""

    platform: str
    command: str  # the command as given (normalised whitespace)
    arg: str | None = None  # prefix / protocol name taken from the command, if any

    def error(self, reason: str, line: str | None = None, lineno: int | None = None) -> ParseError:
        where = f" (line {lineno})" if lineno is not None else ""
        got = f": {line.strip()[:120]!r}" if line is not None else ""
        return ParseError(
            f"{self.platform} {self.command!r}: {reason}{where}{got}"
        )


def _squash(text: str) -> str:
    return " ".join(text.split())


def clean_lines(text: str, ctx: Ctx, *, bird: bool = False) -> list[str]:
    """The output's lines without the echoed prompt line, a trailing bare prompt, BIRD's banner.

    Only the first few and the last lines are looked at, so a million-line table costs nothing
    extra. A leading line is dropped when it is a prompt followed by the command (as typed, or
    wrapped in `vtysh -c '...'` / `birdc ...`); a trailing line when it is a bare prompt.
    """
    lines = text.splitlines()
    want = _squash(ctx.command)
    for i in range(min(len(lines), 5)):
        line = lines[i]
        if not line.strip():
            continue
        if (bird and _BIRD_BANNER_RE.match(line)) or _VTYSH_CONF_RE.match(line):
            lines[i] = ""
            continue
        m = _PROMPT_RE.match(line)
        if m and want and _squash(m.group("rest").strip("'\"")).endswith(want):
            lines[i] = ""
            continue
        break
    while lines and not lines[-1].strip():
        lines.pop()
    if lines:
        m = _PROMPT_RE.match(lines[-1])
        if m and not m.group("rest"):
            lines.pop()
    return lines


def first_text(lines: list[str]) -> str | None:
    """The first non-blank line (for error messages)."""
    return next((ln for ln in lines if ln.strip()), None)


@functools.cache
def template_text(name: str) -> str:
    """The text of a shipped TTP template (`templates/ttp/<name>.ttp`)."""
    res = importlib.resources.files("nornir_anycast.templates").joinpath("ttp", f"{name}.ttp")
    return res.read_text(encoding="utf-8")


def run_ttp(name: str, text: str, group: str = "lines") -> list[dict[str, Any]]:
    """Run the shipped template `name` over `text` in-process; the records of `group`, in order.

    Templates use `method="table"`: every template line is a start line, so each matched line
    of output becomes one record and records keep the order of the output.
    """
    parser = ttp(data=text if text.endswith("\n") else text + "\n", template=template_text(name))
    parser.parse(one=True)
    result = parser.result()
    try:
        found = result[0][0].get(group, [])
    except (IndexError, AttributeError):
        return []
    if isinstance(found, dict):
        return [found]
    return list(found)


def classful(network: str) -> str:
    """A network in CIDR form; Quagga prints classful networks without a length.

    `0.0.0.0` -> 0.0.0.0/0, class A (0-127) -> /8, B (128-191) -> /16, C (192-223) -> /24,
    anything else (class D/E) -> /32.
    """
    if "/" in network:
        return network
    if ":" in network:
        return f"{network}/128"
    first = int(network.split(".", 1)[0])
    if network == "0.0.0.0":
        length = 0
    elif first < 128:
        length = 8
    elif first < 192:
        length = 16
    elif first < 224:
        length = 24
    else:
        length = 32
    return f"{network}/{length}"


def host_cidr(prefix: str) -> str:
    """`default` -> 0.0.0.0/0; a bare address -> /32 (/128); a prefix stays as it is."""
    if prefix == "default":
        return "0.0.0.0/0"
    if "/" in prefix:
        return prefix
    return f"{prefix}/{128 if ':' in prefix else 32}"


def is_ip(token: str) -> bool:
    try:
        ipaddress.ip_address(token)
    except ValueError:
        return False
    return True


def is_network(token: str) -> bool:
    try:
        ipaddress.ip_network(token, strict=False)
    except ValueError:
        return False
    return True


def as_path_numbers(tokens: list[str]) -> list[int]:
    """AS numbers of an AS path; sets `{1,2}` and confederation segments `(65001 65002)` are
    flattened into the list in the order printed."""
    out: list[int] = []
    for tok in tokens:
        if tok.isdigit():
            out.append(int(tok))
            continue
        for part in re.split(r"[{},()\[\]\s]+", tok):
            if part.isdigit():
                out.append(int(part))
    return out


ORIGIN_WORDS = {"IGP": "i", "EGP": "e", "incomplete": "?", "INCOMPLETE": "?"}
