"""Keep the model libraries' own chatter out of a person's terminal.

transformers, diffusers and huggingface_hub print progress bars ("Loading weights",
"Writing model shards") and notes meant for library developers (a torchvision
fallback, a float32 casting hint) on stderr. The worker's log keeps Sitter's own
lines; the shell commands (``sitter generate``, ``sitter avatar``) call this first.
Errors still come through: only info, warnings and progress bars are silenced.
"""

from __future__ import annotations

import logging
import os
import warnings

_LOGGERS = ("transformers", "diffusers", "huggingface_hub", "accelerate")


def quiet_libraries() -> None:
    """Silence the libraries' progress bars and warnings (call before loading models)."""
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("DIFFUSERS_VERBOSITY", "error")
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
    for name in _LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module="transformers")
    warnings.filterwarnings("ignore", module="diffusers")
    import diffusers.utils.logging as dl
    import huggingface_hub.utils as hub
    import transformers.utils.logging as tl

    tl.set_verbosity_error()
    tl.disable_progress_bar()
    dl.set_verbosity_error()
    dl.disable_progress_bar()
    hub.disable_progress_bars()
