"""What each engine job does, run in a thread by :func:`engine.jobs.run_job`: the job table.

``JOBS`` has one row per job: its name, the model parts its work uses (engine/parts.py)
and its handler; its queue is the contract's (``sitter.contract.JOBS``, which the bot
routes by). The worker's function lists (``engine.jobs.QUEUE_JOBS``) and the parts each
queue loads (``QUEUE_PARTS``) are read off it. A handler takes the loaded runtime, the
validated request and a cancel flag, and returns the contract's result model. Engine
modules are imported inside each handler, so a worker loads only what its queue needs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from engine.job_errors import FailureCode, Permanent
from engine.parts import Models
from sitter import contract as c

Work = Callable[[Models, Any, threading.Event], c.Message]


def _check_words(rt: Models, *prompts: str) -> None:
    """Defence in depth: the order's whole prompt through the semantic screen before
    anything is painted (the bot screened each answer; a bot that could not reach the
    screen_text job, or an older bot, did not). Refused: ``refused_prompt``."""
    from engine.text_screen import check_prompt

    check_prompt(rt.require_text_screen(), [p for p in prompts if p])


def _do_generate(rt: Models, req: c.GenerateRequest, cancel: threading.Event) -> c.Message:
    _check_words(rt, req.prompt, req.reference_prompt)
    if req.protected:  # before the pipeline is even imported
        from engine.identity import protected_references

        # Both people's photos, for a portrait of two (partner_references).
        refs = [r.embedding for r in (*req.references, *req.partner_references)]
        if protected_references(rt.require_analyzer(), refs, req.protected):
            raise Permanent(
                FailureCode.PROTECTED,
                "a reference photo shows a face that is protected (its owner asked not to "
                "have it used)",
            )
    from engine.pipeline.generate import generate
    from sitter.observability import record_likeness

    result = generate(rt, req, cancel)
    for v in result.variations:
        record_likeness(v.likeness)
    return result


def _do_analyze(rt: Models, req: c.AnalyzePhotoRequest, cancel: threading.Event) -> c.Message:
    from engine.analysis import analyze_photo
    from engine.intake import IntakeLimits

    if req.subject != c.Subject.PERSON:  # a cat's or a dog's photo (engine/pets/)
        from engine.pets.photos import analyze_pet_photo

        return analyze_pet_photo(
            req,
            rt.require_pets(),
            rt.require_analyzer(),  # a person in a pet photo is refused by their face
            IntakeLimits.from_settings(rt.settings),
            safety=rt.safety_screen("reference"),
        )
    return analyze_photo(
        req,
        rt.require_analyzer(),
        IntakeLimits.from_settings(rt.settings),
        safety=rt.safety_screen("reference"),
    )


def _do_check_set(rt: Models, req: c.CheckSetRequest, cancel: threading.Event) -> c.Message:
    from engine.analysis import check_set

    if req.subject != c.Subject.PERSON:
        from engine.pets.photos import check_pet_set

        return check_pet_set(req, rt.require_pets())
    return check_set(req, rt.require_analyzer())


def _check_copy(rt: Models, image: bytes, kind: str) -> None:
    """Every derived copy is scored too; one over the threshold fails as ``withheld``."""
    from engine.safety_check import Policy, check_copy

    check_copy(rt.require_safety(), Policy.from_settings(rt.settings), image, kind)


def _do_upscale(rt: Models, req: c.UpscaleRequest, cancel: threading.Event) -> c.Message:
    import io
    import time

    from PIL import Image

    from engine.provenance import carry_provenance
    from engine.upscale import upscale

    if rt.upscaler is None:
        raise Permanent(FailureCode.NOT_AVAILABLE, "this worker has no upscaler loaded")
    started = time.perf_counter()
    big, method = upscale(req.image, req.scale, rt.upscaler)
    _check_copy(rt, big, "upscale")
    edit = f"upscaled {req.scale}x ({method})"
    big = carry_provenance(big, req.image, signer=rt.require_signer(), edit=edit)
    with Image.open(io.BytesIO(big)) as im:
        width, height = im.size
    return c.UpscaleResult(
        image=big,
        method=method,
        width=width,
        height=height,
        seconds=round(time.perf_counter() - started, 3),
    )


def _do_label(rt: Models, req: c.LabelRequest, cancel: threading.Event) -> c.Message:
    import time

    from engine.badge import label

    started = time.perf_counter()
    image = label(req.image, signer=rt.require_signer(), text=req.text)
    _check_copy(rt, image, "label")
    return c.LabelResult(image=image, seconds=round(time.perf_counter() - started, 3))


def _do_avatar(rt: Models, req: c.AvatarRequest, cancel: threading.Event) -> c.Message:
    from engine.avatar import make_avatars

    result = make_avatars(req, rt.subject_analyzer(req.subject, heads=True), rt.require_signer())
    for avatar in result.avatars:
        _check_copy(rt, avatar.image, "avatar")
    return result


def _do_check_prompt(rt: Models, req: c.CheckPromptRequest, cancel: threading.Event) -> c.Message:
    from engine.prompt_check import check_prompt

    return check_prompt(rt.settings, req)


def _do_screen_text(rt: Models, req: c.ScreenTextRequest, cancel: threading.Event) -> c.Message:
    from engine.text_screen import screen_text

    return screen_text(rt.require_text_screen(), req)


def _do_refine(rt: Models, req: c.RefineRequest, cancel: threading.Event) -> c.Message:
    _check_words(rt, req.prompt, req.reference_prompt)
    from engine.refine import refine
    from sitter.observability import record_likeness

    result = refine(rt, req, cancel)
    for v in result.variations:
        record_likeness(v.likeness)
    return result


def _do_train(rt: Models, req: c.TrainRequest, cancel: threading.Event) -> c.Message:
    from engine.training.job import train_personal

    return train_personal(rt, req, cancel)


@dataclass(frozen=True)
class EngineJob:
    """One row of the job table."""

    name: str  # a contract job name (sitter.contract.JOB_*)
    parts: tuple[str, ...]  # the model parts its handler uses (engine.parts.PARTS)
    handler: Work

    @property
    def queue(self) -> str:
        return c.queue_for(self.name)


JOBS: tuple[EngineJob, ...] = (
    EngineJob(c.JOB_ANALYZE, ("faces", "safety"), _do_analyze),
    EngineJob(c.JOB_CHECK_SET, ("faces",), _do_check_set),
    EngineJob(c.JOB_LABEL, ("signer", "safety"), _do_label),
    EngineJob(c.JOB_CHECK_PROMPT, ("text",), _do_check_prompt),
    EngineJob(c.JOB_SCREEN_TEXT, ("screen",), _do_screen_text),
    EngineJob(c.JOB_GENERATE, ("faces", "signer", "safety", "screen", "pipeline"), _do_generate),
    EngineJob(c.JOB_UPSCALE, ("signer", "safety", "upscaler"), _do_upscale),
    EngineJob(c.JOB_AVATAR, ("faces", "signer", "safety"), _do_avatar),
    EngineJob(c.JOB_REFINE, ("faces", "signer", "safety", "screen", "pipeline"), _do_refine),
    EngineJob(c.JOB_TRAIN, ("pipeline",), _do_train),
)
# The handler run_job calls for each job name, looked up per call (tests swap one).
WORK: dict[str, Work] = {job.name: job.handler for job in JOBS}
