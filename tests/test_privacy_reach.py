"""Moderation reaches everything it decides about (issue 13, items 1 and 2), on a real
Redis, a real SQLite file, real files and a real worker process (dlib analysis of
real photos): protection reaches retries, copies and other accounts' sets; a ban
cancels queued work and the tracker delivers nothing to a banned owner."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from conftest import FACES, needs_shared
from moderation_helpers import seed_person
from studio_harness import RecordingOutbox, incoming, start_engine, stop, until

from bot.studio.core import buttons as b
from bot.studio.core import words as w
from bot.studio.core.core import Studio
from bot.studio.core.events import Command, Files, Press, Reply, Who
from bot.studio.moderation import Moderation, Place
from sitter import contract as c
from sitter.config import load_settings

ANN = Who("terminal", "ann", "ann-chat", "Ann")  # orders portraits of Obama's face
BOB = Who("terminal", "bob", "bob-chat", "Bob")  # reports them
CAROL = Who("terminal", "carol", "carol-chat", "Carol")  # had his photos accepted earlier
DAN = Who("terminal", "dan", "dan-chat", "Dan")  # his photos were accepted before a protection
MIA = Who("terminal", "mia", "mods", "Mia", private=False, is_moderator=True)


def _settings(data_dir: Path, redis_url: str, prefix: str):
    return load_settings(
        data_dir=data_dir, redis_url=redis_url, queue_prefix=prefix, min_photos=2, daily_quota=0
    )


@pytest.fixture
def engine(redis_url: str, queue_prefix: str, data_dir: Path) -> Iterator[None]:
    proc = start_engine(redis_url, queue_prefix, data_dir / "engine", log=data_dir / "engine.log")
    yield
    stop(proc)


@pytest.fixture
async def studio(redis_url, queue_prefix, data_dir, engine) -> AsyncIterator[Studio]:
    s = await Studio.open(_settings(data_dir, redis_url, queue_prefix), analyze_timeout_s=120)
    s.add_outbox("terminal", RecordingOutbox())
    assert isinstance(s.moderation, Moderation)
    s.moderation.add_place("terminal", Place(chats=("mods",)))
    yield s
    await s.aclose()


def _buttons(replies: list[Reply]) -> list[tuple[str, str]]:
    return [(btn.label, btn.data) for r in replies for row in r.buttons for btn in row]


async def _consent(studio: Studio, who: Who) -> None:
    replies = await studio.handle(Command(who, "start"))
    agree = dict(_buttons(replies)).get("I agree")
    if agree:
        await studio.handle(Press(who, agree))


async def _photos(studio: Studio, who: Who, *names: str) -> str:
    replies = await studio.handle(Files(who, tuple(incoming(FACES / n) for n in names)))
    return "\n".join(r.text for r in replies)


async def _order(studio: Studio, who: Who) -> list[Reply]:
    """Done, then the first choice at every wizard step, then Queue it."""
    replies = await studio.handle(Command(who, "done"))
    for _ in range(7):
        choices = [
            d
            for label, d in _buttons(replies)
            if label not in ("◀ Back", "✕ Cancel", "Type my own")
        ]
        replies = await studio.handle(Press(who, choices[0]))
    return await studio.handle(Press(who, dict(_buttons(replies))["✓ Queue it"]))


def _sent_to(studio: Studio, chat: str) -> list[Reply]:
    box = studio.outboxes["terminal"]
    assert isinstance(box, RecordingOutbox)
    return [r for to, r in box.sent if to.chat_id == chat]


@needs_shared
async def test_protect_reaches_retries_copies_and_other_accounts(studio: Studio) -> None:
    store = studio.store
    await _consent(studio, ANN)
    assert (await _photos(studio, ANN, "obama/1.jpg", "obama/2.jpg")).count("✓ accepted") == 2
    await _order(studio, ANN)
    await until(studio, lambda: bool(_sent_to(studio, "ann-chat")), what="order 1 delivered")
    first = await store.last_order((await store.user("terminal", "ann"))["id"])
    # The first message may be the progress note: wait for the order itself to be done,
    # or the retry is (rightly) refused as a second active order.

    tracker = studio.tracker()
    for _ in range(600):
        if (await store.order(first["id"]))["status"] == "done":
            break
        await tracker.tick()
        await asyncio.sleep(0.05)
    # The retry: same reference set, new seeds, delivered too; one portrait upscaled.
    [_, queued] = await studio.handle(Press(ANN, b.item("r", first["id"])))
    assert "queued" in queued.text
    retry_id = first["id"] + 1
    await until(
        studio,
        lambda: any(f"Order #{retry_id} –" in r.text for r in _sent_to(studio, "ann-chat")),
        what="the retry delivered",
    )
    retry_vars = await store.variations(retry_id)
    [up] = await studio.handle(Press(ANN, b.item("u", retry_vars[0].id)))
    assert "Upscaling #1" in up.text
    await until(
        studio,
        lambda: any("upscaled" in r.text for r in _sent_to(studio, "ann-chat")),
        what="the upscaled copy",
    )
    # Carol's photos of the same face were accepted before anyone protected it.
    await _consent(studio, CAROL)
    assert (await _photos(studio, CAROL, "obama/3.jpg", "obama/4.jpg")).count("✓ accepted") == 2

    # Bob reports a portrait of the FIRST order; Mia protects the face.
    v1 = (await store.variations(first["id"]))[0].id
    await studio.handle(Press(BOB, f"rep:{v1}:me"))
    [done] = await studio.handle(Press(MIA, "mod:1:pro"))
    assert "8 portraits removed" in done.text, done.text  # both orders' portraits

    # The retry's portraits and the upscaled copy are gone, rows marked, files deleted.
    for oid in (first["id"], retry_id):
        rows = await store.variations(oid)
        assert rows and all(r.removed_at and r.path is None for r in rows), oid
    assert await store.one("SELECT 1 FROM variation_jobs") is None
    ann_id = (await store.user("terminal", "ann"))["id"]
    kinds = {p.parent.name for p in store.media.user_dir(ann_id).rglob("*") if p.is_file()}
    assert kinds == set(), kinds
    # Upscale on a retry portrait is refused now.
    [again] = await studio.handle(Press(ANN, b.item("u", retry_vars[1].id)))
    assert again.text == "That portrait was removed."
    audit = await store.one(
        "SELECT detail FROM moderation_actions WHERE action = 'remove_images' ORDER BY id"
    )
    assert f'"other_orders": [{retry_id}]' in audit["detail"]

    # Carol, whose photos were accepted before the protection, cannot order portraits of
    # the face: the protection reached her set at once (issue 22), her photos deleted.
    carol_id = (await store.user("terminal", "carol"))["id"]
    assert "in 1 other account: 2 reference photos and 0 portraits" in done.text, done.text
    replies = await studio.handle(Command(CAROL, "done"))
    assert "✓ Queue it" not in dict(_buttons(replies))
    assert await store.one("SELECT 1 FROM orders WHERE user_id = ?", carol_id) is None
    refs = [p for p in store.media.user_dir(carol_id).rglob("*") if p.is_file()]
    assert refs == []
    reach = await store.one(
        "SELECT reason, detail FROM moderation_actions WHERE action = 'protect_reach' "
        "AND target_user_id = ?",
        carol_id,
    )
    assert '"photos": 2' in reach["detail"]

    # A face protected where the protection could not reach at once (the engine did not
    # answer then; here it is written straight to the table) is still caught when an
    # order is placed: Dan's accepted photos of it are deleted and no order is placed.
    await _consent(studio, DAN)
    assert (await _photos(studio, DAN, "biden/1.jpg", "biden/2.jpg")).count("✓ accepted") == 2
    dan_id = (await store.user("terminal", "dan"))["id"]
    dan_set = await store.current_set(dan_id)
    from bot.store.moderation_store import ModerationStore

    [first_photo, *_] = await store.photos(dan_set["id"], "accepted")
    assert first_photo.embedding is not None
    vec = c.Embedding(backend=first_photo.backend, vector=first_photo.embedding)
    await ModerationStore(store).add_protected(vec, "moderator")
    replies = await _order(studio, DAN)
    text = "\n".join(r.text for r in replies)
    assert "protected" in text and "didn't place the order" in text, text
    assert await store.one("SELECT 1 FROM orders WHERE user_id = ?", dan_id) is None
    refs = [p for p in store.media.user_dir(dan_id).rglob("*") if p.is_file()]
    assert refs == []
    match = await store.one(
        "SELECT reason, detail FROM moderation_actions WHERE action = 'protected_match' "
        "AND target_user_id = ?",
        dan_id,
    )
    assert match["reason"] == "order" and '"photos": 2' in match["detail"]


@needs_shared
async def test_protection_is_checked_again_before_generation(studio: Studio) -> None:
    """An order placed before the protection and queued after it (the tracker enqueues
    it): the worker compares its references with the protected faces and paints
    nothing; the owner is told plainly."""
    store = studio.store
    await _consent(studio, CAROL)
    assert (await _photos(studio, CAROL, "obama/3.jpg", "obama/4.jpg")).count("✓ accepted") == 2
    carol = await store.user("terminal", "carol")
    ref = await store.current_set(carol["id"])
    oid = await store.create_order(
        carol["id"], ref["id"], "terminal", "carol-chat", "cinematic", {}, "p", "", {}, [1, 2]
    )  # placed, not yet enqueued (the bot stopped in between)
    await _consent(studio, ANN)
    await _photos(studio, ANN, "obama/1.jpg", "obama/2.jpg")
    ann = await store.user("terminal", "ann")
    ann_set = await store.current_set(ann["id"])
    emb = await store.photos(ann_set["id"], "accepted")
    from bot.store.moderation_store import ModerationStore

    db = ModerationStore(store)
    for p in emb:
        assert p.embedding is not None
        vec = c.Embedding(backend=p.backend, vector=p.embedding)
        await db.add_protected(vec, "moderator")
    await until(
        studio,
        lambda: any(f"order #{oid} failed" in r.text for r in _sent_to(studio, "carol-chat")),
        what="the refusal",
    )
    row = await store.order(oid)
    assert row["status"] == "failed" and row["error"] == "protected", row["error"]
    assert await store.variations(oid) == []


async def test_a_ban_cancels_queued_work_and_nothing_is_delivered(
    redis_url: str, queue_prefix: str, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No worker serves the gpu queue at first: Ann's retry and an upscale are queued.
    Mia bans Ann. Then a gpu worker starts: nothing is painted or delivered to her."""
    s = await Studio.open(_settings(data_dir, redis_url, queue_prefix))
    box = RecordingOutbox()
    s.add_outbox("terminal", box)
    procs = []
    try:
        ann = await seed_person(s.store, "terminal", "ann")
        await s.store.record_consent(ann["user_id"], w.CONSENT_VERSION, w.CONSENT_TEXT)
        [_, queued] = await s.handle(Press(ANN, b.item("r", ann["order_id"])))
        assert "queued" in queued.text
        [up] = await s.handle(Press(ANN, b.item("u", ann["variations"][1])))
        assert "Upscaling #2" in up.text
        jobs = [
            r[0]
            for r in await s.store.all(
                "SELECT job_id FROM orders WHERE status = 'queued' UNION "
                "SELECT job_id FROM variation_jobs WHERE status = 'queued'"
            )
        ]
        assert len(jobs) == 2
        [banned] = await s.handle(Command(MIA, "ban", f"#{ann['user_id']} spam"))
        assert "is banned" in banned.text
        retry = await s.store.order(ann["order_id"] + 1)
        assert retry["status"] == "cancelled"
        vj = await s.store.one("SELECT * FROM variation_jobs WHERE kind = 'upscale' AND "
                               "variation_id = ?", ann["variations"][1])  # fmt: skip
        assert vj["status"] == "failed"
        queue = c.queue_name(queue_prefix, c.QUEUE_GPU)
        assert await s.engine.redis.zcard(queue) == 0  # out of the queue
        sent_before = len(box.sent)
        monkeypatch.setenv("STUDIO_ENGINE_QUEUES", "fast,gpu")
        procs.append(start_engine(redis_url, queue_prefix, data_dir / "engine"))
        tracker = s.tracker()
        for _ in range(30):
            await tracker.tick()
            await asyncio.sleep(0.05)
        assert box.sent[sent_before:] == []  # nothing delivered to the banned owner
        assert await s.store.variations(retry["id"]) == []
        up_row = await s.store.one("SELECT path FROM variation_jobs WHERE id = ?", vj["id"])
        assert up_row["path"] is None
    finally:
        for p in procs:
            stop(p)
        await s.aclose()


@pytest.fixture(autouse=True)
def _fast_queue_only(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    """The ban test starts with no gpu worker; the others run both queues."""
    if request.node.name.startswith("test_a_ban"):
        monkeypatch.setenv("STUDIO_ENGINE_QUEUES", "fast")
    else:
        monkeypatch.delenv("STUDIO_ENGINE_QUEUES", raising=False)
    assert os.environ.get("STUDIO_ENGINE_QUEUES") in (None, "fast")


@needs_shared
def test_the_real_worker_refuses_to_paint_a_protected_face() -> None:
    """engine/worker.py's generate job, with the real dlib analyzer on real photos:
    references matching a protected face stop the job before anything is painted."""
    import threading

    from PIL import Image

    from engine.faces.dlib_backend import DlibAnalyzer
    from engine.work import _do_generate
    from engine.worker import Permanent

    analyzer = DlibAnalyzer()

    def embed(name: str) -> c.Embedding:
        with Image.open(FACES / name) as im:
            [face] = analyzer.detect(im.convert("RGB"))
        return c.Embedding(backend=analyzer.name, vector=[float(x) for x in face.embedding])

    class Runtime:
        def require_analyzer(self) -> DlibAnalyzer:
            return analyzer

        def require_text_screen(self) -> None:
            return None  # the typed-answer screen off: this test is about faces

    req = c.GenerateRequest(
        generation_id="g1",
        prompt="a portrait",
        seeds=[1],
        references=[c.Reference(embedding=embed("obama/2.jpg"))],
        protected=[c.ProtectedFace(id=7, embedding=embed("obama/1.jpg"))],
    )
    with pytest.raises(Permanent) as refused:
        _do_generate(Runtime(), req, threading.Event())
    assert refused.value.code == "protected"

    # The order-time check: the real engine's set check names the matching photos.
    from engine.analysis import check_set

    result = check_set(
        c.CheckSetRequest(
            embeddings=[embed("kit_harington/1.jpg"), embed("obama/3.jpg")],
            protected=[c.ProtectedFace(id=7, embedding=embed("obama/1.jpg"))],
        ),
        analyzer,
    )
    assert result.protected_matches == [c.ProtectedMatch(index=1, protected_id=7)]


async def _delivered(studio: Studio, who: Who, chat: str) -> int:
    """Wait until the person's last order is done; its id."""
    store = studio.store
    await until(studio, lambda: bool(_sent_to(studio, chat)), what=f"{chat} delivered")
    order = await store.last_order((await store.user(who.platform, who.user_id))["id"])
    tracker = studio.tracker()
    finished = ("done", "delivered")
    for _ in range(600):
        if (await store.order(order["id"]))["status"] in finished:
            break
        await tracker.tick()
        await asyncio.sleep(0.05)
    assert (await store.order(order["id"]))["status"] in finished
    return order["id"]


@needs_shared
async def test_protect_reaches_portraits_another_account_already_has(studio: Studio) -> None:
    """Issue 22, item 3: after "Protect this face", another account kept its 4 portraits
    of that face, /portraits sent them again and Upscale still delivered a new copy. The
    protection reaches every stored set and portrait of the face, whoever made them:
    files, rows and Redis, each account reached logged."""
    store = studio.store
    await _consent(studio, ANN)
    assert (await _photos(studio, ANN, "obama/1.jpg", "obama/2.jpg")).count("✓ accepted") == 2
    await _order(studio, ANN)
    ann_order = await _delivered(studio, ANN, "ann-chat")
    await _consent(studio, CAROL)
    assert (await _photos(studio, CAROL, "obama/3.jpg", "obama/4.jpg")).count("✓ accepted") == 2
    await _order(studio, CAROL)
    carol_order = await _delivered(studio, CAROL, "carol-chat")
    carol_id = (await store.user("terminal", "carol"))["id"]
    carol_vars = await store.variations(carol_order)
    assert len(carol_vars) == 4 and all(v.path for v in carol_vars)

    # Bob, who reports "it's me", has his own photo of the face: his stays.
    await _consent(studio, BOB)
    assert "✓ accepted" in await _photos(studio, BOB, "obama/1.jpg")
    v1 = (await store.variations(ann_order))[0].id
    await studio.handle(Press(BOB, f"rep:{v1}:me"))
    [done] = await studio.handle(Press(MIA, "mod:1:pro"))
    print("\n" + done.text)
    bob_id = (await store.user("terminal", "bob"))["id"]
    bob_photos = await store.all("SELECT status FROM reference_photos WHERE user_id = ?", bob_id)
    assert [p["status"] for p in bob_photos] == ["accepted"]
    assert "in 1 other account: 2 reference photos and 4 portraits" in done.text, done.text

    # Carol's portraits: rows marked, files gone; /portraits has none; Upscale refused.
    rows = await store.variations(carol_order)
    assert all(r.removed_at and r.path is None for r in rows), rows
    files = [p for p in store.media.user_dir(carol_id).rglob("*") if p.is_file()]
    assert files == [], files
    shown = await studio.handle(Command(CAROL, "portraits"))
    listing = "\n".join(r.text for r in shown)
    line = next(x for x in listing.splitlines() if f"#{carol_order} " in x)
    assert line.endswith(", 0 portraits") and not any(r.images for r in shown), listing
    [again] = await studio.handle(Press(CAROL, b.item("u", carol_vars[0].id)))
    assert again.text == "That portrait was removed.", again.text
    photos = await store.all(
        "SELECT status, embedding FROM reference_photos WHERE user_id = ?", carol_id
    )
    assert photos and all(p["status"] == "refused" and p["embedding"] is None for p in photos)
    audit = await store.one(
        "SELECT report_id, detail FROM moderation_actions WHERE action = 'protect_reach' "
        "AND target_user_id = ?",
        carol_id,
    )
    assert audit is not None and audit["report_id"] == 1
    assert '"portraits": 4' in audit["detail"] and '"photos": 2' in audit["detail"]
    # Nothing of hers is left in Redis (kept photo checks name their person).
    from redis.asyncio import Redis

    redis = Redis.from_url(studio.settings.redis_url)
    try:
        keys = [k async for k in redis.scan_iter(match=f"*-a{carol_id}-*")]
    finally:
        await redis.aclose()
    assert keys == [], keys
