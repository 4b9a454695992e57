"""What every contract message shares: the base model and the bounds of its numbers.

Part of the job contract (:mod:`sitter.contract`, which re-exports every name).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

# Bounds of the numbers in the contract: a request outside them is refused as
# bad_request before any work (negative steps used to crash as "internal").
MAX_STEPS = 150
MAX_SIDE = 2048  # generation width/height
MAX_PIXELS_SIDE = 65_536  # any image side reported back
MAX_SECONDS = 86_400.0
MAX_ID = 2**63 - 1
MAX_VECTOR = 4096  # embedding length (dlib 128, ArcFace 512)
Seed = Annotated[int, Field(ge=0, le=2**32 - 1)]


class Message(BaseModel):
    # No NaN or infinity in any float field: every number below also has bounds.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
