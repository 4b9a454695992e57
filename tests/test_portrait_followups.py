"""A portrait's More menu, fast (tests/fake_engine.py, a real SQLite file): avatars at
512 and 1024 px sent as files, a refused avatar explained in the bot's words, vary
(subtle, strong) and relight (a preset, the person's own screened words) as orders of
their own with their own buttons, another person's presses and stale buttons refused,
and /forget of avatars and vary/relight portraits (their bytes scanned)."""

from __future__ import annotations

import json

from fake_engine import FakeEngine
from PIL import Image
from rights_scan import in_db_files, in_files, in_tables
from studio_harness import Chat, RecordingOutbox, astronaut_set, until

from bot.studio.core import buttons as b
from bot.studio.core.core import Studio
from bot.studio.core.events import Press, Reply, Who
from bot.studio.portrait import buttons as pb
from sitter import contract as c

ANN = Who("terminal", "ann", "ann-chat", "Ann")
BOB = Who("terminal", "bob", "bob-chat", "Bob")
WIZARD = (
    "Watercolor",
    "Business suit",
    "Office",
    "Golden hour",
    "Headshot",
    "Skip",
    "Square 1:1 (avatars)",
)


def _sent(studio: Studio) -> RecordingOutbox:
    return studio.outboxes["terminal"]  # type: ignore[return-value]


def _results(studio: Studio) -> list[Reply]:
    return [r for _, r in _sent(studio).sent if r.images and not r.images[0].as_file]


async def _delivered(studio: Studio, chat: Chat) -> Reply:
    """Consent, photos, the wizard, and the order's four portraits delivered."""
    await chat.send("/start")
    await chat.press("I agree")
    await chat.files(astronaut_set())
    await chat.press("Done")
    for label in WIZARD:
        await chat.press(label)
    await chat.press("✓ Queue it")
    await until(studio, lambda: len(_results(studio)) == 1, 10, "portraits")
    return _results(studio)[0]


async def test_avatars_come_as_two_files_and_a_refusal_is_explained(
    fake_studio: Studio, fake_engine: FakeEngine
) -> None:
    studio, chat = fake_studio, Chat(fake_studio, ANN)
    results = await _delivered(studio, chat)
    labels = [btn.label for row in results.buttons for btn in row]
    assert labels[-4:] == ["More 1…", "More 2…", "More 3…", "More 4…"]
    assert len(results.buttons) <= 5 and all(len(r) <= 5 for r in results.buttons)
    assert any(btn.data.startswith("u:") for row in results.buttons for btn in row)

    [menu] = await chat.press("More 2…", [results])
    assert "portrait #2" in menu.text
    await chat.press("Avatar 2", [menu])
    await until(studio, lambda: any("Avatars of" in t for t in _sent(studio).texts()), 10)
    sent = next(r for _, r in _sent(studio).sent if r.text.startswith("Order #1: Avatars of"))
    assert len(sent.images) == 2 and all(i.as_file for i in sent.images)
    sizes = []
    for i in sent.images:
        with Image.open(i.path) as im:
            sizes.append(im.size)
    assert sizes == [(512, 512), (1024, 1024)]
    assert "512×512 and 1024×1024" in sent.text and "C2PA" in sent.text
    [again] = await chat.press("Avatar 2", [menu])  # sent again, not made again
    assert again.text.startswith("Order #1: Here they are again") and len(again.images) == 2

    fake_engine.avatar_problem = c.AvatarProblem.FACE_AT_EDGE  # type: ignore[attr-defined]
    [menu3] = await chat.press("More 3…", [results])
    await chat.press("Avatar 3", [menu3])
    await until(studio, lambda: any("avatar of portrait #3" in t for t in _sent(studio).texts()))
    refused = next(r for _, r in _sent(studio).sent if "avatar of portrait #3" in r.text)
    assert "too close to the edge" in refused.text and not refused.images
    assert "engine's own sentence" not in refused.text and not refused.buttons  # no Try again
    [same] = await chat.press("Avatar 3", [menu3])  # the same answer, no new job
    assert "too close to the edge" in same.text
    assert [j for j, _ in fake_engine.ran].count(c.JOB_AVATAR) == 2


async def test_vary_and_relight_are_orders_with_their_own_buttons(
    fake_studio: Studio, fake_engine: FakeEngine
) -> None:
    studio, chat = fake_studio, Chat(fake_studio, ANN)
    studio.settings = studio.settings.model_copy(update={"daily_quota": 40})  # images: 10 orders
    results = await _delivered(studio, chat)
    store = studio.store
    first = (await store.variations(1))[1]  # portrait #2 of order #1

    [menu] = await chat.press("More 2…", [results])
    [said, progress] = await chat.press("Vary 2 (subtle)", [menu])
    assert "subtle variations of portrait #2" in said.text and "queued" in progress.text
    await until(studio, lambda: len(_results(studio)) == 2, 10, "variations")
    varied = _results(studio)[1]
    assert len(varied.images) == 4
    assert "Four subtle variations of portrait #2 (order #1)" in varied.text
    assert "portrait #2 named as its parent" in varied.text
    labels = [btn.label for row in varied.buttons for btn in row]
    assert {"Upscale 1", "Label 4", "More 3…"} <= set(labels)
    child = await store.order(2)
    assert child["kind"] == "vary" and child["parent_variation_id"] == first.id
    assert [j for j, _ in fake_engine.ran].count(c.JOB_REFINE) == 1

    [menu] = await chat.press("More 2…", [results])
    await chat.press("Vary 2 (strong)", [menu])
    await until(studio, lambda: len(_results(studio)) == 3, 10, "strong variations")
    assert "Four strong variations" in _results(studio)[2].text

    # Relight with a preset: the prompt is composed again with the new light only.
    [menu] = await chat.press("More 1…", [results])
    [lights] = await chat.press("Relight 1", [menu])
    assert {"Neon", "My own words"} <= {btn.label for row in lights.buttons for btn in row}
    await chat.press("Neon", [lights])
    relit = await store.order(4)
    assert relit["kind"] == "relight" and "colourful neon light" in relit["prompt"]
    assert "golden hour" not in relit["prompt"]
    await until(studio, lambda: len(_results(studio)) == 4, 10, "relit")
    assert "Portrait #1 relit with colourful neon light" in _results(studio)[3].text

    # Relight in her own words: screened like any typed answer.
    [ask] = await chat.press("My own words", [lights])
    assert "Describe the light for portrait #1" in ask.text
    [no] = await chat.send("naked body in candlelight")
    assert "does not make nude" in no.text and "Describe another light" in no.text, no.text
    [no] = await chat.send("moonlight on bare skin in the buff")  # issue 22: unlisted before
    assert "I can't use “in the buff”" in no.text and "Describe another light" in no.text
    assert await store.order(5) is None
    [said, _] = await chat.send("candlelight from the left")
    assert "portrait #1 relit with candlelight from the left" in said.text
    own = await store.order(5)
    assert "candlelight from the left" in own["prompt"] and "golden hour" not in own["prompt"]
    then = await chat.send("hello")  # asked once: the next text is not a light
    assert not any("relit" in r.text for r in then) and await store.order(6) is None


async def test_another_persons_and_stale_presses_are_refused(fake_studio: Studio) -> None:
    studio, chat = fake_studio, Chat(fake_studio, ANN)
    results = await _delivered(studio, chat)
    bob = Chat(studio, BOB)
    await bob.send("/start")
    await bob.press("I agree")
    vid = (await studio.store.variations(1))[0].id
    for data in (b.item("m", vid), b.item("a", vid), pb.portrait(vid, "vary", "subtle")):
        [r] = await bob.send(Press(BOB, data))
        assert r.text == "This portrait belongs to someone else.", r.text
    [r] = await chat.send(Press(ANN, pb.portrait(vid, "light", "99")))  # a light since removed
    assert "no longer offered" in r.text and r.buttons
    [r] = await chat.send(Press(ANN, "p:999999:vary:subtle"))
    assert r.text == "That portrait no longer exists."
    r2 = await chat.send(Press(ANN, "p:1:vary:wild"))
    assert "doesn't work any more" in r2[0].text
    assert results.images


async def test_forget_deletes_avatars_and_vary_portraits(fake_studio: Studio) -> None:
    studio, chat = fake_studio, Chat(fake_studio, ANN)
    results = await _delivered(studio, chat)
    [menu] = await chat.press("More 1…", [results])
    await chat.press("Avatar 1", [menu])
    [lights] = await chat.press("Relight 1", [menu])
    await chat.press("My own words", [lights])
    await chat.send("tangerine lantern glow")
    await until(studio, lambda: len(_results(studio)) == 2, 10, "relit")
    await until(studio, lambda: any("Avatars of" in t for t in _sent(studio).texts()), 10)
    store = studio.store
    avatar = await store.variation_job(1, "avatar")
    paths = [avatar["path"], *json.loads(avatar["more_paths"])]
    relit = [v.path for v in await store.variations(2)]
    raw = {f"file {p}": store.media.path(p).read_bytes()[-64:] for p in paths + relit}
    assert len(raw) == 6
    await chat.send("/forget")
    await chat.press("Yes, delete everything")
    typed = {"typed": "tangerine lantern"}
    assert await in_tables(store, typed) == []
    assert in_files(store.media.root, raw) == []
    db = studio.settings.db_path
    await store.run("PRAGMA wal_checkpoint(TRUNCATE)")
    assert in_db_files(db, {**raw, **{k: v.encode() for k, v in typed.items()}}) == []


async def test_an_older_engine_is_told_as_an_upgrade_for_the_operator(
    fake_studio: Studio, fake_engine: FakeEngine
) -> None:
    studio, chat = fake_studio, Chat(fake_studio, ANN)
    results = await _delivered(studio, chat)
    why = "this worker's contract does not know the job 'refine'"
    fake_engine.fail_next(c.JOB_REFINE, "engine_outdated", why)
    fake_engine.fail_next(c.JOB_AVATAR, "engine_outdated", why)
    [menu] = await chat.press("More 1…", [results])
    await chat.press("Vary 1 (subtle)", [menu])
    await chat.press("Avatar 1", [menu])
    upgrade = "the operator must upgrade it"
    await until(studio, lambda: sum(upgrade in t for t in _sent(studio).texts()) == 2, 10)
    assert not any("contract" in t for t in _sent(studio).texts())  # never the engine's words


def test_portrait_button_data_is_range_checked() -> None:
    assert b.parse(pb.portrait(7, "vary", "strong")) == pb.PortraitPress(7, "vary", "strong")
    assert b.parse(pb.portrait(7, "light")) == pb.PortraitPress(7, "light")
    assert b.parse(b.item("m", 7)) == pb.MenuPress("m", 7)
    for stale in ("p:0:vary:subtle", f"p:{2**63}:light", "p:7:paint", "p:7:light:", "p:+7:light"):
        assert b.parse(stale) is None, stale
    assert b.parse("u:7") == pb.FollowUpPress("u", 7)  # the buttons of older messages still work


async def test_the_retention_sweep_deletes_avatars_and_vary_portraits(fake_studio: Studio) -> None:
    """Past the result period: the avatars (both sizes) and a vary order's portraits go
    with their order, files included."""
    from bot.studio.rights import rights

    studio, chat = fake_studio, Chat(fake_studio, ANN)
    results = await _delivered(studio, chat)
    [menu] = await chat.press("More 1…", [results])
    await chat.press("Avatar 1", [menu])
    await chat.press("Vary 1 (strong)", [menu])
    await until(studio, lambda: len(_results(studio)) == 2, 10, "variations")
    await until(studio, lambda: any("Avatars of" in t for t in _sent(studio).texts()), 10)
    store = studio.store
    avatar = await store.variation_job(1, "avatar")
    files = [avatar["path"], *json.loads(avatar["more_paths"])]
    files += [v.path for v in await store.variations(2)]
    assert all(store.media.path(p).exists() for p in files) and len(files) == 6
    for table in ("orders", "variations"):
        await store.run(
            f"UPDATE {table} SET created_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-91 days')"
        )
    swept = await rights.sweep(store, studio.settings)
    assert swept["orders"] == 2 and not any(store.media.path(p).exists() for p in files)
    assert await store.all("SELECT * FROM variation_jobs") == []


async def test_a_relit_prompt_too_long_for_the_model_is_refused_before_queueing(
    fake_studio: Studio, fake_engine: FakeEngine, monkeypatch
) -> None:
    from bot.studio.wizard import prompt_fit

    studio, chat = fake_studio, Chat(fake_studio, ANN)
    results = await _delivered(studio, chat)
    monkeypatch.setattr(prompt_fit, "REFERENCE_PROMPT_SAFE_BYTES", 10)  # every prompt counted
    fake_engine.prompt_limit = 5  # words, for the fake
    [menu] = await chat.press("More 1…", [results])
    [lights] = await chat.press("Relight 1", [menu])
    [no] = await chat.press("Dramatic", [lights])
    assert "too long" in no.text and "Describe another light" in no.text, no.text
    assert await studio.store.order(2) is None
