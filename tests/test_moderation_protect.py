"""Protected faces with real photos and the engine's analysis (dlib backend):
"protect this face" from a report, and /protect with a selfie."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from conftest import FACES, needs_shared
from moderation_helpers import all_media
from studio_harness import RecordingOutbox, incoming, start_engine, stop

from bot.studio.core.core import Studio
from bot.studio.core.events import Command, Files, Press, Reply, Who
from bot.studio.moderation import Moderation, Place
from sitter.config import load_settings

ROOT = Path(__file__).resolve().parents[1]
ANN = Who("terminal", "ann", "ann-chat", "Ann")  # uploads someone else's face
BOB = Who("terminal", "bob", "bob-chat", "Bob")  # that someone
CAROL = Who("terminal", "carol", "carol-chat", "Carol")  # tries the same face later
DAVE = Who("terminal", "dave", "dave-chat", "Dave")  # protects his own face
ERIN = Who("terminal", "erin", "erin-chat", "Erin")
CAROL_LATE = Who("terminal", "carol2", "carol2-chat", "Carol")  # after a protection
MIA = Who("terminal", "mia", "mods", "Mia", private=False, is_moderator=True)
PROTECTED = "this face is protected: its owner asked not to have it used"

pytestmark = [needs_shared, pytest.mark.slow]


@pytest.fixture
def engine(
    redis_url: str, queue_prefix: str, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """The real engine worker (dlib) once its photo analysis is in the tree; until then
    the studio tests' stand-in worker, which runs the same DlibAnalyzer."""
    if not (ROOT / "engine" / "analysis.py").is_file():
        monkeypatch.setenv("STUDIO_TEST_ENGINE", "stand-in")
    proc = start_engine(redis_url, queue_prefix, data_dir / "engine", log=data_dir / "engine.log")
    yield
    stop(proc)


@pytest.fixture
async def studio(redis_url, queue_prefix, data_dir, engine) -> AsyncIterator[Studio]:
    settings = load_settings(
        data_dir=data_dir, redis_url=redis_url, queue_prefix=queue_prefix, min_photos=2
    )
    s = await Studio.open(settings, tick_s=0.05, analyze_timeout_s=120)
    s.add_outbox("terminal", RecordingOutbox())
    assert isinstance(s.moderation, Moderation)
    s.moderation.add_place("terminal", Place(chats=("mods",)))
    yield s
    await s.aclose()


async def consent(studio: Studio, who: Who) -> None:
    replies = await studio.handle(Command(who, "start"))
    buttons = [b for r in replies for row in r.buttons for b in row]
    agree = next((b.data for b in buttons if b.label == "I agree"), None)
    if agree:
        await studio.handle(Press(who, agree))


async def upload(studio: Studio, who: Who, *names: str) -> str:
    files = tuple(incoming(FACES / n) for n in names)
    replies: list[Reply] = await studio.handle(Files(who, files))
    return "\n".join(r.text for r in replies)


async def test_protect_this_face_refuses_the_same_person_from_anyone(studio: Studio) -> None:
    # Ann builds a reference set from photos of Obama (Bob, in this story).
    await consent(studio, ANN)
    verdicts = await upload(studio, ANN, "obama/1.jpg", "obama/2.jpg")
    assert verdicts.count("✓ accepted") == 2, verdicts
    store = studio.store
    ann = await store.user("terminal", "ann")
    ref = await store.current_set(ann["id"])
    # Her order's portrait (the portrait pipeline is tested elsewhere; here a real file).
    order_id = await store.create_order(
        ann["id"], ref["id"], "terminal", "ann-chat", "cinematic", {}, "a portrait", "", {}, [1]
    )
    data = (FACES / "obama" / "1.jpg").read_bytes()
    rel, sha = store.media.put(ann["id"], "results", data, "jpg")
    vid = await store.add_variation(order_id, ann["id"], 1, 1, rel, sha, 0.9, True, True, 1)

    # Bob reports it; Mia protects the face.
    await studio.handle(Press(BOB, f"rep:{vid}:me"))
    [done] = await studio.handle(Press(MIA, "mod:1:pro"))
    outbox: RecordingOutbox = studio.outboxes["terminal"]  # type: ignore[assignment]
    assert "face protected" in outbox.sent[-1][1].text
    assert "2 face embeddings protected" in done.text and "2 reference photos deleted" in done.text
    rows = await store.all("SELECT * FROM protected_faces")
    assert len(rows) == 2 and {r["source"] for r in rows} == {"moderator"}
    assert {r["backend"] for r in rows} == {"dlib"} and all(r["embedding"] for r in rows)
    assert rows[0]["owner_user_id"] == (await store.user("terminal", "bob"))["id"]
    assert not [f for f in all_media(store) if f.startswith(f"u{ann['id']}/")]

    # Carol, later: two other photos of the same man are refused, other people are fine.
    await consent(studio, CAROL)
    verdicts = await upload(studio, CAROL, "obama/3.jpg", "obama/4.jpg")
    assert verdicts.count(PROTECTED) == 2, verdicts
    verdicts = await upload(studio, CAROL, "biden/1.jpg")
    assert "✓ accepted" in verdicts, verdicts
    # Ann, too, cannot bring him back.
    await consent(studio, ANN)
    assert PROTECTED in await upload(studio, ANN, "obama/4.jpg")


async def test_protect_my_own_face_with_a_selfie(studio: Studio) -> None:
    await consent(studio, DAVE)
    # His own face: a selfie that matches his accepted reference photos (issue 22).
    assert (await upload(studio, DAVE, "kit_harington/1.jpg", "kit_harington/3.jpg")).count(
        "✓ accepted"
    ) == 2
    [ask] = await studio.handle(Command(DAVE, "protect"))
    assert "Send me one clear selfie" in ask.text
    media_before = all_media(studio.store)
    [r] = await studio.handle(Files(DAVE, (incoming(FACES / "noface" / "1.jpg"),)))
    assert r.text.startswith("That selfie won't do:"), r.text
    [r] = await studio.handle(Files(DAVE, (incoming(FACES / "kit_harington" / "2.jpg"),)))
    assert r.text.startswith("Done: your face is protected."), r.text
    assert all_media(studio.store) == media_before  # the selfie was never stored
    [again] = await studio.handle(Command(DAVE, "protect"))
    assert "already protected" in again.text

    # Someone else's photo of Dave is refused; Dave's own uploads still work.
    await consent(studio, ERIN)
    assert PROTECTED in await upload(studio, ERIN, "kit_harington/2.jpg")
    assert "✓ accepted" in await upload(studio, DAVE, "kit_harington/2.jpg")

    # Lifted: Erin may use a photo of him again.
    [lifted] = await studio.handle(Command(DAVE, "unprotect"))
    assert lifted.text == "Your face is no longer protected."
    assert "✓ accepted" in await upload(studio, ERIN, "kit_harington/3.jpg")
    actions = [
        r[0] for r in await studio.store.all("SELECT action FROM moderation_actions ORDER BY id")
    ]
    assert actions == ["protect_self", "protected_match", "unprotect_self"]


async def test_protecting_a_face_another_account_holds_goes_to_the_moderators(
    studio: Studio,
) -> None:
    """Hole in issue 22's consent work: Ann makes a set of public photos of Bob as "her
    own", then /protects another photo of him. It matched her set, so it was taken as
    self-protection: Bob's photos and portraits were deleted and his later uploads
    refused. A face that another account's accepted photos show goes to the moderators;
    a self-protection by the person alone never deletes anyone else's work."""
    store = studio.store
    await consent(studio, BOB)
    assert "✓ accepted" in await upload(studio, BOB, "obama/1.jpg")
    bob = await store.user("terminal", "bob")
    ref = await store.current_set(bob["id"])
    order_id = await store.create_order(
        bob["id"], ref["id"], "terminal", "bob-chat", "cinematic", {}, "a portrait", "", {}, [1]
    )
    rel, sha = store.media.put(bob["id"], "results", (FACES / "obama/1.jpg").read_bytes(), "jpg")
    await store.add_variation(order_id, bob["id"], 1, 1, rel, sha, 0.9, True, True, 1)
    await consent(studio, ANN)
    assert (await upload(studio, ANN, "obama/2.jpg", "obama/3.jpg")).count("✓ accepted") == 2
    await studio.handle(Command(ANN, "protect"))
    bobs_before = [f for f in all_media(store) if f.startswith(f"u{bob['id']}/")]
    [r] = await studio.handle(Files(ANN, (incoming(FACES / "obama" / "4.jpg"),)))
    assert "sent your request to the moderators as report #1" in r.text, r.text
    assert await store.one("SELECT 1 FROM protected_faces") is None  # nothing protected
    assert [f for f in all_media(store) if f.startswith(f"u{bob['id']}/")] == bobs_before
    assert [p.status for p in await store.photos(ref["id"])] == ["accepted"]
    assert await store.one("SELECT 1 FROM variations WHERE order_id = ?", order_id)
    assert "✓ accepted" in await upload(studio, BOB, "obama/4.jpg")  # not locked out
    row = await store.one("SELECT reason FROM reports")
    assert row["reason"] == "protect_request"


async def test_protect_someone_elses_face_goes_to_the_moderators(studio: Studio) -> None:
    """Issue 22, item 4: /protect took any face, so anyone could lock someone else out of
    the studio. A selfie that doesn't match the person's own accepted photos (here: they
    have Obama's set and send Kit Harington's face; or they have no set) protects nothing
    at once: it goes to the moderators as a request, and only their decision protects."""
    store = studio.store
    await consent(studio, ERIN)
    assert "✓ accepted" in await upload(studio, ERIN, "kit_harington/2.jpg")
    await consent(studio, ANN)
    assert (await upload(studio, ANN, "obama/1.jpg", "obama/2.jpg")).count("✓ accepted") == 2
    await studio.handle(Command(ANN, "protect"))
    media_before = all_media(store)
    [r] = await studio.handle(Files(ANN, (incoming(FACES / "kit_harington" / "1.jpg"),)))
    print("\n" + r.text)
    assert "sent your request to the moderators as report #1" in r.text, r.text
    assert all_media(store) == media_before  # the selfie was never stored
    assert await store.one("SELECT 1 FROM protected_faces") is None  # nothing protected
    assert "✓ accepted" in await upload(studio, ERIN, "kit_harington/3.jpg")  # not locked out
    row = await store.one("SELECT reason, face_embedding, variation_id FROM reports")
    assert row["reason"] == "protect_request" and row["variation_id"] is None
    assert row["face_embedding"]  # its measurements only, for the moderators

    # No set at all: the same. A second request while one is open is not filed twice.
    await consent(studio, BOB)
    await studio.handle(Command(BOB, "protect"))
    [r] = await studio.handle(Files(BOB, (incoming(FACES / "biden" / "1.jpg"),)))
    assert "as report #2" in r.text, r.text
    await studio.handle(Command(BOB, "protect"))
    [r] = await studio.handle(Files(BOB, (incoming(FACES / "biden" / "1.jpg"),)))
    assert "still with the moderators" in r.text, r.text

    # The moderators see the request and decide: protecting it reaches Erin's photos.
    box = studio.outboxes["terminal"]
    cards = [x for to, x in box.sent if to.chat_id == "mods"]  # type: ignore[attr-defined]
    card = next(x for x in cards if x.text.startswith("Report #1 · A request to protect"))
    labels = [btn.label for row in card.buttons for btn in row]
    assert labels == ["Dismiss", "Protect this face"], labels
    [done] = await studio.handle(Press(MIA, "mod:1:pro"))
    print(done.text)
    assert "(1 face embeddings protected, and in 1 other account: 2 reference photos" in (done.text)
    await consent(studio, CAROL_LATE)
    assert PROTECTED in await upload(studio, CAROL_LATE, "kit_harington/1.jpg")
    actions = [r[0] for r in await store.all("SELECT action FROM moderation_actions ORDER BY id")]
    assert actions[:2] == ["protect_request", "protect_request"], actions
    assert "protect_face" in actions and "protect_reach" in actions, actions

    # Bob forgets himself: his open request's face measurements go with him.
    [ask] = await studio.handle(Command(BOB, "forget"))
    yes = next(b.data for row in ask.buttons for b in row if b.label == "Yes, delete everything")
    await studio.handle(Press(BOB, yes))
    request = await store.one("SELECT status, face_embedding FROM reports WHERE id = 2")
    assert request["face_embedding"] is None and request["status"] == "decided"
