"""Live progress, fast: the order's one progress message on the in-memory engine
(tests/fake_engine.py reports denoising steps as the real worker does), edited with a
bar, never more often than SITTER_PROGRESS_EDIT_S, never with unchanged text, and with
the queue position while it waits. The same on Telegram with the real worker:
tests/test_telegram_progress.py.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fake_engine import FakeEngine
from studio_harness import Chat, astronaut_set, until

from bot.studio.core import words_chat as w
from bot.studio.core.core import Studio
from bot.studio.core.events import Recipient, Reply, Who
from bot.studio.jobs.progress import Bars, EditPacer, overall, percent, running_text
from sitter import contract as c
from sitter.config import load_settings

WIZARD = (
    "Watercolor",
    "Business suit",
    "Office",
    "Golden hour",
    "Headshot",
    "Skip",
    "Square 1:1 (avatars)",
)
EDIT_S = 1.0


@dataclass
class TimedOutbox:
    """A chat platform's servers: what the core sends, and when."""

    sent: list[tuple[float, Recipient, Reply]] = field(default_factory=list)

    async def send(self, to: Recipient, reply: Reply) -> None:
        self.sent.append((time.monotonic(), to, reply))

    def edits(self, key: str) -> list[tuple[float, str]]:
        return [(t, r.text) for t, _, r in self.sent if r.edit_key == key]


@pytest.fixture
async def studio(data_dir: Path, fake_engine: FakeEngine) -> AsyncIterator[Studio]:
    settings = load_settings(
        data_dir=data_dir,
        redis_url="redis://127.0.0.1:1/0",
        queue_prefix="fake",
        progress_edit_s=EDIT_S,
    )
    s = await Studio.open(settings, engine=fake_engine, tick_s=0.05, analyze_timeout_s=5)
    s.add_outbox("terminal", TimedOutbox())
    yield s
    await s.aclose()


async def _order(chat: Chat) -> str:
    await chat.send("/start")
    await chat.press("I agree")
    await chat.files(astronaut_set())
    await chat.press("Done")
    for label in WIZARD:
        await chat.press(label)
    [progress] = await chat.press("✓ Queue it")
    return progress.text


async def test_the_bar_moves_at_the_chats_pace_and_the_queue_position_follows(
    studio: Studio, fake_engine: FakeEngine
) -> None:
    fake_engine.delay[c.JOB_GENERATE] = 3.0  # 8 steps over 3 s: a step every 0.4 s
    people = [Chat(studio, Who("terminal", n, f"{n}-chat", n.title())) for n in ("a", "b", "c")]
    placed = [await _order(chat) for chat in people]
    assert "Order #1" in placed[0]  # taken by the worker as it was queued
    assert "position 1 (you're next)" in placed[1] and "position 2" in placed[2]
    outbox: TimedOutbox = studio.outboxes["terminal"]  # type: ignore[assignment]
    await until(studio, lambda: len([r for _, _, r in outbox.sent if r.images]) == 3, 30, "all")

    first = outbox.edits("order-1")
    bars = [(t, text) for t, text in first if "%" in text]
    print("order 1 edits:", *(f"{t - first[0][0]:5.2f} s {text!r}" for t, text in first), sep="\n")
    assert len(bars) >= 2, first
    assert all("painting your 4 portraits now…\n" in text for _, text in bars)
    assert all("· portraits 1–4 of 4" in text for _, text in bars)
    shares = [int(text.split("% ·")[0].rsplit(" ", 1)[1]) for _, text in bars]
    assert shares == sorted(shares) and len(set(shares)) == len(shares), shares
    # Spaced: at most one edit every EDIT_S (the last, "ready", closes it whenever).
    for key in ("order-1", "order-2", "order-3"):
        edits = outbox.edits(key)
        paced = [t for t, text in edits if not text.endswith("is ready ↓")]
        gaps = [b - a for a, b in itertools.pairwise(paced)]
        assert all(g >= EDIT_S for g in gaps), (key, gaps)
        texts = [text for _, text in edits]
        assert all(a != b for a, b in itertools.pairwise(texts)), texts  # never unchanged
        assert texts[-1].endswith("is ready ↓")
    # Order 3 waited behind two: its message moved from position 2 to 1 before it ran.
    third = [text for _, text in outbox.edits("order-3")]
    assert any("position 1 (you're next)" in t for t in third), third
    assert any("%" in t for t in third), third


async def test_an_engine_that_reports_no_progress_keeps_the_plain_sentence(
    studio: Studio, fake_engine: FakeEngine
) -> None:
    fake_engine.reports_progress = False  # a worker older than the progress reports
    fake_engine.delay[c.JOB_GENERATE] = 1.0
    await _order(Chat(studio, Who("terminal", "ann", "ann-chat", "Ann")))
    outbox: TimedOutbox = studio.outboxes["terminal"]  # type: ignore[assignment]
    await until(studio, lambda: any(r.images for _, _, r in outbox.sent), 20, "portraits")
    texts = [text for _, text in outbox.edits("order-1")]
    assert "Order #1: painting your 4 portraits now…" in texts and not any("%" in t for t in texts)


def test_the_words_and_the_pace() -> None:
    p = c.Progress(stage="render", variations=[2], of=4, attempt=1, step=4, steps=8)
    assert percent(p) == 50
    # The bar is the whole job's share (issue 22): the first render fills 0-70%, its face
    # detail pass 70-85%, a re-render for likeness 85-93%, anything after that 93-99%.
    assert running_text(7, p, 4).endswith("\n▓▓░░░░░░ 35% · portrait 2 of 4")
    again = p.model_copy(update={"attempt": 2, "variations": [1, 3], "step": 4})
    assert running_text(7, again, 4).endswith(
        "88% · again for a closer likeness: portraits 1, 3 of 4"
    )
    detail = p.model_copy(update={"stage": "detail", "step": 0, "steps": 0})
    assert running_text(7, detail, 4).endswith("70% · face detail, portrait 2 of 4")
    assert running_text(7, None, 4) == w.painting_text(7, 4)
    assert w.progress_bar(100) == "▓▓▓▓▓▓▓▓ 100%" and w.progress_bar(99).startswith("▓▓▓▓▓▓▓░")

    now = [100.0]
    pacer = EditPacer(3.0, clock=lambda: now[0])
    assert pacer.due(1)
    pacer.edited(1)
    now[0] += 2.9
    assert not pacer.due(1) and pacer.due(2)
    now[0] += 0.1
    assert pacer.due(1)


def test_the_bar_never_goes_back() -> None:
    """Issue 22: 100% "again for a closer likeness", then 20%. Every report of a job
    that renders, details and re-renders three times (each with its detail pass) reads
    as a share that only grows and stays below 100 until the portraits are in."""
    seen, bars = [], Bars()
    for attempt in (1, 2, 3, 4):
        for stage in ("render", "detail"):
            for step in range(0, 9):
                p = c.Progress(
                    stage=stage, attempt=attempt, variations=[1], of=4, step=step, steps=8
                )
                assert overall(p) <= 99
                seen.append(bars.share(7, p))
    assert seen == sorted(seen) and seen[0] == 0 and max(seen) == 99, seen


async def test_an_edit_taken_out_by_a_delivery_during_a_flush_is_skipped() -> None:
    """Review finding (issue 20): a results delivery takes the order's pending edit out
    (order_follow.py, pack_delivery.py) while flush awaits a send or the in-flight read;
    flush raised KeyError, and an edit it still held would undo "ready"."""
    from bot.studio.jobs.progress import ProgressEdits

    sent: list[str] = []
    edits: ProgressEdits

    def deliver(oid: int) -> None:  # what the results delivery does to the edits
        edits.pending.pop(oid, None)

    async def send(_platform: str, _chat: str, reply: Reply) -> bool:
        sent.append(reply.text)
        if reply.text == "1 at 10%":
            deliver(2)  # order 2's results went out while this edit was sent
        return True

    async def in_flight(oids: list[int]) -> dict[int, str | None]:
        deliver(3)  # and order 3's while the orders in flight were read
        return {o: None for o in oids}

    async def store_texts(_texts: list[tuple[int, str]]) -> None:
        return None

    edits = ProgressEdits(send, in_flight, store_texts, EditPacer(0.0), per_s=10)
    for oid in (1, 2, 3, 4):
        text = f"{oid} at 10%"
        edits.put(oid, "terminal", "c", lambda t=text: (Reply(text=t), t))
    assert await edits.flush() == 2
    assert sent == ["1 at 10%", "4 at 10%"] and not edits.pending


async def test_a_replaced_edit_keeps_its_place_in_the_line() -> None:
    """Review finding (issue 20): each new bar of a running order went to the back of the
    line, behind every queue position that moved, so it starved."""
    from bot.studio.jobs.progress import ProgressEdits

    sent: list[str] = []

    async def send(_platform: str, _chat: str, reply: Reply) -> bool:
        sent.append(reply.text)
        return True

    async def in_flight(oids: list[int]) -> dict[int, str | None]:
        return {o: None for o in oids}

    async def store_texts(_texts: list[tuple[int, str]]) -> None:
        return None

    edits = ProgressEdits(send, in_flight, store_texts, EditPacer(0.0), per_s=1)
    edits.put(1, "terminal", "c", lambda: (Reply(text="1 at 10%"), "1 at 10%"))
    for oid in range(2, 1002):  # a thousand queue positions moved
        edits.put(oid, "terminal", "c", lambda o=oid: (Reply(text=f"{o} queued"), "q"))
    edits.put(1, "terminal", "c", lambda: (Reply(text="1 at 20%"), "1 at 20%"))
    assert await edits.flush() == 1
    assert sent == ["1 at 20%"]  # the running order's newest bar, first
