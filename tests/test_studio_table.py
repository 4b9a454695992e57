"""The conversation as a table (bot/studio/core/conversation.py, wizard.py): every state is
reachable, every event in every state gets a clear answer, a step added to
prompts/wizard.toml is a step of the wizard, and flow.mmd is the table's diagram.

Real SQLite and Redis; no engine worker (orders stay queued, photos are stored as
accepted directly), so nothing here waits for a model.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from studio_harness import (
    Chat,
    astronaut_set,
    open_studio,
)

from bot.store.store import Store
from bot.studio.core import buttons as b
from bot.studio.core import words
from bot.studio.core import words_chat as w
from bot.studio.core.conversation import ASKED_AT, State
from bot.studio.core.core import Studio
from bot.studio.core.events import Files, Press, Text, Who
from bot.studio.photos import reference_set
from bot.studio.portrait.portrait_menu import AWAITING, AWAITING_IDX
from sitter.config import load_settings
from sitter.prompts import PROMPTS_DIR, PromptLibrary
from sitter.queue import EngineClient, connect

pytestmark = pytest.mark.studio_db  # redis_url: the studio tests' own db

ROOT = Path(__file__).resolve().parents[1]
WHO = Who("terminal", "tia", "tia-chat", "Tia")


async def ready_photos(studio: Studio, who: Who = WHO, n: int = 4) -> None:
    """Consent given and ``n`` accepted photos in a ready set (as if checked by the engine)."""
    store = studio.store
    user = await store.ensure_user(who.platform, who.user_id, who.name, who.chat_id)
    await store.record_consent(user["id"], words.CONSENT_VERSION, words.CONSENT_TEXT)
    ref = await store.current_set(user["id"])
    for i, f in enumerate(astronaut_set()[:n]):
        assert f.data is not None
        rel, sha = store.media.put(user["id"], "refs", f.data, "png")
        pid = await store.add_photo(ref["id"], user["id"], sha, rel, f.filename)
        vector = [float(i == k) for k in range(8)]
        await store.update_photo(pid, "accepted", [], embedding=vector, backend="dlib")
    await store.set_status(ref["id"], "ready")
    await store.set_judged(ref["id"], reference_set.RULE)  # judged by the engine, as it would be
    await store.save_session(user["id"], State.IDLE.value, {})


async def a_portrait(studio: Studio, user_id: int) -> int:
    """A delivered portrait of the person (#1 of an order), its variation id."""
    store = studio.store
    order_id = await store.create_order(
        user_id, None, WHO.platform, WHO.chat_id, "watercolor", {}, "p", "", {}, [1]
    )
    await store.set_order(order_id, status="delivered")
    data = astronaut_set()[0].data
    assert data is not None
    rel, sha = store.media.put(user_id, "results", data, "png")
    return await store.add_variation(order_id, user_id, 1, 1, rel, sha, 0.8, True, True, 1)


def all_actions(studio: Studio) -> set[str]:
    talk = studio.conversation
    found = {a for step in talk.steps.values() for a in step.presses}
    return found | set(talk.fallback_presses) | {"nonsense"}


def full_order(studio: Studio) -> dict[str, str]:
    data = {"style": sorted(studio.prompts.styles)[0]}
    data.update({s.slot: s.presets[0].value for s in studio.prompts.steps})
    return data


async def test_every_state_is_reachable_and_every_event_gets_a_clear_answer(
    data_dir: Path, redis_url: str, queue_prefix: str
) -> None:
    studio = await open_studio(data_dir, redis_url, queue_prefix)
    try:
        talk = studio.conversation
        assert talk.reachable() == set(talk.steps), set(talk.steps) - talk.reachable()
        arrows: dict[str, set[str]] = {}
        for origin, arrow in talk.arrows():
            arrows.setdefault(origin, {origin}).add(arrow.to)
        await ready_photos(studio)
        user = await studio.store.user(WHO.platform, WHO.user_id)
        photo = astronaut_set()[0]
        portrait = await a_portrait(studio, user["id"])
        probes = timed_probes = 0
        for state in talk.order:
            data = full_order(studio) if state == State.CONFIRM else {}
            timed = talk.steps[state].timeout_s is not None
            if timed:  # asked just now (else the step lapses to IDLE before it is probed)
                data = {ASKED_AT: time.time(), AWAITING: portrait, AWAITING_IDX: 1}
            events = [
                lambda rev, a=a, x=x: Press(WHO, b.wizard(rev, a, x))
                for a in sorted(all_actions(studio))
                for x in ("", "0", "99", "x")
            ]
            events += [
                lambda rev: Text(WHO, "hello"),
                lambda rev: Text(WHO, "\u200b"),
                lambda rev: Text(WHO, "x" * 5000),
                lambda rev: Text(WHO, "done"),
                lambda rev: Files(WHO, (photo,)),
                lambda rev: Press(WHO, b.wizard(rev - 1, "back")),  # stale
                lambda rev: Press(WHO, "w:zz"),  # not ours
            ]
            for make in events:
                s = await studio.store.save_session(user["id"], state, data)
                event = make(s.rev)
                replies = await studio.handle(event)
                probes += 1
                said = "\n".join(r.text for r in replies)
                assert replies and said.strip(), (state, event)
                assert w.SOMETHING_WENT_WRONG not in said, (state, event, said)
                if timed:  # the step itself answered, not IDLE after a lapse
                    assert w.NOT_ASKING not in said, (state, event, said)
                    timed_probes += 1
                after = await studio.store.session(user["id"])
                assert after is not None and after.state in arrows[state], (state, event, after)
        assert probes > 300
        assert timed_probes >= len(events), timed_probes  # own_light, every event
        # A session saved in a step wizard.toml no longer has: answered, not stuck.
        await studio.store.save_session(user["id"], "weather", {"weather": "rain"})
        [said, idle] = await studio.handle(Text(WHO, "hello"))
        assert said.text == w.NOT_ASKING and idle.buttons[0][0].label == w.NEW_PORTRAIT
        # Every wizard button a state shows (its step, /start, /cancel's question) is one
        # that state takes.
        for state in talk.order:
            data = full_order(studio) if state == State.CONFIRM else {}
            shown = []
            if await studio.store.active_order(user["id"]) is None:  # /cancel asks which
                await studio.store.create_order(
                    user_id=user["id"],
                    set_id=None,
                    platform=WHO.platform,
                    chat_id=WHO.chat_id,
                    style="watercolor",
                    choices={},
                    prompt="p",
                    negative_prompt="",
                    params={},
                    seeds=[1],
                )
            for command in ("/start", "/cancel"):
                await studio.store.save_session(user["id"], state, data)
                shown += await Chat(studio, WHO).send(command)
            # a command ends a side question (own_light): what it shows is IDLE's
            step = talk.steps[State.IDLE if talk.steps[state].side else state]
            for reply in shown:
                for row in reply.buttons:
                    for button in row:
                        parsed = b.parse(button.data)
                        if isinstance(parsed, b.WizardPress):
                            taken = set(step.presses) | set(talk.fallback_presses)
                            assert parsed.action in taken, (state, button)
    finally:
        await studio.aclose()


async def test_a_step_added_to_wizard_toml_is_a_step_of_the_wizard(
    tmp_path: Path, data_dir: Path, redis_url: str, queue_prefix: str
) -> None:
    """No code change: a [[steps]] entry gives a step, its "Step N of M", its line in the
    summary, its answer in the prompt, and its arrows in the diagram."""
    folder = tmp_path / "prompts"
    shutil.copytree(PROMPTS_DIR, folder)
    with (folder / "wizard.toml").open("a") as f:
        f.write(
            '\n[[steps]]\nslot = "expression"\nquestion = "What expression?"\n'
            'presets = [\n  { label = "Smiling", value = "a warm smile" },\n'
            '  { label = "Serious", value = "a calm serious look" },\n]\n'
        )
    prompts = PromptLibrary.load(folder)
    settings = load_settings(data_dir=data_dir, redis_url=redis_url, queue_prefix=queue_prefix)
    store = await Store.open(settings.db_path, settings.media_dir)
    redis = await connect(redis_url, queue_prefix)
    studio = Studio(store, EngineClient(redis, queue_prefix), prompts, settings)
    try:
        await ready_photos(studio)
        chat = Chat(studio, WHO)
        await chat.send("/new")
        assert "Step 1 of 8 – choose a style" in chat.text()
        await chat.press("Watercolor")
        assert "Step 2 of 8 – What should you wear?" in chat.text()
        for label in ("Business suit", "Office", "Soft daylight"):
            await chat.press(label)
        assert "Step 5 of 8 – How close?" in chat.text()
        await chat.press("Headshot")
        await chat.press("Skip")  # how to describe you (optional)
        await chat.press("Square 1:1 (avatars)")
        assert "Step 8 of 8 – What expression?" in chat.text()
        await chat.press("◀ Back")
        assert "Step 7 of 8" in chat.text()
        await chat.press("Square 1:1 (avatars)")
        await chat.press("Smiling")
        assert "Expression: Smiling" in chat.text() and "Composition: Headshot" in chat.text()
        await chat.press("✓ Queue it")
        order = await store.last_order((await store.user("terminal", "tia"))["id"])
        assert order is not None and "a warm smile" in order["prompt"]
        [help_] = await chat.send("/help")
        assert "answer eight short questions" in help_.text and studio.conversation.total == 8
        diagram = studio.conversation.mermaid()
        assert "format --> expression" in diagram and "expression --> confirm" in diagram
    finally:
        await redis.aclose()
        await store.close()


async def test_the_shipped_wizard_counts_its_steps(
    data_dir: Path, redis_url: str, queue_prefix: str
) -> None:
    studio = await open_studio(data_dir, redis_url, queue_prefix)
    try:
        await ready_photos(studio)
        chat = Chat(studio, WHO)
        await chat.send("/new")
        total = 1 + len(studio.prompts.wizard_steps)  # the slots, subject and format
        assert f"Step 1 of {total} – choose a style" in chat.text()
        await chat.press("Watercolor")
        assert f"Step 2 of {total} – What should you wear?" in chat.text()
    finally:
        await studio.aclose()


def test_flow_mmd_is_the_table() -> None:
    """flow.mmd is generated: python -m bot.studio.wizard > bot/studio/wizard/flow.mmd"""
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "bot.studio.wizard"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout
    assert (ROOT / "bot" / "studio" / "wizard" / "flow.mmd").read_text() == out


def test_help_counts_the_questions_of_the_table() -> None:
    from bot.studio.core import words

    assert "answer five short questions" in words.help_text(5)
    assert "answer six short questions" in words.help_text(6)


def test_the_studio_has_no_import_cycle() -> None:
    """The tracker takes the parts it uses; nothing in bot/studio imports the facade back."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "import_cycles", ROOT / "scripts" / "import_cycles.py"
    )
    assert spec is not None and spec.loader is not None
    cycles = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cycles)
    found = [c for c in cycles.cycles(cycles.graph()) if any(m.startswith("bot.studio") for m in c)]
    assert found == []
