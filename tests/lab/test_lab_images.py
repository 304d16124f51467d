"""The Debian 13 lab kind without root: image recipes, the mirror, the inventory's `lab_image`,
the container's command line and the SSH user per host (the lab tests boot them for real)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from paths import ROOT

from nornir_anycast.exceptions import InventoryError, LabError
from nornir_anycast.lab import containers, images, procs, sshconfig
from nornir_anycast.lab.prefix import lab_prefix
from nornir_anycast.lab.topology import LabHost, load_topology

DEBIAN13 = ROOT / "inventory" / "lab-debian13"
BIRD3 = ROOT / "inventory" / "lab-debian13-bird3"


def test_inventories_name_their_image_and_keep_the_seed_topology() -> None:
    seed = load_topology(ROOT / "inventory")
    for inventory, image in ((DEBIAN13, "debian13"), (BIRD3, "debian13-bird3")):
        topo = load_topology(inventory)
        assert {h.image for h in topo.hosts.values()} == {image}
        assert {h.user for h in topo.hosts.values()} == {"ops"}
        assert {n: (h.netns, h.role, h.interfaces) for n, h in topo.hosts.items()} == \
            {n: (h.netns, h.role, h.interfaces) for n, h in seed.hosts.items()}
        assert topo.segments == seed.segments
    assert {h.image for h in seed.hosts.values()} == {None}
    assert {h.user for h in seed.hosts.values()} == {"root"}


def test_an_unknown_image_is_named_with_host_field_and_value(tmp_path: Path) -> None:
    inv = tmp_path / "inv"
    shutil.copytree(DEBIAN13, inv)
    hosts = yaml.safe_load((inv / "hosts.yaml").read_text())
    hosts["server-2"]["data"]["lab_image"] = "debian99"
    (inv / "hosts.yaml").write_text(yaml.safe_dump(hosts))
    with pytest.raises(InventoryError) as exc:
        load_topology(inv)
    text = str(exc.value)
    assert "server-2" in text and "lab_image" in text and "debian99" in text
    assert "debian13-bird3" in text  # the images there are


@pytest.mark.parametrize(("sources", "expected"), [
    ("Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm\n"
     "\nTypes: deb\nURIs: http://security.example/debian-security\n", "http://mirror.example/debian"),
    ("deb [arch=amd64] http://ftp.example/debian/ bookworm main\n", "http://ftp.example/debian"),
    ("# nothing\n", images.DEFAULT_MIRROR),
])
def test_the_mirror_comes_from_the_machines_apt_sources(
        sources: str, expected: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    apt = tmp_path / "apt"
    (apt / "sources.list.d").mkdir(parents=True)
    (apt / "sources.list.d" / "debian.sources").write_text(sources)
    real_path = Path

    def fake(p: str | Path) -> Path:
        s = str(p)
        return real_path(s.replace("/etc/apt", str(apt))) if s.startswith("/etc/apt") else \
            real_path(s)
    monkeypatch.setattr(images, "Path", fake)
    monkeypatch.delenv(images.MIRROR_ENV, raising=False)
    assert images.debian_mirror() == expected
    monkeypatch.setenv(images.MIRROR_ENV, "http://override.example/debian/")
    assert images.debian_mirror() == "http://override.example/debian"


def test_a_changed_recipe_means_another_image(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(images.IMAGE_DIR_ENV, str(tmp_path))
    img = images.image("debian13")
    root = images.image_path("debian13")
    assert root == tmp_path / "debian13"
    assert not images.is_built("debian13")
    root.mkdir()
    (root / images.STAMP).write_text(json.dumps({"recipe_hash": img.recipe_hash()}))
    assert images.is_built("debian13")
    (root / images.STAMP).write_text('{"recipe_hash": "0000"}')
    assert not images.is_built("debian13")
    assert img.recipe_hash() != images.image("debian13-bird3").recipe_hash()
    assert "bird3" in images.image("debian13-bird3").install
    with pytest.raises(LabError, match="no lab image 'nope'"):
        images.image("nope")


def _host(image: str | None) -> LabHost:
    return LabHost(name="server-1", netns=f"{lab_prefix()}-server-1", role="server",
                   platform="linux", interfaces=("eth0",), image=image)


def test_the_container_boots_in_the_hosts_namespace_and_carries_the_lab_marker() -> None:
    host = _host("debian13")
    argv = containers.command(host)
    assert argv[0] == "systemd-nspawn" and "--boot" in argv
    assert f"--network-namespace-path=/run/netns/{host.netns}" in argv
    assert "--capability=all" in argv  # zebra: privs_init fails without
    assert "--resolv-conf=off" in argv  # no DNS of this machine inside the lab
    tail = argv[argv.index("--") + 1:]
    assert tail == [procs.INIT_MARKER, host.netns, str(containers.spec_file(host))]
    assert containers.spec_file(host).name == "init.json"  # procs.init_lab_dir reads it
    assert containers.units_wanted(host) == ("ssh.service",)
    router = LabHost(name="edge", netns="x-edge", role="edge", platform="frr",
                     interfaces=(), image="debian13")
    assert containers.units_wanted(router) == ("ssh.service", "frr.service")


def test_image_hosts_log_in_as_ops_in_the_ssh_config(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NORNIR_ANYCAST_HOME", str(tmp_path))
    hosts = [_host("debian13"), LabHost(name="client", netns=f"{lab_prefix()}-client",
                                        role="client", platform="linux", interfaces=())]
    for h in hosts:
        key = sshconfig.host_key_file(h)
        key.parent.mkdir(parents=True)
        key.with_suffix(".pub").write_text(f"ssh-ed25519 AAAA{h.name} root@{h.name}\n")
    sshconfig.write_client_files(hosts)
    text = sshconfig.ssh_config_file().read_text()
    specific = text.index(f"Host {hosts[0].netns}\n    User ops")
    assert specific < text.index(f"Host {lab_prefix()}-*")  # ssh takes the first match
    assert f"Host {hosts[1].netns}\n" not in text  # the namespace kind stays root
    known = sshconfig.known_hosts_file().read_text().splitlines()
    assert known == [f"{h.netns} ssh-ed25519 AAAA{h.name}" for h in hosts]
