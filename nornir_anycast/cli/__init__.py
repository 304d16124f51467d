"""The `python tasks.py` command line: one module per command, each with `register()`."""
