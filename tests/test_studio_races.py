"""Races between a person's events, a burst of photos and the background tracker
(hostile review of issue 11): one order is rendered once, /forget leaves no job behind,
a burst never undoes what the person did meanwhile, odd ids are answered plainly.
On the in-memory fake engine (tests/fake_engine.py): these are about the conversation."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from fake_engine import FakeEngine
from studio_harness import Chat, astronaut_set

from bot.studio.core import buttons as b
from bot.studio.core import words_chat as w
from bot.studio.core.core import Studio
from bot.studio.core.events import Command, Files, Press, Who
from bot.studio.rights import rights
from bot.studio.rights.buttons import ForgetPress
from sitter import contract as c

ANN = Who("terminal", "ann", "ann-chat", "Ann")
WIZ = (
    "Watercolor",
    "Business suit",
    "Office",
    "Golden hour",
    "Headshot",
    "Skip",
    "Square 1:1 (avatars)",
)


async def _at_confirm(chat: Chat) -> None:
    await chat.send("/start")
    await chat.press("I agree")
    await chat.files(astronaut_set())
    await chat.press("Done")
    for label in WIZ:
        await chat.press(label)


def _forget_button(reply: Any) -> str:
    return next(
        x.data for row in reply.buttons for x in row if isinstance(b.parse(x.data), ForgetPress)
    )


async def test_the_tracker_never_enqueues_an_order_twice_while_it_is_placed(
    fake_studio: Studio, fake_engine: FakeEngine
) -> None:
    chat = Chat(fake_studio, ANN)
    await _at_confirm(chat)
    tracker, store = fake_studio.tracker(), fake_studio.store
    real_save, real_set, real_enqueue = store.save_session, store.set_order, fake_engine.enqueue
    passes: list[asyncio.Task[None]] = []
    generated: list[str | None] = []

    async def save(uid: int, state: str, data: dict[str, Any], rev: int | None = None) -> Any:
        if state == "idle":  # the order row exists, its job not yet: a pass runs now
            passes.append(asyncio.create_task(tracker.tick()))
            await asyncio.sleep(0)
        return await real_save(uid, state, data, rev)

    async def slow_set(oid: int, **kw: Any) -> Any:
        if "job_id" in kw:
            await asyncio.sleep(0.05)  # widen the window between reading and writing job_id
        return await real_set(oid, **kw)

    async def spy(job: str, req: Any, job_id: str | None = None) -> Any:
        if job == c.JOB_GENERATE:
            generated.append(job_id)
        return await real_enqueue(job, req, job_id)

    store.save_session = save  # type: ignore[method-assign]
    store.set_order = slow_set  # type: ignore[method-assign]
    fake_engine.enqueue = spy  # type: ignore[method-assign]
    await chat.press("✓ Queue it")
    await asyncio.gather(*passes)
    assert len(generated) == 1, generated


async def test_forget_leaves_no_job_the_tracker_enqueued_meanwhile(
    fake_studio: Studio, fake_engine: FakeEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    chat = Chat(fake_studio, ANN)
    await _at_confirm(chat)
    fake_engine.serving[c.QUEUE_GPU] = False
    real_enqueue, failed_once = fake_engine.enqueue, []

    async def blip(job: str, req: Any, job_id: str | None = None) -> Any:
        if job == c.JOB_GENERATE and not failed_once:
            failed_once.append(job)
            raise ConnectionError("redis blip")  # the order stays queued with no job
        return await real_enqueue(job, req, job_id)

    fake_engine.enqueue = blip  # type: ignore[method-assign]
    await chat.press("✓ Queue it")
    tracker, real_forget = fake_studio.tracker(), rights.forget
    passes: list[asyncio.Task[None]] = []

    async def forget_with_a_pass(store: Any, uid: int, actor: Any = None) -> Any:
        passes.append(asyncio.create_task(tracker.tick()))  # the background pass, mid-/forget
        await asyncio.sleep(0.05)
        return await real_forget(store, uid, actor)

    monkeypatch.setattr(rights, "forget", forget_with_a_pass)
    [ask] = await chat.send("/forget")
    [done] = await fake_studio.handle(Press(ANN, _forget_button(ask)))
    assert "deleted" in done.text
    await asyncio.wait_for(asyncio.gather(*passes), 10)
    left = [(j.name, j.status) for j in fake_engine.jobs.values() if j.name == c.JOB_GENERATE]
    assert left == [], left  # its request would hold the reference crops


async def _hold_the_burst(fake_studio: Studio, fake_engine: FakeEngine) -> asyncio.Task[Any]:
    check, held = fake_engine.handlers[c.JOB_ANALYZE], asyncio.Event()

    def hold(engine: FakeEngine, req: Any) -> Any:
        engine.serving[c.QUEUE_FAST] = False  # the next photo waits
        held.set()
        return check(engine, req)

    fake_engine.handlers[c.JOB_ANALYZE] = hold
    burst = asyncio.create_task(fake_studio.handle(Files(ANN, tuple(astronaut_set()))))
    await asyncio.wait_for(held.wait(), 10)
    fake_engine.handlers[c.JOB_ANALYZE] = check
    return burst


async def test_a_cancel_during_a_burst_is_not_undone_when_the_burst_ends(
    fake_studio: Studio, fake_engine: FakeEngine
) -> None:
    chat = Chat(fake_studio, ANN)
    await chat.send("/start")
    await chat.press("I agree")
    burst = await _hold_the_burst(fake_studio, fake_engine)
    await fake_studio.handle(Command(ANN, "cancel"))
    uid = (await fake_studio.store.user("terminal", "ann"))["id"]
    after_cancel = await fake_studio.store.session(uid)
    assert after_cancel is not None and after_cancel.state == "idle"
    fake_engine.serving[c.QUEUE_FAST] = True
    replies = await burst
    assert not any(w.SOMETHING_WENT_WRONG in r.text for r in replies)
    now = await fake_studio.store.session(uid)
    assert now is not None and (now.state, now.rev) == ("idle", after_cancel.rev)


async def test_forget_during_a_burst_leaves_nothing_and_the_burst_ends_plainly(
    fake_studio: Studio, fake_engine: FakeEngine
) -> None:
    chat = Chat(fake_studio, ANN)
    await chat.send("/start")
    await chat.press("I agree")
    burst = await _hold_the_burst(fake_studio, fake_engine)
    [ask] = await fake_studio.handle(Command(ANN, "forget"))
    [done] = await fake_studio.handle(Press(ANN, _forget_button(ask)))
    assert "deleted" in done.text
    fake_engine.serving[c.QUEUE_FAST] = True
    replies = await burst
    assert not any(w.SOMETHING_WENT_WRONG in r.text for r in replies), [r.text for r in replies]
    store = fake_studio.store
    assert await store.all("SELECT user_id FROM wizard_sessions") == []
    assert await store.all("SELECT id FROM reference_photos") == []
    assert [f for f in store.media.root.rglob("*") if f.is_file()] == []


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("ban", "#99999999999999999999 spam"),
        ("mod", "unban #99999999999999999999"),
        ("ban", "99999999999999999999"),
        ("mod", "ban #18446744073709551616"),
    ],
)
async def test_huge_ids_in_moderator_commands_are_answered_plainly(
    fake_studio: Studio, name: str, args: str
) -> None:
    mia = Who("terminal", "mia", "mia-chat", "Mia", private=True, is_moderator=True)
    text = "\n".join(r.text for r in await fake_studio.handle(Command(mia, name, args)))
    assert w.SOMETHING_WENT_WRONG not in text and text


@pytest.mark.parametrize("arg", ["-1", "٣", "+1", "99999999999999999999", " 1"])
async def test_a_wizard_choice_takes_only_an_index_on_screen(fake_studio: Studio, arg: str) -> None:
    chat = Chat(fake_studio, ANN)
    await chat.send("/start")
    await chat.press("I agree")
    await chat.files(astronaut_set())
    await chat.press("Done")
    uid = (await fake_studio.store.user("terminal", "ann"))["id"]
    s = await fake_studio.store.session(uid)
    assert s is not None
    [first, *_] = await fake_studio.handle(Press(ANN, b.wizard(s.rev, "style", arg)))
    assert first.text == w.UNKNOWN_STYLE_BUTTON
    after = await fake_studio.store.session(uid)
    assert after is not None and after.data.get("style") is None
