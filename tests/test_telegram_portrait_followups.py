"""A portrait's More menu over Telegram, end to end: the loopback Bot API (the only
fake), python-telegram-bot, the real Studio over SQLite, Redis and the real worker
(tiny model, dlib). Avatars come as documents (512 and 1024 px, the portrait as their
C2PA parent); a portrait with no face gets the bot's explanation; vary (subtle,
strong) and relight (a preset, the person's own words, screened) each deliver four
new portraits with their own buttons, each labelled with the portrait as its parent.

The tiny model paints no face, so for the avatar that is made, portrait #2's stored
file is swapped for a real face labelled as the engine labels its portraits.
"""

from __future__ import annotations

import io
import json

import pytest
import test_telegram_studio as tg
from PIL import Image
from telegram_api import BotApiEmulator, TgUser
from test_telegram_studio import consent_and_photos, said, through_wizard

from engine.provenance import add_provenance
from engine.signing import load_signer

# This module's worker, emulator, settings and bot: the same fixtures as the studio's.
engine, api, settings, bot = tg.engine, tg.api, tg.settings, tg.bot

TIMEOUT = 300.0  # a busy machine paints the tiny model slowly; each wait is one order
ANNA = TgUser(2101, "Anna", "anna_f")
BORIS = TgUser(2102, "Boris")


def _c2pa(image: bytes) -> dict:
    import c2pa

    with c2pa.Reader("image/png", io.BytesIO(image)) as reader:
        return json.loads(reader.json())


def _parent_of(image: bytes) -> str | None:
    store = _c2pa(image)
    active = store["manifests"][store["active_manifest"]]
    parents = [i for i in active.get("ingredients", []) if i.get("relationship") == "parentOf"]
    return parents[0].get("active_manifest") if parents else None


def _png(im: Image.Image) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


async def _album(emu: BotApiEmulator, n: int) -> list[bytes]:
    [*_, album] = await emu.wait_calls("sendMediaGroup", n, ANNA.id, timeout=TIMEOUT)
    assert len(album.files) == 4
    return [data for _name, data in album.files.values()]


async def _step(
    emu: BotApiEmulator, label: str, then: str, timeout: float = 20.0, on: dict | None = None
) -> None:
    """Press the newest ``label`` button (or the one on message ``on``), then wait for a
    NEW text containing ``then``."""
    before = sum(then in t for t in emu.texts(ANNA.id))
    if on is None:
        await emu.press_button(ANNA, label)
    else:
        [data] = [
            b["callback_data"]
            for row in on["reply_markup"]["inline_keyboard"]
            for b in row
            if b["text"] == label
        ]
        await emu.press(ANNA, on, data)
    await emu.wait_for(
        lambda: sum(then in t for t in emu.texts(ANNA.id)) > before, timeout, repr(then)
    )


async def test_avatar_vary_and_relight_over_telegram(api, bot, settings) -> None:
    await consent_and_photos(api, ANNA)
    await through_wizard(api, ANNA)
    await api.press_button(ANNA, "Queue it")
    [portrait1, *_] = await _album(api, 1)
    await api.wait_for(lambda: "More 4…" in api.buttons(ANNA.id), 20, "More buttons")
    store = bot.studio.store
    [v1, v2, *_] = await store.variations(1)
    assert store.media.read(v1.path) == portrait1  # sent as stored: the labels stay
    parent1 = _c2pa(portrait1)["active_manifest"]
    first, _ = api.find_button(ANNA.id, "More 1…")  # order #1's results message

    # Avatar of a portrait with no face: explained, in the bot's words, no file.
    await _step(api, "More 1…", "What shall I do with portrait #1?")
    await _step(api, "Avatar 1", "I can't make an avatar of portrait #1", TIMEOUT)
    refused = await said(api, ANNA.id, "I can't make an avatar of portrait #1")
    assert "find a face" in refused and not api.sent("sendDocument", ANNA.id)

    # Avatar of a portrait with a face: two documents, 512 and 1024, the portrait as parent.
    # Labelled with the studio's own signer (its worker's): no other label is believed.
    from skimage import data

    face = add_provenance(
        _png(Image.fromarray(data.astronaut())),
        model="test-portrait",
        seed=5,
        signer=load_signer(
            settings.model_copy(update={"data_dir": tg.ENGINE_DATA[settings.queue_prefix]})
        ),
    )
    store.media.path(v2.path).write_bytes(face)
    await _step(api, "More 2…", "portrait #2?")
    await api.press_button(ANNA, "Avatar 2")
    docs = await api.wait_calls("sendDocument", 2, ANNA.id, timeout=TIMEOUT)
    sizes = []
    for d in docs:
        _name, png = next(iter(d.files.values()))
        with Image.open(io.BytesIO(png)) as im:
            sizes.append(im.size)
        assert _parent_of(png) == _c2pa(face)["active_manifest"]
    assert sorted(sizes) == [(512, 512), (1024, 1024)]
    await said(api, ANNA.id, "Avatars of portrait #2: 512×512 and 1024×1024 px")

    # Someone else's press on her portrait's menu is refused plainly.
    message, data = api.find_button(ANNA.id, "Vary 2 (subtle)")
    await api.send_text(BORIS, "/start")
    await api.wait_for(lambda: "I agree" in api.buttons(BORIS.id), what="consent")
    await api.press_button(BORIS, "I agree")
    await api.press(BORIS, {**message, "chat": {**message["chat"], "id": BORIS.id}}, data)
    await said(api, BORIS.id, "This portrait belongs to someone else.")

    # Vary subtle and strong, relight by a preset and in her own words.
    n = 1
    for steps, caption in (
        ((("More 1…", "portrait #1?"), ("Vary 1 (subtle)", "queued")), "Four subtle variations"),
        ((("More 1…", "portrait #1?"), ("Vary 1 (strong)", "queued")), "Four strong variations"),
        (
            (("More 1…", "portrait #1?"), ("Relight 1", "Which light"), ("Neon", "queued")),
            "Portrait #1 relit with colourful neon light",
        ),
    ):
        for i, (label, then) in enumerate(steps):
            await _step(api, label, then, on=first if i == 0 else None)  # order #1's #1
        n += 1
        for png in await _album(api, n):
            assert _parent_of(png) == parent1  # the portrait, named as the C2PA parent
        text = await said(api, ANNA.id, caption, TIMEOUT)
        assert "(order #1)" in text and "named as its parent in the signed C2PA manifest" in text
        await api.wait_for(lambda n=n: api.buttons(ANNA.id).count("More 4…") == n, 20)
        assert api.buttons(ANNA.id).count("Upscale 4") == n

    await _step(api, "More 1…", "portrait #1?", on=first)
    await _step(api, "Relight 1", "Which light for portrait #1?")
    await _step(api, "My own words", "Describe the light for portrait #1")
    await api.send_text(ANNA, "naked in candlelight")
    await said(api, ANNA.id, "Describe another light")
    await api.send_text(ANNA, "candlelight from the left")
    await _album(api, n + 1)
    await said(api, ANNA.id, "Portrait #1 relit with candlelight from the left", TIMEOUT)
    own = await store.order(n + 1)
    assert own["kind"] == "relight" and "candlelight from the left" in own["prompt"]
    assert all("naked" not in (o["prompt"] or "") for o in await store.all("SELECT * FROM orders"))


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
