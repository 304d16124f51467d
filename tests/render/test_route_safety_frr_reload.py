"""The edge's route-safety lines (per-server filters of different sizes, soft-reconfiguration
inbound, maximum-prefix with and without the inventory's value, TCP-MD5, GTSM) are what real
FRR 8.4 prints back: frr-reload.py --test sees no difference once they are loaded (the
machinery of tests/test_render_frr_reload.py: one throw-away FRR per test in its own
namespace, always torn down)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_render_frr_reload import FrrInstance, _design, _diff_lines, _variant, frr_instance

from nornir_anycast.inventory import secrets
from nornir_anycast.render import render_host

pytestmark = pytest.mark.lab
__all__ = ["frr_instance"]  # the fixture, imported for use here

ENV = "NA_TEST_FRR_RELOAD_MD5"


def _edge_update(design: Any, md5: bool, maximum_prefix: int | None) -> dict[str, Any]:
    bgp = design.hosts["edge"].bgp.model_dump(exclude_unset=True)
    for nb in bgp["neighbors"]:
        if md5 and nb["address"].startswith("10.12.12."):
            nb.update({"password_env": ENV, "ttl_security": True})
    if maximum_prefix is not None:
        bgp["maximum_prefix"] = maximum_prefix
    return {"bgp": bgp}


@pytest.mark.parametrize("frr_instance", ["edge"], indirect=True)
@pytest.mark.parametrize(("md5", "maximum_prefix"), [(True, None), (False, 5)])
def test_route_safety_lines_are_stable_under_frr_reload(
        frr_instance: FrrInstance, md5: bool, maximum_prefix: int | None, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    secrets.forget_all()
    monkeypatch.setenv(ENV, "Reload-md5-pw-7")
    design = _variant(_design(), "server-2", anycast=["10.13.13.1/32", "10.13.13.2/32"])
    design = _variant(design, "edge", **_edge_update(design, md5, maximum_prefix))
    rendered = render_host(design.hosts["edge"], design)["frr.conf"]
    text = rendered.content
    assert "ip prefix-list ANYCAST-server-2 seq 10 permit 10.13.13.2/32" in text
    assert ("neighbor 10.12.12.1 password" in text) == md5
    conf = tmp_path / "frr.conf"
    conf.write_text(text)
    try:
        assert _diff_lines(frr_instance.reload(conf, "--test"))  # fresh FRR differs
        frr_instance.reload(conf, "--reload")
        running = frr_instance.vtysh("show running-config")
        assert "neighbor 10.12.12.2 soft-reconfiguration inbound" in running
        want = "5" if maximum_prefix else "12 restart 1 force"
        assert f"neighbor 10.12.12.2 maximum-prefix {want}" in running
        if md5:
            assert "neighbor 10.12.12.1 ttl-security hops 1" in running
        after = _diff_lines(frr_instance.reload(conf, "--test"))
        assert after == [], f"frr-reload.py --test still sees differences: {after}"
        running_lines = {ln.rstrip() for ln in running.splitlines()}
        missing = [ln for ln in text.splitlines()
                   if ln.strip() not in ("!", "") and ln.rstrip() not in running_lines]
        assert missing == []
    finally:
        secrets.forget_all()
