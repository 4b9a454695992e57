"""Rolling upgrades (review 1, finding 2): bots and workers of two contract versions on one
Redis. The released contracts are kept verbatim in tests/contract_history/ (v1.py is
sitter/contract.py at d6c4a3b, v2.py at c3b3b31) and loaded as modules beside today's:
old bot -> new engine, new engine -> old bot, new bot -> old engine, with and without the
new features in use."""

from __future__ import annotations

import importlib.util
import logging
import subprocess
import sys
import typing
from enum import Enum
from pathlib import Path
from types import ModuleType
from typing import Any

import msgpack
import pytest
from arq.worker import Worker, func
from pydantic import BaseModel

from sitter import contract as c
from sitter import wire
from sitter.queue import EngineClient, connect, redis_settings

HISTORY = Path(__file__).parent / "contract_history"
RELEASES = {1: "d6c4a3b", 2: "c3b3b31"}  # contract version -> the commit that released it


def _load(version: int) -> ModuleType:
    name = f"sitter_contract_v{version}"
    spec = importlib.util.spec_from_file_location(name, HISTORY / f"v{version}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


old = _load(1)


def _job(job: str, payload: dict[str, Any]) -> dict[str, Any]:
    """arq's dict for a queued job (arq.jobs.serialize_job)."""
    return {"t": None, "f": job, "a": [payload], "k": {}, "et": 0}


def _answer(job_dict: dict[str, Any], result: Any) -> dict[str, Any]:
    """arq's dict for a finished job (arq.jobs.serialize_result): args as the job got them."""
    return {**job_dict, "s": True, "r": result, "st": 0, "ft": 0, "q": "q", "id": "j"}


def _emb(mod: ModuleType) -> Any:
    return mod.Embedding(backend="dlib", vector=[0.1] * 128)


def _new_request(features: bool) -> c.GenerateRequest:
    extra: dict[str, Any] = {}
    ref: dict[str, Any] = {"embedding": _emb(c), "face_crop": b"crop"}
    if features:
        ref["quality"] = {"sharpness": 90.0}
        extra = {
            "reference_prompt": "the person in the reference images as a watercolor",
            "gate": c.LikenessGate(kind=c.StyleKind.PAINTED),
        }
    return c.GenerateRequest(
        generation_id="g1",
        prompt="a watercolor portrait",
        seeds=[1, 2],
        references=[c.Reference(**ref)],
        **extra,
    )


def _new_result() -> dict[str, Any]:
    """What today's worker returns (engine/worker.py: ``result.model_dump()``)."""
    v = c.Variation(
        seed=1,
        image=b"png",
        likeness=0.7,
        face_found=True,
        passed=True,
        attempts=2,
        verdict=c.Verdict.PASSED,
        threshold=0.5,
        regenerated_for=[c.Verdict.COPY],
    )
    return c.GenerateResult(
        generation_id="g1", variations=[v], model="m", adapter="a", device="cpu", seconds=1.0
    ).model_dump()


def _old_engine(job: str, payload: Any) -> dict[str, Any]:
    """A contract-1 worker's job body (engine/worker.py at d6c4a3b): validate, answer."""
    try:
        req = old.parse_request(job, payload)
    except old.ContractError as exc:
        return old.JobFailure(code="bad_request", message=str(exc)).model_dump()
    if job == c.JOB_LABEL:
        return old.LabelResult(image=req.image, seconds=0.0).model_dump()
    v = old.Variation(seed=req.seeds[0], image=b"png", likeness=0.6, face_found=True, passed=True)
    return old.GenerateResult(
        generation_id=req.generation_id,
        variations=[v],
        model="m",
        adapter="a",
        device="c",
        seconds=1,
    ).model_dump()


# --- the policy itself ----------------------------------------------------------------------
def test_the_kept_release_is_the_released_file() -> None:
    for version, commit in RELEASES.items():
        try:
            text = subprocess.run(
                ["git", "show", f"{commit}:sitter/contract.py"],
                cwd=Path(__file__).parents[1],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        except (OSError, subprocess.CalledProcessError):
            pytest.skip(f"commit {commit} is not in this checkout (a shallow clone)")
        assert (HISTORY / f"v{version}.py").read_text() == text


def _shape(tp: Any) -> Any:
    """A type with its bounds stripped and classes by name, to compare two versions."""
    if typing.get_origin(tp) is typing.Annotated:
        return _shape(typing.get_args(tp)[0])
    if isinstance(tp, type) and issubclass(tp, BaseModel | Enum):
        return tp.__name__
    args = typing.get_args(tp)
    if args:
        return (str(typing.get_origin(tp)), tuple(_shape(a) for a in args))
    return tp


def _plain(value: Any) -> Any:
    return value.model_dump() if isinstance(value, BaseModel) else value


def _models_seen(model: type[BaseModel], reader: int, seen: dict[str, type]) -> None:
    """Every model and enum a reader of ``reader`` can meet below ``model``."""
    seen[model.__name__] = model
    for info in model.model_fields.values():
        if wire.since(info) > reader:
            continue
        stack = [info.annotation]
        while stack:
            tp = stack.pop()
            if isinstance(tp, type) and issubclass(tp, BaseModel):
                if tp.__name__ not in seen:
                    _models_seen(tp, reader, seen)
            elif isinstance(tp, type) and issubclass(tp, Enum):
                seen[tp.__name__] = tp
            stack.extend(typing.get_args(tp))


@pytest.mark.parametrize("version", sorted(RELEASES))
def test_what_an_older_side_sees_is_its_own_contract(version: int) -> None:
    """Rule 2: only additions, each tagged; required, defaults and types unchanged."""
    past = _load(version)
    assert version < c.CONTRACT_VERSION
    for job in set(c.REQUESTS) - set(past.REQUESTS):
        assert c.ADDED_JOBS.get(job, 0) > version, f"new job {job} not in ADDED_JOBS"
    now_seen: dict[str, type] = {}
    for job in past.REQUESTS:
        _models_seen(c.REQUESTS[job], version, now_seen)
        _models_seen(c.RESULTS[job], version, now_seen)
    _models_seen(c.JobFailure, version, now_seen)
    for name, now in now_seen.items():
        then = getattr(past, name, None)
        assert then is not None, f"{name} reaches a contract-{version} side untagged"
        if issubclass(now, Enum):
            for member in set(now) - {
                now(m.value) for m in then if m.value in now._value2member_map_
            }:
                since, instead = c.ADDED_VALUES.get(member, (0, None))
                assert since > version and instead is not None, f"{member} not in ADDED_VALUES"
                assert instead.value in {m.value for m in then}
            continue
        fields = {n: i for n, i in now.model_fields.items() if wire.since(i) <= version}
        assert set(fields) == set(then.model_fields), f"{name}: fields added untagged or removed"
        for field, info in fields.items():
            was = then.model_fields[field]
            where = f"{name}.{field}"
            assert info.is_required() == was.is_required(), f"{where}: required changed"
            if not info.is_required():
                assert _plain(info.get_default(call_default_factory=True)) == _plain(
                    was.get_default(call_default_factory=True)
                ), f"{where}: default changed"
            assert _shape(info.annotation) == _shape(was.annotation), f"{where}: type changed"
    for model in [*c.REQUESTS.values(), *c.RESULTS.values()]:
        for field, info in model.model_fields.items():
            if wire.since(info) > 1:
                assert not info.is_required(), f"{model.__name__}.{field}: new and required"


def test_defaults_are_not_sent_but_a_failure_says_it_failed() -> None:
    req = _new_request(features=False)
    sent = c.to_wire(req)
    assert "gate" not in sent and "reference_prompt" not in sent and "max_attempts" not in sent
    assert set(sent["references"][0]) == {"embedding", "face_crop"}
    assert c.to_wire(c.JobFailure(code="x", message="y")) == {
        "failed": True,
        "code": "x",
        "message": "y",
    }
    assert c.parse_request(c.JOB_GENERATE, sent) == req


# --- old bot -> new engine -> old bot -----------------------------------------------------------
def test_a_contract_1_bot_is_served_and_answered_in_its_own_shape() -> None:
    old_req = old.GenerateRequest(
        generation_id="g1", prompt="p", seeds=[1], references=[old.Reference(embedding=_emb(old))]
    )
    job = c.deserialize(old.serialize(_job(c.JOB_GENERATE, old_req.model_dump())))
    req = c.parse_request(c.JOB_GENERATE, job["a"][0])
    assert isinstance(req, c.GenerateRequest) and req.gate == c.LikenessGate()
    # today's engine answers with its new fields in use; the old bot reads them left out
    raw = old.deserialize(c.serialize(_answer(job, _new_result())))
    back = old.parse_result(old.JOB_GENERATE, raw["r"])
    assert back.variations[0].attempts == 2 and back.variations[0].passed
    assert "__contract__" not in raw["a"][0]
    failure = c.serialize(_answer(job, c.JobFailure(code="bad_request", message="m").model_dump()))
    assert isinstance(
        old.parse_result(old.JOB_GENERATE, old.deserialize(failure)["r"]), old.JobFailure
    )


def test_a_bot_of_this_version_gets_every_new_field() -> None:
    job = c.deserialize(c.serialize(_job(c.JOB_GENERATE, c.to_wire(_new_request(True)))))
    assert c.parse_request(c.JOB_GENERATE, job["a"][0]) == _new_request(True)
    raw = c.deserialize(c.serialize(_answer(job, _new_result())))
    v = c.parse_result(c.JOB_GENERATE, raw["r"]).variations[0]
    assert (v.verdict, v.threshold, v.regenerated_for) == (c.Verdict.PASSED, 0.5, [c.Verdict.COPY])


# --- new bot -> old engine ------------------------------------------------------------------------
def test_a_new_bot_works_with_a_contract_1_worker_until_it_uses_new_features() -> None:
    plain = old.deserialize(c.serialize(_job(c.JOB_GENERATE, c.to_wire(_new_request(False)))))
    answer = _old_engine(c.JOB_GENERATE, plain["a"][0])
    assert isinstance(c.parse_result(c.JOB_GENERATE, answer), c.GenerateResult)

    featured = old.deserialize(c.serialize(_job(c.JOB_GENERATE, c.to_wire(_new_request(True)))))
    refused = c.parse_result(c.JOB_GENERATE, _old_engine(c.JOB_GENERATE, featured["a"][0]))
    assert isinstance(refused, c.JobFailure) and refused.code == "bad_request"
    plain_words = c.outdated_engine(refused)
    assert plain_words is not None and plain_words.code == "engine_outdated"
    assert "upgrade the engine workers" in plain_words.message
    missing = c.JobFailure(code="JobExecutionFailed", message="function 'check_prompt' not found")
    assert c.outdated_engine(missing) is not None
    assert c.outdated_engine(c.JobFailure(code="bad_request", message="seeds.0: too big")) is None


def test_a_portrait_of_two_never_reaches_an_older_engine_as_one_person() -> None:
    """Contract 4 (issue 24): an older worker refuses a two-person order (it would paint
    one person); a contract-3 bot reads the two-person verdicts as the nearest old ones."""
    two = _new_request(False).model_copy(
        update={
            "partner_references": [c.Reference(embedding=_emb(c))],
            "placement": c.Placement.FACING,
        }
    )
    sent = c.to_wire(two)
    assert sent["placement"] == "facing" and len(sent["partner_references"]) == 1
    assert c.parse_request(c.JOB_GENERATE, sent) == two
    older = _load(2)
    with pytest.raises(older.ContractError, match="partner_references"):
        older.parse_request(c.JOB_GENERATE, sent)
    v = c.Variation(
        seed=1,
        image=b"png",
        likeness=0.6,
        face_found=True,
        passed=False,
        verdict=c.Verdict.ONE_FACE,
        regenerated_for=[c.Verdict.STRANGER],
        partner_similarity=0.2,
        partner_threshold=0.5,
    )
    for_v3 = wire.to_wire(v, 3, c.ADDED_VALUES)
    assert for_v3["verdict"] == "no_face" and for_v3["regenerated_for"] == ["not_alike"]
    assert "partner_similarity" not in for_v3 and "partner_threshold" not in for_v3
    assert wire.to_wire(v, 4, c.ADDED_VALUES)["verdict"] == "one_face"


# --- newer bot -> this engine (strict), newer engine -> this bot (tolerant) ----------
def test_a_newer_bots_unknown_field_is_refused_by_the_real_worker_saying_upgrade_workers() -> None:
    import asyncio

    from engine.worker import run_job

    payload = c.to_wire(_new_request(False)) | {"face_detail": "always"}
    # what a bot of the next version queues: its version beside arq's keys
    newer = msgpack.packb(
        {**_job(c.JOB_GENERATE, payload), wire.ENVELOPE_KEY: c.CONTRACT_VERSION + 1}
    )
    job = c.deserialize(newer)
    out = asyncio.run(run_job({"runtime": None, "job_try": 1}, c.JOB_GENERATE, job["a"][0]))
    failure = c.parse_result(c.JOB_GENERATE, out)
    assert isinstance(failure, c.JobFailure) and failure.code == "bad_request"
    assert "face_detail" in failure.message and c.UPGRADE_WORKERS in failure.message
    assert f"contract {c.CONTRACT_VERSION + 1}" in failure.message
    assert c.outdated_engine(failure) is not None


def test_a_newer_engines_unknown_result_fields_are_ignored_and_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    raw = _new_result()
    raw["variations"][0]["sparkle"] = 0.3
    raw["lora"] = "x"
    with caplog.at_level(logging.WARNING, logger="sitter.contract"):
        for _ in range(3):
            res = c.parse_result(c.JOB_GENERATE, raw)
            assert isinstance(res, c.GenerateResult) and res.variations[0].threshold == 0.5
    [line] = [r.getMessage() for r in caplog.records if "does not know" in r.getMessage()]
    assert "variations.*.sparkle" in line and "lora" in line
    with pytest.raises(c.ContractError):  # a value it cannot read is not guessed
        c.parse_result(c.JOB_GENERATE, raw | {"seconds": "soon"})


# --- the same over a real Redis, through the bot's EngineClient -----------------------
async def test_over_redis_a_new_bot_and_a_contract_1_worker(
    redis_url: str, queue_prefix: str
) -> None:
    async def generate(ctx: dict[str, Any], payload: Any) -> Any:
        return _old_engine(c.JOB_GENERATE, payload)

    async def label(ctx: dict[str, Any], payload: Any) -> Any:
        return _old_engine(c.JOB_LABEL, payload)

    redis = await connect(redis_url, queue_prefix)
    engine = EngineClient(redis, queue_prefix, poll_delay=0.01)
    try:
        handles = [
            (c.JOB_GENERATE, await engine.enqueue(c.JOB_GENERATE, _new_request(False), "plain")),
            (c.JOB_GENERATE, await engine.enqueue(c.JOB_GENERATE, _new_request(True), "feat")),
            (c.JOB_LABEL, await engine.enqueue(c.JOB_LABEL, c.LabelRequest(image=b"i"), "lab")),
            (
                c.JOB_CHECK_PROMPT,
                await engine.enqueue(c.JOB_CHECK_PROMPT, c.CheckPromptRequest(prompt="p"), "cp"),
            ),
        ]
        for queue, functions in (
            (c.QUEUE_GPU, [func(generate, name=c.JOB_GENERATE)]),
            (c.QUEUE_FAST, [func(label, name=c.JOB_LABEL)]),  # no check_prompt in contract 1
        ):
            worker = Worker(
                functions=functions,
                queue_name=c.queue_name(queue_prefix, queue),
                redis_settings=redis_settings(redis_url),
                job_serializer=old.serialize,
                job_deserializer=old.deserialize,
                burst=True,
                poll_delay=0.01,
                handle_signals=False,
            )
            try:
                await worker.main()
            finally:
                await worker.close()
        got = [await engine.result(job, h, timeout=5) for job, h in handles]
    finally:
        await redis.aclose()
    assert isinstance(got[0], c.GenerateResult) and got[0].variations[0].verdict is None
    assert isinstance(got[1], c.JobFailure) and got[1].code == "engine_outdated"
    assert isinstance(got[2], c.LabelResult) and got[2].image == b"i"
    assert isinstance(got[3], c.JobFailure) and got[3].code == "engine_outdated"


def test_a_contract_1_bot_meets_no_new_value_and_never_a_withheld_image() -> None:
    """The safety check's additions (merged from delivery) reach a contract-1 bot safely:
    an unsafe reference photo is refused in words it knows; a withheld portrait is absent."""
    job = c.deserialize(old.serialize(_job(c.JOB_ANALYZE, {"photo": b"x"})))
    issue = c.Issue(problem=c.PhotoProblem.UNSAFE, detail="It looks like it shows nudity.")
    refused = c.AnalyzePhotoResult(accepted=False, issues=[issue]).model_dump()
    raw = old.deserialize(c.serialize(_answer(job, refused)))
    back = old.parse_result(old.JOB_ANALYZE, raw["r"])
    assert back.issues[0].problem == old.PhotoProblem.UNSUPPORTED
    assert "nudity" in back.issues[0].detail
    gen = c.deserialize(old.serialize(_job(c.JOB_GENERATE, {"generation_id": "g1"})))
    result = _new_result()
    result["withheld"] = [{"seed": 2, "attempts": 3, "safety": 0.9, "threshold": 0.6}]
    raw = old.deserialize(c.serialize(_answer(gen, result)))
    back = old.parse_result(old.JOB_GENERATE, raw["r"])
    assert [v.seed for v in back.variations] == [1]
