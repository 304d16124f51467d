"""anycast-healthchecker 0.9.10 with BIRD 3.1, for real: a server made of the Debian 13 BIRD 3
root (BIRD 3.1.8, Python 3.13) runs the rendered bird.conf and anycast-healthchecker with its
rendered settings (`bird_reconfigure_cmd`: nornir_anycast.design.healthcheck's BIRD 3 wrapper),
facing an edge made of the same root running FRR 10.3 with its rendered frr.conf. The check
fails: the edge has no route to 10.13.13.1/32; it passes: the edge learns it; it fails again:
withdrawn; the event path's `disabled yes;` state file plus `birdc disable static_bgp` withdraws
and survives a `configure` on BIRD 3 as on BIRD 2. anycast-healthchecker logs every
reconfiguration as done, none as an error (without the wrapper BIRD 3's `Reconfiguration in
progress` is logged as "most likely we generated an invalid configuration": its issue #55, and
the first test shows BIRD 3's answer).

anycast-healthchecker runs on the root's own python3 (3.13): from the image's
/opt/anycast-healthchecker when it has one, else the same 0.9.10 package (pure Python, with
docopt, prometheus_client and python-json-logger) copied from this checkout's
.cache/healthchecker (scripts/install.sh), on PYTHONPATH.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from debian13 import Debian13Host, connect, require_root, root_argv
from designs import design_of, replace_host
from paths import ROOT

from nornir_anycast.design import healthcheck
from nornir_anycast.design.model import Design, HealthCheck, Paths
from nornir_anycast.render import render_host
from nornir_anycast.render.healthchecker import STATE_HEADER

pytestmark = pytest.mark.lab

HEALTHY = "/run/i12-service-healthy"
OPT = "/opt/anycast-healthchecker"
HOST_COPY = ROOT / ".cache" / "healthchecker"
PACKAGES = ("anycast_healthchecker", "docopt.py", "prometheus_client", "pythonjsonlogger")


def _design() -> Design:
    d = replace_host(design_of("inventory"), "edge", frr_version="10.3")
    d = replace_host(d, "server-1", bird_version=3, service_manager="systemd", lab=False,
                     paths=Paths(), healthcheck=HealthCheck(
                         enabled=True, command=f"test -e {HEALTHY}", interval=0.2, timeout=0.5,
                         rise=2, fall=2))
    return d


def _wait(what: str, cond: Callable[[], bool], timeout: float = 30.0) -> float:
    start = time.monotonic()
    while not cond():
        if time.monotonic() - start > timeout:
            pytest.fail(f"{what}: not after {timeout:.0f} s")
        time.sleep(0.2)
    return time.monotonic() - start


def _healthchecker_argv(host: Debian13Host) -> str:
    """How to start anycast-healthchecker 0.9.10 in `host` on its python3 (see the docstring)."""
    if host.path(f"{OPT}/bin/anycast-healthchecker").is_file():
        return f"{OPT}/bin/anycast-healthchecker"
    site = sorted(HOST_COPY.glob("lib/python3*/site-packages"))
    if not site or not (site[0] / "anycast_healthchecker").is_dir():
        pytest.skip(f"no anycast-healthchecker in the image ({OPT}) nor in {HOST_COPY} "
                    "(bash scripts/install.sh)")
    dest = host.path("/opt/ahc-src")
    dest.mkdir(parents=True)
    for name in PACKAGES:
        src = site[0] / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(src, dest / name)
    return ("env PYTHONPATH=/opt/ahc-src python3 -c "
            "'import sys; from anycast_healthchecker.main import main; sys.exit(main())'")


@pytest.fixture
def pair() -> Iterator[tuple[Debian13Host, Debian13Host, Design]]:
    root = require_root("debian13-bird3", "usr/sbin/bird")
    if not (root / "usr/bin/python3").is_file() or not (root / "usr/lib/frr/bgpd").is_file():
        pytest.skip(f"{root}: needs python3 and FRR beside BIRD 3")
    version = subprocess.run([*root_argv(root, "usr/sbin/bird"), "--version"],
                             capture_output=True, text=True, check=False)
    if "BIRD version 3." not in version.stdout + version.stderr:
        pytest.skip(f"{root}: its bird is not BIRD 3: {version.stderr.strip()}")
    d = _design()
    with Debian13Host(root, "server-1") as server, Debian13Host(root, "edge") as edge:
        connect(server, "eth0", edge, "eth1")
        edge.link("eth0")
        server.ip("addr", "add", "10.12.12.1/24", "dev", "eth0")
        server.ip("addr", "add", "10.13.13.1/32", "dev", "lo")
        edge.sysctl("net.ipv4.ip_forward", "1")
        yield server, edge, d


def _start_edge(edge: Debian13Host, d: Design) -> None:
    edge.path("/etc/frr/frr.conf").write_text(
        render_host(d.hosts["edge"], d)["frr.conf"].content)
    edge.run("mkdir -p /run/frr && chown frr:frr /run/frr")
    for daemon in ("mgmtd", "zebra", "bgpd", "staticd", "bfdd"):
        edge.start(f"exec /usr/lib/frr/{daemon} -F traditional")
        vty = edge.path(f"/run/frr/{daemon}.vty")
        _wait(f"FRR {daemon}", vty.exists)
    res = edge.run("vtysh -b", timeout=60)
    assert res.returncode == 0, res.stdout + res.stderr


def _write(server: Debian13Host, path: str, content: str) -> None:
    target = server.path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(content)


def _start_server(server: Debian13Host, d: Design) -> tuple[str, str]:
    """BIRD 3 with the rendered files; returns (anycast-healthchecker's start command, its
    log file inside the host)."""
    me = d.hosts["server-1"]
    files = render_host(me, d)
    for rendered in files.values():
        if rendered.path is not None and rendered.path.startswith(("/etc/bird", "/etc/any",
                                                                   "/var/lib")):
            _write(server, rendered.path, rendered.content)
    for path, content in files["bird.conf"].includes:
        _write(server, path, content)
    for d_ in ("/run/bird", healthcheck.pid_dir(me), str(Path(me.paths.healthchecker_log).parent)):
        server.run(f"mkdir -p {d_}")
    server.start(f"exec bird -f -c {me.paths.bird_conf} -s {me.paths.bird_ctl}")
    _wait("BIRD 3 control socket", lambda: server.path(me.paths.bird_ctl).exists())
    start = (f"exec {_healthchecker_argv(server)} -f {me.paths.healthchecker_conf} "
             f"-d {me.paths.healthchecker_dir}")
    return start, me.paths.healthchecker_log


def _edge_has_route(edge: Debian13Host) -> bool:
    out = edge.run("vtysh -c 'show ip bgp 10.13.13.1/32'").stdout
    return "10.12.12.1" in out and "Network not in table" not in out


def _session_up(edge: Debian13Host) -> bool:
    out = edge.run("vtysh -c 'show bgp neighbors 10.12.12.1 json'").stdout
    try:
        return bool(json.loads(out)["10.12.12.1"]["bgpState"] == "Established")
    except (ValueError, KeyError):
        return False


def test_bird3_configure_answer_is_what_anycast_healthchecker_misreads(
        pair: tuple[Debian13Host, Debian13Host, Design]) -> None:
    server, _, d = pair
    me = d.hosts["server-1"]
    _start_server(server, d)
    plain = server.run(f"birdc -s {me.paths.bird_ctl} configure")
    assert plain.returncode == 0
    assert "Reconfiguration in progress" in plain.stdout  # BIRD 3's answer, not `Reconfigured`
    assert not re.search(r"^Reconfigured$", plain.stdout, re.MULTILINE)
    wrapped = server.run(healthcheck.reconfigure_command(me))
    assert wrapped.returncode == 0, wrapped.stdout + wrapped.stderr
    assert re.search(r"^Reconfigured$", wrapped.stdout, re.MULTILINE)  # what 0.9.10 wants
    # A rejected configuration stays an error, with BIRD's own words and exit status.
    conf = server.path(me.paths.bird_conf)
    conf.write_text(conf.read_text() + "\nprotocol nosuch {\n")
    bad = server.run(healthcheck.reconfigure_command(me))
    assert bad.returncode != 0
    assert "syntax error" in bad.stdout and "Reconfigured" not in bad.stdout


def test_anycast_healthchecker_withdraws_and_announces_with_bird3(
        pair: tuple[Debian13Host, Debian13Host, Design]) -> None:
    server, edge, d = pair
    _start_edge(edge, d)
    start, log = _start_server(server, d)
    _wait("BGP session edge - server-1 (FRR 10.3 - BIRD 3.1)", lambda: _session_up(edge), 60)
    server.start(start)
    time.sleep(2)  # several failed checks: nothing announced while the service is down
    assert not _edge_has_route(edge)

    server.path(HEALTHY).touch()
    took = _wait("edge learns 10.13.13.1/32 after the check passes", lambda: _edge_has_route(edge))

    # The event path (design/healthcheck.py) with BIRD 3: the state file says `disabled yes;`,
    # `disable static_bgp` withdraws, and a `configure` in between keeps it withdrawn.
    me = d.hosts["server-1"]
    state = server.path(me.paths.service_state)
    ctl = me.paths.bird_ctl
    state.write_text(f"{STATE_HEADER}\ndisabled yes;\n")
    assert server.run(f"birdc -s {ctl} disable {healthcheck.WATCH_PROTOCOL}").returncode == 0
    _wait("edge loses 10.13.13.1/32 after disable static_bgp", lambda: not _edge_has_route(edge))
    res = server.run(healthcheck.reconfigure_command(me))
    assert "Reconfigured" in res.stdout, res.stdout + res.stderr
    time.sleep(1.5)
    assert not _edge_has_route(edge), "birdc configure re-enabled static_bgp on BIRD 3"
    state.write_text(f"{STATE_HEADER}\ndisabled no;\n")
    assert server.run(f"birdc -s {ctl} enable {healthcheck.WATCH_PROTOCOL}").returncode == 0
    _wait("edge learns 10.13.13.1/32 again after enable", lambda: _edge_has_route(edge))

    server.path(HEALTHY).unlink()
    gone = _wait("edge loses 10.13.13.1/32 after the check fails",
                 lambda: not _edge_has_route(edge))
    print(f"announced {took:.1f} s after healthy, withdrawn {gone:.1f} s after failing")

    text = server.path(log).read_text()
    assert text.count("reconfigured BIRD daemon") >= 2, text[-2000:]
    assert "returned error" not in text and "reconfiguring BIRD failed" not in text, text[-2000:]
