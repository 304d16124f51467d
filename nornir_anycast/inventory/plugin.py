"""The AnycastInventory plugin: `InitNornir(config_file="<any path>/config.yaml")` with

    inventory:
      plugin: AnycastInventory

loads an anycast inventory from any current directory: SimpleInventory's three files, checked
and validated (InventoryError with every problem, host, field and value), SSH passwords read
from `{env: NAME}` / `{file: PATH}`, the lab's hostnames and host keys applied, and the design
derived once from the whole inventory, so `nr.filter(role="server").run(task=render_config)`
needs no `design=` (nornir_anycast.design.design_for).

Registered through the entry point group `nornir.plugins.inventory` (pyproject.toml), so Nornir
finds it by name; `register()` does the same by hand (a checkout not installed with pip).

Relative paths: Nornir passes a plugin its options and nothing else, not where config.yaml is.
The plugin takes the directory from its `directory` option; without one, from the config_file
InitNornir was called with (found on the call stack, the directory holding that file); without
either, the current directory (what SimpleInventory does). host_file, group_file and
defaults_file, and every path written inside the inventory, are relative to that directory.
"""

from __future__ import annotations

import sys
from pathlib import Path

from nornir import InitNornir
from nornir.core.inventory import Inventory
from nornir.core.plugins.inventory import InventoryPluginRegister

from nornir_anycast.inventory.loader import PLUGIN_NAME, read_inventory
from nornir_anycast.inventory.schema import InventoryFiles

__all__ = ["PLUGIN_NAME", "AnycastInventory", "register"]


class AnycastInventory:
    """Nornir inventory plugin for nornir_anycast inventories (see the module docstring).

    Args:
        host_file: the hosts file (relative: in `directory`).
        group_file: the groups file.
        defaults_file: the defaults file.
        directory: the inventory's directory; default the directory of InitNornir's
            config_file, else the current directory.
        validate: False: an inventory that is not a valid anycast design loads anyway,
            without a design (see nornir_anycast.inventory.loader.read_inventory).
    """

    def __init__(self, host_file: str = "hosts.yaml", group_file: str = "groups.yaml",
                 defaults_file: str = "defaults.yaml", directory: str | None = None,
                 validate: bool = True) -> None:
        base = Path(directory) if directory else _config_directory()
        self.files = InventoryFiles.in_directory(base, host_file, group_file, defaults_file)
        self.validate = validate

    def load(self) -> Inventory:
        """Read, check and validate the inventory; attach its design.

        Raises:
            InventoryError: every problem found (nothing is loaded).
        """
        return read_inventory(self.files, validate=self.validate)


def _config_directory() -> Path:
    """The directory of the config_file InitNornir is loading, else the current directory.

    Nornir's `load_inventory` calls the plugin from inside `InitNornir(config_file=...)`; that
    frame (found by its code object, not by name) holds the path the caller gave, relative to
    the current directory, which has not changed since.
    """
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code is InitNornir.__code__:
            config_file = frame.f_locals.get("config_file")
            if isinstance(config_file, str | Path) and str(config_file):
                return Path(config_file).absolute().parent
            break
        frame = frame.f_back  # type: ignore[assignment]
    return Path.cwd()


def register() -> None:
    """Register the plugin with Nornir by hand (the entry point does it when installed)."""
    if PLUGIN_NAME not in InventoryPluginRegister.available:
        InventoryPluginRegister.register(PLUGIN_NAME, AnycastInventory)
