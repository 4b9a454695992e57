"""Portraits of two people through the studio core, on the in-memory engine
(tests/fake_engine.py, which answers a joint order with two faces) and a real SQLite
file: invite, accept (after consent and a set of one's own), the placement step, one
request with both sets' references, delivery to both chats, the partner's buttons,
decline, single use, expiry, withdraw mid-order, /forget by the second person,
a report from the second person, bans, stale and foreign presses."""

from __future__ import annotations

import pytest
from fake_engine import FakeEngine
from studio_harness import Chat, RecordingOutbox, until
from together_helpers import WIZARD, onboard, token_in

from bot.store.store import now_iso
from bot.studio.core.core import Studio
from bot.studio.core.events import Command, Press, Reply, Who
from bot.studio.moderation import Moderation, Place
from sitter import contract as c

ANN = Who("terminal", "ann", "ann-chat", "Ann")
BEA = Who("terminal", "bea", "bea-chat", "Bea")
CAY = Who("terminal", "cay", "cay-chat", "Cay")


@pytest.fixture
def studio(fake_studio: Studio) -> Studio:
    fake_studio.settings = fake_studio.settings.model_copy(update={"daily_quota": 40})
    return fake_studio


def outbox(studio: Studio, platform: str = "terminal") -> RecordingOutbox:
    return studio.outboxes[platform]  # type: ignore[return-value]


def sent_to(studio: Studio, chat: str, platform: str = "terminal") -> list[Reply]:
    return [r for to, r in outbox(studio, platform).sent if to.chat_id == chat]


def copies(studio: Studio) -> list[Reply]:
    """The partner's copies of joint orders, as sent to Bea's chat."""
    return [r for r in sent_to(studio, "bea-chat") if "portraits of you and Ann" in r.text]


def button_in(replies: list[Reply], label: str) -> str:
    for r in replies:
        for row in r.buttons:
            for b in row:
                if b.label.startswith(label):
                    return b.data
    raise AssertionError(f"no button {label!r} in {[r.text for r in replies]}")


def capture(engine: FakeEngine) -> list[c.GenerateRequest]:
    seen: list[c.GenerateRequest] = []
    real = engine.handlers["generate"]

    def keep(e: FakeEngine, req: c.GenerateRequest) -> c.Message:
        seen.append(req)
        return real(e, req)

    engine.handlers["generate"] = keep
    return seen


async def invited_pair(studio: Studio, fake_engine: FakeEngine) -> tuple[Chat, Chat, int]:
    """Ann invites, Bea opens the code before consenting, makes her set, accepts."""
    ann, bea = Chat(studio, ANN), Chat(studio, BEA)
    await onboard(ann, fake_engine, "astronaut")
    [made] = await ann.press("👥 Portrait together")
    assert "works once and expires in 24 hours" in made.text
    token = token_in(made.text)  # the terminal shows the code to pass on
    stored = await studio.store.one("SELECT token_sha256 FROM invitations")
    assert stored is not None and token not in stored[0]  # only its hash is kept

    first = await bea.send(Command(BEA, "start", token))
    assert "Ann invites you to a portrait of the two of you. First agree" in first[0].text
    assert any("I agree" in b.label for r in first for row in r.buttons for b in row)
    await onboard(bea, fake_engine, "bella")
    [listed] = await bea.send("/together")
    assert "Ann invited you: waiting for an answer" in listed.text
    [card] = await bea.press("✓ Accept")
    assert card.text.startswith("Accepted. Ann can now order portraits of the two of you")
    bea_id = (await studio.store.user("terminal", "bea"))["id"]
    [inv] = await studio.store.invitations_of(bea_id)
    assert inv["status"] == "accepted" and inv["consent_version"] == "together-1"
    told = sent_to(studio, "ann-chat")[-1]
    assert "Bea accepted your invitation" in told.text
    return ann, bea, int(inv["id"])


async def test_invite_accept_joint_order_delivered_to_both(
    studio: Studio, fake_engine: FakeEngine
) -> None:
    seen = capture(fake_engine)
    ann, bea, _inv = await invited_pair(studio, fake_engine)
    told = sent_to(studio, "ann-chat")[-1]
    await ann.send(Press(ANN, button_in([told], "Make our portrait")))
    assert "Step 1 of 8" in ann.text()  # the placement is one more question
    await ann.press("Professional headshot")
    assert "how do the two of you stand?" in ann.text() and "Step 2 of 8" in ann.text()
    stale = await ann.send(Press(ANN, button_in(ann.last, "Facing each other") + "9"))
    assert "not one of the placements" in stale[0].text  # (then the question again)
    await ann.press("Facing each other")
    for label in WIZARD:
        await ann.press(label)
    assert "Placement: Facing each other" in ann.text()
    [queued] = await ann.press("✓ Queue it")
    assert "is queued" in queued.text
    await until(studio, lambda: bool(seen and copies(studio)), what="both copies")

    [req] = seen
    assert len(req.references) == 4 and len(req.partner_references) == 4
    assert req.placement == c.Placement.FACING
    bella = {tuple(r.embedding.vector) for r in req.partner_references}
    assert not bella & {tuple(r.embedding.vector) for r in req.references}
    order = await studio.store.last_order((await studio.store.user("terminal", "ann"))["id"])
    assert order["partner_user_id"] == (await studio.store.user("terminal", "bea"))["id"]
    assert "Images today: 4 of 40" in (await ann.send("/status"))[0].text  # charged to Ann

    [copy] = [r for r in sent_to(studio, "bea-chat") if "portraits of you and Ann" in r.text]
    assert len(copy.images) == 4
    labels = [b.label for row in copy.buttons for b in row]
    assert "Upscale 1" in labels and "Label 4" in labels and "Delete our portraits" in labels
    # Bea's press acts on her own copy: the upscale comes to her chat.
    before = len(sent_to(studio, "bea-chat"))
    [started] = await bea.send(Press(BEA, button_in([copy], "Upscale 1")))
    assert "Upscaling #1" in started.text
    await until(studio, lambda: len(sent_to(studio, "bea-chat")) > before, what="Bea's upscale")
    assert "upscaled" in sent_to(studio, "bea-chat")[-1].text
    # Cay, a stranger, cannot use either copy's buttons.
    cay = Chat(studio, CAY)
    await onboard(cay, fake_engine, "cay")
    [no] = await cay.send(Press(CAY, button_in([copy], "Upscale 2")))
    assert no.text == "This portrait belongs to someone else."
    [no] = await cay.send(Press(CAY, button_in([copy], "Delete our portraits")))
    assert no.text == "This portrait belongs to someone else."

    # /forget by Bea: every joint portrait goes, for Ann too (rows and files).
    paths = [v.path for v in await studio.store.variations(order["id"])]
    assert all(studio.store.media.path(p).exists() for p in paths)
    [ask] = await bea.send("/forget")
    await bea.press("Yes, delete everything", [ask])
    assert await studio.store.order(order["id"]) is None
    assert not any(studio.store.media.path(p).exists() for p in paths)
    assert await studio.store.current_set((await studio.store.user("terminal", "ann"))["id"])
    left = await studio.store.one("SELECT COUNT(*) FROM invitations")
    assert left[0] == 0


async def test_decline_single_use_expiry_and_foreign_presses(
    studio: Studio, fake_engine: FakeEngine
) -> None:
    ann, cay = Chat(studio, ANN), Chat(studio, CAY)
    dan = Chat(studio, Who("terminal", "dan", "dan-chat", "Dan"))
    await onboard(ann, fake_engine, "astronaut")
    await onboard(cay, fake_engine, "cay")
    await onboard(dan, fake_engine, "dan")
    [made] = await ann.send("/together")
    token = token_in(made.text)
    [own] = await ann.send(Command(ANN, "start", token))
    assert own.text.startswith("That's your own invitation")
    [card] = await cay.send(Command(CAY, "start", token))
    assert "Ann invites you to a portrait" in card.text and "Accepting is your consent" in card.text
    [taken] = await dan.send(Command(DAN := dan.who, "start", token))
    assert "already opened by someone else" in taken.text
    [foreign] = await dan.send(Press(DAN, button_in([card], "✓ Accept")))
    assert foreign.text == "That invitation is not yours to answer."
    [no] = await cay.send(Press(CAY, button_in([card], "✗ Decline")))
    assert no.text.startswith("Declined.")
    assert "Cay declined your invitation" in sent_to(studio, "ann-chat")[-1].text
    [again] = await cay.send(Press(CAY, button_in([card], "✓ Accept")))
    assert again.text == "That invitation was withdrawn or already answered."
    [bad, *_] = await cay.send(Command(CAY, "start", "x" * 30))
    assert "not one I know" in bad.text
    [elsewhere, *_] = await studio.handle(
        Command(Who("discord", "9", "dm-9", "Cay"), "start", token)
    )
    assert "another chat app" in elsewhere.text
    [welcome, *_] = await cay.send(Command(CAY, "start", "portrait"))  # another deep link
    assert "not one I know" not in welcome.text

    # Expiry (SITTER_INVITE_HOURS): past its time the code no longer opens.
    [made2] = await ann.send("/together")  # declined: nothing live, so a new one at once
    assert made2.text.startswith("Here is your invitation")
    token2 = token_in(made2.text)
    await studio.store.run("UPDATE invitations SET expires_at = ? WHERE status = 'open'", now_iso())
    [late] = await cay.send(Command(CAY, "start", token2))
    assert late.text == "That invitation has expired. Ask for a new one."
    # Withdrawn by Ann before anyone opened it.
    [made3] = await ann.send("/together")
    withdraw = [b for row in made3.buttons for b in row if b.label.startswith("Withdraw")]
    assert withdraw, made3
    [gone] = await ann.send(Press(ANN, withdraw[0].data))
    assert gone.text.startswith("Withdrawn.")


async def test_withdraw_mid_order_stops_it(studio: Studio, fake_engine: FakeEngine) -> None:
    ann, bea, _inv = await invited_pair(studio, fake_engine)
    fake_engine.stop()  # nobody serves the queue: the joint order stays queued
    told = sent_to(studio, "ann-chat")[-1]
    await ann.send(Press(ANN, button_in([told], "Make our portrait")))
    await ann.press("Professional headshot")
    await ann.press("Side by side")
    for label in WIZARD:
        await ann.press(label)
    [queued] = await ann.press("✓ Queue it")
    assert "is queued" in queued.text and await studio.engine.queue_depth("gpu") == 1
    [bea_card] = [r for r in bea.last]
    [stop] = await bea.send(Press(BEA, button_in([bea_card], "Withdraw")))
    assert stop.text.startswith("Withdrawn.")
    assert await studio.engine.queue_depth("gpu") == 0
    order = await studio.store.last_order((await studio.store.user("terminal", "ann"))["id"])
    assert order["status"] == "cancelled"
    assert "Bea withdrew from portraits together" in sent_to(studio, "ann-chat")[-1].text
    # No new joint order on a withdrawn invitation.
    [ended] = await ann.send(Press(ANN, button_in([told], "Make our portrait")))
    assert ended.text == "That invitation was withdrawn or already answered."


async def test_report_from_second_person_and_bans(studio: Studio, fake_engine: FakeEngine) -> None:
    mod = studio.moderation
    assert isinstance(mod, Moderation)
    mod.add_place("terminal", Place(chats=("mods",)))
    ann, bea, _inv = await invited_pair(studio, fake_engine)
    told = sent_to(studio, "ann-chat")[-1]
    await ann.send(Press(ANN, button_in([told], "Make our portrait")))
    await ann.press("Professional headshot")
    await ann.press("Shoulder to shoulder")
    for label in WIZARD:
        await ann.press(label)
    await ann.press("✓ Queue it")
    await until(studio, lambda: bool(copies(studio)), what="Bea's copy")
    [copy] = [r for r in sent_to(studio, "bea-chat") if "portraits of you and Ann" in r.text]
    [why] = await bea.send(Press(BEA, button_in([copy], "Report 2")))
    assert why.text == "Why are you reporting this portrait?"
    [ack] = await bea.send(Press(BEA, button_in([why], "It's me")))
    assert "is with the moderators" in ack.text
    assert any("Report #1" in r.text or "report" in r.text.lower() for r in sent_to(studio, "mods"))

    # Discord-style invitation of a named member: a banned member cannot be invited.
    studio.add_outbox("discord", RecordingOutbox())
    eve = Who("discord", "501", "dm-501", "Eve")
    eve_chat = Chat(studio, eve)
    await onboard(eve_chat, fake_engine, "eve")
    banned = await studio.store.ensure_user("discord", "502", "Fay", "dm-502")
    await mod.bans.ban("test", banned["id"], "test")
    [refused] = await eve_chat.send(Command(eve, "together", "member 502 9502 Fay", vouched=True))
    assert refused.text == "This person cannot be invited."
    [sent] = await eve_chat.send(Command(eve, "together", "member 503 9503 Gus", vouched=True))
    assert sent.text.startswith("I've sent your invitation to Gus's direct messages")
    [(to, card)] = outbox(studio, "discord").sent
    assert to.chat_id == "9503" and "Eve invites you to a portrait" in card.text
    [me] = await eve_chat.send(Command(eve, "together", "member 501 9501 Eve", vouched=True))
    assert me.text == "You can't invite yourself."
    # A banned inviter is answered before any feature (suspended).
    await mod.bans.ban("test", (await studio.store.user("discord", "501"))["id"], "test")
    [suspended] = await eve_chat.send(Command(eve, "together", "member 503 9503 Gus", vouched=True))
    assert "suspend" in suspended.text.lower()


async def test_invitation_needs_a_ready_set(studio: Studio, fake_engine: FakeEngine) -> None:
    ann = Chat(studio, ANN)
    await ann.send("/start")
    await ann.press("I agree")
    [no] = await ann.send("/together")
    assert no.text.startswith("A portrait together starts from your own ready photo set")
    # Newcomer run: with 11 photos and an order delivered, "send me your photos" alone
    # read as wrong; photos added since the last order wait for Done too.
    assert "press Done (or /done;" in no.text and "since your last order" in no.text, no.text


class PartnerOffline(RecordingOutbox):
    """Bea's chat refuses messages until ``back`` is set (a network failure that passes)."""

    back = False

    async def send(self, to, reply) -> None:  # type: ignore[no-untyped-def]
        if to.chat_id == "bea-chat" and not self.back and "portraits of you and" in reply.text:
            raise ConnectionError("Bea's chat is unreachable")
        await super().send(to, reply)


async def test_the_partner_copy_is_sent_again_when_her_chat_failed(
    studio: Studio, fake_engine: FakeEngine
) -> None:
    ann, _bea, _inv = await invited_pair(studio, fake_engine)
    offline = PartnerOffline(sent=list(outbox(studio).sent))
    studio.add_outbox("terminal", offline)
    told = sent_to(studio, "ann-chat")[-1]
    await ann.send(Press(ANN, button_in([told], "Make our portrait")))
    await ann.press("Professional headshot")
    await ann.press("Side by side")
    for label in WIZARD:
        await ann.press(label)
    await ann.press("✓ Queue it")
    oid = (await studio.store.last_order((await studio.store.user("terminal", "ann"))["id"]))["id"]

    async def delivered() -> bool:
        order = await studio.store.order(oid)
        return order is not None and order["status"] == "delivered"

    for _ in range(100):
        await studio.tracker().tick()
        if await delivered():
            break
    assert await delivered() and not copies(studio)  # Ann has hers; Bea's did not go
    offline.back = True
    studio.services.send_failures.clear()  # (the back-off: as if its time had come)
    await until(studio, lambda: bool(copies(studio)), what="Bea's copy, sent again")
    assert (await studio.store.order(oid))["partner_delivered_at"]


async def test_the_partner_retries_charged_to_the_orderer(
    studio: Studio, fake_engine: FakeEngine
) -> None:
    ann, bea, _inv = await invited_pair(studio, fake_engine)
    told = sent_to(studio, "ann-chat")[-1]
    await ann.send(Press(ANN, button_in([told], "Make our portrait")))
    await ann.press("Professional headshot")
    await ann.press("Facing each other")
    for label in WIZARD:
        await ann.press(label)
    await ann.press("✓ Queue it")
    await until(studio, lambda: len(copies(studio)) == 1, what="the first copy")
    [retry, queued] = await bea.send(Press(BEA, button_in(copies(studio), "↻ Retry")))
    assert "Trying order #1 again" in retry.text or "again" in retry.text
    assert "queued" in queued.text
    await until(studio, lambda: len(copies(studio)) == 2, what="the retry's copy")
    ann_id = (await studio.store.user("terminal", "ann"))["id"]
    second = await studio.store.last_order(ann_id)
    assert second["retry_of"] == 1 and second["partner_user_id"] is not None
    assert second["placement"] == "facing"
    assert "Images today: 8 of 40" in (await ann.send("/status"))[0].text


async def test_the_partners_own_photos_while_she_collects_her_cats(
    studio: Studio, fake_engine: FakeEngine
) -> None:
    """Bea starts a set for her cat (the references step collects into it now): Ann's
    joint order still paints Bea from Bea's own photos, never her cat's set (which her
    "working set" names)."""
    seen = capture(fake_engine)
    ann, bea, _inv = await invited_pair(studio, fake_engine)
    await bea.send("/pet")
    await bea.send("Kit")
    await bea.press("🐱 A cat")
    assert "Now collecting photos of Kit (cat)" in bea.text()
    bea_id = (await studio.store.user("terminal", "bea"))["id"]
    own = await studio.store.person_set(bea_id)
    told = sent_to(studio, "ann-chat")[-1]
    await ann.send(Press(ANN, button_in([told], "Make our portrait")))
    await ann.press("Professional headshot")
    await ann.press("Facing each other")
    for label in WIZARD:
        await ann.press(label)
    [queued] = await ann.press("✓ Queue it")
    assert "is queued" in queued.text, queued.text
    await until(studio, lambda: bool(seen), what="the joint order")
    [req] = seen
    mine = [p.embedding for p in await studio.store.photos(own["id"], "accepted")]
    assert [r.embedding.vector for r in req.partner_references] == mine  # Bea's own photos
    order = await studio.store.last_order((await studio.store.user("terminal", "ann"))["id"])
    assert order["partner_set_id"] == own["id"]


async def test_a_portrait_of_two_after_a_pets_portrait_paints_the_person(
    studio: Studio, fake_engine: FakeEngine
) -> None:
    """Ann's last portrait was her cat's (the set she works on is the cat's): "Make our
    portrait" then paints Ann from her own photos, as a person, never her cat."""
    from test_studio_pets import cat_set

    seen = capture(fake_engine)
    ann, _bea, _inv = await invited_pair(studio, fake_engine)
    told = sent_to(studio, "ann-chat")[-1]
    fake_engine.show_pet(cat_set(), "mochi", "cat")
    await ann.send("/pet")
    await ann.send("Mochi")
    await ann.press("🐱 A cat")
    await ann.files(cat_set())
    await ann.press("Done")
    assert "4 photos of Mochi are ready" in ann.text()
    await ann.send(Press(ANN, button_in([told], "Make our portrait")))
    await ann.press("Professional headshot")
    await ann.press("Facing each other")
    for label in WIZARD:
        await ann.press(label)
    [queued] = await ann.press("✓ Queue it")
    assert "is queued" in queued.text, queued.text
    await until(studio, lambda: bool(seen), what="the joint order")
    [req] = seen
    ann_id = (await studio.store.user("terminal", "ann"))["id"]
    own = await studio.store.person_set(ann_id)
    order = await studio.store.last_order(ann_id)
    assert (order["set_id"], order["sitter"]) == (own["id"], None)
    assert req.subject == c.Subject.PERSON and len(req.partner_references) == 4
    mine = [p.embedding for p in await studio.store.photos(own["id"], "accepted")]
    assert [r.embedding.vector for r in req.references] == mine


async def test_a_pack_from_our_portrait_after_a_pets_portrait_is_the_persons(
    studio: Studio, fake_engine: FakeEngine
) -> None:
    """ "Make our portrait" shows the packs too; after a pet's portrait (the set Ann works
    on is her cat's) a pack chosen there paints Ann from her own photos, as its summary
    says (no "Portrait of: Mochi"), never her cat."""
    from test_studio_pets import cat_set

    ann, _bea, _inv = await invited_pair(studio, fake_engine)
    told = sent_to(studio, "ann-chat")[-1]
    fake_engine.show_pet(cat_set(), "mochi", "cat")
    await ann.send("/pet")
    await ann.send("Mochi")
    await ann.press("🐱 A cat")
    await ann.files(cat_set())
    await ann.press("Done")
    await ann.send(Press(ANN, button_in([told], "Make our portrait")))
    await ann.press("Packs: several looks in one order")
    await ann.press("LinkedIn headshots")
    assert "paints people only" not in ann.text(), ann.text()
    for _ in range(8):  # the pack's open questions, then its summary
        if any("Queue it" in b.label for r in ann.last for row in r.buttons for b in row):
            break
        labels = [b.label for r in ann.last for row in r.buttons for b in row]
        assert labels, ann.text()
        await ann.press(labels[0])
    assert "Portrait of: Mochi" not in ann.text()
    await ann.press("✓ Queue it")
    assert "paints people only" not in ann.text(), ann.text()  # (was: her cat's set)
    ann_id = (await studio.store.user("terminal", "ann"))["id"]
    order = await studio.store.last_order(ann_id)
    assert order is not None
    own = await studio.store.person_set(ann_id)
    assert (order["set_id"], order["sitter"]) == (own["id"], None)
