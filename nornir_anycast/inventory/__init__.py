"""Stage 1, the inventory: loading a SimpleInventory directory into Nornir, checking the shape of
its YAML files, resolving secrets, and selecting hosts.

- `loader`: `load_nornir`, `select`, passwords and host keys;
- `schema`: the YAML files' shape, checked before Nornir reads them;
- `secrets`: where passwords come from, and keeping them out of everything printed.
"""

from __future__ import annotations

from nornir_anycast.inventory.loader import check_host_keys, load_nornir, resolve_passwords, select

__all__ = ["check_host_keys", "load_nornir", "resolve_passwords", "select"]
