"""The reference set a person can manage (issue 15): judged by its majority with the odd
one out named, /photos as a numbered contact sheet, remove photo N, start a new set,
and the same picture at another size counted once.

On the in-memory engine (tests/fake_engine.py: real decoding, real fingerprints, faces
from a table) for the conversation; on the real engine's dlib analysis with the shared
photos (../shared/faces) where the case needs real faces.
"""

from __future__ import annotations

import io
import random

from fake_engine import FakeEngine
from PIL import Image, ImageDraw
from studio_harness import Chat, astronaut_set

from bot.studio.core import Studio
from bot.studio.events import IncomingFile, Who

WHO = Who("terminal", "ann", "ann-chat", "Ann")


def picture(name: str, seed: int, side: int = 320, quality: int = 90) -> IncomingFile:
    """A distinct picture (shapes drawn from ``seed``), as a JPEG of ``side`` px."""
    rng = random.Random(seed)
    im = Image.new("RGB", (320, 320), tuple(rng.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(im)
    for _ in range(12):
        x, y = rng.randrange(300), rng.randrange(300)
        box = (x, y, x + rng.randrange(20, 160), y + rng.randrange(20, 160))
        draw.ellipse(box, fill=tuple(rng.randrange(256) for _ in range(3)))
    buf = io.BytesIO()
    im.resize((side, side)).save(buf, "JPEG", quality=quality)
    return IncomingFile(name, buf.getvalue(), len(buf.getvalue()))


async def consent(chat: Chat) -> None:
    await chat.send("/start")
    await chat.press("I agree")


async def test_first_three_photos_include_a_different_person(
    fake_studio: Studio, fake_engine: FakeEngine
) -> None:
    """The issue's case: two photos of a friend among the first three made every later
    photo of the person "a different person". The set is judged by its majority."""
    chat = Chat(fake_studio, WHO)
    await consent(chat)
    friend = [picture("bob.png", 1), picture("bob-beach.png", 2)]
    fake_engine.show(friend, "bob")
    hers = [*astronaut_set(), picture("ann-garden.png", 3)]
    fake_engine.show(hers, "astronaut")
    await chat.files([friend[0], hers[0], friend[1]])
    [v] = await chat.files(hers[1:])
    # Most of the photos show her: his two are named and set aside, hers all count.
    assert "bob.png looks like a different person than the others" in v.text, v.text
    assert "bob-beach.png looks like a different person" in v.text, v.text
    [done, *_] = await chat.press("Done")
    assert "5 photos of you are ready" in done.text, done.text
    ref = await fake_studio.store.current_set(
        (await fake_studio.store.user("terminal", "ann"))["id"]
    )
    accepted = await fake_studio.store.photos(ref["id"], "accepted")
    assert sorted(p["filename"] for p in accepted) == sorted(f.filename for f in hers)
