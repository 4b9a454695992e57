"""A portrait of two never carries a personal model: not the orderer's, not the
partner's — on the order, on the partner's retry, on a vary of a joint portrait —
while the orderer's own one-person order does carry hers (issue 23 with issue 24)."""

from __future__ import annotations

import hashlib

from fake_engine import FakeEngine
from studio_harness import Chat, until
from test_together_studio import (  # the together tests' own helpers
    ANN,
    BEA,
    WIZARD,
    button_in,
    capture,
    copies,
    invited_pair,
    sent_to,
    studio,  # noqa: F401  (the fixture)
)

from bot.studio.core.core import Studio
from bot.studio.core.events import Press


async def _ready_model(s: Studio, platform_user: str, lora: bytes) -> str:
    store = s.store
    user = await store.user("terminal", platform_user)
    ref = await store.current_set(user["id"])
    mid = await store.add_personal(user["id"], ref["id"], "v", "terminal", "", 4)
    rel, sha = store.media.put(user["id"], "personal", lora, "safetensors")
    await store.set_personal(mid, status="ready", path=rel, sha256=sha, delivered_at="x")
    return hashlib.sha256(lora).hexdigest()


async def test_no_personal_model_rides_with_a_portrait_of_two(
    studio: Studio,  # noqa: F811
    fake_engine: FakeEngine,
) -> None:
    seen = capture(fake_engine)
    ann, bea, _inv = await invited_pair(studio, fake_engine)
    anns = await _ready_model(studio, "ann", b"ann's lora")
    await _ready_model(studio, "bea", b"bea's lora")
    told = sent_to(studio, "ann-chat")[-1]
    await ann.send(Press(ANN, button_in([told], "Make our portrait")))
    await ann.press("Professional headshot")
    await ann.press("Facing each other")
    for label in WIZARD:
        await ann.press(label)
    await ann.press("✓ Queue it")
    await until(studio, lambda: len(copies(studio)) == 1, what="the joint portraits")
    await bea.send(Press(BEA, button_in(copies(studio), "↻ Retry")))  # the partner's retry
    await until(studio, lambda: len(copies(studio)) == 2, what="the retry's copy")
    joint = [r for r in seen if r.partner_references]
    assert len(joint) == 2 and all(r.personal is None for r in joint)
    for order in await studio.store.all("SELECT personal FROM orders"):
        assert order["personal"] == 0

    # Ann alone: her own order carries her own model (and only hers).
    solo = Chat(studio, ANN)
    await solo.send("/new")
    await solo.press("Professional headshot")
    for label in WIZARD:
        await solo.press(label)
    await solo.press("✓ Queue it")
    await until(studio, lambda: any(not r.partner_references for r in seen), what="Ann's own")
    [own] = [r for r in seen if not r.partner_references]
    assert own.personal is not None and own.personal.sha256 == anns
