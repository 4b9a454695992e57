"""Pack orders: placing one (one order row, one look row each), queueing its looks
(one generate job per look, each request from :meth:`Orders.generate_request`),
its progress, /status, cancel and retry. Following and delivering it is
:mod:`bot.studio.jobs.pack_delivery`'s.
"""

from __future__ import annotations

import json
import logging
import random
import secrets
from typing import Any, Protocol

from bot.store.codes import IN_FLIGHT, LookStatus, OrderStatus, ProgressCode, Shown
from bot.store.pack_orders import NewLook
from bot.store.rows import Photo
from bot.store.store import Row, now_iso
from bot.studio.core.events import Button, Reply
from bot.studio.core.services import Services
from bot.studio.jobs import words_failures as wf
from bot.studio.jobs.words_progress import progress_words
from bot.studio.orders import words_orders as wo
from bot.studio.orders import words_packs as wp
from bot.studio.orders.painting import Painting
from bot.studio.pets import sets as pet_sets
from bot.studio.pets import words_pets as wpt
from bot.studio.photos.reference_set import order_refusal
from bot.studio.rights import rights
from bot.studio.safety.semantic import answers_refusal
from bot.studio.wizard.prompt_fit import prompt_refusal
from sitter import contract as c
from sitter.engine_client import JobStatus
from sitter.observability import ORDERS, bind_order
from sitter.packs import PREVIEW, PREVIEW_CHOSEN, PREVIEW_STYLES, Pack, chosen_pack, pack_name

log = logging.getLogger(__name__)


class OrdersPart(Protocol):
    """What this module uses of :class:`bot.studio.orders.orders.Orders` (which owns it)."""

    s: Services

    async def limits(self, user: Row, cost: int = ...) -> Reply | None: ...
    async def images_today(self, user: Row) -> int: ...
    async def generate_request(
        self, order: Painting, job_id: str, refs: list[Photo]
    ) -> c.GenerateRequest: ...
    async def enqueue(self, order_id: int) -> Reply: ...
    async def no_worker_note(self, queue: str = ...) -> str: ...
    async def engine_gone(self, queue: str = ...) -> dict[str, Any]: ...
    def progress_reply(self, order_id: int, text: str, cancellable: bool) -> Reply: ...


def _say(text: str, *rows: tuple[Button, ...], edit_key: str | None = None) -> Reply:
    return Reply(text=text, buttons=tuple(r for r in rows if r), edit_key=edit_key)


def _seeds(n: int) -> list[int]:
    rng = random.SystemRandom()
    return [rng.randrange(2**31) for _ in range(n)]


class PackOrders:
    def __init__(self, orders: OrdersPart):
        self.orders = orders
        self.s = orders.s

    def pack(self, key: str | None) -> Pack | None:
        return self.s.packs.get(key or "")

    def name(self, order: Row) -> str:
        return pack_name(self.s.packs, str(order["pack"]))

    # --- placing -------------------------------------------------------------------------
    async def place(
        self, user: Row, choices: dict[str, Any]
    ) -> tuple[int | None, Reply | None, str | None]:
        """(the new order's id, or a refusal and where to start over), as ``Placing``."""
        store, prompts = self.s.store, self.s.prompts
        pack = chosen_pack(self.s.packs, prompts, choices)
        if pack is None or (pack.key == PREVIEW and len(pack.looks) != PREVIEW_STYLES):
            return None, _say(wp.PACK_GONE), "style"
        refusal = await self.orders.limits(user, pack.images)  # before anything is queued
        if refusal is not None:
            return None, refusal, None
        if any(look.style not in prompts.styles for look in pack.looks):
            return None, _say(wp.PACK_GONE), "style"
        ref = await pet_sets.sitting_set(store, user, choices)  # whose portrait
        if ref is None or not await store.photos(ref["id"], "accepted"):
            return None, _say(wo.REFERENCES_GONE), "references"
        pet = str(ref["subject"]) if pet_sets.is_pet(ref) else ""
        if pet and any(not prompts.styles[look.style].pets for look in pack.looks):
            return None, _say(wpt.PACK_PEOPLE_ONLY), "style"
        if (text := await order_refusal(self.s, user, ref["id"])) is not None:
            return None, _say(text), None
        asked = {slot: str(choices.get(slot, "")) for slot in pack.asked}
        if text := await answers_refusal(self.s, user, asked):
            return None, _say(text + wo.CHANGE_IT), None
        looks = []
        job = rights.analysis_job_id(await self.s.job_prefix(), user["id"])
        for look in pack.looks:
            style = prompts.styles[look.style]
            answers = pack.answers_for(look, asked)
            if too_long := await prompt_refusal(
                self.s.engine, prompts, style.key, answers, job_id=job
            ):
                return None, _say(f"{look.name}: {too_long}{wo.CHANGE_IT}"), None
            looks.append(
                NewLook(
                    name=look.name,
                    style=style.key,
                    choices=answers,
                    prompt=style.compose(answers, prompts.subject("", pet)),
                    negative_prompt=style.negative,
                    params=style.params.model_dump(exclude_none=True),
                    seeds=_seeds(pack.images_per_look),
                )
            )
        order_id = await store.create_pack_order(
            user_id=user["id"],
            set_id=ref["id"],
            platform=user["platform"],
            chat_id=user["chat_id"] or "",
            pack=pack.key,
            choices={"pack": pack.key, **asked}
            | ({PREVIEW_CHOSEN: [x.style for x in pack.looks]} if pack.key == PREVIEW else {}),
            looks=looks,
        )
        ORDERS.labels(user["platform"]).inc()
        return order_id, None, None

    async def retry(self, user: Row, order: Row) -> list[Reply]:
        """Retry is per pack: every look again with new seeds (the same cost)."""
        old = await self.s.store.looks(order["id"])
        refusal = await self.orders.limits(user, sum(len(json.loads(x["seeds"])) for x in old))
        if refusal is not None:
            return [refusal]
        if order["set_id"] and (text := await order_refusal(self.s, user, order["set_id"])):
            return [_say(text)]
        looks = [
            NewLook(
                name=x["name"],
                style=x["style"],
                choices=json.loads(x["choices"]),
                prompt=x["prompt"],
                negative_prompt=x["negative_prompt"],
                params=json.loads(x["params"]),
                seeds=_seeds(len(json.loads(x["seeds"]))),
            )
            for x in old
        ]
        new_id = await self.s.store.create_pack_order(
            user_id=user["id"],
            set_id=order["set_id"],
            platform=user["platform"],
            chat_id=user["chat_id"] or order["chat_id"] or "",
            pack=order["pack"],
            choices=json.loads(order["choices"]),
            looks=looks,
            retry_of=order["id"],
        )
        images = sum(len(x.seeds) for x in looks)
        return [_say(wp.trying_pack_again(order["id"], images)), await self.orders.enqueue(new_id)]

    # --- queueing ------------------------------------------------------------------------
    async def enqueue(self, order: Row) -> Reply:
        """Queue every look that has no job yet (idempotent, like a one-style order)."""
        store = self.s.store
        refs = await store.photos(order["set_id"], "accepted") if order["set_id"] else []
        if not refs:
            await store.set_order(order["id"], status=OrderStatus.FAILED, error=wf.REFERENCES_GONE)
            return _say(wo.refs_gone_for(order["id"]))
        for look in await store.looks(order["id"]):
            if look["status"] == LookStatus.QUEUED and not look["job_id"]:
                await self.enqueue_look(order, look, refs)
        return await self.progress(order)

    async def enqueue_look(self, order: Row, look: Row, refs: list[Photo] | None = None) -> None:
        store = self.s.store
        if refs is None:
            refs = await store.photos(order["set_id"], "accepted") if order["set_id"] else []
        # A new random part on every enqueue: a look's job id is never an old job's.
        job_id = f"{await self.s.job_prefix()}-o{order['id']}l{look['idx']}-{secrets.token_hex(4)}"
        req = await self.orders.generate_request(Painting.of_look(order, look), job_id, refs)
        await store.set_look(look["id"], job_id=job_id, enqueues=look["enqueues"] + 1)
        if req.personal is not None:
            await store.mark_personal_order(order["id"], True)
        with bind_order(job_id):
            await self.s.engine.enqueue(c.JOB_GENERATE, req, job_id=job_id)
            log.info("order %s look %s queued (%s)", order["id"], look["idx"], look["style"])

    # --- progress ------------------------------------------------------------------------
    async def progress_shown(
        self, order: Row, looks: list[Row], note: dict[str, Any] | None = None
    ) -> tuple[Shown, bool]:
        """(what the progress message shows, whether Cancel order still belongs under
        it); ``note``: the no-worker note's params when the caller read them already
        (once per tracker pass)."""
        n = len(looks)
        sent = sum(1 for x in looks if x["delivered_at"])
        running = [x for x in looks if x["status"] == LookStatus.RUNNING]
        waiting = [x for x in looks if x["status"] == LookStatus.QUEUED]
        if running or (waiting and any(x["status"] != LookStatus.QUEUED for x in looks)):
            now = (running or waiting)[0]
            params = {"look": now["name"], "k": now["idx"], "n": n, "sent": sent}
            return Shown(ProgressCode.PACK_PAINTING, params), True
        if waiting:
            position = 0
            if waiting[0]["job_id"]:
                js = await self.s.engine.state(c.JOB_GENERATE, waiting[0]["job_id"])
                position = int(js.position or 0)
            if note is None:
                note = await self.orders.engine_gone()
            params = {"looks": n, "position": position + 1, **note}
            return Shown(ProgressCode.PACK_QUEUED, params), True
        return Shown(ProgressCode.PACK_FINISHING), False

    async def progress(self, order: Row) -> Reply:
        looks = await self.s.store.looks(order["id"])
        shown, cancellable = await self.progress_shown(order, looks)
        await self.s.store.set_progress([(order["id"], shown)])
        text = progress_words(order["id"], shown, self.name(order))
        return self.orders.progress_reply(order["id"], text, cancellable)

    async def status(self, user: Row, order: Row) -> Reply:
        looks = await self.s.store.looks(order["id"])
        done = sum(1 for x in looks if x["status"] in (LookStatus.DONE, LookStatus.FAILED))
        sent = sum(1 for x in looks if x["delivered_at"])
        if order["status"] in IN_FLIGHT:
            now = next((x for x in looks if x["status"] in IN_FLIGHT), None)
            what = wp.pack_progress(done, len(looks), sent)
            if now is not None and now["status"] == LookStatus.RUNNING:
                what = wp.pack_painting_now(now["idx"], len(looks), now["name"]) + " " + what
            elif now is not None and now["job_id"] and not done:
                js = await self.s.engine.state(c.JOB_GENERATE, now["job_id"])
                what = wo.status_queued(
                    int(js.position or 0) + 1, await self.orders.no_worker_note()
                )
        elif order["status"] == OrderStatus.FAILED:
            what = wo.status_failed(wf.stored_failure(order["error"]))
        else:
            what = wo.status_done(order["status"])
        text = wp.pack_status(order["id"], self.name(order), what)
        if self.s.settings.daily_quota:
            text += wo.orders_today(
                await self.orders.images_today(user), self.s.settings.daily_quota
            )
        return _say(text)

    # --- cancelling ----------------------------------------------------------------------
    async def cancel(self, order: Row) -> Reply:
        """The looks not painted yet leave the queue; a look being painted is stopped on
        the worker (its job dropped: the worker stops at its next step and keeps no
        result, as for /forget) and counts toward today's limit ("stopped": the GPU
        worked on it); looks already sent stay."""
        store, engine = self.s.store, self.s.engine
        looks = await store.looks(order["id"])
        stopped = []
        for look in looks:
            if look["status"] in IN_FLIGHT and look["job_id"]:
                if await engine.remove_queued(look["job_id"]):
                    continue
                js = await engine.state(c.JOB_GENERATE, look["job_id"])
                if js.status in (JobStatus.RUNNING, JobStatus.DONE):
                    stopped.append(look["id"])  # a worker has it (or just painted it)
                await engine.drop([look["job_id"]])
        await store.set_order(order["id"], status=OrderStatus.CANCELLED, finished_at=now_iso())
        for look in looks:
            if look["status"] in IN_FLIGHT:
                status = LookStatus.STOPPED if look["id"] in stopped else LookStatus.CANCELLED
                await store.set_look(look["id"], status=status)
        painted = sum(len(json.loads(x["seeds"])) for x in looks if x["id"] in stopped)
        sent = sum(1 for x in looks if x["delivered_at"])
        shown = Shown(ProgressCode.PACK_CANCELLED, {"sent": sent, "stopped": painted})
        await store.set_progress([(order["id"], shown)])
        return _say(progress_words(order["id"], shown), edit_key=f"order-{order['id']}")
