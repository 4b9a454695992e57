"""What each engine job does, run in a thread by :func:`engine.jobs.run_job`.

One function per job name (the ``WORK`` table): it takes the loaded runtime, the
validated request and a cancel flag, and returns the contract's result model.
Engine modules are imported inside each function, so a worker loads only what
its queue needs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from engine.job_errors import Permanent
from sitter import contract as c


def _do_generate(rt: Any, req: c.GenerateRequest, cancel: threading.Event) -> c.Message:
    if req.protected:  # before the pipeline is even imported
        from engine.identity import protected_references

        refs = [r.embedding for r in req.references]
        if protected_references(rt.require_analyzer(), refs, req.protected):
            raise Permanent(
                "protected",
                "a reference photo shows a face that is protected (its owner asked not to "
                "have it used)",
            )
    from engine.pipeline.generate import generate
    from sitter.observability import record_likeness

    result = generate(rt, req, cancel)
    for v in result.variations:
        record_likeness(v.likeness)
    return result


def _do_analyze(rt: Any, req: c.AnalyzePhotoRequest, cancel: threading.Event) -> c.Message:
    try:
        from engine.analysis import analyze_photo
        from engine.intake import IntakeLimits
    except ImportError as exc:
        raise Permanent("not_available", f"photo analysis is not in this build: {exc}") from None
    return analyze_photo(
        req,
        rt.require_analyzer(),
        IntakeLimits.from_settings(rt.settings),
        safety=rt.safety_screen("reference"),
    )


def _do_check_set(rt: Any, req: c.CheckSetRequest, cancel: threading.Event) -> c.Message:
    try:
        from engine.analysis import check_set
    except ImportError as exc:
        raise Permanent("not_available", f"set checks are not in this build: {exc}") from None
    return check_set(req, rt.require_analyzer())


def _check_copy(rt: Any, image: bytes, kind: str) -> None:
    """Every derived copy is scored too; one over the threshold fails as ``withheld``."""
    from engine.safety_check import Policy, check_copy

    check_copy(rt.require_safety(), Policy.from_settings(rt.settings), image, kind)


def _do_upscale(rt: Any, req: c.UpscaleRequest, cancel: threading.Event) -> c.Message:
    import io
    import time

    from PIL import Image

    from engine.provenance import carry_provenance
    from engine.upscale import upscale

    if rt.upscaler is None:
        raise Permanent("not_available", "this worker has no upscaler loaded")
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


def _do_label(rt: Any, req: c.LabelRequest, cancel: threading.Event) -> c.Message:
    import time

    from engine.badge import label

    started = time.perf_counter()
    image = label(req.image, signer=rt.require_signer(), text=req.text)
    _check_copy(rt, image, "label")
    return c.LabelResult(image=image, seconds=round(time.perf_counter() - started, 3))


def _do_avatar(rt: Any, req: c.AvatarRequest, cancel: threading.Event) -> c.Message:
    from engine.avatar import make_avatars

    result = make_avatars(req, rt.require_analyzer(), rt.require_signer())
    for avatar in result.avatars:
        _check_copy(rt, avatar.image, "avatar")
    return result


def _do_check_prompt(rt: Any, req: c.CheckPromptRequest, cancel: threading.Event) -> c.Message:
    from engine.prompt_check import check_prompt

    return check_prompt(rt.settings, req)


def _do_refine(rt: Any, req: c.RefineRequest, cancel: threading.Event) -> c.Message:
    from engine.refine import refine
    from sitter.observability import record_likeness

    result = refine(rt, req, cancel)
    for v in result.variations:
        record_likeness(v.likeness)
    return result


WORK: dict[str, Callable[[Any, Any, threading.Event], c.Message]] = {
    c.JOB_CHECK_PROMPT: _do_check_prompt,
    c.JOB_GENERATE: _do_generate,
    c.JOB_ANALYZE: _do_analyze,
    c.JOB_CHECK_SET: _do_check_set,
    c.JOB_UPSCALE: _do_upscale,
    c.JOB_LABEL: _do_label,
    c.JOB_AVATAR: _do_avatar,
    c.JOB_REFINE: _do_refine,
}
