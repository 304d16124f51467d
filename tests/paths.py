"""Where the tests find the project and their data, wherever a test module sits in tests/."""

from __future__ import annotations

from pathlib import Path

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
CAPTURES = TESTS / "captures"
GOLDEN = TESTS / "golden"
INVENTORIES = TESTS / "inventories"
