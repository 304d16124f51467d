"""`python -m nornir_anycast`: the same command line as `nornir-anycast` and `python tasks.py`."""

from __future__ import annotations

import sys

from nornir_anycast.cli.main import main

if __name__ == "__main__":
    sys.exit(main(prog="python -m nornir_anycast"))
