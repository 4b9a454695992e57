"""Model families as objects (engine/families/): one module each behind one interface,
and nothing outside that folder asks which family it is."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from engine import families
from engine.families.base import Family, ReferenceFamily

ROOT = Path(__file__).resolve().parent.parent
# The code that must not branch on a family (nor key anything by a family's name).
OUTSIDE = ("engine", "sitter", "bot", "cli", "benchmarks")
# Not yet moved behind the family objects (each its reason; remove a line once it is).
NOT_YET = {
    # A family's own benchmark: its --config picks the real or the tiny model.
    "benchmarks/bench_klein.py",
    # --config picks what to time (sdxl / klein / tiny-klein / tiny-qwen-edit) and
    # dispatches on it: to move onto the family objects (their bench entry points).
    "benchmarks/bench_speed.py",
    # "tiny" there labels a set of test images (tiny ones), not the tiny model.
    "benchmarks/calibrate_safety.py",
    # A training step's counted floor for the real klein 4B (--config klein) or a timed
    # tiny run: to move onto the family objects with bench_speed's entry points.
    "benchmarks/bench_train.py",
}


def _names() -> list[str]:
    return [n for f in families.FAMILIES for n in (f.name, *f.tiny_models)] + ["tiny"]


def _branches(text: str, names: list[str]) -> list[str]:
    """Lines that compare something with a family's (or a tiny model's) name."""
    quoted = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    lit = rf"[\"']({quoted})[\"']"
    pattern = re.compile(
        rf"(==|!=|\bin\b)\s*[\(\[\{{]?\s*{lit}"  # x == "klein", x in ("sdxl", ...)
        rf"|{lit}\s*(==|!=|\bin\b|if\b)|\belse\s+{lit}"  # "klein" == x, "tiny" if ...
        r"|\.family\s*(==|!=|\bin\b)"  # loaded.family == ...
        r"|\bfamily\s*(==|!=)\s*[\"']"  # family != "klein"
    )
    return [line.strip() for line in text.splitlines() if pattern.search(line)]


def _keyed(text: str, names: list[str]) -> list[str]:
    """Dict keys (alone or in a tuple key) and match cases that are a family's name."""
    wanted = set(names)

    def named(node: ast.AST | None) -> bool:
        if isinstance(node, ast.Constant):
            return node.value in wanted
        return isinstance(node, ast.Tuple) and any(named(e) for e in node.elts)

    def case_named(pattern: ast.pattern) -> bool:
        if isinstance(pattern, ast.MatchValue):
            return named(pattern.value)
        if isinstance(pattern, ast.MatchOr):
            return any(case_named(p) for p in pattern.patterns)
        return False

    lines = text.splitlines()
    hits = []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Dict):
            hits += [k for k in node.keys if named(k)]
        elif isinstance(node, ast.match_case) and case_named(node.pattern):
            hits.append(node.pattern)
    return [lines[n.lineno - 1].strip() for n in hits]  # type: ignore[attr-defined]


def test_no_code_outside_engine_families_branches_on_a_family_name() -> None:
    names = _names()
    found = {}
    for top in OUTSIDE:
        for path in sorted((ROOT / top).rglob("*.py")):
            if (ROOT / "engine" / "families") in path.parents:
                continue
            if path.relative_to(ROOT).as_posix() in NOT_YET:
                continue
            text = path.read_text(encoding="utf-8")
            hits = _branches(text, names) + _keyed(text, names)
            if hits:
                found[str(path.relative_to(ROOT))] = hits
    assert not found, f"ask the family object instead (engine/families/): {found}"


@pytest.mark.parametrize(
    "line",
    [
        'if loaded.family == "klein":',
        'kind = "tiny" if loaded.tiny else family',
        "if family in ('sdxl', 'sd15'):",
        'if "qwen-edit" == name:',
        'return "x" if model in {"tiny-klein"} else "y"',
    ],
)
def test_the_boundary_check_catches_a_branch(line: str) -> None:
    assert _branches(line, _names()) == [line]


@pytest.mark.parametrize(
    "code",
    [
        '_BUILDERS = {"sd15": tiny_sd15, "sdxl": tiny_sdxl}',
        'FILES = {\n    (PLUS_FACE, "sdxl"): AdapterFiles(),\n}',
        'match family:\n    case "klein" | "qwen-edit":\n        pass',
    ],
)
def test_the_boundary_check_catches_a_family_used_as_a_key(code: str) -> None:
    assert _keyed(code, _names())


def test_the_boundary_check_leaves_data_and_words_alone() -> None:
    text = 'log.info("loading %s (klein)")\nkind = {"model": "sdxl"}\n'
    assert _branches(text, _names()) == [] and _keyed(text, _names()) == []


def test_every_family_is_one_object_with_its_own_names() -> None:
    names = [f.name for f in families.FAMILIES]
    classes = families.class_names()
    tiny = families.tiny_names()
    assert len(set(names)) == len(names) and len(set(classes)) == len(classes)
    assert len(set(tiny)) == len(tiny)
    for family in families.FAMILIES:
        assert isinstance(family, Family)
        assert families.by_name(family.name) is family
        for cls in family.class_names:
            assert families.by_class_name(cls) is family
        for model in family.tiny_models:
            assert families.for_tiny(model) is family
        assert family.defaults(tiny=True).width == 64  # every tiny model renders at 64 px
    refs = [f.name for f in families.FAMILIES if isinstance(f, ReferenceFamily)]
    assert refs == ["klein", "qwen-edit"]
    assert families.by_class_name("KandinskyPipeline") is None
    with pytest.raises(ValueError, match="no model family 'nope'"):
        families.by_name("nope")


def test_sitter_knows_a_tiny_model_by_its_name_alone() -> None:
    """The bot side cannot import the engine: a tiny name is recognised by its form."""
    from sitter.config import load_settings

    for model in families.tiny_names():
        assert load_settings(model=model).is_tiny, model
    assert not load_settings(model="Qwen/Qwen-Image-Edit-2509").is_tiny


def test_a_loaded_pipeline_names_its_family_or_says_what_is_missing() -> None:
    """``LoadedPipeline.model_family`` finds its family object once engine.families is
    imported (a family's ``load`` made it), and says plainly what is missing otherwise
    (the pipeline module does not import the families: that would be an import cycle)."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from engine.pipeline.loaded import LoadedPipeline\n"
        "assert 'engine.families' not in sys.modules\n"
        "lp = LoadedPipeline.__new__(LoadedPipeline)\n"
        "lp.family = 'qwen-edit'\n"
        "try:\n"
        "    lp.model_family\n"
        "except LookupError as e:\n"
        "    assert 'import engine.families' in str(e)\n"
        "import engine.families\n"
        "print(lp.model_family.title)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "Qwen-Image-Edit-2509"
