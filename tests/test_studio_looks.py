"""The format and "how to describe you" steps (issue 15), on the fake engine: what the
person picks reaches the ONE request builder (bot/studio/orders/orders.py), the order summary
and the results caption; a retry keeps both; the description is remembered and
forgotten; wizard.toml's step kinds are validated."""

from __future__ import annotations

from pathlib import Path

import pytest
from arq.jobs import deserialize_job
from fake_engine import FakeEngine
from studio_harness import Chat, RecordingOutbox, astronaut_set, until

from bot.store.rights_store import sweep_records
from bot.studio.core.core import Studio
from bot.studio.core.events import Press, Who
from sitter import contract as c
from sitter.prompts import PROMPTS_DIR, PromptError, PromptLibrary
from sitter.wizard_steps import SUBJECT_MAX_BYTES

WHO = Who("terminal", "lena", "lena-chat", "Lena")
SLOTS = ("Watercolor", "Business suit", "Office", "Soft daylight", "Headshot")
FORMATS = {
    "Square 1:1 (avatars)": c.Aspect.SQUARE,
    "Portrait 4:5 (feed posts)": c.Aspect.PORTRAIT,
    "Story 9:16": c.Aspect.STORY,
    "Landscape 16:9 (banners)": c.Aspect.LANDSCAPE,
}
REDHEAD = "a woman in her 40s with curly red hair"


async def to_subject(chat: Chat, first: bool = True) -> None:
    """Consent and photos (first time), or /new; then the style and the four slots."""
    if first:
        await chat.send("/start")
        await chat.press("I agree")
        await chat.files(astronaut_set())
        await chat.press("Done")
    else:
        await chat.send("/new")
    for label in SLOTS:
        await chat.press(label)
    assert "Step 6 of 7 – How should we describe you? (optional)" in chat.text()


def request_of(fake: FakeEngine, job_id: str) -> c.GenerateRequest:
    """The request as the worker reads it off the queue."""
    jd = deserialize_job(fake.jobs[job_id].blob, deserializer=c.deserialize)
    req = c.parse_request(c.JOB_GENERATE, jd.args[0])
    assert isinstance(req, c.GenerateRequest)
    return req


async def queued(studio: Studio, chat: Chat) -> tuple[dict, c.GenerateRequest]:
    [progress] = await chat.press("✓ Queue it")
    assert "queued" in progress.text
    user = await studio.store.user(WHO.platform, WHO.user_id)
    order = await studio.store.last_order(user["id"])
    assert order is not None
    fake = studio.engine
    assert isinstance(fake, FakeEngine)
    return dict(order), request_of(fake, order["job_id"])


@pytest.mark.parametrize("label", list(FORMATS))
async def test_each_format_reaches_the_request_summary_and_caption(
    fake_studio: Studio, label: str
) -> None:
    chat = Chat(fake_studio, WHO)
    await to_subject(chat)
    await chat.press("Skip")
    assert "Step 7 of 7 – Which format?" in chat.text()
    await chat.press(label)
    assert f"Format: {label}" in chat.text() and "Described as: a person" in chat.text()
    order, req = await queued(fake_studio, chat)
    # Square on a square style is the style's own size: sent as no format, which a
    # contract-2 worker also takes during a rolling upgrade (hostile review of issue 15).
    sent = None if FORMATS[label] is c.Aspect.SQUARE else FORMATS[label]
    assert order["aspect"] == FORMATS[label].value and req.aspect is sent
    if sent is None:
        from test_contract_versions import _load

        v2 = _load(2)
        v2.parse_request(c.JOB_GENERATE, c.to_wire(req))  # a contract-2 worker takes it

    outbox = fake_studio.outboxes["terminal"]
    assert isinstance(outbox, RecordingOutbox)
    await until(fake_studio, lambda: any(r.images for _, r in outbox.sent), 20, "results")
    results = next(r for _, r in outbox.sent if r.images)
    assert f"Order #{order['id']} – Watercolor, {label}: your 4 portraits" in results.text

    # Retry keeps the format (and the rest of the order).
    retry = next(b.data for row in results.buttons for b in row if b.label.startswith("↻"))
    await fake_studio.handle(Press(WHO, retry))
    user = await fake_studio.store.user(WHO.platform, WHO.user_id)
    again = await fake_studio.store.last_order(user["id"])
    assert again["retry_of"] == order["id"] and again["aspect"] == order["aspect"]
    assert request_of(fake_studio.engine, again["job_id"]).aspect is sent  # type: ignore[arg-type]


async def test_a_typed_format_works_and_nonsense_is_refused(fake_studio: Studio) -> None:
    chat = Chat(fake_studio, WHO)
    await to_subject(chat)
    await chat.press("Skip")
    [no, again] = await chat.send("a hexagon")
    assert "isn't one of the formats" in no.text and "Which format?" in again.text
    await chat.send("story")
    assert "Format: Story 9:16" in chat.text()
    await chat.press("◀ Back")
    await chat.send("16:9")
    assert "Format: Landscape 16:9 (banners)" in chat.text()


async def test_described_subject_preset_typed_refused_skipped_remembered_forgotten(
    fake_studio: Studio,
) -> None:
    chat = Chat(fake_studio, WHO)
    store = fake_studio.store
    await to_subject(chat)
    assert "Same as last time" not in str(chat.last[-1].buttons)  # nothing remembered yet

    # Refused: too long, then what the screen refuses (a minor); the step stays.
    [no, _] = await chat.send("x" * (SUBJECT_MAX_BYTES + 1))
    assert f"under {SUBJECT_MAX_BYTES}" in no.text
    [no, again] = await chat.send("a teen girl")
    assert not no.buttons and "How should we describe you" in again.text
    assert "Step 6 of 7" in again.text

    # Typed, screened, accepted: in the prompt for SDXL and beside the reference wording.
    await chat.send(REDHEAD)
    await chat.press("Story 9:16")
    assert f"Described as: {REDHEAD}" in chat.text() and "Format: Story 9:16" in chat.text()
    order, req = await queued(fake_studio, chat)
    assert order["subject"] == REDHEAD and REDHEAD in req.prompt and "a person" not in req.prompt
    assert f"the person in the reference images ({REDHEAD})" in req.reference_prompt
    assert req.aspect is c.Aspect.STORY
    uid = (await store.user(WHO.platform, WHO.user_id))["id"]
    assert await store.remembered_subject(uid) == REDHEAD
    outbox = fake_studio.outboxes["terminal"]
    assert isinstance(outbox, RecordingOutbox)
    await until(fake_studio, lambda: any(r.images for _, r in outbox.sent), 20, "results")

    # Next order: the last answer is offered as the default.
    await to_subject(chat, first=False)
    assert f"Last time: “{REDHEAD}”." in chat.text()
    assert chat.last[-1].buttons[0][0].label == "Same as last time"
    await chat.press("Same as last time")
    await chat.press("Square 1:1 (avatars)")
    assert f"Described as: {REDHEAD}" in chat.text()
    # Back to it: a preset this time.
    await chat.press("◀ Back")
    await chat.press("◀ Back")
    await chat.press("A man")
    await chat.press("Square 1:1 (avatars)")
    assert "Described as: a man" in chat.text()
    await chat.press("◀ Back")
    await chat.press("◀ Back")
    await chat.press("Skip")  # skipped: "a person", and the memory is kept
    await chat.press("Square 1:1 (avatars)")
    assert "Described as: a person (not described)" in chat.text()
    await chat.press("✕ Cancel")
    assert await store.remembered_subject(uid) == REDHEAD

    # /forget deletes the remembered description with the rest.
    [ask] = await chat.send("/forget")
    yes = next(b.data for row in ask.buttons for b in row if b.label.startswith("Yes"))
    await fake_studio.handle(Press(WHO, yes))
    assert await store.remembered_subject(uid) is None
    assert (await store.one("SELECT COUNT(*) FROM remembered_subjects"))[0] == 0


async def test_a_skipped_subject_is_a_person(fake_studio: Studio) -> None:
    chat = Chat(fake_studio, WHO)
    await to_subject(chat)
    await chat.press("Skip")
    await chat.press("Portrait 4:5 (feed posts)")
    order, req = await queued(fake_studio, chat)
    assert order["subject"] is None and "a person" in req.prompt
    assert "the person in the reference images," in req.reference_prompt
    assert "(" not in req.reference_prompt
    uid = (await fake_studio.store.user(WHO.platform, WHO.user_id))["id"]
    assert await fake_studio.store.remembered_subject(uid) is None


async def test_the_retention_sweep_deletes_an_old_remembered_description(
    fake_studio: Studio,
) -> None:
    store = fake_studio.store
    user = await store.ensure_user("terminal", "old", "Old", "old-chat")
    await store.remember_subject(user["id"], "a man with a grey beard")
    await store.run("UPDATE remembered_subjects SET updated_at = '2020-01-01T00:00:00.000Z'")
    done = await sweep_records(store, 30, 90)
    assert done["subjects"] == 1 and await store.remembered_subject(user["id"]) is None


# --- wizard.toml's step kinds --------------------------------------------------------------------
def _library_with(tmp_path: Path, extra: str) -> PromptLibrary:
    import shutil

    folder = tmp_path / "prompts"
    shutil.copytree(PROMPTS_DIR, folder)
    text = (folder / "wizard.toml").read_text(encoding="utf-8")
    (folder / "wizard.toml").write_text(text + extra, encoding="utf-8")
    return PromptLibrary.load(folder)


def test_shipped_wizard_has_one_subject_and_one_format_step() -> None:
    lib = PromptLibrary.load()
    kinds = [s.kind for s in lib.wizard_steps]
    assert kinds == ["slot"] * 4 + ["subject", "format"]
    assert [s.slot for s in lib.steps] == ["attire", "setting", "lighting", "composition"]
    fmt = lib.kind_step("format")
    assert fmt is not None and {p.value for p in fmt.presets} == {a.value for a in c.Aspect}


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        (
            '\n[[steps]]\nkind = "format"\nquestion = "Again?"\n'
            'presets = [{ label = "Square", value = "1:1" }]\n',
            "one step only",
        ),
        (
            '\n[[steps]]\nkind = "vibe"\nquestion = "?"\n'
            'presets = [{ label = "a", value = "b" }]\n',
            "kind must be one of slot, subject, format",
        ),
        (
            '\n[[steps]]\nkind = "subject"\nslot = "who"\nquestion = "?"\n'
            'presets = [{ label = "a", value = "b" }]\n',
            "fills no prompt slot",
        ),
        (
            '\n[[steps]]\nslot = "format"\nquestion = "?"\n'
            'presets = [{ label = "a", value = "b" }]\n',
            "'format' is reserved",
        ),
    ],
)
def test_bad_step_kinds_are_refused(tmp_path: Path, extra: str, says: str) -> None:
    with pytest.raises(PromptError, match=says):
        _library_with(tmp_path, extra)


def test_format_values_and_subject_lengths_are_checked(tmp_path: Path) -> None:
    import shutil

    folder = tmp_path / "prompts"
    shutil.copytree(PROMPTS_DIR, folder)
    path = folder / "wizard.toml"
    shipped = path.read_text(encoding="utf-8")
    path.write_text(shipped.replace('value = "9:16"', 'value = "2:3"'), encoding="utf-8")
    with pytest.raises(PromptError, match=r"unknown format\(s\) \['2:3'\]"):
        PromptLibrary.load(folder)
    long = "x" * (SUBJECT_MAX_BYTES + 1)
    path.write_text(shipped.replace('value = "a woman"', f'value = "{long}"'), encoding="utf-8")
    with pytest.raises(PromptError, match=f"over {SUBJECT_MAX_BYTES} bytes"):
        PromptLibrary.load(folder)


def test_the_longest_description_fits_klein_with_every_style() -> None:
    """_check_reference_length budgets for the longest description the step takes: a
    style that fits only without it is refused at start."""
    from sitter.prompts import REFERENCE_PROMPT_SAFE_BYTES, _check_reference_length

    lib = PromptLibrary.load()
    longest = {s.slot: max((p.value for p in s.presets), key=len) for s in lib.steps}
    worst = "é" * (SUBJECT_MAX_BYTES // 2)  # 2 bytes a character: the byte limit is the bound
    for key in lib.styles:
        text = lib.reference_prompt(key, longest, worst)
        assert len(text.encode()) <= REFERENCE_PROMPT_SAFE_BYTES, key
    style = next(iter(lib.styles.values()))
    padded = {
        **lib.styles,
        "padded": type(style)(
            **{
                **style.__dict__,
                "key": "padded",
                "template": style.template + ", " + "y" * 80,
            }
        ),
    }
    _check_reference_length(padded, lib.steps, lib.reference_wording)  # fits without
    with pytest.raises(PromptError, match="and the longest description"):
        _check_reference_length(padded, lib.steps, lib.reference_wording, described=True)
