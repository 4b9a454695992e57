"""Pets (issue 25) on the fake engine (tests/fake_engine.py) and a real SQLite file: a
cat's set beside the person's own (scikit-image's chelsea is the cat, the astronaut a
photo with a person and no pet), each refusal with its reason, the set judged with its
subject, a pet's portrait in a style that takes pets (a people-only style is not
offered), the order carrying the subject to the engine, results naming the pet and its
colour check, the avatar centred on the animal, /new asking whose portrait, /photos'
menu of sets, and /forget deleting the pet's set with the rest."""

from __future__ import annotations

import functools

from fake_engine import FakeEngine
from PIL import Image
from studio_harness import Chat, RecordingOutbox, astronaut_set, jpeg, png, until

from bot.studio.core.core import Studio
from bot.studio.core.events import IncomingFile, Press, Reply, Who
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

    # /new asks whose portrait; /photos offers each set.
    await chat.send("/new")
    assert "Who is this portrait of?" in chat.text()
    assert _labels(chat.last)[:2] == ["Me", "Mochi (cat)"]
    await chat.press("Me")  # her own set has no photos: photos first
    assert "Send me photos of yourself" in chat.text()
    await chat.send("/photos")
    assert "Whose photos?" in chat.text()
    assert {"Me", "Mochi (cat)", "🐾 A new pet"} <= set(_labels(chat.last))

    # /forget: the pet's set, its photos and portraits go with the rest.
    [ask] = await chat.send("/forget")
    yes = next(b.data for row in ask.buttons for b in row if b.label.startswith("Yes"))
    await studio.handle(Press(WHO, yes))
    for table in ("reference_sets", "reference_photos", "working_sets", "orders", "variations"):
        assert (await store.one(f"SELECT COUNT(*) FROM {table}"))[0] == 0, table
    assert not (store.media.root / f"u{uid}").exists()  # photos, crops, portraits


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
    # A dog: its own set, and a cat's photo refused there as the wrong species.
    await chat.send("/pet")
    assert "Mochi (cat)" in _labels(chat.last)
    await chat.send("Rex")
    await chat.press("🐶 A dog")
    await chat.files(cat_set()[:1])
    assert "another kind of animal" in chat.text(), chat.text()
    uid = (await store.user(WHO.platform, WHO.user_id))["id"]
    names = sorted(r["pet_name"] for r in await store.pet_sets(uid))
    assert names == ["Mochi", "Rex"]
    # Mochi's set is untouched by Rex's photos.
    mochi = await store.pet_set_named(uid, "mochi")
    assert mochi is not None and await store.count_photos(mochi["id"]) == 4
