"""The table of job kinds the bot follows (bot/studio/jobs/kinds.py): every entry is
sound against the real schema and contract, and a new kind (the docstring's training
job) is followed by the tracker's pass and its events with nothing but its entry and
its follower."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import ClassVar

import pytest
from studio_harness import RecordingOutbox

from bot.store.store import Row
from bot.studio.core.core import Studio
from bot.studio.jobs.kinds import BY_NAME, KINDS, JobKind
from bot.studio.jobs.parts import Follower
from bot.studio.jobs.tracking import Tracker
from sitter import contract as c
from sitter.config import load_settings
from sitter.events import JobEvent, What


@pytest.fixture
async def studio(data_dir: Path, redis_url: str, queue_prefix: str) -> AsyncIterator[Studio]:
    settings = load_settings(data_dir=data_dir, redis_url=redis_url, queue_prefix=queue_prefix)
    s = await Studio.open(settings, tick_s=0.05)
    s.add_outbox("terminal", RecordingOutbox())
    yield s
    await s.aclose()


async def test_every_entry_names_real_jobs_tables_and_a_whole_follower(studio: Studio) -> None:
    assert len(BY_NAME) == len(KINDS)  # one entry per name
    for kind in KINDS:
        assert kind.runs and set(kind.runs) <= set(c.JOBS), kind.name
        cols = {r["name"] for r in await studio.store.all(f"PRAGMA table_info({kind.table})")}
        assert {"job_id", kind.follows} <= cols, kind.name
        follower = kind.follower
        assert isinstance(follower, type) and issubclass(follower, Follower)
        for method in ("unfinished", "one", "jobs", "follow"):  # the ones with no default
            assert getattr(follower, method) is not getattr(Follower, method), (kind, method)
    tracker = studio.tracker()
    assert set(tracker.followers) == set(BY_NAME)  # the tracker walks the table


class Trainings(Follower[Row]):
    """The docstring's training job, as small as a test makes it."""

    followed: ClassVar[list[tuple[int, bool]]] = []

    async def unfinished(self) -> Sequence[Row]:
        return await self.t.store.all("SELECT * FROM trainings WHERE status = 'queued'")

    async def one(self, ident: int) -> Row | None:
        return await self.t.store.one("SELECT * FROM trainings WHERE id = ?", ident)

    async def jobs(self, items: Sequence[Row]) -> list[tuple[str, str]]:
        return [(c.JOB_GENERATE, r["job_id"]) for r in items if r["job_id"]]

    async def follow(self, item: Row, fresh: bool) -> None:
        self.followed.append((int(item["id"]), fresh))


async def test_a_new_kind_is_its_entry_and_its_follower(studio: Studio) -> None:
    await studio.store.run(
        "CREATE TABLE trainings (id INTEGER PRIMARY KEY, owner INTEGER, status TEXT, job_id TEXT)"
    )
    await studio.store.run(
        "INSERT INTO trainings (id, owner, status, job_id) VALUES (7, 3, 'queued', 'train-7')"
    )
    training = JobKind("training", "trainings", runs=(c.JOB_GENERATE,), follower=Trainings)
    s = studio
    tracker = Tracker(s.services, s.orders, s.followups, s.delivery, kinds=(*KINDS, training))
    asked: list[list[tuple[str, str]]] = []
    states = tracker.engine.states

    async def counted(jobs: list[tuple[str, str]]) -> object:
        asked.append(list(jobs))
        return await states(jobs)

    tracker.engine.states = counted  # type: ignore[method-assign]
    Trainings.followed = []
    await tracker.tick()
    assert (c.JOB_GENERATE, "train-7") in asked[0]  # in the pass's one queue read
    assert Trainings.followed == [(7, False)]  # the pass: read again before acting
    await tracker.on_event(JobEvent("train-7", What.DONE))
    assert Trainings.followed == [(7, False), (7, True)]  # the event: at once
    await tracker.on_event(JobEvent("train-7", What.PROGRESS))  # the default: done only
    assert len(Trainings.followed) == 2
    # The item's owner column may differ from its id (a pack's look names its order).
    owner = await s.store.job_owner("train-7", [("training", "trainings", "owner")])
    assert owner == ("training", 3)
