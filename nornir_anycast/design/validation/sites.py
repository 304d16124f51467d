"""Site rules (docs/sites.md): every server peers with every edge of its site, a site's edges
share one AS, one standby setting and an upstream; the issue 13 BGP options are in range and
on a platform that renders them."""

from __future__ import annotations

from nornir_anycast.design.model import Design
from nornir_anycast.design.sites import is_ebgp, peers, site_label, sites
from nornir_anycast.design.validation.common import Report, join_names

#: FRR's ranges (`bgp graceful-restart restart-time (1-4095)`, `advertisement-interval (0-600)`).
GRACEFUL_RESTART_TIME = (1, 4095)
ADVERTISEMENT_INTERVAL = (0, 600)
#: How many times a standby edge may repeat its AS (`set as-path prepend`): enough to lose to
#: any real path, few enough to stay readable.
SITE_PREPEND = (1, 10)


def rule_server_site_edges(design: Design, r: Report) -> None:
    """A server peers with the edges of its site: with none of them (error; a server with no
    edge neighbour at all is rule_role_fields'), or with only some (warning: the others
    carry none of its traffic, and a dead edge takes its share with it)."""
    by_site = sites(design)
    for h in design.by_role("server"):
        site = by_site[h.site]
        if not site.edges:
            continue  # rule_server_site_has_edge
        edges = [peer.name for _, _, peer in peers(design, h) if peer.role == "edge"]
        if not edges:
            continue  # rule_role_fields: a server needs a neighbour that is an edge
        neighbours = [nb.address for nb in h.bgp.neighbors]
        own = [e for e in site.edges if e in edges]
        if not own:
            r.error(h.name, "bgp.neighbors", neighbours,
                    f"no edge of {site_label(h.site)} among the neighbours (they are edges "
                    f"{join_names(dict.fromkeys(edges))}; {site_label(h.site)}'s edges are "
                    f"{join_names(site.edges)}): peer with the edges of the server's own site")
        elif len(own) < len(site.edges):
            missing = [e for e in site.edges if e not in own]
            r.warning(h.name, "bgp.neighbors", neighbours,
                      f"peers with {join_names(own)} but not with {join_names(missing)} of "
                      f"{site_label(h.site)}: {join_names(missing)} will not carry this "
                      "server's traffic")


def rule_server_site_has_edge(design: Design, r: Report) -> None:
    """A server's site has at least one edge router."""
    by_site = sites(design)
    with_edges = [s for s, site in by_site.items() if site.edges]
    for h in design.by_role("server"):
        if by_site[h.site].edges or not with_edges:
            continue  # no edge anywhere: rule_role_fields says what the server lacks
        named = join_names(str(s) for s in with_edges if s is not None)
        if h.site is None:
            r.error(h.name, "site", None,
                    f"the server has no site, and every edge has one ({named}): set its site")
        else:
            others = f" (sites with edges: {named})" if named else ""
            r.error(h.name, "site", h.site, f"no edge router is in site {h.site}{others}")


def rule_site_edge_asns(design: Design, r: Report) -> None:
    """The edges of one site are in one AS (the site's servers peer iBGP with each of them)."""
    for site in sites(design).values():
        asns = {design.hosts[e].asn for e in site.edges} - {None}
        if len(asns) < 2:
            continue
        listing = join_names(f"{e} {design.hosts[e].asn}" for e in site.edges
                             if design.hosts[e].asn is not None)
        for e in site.edges:
            edge = design.hosts[e]
            if edge.asn is not None:
                r.error(e, "asn", edge.asn,
                        f"the edges of {site_label(site.name)} are in different ASes "
                        f"({listing}): a site's edges share one AS (its servers peer iBGP "
                        "with every one of them)")


def rule_site_upstream(design: Design, r: Report) -> None:
    """Every edge of a site has an eBGP neighbour that is an upstream router (role isp).

    Checked for edges with a `site`, and for edges without one when the inventory has upstream
    routers at all (a test inventory of an edge and its servers alone stays valid)."""
    has_upstreams = bool(design.by_role("isp"))
    for h in design.by_role("edge"):
        if h.site is None and not has_upstreams:
            continue
        upstreams = [peer.name for n, _, peer in peers(design, h)
                     if peer.role == "isp" and is_ebgp(h, n)]
        if not upstreams:
            r.error(h.name, "bgp.neighbors", [nb.address for nb in h.bgp.neighbors],
                    f"no eBGP neighbour is an upstream router (role isp): {site_label(h.site)} "
                    "is reached from nowhere through this edge")


def rule_site_standby(design: Design, r: Report) -> None:
    """site_standby (and site_prepend) are the same on every edge of a site; site_prepend is
    1..10 on a standby edge; a standby edge's own route_map_out towards an upstream gets no
    prepend (warning)."""
    lo, hi = SITE_PREPEND
    for site in sites(design).values():
        edges = [design.hosts[e] for e in site.edges]
        for field in ("site_standby", "site_prepend"):
            values = {getattr(e, field) for e in edges}
            if len(values) < 2:
                continue
            listing = join_names(f"{e.name} {str(getattr(e, field)).lower()}" for e in edges)
            for e in edges:
                r.error(e.name, field, getattr(e, field),
                        f"{field} differs between the edges of {site_label(site.name)} "
                        f"({listing}): a site is standby, or not, as a whole")
        for e in edges:
            if e.site_standby and not lo <= e.site_prepend <= hi:
                r.error(e.name, "site_prepend", e.site_prepend,
                        f"a standby edge prepends its AS {lo}..{hi} times")
            if not e.site_standby:
                continue
            for n, nb in enumerate(e.bgp.neighbors):
                if nb.route_map_out is not None and is_ebgp(e, n):
                    r.warning(e.name, f"bgp.neighbors.{n}.route_map_out", nb.route_map_out,
                              "the standby prepend is rendered in the default EBGP-OUT policy "
                              f"only: this neighbour ({nb.address}) gets the site's prefixes "
                              "without it")


def rule_bgp_site_options(design: Design, r: Report) -> None:
    """maximum_paths >= 1, graceful_restart_time 1..4095, advertisement_interval 0..600; what
    the templates cannot render is refused: these options, site_standby and several gateways
    on VyOS, graceful restart and several gateways on BIRD 1.6; several gateways without BFD
    (warning)."""
    for h in design.hosts.values():
        b = h.bgp
        if b.maximum_paths is not None and b.maximum_paths < 1:
            r.error(h.name, "bgp.maximum_paths", b.maximum_paths, "must be at least 1")
        lo, hi = GRACEFUL_RESTART_TIME
        if not lo <= b.graceful_restart_time <= hi:
            r.error(h.name, "bgp.graceful_restart_time", b.graceful_restart_time,
                    f"graceful restart time must be {lo}..{hi} seconds")
        lo, hi = ADVERTISEMENT_INTERVAL
        if b.advertisement_interval is not None and not lo <= b.advertisement_interval <= hi:
            r.error(h.name, "bgp.advertisement_interval", b.advertisement_interval,
                    f"advertisement interval must be {lo}..{hi} seconds")
        several = [(i, itf) for i, itf in enumerate(h.interfaces) if len(itf.gateways()) > 1]
        if h.platform == "vyos":
            for field, value, unset in (
                    ("bgp.maximum_paths", b.maximum_paths, None),
                    ("bgp.graceful_restart", b.graceful_restart, False),
                    ("bgp.advertisement_interval", b.advertisement_interval, None),
                    ("site_standby", h.site_standby, False)):
                if value != unset:
                    r.error(h.name, field, value,
                            "the VyOS templates do not render this yet: use platform frr "
                            "for this router, or remove it")
        if h.role == "server" and h.bird_version == 1:
            if b.graceful_restart:
                r.error(h.name, "bgp.graceful_restart", True,
                        "the BIRD 1.6 template renders no graceful restart: use "
                        "bird_version 2 or 3")
            for i, itf in several:
                r.error(h.name, f"interfaces.{i}.gateway", itf.gateways(),
                        "several gateways need BIRD's multipath default route, rendered for "
                        "bird_version 2 and 3 only")
        if several and h.role != "server":
            for i, itf in several:
                r.error(h.name, f"interfaces.{i}.gateway", itf.gateways(),
                        "several gateways are for servers (their BIRD installs the default "
                        "route); give this host one")
        if h.role == "server" and several and not h.bfd.enabled:
            i, itf = several[0]
            r.warning(h.name, f"interfaces.{i}.gateway", itf.gateways(),
                      "several gateways without BFD (bfd.enabled): a dead edge stays in the "
                      "default route and takes its share of the replies with it")
        if h.role == "server" and len(several) > 1:
            r.error(h.name, f"interfaces.{several[1][0]}.gateway", several[1][1].gateways(),
                    "several gateways on more than one interface: give them on one")
