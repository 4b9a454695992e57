"""Pets (issue 25) on the fake engine (tests/fake_engine.py) and a real SQLite file: a
cat's set beside the person's own (scikit-image's chelsea is the cat, the astronaut a
photo with a person and no pet), each refusal with its reason, the set judged with its
subject, a pet's portrait in a style that takes pets (a people-only style is not
offered), the order carrying the subject to the engine, results naming the pet and its
colour check, the avatar centred on the animal, /new asking whose portrait, /photos'
menu of sets, and /forget deleting the pet's set with the rest."""

from __future__ import annotations

import functools
import io
import json
import re

from fake_engine import FakeEngine
from PIL import Image
from rights_scan import in_db_files, in_files, in_tables
from studio_harness import Chat, RecordingOutbox, astronaut_set, jpeg, png, until

from bot.store.moderation_store import ModerationStore
from bot.studio.core.core import Studio
from bot.studio.core.events import IncomingFile, Press, Reply, Who
from bot.terminal.app import Terminal, TerminalOutbox
from sitter import contract as c

WHO = Who("terminal", "mira", "mira-chat", "Mira")
SLOTS = ("Royal portrait", "As in my photos", "Library", "Soft daylight", "Headshot")


@functools.cache
def _chelsea() -> tuple[tuple[str, bytes], ...]:
    """Four differently framed photos of one cat (skimage's chelsea, public domain)."""
    from skimage import data

    full = Image.fromarray(data.chelsea())  # 451 x 300
    return (
        ("chelsea.png", png(full)),
        ("left.jpg", jpeg(full.crop((0, 0, 320, 300)))),
        ("face.jpg", jpeg(full.crop((120, 20, 400, 280)).resize((360, 334)))),
        ("right.jpg", jpeg(full.crop((100, 10, 451, 300)))),
    )


def cat_set() -> list[IncomingFile]:
    return [IncomingFile(name, d, len(d)) for name, d in _chelsea()]


def _sent(studio: Studio) -> RecordingOutbox:
    return studio.outboxes["terminal"]  # type: ignore[return-value]


def _results(studio: Studio) -> list[Reply]:
    return [r for _, r in _sent(studio).sent if r.images and not r.images[0].as_file]


def _labels(replies: list[Reply]) -> list[str]:
    return [btn.label for r in replies for row in r.buttons for btn in row]


async def _cat_ready(studio: Studio, fake: FakeEngine, chat: Chat) -> None:
    """Consent, "🐾 Photos of my pet", Mochi the cat: a refused photo, then four of her."""
    fake.show_pet(cat_set(), "mochi", "cat")
    await chat.send("/start")
    await chat.press("I agree")
    assert "🐾 Photos of my pet" in _labels(chat.last)
    await chat.press("🐾 Photos of my pet")
    assert "what is its name" in chat.text()
    await chat.send("Mochi")
    assert "Is Mochi a cat or a dog?" in chat.text() and "yours to use" in chat.text()
    await chat.press("🐱 A cat")
    assert "Now collecting photos of Mochi (cat)" in chat.text()
    assert "Send me photos of Mochi" in chat.text()
    # The astronaut: a person and no pet, refused with its reason.
    await chat.files(astronaut_set()[:1])
    assert "there is a person in it" in chat.text(), chat.text()
    await chat.files(cat_set())
    assert chat.text().count("✓") == 4, chat.text()
    await chat.press("Done")
    assert "Great, 4 photos of Mochi are ready." in chat.text()


async def test_a_cats_portrait_from_set_to_forget(
    fake_studio: Studio, fake_engine: FakeEngine
) -> None:
    studio, store, chat = fake_studio, fake_studio.store, Chat(fake_studio, WHO)
    await _cat_ready(studio, fake_engine, chat)
    uid = (await store.user(WHO.platform, WHO.user_id))["id"]
    [pet] = await store.pet_sets(uid)
    assert (pet["subject"], pet["pet_name"], pet["status"]) == ("cat", "Mochi", "ready")
    assert pet["owner_confirmed_at"]  # the owner's confirmation, kept with the set
    own = await store.person_set(uid)
    assert own["id"] != pet["id"] and await store.count_photos(own["id"]) == 0
    assert await store.judged_rule(pet["id"])  # judged by its majority, as a cat's set

    # The style step offers the styles that take pets; a people-only style is refused.
    styles = _labels(chat.last)
    assert "Royal portrait" in styles and "Watercolor" in styles
    assert "Professional headshot" not in styles and "Cinematic" not in styles
    assert "The styles that suit Mochi" in chat.text()
    await chat.send("Professional headshot")
    assert "paints people only" in chat.text()
    for label in SLOTS:
        await chat.press(label)
    assert "How should we describe you" not in chat.text()  # a pet is not described
    await chat.press("Square 1:1 (avatars)")
    assert "Portrait of: Mochi (cat)" in chat.text() and "Style: Royal portrait" in chat.text()
    await chat.press("✓ Queue it")
    order = await store.last_order(uid)
    assert (order["sitter"], order["pet_name"], order["set_id"]) == ("cat", "Mochi", pet["id"])
    await until(studio, lambda: len(_results(studio)) == 1, 10, "portraits")
    req = fake_engine.asked[-1]
    assert req.subject == c.Subject.CAT and len(req.references) == 4
    assert "a cat" in req.prompt and "a person" not in req.prompt
    assert req.reference_prompt.startswith("regal royal oil portrait of the cat in the reference")
    [results] = _results(studio)
    assert "Royal portrait, Square 1:1 (avatars), of Mochi" in results.text
    captions = [i.caption for i in results.images]
    assert "looks like Mochi" in captions[1]
    assert "its coat's colours drifted" in captions[0]  # redone, the reason in its caption

    # Retry keeps the pet; the avatar is centred on the animal.
    await chat.press("↻ Retry", [results])
    await until(studio, lambda: len(_results(studio)) == 2, 10, "the retry")
    assert fake_engine.asked[-1].subject == c.Subject.CAT
    assert (await store.last_order(uid))["pet_name"] == "Mochi"
    cut: list[c.AvatarRequest] = []
    avatar = fake_engine.handlers[c.JOB_AVATAR]
    fake_engine.handlers[c.JOB_AVATAR] = lambda e, r: (cut.append(r), avatar(e, r))[1]
    [menu] = await chat.press("More 1…", [results])
    await chat.press("Avatar 1", [menu])
    await until(studio, lambda: any("Avatars of" in t for t in _sent(studio).texts()), 10)
    assert [r.subject for r in cut] == [c.Subject.CAT]  # as the worker read it off the queue

    refined: list[c.RefineRequest] = []
    refine = fake_engine.handlers[c.JOB_REFINE]
    fake_engine.handlers[c.JOB_REFINE] = lambda e, r: (refined.append(r), refine(e, r))[1]
    await chat.press("Vary 1 (subtle)", [menu])
    await until(studio, lambda: len(_results(studio)) == 3, 10, "the variations")
    assert [r.subject for r in refined] == [c.Subject.CAT]  # a vary of a pet's portrait
    assert "of Mochi" in _results(studio)[-1].text

    [page] = await chat.send("/portraits")
    assert "Royal portrait, of Mochi" in page.text

    # /new asks whose portrait; /photos offers each set.
    await chat.send("/new")
    assert "Who is this portrait of?" in chat.text()
    assert _labels(chat.last)[:2] == ["Me", "Mochi (cat)"]
    await chat.press("Me")  # her own set has no photos: photos first
    assert "Send me photos of yourself" in chat.text()
    await chat.send("/photos")
    assert "Whose photos?" in chat.text()
    assert {"Me", "Mochi (cat)", "🐾 A new pet"} <= set(_labels(chat.last))

    # /forget: the pet's set, its photos, crops, embeddings and portraits go with the rest,
    # and its name is nowhere (the privacy scan: every table, the files, the database file).
    photos = await store.photos(pet["id"], "accepted")
    kept = [p.path for p in photos] + [p.crop_path for p in photos if p.crop_path]
    kept += [v.path for v in await store.variations(order["id"]) if v.path]
    raw = {f"file {p}": store.media.path(p).read_bytes()[-64:] for p in kept}
    vector = json.dumps(photos[0].embedding)[1:40]  # how the embedding is stored
    assert len(raw) == 12
    [ask] = await chat.send("/forget")
    yes = next(b.data for row in ask.buttons for b in row if b.label.startswith("Yes"))
    await studio.handle(Press(WHO, yes))
    for table in ("reference_sets", "reference_photos", "working_sets", "orders", "variations"):
        assert (await store.one(f"SELECT COUNT(*) FROM {table}"))[0] == 0, table
    typed = {"the pet's name": "Mochi", "its embedding": vector}
    assert await in_tables(store, typed) == []
    assert in_files(store.media.root, raw) == []
    await store.run("PRAGMA wal_checkpoint(TRUNCATE)")
    needles = {**raw, **{k: v.encode() for k, v in typed.items()}}
    assert in_db_files(studio.settings.db_path, needles) == []


async def test_a_dog_photo_in_a_cats_set_and_a_person_style_pack(
    fake_studio: Studio, fake_engine: FakeEngine
) -> None:
    """The other species is refused with its reason; a pack of people-only styles is
    refused for a pet; a second pet keeps its own set."""
    studio, store, chat = fake_studio, fake_studio.store, Chat(fake_studio, WHO)
    await _cat_ready(studio, fake_engine, chat)
    await chat.press("Packs: several looks in one order")
    await chat.press("LinkedIn headshots")
    assert "That pack paints people only" in chat.text()
    await chat.press("Preview in three styles")  # only the styles that take pets
    assert "Royal portrait" in _labels(chat.last) and "Cinematic" not in _labels(chat.last)
    await chat.send("Cinematic")
    assert "paints people only" in chat.text()
    # A dog: its own set, and a cat's photo refused there as the wrong species.
    await chat.send("/pet")
    assert "Mochi (cat)" in _labels(chat.last)
    await chat.send("Rex")
    await chat.press("🐶 A dog")
    await chat.files(cat_set()[:1])
    assert "another kind of animal" in chat.text(), chat.text()
    await chat.send("new set")
    assert "Rex's set has no photos yet" in chat.text()
    uid = (await store.user(WHO.platform, WHO.user_id))["id"]
    names = sorted(r["pet_name"] for r in await store.pet_sets(uid))
    assert names == ["Mochi", "Rex"]
    # Mochi's set is untouched by Rex's photos.
    mochi = await store.pet_set_named(uid, "mochi")
    assert mochi is not None and await store.count_photos(mochi["id"]) == 4
    # A pet's embeddings are an animal's: never compared with protected faces or selfies.
    mod = ModerationStore(store)
    assert await mod.photos_with_faces() == []
    assert await mod.reference_embeddings(uid) == []
    assert await mod.others_reference_embeddings(uid + 1) == []


async def test_a_pet_in_the_terminal(
    fake_studio: Studio, fake_engine: FakeEngine, tmp_path
) -> None:
    """The same flow typed into the terminal adapter (bot/terminal/app.py): /pet, the
    name, the species by number, a folder of photos by path, /done, a style for pets, and
    the portraits saved with the pet's name in the message."""
    who = Who("terminal", "t", "t")
    screen = io.StringIO()
    term = Terminal(tmp_path / "out", who, stream=screen)
    fake_studio.add_outbox("terminal", TerminalOutbox(term))
    folder = tmp_path / "mochi"
    folder.mkdir()
    for name, data in _chelsea():
        (folder / name).write_bytes(data)
    (tmp_path / "astronaut.png").write_bytes(astronaut_set()[0].data or b"")
    fake_engine.show_pet(cat_set(), "mochi", "cat")

    async def line(text: str) -> str:
        start = len(screen.getvalue())
        event = term.parse(text)
        assert not isinstance(event, str) and event is not None, event
        term.render(await fake_studio.handle(event))
        return screen.getvalue()[start:]

    def number(label: str) -> str:
        found = re.findall(r"\[([a-z]*\d+)\] " + re.escape(label), screen.getvalue())
        assert found, f"no button {label!r} in:\n{screen.getvalue()[-1500:]}"
        return found[-1]

    await line("/start")
    await line(number("I agree"))
    assert "what is its name" in await line("/pet")
    assert "Is Mochi a cat or a dog?" in await line("Mochi")
    assert "Send me photos of Mochi" in await line(number("🐱 A cat"))
    assert "there is a person in it" in await line(str(tmp_path / "astronaut.png"))
    said = await line(str(folder))
    assert said.count("✓") == 4, said
    step = await line("/done")
    assert "Great, 4 photos of Mochi are ready." in step
    assert "Royal portrait" in step and "Professional headshot" not in step
    for label in ("Watercolor", "Knitwear", "Seaside", "Golden hour", "Half body"):
        await line(number(label))
    confirm = await line(number("Portrait 4:5 (feed posts)"))
    assert "Portrait of: Mochi (cat)" in confirm
    await line(number("✓ Queue it"))
    await until(fake_studio, lambda: "of Mochi: your 4 portraits" in screen.getvalue(), 10)
    assert any((tmp_path / "out").iterdir())  # the portraits, saved where the terminal says
    assert fake_engine.asked[-1].subject == c.Subject.CAT
