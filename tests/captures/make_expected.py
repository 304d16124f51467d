#!/usr/bin/env python3
"""Write the expected-result JSON beside each fixture that has none yet.

    .venv/bin/python tests/captures/make_expected.py [--force]

The JSON holds the platform, the command, where the fixture came from, and the result of
parse_output (or the error it must raise). A written file is a PROPOSAL: read it against the
fixture before committing it (the tests compare against it from then on). Existing files are
kept unless --force.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from nornir_anycast.exceptions import AnycastError  # noqa: E402
from nornir_anycast.parsing import parse_output  # noqa: E402

SOURCES = {
    "frr": "real output of FRR 8.4.4 (Debian 12), captured by tests/captures/capture.py",
    "bird2": "real output of BIRD 2.0.12 (Debian 12), captured by tests/captures/capture.py",
    "linux": "real output of iproute2 6.1 / Linux 6.x, captured by tests/captures/capture.py",
    "vyos/seed": "the seed howto's own output as printed on its web page (whitespace collapsed)",
    "vyos/quagga_aligned": "hand-written: the seed's Quagga (VyOS 1.1.7) tables with the columns "
                           "of Quagga 0.99's route_vty_out restored, plus classful/wrapped lines",
    "vyos/frr_format": "real FRR 8.4.4 capture (see frr/) behind a VyOS prompt line: VyOS 1.2+ "
                       "prints FRR's format",
    "bird/seed": "hand-written from BIRD 1.6's output format as documented and quoted publicly "
                 "(BIRD 1.6 cannot run beside BIRD 2 here)",
    "frr10": "real output of FRR 10.3 (Debian 13), captured by tests/captures/capture.py --root",
    "bird2_17": "real output of BIRD 2.17.6 (Debian 13), captured by tests/captures/capture.py "
                "--root",
    "bird3": "real output of BIRD 3.1.8 (Debian 13, package bird3), captured by "
             "tests/captures/capture.py --bird-root",
    "linux_deb13": "real output of iproute2 6.15 (Debian 13) / Linux 6.x, captured by "
                   "tests/captures/capture.py --root",
}
#: Capture directories that are not named after their parser platform.
PLATFORM_OF_DIR = {"frr10": "frr", "bird2_17": "bird2", "linux_deb13": "linux"}
#: Directories written by capture.py (the BGP states) or capture.py --bfd (bfd_*, counters_*).
CAPTURED = ("frr", "bird2", "linux", "frr10", "bird2_17", "bird3", "linux_deb13")


def command_of(txt: Path) -> str:
    slug = txt.stem.split("__", 1)[1]
    cmd = (slug.replace("10.13.13.1_32", "10.13.13.1/32").replace("fd00:13::1_128",
                                                                 "fd00:13::1/128")
           .replace("bgp1_v6", "BGP1-V6").replace("_", " ").replace("BGP1-V6", "bgp1_v6"))
    return cmd


def source_of(platform: str, state: str) -> str:
    """`platform` here is the capture directory (frr, frr10, bird3, ...)."""
    src = SOURCES.get(f"{platform}/{state}") or SOURCES.get(platform, "")
    old_set = platform in ("frr", "bird2", "linux")
    if old_set and state.startswith("bfd_"):  # BFD states of FRR 8.4 / BIRD 2.0 came from the
        src = src.replace("tests/captures/capture.py", "tests/captures/capture_bfd.py")  # lab
    if old_set and state.startswith("counters_"):  # so did their down counters
        src = src.replace("tests/captures/capture.py", "tests/captures/capture_counters.py")
    if not old_set and state.startswith(("bfd_", "counters_")):
        src += " --bfd --counters"
    if state.startswith("ipv6_"):  # the dual-stack topology (capture.py --ipv6), BFD on
        src += " --ipv6"
    if state.startswith("gr_"):  # capture.py --graceful-restart (both sets)
        src = src.replace(" --bfd --counters", "") + " --graceful-restart"
    return f"{src} (state {state})" if platform in CAPTURED else src


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--force", action="store_true")
    args = ap.parse_args()
    for txt in sorted(HERE.glob("*/*/*.txt")):
        out = txt.with_suffix(".json")
        if out.exists() and not args.force:
            continue
        directory, state = txt.parent.parent.name, txt.parent.name
        platform = PLATFORM_OF_DIR.get(directory, directory)
        command = command_of(txt)
        doc: dict[str, object] = {"platform": platform, "command": command,
                                  "source": source_of(directory, state)}
        try:
            doc["expected"] = parse_output(platform, command, txt.read_text())
        except AnycastError as exc:
            doc["error"] = type(exc).__name__
            doc["message_contains"] = [platform, command.removeprefix("birdc ")]
        out.write_text(json.dumps(doc, indent=1) + "\n")
        print(f"wrote {out.relative_to(HERE)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
