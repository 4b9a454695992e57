"""Joint portraits and the rights: /forget by either person of a portrait together
leaves nothing of it anywhere (every table and column, the database and WAL files byte
for byte, the media folder), for both people; a moderator's removal and a ban reach
the joint order too. On the in-memory engine (tests/fake_engine.py)."""

from __future__ import annotations

import pytest
from fake_engine import FakeEngine
from rights_scan import in_db_files, in_files, in_tables
from studio_harness import until
from test_together_studio import ANN, BEA, button_in, invited_pair, sent_to
from together_helpers import WIZARD

from bot.studio.core.core import Studio
from bot.studio.core.events import Press
from bot.studio.moderation import Moderation


def copies_for(studio: Studio) -> list[object]:
    """The partner's copies of joint orders sent to Bea's chat."""
    return [r for r in sent_to(studio, "bea-chat") if "portraits of you and Ann" in r.text]


@pytest.fixture
def studio(fake_studio: Studio) -> Studio:
    return fake_studio


async def joint_order(studio: Studio, fake_engine: FakeEngine) -> tuple[object, object, int]:
    ann, bea, _inv = await invited_pair(studio, fake_engine)
    told = sent_to(studio, "ann-chat")[-1]
    await ann.send(Press(ANN, button_in([told], "Make our portrait")))
    await ann.press("Professional headshot")
    await ann.press("Back to back")
    for label in WIZARD:
        await ann.press(label)
    await ann.press("✓ Queue it")
    await until(studio, lambda: bool(copies_for(studio)), what="Bea's copy")
    order = await studio.store.last_order((await studio.store.user("terminal", "ann"))["id"])
    return ann, bea, int(order["id"])


@pytest.mark.parametrize("who", ["bea", "ann"])
async def test_forget_by_either_person_leaves_no_joint_portrait(
    studio: Studio, fake_engine: FakeEngine, who: str
) -> None:
    ann, bea, oid = await joint_order(studio, fake_engine)
    [copy] = [r for r in sent_to(studio, "bea-chat") if "portraits of you and Ann" in r.text]
    before = len(sent_to(studio, "bea-chat"))
    await bea.send(Press(BEA, button_in([copy], "Label 3")))  # a follow-up of Bea's too
    await until(studio, lambda: len(sent_to(studio, "bea-chat")) > before, what="the label")
    assert "“Made with AI” label" in sent_to(studio, "bea-chat")[-1].text
    store = studio.store
    portraits = [store.media.read(v.path) for v in await store.variations(oid)]
    rows = await store.all("SELECT sha256 FROM variations WHERE order_id = ?", oid)
    shas = {str(r[0]) for r in rows}
    copies = await store.all(
        "SELECT vj.path FROM variation_jobs vj JOIN variations v ON v.id = vj.variation_id "
        "WHERE v.order_id = ?",
        oid,
    )
    assert copies and all(store.media.path(r[0]).exists() for r in copies)
    copy_bytes = [store.media.read(r[0]) for r in copies]
    chat = bea if who == "bea" else ann
    [ask] = await chat.send("/forget")
    await chat.press("Yes, delete everything", [ask])

    needles = {f"portrait {i}": p[-256:] for i, p in enumerate(portraits)}
    needles |= {f"copy {i}": p[-256:] for i, p in enumerate(copy_bytes)}
    assert in_files(studio.settings.media_dir, needles) == []
    assert await in_tables(store, {f"sha {k[:8]}": k for k in shas}) == []
    assert await store.one("SELECT 1 FROM orders WHERE id = ?", oid) is None
    assert await store.one("SELECT 1 FROM orders WHERE partner_user_id IS NOT NULL") is None
    assert await store.one("SELECT 1 FROM invitations") is None
    await store.checkpoint()
    assert in_db_files(studio.settings.db_path, {f"sha {k[:8]}": k.encode() for k in shas}) == []
    # The other person's own set stays theirs.
    other = "ann" if who == "bea" else "bea"
    other_id = (await store.user("terminal", other))["id"]
    assert await store.photos((await store.current_set(other_id))["id"], "accepted")


async def test_a_ban_of_the_partner_stops_a_queued_joint_order(
    studio: Studio, fake_engine: FakeEngine
) -> None:
    ann, _bea, _inv = await invited_pair(studio, fake_engine)
    fake_engine.stop()
    told = sent_to(studio, "ann-chat")[-1]
    await ann.send(Press(ANN, button_in([told], "Make our portrait")))
    await ann.press("Professional headshot")
    await ann.press("Side by side")
    for label in WIZARD:
        await ann.press(label)
    await ann.press("✓ Queue it")
    assert await studio.engine.queue_depth("gpu") == 1
    mod = studio.moderation
    assert isinstance(mod, Moderation)
    bea_id = (await studio.store.user("terminal", "bea"))["id"]
    await mod.bans.ban("test", bea_id, "test")
    order = await studio.store.last_order((await studio.store.user("terminal", "ann"))["id"])
    assert order["status"] == "cancelled"
    # And no new joint order while she is banned.
    [ended] = await ann.send(Press(ANN, button_in([told], "Make our portrait")))
    await ann.press("Professional headshot")
    await ann.press("Side by side")
    for label in WIZARD:
        await ann.press(label)
    [refused] = await ann.press("✓ Queue it")
    assert "invitation for portraits together has ended" in refused.text
    assert ended is not None


async def test_protect_reaches_a_joint_order_through_the_partners_set(
    studio: Studio, fake_engine: FakeEngine
) -> None:
    """Bea's photos turn out to show a face protected later: the portraits of the joint
    order made from her set go too (she never ordered on her own)."""
    from fake_answers import BACKEND, person_vector

    from bot.studio.moderation.protect_reach import protect_everywhere
    from sitter import contract as c

    _ann, _bea, oid = await joint_order(studio, fake_engine)
    store = studio.store
    paths = [v.path for v in await store.variations(oid)]
    bella = c.Embedding(backend=BACKEND, vector=person_vector("bella"))
    face = c.ProtectedFace(id=1, embedding=bella)
    reached = await protect_everywhere(store, studio.engine, [face], "test", None, set(), 5.0)
    assert oid in reached.orders
    rows = await store.variations(oid)
    assert rows and all(r.removed_at and r.path is None for r in rows)
    assert not any(store.media.path(p).exists() for p in paths)
