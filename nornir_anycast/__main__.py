"""`python -m nornir_anycast`: the same command line as `nornir-anycast` and `python tasks.py`."""

from __future__ import annotations

import sys

from nornir_anycast.cli.main import main, typed_python

if __name__ == "__main__":
    sys.exit(main(prog=f"{typed_python()} -m nornir_anycast"))
