"""Platform rules: what each role needs, platform/os fit, text that reaches configuration files,
and what the templates can render."""

from __future__ import annotations

import re

from nornir_anycast.design.model import Design, HostModel
from nornir_anycast.design.validation.common import (
    CONTROL_CHARS,
    ENV_NAME,
    ROUTERS,
    Report,
    address_owners,
    interface_ips,
    parse_address,
    parse_network,
    with_article,
)
from nornir_anycast.design.vyos import (
    VYOS_RELEASES,
    dns_allow_from,
    dns_listen_addresses,
    vyos_release,
    vyos_syntax,
)


def rule_role_fields(design: Design, r: Report) -> None:
    """Fields each role needs: servers asn/anycast/an edge neighbor, routers asn/router_id, ..."""
    owners = address_owners(design)
    for h in design.hosts.values():
        if h.role in ("server", *ROUTERS) and h.asn is None:
            r.error(h.name, "asn", None, f"{with_article(h.role)} needs an AS number")
        if h.role in ROUTERS and h.router_id is None:
            r.error(h.name, "router_id", None, f"{with_article(h.role)} router needs a router id")
        if h.role == "edge" and h.bgp.maximum_paths_ibgp is None:
            r.error(h.name, "bgp.maximum_paths_ibgp", None,
                    "the edge needs maximum_paths_ibgp (the seed uses 2) to spread traffic")
        if h.role == "server":
            if not h.anycast:
                r.error(h.name, "anycast", [], "a server needs at least one anycast prefix")
            edges = [
                nb.address for nb in h.bgp.neighbors
                if (ip := parse_address(nb.address)) is not None
                and any(design.hosts[o].role == "edge" for o in owners.get(ip, []))
            ]
            if not edges:
                r.error(h.name, "bgp.neighbors",
                        [nb.address for nb in h.bgp.neighbors],
                        "a server needs a BGP neighbor that is an address of an edge router")
        if h.role == "client" and not interface_ips(h):
            r.error(h.name, "interfaces", [i.name for i in h.interfaces],
                    "a client needs at least one interface address")


_VYOS_VERSION = re.compile(r"^\d+\.\d+(\.\d+)?")


def rule_platform(design: Design, r: Report) -> None:
    """Platform, os and role fit: servers run BIRD on Linux, routers FRR or VyOS, ...; how
    privileged commands run (`privilege`, the sudo password's variable or file)."""
    for h in design.hosts.values():
        if h.role == "server" and h.platform != "linux":
            r.error(h.name, "platform", h.platform,
                    "servers run BIRD on Linux: platform must be linux")
        if h.role in ROUTERS and h.platform not in ("frr", "vyos"):
            r.error(h.name, "platform", h.platform,
                    f"{with_article(h.role)} router is configured as frr or vyos")
        if h.platform == "vyos":
            if h.os not in (None, "vyos"):
                r.error(h.name, "os", h.os, "platform vyos runs os vyos")
            if h.os_version is None or not _VYOS_VERSION.match(h.os_version):
                r.error(h.name, "os_version", h.os_version,
                        "VyOS hosts need os_version such as '1.1.7' or '1.2' (it selects the "
                        f"syntax; VyOS {VYOS_RELEASES} are rendered)")
        elif h.os == "vyos":
            r.error(h.name, "os", h.os, f"os vyos needs platform vyos (platform is {h.platform})")
        _privilege(h, r)


def _privilege(h: HostModel, r: Report) -> None:
    """`privilege: sudo` is for Linux hosts (FRR routers, servers, clients), and a sudo password
    comes from one place: the NAME of an environment variable or the path of a file."""
    if h.privilege == "sudo" and h.platform == "vyos":
        r.error(h.name, "privilege", h.privilege,
                "VyOS is configured through its own CLI as its login user; privilege: sudo is "
                "for Linux and FRR hosts")
    env, file = h.sudo_password_env, h.sudo_password_file
    if env is not None and not ENV_NAME.match(env):
        r.error(h.name, "sudo_password_env", "(hidden)",
                "must be the NAME of an environment variable holding the sudo password "
                "(letters, digits, _), not the password itself")
    if file is not None and (not file.strip() or CONTROL_CHARS.search(file)):
        r.error(h.name, "sudo_password_file", "(hidden)",
                "must be the path of a file holding the sudo password")
    if env is not None and file is not None:
        r.error(h.name, "sudo_password_file", file,
                "give sudo_password_env or sudo_password_file, not both")
    if (env is not None or file is not None) and h.privilege != "sudo":
        field = "sudo_password_env" if env is not None else "sudo_password_file"
        r.error(h.name, field, env if env is not None and ENV_NAME.match(env) else "(hidden)",
                f"a sudo password is set but privilege is {h.privilege!r}: set "
                "privilege: sudo, or remove it")


#: Host, interface and route-map names go into configs and shell commands as single words.
_HOST_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
_IFNAME = re.compile(r"^[A-Za-z0-9_.-]{1,15}$")  # Linux IFNAMSIZ - 1
_ROUTE_MAP_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,63}$")


def _one_line(r: Report, host: str, field: str, text: str | None) -> None:
    """Free text written into a config line: no control characters (a newline would start a
    configuration line of its own), no double quote (BIRD quotes descriptions)."""
    if text is None:
        return
    if CONTROL_CHARS.search(text):
        r.error(host, field, text, "must be one line of text without control characters "
                                   "(a newline would inject a line into the configuration)")
    elif '"' in text:
        r.error(host, field, text, 'must not contain a double quote (")')


def rule_text_fields(design: Design, r: Report) -> None:
    """Names and free text that end up in configuration files cannot break out of their line."""
    for h in design.hosts.values():
        if not _HOST_NAME.match(h.name):
            r.error(h.name, "name", h.name,
                    "host names are written into configs: letters, digits, '-', '_', '.' "
                    "(at most 63, starting with a letter or digit)")
        for i, itf in enumerate(h.interfaces):
            if not _IFNAME.match(itf.name):
                r.error(h.name, f"interfaces.{i}.name", itf.name,
                        "not an interface name: 1..15 letters, digits, '-', '_', '.'")
            _one_line(r, h.name, f"interfaces.{i}.description", itf.description)
        for n, nb in enumerate(h.bgp.neighbors):
            _one_line(r, h.name, f"bgp.neighbors.{n}.description", nb.description)
        for k, d in enumerate(h.nat.destination):
            _one_line(r, h.name, f"nat.destination.{k}.description", d.description)
        for name in h.route_maps:
            if not _ROUTE_MAP_NAME.match(name):
                r.error(h.name, f"route_maps.{name}", name,
                        "route-map names are 1..63 letters, digits, '-', '_', '.'")
        for key, path in h.paths.model_dump().items():
            for k, one in enumerate(path if isinstance(path, list) else [path]):
                field = f"paths.{key}" + (f".{k}" if isinstance(path, list) else "")
                if not str(one).startswith("/") or CONTROL_CHARS.search(str(one)):
                    r.error(h.name, field, one,
                            "must be an absolute path (/...) without control characters")


def rule_renderable(design: Design, r: Report) -> None:
    """What the templates can render, so that render and deploy never refuse a valid inventory.

    VyOS: the `set` syntax of 1.1, 1.2, 1.4 and 1.5 (nornir_anycast.design.vyos); BFD from 1.2
    on; DNS forwarding's `listen_addresses` / `allow_from` from 1.2 on, and on 1.4+ at least one
    of each (given, or from the `listen_on` interfaces). FRR (Linux) routers: NAT in an nftables
    `ip` table (IPv4), no DNS forwarding.
    """
    for h in design.hosts.values():
        if h.platform == "vyos":
            _vyos_renderable(h, r)
        if h.platform != "frr":
            continue
        if h.dns_forwarding is not None:
            r.error(h.name, "dns_forwarding", h.dns_forwarding.model_dump(),
                    "platform frr renders no DNS forwarding (only VyOS routers do); remove it")
        nat_fields = [
            *((f"nat.destination.{k}.destination_address", d.destination_address)
              for k, d in enumerate(h.nat.destination)),
            *((f"nat.destination.{k}.translation_address", d.translation_address)
              for k, d in enumerate(h.nat.destination)),
            *((f"nat.source.{k}.translation", s.translation)
              for k, s in enumerate(h.nat.source) if s.translation != "masquerade"),
        ]
        for field, text in nat_fields:
            ip = parse_address(text)
            if ip is not None and ip.version != 4:
                r.error(h.name, field, text,
                        "NAT on platform frr is an nftables `ip` table: IPv4 only")
        for k, s in enumerate(h.nat.source):
            net = parse_network(s.source_address, strict=False) or parse_address(
                s.source_address)
            if net is not None and net.version != 4:
                r.error(h.name, f"nat.source.{k}.source_address", s.source_address,
                        "NAT on platform frr is an nftables `ip` table: IPv4 only")


def _vyos_renderable(h: HostModel, r: Report) -> None:
    """One VyOS host: a rendered release, and nothing its release lacks."""
    release = vyos_release(h.os_version)
    if release is None:
        return  # rule_platform names a missing or malformed os_version
    syntax = vyos_syntax(h.os_version)
    if syntax is None:
        r.error(h.name, "os_version", h.os_version,
                f"the VyOS templates write the syntax of VyOS {VYOS_RELEASES} only")
        return
    if syntax == "1.1" and h.bfd.enabled:
        r.error(h.name, "bfd.enabled", True,
                f"VyOS {h.os_version} has no BFD (1.2 and later have)")
    if syntax == "1.1" and h.multipath_layer4_hashing:
        r.error(h.name, "multipath_layer4_hashing", True,
                f"VyOS {h.os_version} has no `system ip multipath` (1.2 and later have)")
    dns = h.dns_forwarding
    if dns is None:
        return
    if syntax == "1.1":
        for field, values in (("listen_addresses", dns.listen_addresses),
                              ("allow_from", dns.allow_from)):
            if values:
                r.error(h.name, f"dns_forwarding.{field}", values,
                        f"VyOS {h.os_version} forwards DNS with dnsmasq (listen_on only); "
                        "listen-address and allow-from came with 1.2")
    if syntax == "1.4":
        if not dns_listen_addresses(h):
            r.error(h.name, "dns_forwarding.listen_addresses", dns.listen_addresses,
                    f"VyOS {h.os_version} needs a listen-address (listen-on is gone since 1.3): "
                    "set listen_addresses, or listen_on an interface with a static address")
        if not dns_allow_from(h):
            r.error(h.name, "dns_forwarding.allow_from", dns.allow_from,
                    f"VyOS {h.os_version} refuses DNS forwarding without allow-from: set "
                    "allow_from, or listen_on an interface with a static address")
