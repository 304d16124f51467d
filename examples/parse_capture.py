"""Parse what a device printed (saved to a file) and print the result as JSON.

    python parse_capture.py PLATFORM COMMAND FILE
    python parse_capture.py frr "show ip bgp 10.13.13.1/32" edge__show_ip_bgp_10.13.13.1_32.txt

PLATFORM is vyos, frr, bird (BIRD 1.6), bird2 or linux; COMMAND is the command as sent.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from nornir_anycast.parsing import parse_output


def main(platform: str, command: str, path: str) -> int:
    parsed = parse_output(platform, command, Path(path).read_text())
    print(json.dumps(parsed, indent=2))
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:]))
