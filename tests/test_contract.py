"""The bot/engine job contract: msgpack round trips, refusals, and a real arq queue."""

from __future__ import annotations

import asyncio
import pickle

import pytest
from arq.worker import Worker

from sitter import contract as c
from sitter.queue import EngineClient, connect


def _analyze_request() -> c.AnalyzePhotoRequest:
    emb = c.Embedding(backend="dlib", vector=[0.1, -0.2, 0.3])
    return c.AnalyzePhotoRequest(
        photo=b"\x89PNG\r\n\x1a\n...",
        filename="me.png",
        set_embeddings=[emb],
        protected=[c.ProtectedFace(id=7, embedding=emb)],
    )


def test_round_trip_keeps_bytes_and_types() -> None:
    req = _analyze_request()
    raw = c.serialize({"a": [req.model_dump()]})
    back = c.parse_request(c.JOB_ANALYZE, c.deserialize(raw)["a"][0])
    assert back == req
    assert isinstance(back.photo, bytes)


def test_pickle_is_refused() -> None:
    with pytest.raises(c.ContractError, match="pickle"):
        c.deserialize(pickle.dumps({"f": "generate"}))


@pytest.mark.parametrize("payload", [b"", b"\xc1", b"not msgpack \xff\xfe"])
def test_garbage_is_refused(payload: bytes) -> None:
    with pytest.raises(c.ContractError):
        c.deserialize(payload)


def test_request_validation_names_the_job() -> None:
    with pytest.raises(c.ContractError, match="generate"):
        c.parse_request(c.JOB_GENERATE, {"prompt": "x"})
    with pytest.raises(c.ContractError, match="unknown job"):
        c.parse_request("rm_rf", {})
    with pytest.raises(c.ContractError, match="mapping"):
        c.parse_request(c.JOB_LABEL, [1, 2])
    with pytest.raises(c.ContractError):  # extra fields are not silently accepted
        c.parse_request(c.JOB_LABEL, {"image": b"x", "surprise": 1})


def test_exceptions_cross_as_failures() -> None:
    raw = c.deserialize(c.serialize(RuntimeError("CUDA out of memory")))
    failure = c.parse_result(c.JOB_GENERATE, raw)
    assert isinstance(failure, c.JobFailure)
    assert failure.code == "RuntimeError" and "memory" in failure.message


def test_unknown_objects_do_not_serialise() -> None:
    with pytest.raises(TypeError, match="cannot serialise"):
        c.serialize({"x": object()})


async def _echo_label(ctx: dict, payload: dict) -> dict:
    req = c.parse_request(c.JOB_LABEL, payload)
    ctx["runs"].append(1)
    return c.LabelResult(image=req.image[::-1], seconds=0.0).model_dump()


async def test_enqueue_is_idempotent_on_real_redis(redis_url: str, queue_prefix: str) -> None:
    redis = await connect(redis_url, queue_prefix)
    client = EngineClient(redis, queue_prefix, poll_delay=0.01)
    req = c.LabelRequest(image=b"abc")
    first = await client.enqueue(c.JOB_LABEL, req, job_id="label:1")
    again = await client.enqueue(c.JOB_LABEL, req, job_id="label:1")
    assert first.job_id == again.job_id
    assert (await client.state(c.JOB_LABEL, "label:1")).position == 0

    ctx: dict = {"runs": []}  # arq copies ctx per job; a list is shared
    worker = Worker(
        functions=[_wrap("label", _echo_label)],
        redis_pool=redis,
        burst=True,
        poll_delay=0.01,
        queue_name=c.queue_name(queue_prefix, c.QUEUE_FAST),
        job_serializer=c.serialize,
        job_deserializer=c.deserialize,
        ctx=ctx,
        handle_signals=False,
    )
    await worker.main()
    result = await client.result(c.JOB_LABEL, first, timeout=5)
    assert isinstance(result, c.LabelResult) and result.image == b"cba"
    assert len(ctx["runs"]) == 1
    # Once done and kept, the same id does not run again.
    await client.enqueue(c.JOB_LABEL, req, job_id="label:1")
    await worker.main()
    assert len(ctx["runs"]) == 1
    await worker.close()
    await redis.aclose()


def _wrap(name: str, fn):  # arq names functions by their __qualname__ unless wrapped
    from arq.worker import func

    return func(fn, name=name)


async def test_missing_job_is_reported_as_lost(redis_url: str, queue_prefix: str) -> None:
    redis = await connect(redis_url, queue_prefix)
    client = EngineClient(redis, queue_prefix)
    result = await client.result(c.JOB_LABEL, client.job(c.JOB_LABEL, "nope"), timeout=1)
    assert isinstance(result, c.JobFailure) and result.code == "lost"
    assert (await client.state(c.JOB_LABEL, "nope")).status == "missing"
    await asyncio.sleep(0)
    await redis.aclose()


def test_redis_password_is_redacted_in_messages() -> None:
    from sitter.queue import redact

    assert redact("redis://:s3cret@redis:6379/0") == "redis://:***@redis:6379/0"
    assert redact("rediss://sitter:s3cret@10.0.0.5:6380/1") == "rediss://sitter:***@10.0.0.5:6380/1"
    assert redact("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"
