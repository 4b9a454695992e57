"""Issue 13, item 20: every number in the job contract has bounds, and a request outside
them is refused as bad_request by the worker's job body before any work."""

from __future__ import annotations

import asyncio
import typing

import pytest
from annotated_types import Ge, Gt, Le, Lt
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from sitter import contract as c


def _numeric(annotation: object) -> bool:
    args = typing.get_args(annotation)
    if args:
        return any(_numeric(a) for a in args)
    return annotation in (int, float)


def _bounded(meta: list[object]) -> tuple[bool, bool]:
    low = any(isinstance(m, Ge | Gt) for m in meta)
    high = any(isinstance(m, Le | Lt) for m in meta)
    return low, high


def _models() -> list[type[BaseModel]]:
    return [
        v
        for v in vars(c).values()
        if isinstance(v, type) and issubclass(v, c.Message) and v is not c.Message
    ]


def _unbounded(model: type[BaseModel]) -> list[str]:
    bad = []
    for name, field in model.model_fields.items():
        ann = field.annotation
        if not _numeric(ann) or typing.get_origin(ann) is dict:
            continue
        if typing.get_origin(ann) is list:
            (item,) = typing.get_args(ann)
            infos = [x for x in getattr(item, "__metadata__", ()) if isinstance(x, FieldInfo)]
            meta = [m for info in infos for m in info.metadata]
        else:
            meta = list(field.metadata)
        if not all(_bounded(meta)):
            bad.append(f"{model.__name__}.{name}")
    return bad


def test_every_numeric_field_of_the_contract_has_bounds() -> None:
    missing = [f for m in _models() for f in _unbounded(m)]
    assert missing == []


@pytest.mark.parametrize(
    "params",
    [
        {"steps": -5},
        {"steps": 100_000},
        {"guidance": -1.0},
        {"guidance": float("nan")},
        {"width": 100_000},
        {"height": 0},
        {"identity_scale": 50.0},
    ],
)
def test_out_of_bounds_generation_is_refused_as_bad_request_by_the_worker(
    params: dict[str, object],
) -> None:
    """The raw dict a bot (or anyone with queue access) could enqueue: the worker's job
    body refuses it before touching the runtime (None here: any use would crash)."""
    from engine.worker import run_job

    payload = {
        "generation_id": "g1",
        "prompt": "a portrait",
        "seeds": [1],
        "references": [{"embedding": {"backend": "dlib", "vector": [0.1] * 128}}],
        "params": params,
    }
    out = asyncio.run(run_job({"runtime": None, "job_try": 1}, c.JOB_GENERATE, payload))
    failure = c.parse_result(c.JOB_GENERATE, out)
    assert isinstance(failure, c.JobFailure) and failure.code == "bad_request", out
    assert next(iter(params)) in failure.message


@pytest.mark.parametrize("seed", [-1, 2**32, 2**70])
def test_seeds_outside_the_generator_range_are_refused(seed: int) -> None:
    with pytest.raises(c.ContractError):
        c.parse_request(
            c.JOB_GENERATE,
            {
                "generation_id": "g",
                "prompt": "p",
                "seeds": [seed],
                "references": [{"embedding": {"backend": "dlib", "vector": [0.1]}}],
            },
        )
