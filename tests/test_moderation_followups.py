"""A moderator's removal reaches what was made from a portrait (hostile review of issue
15): every size of an avatar, and vary/relight portraits made from it, even once the
reference set they shared is gone (references are swept after 30 days, results 90)."""

from __future__ import annotations

import json

import pytest
from fake_engine import FakeEngine
from studio_harness import Chat, until
from test_portrait_followups import ANN, _delivered, _results, _sent

from bot.studio.core.core import Studio
from bot.studio.jobs import words_failures as wf
from bot.studio.moderation.reach import remove_images_everywhere


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


async def test_no_button_starts_work_without_consent_to_the_current_text(
    fake_studio: Studio, fake_engine: FakeEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A result's, a portrait's or /portraits' buttons start new work on someone's photos:
    after the consent text changes they ask for consent again first (review of issue 15)."""
    from bot.studio.core import buttons as b
    from bot.studio.core import words
    from bot.studio.core import words_chat as w
    from bot.studio.core.events import Press
    from bot.studio.portrait import buttons as pb

    studio, chat = fake_studio, Chat(fake_studio, ANN)
    studio.settings = studio.settings.model_copy(update={"daily_quota": 100})
    await _delivered(studio, chat)
    monkeypatch.setattr(words, "CONSENT_VERSION", words.CONSENT_VERSION + "-new")
    vid = (await studio.store.variations(1))[0].id
    before = len(await studio.store.all("SELECT id FROM orders"))
    for data in (pb.portrait(vid, "vary", "subtle"), b.item("a", vid), b.item("r", 1)):
        first, *_ = await studio.handle(Press(ANN, data))
        assert first.text == w.CONSENT_CHANGED, (data, first.text)
    assert len(await studio.store.all("SELECT id FROM orders")) == before
    assert await studio.store.variation_job(vid, "avatar") is None


async def test_a_command_ends_the_question_for_a_relights_own_words(
    fake_studio: Studio, fake_engine: FakeEngine
) -> None:
    """ "My own words" used to stay asked: "thanks!" typed after /status became a paid
    relight (review of issue 15). A command ends the question; so does time."""
    from bot.studio.core.events import Press
    from bot.studio.portrait import buttons as pb

    studio, chat = fake_studio, Chat(fake_studio, ANN)
    studio.settings = studio.settings.model_copy(update={"daily_quota": 100})
    await _delivered(studio, chat)
    vid = (await studio.store.variations(1))[0].id
    await studio.handle(Press(ANN, pb.portrait(vid, "light", "own")))
    await chat.send("/status")
    await chat.send("thanks!")
    kinds = [r["kind"] for r in await studio.store.all("SELECT kind FROM orders")]
    assert "relight" not in kinds, kinds


async def test_the_relights_own_words_question_is_a_step_that_lapses(
    fake_studio: Studio, fake_engine: FakeEngine
) -> None:
    """The question is a side step of the table (own_light) with a timeout: words typed
    after 15 minutes are not its answer; within them they are."""
    from bot.studio.core.conversation import ASKED_AT
    from bot.studio.core.events import Press
    from bot.studio.portrait import buttons as pb
    from bot.studio.portrait.portrait_menu import AWAITING_S, OWN_LIGHT

    studio, chat = fake_studio, Chat(fake_studio, ANN)
    studio.settings = studio.settings.model_copy(update={"daily_quota": 100})
    await _delivered(studio, chat)
    vid = (await studio.store.variations(1))[0].id
    [ask] = await studio.handle(Press(ANN, pb.portrait(vid, "light", "own")))
    assert "Describe the light for portrait #1" in ask.text
    uid = (await studio.store.user(ANN.platform, ANN.user_id))["id"]
    session = await studio.store.session(uid)
    assert session is not None and session.state == OWN_LIGHT
    assert OWN_LIGHT in studio.conversation.steps and studio.conversation.steps[OWN_LIGHT].side
    lapsed = {**session.data, ASKED_AT: session.data[ASKED_AT] - AWAITING_S - 1}
    await studio.store.save_session(uid, OWN_LIGHT, lapsed)
    await chat.send("candlelight from the left")
    kinds = [r["kind"] for r in await studio.store.all("SELECT kind FROM orders")]
    assert "relight" not in kinds, kinds
    session = await studio.store.session(uid)
    assert session is not None and session.state == "idle"
    await studio.handle(Press(ANN, pb.portrait(vid, "light", "own")))  # asked again: in time
    [said, _] = await chat.send("candlelight from the left")
    assert "relit with candlelight from the left" in said.text, said.text


async def test_a_relight_question_saved_before_the_upgrade_is_still_answered(
    fake_studio: Studio, fake_engine: FakeEngine
) -> None:
    """Sessions saved as IDLE with relight_for/relight_asked_at (before own_light) are read
    as the own_light step: a light typed in time is the answer; a lapsed one is not."""
    import time

    from bot.studio.portrait.portrait_menu import AWAITING_S

    studio, chat = fake_studio, Chat(fake_studio, ANN)
    studio.settings = studio.settings.model_copy(update={"daily_quota": 100})
    await _delivered(studio, chat)
    vid = (await studio.store.variations(1))[0].id
    uid = (await studio.store.user(ANN.platform, ANN.user_id))["id"]
    old = {"relight_for": vid, "relight_asked_at": time.time() - AWAITING_S - 1}
    await studio.store.save_session(uid, "idle", old)
    await chat.send("candlelight from the left")
    kinds = [r["kind"] for r in await studio.store.all("SELECT kind FROM orders")]
    assert "relight" not in kinds, kinds  # asked too long ago
    session = await studio.store.session(uid)
    assert session is not None and session.state == "idle" and session.data == {}
    await studio.store.save_session(uid, "idle", {**old, "relight_asked_at": time.time()})
    [said, _] = await chat.send("candlelight from the left")
    assert "relit with candlelight from the left" in said.text, said.text


async def test_a_follow_up_queued_again_after_its_portrait_was_removed_fails_plainly(
    fake_studio: Studio, fake_engine: FakeEngine
) -> None:
    """The tracker queues a lost follow-up again from its row: if its portrait is no longer
    kept, the row fails with the plain reason (no engine job, no AssertionError)."""

    studio, chat = fake_studio, Chat(fake_studio, ANN)
    await _delivered(studio, chat)
    store = studio.store
    v = (await store.variations(1))[0]
    vj_id = await store.create_variation_job(v.id, v.user_id, "upscale")
    # removed between the press and the re-queue, its follow-up row left (a crash between
    # the two writes of a removal, or a tool): the row is what the tracker has
    await store.run("UPDATE variations SET removed_at = 'now', path = NULL WHERE id = ?", v.id)
    await studio.enqueue_follow_up(vj_id)
    vj = await store.variation_job_by_id(vj_id)
    # the code, never the sentence (issue 20: codes in storage, words at the edge)
    assert vj is not None and (vj["status"], vj["error"], vj["job_id"]) == (
        "failed",
        "portrait_removed",
        None,
    )
    assert wf.stored_failure(vj["error"]) == "that portrait was removed"


async def test_a_follow_up_stopped_by_a_removal_stores_the_code(
    fake_studio: Studio, fake_engine: FakeEngine
) -> None:
    """Issue 20's review: the stop stored the sentence "removed by a moderator"."""

    studio, chat = fake_studio, Chat(fake_studio, ANN)
    await _delivered(studio, chat)
    store = studio.store
    # the order still in flight when its images are removed (a report on a job that runs)
    await store.run("UPDATE orders SET status = 'running', delivered_at = NULL WHERE id = 1")
    await remove_images_everywhere(store, None, 1)
    order = await store.order(1)
    assert (order["status"], order["error"]) == ("cancelled", "removed_by_moderator")
    assert wf.stored_failure(order["error"]) == "removed by a moderator"
