"""A personal model travels with every order of its person (``GenerateRequest.personal``):
a rank-16 klein 4B LoRA in bfloat16 is about 33 MB. It crosses the real path — the
contract's msgpack codec, arq's job key in a real Redis, the worker's strict parse —
whole and unchanged; one over the contract's limit is refused before it is queued."""

from __future__ import annotations

import hashlib
import os

import pytest
from arq.constants import job_key_prefix
from pydantic import ValidationError

from sitter import contract as c
from sitter.queue import EngineClient, connect

LORA_BYTES = 33 * 1024 * 1024


def _request(lora: bytes) -> c.GenerateRequest:
    return c.GenerateRequest(
        generation_id="big",
        prompt="a portrait of the person",
        seeds=[1],
        references=[c.Reference(embedding=c.Embedding(backend="dlib", vector=[0.1] * 128))],
        personal=c.PersonalModel(lora=lora, sha256=hashlib.sha256(lora).hexdigest()),
    )


async def test_a_33_mb_personal_model_crosses_the_queue_whole(
    redis_url: str, queue_prefix: str
) -> None:
    lora = os.urandom(LORA_BYTES)  # incompressible: the real size on the wire
    redis = await connect(redis_url, queue_prefix)
    try:
        client = EngineClient(redis, queue_prefix)
        await client.enqueue(c.JOB_GENERATE, _request(lora), job_id="big-1")
        raw = await redis.get(job_key_prefix + "big-1")
        assert raw is not None and len(raw) > LORA_BYTES
        job = c.deserialize(raw)  # what the worker reads: arq's envelope, then the payload
        [payload] = job["a"]
        req = c.parse_request(c.JOB_GENERATE, payload)
        assert isinstance(req, c.GenerateRequest) and req.personal is not None
        assert req.personal.lora == lora
        assert await client.drop(["big-1"]) >= 1  # collected: no copy stays
        assert await redis.get(job_key_prefix + "big-1") is None
    finally:
        await redis.aclose()


def test_a_model_over_the_contracts_limit_is_refused_before_it_is_queued() -> None:
    with pytest.raises(ValidationError, match="at most"):
        c.PersonalModel(lora=b"\0" * (c.MAX_LORA_BYTES + 1), sha256="0" * 64)
