"""NAT on a Linux (FRR) router: `nftables.conf`, one table of our own (`ip nornir_anycast`)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from nornir_anycast.design.model import HostModel
from nornir_anycast.exceptions import TemplateError
from nornir_anycast.render.files import TemplateFile

#: The one nftables table NAT rules are rendered into (family ip); nothing else is ever touched.
NFT_TABLE = "nornir_anycast"
#: nftables limits a rule comment to 128 bytes.
NFT_COMMENT_MAX = 128


@dataclass(frozen=True)
class DnatView:
    """A destination NAT rule as nftables writes it; `iifname` None for `inbound_interface: any`."""

    iifname: str | None
    daddr: str
    protocol: str
    dport: int
    to: str
    comment: str


@dataclass(frozen=True)
class SnatView:
    """One source NAT rule as nftables writes it; `to` None for masquerade."""

    oifname: str
    saddr: str
    to: str | None
    comment: str


def _nft_comment(text: str) -> str:
    """A comment nft accepts: no double quote, at most NFT_COMMENT_MAX bytes (only a label)."""
    text = text.replace('"', "'").replace("\n", " ")
    while len(text.encode()) > NFT_COMMENT_MAX:
        text = text[:-1]
    return text


def _ipv4(host: HostModel, field_name: str, value: str, *, network: bool = False) -> str:
    """The IPv4 address (or prefix, host bits cleared) as nft writes it; IPv6 is refused."""
    try:
        if network and "/" in value:
            net = ipaddress.ip_network(value, strict=False)
            version, text = net.version, str(net)
        else:
            ip = ipaddress.ip_address(value)
            version, text = ip.version, str(ip)
    except ValueError as exc:
        raise TemplateError(f"{host.name}: {field_name}={value!r}: not an IP address") from exc
    if version != 4:
        raise TemplateError(
            f"{host.name}: {field_name}={value!r}: NAT on platform 'frr' is rendered into an "
            "nftables `ip` table: IPv4 only")
    return text


def nftables_wanted(host: HostModel) -> bool:
    """Whether the host gets `nftables.conf`: a Linux (FRR) router with NAT rules."""
    return host.platform == "frr" and bool(host.nat.source or host.nat.destination)


def nat_views(host: HostModel) -> tuple[list[DnatView], list[SnatView]]:
    """The host's NAT rules, by rule number, in the terms nftables uses."""
    dnat = [
        DnatView(
            iifname=None if d.inbound_interface == "any" else d.inbound_interface,
            daddr=_ipv4(host, f"nat.destination.{k}.destination_address", d.destination_address),
            protocol=d.protocol, dport=d.destination_port,
            to=_ipv4(host, f"nat.destination.{k}.translation_address", d.translation_address),
            comment=_nft_comment(f"rule {d.rule}" + (f": {d.description}" if d.description
                                                     else "")),
        )
        for k, d in sorted(enumerate(host.nat.destination), key=lambda kd: kd[1].rule)
    ]
    snat = [
        SnatView(
            oifname=s.outbound_interface,
            saddr=_ipv4(host, f"nat.source.{k}.source_address", s.source_address, network=True),
            to=(None if s.translation == "masquerade"
                else _ipv4(host, f"nat.source.{k}.translation", s.translation)),
            comment=_nft_comment(f"rule {s.rule}"),
        )
        for k, s in sorted(enumerate(host.nat.source), key=lambda ks: ks[1].rule)
    ]
    return dnat, snat


def plan_nftables(host: HostModel) -> dict[str, TemplateFile]:
    """`nftables.conf` for a Linux router with NAT rules (none without: no file)."""
    if not nftables_wanted(host):
        return {}
    destination, source = nat_views(host)
    context = dict(table=NFT_TABLE, destination=destination, source=source)
    return {"nftables.conf": TemplateFile("nftables/nat.nft.j2", context,
                                          host.paths.nftables_conf, "nft")}
