"""The inventory stage: an anycast inventory directory loaded into Nornir, checked, validated,
with its design attached.

- `plugin`: the AnycastInventory plugin (`inventory: {plugin: AnycastInventory}` in config.yaml),
  so `InitNornir(config_file="<any path>/config.yaml")` works from any directory;
- `loader`: the one loading path (`read_inventory`), `load_nornir`, `select`, passwords, host
  keys, and paths written in the inventory (relative to its directory);
- `schema`: the YAML files' shape, checked before Nornir reads them, and the keys Nornir or
  netmiko would ignore;
- `secrets`: where passwords come from, and keeping them out of everything printed.
"""

from __future__ import annotations

from nornir_anycast.inventory.loader import (
    check_host_keys,
    load_nornir,
    read_inventory,
    resolve_passwords,
    select,
)
from nornir_anycast.inventory.plugin import AnycastInventory
from nornir_anycast.inventory.schema import InventoryFiles

__all__ = ["AnycastInventory", "InventoryFiles", "check_host_keys", "load_nornir",
           "read_inventory", "resolve_passwords", "select"]
