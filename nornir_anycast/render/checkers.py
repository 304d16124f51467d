"""THE checker table: each platform's own parser, run locally on a rendered file before anything
is pushed (`check_file`), and on the target on the staged file (`target_check_command`).

- `bird2`: `bird -p -c FILE` (Debian's bird2).
- `bird1`: `<root>/.cache/bird1/usr/sbin/bird -p -c FILE` (BIRD 1.6, unpacked by install.sh).
- `nginx`: `nginx -t -p DIR -c DIR/nginx.conf -e DIR/error.log` on a throw-away nginx.conf that
  includes the site (no root, no sockets).
- `frr`: `vtysh -C -f FILE`, FRR's dry run with every daemon's command tree, no daemon needed.
- `nft`: `nft -c -f FILE` in a throw-away network namespace (`unshare -n`, or `unshare -rn`
  when not root): the kernel checks the whole transaction without committing it, and this
  machine's own ruleset is neither read nor touched.

Each check raises ConfigCheckError with the checker's own message when the file is rejected,
and CheckerNotFoundError (a ConfigCheckError) when the checker is not installed.

On the target the same parsers run on the staged file with the device's own daemons:
`bird -p -c PATH` (BIRD 1.6 or 2, whichever the server runs), `vtysh -C -f PATH`,
`nft -c -f PATH`, and `nginx -t` on a throw-away nginx.conf that includes PATH.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from nornir_anycast.exceptions import ConfigCheckError
from nornir_anycast.render.files import RenderedFile
from nornir_anycast.settings import project_root

CHECK_TIMEOUT_S = 30.0

#: BIRD 1.6's parser, relative to the project root (unpacked by scripts/install.sh).
BIRD1_RELATIVE = Path(".cache/bird1/usr/sbin/bird")


class CheckerNotFoundError(ConfigCheckError):
    """The checker program is not installed (run scripts/install.sh)."""


def _which(program: str) -> str:
    found = shutil.which(program) or shutil.which(program, path="/usr/sbin:/sbin:/usr/bin")
    if found is None:
        raise CheckerNotFoundError(f"{program} not found: run scripts/install.sh")
    return found


def bird1_binary() -> Path:
    """BIRD 1.6's binary: $NORNIR_ANYCAST_BIRD1, else .cache/bird1/usr/sbin/bird under the root."""
    override = os.environ.get("NORNIR_ANYCAST_BIRD1")
    path = Path(override) if override else project_root() / BIRD1_RELATIVE
    if not path.is_file():
        raise CheckerNotFoundError(
            f"BIRD 1.6 parser not found at {path}: run scripts/install.sh")
    return path


def _run(argv: list[str], label: str, what: str) -> str:
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=CHECK_TIMEOUT_S,
                              check=False)
    except subprocess.TimeoutExpired as exc:
        raise ConfigCheckError(f"{label}: {what} timed out after {CHECK_TIMEOUT_S:.0f} s") from exc
    output = (proc.stdout + proc.stderr).strip()
    if proc.returncode != 0:
        raise ConfigCheckError(
            f"{label}: rejected by {what} (exit {proc.returncode}): {output or 'no message'}")
    return output


def _with_file(text: str, suffix: str, run: Callable[[Path], str]) -> str:
    with tempfile.TemporaryDirectory(prefix="nornir-anycast-check-") as tmp:
        path = Path(tmp) / f"config{suffix}"
        path.write_text(text)
        return run(path)


def check_bird2(text: str, label: str = "bird.conf") -> str:
    """`bird -p -c FILE` with BIRD 2; returns the checker's output (usually empty)."""
    bird = _which("bird")
    return _with_file(text, ".conf", lambda p: _run([bird, "-p", "-c", str(p)], label,
                                                    "BIRD 2 (bird -p)"))


def check_bird1(text: str, label: str = "bird.conf") -> str:
    """BIRD 1.6's `bird -p -c FILE`; returns the checker's output (usually empty)."""
    bird = str(bird1_binary())
    return _with_file(text, ".conf", lambda p: _run([bird, "-p", "-c", str(p)], label,
                                                    "BIRD 1.6 (bird -p)"))


def check_nginx(text: str, label: str = "nginx site") -> str:
    """`nginx -t` on a throw-away nginx.conf whose http block includes the site.

    `-p`, `-e` and the pid file keep nginx away from /var/log/nginx and /run; `nginx -t` opens
    no listening socket, so it runs without root beside a running nginx.
    """
    nginx = _which("nginx")
    with tempfile.TemporaryDirectory(prefix="nornir-anycast-nginx-") as tmp:
        d = Path(tmp)
        (d / "site.conf").write_text(text)
        (d / "nginx.conf").write_text(
            f"pid {d}/nginx.pid;\n"
            f"error_log {d}/error.log;\n"
            "events {}\n"
            "http {\n"
            "    access_log off;\n"
            f"    client_body_temp_path {d}/client_body;\n"
            f"    include {d}/site.conf;\n"
            "}\n")
        return _run([nginx, "-t", "-q", "-p", f"{d}/", "-c", str(d / "nginx.conf"),
                     "-e", str(d / "error.log")], label, "nginx -t")


def check_frr(text: str, label: str = "frr.conf") -> str:
    """FRR's dry run `vtysh -C -f FILE` (exit 2 and the bad line on error)."""
    vtysh = _which("vtysh")
    return _with_file(text, ".conf", lambda p: _run([vtysh, "-C", "-f", str(p)], label,
                                                    "FRR (vtysh -C)"))


def check_nft(text: str, label: str = "nftables.conf") -> str:
    """`nft -c -f FILE` inside a fresh network namespace (the kernel's dry run of the batch)."""
    nft = _which("nft")
    unshare = _which("unshare")
    ns = ["-n"] if os.geteuid() == 0 else ["-r", "-n"]
    return _with_file(text, ".nft", lambda p: _run([unshare, *ns, nft, "-c", "-f", str(p)], label,
                                                   "nftables (nft -c)"))


def _target_bird(path: str) -> str:
    return f"bird -p -c {shlex.quote(path)}"


def _target_frr(path: str) -> str:
    return f"vtysh -C -f {shlex.quote(path)}"


def _target_nft(path: str) -> str:
    return f"nft -c -f {shlex.quote(path)}"


def _target_nginx(path: str) -> str:
    q = shlex.quote(path)
    test = shlex.quote(path + ".test.conf")
    main = f"pid {path}.test.pid; error_log stderr; events {{}} http {{ include %s; }}\\n"
    return (f"printf '{main}' {q} > {test} && nginx -t -q -c {test}; rc=$?; "
            f"rm -f {test}; [ $rc -eq 0 ]")


@dataclass(frozen=True)
class Checker:
    """One platform's own parser, as run here and on the target.

    Attributes:
        program: what runs it (`bird`, `vtysh`); BIRD 1.6 runs from its unpacked binary here.
        local: `local(text, label)` checks the text on this machine; returns the checker's
            output, raises ConfigCheckError (CheckerNotFoundError when not installed).
        target: `target(path)` is the shell command that checks a file staged at `path` on the
            device (exit 0: accepted), with the device's own installed daemon.
    """

    program: str
    local: Callable[[str, str], str]
    target: Callable[[str], str]


#: THE checker table: the name a RenderedFile carries -> how it is checked, here and on the
#: target (deploy's staged-file check, apply_drain's).
CHECKERS: dict[str, Checker] = {
    "bird1": Checker("bird", check_bird1, _target_bird),
    "bird2": Checker("bird", check_bird2, _target_bird),
    "nginx": Checker("nginx", check_nginx, _target_nginx),
    "frr": Checker("vtysh", check_frr, _target_frr),
    "nft": Checker("nft", check_nft, _target_nft),
}

#: Older names the target check accepts (a server's BIRD is `bird` whatever its version).
_ALIASES = {"bird": "bird2"}


def target_check_command(checker: str, path: str) -> str:
    """The shell command that checks the file staged at `path` on the target with `checker`'s
    own parser (`bird -p -c PATH`, `vtysh -C -f PATH`, `nft -c -f PATH`, `nginx -t` on a
    throw-away nginx.conf including the file); it exits 0 when the file is accepted.

    Raises:
        ValueError: `checker` is not in CHECKERS.
    """
    entry = CHECKERS.get(_ALIASES.get(checker, checker))
    if entry is None:
        raise ValueError(f"unknown checker {checker!r}")
    return entry.target(path)


def check_file(rendered: RenderedFile, label: str | None = None) -> str | None:
    """Run the file's checker; None when it has none. Raises ConfigCheckError on rejection.

    Files the content includes (`rendered.includes`, such as anycast-healthchecker's prefix
    set) are written to a throw-away directory and the `include "PATH";` lines pointed there,
    so the check needs nothing on this machine's own paths.
    """
    if rendered.checker is None:
        return None
    checker = CHECKERS[rendered.checker].local
    what = label or str(rendered.path)
    if not rendered.includes:
        return checker(rendered.content, what)
    with tempfile.TemporaryDirectory(prefix="nornir-anycast-include-") as tmp:
        text = rendered.content
        for n, (path, content) in enumerate(rendered.includes):
            local = Path(tmp) / f"include-{n}.conf"
            local.write_text(content)
            text = text.replace(f'include "{path}";', f'include "{local}";')
        return checker(text, what)
