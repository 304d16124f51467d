"""Rendering: seed parity (golden files), the platforms' own checkers, determinism, errors.

The golden files under tests/golden/ are copied from the seed howto (each says where from).
The checkers are the real ones: bird2's and BIRD 1.6's `bird -p`, `nginx -t`, `vtysh -C`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from designs import design_of, replace_host
from nornir import InitNornir
from paths import GOLDEN, ROOT

from nornir_anycast.cli.main import main
from nornir_anycast.design.build import build_design
from nornir_anycast.design.model import Bfd, BgpTimers, HostModel, Neighbor
from nornir_anycast.exceptions import ConfigCheckError, InventoryError, TemplateError
from nornir_anycast.inventory.loader import load_nornir
from nornir_anycast.render import RenderedFile, render_host
from nornir_anycast.render.checkers import (
    check_bird1,
    check_bird2,
    check_file,
    check_frr,
    check_nginx,
)
from nornir_anycast.render.environment import render_template

INVENTORIES = ["inventory", "inventory/vyos-seed", "inventory/vyos-seed-dnat"]




def golden_lines(name: str) -> list[str]:
    """Non-empty, non-comment lines of a golden file, stripped."""
    return [ln.strip() for ln in (GOLDEN / name).read_text().splitlines()
            if ln.strip() and not ln.startswith("#")]


def content_lines(text: str) -> list[str]:
    return [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]


def is_subsequence(needle: list[str], haystack: list[str]) -> bool:
    it = iter(haystack)
    return all(any(h == n for h in it) for n in needle)




# ------------------------------------------------------------------ seed parity (golden files)

@pytest.mark.parametrize(("inventory", "host", "golden"), [
    ("inventory/vyos-seed", "isp", ["vyos-seed_isp.set"]),
    ("inventory/vyos-seed", "edge", ["vyos-seed_edge.set"]),
    ("inventory/vyos-seed-dnat", "isp", ["vyos-seed_isp.set"]),
    ("inventory/vyos-seed-dnat", "edge", ["vyos-seed_edge.set", "vyos-seed-dnat_edge.set"]),
])
def test_vyos_rendering_has_every_seed_set_line(inventory: str, host: str,
                                                golden: list[str]) -> None:
    d = design_of(inventory)
    rendered = set(render_host(d.hosts[host], d)["config.vyos"].content.splitlines())
    expected = [ln for g in golden for ln in golden_lines(g)]
    assert len(expected) >= 8
    missing = [ln for ln in expected if ln not in rendered]
    assert missing == []


def test_vyos_seed_without_dnat_has_no_dnat_lines() -> None:
    d = design_of("inventory/vyos-seed")
    rendered = set(render_host(d.hosts["edge"], d)["config.vyos"].content.splitlines())
    assert not rendered & set(golden_lines("vyos-seed-dnat_edge.set"))


def test_vyos_layer4_hashing_on_12_edge_only() -> None:
    d = design_of("inventory/vyos-seed")
    edge = render_host(d.hosts["edge"], d)["config.vyos"].content
    isp = render_host(d.hosts["isp"], d)["config.vyos"].content
    assert "set system ip multipath layer4-hashing" in edge.splitlines()
    assert "layer4-hashing" not in isp
    d11 = replace_host(d, "edge", os_version="1.1.7")
    assert "layer4-hashing" not in render_host(d11.hosts["edge"], d11)["config.vyos"].content


def test_vyos_unsupported_version_is_a_clear_error() -> None:
    d = replace_host(design_of("inventory/vyos-seed"), "edge", os_version="1.3")
    with pytest.raises(TemplateError, match=r"edge: os_version='1.3'"):
        render_host(d.hosts["edge"], d)


@pytest.mark.parametrize("host", ["server-1", "server-2"])
def test_bird1_rendering_is_the_seeds(host: str) -> None:
    d = design_of("inventory/vyos-seed")
    files = render_host(d.hosts[host], d)
    assert files["bird.conf"].path == "/etc/bird.conf"
    assert files["bird.conf"].checker == "bird1"
    assert is_subsequence(golden_lines("vyos-seed_server-1_bird.conf"),
                          content_lines(files["bird.conf"].content))


def test_alpine_interfaces_and_nginx_are_the_seeds() -> None:
    d = design_of("inventory/vyos-seed")
    files = render_host(d.hosts["server-1"], d)
    assert files["interfaces"].path == "/etc/network/interfaces"
    assert is_subsequence(golden_lines("vyos-seed_server-1_interfaces"),
                          content_lines(files["interfaces"].content))
    assert files["nginx-site.conf"].path == "/etc/nginx/conf.d/default.conf"
    assert is_subsequence(golden_lines("vyos-seed_server-1_default.conf"),
                          content_lines(files["nginx-site.conf"].content))
    # `echo server-1 > /tmp/file`
    assert files["page"].path == "/tmp/file"
    assert files["page"].content == "server-1\n"
    other = render_host(d.hosts["server-2"], d)
    assert other["page"].content == "server-2\n"
    assert "address 10.12.12.2" in content_lines(other["interfaces"].content)


def test_page_text_from_inventory() -> None:
    d = replace_host(design_of("inventory"), "server-2", page="backup")
    assert render_host(d.hosts["server-2"], d)["page"].content == "backup\n"


def test_bird1_local_pref_the_seeds_way() -> None:
    d = replace_host(design_of("inventory/vyos-seed"), "server-2", local_pref=50)
    text = render_host(d.hosts["server-2"], d)["bird.conf"].content
    assert "default bgp_local_pref 50;" in content_lines(text)
    check_bird1(text)


#: What a lab server (health-checked announcements on) gets besides BIRD and nginx.
HEALTHCHECKER_FILES = ["anycast-healthchecker.conf",
                       "anycast-healthchecker.d/anycast_10.13.13.1_32.conf",
                       "anycast-prefixes.conf"]
#: The event path on a lab server (nginx's exit withdraws at once): state file, watcher, settings.
WATCH_FILES = ["nginx-state.conf", "service-watch.json", "service_watch.py"]


def inlined(f: RenderedFile) -> str:
    """A rendered file's text with the files it includes (anycast-healthchecker's prefix set)
    written in place of their `include` lines, for the bare checkers."""
    text = f.content
    for path, content in f.includes:
        text = text.replace(f'include "{path}";', content)
    return text


# ------------------------------------------------------------------ which files, which host

def test_default_inventory_files_per_host() -> None:
    d = design_of("inventory")
    names = {h: sorted(render_host(d.hosts[h], d)) for h in d.hosts}
    assert names == {
        "isp": ["frr.conf"],
        "edge": ["frr.conf"],
        "server-1": sorted([*HEALTHCHECKER_FILES, *WATCH_FILES, "bird.conf", "nginx-site.conf",
                            "page"]),
        "server-2": sorted([*HEALTHCHECKER_FILES, *WATCH_FILES, "bird.conf", "nginx-site.conf",
                            "page"]),
        "client": [],
    }
    s1 = render_host(d.hosts["server-1"], d)
    assert s1["bird.conf"].path == "/etc/bird/bird.conf"
    assert s1["bird.conf"].checker == "bird2"
    assert s1["page"].path == "/var/www/anycast/file"
    assert "root /var/www/anycast;" in s1["nginx-site.conf"].content


def test_unsupported_platform_role_is_a_clear_error() -> None:
    d = design_of("inventory")
    odd = d.hosts["client"].model_copy(update={"platform": "vyos"})
    with pytest.raises(TemplateError, match="client: no templates for platform 'vyos'"):
        render_host(odd, d)


# ------------------------------------------------------------------ FRR meaning

def test_frr_refuses_what_it_cannot_render() -> None:
    d = replace_host(design_of("inventory"), "isp", dns_forwarding={"name_servers": ["8.8.8.8"]})
    with pytest.raises(TemplateError, match=r"^isp: dns_forwarding is set, but platform 'frr'"):
        render_host(d.hosts["isp"], d)


def test_frr_edge_policies() -> None:
    d = design_of("inventory")
    text = render_host(d.hosts["edge"], d)["frr.conf"].content
    lines = text.splitlines()
    # only the Design's anycast prefixes are accepted from the servers and sent to the ISP
    assert "ip prefix-list ANYCAST seq 5 permit 10.13.13.1/32" in lines
    for n, server in ((1, "10.12.12.1"), (2, "10.12.12.2")):
        # route safety: each server's session accepts only that server's own prefixes
        assert f"  neighbor {server} route-map SERVERS-IN-server-{n} in" in lines
        assert f"ip prefix-list ANYCAST-server-{n} seq 5 permit 10.13.13.1/32" in lines
        assert f"  neighbor {server} soft-reconfiguration inbound" in lines
        assert f"  neighbor {server} maximum-prefix 11 restart 1 force" in lines
    assert "maximum-prefix" not in text.split("172.16.42.2 route-map EBGP-IN", 1)[1]
    assert "  neighbor 172.16.42.2 route-map EBGP-IN in" in lines
    assert "  neighbor 172.16.42.2 route-map EBGP-OUT out" in lines
    out_block = text.split("route-map EBGP-OUT permit 10\n", 1)[1].split("exit", 1)[0]
    assert out_block.strip() == "match ip address prefix-list ANYCAST"
    assert "  maximum-paths ibgp 2" in lines
    assert " timers bgp 1 3" in lines
    assert " neighbor 10.12.12.1 timers connect 1" in lines
    assert "frr defaults traditional" in lines
    assert "service integrated-vtysh-config" in lines
    assert not any(ln.startswith("log syslog") for ln in lines)
    # BFD is on in the lab inventory (100 ms x 3): profile `anycast` on the server sessions only
    assert " neighbor 10.12.12.1 bfd profile anycast" in lines
    assert " neighbor 172.16.42.2 bfd" not in lines
    bfd_block = text.split("\nbfd\n", 1)[1].split("\nexit\n", 1)[0]
    assert bfd_block.split() == ["profile", "anycast", "transmit-interval", "100",
                                 "receive-interval", "100", "exit", "!"]


def test_frr_prefix_list_follows_the_design() -> None:
    d2 = replace_host(design_of("inventory"), "server-1",
                      anycast=["10.13.13.1/32", "10.13.13.2/32"],
                      loopback=["10.13.13.1/32", "10.13.13.2/32"])
    text = render_host(d2.hosts["edge"], d2)["frr.conf"].content
    assert "ip prefix-list ANYCAST seq 5 permit 10.13.13.1/32" in text
    assert "ip prefix-list ANYCAST seq 10 permit 10.13.13.2/32" in text
    check_frr(text)


def test_frr_isp_blackhole_default_and_policy() -> None:
    d = design_of("inventory")
    lines = render_host(d.hosts["isp"], d)["frr.conf"].content.splitlines()
    assert "ip route 0.0.0.0/0 blackhole" in lines
    assert "  network 0.0.0.0/0" in lines
    assert "  neighbor 172.16.42.3 route-map EBGP-IN in" in lines
    assert "  neighbor 172.16.42.3 route-map EBGP-OUT out" in lines
    assert "route-map EBGP-OUT permit 10" in lines


def test_frr_edge_with_inventory_route_map_out_sends_nothing() -> None:
    """The seed's AS65500-OUT (deny all) replaces the default export policy."""
    d = design_of("inventory")
    edge = d.hosts["edge"]
    nbs = [nb.model_copy(update={"route_map_out": "AS65500-OUT"})
           if nb.remote_as != edge.asn else nb for nb in edge.bgp.neighbors]
    d = replace_host(d, "edge", bgp=edge.bgp.model_copy(update={"neighbors": nbs}),
                     route_maps={"AS65500-OUT": [{"rule": 20, "action": "deny"}]})
    text = render_host(d.hosts["edge"], d)["frr.conf"].content
    assert "  neighbor 172.16.42.2 route-map AS65500-OUT out" in text
    assert "route-map AS65500-OUT deny 20" in text
    assert "EBGP-OUT" not in text
    check_frr(text)


def test_frr_edge_bfd_and_default_timers() -> None:
    d = design_of("inventory")
    d = replace_host(d, "edge", bfd=Bfd(enabled=True, interval_ms=100, multiplier=5),
                     bgp_timers=BgpTimers())
    text = render_host(d.hosts["edge"], d)["frr.conf"].content
    lines = text.splitlines()
    assert " neighbor 10.12.12.1 bfd profile anycast" in lines
    assert " neighbor 172.16.42.2 bfd" not in lines  # BFD to the servers only
    assert "  transmit-interval 100" in lines
    assert "  detect-multiplier 5" in lines
    # FRR's traditional defaults are left out, as show running-config leaves them out
    assert "timers bgp" not in text
    assert "timers connect" not in text
    check_frr(text)


# ------------------------------------------------------------------ BIRD 2 meaning

def test_bird2_preference_in_export_filter() -> None:
    d = replace_host(design_of("inventory"), "server-2", local_pref=50)
    text = inlined(render_host(d.hosts["server-2"], d)["bird.conf"])
    assert "bgp_local_pref = 50;" in text
    assert "default bgp_local_pref" not in text
    assert "route 10.13.13.1/32 reject;" in text
    assert "router id 10.12.12.2;" in text
    assert "import none;" in text
    check_bird2(text)


def test_bird2_timers_only_when_set() -> None:
    d = design_of("inventory")
    text = render_host(d.hosts["server-1"], d)["bird.conf"].content
    for line in ("hold time 3;", "keepalive time 1;", "connect retry time 1;",
                 "error wait time 1, 3;"):
        assert line in content_lines(text)
    d = replace_host(d, "server-1", bgp_timers=BgpTimers())
    assert "hold time" not in render_host(d.hosts["server-1"], d)["bird.conf"].content


@pytest.mark.parametrize("version", [1, 2])
def test_bird_bfd(version: int) -> None:
    d = replace_host(design_of("inventory"), "server-1", bird_version=version,
                     bfd=Bfd(enabled=True, interval_ms=50, multiplier=3))
    text = inlined(render_host(d.hosts["server-1"], d)["bird.conf"])
    lines = content_lines(text)
    assert 'interface "eth0" {' in lines
    assert "interval 50 ms;" in lines
    assert "bfd on;" in lines
    assert "direct;" in lines
    (check_bird2 if version == 2 else check_bird1)(text)


def test_bgp_password_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    d = design_of("inventory")
    s1 = d.hosts["server-1"]
    nbs = [Neighbor(address="10.12.12.254", remote_as=65500, password_env="NA_TEST_BGP_PW")]
    d = replace_host(d, "server-1", bgp=s1.bgp.model_copy(update={"neighbors": nbs}))
    monkeypatch.delenv("NA_TEST_BGP_PW", raising=False)
    with pytest.raises(InventoryError, match=r"server-1: bgp.neighbors.0.password_env="
                                             r"'NA_TEST_BGP_PW': environment variable"):
        render_host(d.hosts["server-1"], d)
    monkeypatch.setenv("NA_TEST_BGP_PW", "s3cret")
    text = inlined(render_host(d.hosts["server-1"], d)["bird.conf"])
    assert 'password "s3cret";' in text
    check_bird2(text)


# ------------------------------------------------------------------ every file passes its checker

@pytest.mark.parametrize("inventory", INVENTORIES)
def test_every_rendered_file_passes_its_checker(inventory: str) -> None:
    d = design_of(inventory)
    checked: dict[str, int] = {}
    for name, host in d.hosts.items():
        for logical, f in render_host(host, d).items():
            if f.checker is not None:
                assert check_file(f, f"{name}/{logical}") is not None
                checked[f.checker] = checked.get(f.checker, 0) + 1
    expected = ({"frr": 2, "bird2": 2, "nginx": 2} if inventory == "inventory"
                else {"bird1": 2, "nginx": 2})
    assert checked == expected


def test_checkers_reject_broken_files() -> None:
    d = design_of("inventory")
    s1 = render_host(d.hosts["server-1"], d)
    edge = render_host(d.hosts["edge"], d)
    seed = render_host(design_of("inventory/vyos-seed").hosts["server-1"], d)
    broken_bird = inlined(s1["bird.conf"]).replace("import none;", "import nothing;")
    with pytest.raises(ConfigCheckError, match=r"rejected by BIRD 2 .*syntax error"):
        check_bird2(broken_bird)
    # BIRD 2's syntax is not BIRD 1.6's, and the reverse (LAB-FACTS)
    with pytest.raises(ConfigCheckError, match=r"rejected by BIRD 1\.6"):
        check_bird1(inlined(s1["bird.conf"]))
    with pytest.raises(ConfigCheckError, match=r"rejected by BIRD 2"):
        check_bird2(seed["bird.conf"].content)
    with pytest.raises(ConfigCheckError, match=r"nginx -t .*unknown directive \"rooot\""):
        check_nginx(s1["nginx-site.conf"].content.replace("root ", "rooot "))
    with pytest.raises(ConfigCheckError, match=r"FRR \(vtysh -C\) \(exit 2\).*maximum-pathz"):
        check_frr(edge["frr.conf"].content.replace("maximum-paths", "maximum-pathz"))


# ------------------------------------------------------------------ determinism and errors

@pytest.mark.parametrize("inventory", INVENTORIES)
def test_rendering_is_deterministic(inventory: str) -> None:
    first = {n: render_host(h, d) for d in [design_of(inventory)] for n, h in d.hosts.items()}
    second = {n: render_host(h, d) for d in [design_of(inventory)] for n, h in d.hosts.items()}
    assert first == second
    assert sum(len(f) for f in first.values()) > 0
    for files in first.values():
        for f in files.values():
            assert f.content.endswith("\n") and not f.content.endswith("\n\n")


def test_missing_variable_raises_template_error_naming_host_and_template() -> None:
    d = design_of("inventory")
    host: HostModel = d.hosts["edge"]
    # the FRR template needs `neighbors`, `policies`, ...: StrictUndefined refuses to guess
    with pytest.raises(TemplateError, match=r"^edge: template frr/edge.conf.j2: .*undefined"):
        render_template("frr/edge.conf.j2", host, design=d)


def test_missing_template_raises_template_error() -> None:
    host = design_of("inventory").hosts["isp"]
    with pytest.raises(TemplateError, match=r"^isp: template frr/nope.j2: not found"):
        render_template("frr/nope.j2", host)


# ------------------------------------------------------------------ Nornir task and CLI

def test_render_config_task_writes_and_reports_changes(tmp_path: Path) -> None:
    from nornir_anycast.tasks.render_config import render_config

    nr = load_nornir(ROOT / "inventory")
    d = build_design(nr)
    out = tmp_path / "out"
    dry = nr.run(task=render_config, design=d, out_dir=out, dry_run=True)
    assert not dry.failed
    assert not dry["edge"][0].changed
    assert "+router bgp 65500" in dry["edge"][0].diff
    assert not out.exists()

    res = nr.run(task=render_config, design=d, out_dir=out, check=True, dry_run=False)
    assert not res.failed
    assert res["edge"][0].changed and not res["client"][0].changed
    rendered = next(r for r in res["edge"] if r.name == "template_file: frr.conf")
    assert (out / "edge" / "frr.conf").read_text() == rendered.result
    assert (out / "server-1" / "page").read_text() == "server-1\n"

    again = nr.run(task=render_config, design=d, out_dir=out, dry_run=False)
    assert not any(again[h][0].changed for h in again)
    assert all(again[h][0].diff == "" for h in again)


def test_render_config_task_fails_on_rejected_file(tmp_path: Path) -> None:
    from nornir_anycast.tasks.render_config import render_config

    nr = load_nornir(ROOT / "inventory")
    d = replace_host(build_design(nr), "server-1", router_id="10.12.12.300")
    res = nr.run(task=render_config, design=d, check=True)
    assert res["server-1"].failed
    assert isinstance(res["server-1"][0].exception, ConfigCheckError)
    assert "server-1: bird.conf: rejected by BIRD 2" in str(res["server-1"][0].exception)
    assert not res["server-2"].failed


def test_cli_render(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["render", "--inventory", str(ROOT / "inventory/vyos-seed-dnat"),
               "--out", str(tmp_path), "-g", "routers"])
    out = capsys.readouterr().out
    assert rc == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["edge", "isp"]
    text = (tmp_path / "edge" / "config.vyos").read_text()
    assert "set policy route-map AS65500-OUT rule 20 action 'deny'" in text
    assert "render ok: 2 hosts, 2 files" in out
    assert "vyos" in out and "config.vyos" in out


def test_cli_render_unknown_host_is_bad_input(tmp_path: Path) -> None:
    assert main(["render", "--out", str(tmp_path), "-H", "nosuch"]) == 2
    assert not any(tmp_path.iterdir())


def test_nornir_inventory_state_is_not_shared() -> None:
    # load_nornir builds a fresh Nornir each time; InitNornir keeps no global hosts
    a = load_nornir(ROOT / "inventory")
    b = InitNornir(inventory={"plugin": "SimpleInventory", "options": {
        "host_file": str(ROOT / "inventory/vyos-seed/hosts.yaml"),
        "group_file": str(ROOT / "inventory/vyos-seed/groups.yaml"),
        "defaults_file": str(ROOT / "inventory/vyos-seed/defaults.yaml")}},
        logging={"enabled": False})
    assert a.inventory.hosts["edge"].platform == "frr"
    assert b.inventory.hosts["edge"].platform == "vyos"
