"""The whole conversation through Studio.handle, on real Redis, SQLite and an arq worker.

From /start to four portraits, then retry, upscale and label, then /forget.
"""

from __future__ import annotations

import pytest
from conftest import FACES, insightface_image, needs_shared
from studio_harness import (
    Chat,
    RecordingOutbox,
    astronaut_set,
    best_engine,
    incoming,
    until,
)

from bot.studio.core.core import Studio
from bot.studio.core.events import Who

pytestmark = pytest.mark.studio_db  # redis_url: the studio tests' own db

WHO = Who("terminal", "ann", "ann-chat", "Ann")


async def consent(chat: Chat) -> None:
    await chat.send("/start")
    await chat.press("I agree")
    assert "Send me photos" in chat.text()


async def wizard(chat: Chat) -> None:
    """Style by button, attire by preset, setting typed (emoji + RTL), the rest presets."""
    assert "choose a style" in chat.text()
    await chat.press("Watercolor")
    assert "What should you wear" in chat.text()
    await chat.press("Business suit")
    await chat.send("a rooftop café 🌆 in תל אביב")
    assert "What light" in chat.text()
    await chat.press("Golden hour")
    await chat.press("Headshot")
    await chat.press("Skip")
    await chat.press("Square 1:1 (avatars)")
    assert "Your order" in chat.text() and "תל אביב" in chat.text()


@pytest.mark.slow
async def test_whole_flow_to_four_portraits_and_actions(real_studio: Studio) -> None:
    """With the real engine worker (tiny model, dlib) as far as the checkout has it."""
    studio = real_studio
    chat = Chat(studio, WHO)
    outbox: RecordingOutbox = studio.outboxes["terminal"]  # type: ignore[assignment]
    await consent(chat)

    # References: four photos of one person at once, one answer with a verdict each.
    [verdicts] = await chat.files(astronaut_set())
    assert verdicts.text.count("✓ accepted") == 4, verdicts.text
    assert "4 good photos" in verdicts.text
    # The same bytes again are recognised, not counted twice.
    [dup] = await chat.files(astronaut_set()[:1])
    assert "same photo as one you already sent" in dup.text and "4 good photos" in dup.text
    await chat.press("Done")
    assert "4 photos of you are ready" in chat.text()

    await wizard(chat)
    [progress] = await chat.press("✓ Queue it")
    assert progress.edit_key and "queued" in progress.text

    def delivered() -> bool:
        return any(r.images for _, r in outbox.sent)

    await until(studio, delivered, 240, "four portraits")
    results = next(r for _, r in outbox.sent if r.images)
    assert len(results.images) == 4 and all(i.path.is_file() for i in results.images)
    # The tiny model paints noise: the person is told no face could be compared.
    assert all(i.caption.endswith("no face found to compare") for i in results.images)
    order = await studio.store.last_order((await studio.store.user("terminal", "ann"))["id"])
    assert order["status"] == "delivered" and "watercolor" in order["prompt"]
    # Once stored, the portraits live in the store only, not in Redis's kept results.
    assert not await studio.engine.redis.exists(f"arq:result:{order['job_id']}")
    assert "a rooftop café 🌆 in תל אביב" in order["prompt"]

    # Upscale 1 and label 2 come back as files; retry makes a new order with new seeds.
    [ack] = await chat.press("Upscale 1", [results])
    assert "Upscaling #1" in ack.text
    [twice] = await chat.press("Upscale 1", [results])
    assert "already under way" in twice.text or "Here it is again" in twice.text
    await chat.press("Label 2", [results])
    await until(
        studio,
        lambda: sum(1 for _, r in outbox.sent if r.images and r.images[0].as_file) >= 2,
        240,
        "upscale + label",
    )
    files = [r for _, r in outbox.sent if r.images and r.images[0].as_file]
    assert any("upscaled" in r.text for r in files) and any("label" in r.text for r in files)
    up = next(r for r in files if "upscaled" in r.text).images[0].path
    from PIL import Image

    with Image.open(up) as im, Image.open(results.images[0].path) as orig:
        assert im.width >= 2 * orig.width
    if best_engine() != "stand-in":  # the real engine's results carry AI provenance
        from engine.provenance import read_ai_info

        assert read_ai_info(results.images[0].path.read_bytes()) is not None
        assert read_ai_info(up.read_bytes()) is not None

    before = len([r for _, r in outbox.sent if r.images and not r.images[0].as_file])
    replies = await chat.press("↻ Retry", [results])
    assert "new seeds" in replies[0].text
    await until(
        studio,
        lambda: len([r for _, r in outbox.sent if r.images and not r.images[0].as_file]) > before,
        240,
        "retry results",
    )
    user = await studio.store.user("terminal", "ann")
    retry = await studio.store.last_order(user["id"])
    assert retry["retry_of"] == order["id"] and retry["seeds"] != order["seeds"]

    # Somebody else pressing the result buttons is told it isn't theirs.
    other = Chat(studio, Who("terminal", "bob", "bob-chat", "Bob"))
    [no] = await other.press("Upscale 3", [results])
    assert no.text == "This portrait belongs to someone else."

    # Daily quota (12 images in these tests): two orders of 4 used, so one more; here a
    # lower limit shows the refusal without a third generation.
    studio.settings = studio.settings.model_copy(update={"daily_quota": 8})
    await chat.send("/new")
    await wizard(chat)
    [limit] = chat.last  # the summary step says it: no "✓ Queue it" to be refused
    assert "✓ Queue it" not in [btn.label for row in limit.buttons for btn in row]
    assert "you have 0 of today's 8 left (8 used)" in limit.text
    assert "The daily limit counts images: a portrait order is 4" in limit.text

    # /forget asks first, then deletes everything and says what.
    await chat.send("/forget")
    [gone] = await chat.press("Yes, delete everything")
    assert "deleted 4 photos, 2 orders and 8 portraits" in gone.text, gone.text
    assert not await studio.engine.redis.keys(f"arq:*{order['job_id'].rsplit('-o', 1)[0]}*")
    assert await studio.store.user("terminal", "ann") is None
    assert not any(studio.store.media.root.rglob("*.png"))


@needs_shared
async def test_verdicts_on_real_photos(real_studio: Studio) -> None:
    """Bad photos get specific reasons; a different person is named, not silently used.

    The real engine's analysis (dlib) on the shared test photos.
    """
    chat = Chat(real_studio, WHO)
    await consent(chat)
    same = sorted((FACES / "deepface_id01").glob("*.jpg"))[:4]
    # Someone else first: nothing to compare with yet, so it is accepted for now...
    [v] = await chat.files([incoming(FACES / "biden" / "1.jpg"), *map(incoming, same[:4])])
    assert v.text.count("✓ accepted") == 5, v.text
    group = sorted((FACES / "group").glob("*"))[0]
    noface = sorted((FACES / "noface").glob("*"))[0]
    [v] = await chat.files([incoming(group), incoming(noface)])
    assert "I see 2 faces" in v.text and "can't find a face" in v.text, v.text
    # ...and named at Done (check_set), left out of the set.
    replies = await chat.press("Done")
    assert "biden/1.jpg looks like a different person than the others" in replies[0].text
    assert "4 photos of you are ready" in replies[0].text
    # Once the set has a majority, a different person is refused on arrival.
    await chat.send("/photos")
    hanks = insightface_image("Tom_Hanks_54745.png")
    [v] = await chat.files(
        [incoming(FACES / "obama" / "1.jpg"), incoming(hanks), incoming(same[0])]
    )
    # in the bot's own words (never the engine's sentence for a person: words.NEUTRAL_ONLY)
    assert "obama/1.jpg: ✗ it looks like a different person" in v.text, v.text
    assert "Tom_Hanks_54745.png: ✗" in v.text, v.text
    assert "deepface_id01/1.jpg: ✗ same photo as one you already sent (accepted)" in v.text


async def test_text_where_photo_expected_and_reverse(fake_studio: Studio) -> None:
    """About the conversation: on the in-memory engine (tests/fake_engine.py)."""
    chat = Chat(fake_studio, WHO)
    await consent(chat)
    await chat.send("here is my photo")
    assert "waiting for photos" in chat.text()
    [v] = await chat.files(astronaut_set())
    assert "✓ accepted" in v.text
    await chat.press("Done")
    # A photo during the wizard: not taken, told how, and the step is shown again.
    replies = await chat.files(astronaut_set()[:1])
    assert "not collecting photos" in replies[0].text and "choose a style" in replies[-1].text
    await chat.press("Watercolor")
    assert "What should you wear" in chat.text()
