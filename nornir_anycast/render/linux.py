"""Linux system files of hosts with a service manager (servers, clients, FRR routers): ifupdown's
`/etc/network/interfaces`, the sysctls deploy sets live (`/etc/sysctl.d/`, read at boot) and,
on FRR routers, FRR's `/etc/frr/daemons` (which daemons frr.service starts).

None of them on hosts of the namespace lab (`service_manager: lab`): those share this
machine's filesystem; `lab up` sets their addresses and writes their FRR daemons file, and the
sysctls live in their network namespace. A `lab: true` host with a service manager (a Debian
container) gets them like any other host.
"""

from __future__ import annotations

from nornir_anycast.design.model import HostModel
from nornir_anycast.render.files import TemplateFile


def sysctls(host: HostModel) -> dict[str, str]:
    """The kernel settings a host needs: forwarding on routers; on the edge, multipath hashing
    on addresses and ports (the seed's VyOS `layer4-hashing`). A router with IPv6 addresses
    forwards IPv6 too, and its edge hashes IPv6 flows on ports as well (the IPv4 setting does
    not cover IPv6)."""
    wanted: dict[str, str] = {}
    ipv6 = any(ip.version == 6 for ip in host.addresses())
    if host.role in ("isp", "edge"):
        wanted["net.ipv4.ip_forward"] = "1"
        if ipv6:
            wanted["net.ipv6.conf.all.forwarding"] = "1"
    if host.role == "edge":
        wanted["net.ipv4.fib_multipath_hash_policy"] = "1"
        if ipv6:
            wanted["net.ipv6.fib_multipath_hash_policy"] = "1"
    return wanted


def plan_interfaces(host: HostModel) -> dict[str, TemplateFile]:
    """`interfaces` (`paths.interfaces_file`, no checker); none on the namespace lab."""
    if host.service_manager == "lab":
        return {}
    return {"interfaces": TemplateFile("linux/interfaces.j2", {}, host.paths.interfaces_file)}


def plan_sysctl(host: HostModel) -> dict[str, TemplateFile]:
    """`sysctl.conf` (`paths.sysctl_conf`): the sysctls for the next boot, on a host with a
    service manager that needs any."""
    wanted = sysctls(host)
    if host.service_manager == "lab" or not wanted:
        return {}
    return {"sysctl.conf": TemplateFile("linux/sysctl.conf.j2", {"sysctls": wanted},
                                        host.paths.sysctl_conf)}


def frr_daemons(host: HostModel) -> dict[str, bool]:
    """Which FRR daemons the router runs (zebra, mgmtd and staticd always run): bgpd, and bfdd
    when BFD is on. Debian's packaged file has every daemon off (bgpd=no)."""
    return {"bgpd": True, "bfdd": host.bfd.enabled}


def plan_frr_daemons(host: HostModel) -> dict[str, TemplateFile]:
    """`daemons` (`paths.frr_daemons`): FRR's daemons file, on an FRR router run by systemd or
    OpenRC. A changed file is applied by restarting FRR (nornir_anycast.deploy.linux)."""
    if host.platform != "frr" or host.service_manager not in ("systemd", "openrc"):
        return {}
    return {"daemons": TemplateFile("linux/frr-daemons.j2", {"daemons": frr_daemons(host)},
                                    host.paths.frr_daemons)}
