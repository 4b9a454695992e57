"""Before an order is queued: does its prompt fit the worker's text encoder?

FLUX.2 [klein]'s Qwen3 text encoder reads 512 tokens. Every style with the
longest presets fits (sitter.prompts checks it at start); only long typed
answers can break it. A prompt within ``REFERENCE_PROMPT_SAFE_BYTES`` fits any
byte-level tokenizer, so it needs no question; a longer one is counted by a
worker (the ``check_prompt`` job on the fast queue, tokenizer only). No answer in
time, or a worker that cannot tell, lets the order through: the GPU worker
checks again before it renders and fails the order with the same plain words.
"""

from __future__ import annotations

from typing import Any

from bot.studio.jobs import words_failures as wf
from sitter import contract as c
from sitter.prompts import REFERENCE_PROMPT_SAFE_BYTES, PromptLibrary

CHECK_TIMEOUT_S = 30.0


async def prompt_refusal(
    engine: Any,
    prompts: PromptLibrary,
    style_key: str,
    answers: dict[str, str],
    job_id: str | None = None,
    described: str = "",
    two_people: bool = False,
) -> str | None:
    """A plain refusal when the order's prompt is too long for the model, else None.

    ``job_id`` names the job for its person (``rights.analysis_job_id``): the answers
    it carries are theirs, and /forget finds it in Redis by that name. ``two_people``:
    a joint order, worded for two by the family (longer: always counted by a worker)."""
    reference = prompts.reference_prompt(style_key, answers, described)
    if not two_people and len(reference.encode("utf-8")) <= REFERENCE_PROMPT_SAFE_BYTES:
        return None
    if two_people and not await engine.workers_alive(c.QUEUE_FAST):
        return None  # nobody to count it now: no wait (the GPU worker counts it anyway)
    req = c.CheckPromptRequest(
        prompt=prompts.style(style_key).compose(answers, prompts.subject(described)),
        reference_prompt=reference,
        two_people=two_people,
    )
    try:
        result = await engine.call(c.JOB_CHECK_PROMPT, req, job_id=job_id, timeout=CHECK_TIMEOUT_S)
    except TimeoutError:
        return None
    if isinstance(result, c.CheckPromptResult) and not result.fits:
        return wf.prompt_too_long(result.tokens, result.limit)
    return None
