"""THE checker table: each platform's own parser, run locally on a rendered file before anything
is pushed (`check_file`), and on the target on the staged file (`target_check_command`).

- `bird2`: `bird -p -c FILE` (Debian's bird2).
- `bird1`: `<home>/.cache/bird1/usr/sbin/bird -p -c FILE` (BIRD 1.6 from Debian 12's `bird`
  package, unpacked by scripts/install.sh; $NORNIR_ANYCAST_BIRD1 names another binary).
- `bird3`: BIRD 3's `bird -p -c FILE` (Debian 13's bird3 conflicts with bird2, so this machine
  usually has no BIRD 3 of its own): $NORNIR_ANYCAST_BIRD3 (a BIRD 3 binary), else the `bird`
  on $PATH when it is BIRD 3, else the BIRD 3 of a Debian root ($NORNIR_ANYCAST_BIRD3_ROOT, by
  default the lab's image /var/cache/nornir-anycast/images/debian13-bird3) run with that
  root's own dynamic loader and libraries (`ROOT/lib64/ld-linux-x86-64.so.2 --library-path
  ROOT/usr/lib/x86_64-linux-gnu ROOT/usr/sbin/bird`: no chroot, no root needed). None of them:
  `not checked: BIRD 3 not installed here`.
- `nginx`: `nginx -t -p DIR -c DIR/nginx.conf -e DIR/error.log` on a throw-away nginx.conf that
  includes the site (no root, no sockets).
- `frr`: `vtysh -C -f FILE`, FRR's dry run with every daemon's command tree, no daemon needed.
- `nft`: `nft -c -f FILE` in a throw-away network namespace (`unshare -n`, or `unshare -rn`
  when not root): the kernel checks the whole transaction without committing it, and this
  machine's own ruleset is neither read nor touched.

Each check raises ConfigCheckError with the checker's own message when the file is rejected,
and CheckerNotFoundError (a ConfigCheckError) when the checker is not installed; check_status()
turns that into the `check` column of `render`: `checked`, `rejected (...)` or
`not checked: bird not installed here`. Programs are looked up on $PATH and in the `sbin`
directory beside each `bin` directory on it (a non-root PATH on Debian lacks /usr/sbin).

On the target the same parsers run on the staged file with the device's own daemons:
`bird -p -c PATH` (BIRD 1.6, 2 or 3, whichever the server runs), `vtysh -C -f PATH`,
`nft -c -f PATH`, and `nginx -t` on a throw-away nginx.conf that includes PATH.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from nornir_anycast.exceptions import ConfigCheckError
from nornir_anycast.render.files import RenderedFile
from nornir_anycast.settings import cache_dir

CHECK_TIMEOUT_S = 30.0

#: BIRD 1.6's parser, relative to the cache directory (unpacked by scripts/install.sh).
BIRD1_RELATIVE = Path("bird1/usr/sbin/bird")

#: A BIRD 3 binary to check with ($NORNIR_ANYCAST_BIRD3), or a Debian root holding one
#: ($NORNIR_ANYCAST_BIRD3_ROOT; default BIRD3_DEFAULT_ROOT, where the lab keeps its BIRD 3 image).
BIRD3_ENV = "NORNIR_ANYCAST_BIRD3"
BIRD3_ROOT_ENV = "NORNIR_ANYCAST_BIRD3_ROOT"
BIRD3_DEFAULT_ROOT = Path("/var/cache/nornir-anycast/images/debian13-bird3")
#: The dynamic loader of a root, first match (x86-64, then aarch64 and others).
_LOADERS = ("usr/lib64/ld-linux-*.so.*", "lib64/ld-linux-*.so.*", "usr/lib/ld-linux-*.so.*")

#: Which Debian package installs each checker program.
DEBIAN_PACKAGES: dict[str, str] = {
    "bird": "bird2",
    "nginx": "nginx-light",
    "vtysh": "frr",
    "nft": "nftables",
    "unshare": "util-linux",
}

CHECKED = "checked"
NO_CHECKER = "-"


class CheckerNotFoundError(ConfigCheckError):
    """The checker program is not installed on this machine.

    Attributes:
        program: what is missing (`bird`, `BIRD 1.6`).
        hint: how to install it (Debian package names).
    """

    def __init__(self, program: str, hint: str) -> None:
        self.program = program
        self.hint = hint
        super().__init__(f"{program} not installed here ({hint})")

    @property
    def status(self) -> str:
        """The `check` column: `not checked: bird not installed here`."""
        return f"not checked: {self.program} not installed here"


class CheckRejectedError(ConfigCheckError):
    """The checker ran and rejected the file (or did not finish).

    Attributes:
        reason: a few words for the `check` column (`bird -p, exit 1`); the message has the
            checker's own output.
    """

    def __init__(self, message: str, reason: str) -> None:
        self.reason = reason
        super().__init__(message)

    @property
    def status(self) -> str:
        """The `check` column: `rejected (bird -p, exit 1)`."""
        return f"rejected ({self.reason})"


class ChecksFailedError(ConfigCheckError):
    """Some of one host's files were rejected (or, with checks required, not checked).

    Attributes:
        statuses: every file's `check` column, {logical name: status}, the good ones too.
    """

    def __init__(self, message: str, statuses: dict[str, str]) -> None:
        self.statuses = statuses
        super().__init__(message)


def _search_path() -> str:
    dirs = [d for d in os.environ.get("PATH", os.defpath).split(os.pathsep) if d]
    sbins = [str(Path(d).parent / "sbin") for d in dirs if Path(d).name == "bin"]
    return os.pathsep.join(dict.fromkeys(dirs + sbins))


def _which(program: str) -> str:
    found = shutil.which(program, path=_search_path())
    if found is None:
        package = DEBIAN_PACKAGES.get(program)
        hint = f"Debian package {package}" if package else "install it"
        raise CheckerNotFoundError(program, hint)
    return found


def bird1_binary() -> Path:
    """BIRD 1.6's binary: $NORNIR_ANYCAST_BIRD1, else <home>/.cache/bird1/usr/sbin/bird."""
    override = os.environ.get("NORNIR_ANYCAST_BIRD1")
    path = Path(override) if override else cache_dir() / BIRD1_RELATIVE
    if not path.is_file():
        raise CheckerNotFoundError(
            "BIRD 1.6",
            f"no {path}: unpack Debian 12's bird package there (`apt-get download bird && "
            f"dpkg -x bird_*.deb {cache_dir() / 'bird1'}`) or set NORNIR_ANYCAST_BIRD1")
    return path


def bird_version_of(argv: list[str]) -> str | None:
    """`bird --version`'s version (`3.1.8`) of the BIRD `argv` runs, None when it does not run."""
    try:
        proc = subprocess.run([*argv, "--version"], capture_output=True, text=True,
                              timeout=CHECK_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    m = re.search(r"BIRD version (\S+)", proc.stdout + proc.stderr)
    return m.group(1) if m else None


def root_program(root: Path, program: str) -> list[str] | None:
    """The argv that runs `program` (a path inside the Debian root `root`, such as
    `usr/sbin/bird`) from this machine with the root's own loader and libraries, or None when
    the root has no such program or no loader."""
    binary = root / program
    if not binary.is_file():
        return None
    loaders = [p for pattern in _LOADERS for p in sorted(root.glob(pattern))]
    if not loaders:
        return None
    libs = [str(d) for pattern in ("usr/lib/*-linux-gnu*", "lib/*-linux-gnu*")
            for d in sorted(root.glob(pattern)) if d.is_dir()]
    libs += [str(root / "usr/lib"), str(root / "lib")]
    return [str(loaders[0]), "--library-path", ":".join(dict.fromkeys(libs)), str(binary)]


def bird3_argv() -> list[str]:
    """How to run BIRD 3 here (see the module docstring: $NORNIR_ANYCAST_BIRD3, a BIRD 3 on
    $PATH, the root $NORNIR_ANYCAST_BIRD3_ROOT or the lab's image).

    Raises:
        CheckerNotFoundError: none of them is BIRD 3 (the hint says what was tried).
    """
    override = os.environ.get(BIRD3_ENV)
    if override:
        if not Path(override).is_file():
            raise CheckerNotFoundError("BIRD 3", f"{BIRD3_ENV}={override}: no such file")
        return [override]
    tried: list[str] = []
    on_path = shutil.which("bird", path=_search_path())
    if on_path is not None:
        version = bird_version_of([on_path])
        if version is not None and version.startswith("3."):
            return [on_path]
        tried.append(f"{on_path} is BIRD {version or '?'}")
    root = Path(os.environ.get(BIRD3_ROOT_ENV) or BIRD3_DEFAULT_ROOT)
    argv = root_program(root, "usr/sbin/bird")
    if argv is not None:
        return argv
    tried.append(f"no {root / 'usr/sbin/bird'}")
    raise CheckerNotFoundError(
        "BIRD 3", f"{'; '.join(tried)}: set {BIRD3_ENV} to a BIRD 3 binary or {BIRD3_ROOT_ENV} "
                  "to a Debian root with bird3 installed (the lab's debian13-bird3 image)")


def _run(argv: list[str], label: str, what: str) -> str:
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=CHECK_TIMEOUT_S,
                              check=False)
    except subprocess.TimeoutExpired as exc:
        raise CheckRejectedError(f"{label}: {what} timed out after {CHECK_TIMEOUT_S:.0f} s",
                                 f"{what} timed out") from exc
    output = (proc.stdout + proc.stderr).strip()
    if proc.returncode != 0:
        raise CheckRejectedError(
            f"{label}: rejected by {what} (exit {proc.returncode}): {output or 'no message'}",
            f"{what}, exit {proc.returncode}")
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


def check_bird3(text: str, label: str = "bird.conf") -> str:
    """BIRD 3's `bird -p -c FILE` (bird3_argv()); returns the checker's output (usually empty)."""
    bird = bird3_argv()
    return _with_file(text, ".conf", lambda p: _run([*bird, "-p", "-c", str(p)], label,
                                                    "BIRD 3 (bird -p)"))


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
    "bird3": Checker("bird", check_bird3, _target_bird),
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


def check_status(rendered: RenderedFile, label: str | None = None, *,
                 require: bool = False) -> str:
    """Check one file and say how it went, in the words of `render`'s `check` column.

    Returns:
        `checked`; `not checked: <program> not installed here` when the checker is missing
        and `require` is not set; `-` when the file has no checker (a web page).

    Raises:
        CheckRejectedError: the checker rejected the file (`.status`: `rejected (...)`).
        CheckerNotFoundError: the checker is missing and `require` is set.
    """
    try:
        ran = check_file(rendered, label)
    except CheckerNotFoundError as exc:
        if require:
            raise
        return exc.status
    return NO_CHECKER if ran is None else CHECKED


def check_files(files: dict[str, RenderedFile], host: str, *,
                require: bool = False) -> dict[str, str]:
    """check_status() of every file of one host, all of them even when one fails.

    Returns:
        {logical name: status} when nothing was rejected (and, with `require`, nothing missed).

    Raises:
        ChecksFailedError: one line per failed file, with every file's status attached.
    """
    statuses: dict[str, str] = {}
    errors: list[str] = []
    for name, f in files.items():
        try:
            statuses[name] = check_status(f, f"{host}: {name}", require=require)
        except CheckerNotFoundError as exc:
            statuses[name] = exc.status
            errors.append(f"{host}: {name}: {exc.status} ({exc.hint}) and checks are required")
        except CheckRejectedError as exc:
            statuses[name] = exc.status
            errors.append(str(exc))
    if errors:
        raise ChecksFailedError("\n".join(errors), statuses)
    return statuses
