"""Errors that mean something (issue 11): every engine failure carries one code of the
contract's closed FailureCode, the bot words each code itself, an engine's sentence never
reaches the chat (it goes to the log), a protected face is refused in the neutral words
whatever the engine says, and a newer engine's unknown code still decodes."""

from __future__ import annotations

import ast
import logging
from pathlib import Path
from typing import Any

import pytest
from arq.worker import Worker, func
from moderation_helpers import seed_person
from studio_harness import open_studio
from test_robust_orders import _outbox, _placed_order, _serve_gpu_once, _ticks

from bot.studio.core import buttons as b
from bot.studio.core import words
from bot.studio.core.core import Studio
from bot.studio.core.events import Press, Who
from bot.studio.jobs import words_failures as wf
from engine.job_errors import Permanent, failure, permanent_code
from sitter import contract as c
from sitter.queue import redis_settings

pytestmark = pytest.mark.studio_db  # redis_url: the studio tests' own db
ROOT = Path(__file__).resolve().parents[1]
ENGINE_SENTENCE = "CUDA error 0x7f3a in /opt/sitter/engine/render.py:42 (matched protected face #7)"


@pytest.fixture
async def studio(redis_url: str, queue_prefix: str, data_dir: Path) -> Any:
    s = await open_studio(data_dir, redis_url, queue_prefix)
    yield s
    await s.aclose()


def test_every_code_has_its_own_words() -> None:
    seen = set()
    for code in c.FailureCode:
        said = wf.failure_words(code.value)
        assert said and said == said.strip() and not said.endswith(".")  # "...failed: {said}."
        assert "_" not in said and said != code.value  # words, not a code
        seen.add(said)
    assert len(seen) == len(c.FailureCode)  # no two codes read the same


def test_an_unknown_code_decodes_and_gets_the_generic_words() -> None:
    """A newer engine's code: the wire keeps it as it came, this side reads it as UNKNOWN."""
    answer = c.serialize(
        {"r": {"failed": True, "code": "gpu_melted", "message": ENGINE_SENTENCE}, "s": True}
    )
    failure = c.parse_result(c.JOB_GENERATE, c.deserialize(answer)["r"])
    assert isinstance(failure, c.JobFailure) and failure.code == "gpu_melted"
    assert failure.kind is c.FailureCode.UNKNOWN
    assert wf.failure_words(failure.code) == wf.failure_words("unknown")
    # arq's own exception names (a job that raised): its time limit has words of its own
    raised = c.parse_result(c.JOB_LABEL, {"__exception__": "TimeoutError", "message": "x"})
    assert raised.code == "TimeoutError" and raised.kind is c.FailureCode.TIMED_OUT
    other = c.parse_result(c.JOB_LABEL, {"__exception__": "KeyError", "message": "'f'"})
    assert other.kind is c.FailureCode.UNKNOWN


def test_the_codes_the_bot_side_makes_are_in_the_set() -> None:
    for made in ("lost", "bad_result", "engine_outdated"):  # sitter/queue.py, sitter/wire.py
        assert c.FailureCode.of(made).value == made


def test_the_engine_fails_only_with_codes_of_the_set() -> None:
    assert failure(c.JOB_LABEL, c.FailureCode.BAD_IMAGE, "x")["code"] == "bad_image"
    with pytest.raises(ValueError):
        Permanent("sparkly", "a code outside the contract's set is a bug")  # type: ignore[arg-type]
    assert permanent_code(Permanent(c.FailureCode.PROTECTED, "m")) is c.FailureCode.PROTECTED
    assert permanent_code(ValueError("bad width")) is c.FailureCode.BAD_REQUEST
    assert permanent_code(RuntimeError("who knows")) is None  # run_job: "internal"
    # No failure path in engine/ names a code by a bare string.
    for path in sorted((ROOT / "engine").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") in (
                "Permanent",
                "failure",
            ):
                args = (
                    node.args[1:2] if getattr(node.func, "id", "") == "failure" else node.args[:1]
                )
                for a in args:
                    assert not isinstance(a, ast.Constant), f"{path}:{node.lineno}: a bare code"


@pytest.mark.parametrize("code", ["out_of_memory", "protected", "gpu_melted"])
async def test_a_failed_order_is_told_in_the_codes_words_not_the_engines(
    studio: Studio, code: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The engine's sentence (paths, ids, whatever it says) goes to the log; the person
    reads the code's words, and a protected face only the neutral ones."""
    oid = await _placed_order(studio)
    answer: dict[str, Any] = c.JobFailure(code=code, message=ENGINE_SENTENCE).model_dump()
    await _serve_gpu_once(studio, answer)
    tracker = studio.tracker()

    async def told() -> bool:
        return any("failed" in t for t in _outbox(studio).texts())

    with caplog.at_level(logging.WARNING, logger="bot.studio.jobs.tracking"):
        await _ticks(studio, tracker, told, n=100)
    [text] = [t for t in _outbox(studio).texts() if "failed" in t]
    said = wf.failure_words(code)
    assert f"order #{oid} failed: {said}." in text
    assert "CUDA" not in text and "render.py" not in text and "#7" not in text
    row = await studio.store.order(oid)  # codes in storage, words at the edge
    assert row["status"] == "failed" and row["error"] == c.FailureCode.of(code).value
    if code == "protected":
        assert "a face that is protected (its owner asked not to have it used)" in text
    if code == "gpu_melted":
        assert said == wf.failure_words("unknown")
    assert any(ENGINE_SENTENCE in r.getMessage() for r in caplog.records)  # for the operator


async def test_a_failed_upscale_is_told_in_the_codes_words_not_the_engines(
    studio: Studio, caplog: pytest.LogCaptureFixture
) -> None:
    """The same for a follow-up job (upscale): its row and its message hold the words."""
    ann = await seed_person(studio.store, "terminal", "ann")
    await studio.store.record_consent(ann["user_id"], words.CONSENT_VERSION, words.CONSENT_TEXT)
    who = Who("terminal", "ann", "ann-chat", "Ann")
    [queued] = await studio.handle(Press(who, b.item("u", ann["variations"][1])))
    assert "Upscaling #2" in queued.text

    async def upscale(ctx: dict[str, Any], payload: Any) -> Any:
        return c.JobFailure(code="bad_image", message=ENGINE_SENTENCE).model_dump()

    worker = Worker(
        functions=[func(upscale, name=c.JOB_UPSCALE)],
        queue_name=c.queue_name(studio.engine.prefix, c.QUEUE_GPU),
        redis_settings=redis_settings(studio.settings.redis_url),
        job_serializer=c.serialize,
        job_deserializer=c.deserialize,
        burst=True,
        poll_delay=0.01,
        handle_signals=False,
    )
    try:
        await worker.main()
    finally:
        await worker.close()

    async def told() -> bool:
        return any("upscaling #2 failed" in t for t in _outbox(studio).texts())

    with caplog.at_level(logging.WARNING, logger="bot.studio.jobs.tracking"):
        await _ticks(studio, studio.tracker(), told, n=100)
    [text] = [t for t in _outbox(studio).texts() if "upscaling #2 failed" in t]
    said = wf.failure_words("bad_image")
    assert f"upscaling #2 failed: {said}." in text and "CUDA" not in text
    row = await studio.store.one(
        "SELECT status, error FROM variation_jobs WHERE variation_id = ? AND kind = 'upscale'",
        ann["variations"][1],
    )
    assert (row["status"], row["error"]) == ("failed", "bad_image")  # the code, not words
    assert any(ENGINE_SENTENCE in r.getMessage() for r in caplog.records)


def test_a_failure_stored_by_an_older_version_is_never_shown_verbatim() -> None:
    """Review finding: rows written before failure codes hold the engine's sentence."""
    from bot.studio.jobs.results import failure_reply

    old = {"id": 3, "error": ENGINE_SENTENCE}
    text = failure_reply(old).text
    assert "CUDA" not in text and "render.py" not in text
    assert wf.failure_words("unknown") in text
    # This version stores codes; each is worded when it is sent.
    assert wf.stored_failure("out_of_memory") == wf.failure_words("out_of_memory")
    assert wf.stored_failure(wf.LOST_SEVERAL_TIMES) == "the engine lost the job several times"
    assert wf.stored_failure('{"code": "copy_withheld"}', 2) == wf.copy_withheld(2)
    assert wf.stored_failure(None) == wf.failure_words("unknown")


def test_a_protected_or_unsafe_photo_is_refused_in_the_bots_own_words() -> None:
    """Review finding: a long engine detail used to be shown as it was, even for a
    protected face ("matches the protected face of ...")."""
    leak = "This matches the protected face of Bob Smith (similarity 0.91)"
    for problem in (c.PhotoProblem.PROTECTED, c.PhotoProblem.DIFFERENT_PERSON):
        said = words.issue_words(c.Issue(problem=problem, detail=leak))
        assert "Bob" not in said and "0.91" not in said
    said = words.issue_words(c.Issue(problem=c.PhotoProblem.PROTECTED, detail=leak))
    assert "protected" in said
    three = words.issue_words(
        c.Issue(problem=c.PhotoProblem.SEVERAL_FACES, detail="I see 3 faces in this photo")
    )
    assert "3 faces" in three  # a count from the engine is still useful


def test_a_prompt_too_long_is_worded_by_the_bot() -> None:
    said = wf.prompt_too_long(612, 512)
    assert "612 tokens, at most 512" in said and said.endswith("order again.")


def test_each_engine_error_carries_its_failure_code() -> None:
    """Issue 20: the engine's bad-input errors were mapped to codes by their class names
    (a renamed class silently became "internal"). Each now carries its code."""
    from engine.intake import PhotoRefused
    from engine.likeness import IdentityMismatch
    from engine.pipeline.klein import PromptTooLong
    from engine.provenance import ProvenanceError
    from engine.safety_check import CopyWithheld
    from engine.upscale import UpscaleError

    expected = {
        CopyWithheld("x"): c.FailureCode.WITHHELD,
        PhotoRefused(c.PhotoProblem.UNREADABLE, "x"): c.FailureCode.BAD_IMAGE,
        PromptTooLong("x"): c.FailureCode.PROMPT_TOO_LONG,
        UpscaleError("x"): c.FailureCode.BAD_IMAGE,
        IdentityMismatch("x"): c.FailureCode.IDENTITY_MISMATCH,
        ProvenanceError("x"): c.FailureCode.BAD_IMAGE,
    }
    for exc, code in expected.items():
        assert permanent_code(exc) is code, exc

    class UpscaleErrorRenamed(UpscaleError):  # a subclass keeps its parent's code
        pass

    assert permanent_code(UpscaleErrorRenamed("x")) is c.FailureCode.BAD_IMAGE
    import engine.job_errors as job_errors

    assert not hasattr(job_errors, "_BY_NAME")  # no table of class names any more


def test_every_engine_code_is_stored_as_itself() -> None:
    """Review finding (issue 20): a code of the contract without a member in the
    ``error`` column's codes was stored as 'unknown' and worded generically."""
    from bot.store import codes

    for code in c.FailureCode:
        assert codes.Failure(code.value).value == code.value
        assert wf.engine_failure(code.value) == code.value
        assert wf.stored_failure(wf.engine_failure(code.value)) == wf.failure_words(code.value)


def test_a_refused_prompt_is_told_that_its_words_were_refused() -> None:
    """From the engine's code, through the stored column, to the message."""
    from bot.studio.jobs.results import failure_reply

    error = wf.engine_failure("refused_prompt")
    assert error == "refused_prompt"
    text = failure_reply({"id": 4, "error": error}).text
    assert wf.failure_words("unknown") not in text
    assert "content check" in text and "change your answers" in text
