"""Deploy an inventory to its hosts, then verify until the network is as the inventory says.

On the built-in lab (`python3 tasks.py lab up` in a checkout, as root), from a directory holding
an inventory (`nornir-anycast init net`):

    python deploy_verify.py                   # net/config.yaml, verify for up to 60 s
    python deploy_verify.py net/config.yaml 30
"""

from __future__ import annotations

import sys
import time

from nornir import InitNornir
from nornir_utils.plugins.functions import print_result

from nornir_anycast.tasks import deploy_anycast, verify_anycast


def main(config_file: str = "net/config.yaml", wait: str = "60") -> int:
    nr = InitNornir(config_file=config_file)
    try:
        deployed = nr.run(task=deploy_anycast)
        print_result(deployed)
        if deployed.failed:
            return 1
        # BGP needs a few seconds to converge after a deploy: verify again until it passes.
        deadline = time.monotonic() + float(wait)
        while True:
            verified = nr.run(task=verify_anycast)
            if not verified.failed or time.monotonic() > deadline:
                break
            time.sleep(1)
        print_result(verified)
        return 1 if verified.failed else 0
    finally:
        nr.close_connections()


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
