"""Render the configuration of every server of an inventory; no device is touched.

Run it from a directory holding an inventory, e.g. one written by `nornir-anycast init net`:

    python render_only.py                     # net/config.yaml
    python render_only.py other/config.yaml
"""

from __future__ import annotations

import sys

from nornir import InitNornir
from nornir_utils.plugins.functions import print_result

from nornir_anycast.tasks import render_config


def main(config_file: str = "net/config.yaml") -> int:
    # AnycastInventory (named in config.yaml) reads and validates the inventory and derives the
    # design from all of it, so a filtered Nornir renders without a `design=` argument.
    nr = InitNornir(config_file=config_file)
    result = nr.filter(role="server").run(task=render_config)
    print_result(result)
    return 1 if result.failed else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
