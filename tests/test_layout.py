"""The layout explains itself (issue 11): no import cycle anywhere in bot/, engine/ and
sitter/, and no module there over about 400 lines (small modules named for what they do)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAX_LINES = 400


def test_no_import_cycle_in_any_package() -> None:
    out = subprocess.run(
        [sys.executable, "scripts/import_cycles.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0 and "no import cycles" in out.stdout, out.stdout + out.stderr


def test_no_module_is_over_400_lines() -> None:
    long = {
        str(p.relative_to(ROOT)): n
        for pkg in ("bot", "engine", "sitter", "cli")
        for p in (ROOT / pkg).rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}, f"split these by concern: {long}"
