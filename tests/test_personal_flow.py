"""A personal model from the chat, fast (tests/fake_engine.py answers the train job with
real safetensors bytes; a real SQLite file and media folder): the offer after Done and
from /photos and /train (its plain words), consent recorded with its version, live
progress with Stop (the job and its checkpoint dropped, nothing kept), the model learned
and stored, every later order carrying it (summary and caption say so), the switch, a
set below the minimum making it out of date, and /forget leaving no byte of it."""

from __future__ import annotations

import hashlib
import random
from typing import Any

import pytest
from fake_engine import FakeEngine
from PIL import Image
from rights_scan import in_db_files, in_files, in_tables
from studio_harness import Chat, RecordingOutbox, png, until

from bot.studio.core.core import Studio
from bot.studio.core.events import Command, IncomingFile, Press, Reply, Who
from bot.studio.personal import buttons as pmb
from bot.studio.personal import words_personal as wpm
from sitter import contract as c

ANN = Who("terminal", "ann", "ann-chat", "Ann")
BOB = Who("terminal", "bob", "bob-chat", "Bob")
MIN = 6  # SITTER_TRAIN_MIN_PHOTOS here (10 by default)
WIZARD = ("Watercolor", "Business suit", "Office", "Golden hour", "Headshot", "Skip", "Square")


def photos(n: int, seed: int = 0) -> list[IncomingFile]:
    """``n`` different pictures (blocks of colour: distinct fingerprints)."""
    out = []
    for i in range(n):
        rng = random.Random(seed * 1000 + i)
        im = Image.new("RGB", (8, 8))
        im.putdata([tuple(rng.randrange(256) for _ in range(3)) for _ in range(64)])
        data = png(im.resize((256, 256), Image.Resampling.NEAREST))
        out.append(IncomingFile(f"me{i}.png", data, len(data)))
    return out


@pytest.fixture
async def studio(fake_studio: Studio, fake_engine: FakeEngine) -> Studio:
    fake_studio.settings = fake_studio.settings.model_copy(
        update={"train_min_photos": MIN, "daily_quota": 100, "min_photos": 4}
    )
    return fake_studio


def _sent(studio: Studio) -> RecordingOutbox:
    return studio.outboxes["terminal"]  # type: ignore[return-value]


def _said(studio: Studio, words: str) -> list[Reply]:
    return [r for _, r in _sent(studio).sent if words in r.text]


async def _set(studio: Studio, fake: FakeEngine, chat: Chat, n: int = MIN) -> list[Reply]:
    """Consent, ``n`` photos of one person, Done: the replies to Done."""
    files = photos(n)
    fake.show(files, "ann")
    await chat.send("/start")
    await chat.press("I agree")
    await chat.files(files)
    return await chat.press("Done")


def _generated(fake: FakeEngine) -> list[c.GenerateRequest]:
    seen: list[c.GenerateRequest] = fake.__dict__.setdefault("_generated", [])
    return seen


def _record_generations(fake: FakeEngine) -> None:
    answer = fake.handlers[c.JOB_GENERATE]

    def recording(engine: FakeEngine, req: c.GenerateRequest) -> Any:
        _generated(engine).append(req)
        return answer(engine, req)

    fake.handlers[c.JOB_GENERATE] = recording


async def _order(studio: Studio, chat: Chat) -> str:
    """The wizard to its summary, then Queue it; the summary's text."""
    replies = await chat.send("/new")
    if any(b.label.startswith("Done") for r in replies for row in r.buttons for b in row):
        await chat.press("Done")  # /photos opened the set again
    for label in WIZARD:
        await chat.press(label)
    summary = chat.text()
    await chat.press("✓ Queue it")
    return summary


async def test_offer_consent_progress_stop_train_use_switch_and_forget(
    studio: Studio, fake_engine: FakeEngine
) -> None:
    fake, store, chat = fake_engine, studio.store, Chat(studio, ANN)
    _record_generations(fake)
    done = await _set(studio, fake, chat)
    # After Done: a word on the offer, with its button (the style step follows).
    offer_line = next(r for r in done if wpm.OFFER_BUTTON in str(r.buttons))
    assert "/train" in offer_line.text
    [offer] = await chat.press(wpm.OFFER_BUTTON, [offer_line])
    plain = ("small file", "only for your own orders", "never for anyone else", "/forget")
    plain += ("new set", "moderator", "30 days", "minutes", "images of today's limit")
    for words in plain:
        assert words in offer.text, words
    # /train and the /photos sheet offer the same.
    [again] = await chat.send("/train")
    assert again.text == offer.text
    sheet = await chat.send("/photos")
    assert any(b.label == wpm.OFFER_BUTTON for r in sheet for row in r.buttons for b in row)

    # Consent: recorded, versioned, apart from the studio's own consent.
    fake.delay[c.JOB_TRAIN] = 30.0  # long enough to watch it and stop it
    [queued] = await chat.press(wpm.AGREE_BUTTON, [offer])
    assert queued.edit_key == "train-1" and "waiting to start" in queued.text
    consent = await store.consent(1, "personal")
    assert consent["version"] == wpm.CONSENT_VERSION and consent["text"] == wpm.CONSENT_TEXT
    assert (await store.consent(1))["version"] != wpm.CONSENT_VERSION  # the studio's own
    row = await store.personal(1)
    assert row["consent_version"] == wpm.CONSENT_VERSION and row["photos"] == MIN
    [job_id] = [i for i, j in fake.jobs.items() if j.name == c.JOB_TRAIN]
    # Live progress: the one message edited with a bar, % and time left, and Stop.
    await until(studio, lambda: bool(_said(studio, "Learning your personal model")), 10, "bar")
    bar = _said(studio, "Learning your personal model")[-1]
    assert "%" in bar.text and "left" in bar.text and bar.edit_key == "train-1"
    assert job_id in fake.checkpoints  # the worker checkpoints as it goes
    [stopped] = await chat.press(wpm.CANCEL_BUTTON, [bar])
    assert stopped.text == wpm.STOPPED
    assert job_id not in fake.jobs and job_id not in fake.checkpoints
    row = await store.personal(1)
    assert row["status"] == "cancelled" and row["path"] is None and row["sha256"] is None
    [twice] = await chat.press(wpm.CANCEL_BUTTON, [bar])
    assert twice.text == wpm.NOTHING_TO_STOP

    # Learned: the file under the person's media folder, then "ready" with the switch.
    fake.delay[c.JOB_TRAIN] = 0.0
    [offer] = await chat.send("/train")
    await chat.press(wpm.AGREE_BUTTON, [offer])
    await until(studio, lambda: bool(_said(studio, "personal model is ready")), 10, "ready")
    row = await store.latest_personal(1)
    assert (
        row["status"] == "ready" and row["enabled"] == 1 and row["path"].startswith("u1/personal/")
    )
    lora = store.media.read(row["path"])
    assert hashlib.sha256(lora).hexdigest() == row["sha256"]
    from safetensors import safe_open  # real safetensors bytes

    path = store.media.path(row["path"])
    with safe_open(str(path), "np") as f:
        assert list(f.keys())
    assert row["licence"] and row["family"] and row["commercial_ok"] == 1
    assert not [i for i, j in fake.jobs.items() if j.name == c.JOB_TRAIN]  # the answer dropped
    assert not fake.checkpoints

    # Every later order carries it; the summary and the caption say so.
    summary = await _order(studio, chat)
    assert wpm.SUMMARY_LINE in summary
    await until(studio, lambda: bool(_said(studio, wpm.RESULTS_LINE)), 10, "results")
    assert _generated(fake)[-1].personal is not None
    assert _generated(fake)[-1].personal.sha256 == row["sha256"]

    # Off (the button), then the next order goes without it; on again (the command).
    ready = _said(studio, "personal model is ready")[-1]
    [off] = await chat.press(wpm.OFF_BUTTON, [ready])
    assert off.text == wpm.switched(False)
    summary = await _order(studio, chat)
    assert wpm.SUMMARY_LINE not in summary
    await until(studio, lambda: len(_generated(fake)) == 2, 10, "second order")
    assert _generated(fake)[-1].personal is None
    [on] = await chat.send(Press(ANN, pmb.personal(pmb.ON, row["id"])))
    assert on.text == wpm.switched(True)
    [word] = await chat.send(Command(ANN, "personal", "off"))
    assert word.text == wpm.switched(False)
    [word] = await chat.send(Command(ANN, "personal", "on"))
    assert word.text == wpm.switched(True)

    # Someone else's press on her model is refused.
    bob = Chat(studio, BOB)
    await bob.send("/start")
    await bob.press("I agree")
    [refused] = await bob.send(Press(BOB, pmb.personal(pmb.OFF, row["id"])))
    assert refused.text == wpm.NOT_YOURS
    [refused] = await bob.send(Press(BOB, pmb.personal(pmb.AGREE, row["set_id"])))
    assert refused.text == wpm.NOT_YOUR_OFFER

    # /forget: no byte of the model left in the database, its files or the media folder.
    await chat.send("/forget")
    await chat.press("Yes, delete everything")
    needle = {"lora": lora[-32:]}
    assert await in_tables(store, {"lora sha": row["sha256"]}) == []
    assert in_files(store.media.root, needle) == []
    assert in_db_files(studio.settings.db_path, needle) == []
    assert await store.personal(row["id"]) is None


async def test_the_training_request_carries_photos_shrunk_not_the_originals(
    studio: Studio, fake_engine: FakeEngine
) -> None:
    """40 originals of 20 MB would be an 800 MB request: past Redis' 512 MB per value."""
    import io

    from bot.studio.personal.personal import TRAIN_SIDE

    fake, chat = fake_engine, Chat(studio, ANN)
    seen: list[c.TrainRequest] = []
    answer = fake.handlers[c.JOB_TRAIN]

    def recording(engine: FakeEngine, req: c.TrainRequest) -> Any:
        seen.append(req)
        return answer(engine, req)

    fake.handlers[c.JOB_TRAIN] = recording
    files = photos(MIN)
    big = Image.open(io.BytesIO(files[0].data)).resize((3000, 2000))
    files[0] = IncomingFile("big.png", png(big), len(png(big)))
    fake.show(files, "ann")
    await chat.send("/start")
    await chat.press("I agree")
    await chat.files(files)
    await chat.press("Done")
    [offer] = await chat.send("/train")
    await chat.press(wpm.AGREE_BUTTON, [offer])
    await until(studio, lambda: bool(seen), 10, "the training request")
    sides = [max(Image.open(io.BytesIO(p.image)).size) for p in seen[0].photos]
    assert len(sides) == MIN and max(sides) <= TRAIN_SIDE, sides
    assert 3000 not in sides and 256 in sides  # the small ones go as they are


async def test_removing_any_photo_it_learned_from_deletes_the_model(
    studio: Studio, fake_engine: FakeEngine
) -> None:
    """Above the minimum too: the offer says the model goes when photos are removed, and
    a removed photo (one of someone else, say) must not live on in the model."""
    fake, store, chat = fake_engine, studio.store, Chat(studio, ANN)
    await _set(studio, fake, chat, MIN + 2)
    [offer] = await chat.send("/train")
    await chat.press(wpm.AGREE_BUTTON, [offer])
    await until(studio, lambda: bool(_said(studio, "personal model is ready")), 10, "ready")
    row = await store.latest_personal(1)
    path = store.media.path(row["path"])
    await chat.send("/photos")
    replies = await chat.send("remove 1")
    assert any(r.text.endswith("/train learns it again from the photos you kept.") for r in replies)
    assert not path.exists()
    row = await store.personal(row["id"])
    assert row["status"] == "outdated" and row["path"] is None and row["sha256"] is None


async def test_below_the_minimum_the_model_is_out_of_date_and_a_new_set_deletes_it(
    studio: Studio, fake_engine: FakeEngine
) -> None:
    fake, store, chat = fake_engine, studio.store, Chat(studio, ANN)
    await _set(studio, fake, chat)
    [offer] = await chat.send("/train")
    await chat.press(wpm.AGREE_BUTTON, [offer])
    await until(studio, lambda: bool(_said(studio, "personal model is ready")), 10, "ready")
    row = await store.latest_personal(1)
    path = store.media.path(row["path"])
    assert path.exists()
    await chat.send("/photos")
    replies = await chat.send("remove 1")
    assert any("out of date" in r.text for r in replies)
    assert not path.exists()
    row = await store.personal(row["id"])
    assert row["status"] == "outdated" and row["path"] is None and row["enabled"] == 0
    [offer] = await chat.send("/train")  # retraining needs enough photos again
    assert offer.text == wpm.need_photos(MIN, MIN - 1)

    # More photos, learned again; then a new set deletes it with the set.
    more = photos(1, seed=7)
    fake.show(more, "ann")
    await chat.files(more)
    await chat.press("Done")
    [offer] = await chat.send("/train")
    await chat.press(wpm.AGREE_BUTTON, [offer])
    await until(studio, lambda: len(_said(studio, "personal model is ready")) == 2, 10, "again")
    row = await store.latest_personal(1)
    path = store.media.path(row["path"])
    await chat.send("/photos")
    await chat.press("Start a new set")
    replies = await chat.press("Yes, delete them")
    assert any(wpm.SET_REPLACED in r.text for r in replies)
    assert not path.exists()
    row = await store.latest_personal(1)  # what it cost stays, codes only
    assert row["status"] == "outdated" and row["path"] is None and row["sha256"] is None


async def test_a_new_set_is_no_way_round_the_daily_limit(
    studio: Studio, fake_engine: FakeEngine
) -> None:
    """A training counts SITTER_TRAIN_QUOTA_COST images of the day, learned or stopped
    by a new set alike: the rows that say so stay (codes only)."""
    cost = studio.settings.train_quota_cost
    studio.settings = studio.settings.model_copy(update={"daily_quota": 2 * cost})
    fake, store, chat = fake_engine, studio.store, Chat(studio, ANN)
    await _set(studio, fake, chat)
    [offer] = await chat.send("/train")
    await chat.press(wpm.AGREE_BUTTON, [offer])
    await until(studio, lambda: bool(_said(studio, "personal model is ready")), 10, "ready")
    for n in (1, 2):  # twice: a new set, the same photos again, learned again
        await chat.send("/photos")
        await chat.press("Start a new set")
        await chat.press("Yes, delete them")
        files = photos(MIN, seed=10 + n)
        fake.show(files, "ann")
        await chat.files(files)
        await chat.press("Done")
        [offer] = await chat.send("/train")
        replies = await chat.press(wpm.AGREE_BUTTON, [offer])
        if n == 1:
            assert not any("daily limit" in r.text for r in replies), [r.text for r in replies]
            await until(studio, lambda: len(_said(studio, "personal model is ready")) == 2, 10, "2")
    # The third training of the day is past the limit of two, whatever the sets did.
    assert any("daily limit" in r.text for r in replies), [r.text for r in replies]
    assert [r["status"] for r in await store.all("SELECT status FROM personal_models")] == [
        "outdated",
        "outdated",
    ]


async def test_a_stale_offer_and_a_protected_face_are_refused(
    studio: Studio, fake_engine: FakeEngine
) -> None:
    from fake_answers import person_vector

    from bot.store.moderation_store import ModerationStore

    fake, store, chat = fake_engine, studio.store, Chat(studio, ANN)
    await _set(studio, fake, chat)
    [offer] = await chat.send("/train")
    # An offer for a set that is not the person's current one is stale.
    [stale] = await chat.send(Press(ANN, pmb.personal(pmb.AGREE, 99)))
    assert stale.text == wpm.SET_CHANGED
    # Her face protected meanwhile (someone's report): never learned.
    emb = c.Embedding(backend="fake", vector=person_vector("ann"))
    await ModerationStore(store).add_protected(emb, "moderator", None, None)
    [refused] = await chat.press(wpm.AGREE_BUTTON, [offer])
    assert refused.text == wpm.PROTECTED
    assert not [j for j in fake.jobs.values() if j.name == c.JOB_TRAIN]
    assert await store.latest_personal(1) is None


async def test_protecting_her_face_deletes_her_model_and_stops_a_training(
    studio: Studio, fake_engine: FakeEngine
) -> None:
    """Someone protects the face (a moderator's protect): every set showing it loses its
    photos, and a model learned from it goes, a training too (job and checkpoint)."""
    from fake_answers import person_vector

    from bot.store.moderation_store import ModerationStore
    from bot.studio.moderation.protect_reach import protect_everywhere

    fake, store, chat = fake_engine, studio.store, Chat(studio, ANN)
    await _set(studio, fake, chat)
    [offer] = await chat.send("/train")
    await chat.press(wpm.AGREE_BUTTON, [offer])
    await until(studio, lambda: bool(_said(studio, "personal model is ready")), 10, "ready")
    ready = await store.latest_personal(1)
    fake.delay[c.JOB_TRAIN] = 30.0
    # a second training running when the decision lands (a new set would be the usual way)
    second = await store.add_personal(1, ready["set_id"], "v", "terminal", "ann-chat", MIN)
    await studio.personal.enqueue(second)
    await until(studio, lambda: bool(fake.checkpoints), 10, "a checkpoint")
    emb = c.Embedding(backend="fake", vector=person_vector("ann"))
    pid = await ModerationStore(store).add_protected(emb, "moderator", None, None)
    await protect_everywhere(
        store, fake, [c.ProtectedFace(id=pid, embedding=emb)], "mod", None, set(), 5.0
    )
    assert await store.all("SELECT id FROM personal_models") == []
    assert not store.media.path(ready["path"]).exists()
    assert not fake.checkpoints and not [j for j in fake.jobs.values() if j.name == c.JOB_TRAIN]


async def test_a_failure_is_worded_from_its_code_and_a_lost_job_is_queued_again(
    studio: Studio, fake_engine: FakeEngine
) -> None:
    fake, store, chat = fake_engine, studio.store, Chat(studio, ANN)
    await _set(studio, fake, chat)
    used = await studio.orders.images_today(await store.user_by_id(1))
    # A model family that can't learn one (the engine's code, worded here).
    fake.fail_next(c.JOB_TRAIN, "not_supported", "qwen_edit can't train")
    [offer] = await chat.send("/train")
    await chat.press(wpm.AGREE_BUTTON, [offer])
    await until(studio, lambda: bool(_said(studio, "couldn't learn")), 10, "failure")
    failed = _said(studio, "couldn't learn")[-1].text
    assert "can't learn personal models" in failed and "qwen_edit" not in failed
    row = await store.latest_personal(1)
    assert row["status"] == "failed" and row["error"] == "not_supported" and row["path"] is None
    assert await studio.orders.images_today(await store.user_by_id(1)) == used  # failed: free
    # Redis lost the job: queued again (a new job id), then learned.
    fake.serving[c.QUEUE_TRAIN] = False
    [offer] = await chat.send("/train")
    await chat.press(wpm.AGREE_BUTTON, [offer])
    row = await store.latest_personal(1)
    fake.lose(row["job_id"])
    fake.serving[c.QUEUE_TRAIN] = True
    await until(studio, lambda: bool(_said(studio, "personal model is ready")), 10, "ready")
    again = await store.personal(row["id"])
    assert again["enqueues"] == 2 and again["job_id"] != row["job_id"]
    cost = studio.settings.train_quota_cost  # learned: it counts, and /forget carries it
    assert await studio.orders.images_today(await store.user_by_id(1)) == used + cost
    await chat.send("/forget")
    await chat.press("Yes, delete everything")
    await chat.send("/start")
    await chat.press("I agree")
    assert await studio.orders.images_today(await store.user_by_id(2)) == cost


async def test_a_packs_looks_carry_the_model_and_their_albums_say_so(
    studio: Studio, fake_engine: FakeEngine
) -> None:
    fake, chat = fake_engine, Chat(studio, ANN)
    _record_generations(fake)
    await _set(studio, fake, chat)
    [offer] = await chat.send("/train")
    await chat.press(wpm.AGREE_BUTTON, [offer])
    await until(studio, lambda: bool(_said(studio, "personal model is ready")), 10, "ready")
    await chat.send("/new")
    await chat.press("Packs")
    await chat.press("LinkedIn headshots")
    [summary] = await chat.press("Soft daylight")
    assert wpm.SUMMARY_LINE in summary.text
    await chat.press("✓ Queue it")
    albums = lambda: [r for _, r in _sent(studio).sent if r.images and "look " in r.text]  # noqa: E731
    await until(studio, lambda: len(albums()) == 4, 20, "the looks")
    assert all(wpm.RESULTS_LINE in r.text for r in albums())
    assert len(_generated(fake)) == 4 and all(r.personal is not None for r in _generated(fake))
