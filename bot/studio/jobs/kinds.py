"""The kinds of job the bot follows, as one table (:data:`KINDS`).

The tracker (tracking.py) knows no kind: its safety pass and its event reader walk this
table. Each :class:`JobKind` entry says

- ``name``: the kind's name in events, locks and logs;
- ``table``/``follows``: where its job ids are (the table with a ``job_id`` column) and
  which column names the item followed, so a worker's event finds its item;
- ``runs``: the arq jobs it runs (sitter/contract.py ``JOBS``);
- ``follower``: its :class:`~bot.studio.jobs.parts.Follower`, the rest: how its
  unfinished items are listed (``unfinished``, ``jobs``), and how a finished job's
  result is stored, then delivered, then marked, and a lost one retried or failed
  (``follow``).

| kind       | table          | its item             | follower               |
|------------|----------------|----------------------|------------------------|
| ``order``  | orders         | a one-style order    | order_follow.py        |
| ``pack``   | order_looks    | a pack order (looks) | pack_delivery.py       |
| ``followup`` | variation_jobs | upscale, label, avatar | followup_follow.py |
| ``personal`` | personal_models | a personal model's training | personal/follow.py |

A new follow-up of a portrait ("Remove background") is not a new kind: it is a row of
the follow-ups' table (bot/studio/portrait/followups.py), followed by ``followup``.

Adding a kind: a training job (worked example)
-----------------------------------------------
A person's model is trained by a ``train`` job (its row: a ``trainings`` table with
``id, user_id, status, job_id, enqueues, error, delivered_at, platform, chat_id``).
Three files:

1. its follower module, ``bot/studio/training/follow.py``::

       class TrainingFollower(Follower[Row]):
           async def unfinished(self):  # queued/running, or finished and untold
               return await self.t.store.all("SELECT * FROM trainings WHERE ...")
           async def one(self, ident):
               return await self.t.store.one("SELECT * FROM trainings WHERE id = ?", ident)
           async def jobs(self, items):
               return [(c.JOB_TRAIN, r["job_id"]) for r in items if r["job_id"]]
           async def follow(self, row, fresh):
               js = await self.t.state(c.JOB_TRAIN, row["job_id"])
               # done: store the model first, then self.t.send(..., words.trained(...)),
               # then mark delivered; missing: enqueue again (self.t.person,
               # self.t.still_lost) up to MAX_ENQUEUES, then fail with a code.

2. its words, ``bot/studio/training/words_training.py`` (the sentences, made when sent);
3. its entry here::

       JobKind("training", "trainings", runs=(c.JOB_TRAIN,), follower=TrainingFollower)

The tracker, the events and the safety pass need nothing more (tests/test_job_kinds.py
checks every entry). The job's engine side (its handler and contract entry) and its
table's migration are the engine's and the store's, as for any job.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.studio.jobs.followup_follow import FollowUpFollower
from bot.studio.jobs.order_follow import OrderFollower
from bot.studio.jobs.pack_delivery import PackFollower
from bot.studio.jobs.parts import Follower, Parts
from bot.studio.personal.follow import TrainFollower
from bot.studio.portrait.followups import FOLLOW_UPS
from sitter import contract as c


@dataclass(frozen=True)
class JobKind:
    """One kind of job the bot follows (see the module's docstring)."""

    name: str  # events, locks, logs: "order", "pack", "followup"
    table: str  # the table whose rows carry this kind's job ids (column ``job_id``)
    follows: str = "id"  # the column of ``table`` naming the item followed
    runs: tuple[str, ...] = ()  # the arq jobs it runs
    follower: Callable[[Parts], Follower[Any]] = Follower

    @property
    def source(self) -> tuple[str, str, str]:
        """(kind, table, column) for the store's ``job_owner`` (an event's item)."""
        return (self.name, self.table, self.follows)


KINDS: tuple[JobKind, ...] = (
    JobKind(
        "order",
        "orders",
        runs=(c.JOB_GENERATE, c.JOB_REFINE),
        follower=OrderFollower,
    ),
    JobKind(
        "pack", "order_looks", follows="order_id", runs=(c.JOB_GENERATE,), follower=PackFollower
    ),
    JobKind(
        "followup",
        "variation_jobs",
        runs=tuple(f.job for f in FOLLOW_UPS),
        follower=FollowUpFollower,
    ),
    # a personal model's training (bot/studio/personal/: follow.py, words_personal.py)
    JobKind("personal", "personal_models", runs=(c.JOB_TRAIN,), follower=TrainFollower),
)
BY_NAME = {k.name: k for k in KINDS}
