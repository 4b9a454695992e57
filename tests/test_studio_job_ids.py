"""A new order never matches an old job, even when SQLite hands out a freed row id.

Scenario (found in review): A's order is the newest row, A runs /forget, B's next
order gets the same id. arq keeps A's finished result for days under the old job
id; a job id derived from the order id alone would hand A's portraits to B.
"""

from __future__ import annotations

from pathlib import Path

from bot.studio.core.core import Studio
from sitter import contract as c
from sitter.config import load_settings


async def _user_with_a_photo(studio: Studio, name: str) -> tuple[int, int]:
    user = await studio.store.ensure_user("terminal", name, name, f"{name}-chat")
    ref = await studio.store.current_set(user["id"])
    rel, sha = studio.store.media.put(user["id"], "refs", name.encode(), "png")
    photo = await studio.store.add_photo(ref["id"], user["id"], sha, rel, "me.png")
    await studio.store.update_photo(photo, "accepted", embedding=[0.1] * 128, backend="dlib")
    return user["id"], ref["id"]


async def _order(studio: Studio, user_id: int, set_id: int) -> int:
    return await studio.store.create_order(
        user_id=user_id,
        set_id=set_id,
        platform="terminal",
        chat_id="x",
        style="watercolor",
        choices={},
        prompt="a portrait",
        negative_prompt="",
        params={},
        seeds=[1, 2, 3, 4],
    )


async def test_reused_order_id_gets_a_new_job(
    redis_url: str, queue_prefix: str, data_dir: Path
) -> None:
    settings = load_settings(data_dir=data_dir, redis_url=redis_url, queue_prefix=queue_prefix)
    studio = await Studio.open(settings)
    try:
        a, a_set = await _user_with_a_photo(studio, "ann")
        first = await _order(studio, a, a_set)
        await studio.enqueue_order(first)
        old_job = (await studio.store.order(first))["job_id"]
        # A's job finished and its result is kept in Redis, then A forgets everything.
        await studio.engine.redis.set(f"arq:result:{old_job}", c.serialize({"s": True}))
        await studio.store.forget(a)

        b, b_set = await _user_with_a_photo(studio, "bob")
        second = await _order(studio, b, b_set)
        assert second > first  # ids are never reused (migration 0007); job ids guard too
        await studio.enqueue_order(second)
        new_job = (await studio.store.order(second))["job_id"]
        assert new_job != old_job
        assert (await studio.engine.state(c.JOB_GENERATE, new_job)).status == "queued"
        # Enqueueing the same order again stays one job.
        depth = await studio.engine.queue_depth(c.QUEUE_GPU)
        await studio.enqueue_order(second)
        assert (await studio.store.order(second))["job_id"] == new_job
        assert await studio.engine.queue_depth(c.QUEUE_GPU) == depth
    finally:
        await studio.aclose()
