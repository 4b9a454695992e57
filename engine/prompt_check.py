"""Does an order's prompt fit this worker's text encoder? (the ``check_prompt`` job)

The bot asks before it queues an order, so an order the model's text encoder would
cut (FLUX.2 [klein]) is refused with a plain message instead of rendering something
else. The family says whether it has a limit (``Family.prompt_limit``). Only the
tokenizer is loaded (a few MB, cached per model), so the fast queue answers
without the pipeline. SDXL and SD 1.5 take any length (engine.pipeline.long_prompt).
A worker without the model files (a CPU box for photo checks) says it cannot
tell; the GPU worker checks again before it renders.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sitter import contract as c
from sitter.config import Settings

if TYPE_CHECKING:
    from engine.families.base import Family


def _limit(settings: Settings, family: Family) -> tuple[Callable[[str], int], int] | None:
    from engine.pipeline.loader import model_folder

    folder, ref = model_folder(settings)
    return family.prompt_limit(settings, folder, ref)


def check_prompt(settings: Settings, req: c.CheckPromptRequest) -> c.CheckPromptResult:
    from engine.licences import model_family

    family = model_family(settings)
    name = "" if family is None else family.name
    limit = _limit(settings, family) if family is not None and family.limits_prompt else None
    if family is None or not family.limits_prompt:
        return c.CheckPromptResult(fits=True, family=name, tokens=None, limit=None)
    if limit is None:
        message = "not checked here"
        return c.CheckPromptResult(fits=True, family=name, tokens=None, limit=None, message=message)
    count, most = limit
    if req.two_people:  # the wording for two, in the placement that words longest
        n = max(
            count(family.together_prompt(req.prompt, req.reference_prompt, placement))
            for placement in c.Placement
        )
    else:
        n = count(family.order_prompt(req.prompt, req.reference_prompt))
    fits = n <= most
    return c.CheckPromptResult(
        fits=fits,
        family=name,
        tokens=n,
        limit=most,
        message="" if fits else too_long_message(n, most),
    )


def too_long_message(tokens: int, limit: int) -> str:
    from engine.pipeline.klein import too_long_message as words

    return words(tokens, limit)


def preload(settings: Settings) -> None:
    """Load the tokenizer at worker start, so the first check answers at once."""
    from engine.licences import model_family

    family = model_family(settings)
    if family is not None and family.limits_prompt:
        _limit(settings, family)
