"""The package layout keeps its promises (issue 10 §4): every module imports on its own (no import
cycle hidden by import order), nothing but the lab, the drills and the CLI imports `lab/`, and a
lower stage never imports a higher one (design < inventory < render < device < deploy < verify <
drain)."""

from __future__ import annotations

import ast
import subprocess
import sys

from paths import ROOT

PACKAGE = ROOT / "nornir_anycast"

#: Rank of each stage; a module may import modules of its own rank or lower.
STAGES = {
    "exceptions": 0, "settings": 0, "progress": 0, "parsing": 0,
    "design": 1, "inventory": 2, "render": 3, "device": 4,
    "deploy": 5, "verify": 6, "drain": 7,
}
#: The thin Nornir task wrappers belong to the stage of what they wrap.
TASK_STAGES = {
    "render_config": 3, "send_parsed": 4, "read_drain_state": 4, "read_counters": 4,
    "deploy_anycast": 5, "confirm_commit": 5, "rollback_anycast": 5,
    "verify_anycast": 6, "wait_edge_route": 7, "apply_drain": 7,
}
#: Above every stage: they may import anything.
TOP = {"cli", "drill", "lab", "__init__", "__main__"}


def _modules() -> list[str]:
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(ROOT).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out.append(".".join(parts))
    return out


def _rank(module: str) -> int | None:
    """The stage rank of `nornir_anycast.<...>`; None for the top (cli, drill, lab, package)."""
    parts = module.split(".")[1:]
    if not parts or parts[0] in TOP:
        return None
    if parts[0] == "tasks":
        return TASK_STAGES.get(parts[1], 99) if len(parts) > 1 else None
    if parts[0] == "templates":
        return 0
    return STAGES.get(parts[0], 99)


def _imports(path: str) -> set[str]:
    tree = ast.parse((ROOT / path).read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "nornir_anycast":
                found.update(f"nornir_anycast.{a.name}" for a in node.names)
            elif node.module.startswith("nornir_anycast."):
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("nornir_anycast."))
    return found


def _files() -> list[str]:
    return [str(p.relative_to(ROOT)) for p in sorted(PACKAGE.rglob("*.py"))]


_IMPORT_EACH = """
import importlib, sys, traceback
failed = []
for module in sys.argv[1:]:
    for name in [m for m in sys.modules if m.split(".")[0] == "nornir_anycast"]:
        del sys.modules[name]  # our modules from scratch; third-party ones stay loaded (fast)
    try:
        importlib.import_module(module)
    except Exception:
        failed.append(module + ": " + traceback.format_exc(limit=3))
print("\\n".join(failed))
sys.exit(1 if failed else 0)
"""


def test_every_module_imports_on_its_own() -> None:
    modules = [m for m in _modules() if not m.endswith(".hostinit")]
    proc = subprocess.run([sys.executable, "-c", _IMPORT_EACH, *modules], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]


def test_nothing_below_the_lab_imports_it() -> None:
    offenders = []
    for path in _files():
        top = path.split("/")[1].removesuffix(".py")
        if top in ("lab", "drill", "cli", "__init__", "__main__"):
            continue
        for mod in _imports(path):
            if mod.startswith("nornir_anycast.lab"):
                offenders.append(f"{path} imports {mod}")
    assert offenders == []


def test_a_lower_stage_never_imports_a_higher_one() -> None:
    offenders = []
    for path in _files():
        me = ".".join(path.removesuffix(".py").split("/")).removesuffix(".__init__")
        mine = _rank(me)
        if mine is None:
            continue
        for mod in _imports(path):
            theirs = _rank(mod)
            if theirs is not None and theirs > mine:
                offenders.append(f"{me} (stage {mine}) imports {mod} (stage {theirs})")
    assert offenders == []
