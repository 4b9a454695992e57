"""Portraits together, as a hostile review found them (issue 24's review): the second
person's consent recorded like every consent, withdrawn with the invitation; the
checks on who may be painted and what is left after a /forget."""

from __future__ import annotations

import json

import pytest
from fake_engine import FakeEngine
from studio_harness import Chat, until
from test_together_studio import (
    ANN,
    BEA,
    WIZARD,
    button_in,
    capture,
    copies,
    invited_pair,
    sent_to,
)
from together_helpers import onboard, token_in

from bot.studio.core.core import Studio
from bot.studio.core.events import Command, Press
from bot.studio.together import words_together as wt
from sitter import contract as c


@pytest.fixture
def studio(fake_studio: Studio) -> Studio:
    fake_studio.settings = fake_studio.settings.model_copy(update={"daily_quota": 40})
    return fake_studio


async def joint_order(studio: Studio, ann: Chat, placement: str = "Side by side") -> None:
    told = sent_to(studio, "ann-chat")[-1]
    await ann.send(Press(ANN, button_in([told], "Make our portrait")))
    await ann.press("Professional headshot")
    await ann.press(placement)
    for label in WIZARD:
        await ann.press(label)
    [queued] = await ann.press("✓ Queue it")
    assert "is queued" in queued.text


async def test_acceptance_is_a_recorded_consent_withdrawn_with_the_invitation(
    studio: Studio, fake_engine: FakeEngine
) -> None:
    _ann, bea, inv_id = await invited_pair(studio, fake_engine)
    bea_id = (await studio.store.user("terminal", "bea"))["id"]
    consent = await studio.store.consent(bea_id, "together")
    assert consent is not None and consent["version"] == wt.INVITATION_VERSION
    assert consent["text"] == wt.CONSENT_TEXT and "Ann" not in consent["text"]
    inv = await studio.store.invitation(inv_id)
    assert inv is not None and inv["consent_id"] == consent["id"]
    assert (await studio.store.consent(bea_id))["version"] != wt.INVITATION_VERSION  # studio's
    [stop] = await bea.send(Press(BEA, button_in(bea.last, "Withdraw")))
    assert stop.text.startswith("Withdrawn.")
    assert await studio.store.consent(bea_id, "together") is None
    row = await studio.store.one("SELECT withdrawn_at FROM consents WHERE id = ?", consent["id"])
    assert row is not None and row[0]


def ann_results(studio: Studio) -> list:  # type: ignore[type-arg]
    return [
        r
        for r in sent_to(studio, "ann-chat")
        if any(b.label.startswith("More 1") for row in r.buttons for b in row)
    ]


async def test_a_variation_of_a_joint_portrait_is_joint_and_needs_the_invitation(
    studio: Studio, fake_engine: FakeEngine
) -> None:
    """Vary/relight paints the second person again: it is a joint order (her copy, her
    /forget, her Withdraw reach it), and once she withdrew there is none."""
    ann, bea, _inv = await invited_pair(studio, fake_engine)
    await joint_order(studio, ann)
    await until(studio, lambda: bool(copies(studio) and ann_results(studio)), what="both")
    [menu] = await ann.press("More 1…", ann_results(studio)[-1:])
    [said, _queued] = await ann.press("Vary 1 (subtle)", [menu])
    ann_id = (await studio.store.user("terminal", "ann"))["id"]
    bea_id = (await studio.store.user("terminal", "bea"))["id"]
    varied = await studio.store.last_order(ann_id)
    assert varied["kind"] == "vary" and varied["partner_user_id"] == bea_id, said.text
    assert varied["partner_set_id"] and varied["invitation_id"]
    await until(studio, lambda: len(copies(studio)) == 2, what="Bea's copy of the variation")

    [stop] = await bea.send(
        Press(BEA, button_in(bea.last or sent_to(studio, "bea-chat"), "Withdraw"))
    )
    assert stop.text.startswith("Withdrawn.")
    [menu] = await ann.press("More 2…", ann_results(studio)[:1])
    [refused] = await ann.press("Vary 2 (subtle)", [menu])
    assert refused.text == wt.TOGETHER_ENDED
    assert (await studio.store.last_order(ann_id))["id"] == varied["id"]


async def test_a_joint_orders_prompt_is_counted_for_two_people(
    studio: Studio, fake_engine: FakeEngine
) -> None:
    """The family words a portrait of two at greater length: the bot always asks a worker,
    with ``two_people``, however short the one-person prompt is."""
    asked: list[c.CheckPromptRequest] = []
    real = fake_engine.handlers[c.JOB_CHECK_PROMPT]

    def keep(e: FakeEngine, req: c.CheckPromptRequest) -> c.Message:
        asked.append(req)
        return c.CheckPromptResult(fits=False, family="klein", tokens=530, limit=512)

    ann, _bea, _inv = await invited_pair(studio, fake_engine)
    fake_engine.handlers[c.JOB_CHECK_PROMPT] = keep
    told = sent_to(studio, "ann-chat")[-1]
    await ann.send(Press(ANN, button_in([told], "Make our portrait")))
    await ann.press("Professional headshot")
    await ann.press("Side by side")
    for label in WIZARD:
        await ann.press(label)
    [refused, *_] = await ann.press("✓ Queue it")
    assert [r.two_people for r in asked] == [True], refused.text
    assert "530" in refused.text or "too long" in refused.text.lower(), refused.text
    fake_engine.handlers[c.JOB_CHECK_PROMPT] = real


async def test_a_second_account_with_the_same_face_is_no_partner(
    studio: Studio, fake_engine: FakeEngine
) -> None:
    """Ann invites her own second account (the same face): it cannot accept, and an
    order on an invitation accepted before the set changed is refused too."""
    ann, bea = Chat(studio, ANN), Chat(studio, BEA)
    await onboard(ann, fake_engine, "astronaut")
    [made] = await ann.press("👥 Portrait together")
    await onboard(bea, fake_engine, "astronaut")  # the same person's photos
    [card] = await bea.send(Command(BEA, "start", token_in(made.text)))
    [no] = await bea.send(Press(BEA, button_in([card], "✓ Accept")))
    assert no.text == wt.SAME_FACE
    inv = (await studio.store.invitations_of((await studio.store.user("terminal", "ann"))["id"]))[0]
    assert inv["status"] == "claimed" and inv["consent_id"] is None


async def test_the_same_face_is_refused_at_placing(studio: Studio, fake_engine: FakeEngine) -> None:
    ann, _bea, _inv = await invited_pair(studio, fake_engine)
    # Bea's set is replaced, after accepting, by photos of Ann's face.
    bea_id = (await studio.store.user("terminal", "bea"))["id"]
    ann_set = await studio.store.current_set((await studio.store.user("terminal", "ann"))["id"])
    bea_set = await studio.store.current_set(bea_id)
    mine = await studio.store.photos(ann_set["id"], "accepted")
    await studio.store.run(
        "UPDATE reference_photos SET embedding = ? WHERE set_id = ?",
        json.dumps(mine[0].embedding),
        bea_set["id"],
    )
    seen = capture(fake_engine)
    told = sent_to(studio, "ann-chat")[-1]
    await ann.send(Press(ANN, button_in([told], "Make our portrait")))
    await ann.press("Professional headshot")
    await ann.press("Side by side")
    for label in WIZARD:
        await ann.press(label)
    replies = await ann.press("✓ Queue it")
    assert any(r.text == wt.SAME_FACE for r in replies), [r.text for r in replies]
    assert not seen


async def test_her_own_protect_does_not_fail_the_order_she_consented_to(
    studio: Studio, fake_engine: FakeEngine
) -> None:
    """Bea's /protect keeps others from her face; a joint order she accepted is not
    refused by it, while a face protected by anyone else is still sent to the worker."""
    from bot.store.moderation_store import ModerationStore

    ann, _bea, _inv = await invited_pair(studio, fake_engine)
    bea_id = (await studio.store.user("terminal", "bea"))["id"]
    photo = (await studio.store.photos((await studio.store.current_set(bea_id))["id"]))[0]
    assert photo.embedding is not None
    emb = c.Embedding(backend=photo.backend, vector=photo.embedding)
    prot = ModerationStore(studio.store)
    own = await prot.add_protected(emb, "self", owner_user_id=bea_id)
    other = await prot.add_protected(
        c.Embedding(backend=photo.backend, vector=[0.0] * len(photo.embedding)), "moderator"
    )
    seen = capture(fake_engine)
    await joint_order(studio, ann)
    await until(studio, lambda: bool(seen and copies(studio)), what="both copies")
    assert {p.id for p in seen[0].protected} == {other} and own != other


async def test_her_forget_drops_the_others_follow_up_jobs_of_joint_portraits(
    studio: Studio, fake_engine: FakeEngine
) -> None:
    """Ann's upscale of a joint portrait, still queued (its request holds the portrait of
    both), leaves Redis with Bea's /forget; Delete by either drops such a job too."""
    ann, bea, _inv = await invited_pair(studio, fake_engine)
    await joint_order(studio, ann)
    await until(studio, lambda: bool(copies(studio) and ann_results(studio)), what="both")
    fake_engine.stop()
    await ann.press("Upscale 1", ann_results(studio)[-1:])
    vj = await studio.store.one("SELECT job_id FROM variation_jobs")
    assert vj is not None and vj[0] in fake_engine.jobs
    [ask] = await bea.send("/forget")
    await bea.press("Yes, delete everything", [ask])
    assert vj[0] not in fake_engine.jobs


async def test_delete_by_the_partner_drops_the_orderers_queued_follow_up(
    studio: Studio, fake_engine: FakeEngine
) -> None:
    ann, bea, _inv = await invited_pair(studio, fake_engine)
    await joint_order(studio, ann)
    await until(studio, lambda: bool(copies(studio) and ann_results(studio)), what="both")
    fake_engine.stop()
    await ann.press("Upscale 2", ann_results(studio)[-1:])
    vj = await studio.store.one("SELECT job_id FROM variation_jobs")
    assert vj is not None and vj[0] in fake_engine.jobs
    [gone] = await bea.send(Press(BEA, button_in(copies(studio), "Delete our portraits")))
    assert gone.text.startswith("Deleted")
    assert vj[0] not in fake_engine.jobs


async def charged(studio: Studio) -> int:
    """Ann's images today, as the daily limit counts them (with what was carried)."""
    from bot.store import rights_store as rs

    ann = await studio.store.user("terminal", "ann")
    day = f"{rs.today()}T00:00:00.000Z"
    carried = await rs.carried_orders(studio.store, "terminal", "ann")
    return await studio.store.images_since(ann["id"], day) + carried


async def test_deleting_joint_portraits_gives_no_quota_back(
    studio: Studio, fake_engine: FakeEngine
) -> None:
    """Delete (either person) and the partner's /forget take the portraits, not the
    images the orderer was charged today: no order-delete-order loop past the limit."""
    ann, bea, _inv = await invited_pair(studio, fake_engine)
    await joint_order(studio, ann)
    await until(studio, lambda: bool(copies(studio) and ann_results(studio)), what="both")
    assert "Images today: 4 of 40" in (await ann.send("/status"))[0].text
    [gone] = await ann.send(Press(ANN, button_in(copies(studio), "Delete our portraits")))
    assert gone.text.startswith("Deleted")
    assert await charged(studio) == 4
    told = [r for r in sent_to(studio, "ann-chat") if "Make our portrait" in str(r.buttons)]
    await ann.send(Press(ANN, button_in(told[-1:], "Make our portrait")))
    await ann.press("Professional headshot")
    await ann.press("Side by side")
    for label in WIZARD:
        await ann.press(label)
    await ann.press("✓ Queue it")
    await until(studio, lambda: len(copies(studio)) == 2, what="the second copy")
    [ask] = await bea.send("/forget")
    await bea.press("Yes, delete everything", [ask])
    assert await charged(studio) == 8


def test_the_two_person_verdicts_are_worded_for_people() -> None:
    """A joint portrait's caption never shows a gate code (one_face, stranger)."""
    from bot.studio.core.words import likeness_words

    words = {
        "one_face": "2 tries (one person missing) · only one of the two people could be found",
        "stranger": "2 tries (a stranger's face) · a face that looks like neither of you",
    }
    for verdict, expected in words.items():
        row = {"verdict": verdict, "likeness": 0.31, "threshold": 0.5, "regenerated": verdict}
        assert likeness_words(row) == expected
    said = likeness_words(
        {"verdict": "passed", "likeness": 0.7, "regenerated": "one_face,stranger"}
    )
    assert said.startswith("3 tries (one person missing, a stranger's face)"), said


async def test_the_orderer_sees_who_accepted_before_anything_is_painted(
    studio: Studio, fake_engine: FakeEngine
) -> None:
    """The link is passed on (and can be forwarded): whoever opens it first is the one
    invited, which the invitation says; the order's summary names who accepted."""
    assert "the first person to open it is the one invited" in wt.invitation_made("x", 24)
    assert "name of who accepted before anything is painted" in wt.invitation_made("x", 24)
    ann, _bea, _inv = await invited_pair(studio, fake_engine)
    told = sent_to(studio, "ann-chat")[-1]
    await ann.send(Press(ANN, button_in([told], "Make our portrait")))
    await ann.press("Professional headshot")
    await ann.press("Back to back")
    for label in WIZARD:
        await ann.press(label)
    assert "Placement: Back to back (with Bea)" in ann.text()


async def test_the_inviters_forget_ends_the_partners_consent(
    studio: Studio, fake_engine: FakeEngine
) -> None:
    ann, _bea, _inv = await invited_pair(studio, fake_engine)
    bea_id = (await studio.store.user("terminal", "bea"))["id"]
    assert await studio.store.consent(bea_id, "together") is not None
    [ask] = await ann.send("/forget")
    await ann.press("Yes, delete everything", [ask])
    assert await studio.store.consent(bea_id, "together") is None
    assert await studio.store.consent(bea_id) is not None  # her studio consent stays


async def test_typed_member_ids_are_never_trusted(studio: Studio, fake_engine: FakeEngine) -> None:
    """Typing "/together member <id> <chat> <name>" (a text message, on any platform)
    neither messages that chat nor renames or re-routes the account with that id: only
    the Discord adapter's slash command vouches for a member."""
    ann, bea = Chat(studio, ANN), Chat(studio, BEA)
    await onboard(ann, fake_engine, "astronaut")
    await onboard(bea, fake_engine, "bella")
    before = len(sent_to(studio, "evil-chat"))
    replies = await ann.send(Command(ANN, "together", "member bea 666 Mallory"))
    assert not any("direct messages" in r.text for r in replies)
    bea_row = await studio.store.user("terminal", "bea")
    assert bea_row["chat_id"] == "bea-chat" and bea_row["display_name"] == "Bea"
    await ann.send(Command(ANN, "together", "member 123 666 Mallory"))
    assert await studio.store.user("terminal", "123") is None
    assert len(sent_to(studio, "666")) == 0 and len(sent_to(studio, "evil-chat")) == before
