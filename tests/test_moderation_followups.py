"""A moderator's removal reaches what was made from a portrait (hostile review of issue
15): every size of an avatar, and vary/relight portraits made from it, even once the
reference set they shared is gone (references are swept after 30 days, results 90)."""

from __future__ import annotations

import json

from fake_engine import FakeEngine
from studio_harness import Chat, until
from test_portrait_followups import ANN, _delivered, _results, _sent

from bot.studio.core import Studio
from bot.studio.reach import remove_images_everywhere


async def test_removing_a_portrait_removes_every_size_of_its_avatar(
    fake_studio: Studio, fake_engine: FakeEngine
) -> None:
    studio, chat = fake_studio, Chat(fake_studio, ANN)
    results = await _delivered(studio, chat)
    [menu] = await chat.press("More 1…", [results])
    await chat.press("Avatar 1", [menu])
    await until(studio, lambda: any("Avatars of" in t for t in _sent(studio).texts()), 10)
    store = studio.store
    avatar = await store.variation_job(1, "avatar")
    paths = [avatar["path"], *json.loads(avatar["more_paths"])]
    assert len(paths) == 2 and all(store.media.path(p).exists() for p in paths)
    await remove_images_everywhere(store, None, 1)
    assert [p for p in paths if store.media.path(p).exists()] == []


async def test_removing_a_portrait_removes_its_variations_once_the_set_is_gone(
    fake_studio: Studio, fake_engine: FakeEngine
) -> None:
    studio, chat = fake_studio, Chat(fake_studio, ANN)
    studio.settings = studio.settings.model_copy(update={"daily_quota": 100})
    results = await _delivered(studio, chat)
    [menu] = await chat.press("More 2…", [results])
    await chat.press("Vary 2 (subtle)", [menu])
    await until(studio, lambda: len(_results(studio)) == 2, 10, "variations")
    store = studio.store
    await store.run("DELETE FROM reference_photos")  # what the 30-day sweep leaves
    await store.run("DELETE FROM reference_sets")
    await remove_images_everywhere(store, None, 1)
    kept = await store.all("SELECT order_id, idx FROM variations WHERE removed_at IS NULL")
    assert [dict(r) for r in kept] == []
