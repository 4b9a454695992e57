"""Content packs in the conversation, fast: the pack step, only the pack's open questions
("Step N of M" for the pack), one order row with one generate job per look (each built
by Orders.generate_request), one album per look with pack-wide numbers, the contact
sheet, the quota by images, /status, cancel, retry, a look that fails, a bad pack at
start. On the in-memory engine (tests/fake_engine.py) and a real SQLite file; the same
order on the real worker over Telegram is tests/test_telegram_packs.py's."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from fake_engine import FakeEngine
from studio_harness import Chat, RecordingOutbox, astronaut_set, until

from bot.store.media import PACK_SHEETS
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
    pack_sheet = sheet.images[0].path  # swept below, after /photos leaves it alone
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

    # The quota counts images: 8 used of 12; a second pack (8) is refused, with numbers,
    # at its summary: no "✓ Queue it" that could only be refused (issue 22 item 23).
    await chat.send("/new")
    [refused] = await _linkedin(chat)
    labels = [btn.label for row in refused.buttons for btn in row]
    assert "✓ Queue it" not in labels and "◀ Back" in labels, labels
    assert "That's 8 images, and you have 4 of today's 12 left (8 used)" in refused.text
    assert "a portrait order is 4, a pack one per image" in refused.text
    assert not fake_engine.queued(c.QUEUE_GPU)
    [help_] = await chat.send("/help")
    assert "The daily limit counts images: a portrait order is 4, a pack one per image" in (
        help_.text
    )

    # Opening /photos (twice) neither deletes the pack's sheet nor its own unchanged one
    # (issue 22 item 15: both were kind "sheets", and every /photos deleted them all).
    deleted: list[str] = []
    studio.store.media.on_delete.append(deleted.append)
    [photos] = [r for r in await chat.send("/photos") if r.images]
    [again] = [r for r in await chat.send("/photos") if r.images]
    assert photos.images[0].path == again.images[0].path and again.images[0].path.exists()
    assert pack_sheet.exists() and deleted == []
    studio.store.media.on_delete.remove(deleted.append)
    assert studio.store.media.sweep_kind(PACK_SHEETS, -1) >= 1
    assert not pack_sheet.exists()

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


async def test_a_packs_portraits_have_their_more_menu_and_vary_relight_their_own_look(
    fake_studio: Studio, fake_engine: FakeEngine
) -> None:
    """Issue 22 item 16 (was refused plainly since issue 15's review: the order row holds
    the pack, not each look's style and prompt, so "Vary 6" painted look 1's style). Each
    look's album has its More buttons; vary and relight start from the look that painted
    the portrait; /portraits names the pack, not its first look's style."""
    studio, chat = fake_studio, Chat(fake_studio, WHO)
    studio.settings = studio.settings.model_copy(update={"daily_quota": 40})
    await _ready(chat)
    await _linkedin(chat)
    await chat.press("✓ Queue it")
    await until(studio, lambda: _sheet(studio) is not None, 20, "the contact sheet")
    looks = await studio.store.looks(1)
    album = _albums(studio)[2]  # look 3: Creative agency, #5–#6
    [menu] = await chat.press("More 6…", [album])
    labels = [btn.label for row in menu.buttons for btn in row]
    assert {"Avatar 6", "Vary 6 (subtle)", "Relight 6"} <= set(labels), labels
    [said, queued] = await chat.press("Vary 6 (subtle)", [menu])
    assert "subtle variations of portrait #6" in said.text and "queued" in queued.text
    varied = await studio.store.order(2)
    assert varied["kind"] == "vary" and varied["prompt"] == looks[2]["prompt"]
    assert varied["style"] == looks[2]["style"] and "knit sweater" in varied["prompt"]
    await until(studio, lambda: any("Four subtle variations of portrait #6" in r.text
                                    for _, r in _sent(studio).sent), 10, "variations")  # fmt: skip
    # Relight #7 (look 4, Outdoors): its own answers, the new light, none of the old.
    [menu] = await chat.press("More 7…", [_albums(studio)[3]])
    [lights] = await chat.press("Relight 7", [menu])
    await chat.press("Neon", [lights])
    relit = await studio.store.order(3)
    assert relit["kind"] == "relight" and "colourful neon light" in relit["prompt"]
    assert "smart blazer" in relit["prompt"] and "soft diffused daylight" not in relit["prompt"]
    assert "knit sweater" not in relit["prompt"]
    await until(studio, lambda: any("relit with colourful neon light" in r.text
                                    for _, r in _sent(studio).sent), 10, "relit")  # fmt: skip
    # The avatar of a pack portrait.
    [menu] = await chat.press("More 1…", [_albums(studio)[0]])
    await chat.press("Avatar 1", [menu])
    await until(studio, lambda: any("Avatars of" in t for t in _sent(studio).texts()), 10)
    # /portraits names the pack; Show says it and its More menu works too.
    [page] = await chat.send("/portraits")
    assert "#1 LinkedIn headshots – " in page.text, page.text
    assert "#1 Professional headshot" not in page.text
    [shown] = await chat.press("Show #1", [page])
    assert "LinkedIn headshots" in shown.text, shown.text
    [menu] = await chat.press("More 2…", [shown])
    [said, _] = await chat.press("Vary 2 (strong)", [menu])
    assert (await studio.store.order(4))["prompt"] == looks[0]["prompt"]


async def test_preview_in_three_styles_then_more_like_the_one_liked(
    fake_studio: Studio, fake_engine: FakeEngine
) -> None:
    """Issue 22 item 16: one portrait in each of three chosen styles, then "more like this"
    orders four of that one (its look's style, answers and prompt)."""
    studio, chat = fake_studio, Chat(fake_studio, WHO)
    studio.settings = studio.settings.model_copy(update={"daily_quota": 40})
    await _ready(chat)
    [packs] = await chat.press("Packs")
    assert "Preview in three styles: one portrait in each of three styles" in packs.text
    [ask] = await chat.press("Preview in three styles")
    assert ask.text.startswith("Step 2 of 6 – choose 3 styles to preview"), ask.text
    [ask] = await chat.press("Watercolor")
    [ask] = await chat.press("Pop art")
    assert "Chosen so far: Watercolor, Pop art (2 of 3)" in ask.text, ask.text
    [ask] = await chat.press("✓ Watercolor")  # pressed again: taken back
    assert "Chosen so far: Pop art (1 of 3)" in ask.text, ask.text
    await chat.send("oil painting")  # typed, like a style
    [attire] = await chat.press("Pencil sketch")
    assert attire.text.startswith("Step 3 of 6 – What should you wear?"), attire.text
    for label in ("Business suit", "Office", "Golden hour"):
        await chat.press(label)
    [summary] = await chat.press("Headshot")
    for want in (
        "Pack: Preview in three styles – 3 looks × 1 image",
        "1. Pop art (Pop art)",
        "3. Pencil sketch (Pencil sketch)",
        "Attire: Business suit",
        "That's 3 images of today's 40",
    ):
        assert want in summary.text, summary.text
    [queued] = await chat.press("✓ Queue it")
    assert "Order #1 (Preview in three styles, 3 looks) is queued" in queued.text, queued.text
    await until(studio, lambda: _sheet(studio) is not None, 20, "the contact sheet")
    albums = _albums(studio)
    assert [len(a.images) for a in albums] == [1, 1, 1]
    looks = await studio.store.looks(1)
    assert [x["style"] for x in looks] == ["pop_art", "oil_painting", "pencil_sketch"]
    assert all("tailored" in x["prompt"] or "suit" in x["prompt"] for x in looks)

    [menu] = await chat.press("More 2…", [albums[1]])
    [said, progress] = await chat.press("More like #2 (4)", [menu])
    assert "four more like portrait #2 of order #1 (Oil painting)" in said.text, said.text
    assert "queued" in progress.text
    more = await studio.store.order(2)
    assert more["kind"] == "order" and not more["pack"] and more["style"] == "oil_painting"
    assert more["prompt"] == looks[1]["prompt"] and len(json.loads(more["seeds"])) == 4
    await until(studio, lambda: any(r.text.startswith("Order #2") and len(r.images) == 4
                                    for _, r in _sent(studio).sent), 10, "four more")  # fmt: skip
    [status] = await chat.send("/status")
    assert "Images today: 7 of 40" in status.text, status.text
    [help_] = await chat.send("/help")
    assert "“Preview in three styles” paints one portrait in each of three styles" in help_.text
