"""Content packs in the conversation, fast: the pack step, only the pack's open questions
("Step N of M" for the pack), one order row with one generate job per look (each built
by Orders.generate_request), one album per look with pack-wide numbers, the contact
sheet, the quota by images, /status, cancel, retry, a look that fails, a bad pack at
start. On the in-memory engine (tests/fake_engine.py) and a real SQLite file; the same
order on the real worker over Telegram is tests/test_telegram_packs.py's."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from fake_engine import FakeEngine
from studio_harness import Chat, RecordingOutbox, astronaut_set, until

from bot.studio.core.core import Studio
from bot.studio.core.events import Reply, Who
from bot.studio.orders.orders import Orders
from sitter import contract as c
from sitter.config import load_settings
from sitter.prompts import PROMPTS_DIR, PromptError, PromptLibrary

WHO = Who("terminal", "ann", "ann-chat", "Ann")


async def _ready(chat: Chat) -> None:
    await chat.send("/start")
    await chat.press("I agree")
    await chat.files(astronaut_set())
    await chat.press("Done")


def _sent(studio: Studio) -> RecordingOutbox:
    return studio.outboxes["terminal"]  # type: ignore[return-value]


def _albums(studio: Studio) -> list[Reply]:
    return [r for _, r in _sent(studio).sent if r.images and "look " in r.text]


def _sheet(studio: Studio) -> Reply | None:
    return next((r for _, r in _sent(studio).sent if "contact sheet" in r.text or
                 ("all " in r.text and r.images and len(r.images) == 1)), None)  # fmt: skip


async def _linkedin(chat: Chat) -> list[Reply]:
    """Style step -> Packs -> LinkedIn headshots -> its one question -> the summary."""
    [style] = [r for r in chat.last if "choose a style" in r.text] or await chat.send("/new")
    assert "Packs: several looks in one order" in [b.label for row in style.buttons for b in row]
    [packs] = await chat.press("Packs")
    assert "LinkedIn headshots (4 looks × 2 = 8 images)" in packs.text
    assert "Creator pack (8 looks × 1 = 8 images)" in packs.text
    [light] = await chat.press("LinkedIn headshots")
    assert light.text.startswith("Step 2 of 2 – What light?"), light.text
    return await chat.press("Soft daylight")


async def test_a_pack_order_end_to_end(
    fake_studio: Studio, fake_engine: FakeEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    studio, chat = fake_studio, Chat(fake_studio, WHO)
    built: list[c.GenerateRequest] = []
    real = Orders.generate_request

    async def spy(self, order, job_id, refs):  # type: ignore[no-untyped-def]
        built.append(await real(self, order, job_id, refs))
        return built[-1]

    monkeypatch.setattr(Orders, "generate_request", spy)
    await _ready(chat)
    [summary] = await _linkedin(chat)
    for want in (
        "Pack: LinkedIn headshots – 4 looks × 2 images",
        "1. Boardroom (Professional headshot)",
        "4. Outdoors (Professional headshot)",
        "Lighting: Soft daylight",
        "That's 8 images of today's 12 (0 used so far, 12 left)",
    ):
        assert want in summary.text, summary.text
    assert "Attire" not in summary.text  # the looks fix it: never asked
    [progress] = await chat.press("✓ Queue it")
    assert "Order #1 (LinkedIn headshots, 4 looks) is queued" in progress.text
    assert progress.edit_key == "order-1" and chat.button("Cancel order", [progress])

    # One generate job per look, each with its own prompt and two seeds.
    assert len(built) == 4 and all(len(r.seeds) == 2 for r in built)
    assert "tailored dark business suit" in built[0].prompt
    assert "smart casual knit sweater" in built[2].prompt
    assert all("soft diffused daylight" in r.prompt for r in built)
    assert len({r.generation_id for r in built}) == 4

    [status] = await chat.send("/status")
    assert status.text.startswith("Order #1 (LinkedIn headshots):"), status.text
    assert "Images today: 8 of 12" in status.text

    await until(studio, lambda: _sheet(studio) is not None, 20, "the contact sheet")
    albums = _albums(studio)
    assert len(albums) == 4
    assert [len(a.images) for a in albums] == [2, 2, 2, 2]
    assert "look 1 of 4: Boardroom (#1–#2)" in albums[0].text
    assert "look 4 of 4: Outdoors (#7–#8)" in albums[3].text
    captions = [i.caption.split(" ")[0] for a in albums for i in a.images]
    assert captions == [f"#{n}" for n in range(1, 9)]
    labels = [b.label for a in albums for row in a.buttons for b in row]
    assert [f"Upscale {n}" for n in range(1, 9)] == [x for x in labels if "Upscale" in x]
    assert not any("Retry" in x for x in labels)  # Retry is per pack: under the sheet
    sheet = _sheet(studio)
    assert sheet is not None and "all 8 portraits" in sheet.text
    assert "Boardroom #1–#2" in sheet.text and "Outdoors #7–#8" in sheet.text
    assert any("Retry" in b.label for row in sheet.buttons for b in row)
    # Kept for an hour like a /photos sheet (a terminal's copy of it stays openable), then
    # swept; /forget deletes it at once (tests/test_rights_forget.py).
    assert sheet.images[0].path.exists()
    assert studio.store.media.sweep_kind("sheets", -1) >= 1
    assert not sheet.images[0].path.exists()
    progress_texts = [r.text for _, r in _sent(studio).sent if r.edit_key == "order-1"]
    assert any("painting look" in t for t in progress_texts), progress_texts
    assert progress_texts[-1] == "Order #1 (LinkedIn headshots) is ready ↓"
    gens = [j for j, _ in fake_engine.ran if j == c.JOB_GENERATE]
    assert len(gens) == 4

    # A pack portrait takes the same follow-ups, by its pack-wide number.
    await chat.press("Upscale 7", [albums[3]])
    await until(
        studio, lambda: any(r.images and r.images[0].as_file for _, r in _sent(studio).sent)
    )

    # The quota counts images: 8 used of 12; a second pack (8) is refused, with numbers.
    await chat.send("/new")
    [refused] = await _linkedin(chat)
    [refused] = await chat.press("✓ Queue it")
    assert "That's 8 images, and you have 4 of today's 12 left (8 used)" in refused.text
    assert "a portrait order is 4, a pack one per image" in refused.text
    assert not fake_engine.queued(c.QUEUE_GPU)
    [help_] = await chat.send("/help")
    assert "The daily limit counts images: a portrait order is 4, a pack one per image" in (
        help_.text
    )

    # /forget: every pack portrait and look row goes.
    await chat.send("/forget")
    [gone] = await chat.press("Yes, delete everything")
    assert "1 order and 8 portraits" in gone.text, gone.text
    assert not await studio.store.all("SELECT * FROM order_looks")


async def test_back_cancel_retry_and_a_failing_look(
    fake_studio: Studio, fake_engine: FakeEngine
) -> None:
    studio, chat = fake_studio, Chat(fake_studio, WHO)
    studio.settings = studio.settings.model_copy(update={"daily_quota": 40})
    await _ready(chat)
    await chat.press("Packs")
    [attire] = await chat.press("Avatar set")
    assert attire.text.startswith("Step 2 of 4 – What should you wear?"), attire.text
    [packs] = await chat.press("◀ Back")  # back to the packs, then to the styles
    assert "Choose a pack" in packs.text
    [styles] = await chat.press("◀ Styles")
    assert "Step 1 of 7 – choose a style" in styles.text
    await chat.press("Watercolor")
    assert "Step 2 of 7" in chat.text()  # a style again: every question
    await chat.send("/new")
    await chat.press("Packs")
    await chat.send("avatar set")  # typed, like a style
    for label in ("Business suit", "Office", "Golden hour"):
        await chat.press(label)
    assert "That's 8 images" in chat.text()

    fake_engine.fail_next(c.JOB_GENERATE, "internal", "boom")  # the first look fails
    [queued] = await chat.press("✓ Queue it")
    assert "Order #1 (Avatar set, 4 looks) is queued" in queued.text
    await until(studio, lambda: _sheet(studio) is not None, 20, "the contact sheet")
    texts = _sent(studio).texts()
    assert any("the look Watercolour failed" in t for t in texts), texts
    sheet = _sheet(studio)
    assert sheet is not None and "all 6 portraits" in sheet.text
    # The failed look cost nothing: 6 images counted.
    [status] = await chat.send("/status")
    assert "Images today: 6 of 40" in status.text, status.text

    # Retry is per pack: every look again, new seeds, the same cost.
    assert "Watercolour" not in sheet.text and "Pop art #3–#4" in sheet.text
    fake_engine.serving[c.QUEUE_GPU] = False  # the GPU busy elsewhere: its looks all wait
    [trying, queued] = await chat.press("↻ Retry", [sheet])
    assert "Painting pack order #1 again with new seeds (8 images)" in trying.text
    assert "Order #2 (Avatar set, 4 looks)" in queued.text
    # Cancel while its looks wait: off the queue, nothing counted (a look being painted
    # is stopped and counts: tests/test_tracker_events.py).
    [cancelled] = await chat.press("Cancel order", [queued])
    assert "Order #2 cancelled: the looks not yet painted are off the queue" in cancelled.text
    assert not fake_engine.queued(c.QUEUE_GPU)
    [status] = await chat.send("/status")
    assert "Order #2 (Avatar set): cancelled." in status.text
    assert "Images today: 6 of 40" in status.text, status.text


async def test_a_bad_pack_stops_start_up_with_its_file_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "prompts"
    shutil.copytree(PROMPTS_DIR, folder)
    bad = folder / "packs" / "broken.toml"
    bad.write_text('name = "Broken"\n[[looks]]\nname = "One"\nstyle = "no_such_style"\n')
    real = PromptLibrary.load
    monkeypatch.setattr(PromptLibrary, "load", lambda f=folder: real(f))
    settings = load_settings(data_dir=tmp_path / "data", redis_url="redis://127.0.0.1:1/0")
    with pytest.raises(PromptError, match=r"broken\.toml: look 1: unknown style 'no_such_style'"):
        await Studio.open(settings, engine=FakeEngine())


async def test_a_look_whose_job_redis_lost_is_queued_again(
    fake_studio: Studio, fake_engine: FakeEngine
) -> None:
    studio, chat = fake_studio, Chat(fake_studio, WHO)
    await _ready(chat)
    await _linkedin(chat)
    await chat.press("✓ Queue it")
    looks = await studio.store.looks(1)
    fake_engine.lose(looks[1]["job_id"])  # its result expired, Redis lost its data
    [status] = await chat.send("/status")
    assert "Order #1 (LinkedIn headshots): " in status.text
    await until(studio, lambda: _sheet(studio) is not None, 20, "the contact sheet")
    again = await studio.store.looks(1)
    assert again[1]["enqueues"] == 2 and again[1]["job_id"] != looks[1]["job_id"]
    assert [len(a.images) for a in _albums(studio)] == [2, 2, 2, 2]
    order = await studio.store.order(1)
    assert order["status"] == "delivered" and order["images"] == 8


async def test_vary_and_relight_refuse_a_packs_portrait_plainly(
    fake_studio: Studio, fake_engine: FakeEngine
) -> None:
    """Hostile review of issue 15: a pack's order row holds the pack, not each look's
    style and prompt, so "Vary 6" painted look 1's style. Refused plainly for now."""
    from bot.studio.core.events import Press
    from bot.studio.portrait import buttons as pb
    from bot.studio.portrait import words_portrait as wp

    studio, chat = fake_studio, Chat(fake_studio, WHO)
    await _ready(chat)
    await _linkedin(chat)
    await chat.press("✓ Queue it")
    await until(studio, lambda: _sheet(studio) is not None, 20, "the contact sheet")
    before = len(await studio.store.all("SELECT id FROM orders"))
    vid = (await studio.store.variations(1))[5]["id"]  # portrait #6, look 3
    for data in (pb.portrait(vid, "vary", "subtle"), pb.portrait(vid, "light", "0")):
        [said] = await studio.handle(Press(WHO, data))
        assert said.text == wp.NOT_FOR_PACKS
    assert len(await studio.store.all("SELECT id FROM orders")) == before
