"""The ``train_personal`` job (being built: see issue 23)."""

from __future__ import annotations

import threading

from engine.job_errors import FailureCode, Permanent
from engine.parts import Models
from sitter import contract as c


def train_personal(rt: Models, req: c.TrainRequest, cancel: threading.Event) -> c.TrainResult:
    raise Permanent(FailureCode.NOT_SUPPORTED, "training is not built into this worker yet")
