"""Linux network state of a host (addresses, default route, sysctls): desired vs actual.

`desired_state(host)` comes from the model; `actual_state(shell, ...)` is read with `ip -j` and
`sysctl`; `plan(desired, actual)` lists the changes as commands, with a line of diff for each.
Only interfaces the inventory names are touched, and only global-scope addresses on them.
"""

from __future__ import annotations

import ipaddress
import json
import shlex
from dataclasses import dataclass, field

from nornir_anycast.design.model import HostModel
from nornir_anycast.device.shell import Shell
from nornir_anycast.render.linux import sysctls


@dataclass(frozen=True)
class Change:
    diff: str  # one line, `+`/`-`/`~` first, for the deploy diff
    command: str
    undo: str | None = None  # the command that puts back what `command` changed (rollback)


@dataclass
class NetState:
    addresses: dict[str, set[str]] = field(default_factory=dict)  # ifname -> {addr/len}
    link_up: dict[str, bool] = field(default_factory=dict)
    default_gateway: str | None = None
    default_gateway6: str | None = None  # the IPv6 default route's next hop (`gateway6`)
    sysctls: dict[str, str] = field(default_factory=dict)


def desired_state(host: HostModel) -> NetState:
    state = NetState()
    for itf in host.interfaces:
        state.addresses.setdefault(itf.name, set()).update(
            str(i) for i in itf.interfaces())
        state.link_up[itf.name] = True
        # Several gateways (a server of several edges): BIRD installs the default route.
        if itf.single_gateway and state.default_gateway is None:
            state.default_gateway = itf.single_gateway
        if itf.single_gateway6 and state.default_gateway6 is None:
            state.default_gateway6 = itf.single_gateway6
    if host.loopback:
        state.addresses["lo"] = {str(ipaddress.ip_interface(a)) for a in host.loopback}
        state.link_up["lo"] = True
    state.sysctls.update(sysctls(host))  # the same ones render writes for the next boot
    return state


def actual_state(shell: Shell, desired: NetState) -> NetState:
    state = NetState()
    data = json.loads(shell.check("ip -j addr show") or "[]")
    for link in data:
        name = link.get("ifname")
        if name not in desired.addresses and name not in desired.link_up:
            continue
        state.link_up[name] = "UP" in link.get("flags", [])
        addrs = set()
        for a in link.get("addr_info", []):
            if a.get("scope") != "global" and name != "lo":
                continue
            if name == "lo" and a.get("local") in ("127.0.0.1", "::1"):
                continue
            addrs.add(f"{a['local']}/{a['prefixlen']}")
        state.addresses[name] = addrs
    routes = json.loads(shell.check("ip -j route show default") or "[]")
    state.default_gateway = next((r.get("gateway") for r in routes if r.get("gateway")), None)
    if desired.default_gateway6:
        routes6 = json.loads(shell.check("ip -j -6 route show default") or "[]")
        state.default_gateway6 = next((r.get("gateway") for r in routes6 if r.get("gateway")),
                                      None)
    for key in desired.sysctls:
        state.sysctls[key] = shell.check(f"sysctl -n {shlex.quote(key)}").strip()
    return state


def plan(desired: NetState, actual: NetState) -> list[Change]:
    """The commands that take `actual` to `desired`, in a safe order."""
    changes: list[Change] = []
    for key, value in sorted(desired.sysctls.items()):
        if actual.sysctls.get(key) != value:
            old = actual.sysctls.get(key)
            changes.append(Change(f"~ sysctl {key} = {value} (was {old})",
                                  f"sysctl -qw {key}={value}",
                                  f"sysctl -qw {key}={old}" if old else None))
    for name in sorted(desired.addresses):
        if name not in actual.addresses and name not in actual.link_up:
            changes.append(Change(f"! interface {name} does not exist",
                                  f"ip link show dev {shlex.quote(name)}"))
            continue
        if desired.link_up.get(name) and not actual.link_up.get(name):
            changes.append(Change(f"~ link {name} up", f"ip link set dev {shlex.quote(name)} up",
                                  f"ip link set dev {shlex.quote(name)} down"))
        have = actual.addresses.get(name, set())
        for addr in sorted(desired.addresses[name] - have):
            changes.append(Change(f"+ address {addr} dev {name}",
                                  f"ip addr add {addr} dev {shlex.quote(name)}",
                                  f"ip addr del {addr} dev {shlex.quote(name)}"))
        for addr in sorted(have - desired.addresses[name]):
            changes.append(Change(f"- address {addr} dev {name}",
                                  f"ip addr del {addr} dev {shlex.quote(name)}",
                                  f"ip addr add {addr} dev {shlex.quote(name)}"))
    if desired.default_gateway and desired.default_gateway != actual.default_gateway:
        changes.append(Change(
            f"~ default via {desired.default_gateway} (was {actual.default_gateway})",
            f"ip route replace default via {desired.default_gateway}",
            f"ip route replace default via {actual.default_gateway}" if actual.default_gateway
            else "ip route del default"))
    gw6, was6 = desired.default_gateway6, actual.default_gateway6
    if gw6 and gw6 != was6:
        changes.append(Change(
            f"~ default via {gw6} (IPv6, was {was6})",
            f"ip -6 route replace default via {gw6}",
            f"ip -6 route replace default via {was6}" if was6 else "ip -6 route del default"))
    return changes
