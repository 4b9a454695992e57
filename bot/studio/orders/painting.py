"""What one generation paints: an order, or one look of a pack (the order with the
look's own style, answers, prompt, params and seeds over it). The typed joint between
the orders, the packs and the one builder of generation requests
(:meth:`bot.studio.orders.orders.Orders.generate_request`); JSON columns decoded once."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bot.store.store import Row


@dataclass(frozen=True, slots=True)
class Painting:
    user_id: int
    style: str
    choices: dict[str, Any]  # the wizard's answers, by slot
    prompt: str
    negative_prompt: str
    params: dict[str, Any]  # GenerationParams' fields
    seeds: list[int]
    aspect: str | None  # the format ("9:16"), None: the style's own size
    subject: str | None  # how the person described themself
    sitter: str | None = None  # a pet's portrait: its code (cat, dog); None: a person's

    @classmethod
    def of_order(cls, order: Row) -> Painting:
        return cls._of(order, order)

    @classmethod
    def of_look(cls, order: Row, look: Row) -> Painting:
        """One look of a pack order: the look's style, answers, prompt, params, seeds."""
        return cls._of(order, look)

    @classmethod
    def _of(cls, order: Row, own: Row) -> Painting:
        return cls(
            user_id=order["user_id"],
            style=own["style"],
            choices=json.loads(own["choices"] or "{}"),
            prompt=own["prompt"],
            negative_prompt=own["negative_prompt"],
            params=json.loads(own["params"] or "{}"),
            seeds=json.loads(own["seeds"]),
            aspect=order["aspect"],
            subject=order["subject"],
            sitter=order["sitter"] if "sitter" in order.keys() else None,  # noqa: SIM118
        )
