"""The conversation, fast: Studio.handle and its background passes on the in-memory
engine (tests/fake_engine.py) and a real SQLite file, with no Redis and no worker.

The same journeys on the real worker are tests/test_studio_flow.py's; these are about
what the person is told when the engine says yes, no, later, or nothing.
"""

from __future__ import annotations

import inspect

import pytest
from fake_engine import FakeEngine
from PIL import Image, ImageDraw
from studio_harness import Chat, RecordingOutbox, astronaut_set, png, until

from bot.studio.core.core import Studio
from bot.studio.core.events import Command, IncomingFile, Who
from sitter import contract as c
from sitter.engine_client import Engine
from sitter.queue import EngineClient

WHO = Who("terminal", "ann", "ann-chat", "Ann")
WIZARD = (
    "Watercolor",
    "Business suit",
    "Office",
    "Golden hour",
    "Headshot",
    "Skip",
    "Square 1:1 (avatars)",
)


def _photo(name: str, shade: int) -> IncomingFile:
    """A distinct picture per shade (flat ones would all be one picture to the
    perceptual fingerprint, engine/near_duplicate.py)."""
    img = Image.new("RGB", (320, 320), (shade, 120, 90))
    ImageDraw.Draw(img).rectangle(
        (shade, 2 * shade % 200, shade + 90, 2 * shade % 200 + 60), "white"
    )
    data = png(img)
    return IncomingFile(name, data, len(data))


async def _ready(chat: Chat) -> None:
    """Consent, the four astronaut photos, Done: at the style step."""
    await chat.send("/start")
    await chat.press("I agree")
    [v] = await chat.files(astronaut_set())
    assert v.text.count("✓ accepted") == 4, v.text
    await chat.press("Done")
    assert "4 photos of you are ready" in chat.text()


async def _order(chat: Chat) -> str:
    for label in WIZARD:
        await chat.press(label)
    [progress] = await chat.press("✓ Queue it")
    return progress.text


def _sent(studio: Studio) -> RecordingOutbox:
    return studio.outboxes["terminal"]  # type: ignore[return-value]


def test_the_fake_and_the_client_offer_the_same_engine() -> None:
    """Every method of the Engine protocol, with the same parameters, on both."""
    names = [n for n in vars(Engine) if not n.startswith("_")]
    assert {"enqueue", "result", "state", "remove_queued", "orphaned"} <= set(names)
    for name in names:
        proto = getattr(Engine, name)
        if isinstance(proto, property):
            assert hasattr(FakeEngine(), name)
            continue
        want = list(inspect.signature(proto).parameters)
        for impl in (EngineClient, FakeEngine):
            got = list(inspect.signature(getattr(impl, name)).parameters)
            assert got == want, f"{impl.__name__}.{name}{got} is not Engine.{name}{want}"


async def test_a_whole_order_with_follow_ups_and_forget(fake_studio: Studio) -> None:
    studio, chat = fake_studio, Chat(fake_studio, WHO)
    await _ready(chat)
    text = await _order(chat)
    assert "is queued: position 1 (you're next)" in text
    await until(studio, lambda: any(r.images for _, r in _sent(studio).sent), 10, "portraits")
    results = next(r for _, r in _sent(studio).sent if r.images)
    assert len(results.images) == 4 and "your 4 portraits" in results.text
    # The progress message went queued -> painting -> ready, each once.
    progress = [r.text for _, r in _sent(studio).sent if r.edit_key]
    assert any("painting your 4 portraits" in t for t in progress), progress
    assert progress[-1].endswith("is ready ↓")

    await chat.press("Upscale 1", [results])
    await chat.press("Label 2", [results])
    await until(
        studio,
        lambda: sum(1 for _, r in _sent(studio).sent if r.images and r.images[0].as_file) == 2,
        10,
        "upscale and label",
    )
    files = [r for _, r in _sent(studio).sent if r.images and r.images[0].as_file]
    up = next(r for r in files if "upscaled" in r.text)
    assert "upscaled to 256×256" in up.text and "fake engine" not in up.text  # size, no internals
    with Image.open(up.images[0].path) as im:
        assert im.size == (256, 256)

    engine: FakeEngine = studio.engine  # type: ignore[assignment]
    assert [j for j, _ in engine.ran].count(c.JOB_ANALYZE) == 4
    await chat.send("/forget")
    [gone] = await chat.press("Yes, delete everything")
    assert "deleted 4 photos, 1 order and 4 portraits" in gone.text, gone.text
    assert not engine.jobs  # nothing of hers is left in the queue either


async def test_photo_verdicts_follow_what_the_engine_sees(
    fake_studio: Studio, fake_engine: FakeEngine
) -> None:
    chat = Chat(fake_studio, WHO)
    await chat.send("/start")
    await chat.press("I agree")
    group, blank, stranger = _photo("group.png", 10), _photo("wall.png", 20), _photo("bob.png", 30)
    fake_engine.show([group], "astronaut", faces=3)
    fake_engine.show([stranger], "bob")
    tiny = png(Image.new("RGB", (40, 40)))
    [v] = await chat.files([group, blank, IncomingFile("tiny.png", tiny, len(tiny))])
    assert "group.png: ✗ there is more than one face" in v.text and "(I see 3 faces)" in v.text
    assert "wall.png: ✗ I can't find a face in it" in v.text, v.text
    assert "tiny.png: ✗ this picture is only 40x40 pixels" in v.text, v.text  # engine/intake.py
    # A stranger first is accepted (nothing to compare with yet), then named at Done.
    [v] = await chat.files([stranger, *astronaut_set()])
    assert v.text.count("✓ accepted") == 5, v.text
    [done, *_] = await chat.press("Done")
    assert "bob.png looks like a different person than the others" in done.text
    assert "4 photos of you are ready" in done.text
    # Once the set has a majority, a different person is refused on arrival.
    await chat.send("/photos")
    other = _photo("carl.png", 40)
    fake_engine.show([other], "carl")
    [v] = await chat.files([other])
    assert "carl.png: ✗ it looks like a different person" in v.text, v.text


async def test_engine_failures_are_told_plainly(
    fake_studio: Studio, fake_engine: FakeEngine
) -> None:
    studio, chat = fake_studio, Chat(fake_studio, WHO)
    await chat.send("/start")
    await chat.press("I agree")
    fake_engine.fail_next(c.JOB_ANALYZE, "internal", "the face model crashed")
    [v] = await chat.files(astronaut_set()[:1])
    assert "✗ I couldn't check it (the studio's engine hit an unexpected error)." in v.text
    assert "face model crashed" not in v.text  # the engine's sentence stays in the log
    await chat.files(astronaut_set())
    fake_engine.fail_next(c.JOB_CHECK_SET, "internal", "out of memory")
    [r] = await chat.press("Done")
    assert "I couldn't compare your photos (the studio's engine hit an unexpected" in r.text
    await chat.press("Done")
    fake_engine.fail_next(c.JOB_GENERATE, "internal", "the GPU fell over")
    await _order(chat)
    await until(studio, lambda: any("failed" in t for t in _sent(studio).texts()), 10, "failure")
    failed = next(r for _, r in _sent(studio).sent if "failed" in r.text)
    # In the failure code's words: the engine's own sentence stays in the log.
    assert "order #1 failed: the studio's engine hit an unexpected error" in failed.text
    assert "GPU fell over" not in failed.text
    assert failed.buttons[0][0].label == "↻ Try again"
    # An answer this bot cannot read (an engine of another contract) is a plain failure.
    fake_engine.handlers[c.JOB_UPSCALE] = lambda engine, req: {"image": b"x"}
    await chat.press("↻ Try again", [failed])
    await until(studio, lambda: any(r.images for _, r in _sent(studio).sent), 10, "retry")
    results = next(r for _, r in _sent(studio).sent if r.images)
    await chat.press("Upscale 1", [results])
    await until(studio, lambda: any("upscaling #1 failed" in t for t in _sent(studio).texts()), 10)
    assert any("sent an answer I could not read" in t for t in _sent(studio).texts())


async def test_a_slow_checker_times_out_and_leaves_nothing_queued(
    fake_studio: Studio, fake_engine: FakeEngine
) -> None:
    fake_studio.analyze_timeout_s = 0.2
    fake_engine.delay[c.JOB_ANALYZE] = 30.0
    chat = Chat(fake_studio, WHO)
    await chat.send("/start")
    await chat.press("I agree")
    [v] = await chat.files(astronaut_set()[:1])
    assert "didn't answer in time" in v.text and "send it again in a minute" in v.text
    assert await fake_engine.queue_depth(c.QUEUE_FAST) == 0  # the photo left the queue


async def test_no_worker_keeps_photos_and_says_so_then_checks_them(
    fake_studio: Studio, fake_engine: FakeEngine
) -> None:
    chat = Chat(fake_studio, WHO)
    await chat.send("/start")
    await chat.press("I agree")
    fake_engine.stop()
    [v] = await chat.files(astronaut_set())
    assert "The studio's engine is not running" in v.text and "kept your 4 photos" in v.text
    assert not fake_engine.jobs
    fake_engine.start()
    replies = await chat.press("Done")
    text = "\n".join(r.text for r in replies)
    assert text.count("✓ accepted") == 4 and "photos of you are ready" in text, text


async def test_queue_position_counts_other_peoples_orders(
    fake_studio: Studio, fake_engine: FakeEngine
) -> None:
    fake_engine.serving[c.QUEUE_GPU] = False  # a worker is there, busy elsewhere
    ann, bob = Chat(fake_studio, WHO), Chat(fake_studio, Who("terminal", "bob", "bob-c", "Bob"))
    for chat in (ann, bob):
        await _ready(chat)
    assert "position 1 (you're next)" in await _order(ann)
    assert "position 2 (1 ahead of you)" in await _order(bob)
    [status] = await bob.send("/status")
    assert "queued, position 2" in status.text
    await ann.send("/cancel")
    [status] = await bob.send("/status")
    assert "queued, position 1" in status.text


async def test_a_killed_worker_is_said_then_its_order_handed_back(
    fake_studio: Studio, fake_engine: FakeEngine
) -> None:
    studio, chat = fake_studio, Chat(fake_studio, WHO)
    await _ready(chat)
    fake_engine.delay[c.JOB_GENERATE] = 60.0
    await _order(chat)  # the look after queueing it lets the worker take it
    [status] = await chat.send("/status")
    assert "being painted right now" in status.text
    fake_engine.kill()
    [status] = await chat.send("/status")
    assert "its engine worker stopped" in status.text
    fake_engine.delay[c.JOB_GENERATE] = 0.0
    fake_engine.start()
    await until(studio, lambda: any(r.images for _, r in _sent(studio).sent), 10, "portraits")
    order = await studio.store.last_order((await studio.store.user("terminal", "ann"))["id"])
    assert order["status"] == "delivered" and order["enqueues"] == 1  # handed back, not redone


async def test_a_lost_job_is_queued_again(fake_studio: Studio, fake_engine: FakeEngine) -> None:
    studio, chat = fake_studio, Chat(fake_studio, WHO)
    await _ready(chat)
    fake_engine.serving[c.QUEUE_GPU] = False
    await _order(chat)
    user = await studio.store.user("terminal", "ann")
    order = await studio.store.last_order(user["id"])
    fake_engine.lose(order["job_id"])  # Redis lost it
    fake_engine.serving[c.QUEUE_GPU] = True
    await until(studio, lambda: any(r.images for _, r in _sent(studio).sent), 10, "portraits")
    again = await studio.store.order(order["id"])
    assert again["enqueues"] == 2 and again["status"] == "delivered"


async def test_redis_down_is_an_outage_not_a_crash(
    fake_studio: Studio, fake_engine: FakeEngine
) -> None:
    """Redis unreachable reads as no engine: photos are kept unchecked, nothing raises."""
    chat = Chat(fake_studio, WHO)
    await _ready(chat)
    fake_engine.down = True
    await fake_studio.handle(Command(WHO, "photos"))
    [v] = await chat.files([_photo("new.png", 50)])
    assert "The studio's engine is not running" in v.text and "kept your 1 photo" in v.text
    [again] = await chat.press("Done")
    assert "not running" in again.text


@pytest.mark.parametrize("limit, refused", [(None, False), (5, True)])
async def test_a_long_prompt_is_refused_by_the_engines_count(
    fake_studio: Studio, fake_engine: FakeEngine, limit: int | None, refused: bool
) -> None:
    fake_engine.prompt_limit = limit
    chat = Chat(fake_studio, WHO)
    await _ready(chat)
    await chat.press("Watercolor")
    for _ in ("attire", "setting", "lighting"):  # each under 200, together over 480 bytes
        await chat.send("a long and careful description of what I would like here " * 3)
    await chat.press("Headshot")
    await chat.press("Skip")
    await chat.press("Square 1:1 (avatars)")
    [r] = await chat.press("✓ Queue it")
    assert ("too long for this model" in r.text) is refused, r.text  # the bot's words
    assert "too long for the model" not in r.text  # never the engine's sentence
