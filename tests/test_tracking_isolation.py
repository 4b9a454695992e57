"""One order that keeps failing does not hold up the others or the retention sweep."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.studio.core.core import Studio
from sitter.config import load_settings


async def test_a_failing_order_does_not_block_the_rest(
    data_dir: Path, redis_url: str, queue_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = load_settings(data_dir=data_dir, redis_url=redis_url, queue_prefix=queue_prefix)
    studio = await Studio.open(settings)
    try:
        user = await studio.store.ensure_user("terminal", "ann", "Ann", "a")
        ids = [
            await studio.store.create_order(
                user_id=user["id"],
                set_id=None,
                platform="terminal",
                chat_id="a",
                style="watercolor",
                choices={},
                prompt="p",
                negative_prompt="",
                params={},
                seeds=[1],
            )
            for _ in range(2)
        ]
        tracker = studio.tracker()
        followed: list[int] = []

        async def follow(kind: str, order: Any, *, fresh: bool = False) -> None:
            if kind != "order":
                return
            if order["id"] == ids[0]:
                raise FileNotFoundError("a result file went missing")
            followed.append(order["id"])

        monkeypatch.setattr(tracker, "follow", follow)
        await tracker.tick()
        assert followed == [ids[1]]
        assert tracker._last_sweep is not None  # the retention sweep still ran
    finally:
        await studio.aclose()
