"""The boundaries the build checks (issue 21): the import contracts in pyproject.toml
hold (and catch a broken one), and chat platforms are named only by their adapters."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "engine", "sitter", "cli")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

# Where a platform may be named: its adapter, the one list of adapters, and the store
# part that holds the Discord adapter's own tables (SQL lives in bot/store/).
PLATFORM_NAME = re.compile(r"discord|telegram", re.I)
MAY_NAME_PLATFORMS = ("bot/discord/", "bot/telegram/", "bot/platforms.py", "bot/store/guilds.py")


def _lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(root)},
    )


def test_the_import_contracts_are_kept() -> None:
    out = _lint_imports(ROOT)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert re.search(r"Contracts: \d+ kept, 0 broken", out.stdout), out.stdout[-2000:]


def test_a_bot_module_importing_the_engine_is_caught(tmp_path: Path) -> None:
    """The contracts bite: the same tree with one bot module importing the engine fails,
    naming the module, the line and the contract."""
    for pkg in PACKAGES:
        shutil.copytree(ROOT / pkg, tmp_path / pkg, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    adapter = tmp_path / "bot" / "adapter.py"
    adapter.write_text(adapter.read_text() + "\nfrom engine.near_duplicate import fingerprint\n")
    out = _lint_imports(tmp_path)
    assert out.returncode == 1, out.stdout[-3000:]
    assert "bot is not allowed to import engine" in out.stdout
    assert "bot.adapter -> engine.near_duplicate" in out.stdout


def _code_names(path: Path) -> list[str]:
    """Platform names in code: string constants (docstrings aside) and identifiers."""
    tree = ast.parse(path.read_text())
    docs = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
            text = node.value
        elif isinstance(node, ast.Attribute):
            text = node.attr
        elif isinstance(node, ast.Name):
            text = node.id
        else:
            continue
        if PLATFORM_NAME.search(text):
            found.append(f"{node.lineno}: {text[:60]!r}")
    return found


def test_platform_names_live_in_their_adapters() -> None:
    """A new platform's adapter registers its settings, token shape, doctor checks and
    start-up in its own folder; the core, the store, the engine, the ground floor and
    the command line name none (comments and docstrings may, as examples)."""
    named = {}
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if rel.startswith(MAY_NAME_PLATFORMS):
                continue
            if found := _code_names(path):
                named[rel] = found
    assert named == {}, f"platform names outside their adapters: {named}"
