"""Shared pieces of the portraits-together tests: a second person's photos, onboarding
through the real conversation, the invitation token read off a reply."""

from __future__ import annotations

import io
import re

from fake_engine import FakeEngine
from PIL import Image
from studio_harness import Chat, astronaut_set

from bot.studio.core.events import IncomingFile

WIZARD = (  # after the style (and the placement): the slot steps of prompts/wizard.toml
    "Business suit",
    "Office",
    "Soft daylight",
    "Headshot",
    "Skip",
    "Square 1:1 (avatars)",
)


def other_person_set(tag: str) -> list[IncomingFile]:
    """Four different decodable pictures (scikit-image's), framed in a colour of the
    tag's own (each person's files differ); the fake engine is told they show ``tag``."""
    import zlib

    from PIL import ImageOps
    from skimage import data

    colour = tuple(zlib.crc32(f"{tag}{k}".encode()) % 256 for k in range(3))
    out = []
    for n, name in enumerate(("chelsea", "coffee", "rocket", "camera")):
        im = Image.fromarray(getattr(data, name)()).convert("RGB").resize((320, 300))
        im = ImageOps.expand(im, border=6, fill=colour)
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=90)
        out.append(IncomingFile(f"{tag}{n}.jpg", buf.getvalue(), len(buf.getvalue())))
    return out


async def onboard(chat: Chat, engine: FakeEngine, person: str) -> None:
    """Consent, four photos of ``person`` (astronaut: the fixture's own), Done."""
    photos = astronaut_set() if person == "astronaut" else other_person_set(person)
    engine.show(photos, person)
    await chat.send("/start")
    await chat.press("I agree")
    await chat.files(photos)
    await chat.press("Done")


def token_in(text: str) -> str:
    """The invitation's token: a deep link's ``start=`` or the terminal's ``/start``."""
    m = re.search(r"(?:start=|/start )([A-Za-z0-9_-]{20,64})", text)
    assert m, f"no invitation token in {text!r}"
    return m.group(1)
