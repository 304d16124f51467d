"""A device that answers a command with an error message fails that host, with its message.

verify_anycast runs against a fake connection per host that answers every command with one of
the error strings real daemons print (vtysh without FRR, an unknown command, birdc without BIRD,
a BIRD syntax error), sometimes after vtysh's warning about its missing vtysh.conf. The Nornir
result of that host is failed and its failed checks carry the device's own words; the other
hosts are not affected.
"""

from __future__ import annotations

import pytest
from fake_devices import AnswersWith
from nornir.core.inventory import Host
from paths import ROOT

from nornir_anycast.design.build import load_design
from nornir_anycast.inventory.loader import load_nornir, select
from nornir_anycast.tasks.verify_anycast import verify_anycast

VTYSH_CONF = ("% Can't open configuration file /etc/frr/vtysh.conf due to 'No such file or "
              "directory'.\n")

ERRORS = {
    "edge": [
        "% Unknown command: show ip bgp summary",
        VTYSH_CONF + "% Unknown command: show ip bgp summary",
        "% BGP instance not found",
    ],
    "isp": [
        "Exiting: failed to connect to any daemons.",
        VTYSH_CONF + "Exiting: failed to connect to any daemons.",
    ],
    "server-1": [
        "Unable to connect to server control socket (/run/bird/bird.ctl): No such file or "
        "directory",
        "BIRD 2.0.12 ready.\nsyntax error, unexpected CF_SYM_UNDEFINED, expecting END or ...",
        "bird: syntax error, unexpected CF_SYM_UNDEFINED",
    ],
}


def _cases() -> list[tuple[str, str]]:
    return [(host, text) for host, texts in ERRORS.items() for text in texts]


@pytest.mark.parametrize(("host", "text"), _cases(),
                         ids=[f"{h}-{i}" for h, i in
                              ((h, n) for h, t in ERRORS.items() for n in range(len(t)))])
def test_device_error_fails_the_host_with_the_devices_message(
        host: str, text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    conn = AnswersWith(text)
    monkeypatch.setattr(Host, "get_connection", lambda self, c, cfg: conn)
    nr = load_nornir(ROOT / "inventory")
    design, _ = load_design(nr)
    result = select(nr, hosts=[host]).run(task=verify_anycast, design=design)
    res = result[host][0]
    assert result[host].failed and res.failed and not res.changed
    assert res.exception is None  # a failed check, not a crash
    checks = res.result
    assert checks and conn.sent
    failed = [c for c in checks if not c["passed"]]
    assert failed, checks
    said = text.splitlines()[-1].strip()  # the device's error line (after any vtysh warning)
    for c in failed:
        assert said in c["message"], c["message"]
        assert "the device answered" in c["message"]
        assert "vtysh.conf" not in c["message"]
        assert c["actual"] is None and c["expected"].startswith("output of ")
    # A check that could not read its state never claims success.
    assert not [c for c in checks if c["passed"]], checks


def test_output_that_is_not_an_error_still_fails_with_the_parsers_words(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Text that is neither the command's output nor a known device error: the ParseError."""
    monkeypatch.setattr(Host, "get_connection",
                        lambda self, c, cfg: AnswersWith("some banner nobody expected"))
    nr = load_nornir(ROOT / "inventory")
    design, _ = load_design(nr)
    result = select(nr, hosts=["edge"]).run(task=verify_anycast, design=design)
    assert result["edge"].failed
    messages = [c["message"] for c in result["edge"][0].result if not c["passed"]]
    assert messages and all("some banner nobody expected" in m for m in messages)
    assert not any("the device answered" in m for m in messages)
