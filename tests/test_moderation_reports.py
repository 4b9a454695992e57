"""Reports through the studio core: reporter -> moderators' card -> decision -> both
people told; only moderators act; a second moderator sees who decided; bans."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from moderation_helpers import all_media, audit_actions, moderator_view, seed_person
from studio_harness import RecordingOutbox

from bot.studio.core.core import Studio
from bot.studio.core.events import Command, Press, Recipient, Reply, Text, Who
from bot.studio.moderation import Moderation, Place
from bot.telegram.app import moderation_place
from bot.telegram.settings import TelegramSettings
from sitter.config import load_settings

ANN = Who("terminal", "ann", "ann-chat", "Ann")  # owner of the portraits
BOB = Who("terminal", "bob", "bob-chat", "Bob")  # the person in them, reporting
EVE = Who("terminal", "eve", "mods", "Eve", private=False)  # in the mods' chat, no moderator
MIA = Who("terminal", "mia", "mods", "Mia", private=False, is_moderator=True)
MAX = Who("terminal", "max", "mods", "Max", private=False, is_moderator=True)


@pytest.fixture
async def studio(redis_url: str, queue_prefix: str, data_dir: Path) -> AsyncIterator[Studio]:
    settings = load_settings(data_dir=data_dir, redis_url=redis_url, queue_prefix=queue_prefix)
    s = await Studio.open(settings)
    s.add_outbox("terminal", RecordingOutbox())
    mod(s).add_place("terminal", Place(chats=("mods",)))
    yield s
    await s.aclose()


def mod(studio: Studio) -> Moderation:
    assert isinstance(studio.moderation, Moderation)
    return studio.moderation


def outbox(studio: Studio) -> RecordingOutbox:
    return studio.outboxes["terminal"]  # type: ignore[return-value]


def button(replies: list[Reply], label: str) -> str:
    for r in replies:
        for row in r.buttons:
            for b in row:
                if b.label.startswith(label):
                    return b.data
    raise AssertionError(f"no button {label!r} in {[r.text for r in replies]}")


def sent_to(studio: Studio, chat: str) -> list[Reply]:
    return [r for to, r in outbox(studio).sent if to.chat_id == chat]


async def test_report_to_decision_and_back_to_both_people(studio: Studio) -> None:
    ann = await seed_person(studio.store, "terminal", "ann")
    vid = ann["variations"][1]
    transcript: list[tuple[str, Recipient | str, Reply]] = []

    async def act(who: Who, event: object) -> list[Reply]:
        replies = await studio.handle(event)  # type: ignore[arg-type]
        transcript.extend((who.name, who.chat_id, r) for r in replies)
        return replies

    # Bob presses Report under the portrait, picks a reason, adds details.
    [ask] = await act(BOB, Press(BOB, f"rep:{vid}"))
    assert ask.text == "Why are you reporting this portrait?"
    [ack] = await act(BOB, Press(BOB, button([ask], "It's me")))
    assert "Your report #1 (it's me and I did not consent) is with the moderators" in ack.text
    [typing] = await act(BOB, Press(BOB, button([ack], "Add details")))
    assert "Type the details for report #1" in typing.text
    [added] = await act(BOB, Text(BOB, "That is my face, from my profile photo."))
    assert added.text == "Added to report #1. Thank you."
    again = await studio.handle(Press(BOB, f"rep:{vid}"))
    assert "already reported" in again[0].text

    # The moderators' chat got the card (and its refresh with the details).
    cards = sent_to(studio, "mods")
    assert len(cards) == 2 and all(c.edit_key == "report:1" for c in cards)
    card = cards[-1]
    transcript.extend(("(to moderators)", to, r) for to, r in outbox(studio).sent)
    assert "Report #1 · It's me and I did not consent" in card.text
    assert "Owner: Ann (terminal:ann, user #1)" in card.text
    assert "Owner's history: no upheld reports before" in card.text
    assert "Reported by: Bob (terminal:bob" in card.text
    assert "Details: “That is my face, from my profile photo.”" in card.text
    assert "cinematic film still of a person, wearing a suit" in card.text
    assert card.images and card.images[0].path.is_file()
    labels = [b.label for row in card.buttons for b in row]
    assert labels == [
        "Dismiss",
        "Remove images",
        "Purge owner's photos",
        "Protect this face",
        "Ban owner",
    ]

    # Eve is in the moderators' chat but is no moderator.
    [no] = await act(EVE, Press(EVE, button([card], "Remove images")))
    assert no.text == "Only moderators can act on reports."
    assert all(p.is_file() for p in [card.images[0].path])

    # Mia removes the images; the card in the moderators' chat is edited to show it.
    before = len(outbox(studio).sent)
    [done] = await act(MIA, Press(MIA, button([card], "Remove images")))
    assert done.text.startswith("Done: report #1 portraits removed. (4 portraits removed")
    edited = sent_to(studio, "mods")[-1]
    assert edited.edit_key == "report:1" and not edited.buttons
    assert "Decided: portraits removed, by terminal:mia (Mia) at 20" in edited.text
    assert not card.images[0].path.exists()
    results = {r for r in all_media(studio.store) if "/results/" in r or "/upscaled/" in r}
    assert results == set()
    rows = await studio.store.variations(ann["order_id"])
    assert all(r.removed_at and r.path is None for r in rows)

    # Both people are told.
    news = outbox(studio).sent[before:]
    transcript.extend(("(outbox)", to, r) for to, r in news)
    to_bob = [r.text for to, r in news if to.chat_id == "bob-chat"]
    to_ann = [r.text for to, r in news if to.chat_id == "ann-chat"]
    assert to_bob == [
        "Your report #1 (it's me and I did not consent) was reviewed: the moderators acted on "
        "it: portraits removed. Thank you for telling us."
    ]
    assert to_ann and "removed your portraits from order #1 after a report" in to_ann[0]

    # Max presses Ban on the old card: he sees who decided and how; nothing else happens.
    [late] = await act(MAX, Press(MAX, button([card], "Ban owner")))
    assert late.text.startswith("Report #1 was already decided: portraits removed, ")
    assert "by terminal:mia (Mia)" in late.text
    owner = await studio.store.user("terminal", "ann")
    assert owner["banned_at"] is None

    actions = [(a, act_) for a, act_, _ in await audit_actions(studio.store)]
    assert actions == [
        ("terminal:bob", "report"),
        ("terminal:bob", "report_details"),
        ("terminal:mia (Mia)", "remove_images"),
    ]
    print("\n" + moderator_view(transcript))


async def test_card_shows_owner_history_and_dismiss_tells_only_the_reporter(
    studio: Studio,
) -> None:
    ann = await seed_person(studio.store, "terminal", "ann")
    # Order 2 from a new reference set: a decision on order 1 reaches its whole set.
    await studio.store.set_status(ann["set_id"], "archived")
    later = await seed_person(studio.store, "terminal", "ann", photos=0, tag="2")  # order 2
    v1, v2, v3 = ann["variations"][0], *later["variations"][:2]
    await studio.handle(Press(BOB, f"rep:{v1}:sex"))
    await studio.handle(Press(MIA, "mod:1:rm"))
    await studio.handle(Press(BOB, f"rep:{v2}:dec"))
    await studio.handle(Press(MIA, "mod:2:dis"))  # dismissed: not "upheld"
    [ack] = await studio.handle(Command(BOB, "report", f"rep:{v3} minor she is 15 here"))
    assert "Your report #3 (shows a minor)" in ack.text and not ack.buttons
    card = sent_to(studio, "mods")[-1]
    assert "Owner's history: 1 upheld before: #1 sexual → remove" in card.text
    assert "Details: “she is 15 here”" in card.text
    before = len(outbox(studio).sent)
    await studio.handle(Press(MIA, "mod:3:dis"))
    told = [(to.chat_id, r.text) for to, r in outbox(studio).sent[before:] if to.chat_id != "mods"]
    assert told == [
        (
            "bob-chat",
            "Your report #3 (shows a minor) was reviewed: the moderators looked at it and "
            "decided no action was needed. Thank you for telling us.",
        )
    ]


async def test_report_command_forms(studio: Studio) -> None:
    ann = await seed_person(studio.store, "terminal", "ann")
    vid = ann["variations"][0]
    [how] = await studio.handle(Command(BOB, "report", ""))
    assert "press the Report button under it" in how.text
    [gone] = await studio.handle(Command(BOB, "report", "rep:999"))
    assert "no longer stored" in gone.text
    # Text without a reason is kept until the reason is picked.
    [ask] = await studio.handle(Command(BOB, "report", f"rep:{vid} this is my sister"))
    await studio.handle(Press(BOB, button([ask], "Impersonation")))
    r = await mod(studio).db.report(1)
    assert r["reason"] == "deception" and r["text"] == "this is my sister"
    assert await mod(studio).db.pending_input(r["reporter_user_id"]) is None


async def test_unreachable_moderators_get_the_report_later(studio: Studio) -> None:
    ann = await seed_person(studio.store, "terminal", "ann")
    outbox(studio).fail = True
    [ack] = await studio.handle(Press(BOB, f"rep:{ann['variations'][0]}:me"))
    assert "as soon as I can reach them" in ack.text
    assert (await mod(studio).db.report(1))["posted_at"] is None
    outbox(studio).fail = False

    await studio.tracker().tick()  # the core's background pass posts it
    assert (await mod(studio).db.report(1))["posted_at"] is not None
    assert [r.edit_key for r in sent_to(studio, "mods")] == ["report:1"]


async def test_ban_is_told_once_then_ignored_and_can_be_lifted(studio: Studio) -> None:
    ann = await seed_person(studio.store, "terminal", "ann")
    await studio.handle(Press(BOB, f"rep:{ann['variations'][0]}:sex"))
    before = len(outbox(studio).sent)
    [_done] = await studio.handle(Press(MIA, "mod:1:ban"))
    card = sent_to(studio, "mods")[-1]
    assert "owner banned" in card.text and button([card], "Lift the ban") == "mod:1:unban"
    to_ann = [r.text for to, r in outbox(studio).sent[before:] if to.chat_id == "ann-chat"]
    assert "suspended your access" in to_ann[0] and "reference photos were deleted" in to_ann[0]

    # Told with the decision already, so her next messages are ignored without a word.
    assert await studio.handle(Text(ANN, "hello?")) == []
    assert await studio.handle(Command(ANN, "start")) == []
    assert await studio.handle(Press(ANN, "rep:1")) == []
    [privacy] = await studio.handle(Command(ANN, "privacy"))
    assert "What I keep" in privacy.text

    # A ban by command, on someone not told yet: told on their next message, once.
    await studio.handle(Command(BOB, "start"))
    [no] = await studio.handle(Command(EVE, "ban", "terminal:bob spam"))
    assert no.text == "Only moderators can use that command."
    [ok] = await studio.handle(Command(MIA, "ban", "terminal:bob spam reports"))
    assert ok.text.startswith("User #2 is banned.")
    outbox(studio).sent.clear()
    await mod(studio).db.store.run("UPDATE users SET ban_notified = 0 WHERE id = 2")
    [told] = await studio.handle(Text(BOB, "hi"))
    assert "suspended your access to Sitter (spam reports)" in told.text
    assert await studio.handle(Text(BOB, "hi again")) == []

    # Lifting: from the card, and by command.
    [note] = await studio.handle(Press(MAX, "mod:1:unban"))
    assert note.text == "Report #1: Ban lifted." and not sent_to(studio, "mods")[-1].buttons
    assert any("lifted your suspension" in r.text for to, r in outbox(studio).sent)
    assert await studio.handle(Text(ANN, "hello again")) != []
    [lift] = await studio.handle(Command(MIA, "mod", "unban #2"))
    assert lift.text == "User #2's ban is lifted."
    assert await studio.handle(Text(BOB, "back")) != []
    actions = [a for _, a, _ in await audit_actions(studio.store)]
    assert actions == [
        "report", "remove_images", "purge_references", "ban", "ban", "unban", "unban",
    ]  # fmt: skip


async def test_open_reports_list_for_moderators(studio: Studio) -> None:
    ann = await seed_person(studio.store, "terminal", "ann")
    await studio.handle(Press(BOB, f"rep:{ann['variations'][0]}:oth"))
    [listing] = await studio.handle(Command(MIA, "reports"))
    assert listing.text == "1 open report:" and button([listing], "#1") == "mod:1:show"
    [shown] = await studio.handle(Press(MIA, "mod:1:show"))
    assert shown.text.startswith("Report #1 · Something else") and shown.edit_key is None
    [refused] = await studio.handle(Command(EVE, "reports"))
    assert refused.text == "Only moderators can use that command."


async def test_report_from_a_group_continues_in_private(studio: Studio) -> None:
    ann = await seed_person(studio.store, "terminal", "ann")
    tg = RecordingOutbox()
    studio.add_outbox("telegram", tg)
    mod(studio).add_place("telegram", moderation_place(TelegramSettings()))  # as the adapter does
    in_group = Who("telegram", "2002", "-100", "Bob", private=False)
    [line] = await studio.handle(Press(in_group, f"rep:{ann['variations'][0]}"))
    assert line.text == "I've sent you the report form in a private message."
    [(to, form)] = tg.sent
    assert to == Recipient("telegram", "2002") and form.text.startswith("Why are you reporting")
    # /report replying to the message with all four portraits' buttons: pick one first.
    vids = " ".join(f"rep:{v}" for v in ann["variations"])
    bob_dm = Who("telegram", "2002", "2002", "Bob")
    [pick] = await studio.handle(Command(bob_dm, "report", f"{vids} that's me"))
    assert [b.label for row in pick.buttons for b in row] == [f"Portrait {i}" for i in range(1, 5)]
    tg.fail = True  # never started a private chat with the bot: told how
    [start] = await studio.handle(Press(in_group, f"rep:{ann['variations'][1]}"))
    assert start.text.startswith("To report, start a private chat with me first")


async def test_removed_portraits_and_report_floods_are_refused(studio: Studio) -> None:
    ann = await seed_person(studio.store, "terminal", "ann", variations=4)
    await studio.handle(Press(BOB, f"rep:{ann['variations'][0]}:sex"))
    await studio.handle(Press(MIA, "mod:1:rm"))
    [gone] = await studio.handle(Press(EVE, f"rep:{ann['variations'][1]}"))
    assert gone.text == "The moderators have already removed that portrait."
    # Ten reports a day per person at most.
    many = await seed_person(studio.store, "terminal", "many", variations=12)
    for vid in many["variations"][:9]:
        [ack] = await studio.handle(Press(BOB, f"rep:{vid}:oth"))
        assert ack.text.startswith("Thank you."), ack.text
    [no] = await studio.handle(Press(BOB, f"rep:{many['variations'][9]}:oth"))
    assert "10 reports today" in no.text


@pytest.mark.parametrize("args", ["²", "rep:²", "#١٢", "rep:" + "9" * 40])
async def test_odd_report_targets_get_a_plain_answer(studio: Studio, args: str) -> None:
    """Digits that are not ASCII, or absurdly long ids, never crash the command."""
    await seed_person(studio.store, "terminal", "bob")
    replies = await studio.handle(Command(BOB, "report", args))
    assert replies and "Report button" in replies[-1].text


async def test_forged_press_with_odd_digits_is_refused(studio: Studio) -> None:
    await seed_person(studio.store, "terminal", "bob")
    replies = await studio.handle(Press(BOB, "rep:²"))
    assert replies and "went wrong" not in replies[-1].text.lower()
