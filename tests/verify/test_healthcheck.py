"""Health-checked announcements and drain, without a lab: rendering (checked with BIRD 2's and
BIRD 1.6's own parsers, anycast-healthchecker's own configuration check), validation of the new
inventory keys, the server_health check and drained servers in verify's expectations.

`tests/captures/healthchecker/anycast-prefixes.*.conf` are the include files the real
anycast-healthchecker 0.9.10 wrote on server-1 of the lab (`python3 tasks.py lab exec server-1
-- cat /etc/bird/anycast-prefixes.conf`), with nginx running (healthy) and after
`nginx -s quit` (withdrawn).
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from designs import design_of, replace_host
from paths import CAPTURES as CAPTURES_ROOT
from paths import ROOT

from nornir_anycast.design import healthcheck
from nornir_anycast.design.build import build_design, with_drained
from nornir_anycast.design.model import HealthCheck
from nornir_anycast.design.validation import validate
from nornir_anycast.device import drain_marker as drain_state
from nornir_anycast.exceptions import ConfigCheckError, InventoryError, Problem
from nornir_anycast.inventory.loader import load_nornir
from nornir_anycast.render import RenderedFile, render_host
from nornir_anycast.render.checkers import check_file
from nornir_anycast.verify.checks.edge import check_edge_kernel
from nornir_anycast.verify.checks.health import check_server_health
from nornir_anycast.verify.checks.sessions import check_server_sessions

CAPTURES = CAPTURES_ROOT / "healthchecker"
HEALTHY = (CAPTURES / "anycast-prefixes.healthy.conf").read_text()
WITHDRAWN = (CAPTURES / "anycast-prefixes.withdrawn.conf").read_text()






def with_include(f: RenderedFile, include: str) -> RenderedFile:
    """The file checked against another include text (what the healthchecker wrote); other
    includes (the event path's state file) as rendered."""
    return RenderedFile(f.path, f.content, f.checker,
                        includes=tuple((p, include if p.endswith("anycast-prefixes.conf") else c)
                                       for p, c in f.includes))


# ------------------------------------------------------------------ rendering

def test_lab_server_gets_the_healthchecker_files() -> None:
    d = design_of()
    files = render_host(d.hosts["server-2"], d)
    daemon = files["anycast-healthchecker.conf"]
    assert daemon.path == "/etc/bird/anycast-healthchecker.conf"
    lines = daemon.content.splitlines()
    assert "bird_conf = /etc/bird/anycast-prefixes.conf" in lines
    assert "bird_variable = ACAST_PS_ADVERTISE" in lines
    # it reconfigures OUR BIRD, through our control socket (not `sudo birdc configure`)
    assert "bird_reconfigure_cmd = birdc -s /run/bird/bird.ctl configure" in lines
    check = files["anycast-healthchecker.d/anycast_10.13.13.1_32.conf"]
    assert check.path == "/etc/bird/anycast-healthchecker.d/anycast_10.13.13.1_32.conf"
    clines = check.content.splitlines()
    for line in ("[anycast_10.13.13.1_32]", "ip_prefix = 10.13.13.1/32", "check_interval = 0.5",
                 "check_rise = 2", "check_fail = 2", "check_timeout = 0.4",
                 "ip_check_disabled = false", "on_disabled = withdraw"):
        assert line in clines
    assert ("check_cmd = curl --fail --silent --show-error --output /dev/null --max-time 0.4 "
            "http://10.13.13.1/file") in clines
    include = files["anycast-prefixes.conf"]
    assert include.create_only and include.path == "/etc/bird/anycast-prefixes.conf"
    assert healthcheck.parse_include(include.content) == ("ACAST_PS_ADVERTISE",
                                                         ["10.189.200.255/32"])
    bird = files["bird.conf"]
    assert 'include "/etc/bird/anycast-prefixes.conf";' in bird.content
    assert 'if proto = "static_bgp" && net ~ ACAST_PS_ADVERTISE then {' in bird.content
    state = files["nginx-state.conf"]  # the event path (tests/render/test_event_path.py)
    assert bird.includes == (("/etc/bird/anycast-prefixes.conf", include.content),
                             ("/etc/bird/nornir-anycast-nginx-state.conf", state.content))


def test_binary_relative_to_the_project_root_for_lab_hosts() -> None:
    d = design_of()
    text = render_host(d.hosts["server-1"], d)["anycast-healthchecker.conf"].content
    assert f"# Started as: {ROOT}/.cache/healthchecker/bin/anycast-healthchecker -f" in text


def test_without_healthcheck_bird_conf_is_as_before() -> None:
    d = design_of()
    d = replace_host(d, "server-1", healthcheck=HealthCheck(enabled=False))
    files = render_host(d.hosts["server-1"], d)
    assert sorted(files) == ["bird.conf", "nginx-site.conf", "page"]
    assert "include" not in files["bird.conf"].content
    assert 'if proto = "static_bgp" then {' in files["bird.conf"].content


def test_per_prefix_overrides_and_seed_loopback() -> None:
    d = design_of()
    s1 = d.hosts["server-1"]
    d = replace_host(d, "server-1", loopback=["10.13.13.1/24"], anycast=[
        {"prefix": "10.13.13.1/32",
         "healthcheck": {"command": "/usr/local/bin/check-web 50%", "rise": 3,
                         "interval": 2}}])
    assert s1.healthcheck.interval == 0.5
    check = render_host(d.hosts["server-1"], d)[
        "anycast-healthchecker.d/anycast_10.13.13.1_32.conf"].content.splitlines()
    assert "check_cmd = /usr/local/bin/check-web 50%%" in check  # configparser interpolation
    assert "check_rise = 3" in check and "check_interval = 2.0" in check
    assert "check_fail = 2" in check  # not overridden: the server's
    # the seed holds 10.13.13.1/24 on lo: the healthchecker's own `ip addr` test would fail
    assert "ip_check_disabled = true" in check


@pytest.mark.parametrize("drain", [None, "lowered", "withdrawn"])
@pytest.mark.parametrize("version", [1, 2])
def test_bird_accepts_the_config_with_the_include(version: int, drain: str | None) -> None:
    d = replace_host(design_of(), "server-2", bird_version=version)
    bird = render_host(d.hosts["server-2"], d, drain=drain)["bird.conf"]
    assert bird.checker == f"bird{version}"
    assert check_file(bird) is not None  # the initial include (dummy prefix only)
    assert check_file(with_include(bird, HEALTHY)) is not None  # as the healthchecker writes it
    assert check_file(with_include(bird, WITHDRAWN)) is not None


def test_bird_rejects_a_broken_include() -> None:
    d = design_of()
    bird = render_host(d.hosts["server-2"], d)["bird.conf"]
    with pytest.raises(ConfigCheckError, match="BIRD 2"):
        check_file(with_include(bird, HEALTHY.replace("ACAST_PS_ADVERTISE", "OTHER_NAME")))


def test_drain_phases_in_the_export_filter() -> None:
    d = design_of()
    lowered = render_host(d.hosts["server-2"], d, drain="lowered")["bird.conf"].content
    assert "bgp_community.add((65535, 0));" in lowered
    assert "bgp_local_pref = 0;" in lowered and "bgp_local_pref = 100;" not in lowered
    withdrawn = render_host(d.hosts["server-2"], d, drain="withdrawn")["bird.conf"].content
    export = withdrawn.split("export filter {", 1)[1].split("};", 1)[0]
    assert "accept" not in export and "reject;" in export
    # the session's own settings are identical in every phase: only the filter changes
    normal = render_host(d.hosts["server-2"], d)["bird.conf"].content
    for text in (lowered, withdrawn):
        assert text.split("ipv4 {")[0] == normal.split("ipv4 {")[0]


def test_healthchecker_accepts_its_rendered_config(tmp_path: Path) -> None:
    """anycast-healthchecker's own sanity check (`-c`) on the rendered files, paths moved under
    tmp_path (it creates its include and checks the pid directory)."""
    exe = ROOT / ".cache" / "healthchecker" / "bin" / "anycast-healthchecker"
    if not exe.exists():
        pytest.skip("run scripts/install.sh (it installs anycast-healthchecker under .cache/)")
    d = design_of()
    me = d.hosts["server-2"]
    paths = {k: str(tmp_path / Path(v).name) for k, v in me.paths.model_dump().items()
             if k.startswith("healthchecker_")}
    paths["healthchecker_dir"] = str(tmp_path / "checks")
    d = replace_host(d, "server-2", paths={**me.paths.model_dump(), **paths})
    files = render_host(d.hosts["server-2"], d)
    for f in files.values():
        if f.path and f.path.startswith(str(tmp_path)):
            Path(f.path).parent.mkdir(parents=True, exist_ok=True)
            Path(f.path).write_text(f.content)
    proc = subprocess.run([str(exe), "-c", "-f", paths["healthchecker_conf"],
                           "-d", paths["healthchecker_dir"]], capture_output=True, text=True,
                          timeout=60, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "OK" in proc.stdout
    bad = Path(paths["healthchecker_dir"]) / "anycast_10.13.13.1_32.conf"
    bad.write_text(bad.read_text().replace("on_disabled = withdraw", "on_disabled = maybe"))
    proc = subprocess.run([str(exe), "-c", "-f", paths["healthchecker_conf"],
                           "-d", paths["healthchecker_dir"]], capture_output=True, text=True,
                          timeout=60, check=False)
    assert proc.returncode != 0 and "on_disabled" in proc.stderr


# ------------------------------------------------------------------ validation

def problems(mutate: Any, inventory: str = "inventory") -> list[Problem]:
    nr = load_nornir(ROOT / inventory)
    mutate({name: host.data for name, host in nr.inventory.hosts.items()})
    try:
        design = build_design(nr)
    except InventoryError as exc:
        return exc.problems
    return [p for p in validate(design) if p.severity == "error"]


def one(found: list[Problem], host: str, field: str, *words: str) -> Problem:
    listing = "; ".join(map(str, found)) or "no problems"
    hit = [p for p in found if p.host == host and p.field == field
           and all(w in p.message for w in words)]
    assert len(hit) == 1, f"{host} {field} {words}: {listing}"
    return hit[0]


def hc(**kw: Any) -> dict[str, Any]:
    return {"enabled": True, "binary": "/usr/local/bin/anycast-healthchecker", **kw}


@pytest.mark.parametrize(("settings", "field", "value", "words"), [
    ({"interval": 0}, "healthcheck.interval", 0, ("more than 0",)),
    ({"timeout": -1}, "healthcheck.timeout", -1, ("more than 0",)),
    ({"rise": 0}, "healthcheck.rise", 0, ("at least 1",)),
    ({"url": "ftp://x/"}, "healthcheck.url", "ftp://x/", ("http://",)),
    ({"command": "curl\nreboot"}, "healthcheck.command", "curl\nreboot", ("one line",)),
    ({"variable": "1BAD"}, "healthcheck.variable", "1BAD", ("BIRD name",)),
    ({"dummy_prefix": "10.13.13.1/32"}, "healthcheck.dummy_prefix", "10.13.13.1/32",
     ("used nowhere",)),
    ({"dummy_prefix": "bogus"}, "healthcheck.dummy_prefix", "bogus", ("IPv4 prefix",)),
])
def test_bad_healthcheck_settings(settings: dict[str, Any], field: str, value: object,
                                  words: tuple[str, ...]) -> None:
    def mutate(data: dict[str, Any]) -> None:
        data["server-1"]["healthcheck"] = hc(**settings)

    p = one(problems(mutate), "server-1", field, *words)
    assert p.value == value


def test_relative_binary_only_on_lab_hosts() -> None:
    """A relative binary means this machine's project root: only the namespace lab
    (`service_manager: lab`) shares that filesystem; a `lab: true` host run by systemd (a
    Debian container) takes the real-host rule."""
    def mutate(data: dict[str, Any]) -> None:
        data["server-1"]["healthcheck"] = hc(binary="bin/anycast-healthchecker")
        data["server-1"]["lab"] = False
        data["server-1"]["service_manager"] = "systemd"

    one(problems(mutate), "server-1", "healthcheck.binary", "absolute path")

    def container(data: dict[str, Any]) -> None:
        data["server-1"]["healthcheck"] = hc(binary="bin/anycast-healthchecker")
        data["server-1"]["service_manager"] = "systemd"  # lab: true stays

    one(problems(container), "server-1", "healthcheck.binary", "absolute path")
    assert not problems(lambda data: data["server-1"].update(
        healthcheck=hc(binary=".cache/healthchecker/bin/anycast-healthchecker")))


def test_healthcheck_only_on_servers_and_ipv6_needs_its_session() -> None:
    def mutate(data: dict[str, Any]) -> None:
        data["edge"]["healthcheck"] = hc()

    one(problems(mutate), "edge", "healthcheck.enabled", "only servers")

    # IPv6 prefixes are health-checked too (anycast-healthchecker's bird6 side, docs/ipv6.md);
    # what is wrong here is the missing IPv6 session that would carry the /128.
    def v6(data: dict[str, Any]) -> None:
        data["server-1"]["loopback"] = ["10.13.13.1/32", "2001:db8:13::1/128"]
        data["server-1"]["anycast"] = ["10.13.13.1/32", "2001:db8:13::1/128"]

    found = problems(v6)
    one(found, "server-1", "anycast.1.prefix", "no IPv6 BGP neighbor that is an edge")
    assert not [p for p in found if "IPv4 only" in p.message]


def test_per_prefix_override_checked_and_typo_named() -> None:
    def mutate(data: dict[str, Any]) -> None:
        data["server-2"]["anycast"] = [{"prefix": "10.13.13.1/32",
                                        "healthcheck": {"fall": 0}}]

    one(problems(mutate), "server-2", "anycast.0.healthcheck.fall", "at least 1")

    def typo(data: dict[str, Any]) -> None:
        data["server-2"]["healthcheck"] = {"enabled": True, "intervall": 1}

    p = one(problems(typo), "server-2", "healthcheck.intervall", "unknown key")
    assert "did you mean 'interval'" in p.message


# ------------------------------------------------------------------ verify's view

def test_parse_include_of_the_real_files() -> None:
    assert healthcheck.parse_include(HEALTHY) == ("ACAST_PS_ADVERTISE",
                                                  ["10.189.200.255/32", "10.13.13.1/32"])
    assert healthcheck.parse_include(WITHDRAWN) == ("ACAST_PS_ADVERTISE", ["10.189.200.255/32"])


def test_server_health_check() -> None:
    d = design_of()
    s2 = d.hosts["server-2"]
    ok = check_server_health(s2, d, running=True, pid=42, include=HEALTHY)
    assert ok.passed and ok.actual["announcing"] == ["10.13.13.1/32"]
    bad = check_server_health(s2, d, running=True, pid=42, include=WITHDRAWN)
    assert not bad.passed
    assert "withdrew 10.13.13.1/32" in bad.message and "http://10.13.13.1/file" in bad.message
    down = check_server_health(s2, d, running=False, pid=None, include=HEALTHY)
    assert not down.passed and "not running" in down.message
    missing = check_server_health(s2, d, running=True, pid=1, include=None)
    assert not missing.passed and "missing" in missing.message
    drained = with_drained(d, {"server-2"})
    report = check_server_health(s2, drained, running=True, pid=42, include=WITHDRAWN)
    assert report.passed and report.message.startswith("drained")


def test_server_health_with_the_event_path() -> None:
    d = design_of()
    s2 = d.hosts["server-2"]
    up = "# nornir_anycast service state: disabled yes while the service is down\ndisabled no;\n"
    ok = check_server_health(s2, d, running=True, pid=42, include=HEALTHY, watch=(True, up))
    assert ok.passed and ok.actual["event_path"] == {"running": True, "service_down": False}
    # nginx died a moment ago: the event path withdrew at once, the healthchecker not yet
    down = check_server_health(s2, d, running=True, pid=42, include=HEALTHY,
                               watch=(True, up.replace("disabled no;", "disabled yes;")))
    assert not down.passed and down.actual["event_path"]["service_down"]
    assert down.message == ("nginx is down: the event path withdrew 10.13.13.1/32 "
                            "(/etc/bird/nornir-anycast-nginx-state.conf says disabled yes)")
    stopped = check_server_health(s2, d, running=True, pid=42, include=HEALTHY,
                                  watch=(False, up))
    assert not stopped.passed and "event path that follows nginx is not running" in \
        stopped.message
    both = check_server_health(s2, d, running=True, pid=42, include=WITHDRAWN,
                               watch=(True, up.replace("disabled no;", "disabled yes;")))
    assert "withdrew 10.13.13.1/32 (its check fails" in both.message and "nginx is down" in \
        both.message


def test_drained_server_out_of_the_ecmp_set() -> None:
    d = with_drained(design_of(), {"server-2"})
    svc = d.services[0]
    assert [p.host for p in svc.ecmp] == ["server-1"]
    assert [p.host for p in svc.drained] == ["server-2"] and not svc.backups
    edge = d.hosts["edge"]
    good = check_edge_kernel(svc, edge, {"routes": [
        {"prefix": "10.13.13.1/32", "next_hops": [{"via": "10.12.12.1"}]}]})
    assert good.passed and "server-2 drained" in good.message
    still = check_edge_kernel(svc, edge, {"routes": [
        {"prefix": "10.13.13.1/32", "next_hops": [{"via": "10.12.12.1"},
                                                  {"via": "10.12.12.2"}]}]})
    assert not still.passed and "unexpected 10.12.12.2 (server-2, drained)" in still.message
    protocols = {"protocols": [{"name": "edge", "proto": "BGP", "bgp_state": "Established",
                                "neighbor_address": "10.12.12.254", "since": "16:46:53.965",
                                "routes": {"exported": 1}}]}
    out = {c.name: c for c in check_server_sessions(d.hosts["server-2"], d, protocols)}
    assert out["server_bgp_session"].actual["since"] == "16:46:53.965"
    assert not out["server_exports_anycast"].passed  # drained but still exporting
    protocols["protocols"][0]["routes"] = {"exported": 0}
    out = {c.name: c for c in check_server_sessions(d.hosts["server-2"], d, protocols)}
    assert out["server_exports_anycast"].passed
    assert out["server_exports_anycast"].message == "drained: exports nothing to edge"


def test_drain_marker_round_trip() -> None:
    state = drain_state.parse_marker(drain_state.marker_text("lowered", since="2026-01-01T00:00"))
    assert state.phase == "lowered" and state.since == "2026-01-01T00:00"
    assert state.by and "@" in state.by
    assert drain_state.parse_marker("garbage").phase == "withdrawn"  # any marker: drained
    with pytest.raises(ValueError, match="drain phase"):
        drain_state.marker_text("half")
