"""Render the configuration of every server of an inventory; no device is touched.

Run it from a directory holding an inventory in net/, e.g. one written by
`nornir-anycast init net`:

    python render_only.py
"""

from __future__ import annotations

import sys

from nornir import InitNornir
from nornir_utils.plugins.functions import print_result

from nornir_anycast.tasks import render_config

# AnycastInventory (named in net/config.yaml) reads and validates the inventory and derives the
# design from all of it, so a filtered Nornir renders without a `design=` argument.
nr = InitNornir(config_file="net/config.yaml")
result = nr.filter(role="server").run(task=render_config)
print_result(result)
sys.exit(1 if result.failed else 0)
