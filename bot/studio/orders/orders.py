"""Orders: the limits, placing one, queueing it, cancelling, retrying, its progress.

The one place an order's generation request is built (:meth:`Orders.enqueue`), for a
new order, a retry, and the tracker's re-enqueue of a job Redis lost.
"""

from __future__ import annotations

import json
import logging
import random
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.store.codes import IN_FLIGHT, OrderStatus, ProgressCode, Shown
from bot.store.rows import Photo
from bot.store.store import Row, now_iso
from bot.studio.core import words_chat as w
from bot.studio.core.events import Button, Reply
from bot.studio.core.services import Services
from bot.studio.jobs import words_failures as wf
from bot.studio.jobs.progress import running_shown
from bot.studio.jobs.words_progress import engine_note, progress_words
from bot.studio.moderation import reach
from bot.studio.orders import buttons as ob
from bot.studio.orders import words_orders as wo
from bot.studio.orders.pack_orders import PackOrders
from bot.studio.orders.painting import Painting
from bot.studio.personal.use import personal_for
from bot.studio.pets import sets as pet_sets
from bot.studio.pets import words_pets as wpt
from bot.studio.photos.photos import embedding
from bot.studio.photos.reference_set import order_refusal
from bot.studio.rights import rights
from bot.studio.safety.semantic import answers_refusal
from bot.studio.together import joint
from bot.studio.wizard.prompt_fit import prompt_refusal
from sitter import contract as c
from sitter.engine_client import JobStatus
from sitter.observability import ORDERS, bind_order
from sitter.queue import Engine

log = logging.getLogger(__name__)

VARIATIONS = 4


def seeds(n: int = VARIATIONS) -> list[int]:
    rng = random.SystemRandom()
    return [rng.randrange(2**31) for _ in range(n)]


REFINE_KINDS = {"vary": c.RefineMode.VARY, "relight": c.RefineMode.RELIGHT}


def job_of(order: Row) -> str:
    """The engine job an order runs as: generate, or refine for a vary/relight order."""
    kind = order["kind"] if "kind" in order.keys() else None  # noqa: SIM118 (a Row)
    return c.JOB_REFINE if kind in REFINE_KINDS else c.JOB_GENERATE


def _today() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT00:00:00.000Z")


def _say(text: str, *rows: tuple[Button, ...], edit_key: str | None = None) -> Reply:
    return Reply(text=text, buttons=tuple(r for r in rows if r), edit_key=edit_key)


def cancel_button(order_id: int, label: str = "") -> Button:
    return Button(label or wo.CANCEL_ORDER, ob.cancel(order_id), "danger")


@dataclass(frozen=True)
class Placing:
    """What :meth:`Orders.place` did: an order id, or a refusal (and where to start over:
    ``"style"`` when the style is gone, ``"references"`` when the photos are)."""

    order_id: int | None = None
    refusal: Reply | None = None
    redo: str | None = None


def order_look(choices: dict[str, Any]) -> tuple[str | None, str | None]:
    """The wizard's format and description of the person (None: not chosen / skipped)."""
    aspect = str(choices.get("format") or "") or None
    described = str(choices.get("subject") or "").strip() or None
    return (aspect if aspect in {a.value for a in c.Aspect} else None), described


class Orders:
    def __init__(self, services: Services):
        self.s = services
        self.packs = PackOrders(self)

    # --- limits ------------------------------------------------------------------------
    async def limits(self, user: Row, cost: int = VARIATIONS) -> Reply | None:
        """Why this person may not order ``cost`` images now (with a Cancel order button
        when an order is in progress: the sentence suggests /cancel, and both do it)."""
        active = await self.s.store.active_order(user["id"])
        if active is not None:
            return _say(wo.order_in_progress(active["id"]), (cancel_button(active["id"]),))
        quota = self.s.settings.daily_quota
        if quota and (used := await self.images_today(user)) + cost > quota:
            return _say(wo.daily_limit(quota, used, cost))
        return None

    async def images_today(self, user: Row) -> int:
        """Today's images (the daily quota counts images: an order costs its 4 variations,
        a pack every image it paints), counting those ordered before a /forget today."""
        pid = user["platform_user_id"]
        carried = await rights.carried_orders(self.s.store, user["platform"], pid)
        return await self.s.store.images_since(user["id"], _today()) + carried

    orders_today = images_today  # (its name before packs)

    # --- placing -----------------------------------------------------------------------
    async def place(self, user: Row, choices: dict[str, Any]) -> Placing:
        """Check and create an order from the wizard's answers (not queued yet: the
        caller moves the session on first, then :meth:`enqueue`)."""
        store, prompts = self.s.store, self.s.prompts
        if choices.get("pack"):
            order_id, refusal, redo = await self.packs.place(user, choices)
            return Placing(order_id, refusal, redo)
        refusal = await self.limits(user)
        if refusal is not None:
            return Placing(refusal=refusal)
        partner = None
        if choices.get(joint.TOGETHER):  # two people: the invitation must still hold
            refused, partner = await joint.partner_refusal(self.s, user, choices)
            if refused is not None:
                return Placing(refusal=refused)
        style = prompts.styles.get(choices.get("style", ""))
        if style is None:
            return Placing(refusal=_say(wo.STYLE_GONE), redo="style")
        # Whose portrait: a portrait of two is of the person (their own set, whichever set
        # the references step collects into now); else the set the wizard chose.
        own = partner is not None
        ref = await (
            store.person_set(user["id"]) if own else pet_sets.sitting_set(store, user, choices)
        )
        if ref is None or not await store.photos(ref["id"], "accepted"):
            return Placing(refusal=_say(wo.REFERENCES_GONE), redo="references")
        pet = str(ref["subject"]) if pet_sets.is_pet(ref) else ""
        if pet and not style.pets:  # (chosen before the set changed hands)
            return Placing(refusal=_say(wpt.people_only(style.name)), redo="style")
        if (text := await order_refusal(self.s, user, ref["id"])) is not None:
            return Placing(refusal=_say(text))
        answers = {step.slot: str(choices.get(step.slot, "")) for step in prompts.steps}
        aspect, described = order_look(choices)
        described = None if pet else described  # a pet is not described like a person
        whole = {**answers, "subject": described or ""}  # every answer, alone and together
        if text := await answers_refusal(self.s, user, whole):
            return Placing(refusal=_say(text + wo.CHANGE_IT))
        too_long = await prompt_refusal(  # FLUX.2 [klein]'s 512 tokens
            self.s.engine,
            prompts,
            style.key,
            answers,
            job_id=rights.analysis_job_id(await self.s.job_prefix(), user["id"]),
            described=described or "",
            two_people=partner is not None,  # the family's wording for two is longer
        )
        if too_long:
            return Placing(refusal=_say(too_long + wo.CHANGE_IT))
        async with store.tx():  # the order and its format and subject stand together
            order_id = await store.create_order(
                user_id=user["id"],
                set_id=ref["id"],
                platform=user["platform"],
                chat_id=user["chat_id"] or "",
                style=style.key,
                choices=answers,
                prompt=style.compose(answers, prompts.subject(described or "", pet)),
                negative_prompt=style.negative,
                params=style.params.model_dump(exclude_none=True),
                seeds=seeds(),
            )
            await store.set_order_look(order_id, aspect, described)
            if partner is not None:
                await joint.attach(store, order_id, partner)
            if described:  # offered again on the next order (/forget deletes it)
                await store.remember_subject(user["id"], described)
        ORDERS.labels(user["platform"]).inc()
        return Placing(order_id=order_id)

    # --- queueing -----------------------------------------------------------------------
    async def enqueue(self, order_id: int) -> Reply:
        """Queue an order's job (idempotent: its job id derives from the order id)."""
        store = self.s.store
        order = await store.order(order_id)
        assert order is not None
        if order["pack"]:
            return await self.packs.enqueue(order)
        # Row ids can come back after a deletion (/forget of the newest order), and arq
        # keeps a finished job's result for days: the random part keeps a new order from
        # ever matching an old job. Stored on first enqueue, so re-enqueues stay idempotent.
        job_id = order["job_id"] or (
            f"{await self.s.job_prefix()}-o{order_id}-{secrets.token_hex(4)}"
        )
        refs = await store.photos(order["set_id"], "accepted") if order["set_id"] else []
        if not refs:
            await store.set_order(order_id, status=OrderStatus.FAILED, error=wf.REFERENCES_GONE)
            return _say(wo.refs_gone_for(order_id))
        base = await self.generate_request(Painting.of_order(order), job_id, refs)
        if two := await joint.request_parts(store, order):  # a joint order's second person
            base = base.model_copy(update=two)
        req: c.Message = base
        if order["kind"] in REFINE_KINDS:  # vary/relight one portrait: the same order
            refined = await self.refine_request(order, base)
            if refined is None:
                await store.set_order(order_id, status=OrderStatus.FAILED, error=wf.PORTRAIT_GONE)
                return _say(w.PORTRAIT_REMOVED)
            req = refined
        await store.set_order(order_id, job_id=job_id, enqueues=order["enqueues"] + 1)
        await store.mark_personal_order(order_id, base.personal is not None)
        engine = self.s.engine
        job = job_of(order)
        with bind_order(job_id):  # the worker logs under the same id
            await engine.enqueue(job, req, job_id=job_id)
            log.info(
                "order %s queued (%s, %d reference photos)", order_id, order["style"], len(refs)
            )
        js = await engine.state(job, job_id)
        shown = self.progress_shown(js.status, js.position, await self.engine_gone())
        await store.set_progress([(order_id, shown)])
        text = progress_words(order_id, shown)
        return self.progress_reply(order_id, text, cancellable=js.status == JobStatus.QUEUED)

    async def generate_request(
        self, order: Painting, job_id: str, refs: list[Photo]
    ) -> c.GenerateRequest:
        """The one place a generation request is built: for an order, a retry, a job Redis
        lost, each look of a pack (:meth:`Painting.of_look`), and the base of a
        vary/relight request (:meth:`refine_request`)."""
        store = self.s.store
        style = self.s.prompts.styles.get(order.style)
        return c.GenerateRequest(
            generation_id=job_id,
            prompt=order.prompt,
            reference_prompt=self.reference_prompt(order),
            negative_prompt=order.negative_prompt,
            style=order.style,
            gate=style.likeness if style else c.LikenessGate(),  # the style's likeness policy
            params=c.GenerationParams(**order.params),
            seeds=order.seeds,
            references=[
                c.Reference(
                    embedding=embedding(p),
                    face_crop=store.media.read(p.crop_path) if p.crop_path else None,
                    quality=p.quality,
                )
                for p in refs
            ],
            # (a pet's references are an animal's, compared with no face)
            protected=[] if order.sitter else await reach.protected_for(store, order.user_id),
            aspect=self._aspect(order),
            subject=pet_sets.subject(order.sitter),  # a pet's: the animal's references
            personal=await personal_for(store, order.user_id, refs[0].set_id if refs else None),
        )

    @staticmethod
    def _aspect(order: Painting) -> c.Aspect | None:
        """The order's format; square on a square style is the style's own size, sent
        as no format at all: the same render, which a contract-2 worker also takes (so
        a rolling upgrade refuses only orders that really use a new format)."""
        aspect = c.Aspect(order.aspect) if order.aspect else None
        square = order.params.get("width", 1024) == order.params.get("height", 1024)
        return None if aspect == c.Aspect.SQUARE and square else aspect

    async def refine_request(self, order: Row, base: c.GenerateRequest) -> c.RefineRequest | None:
        """A vary/relight order's request: the generation request's identity, prompt and
        gate, with the parent portrait (its labelled PNG as delivered) to start from;
        None when that portrait is gone (removed by a moderator, or swept)."""
        store = self.s.store
        parent = await store.variation(order["parent_variation_id"] or 0)
        if parent is None or not parent.kept or parent.path is None:
            return None
        asked = json.loads(order["refine"] or "{}")
        shared = base.model_dump(include=set(c.RefineRequest.model_fields) - {"mode", "image"})
        return c.RefineRequest(
            **shared,
            mode=REFINE_KINDS[order["kind"]],
            image=store.media.read(parent.path),
            strength=c.RefineStrength(asked.get("strength", "subtle")),
            lighting=asked.get("lighting", ""),
        )

    def reference_prompt(self, order: Painting) -> str:
        """The order worded for FLUX.2 [klein] (the engine picks what its model needs)."""
        prompts = self.s.prompts
        if order.style not in prompts.styles:
            return ""
        # a pet's: "the cat in the reference images, ... keep its markings ..."
        pet = order.sitter or ""
        return prompts.reference_prompt(order.style, order.choices, order.subject or "", pet)

    # --- progress -----------------------------------------------------------------------
    async def engine_gone(self, queue: str = c.QUEUE_GPU) -> dict[str, Any]:
        """``{}`` while a worker's heartbeat is alive for ``queue``; else the no-worker
        note's params (``engine_gone``, ``seen``: when one was last seen, or None)."""
        from bot.studio.photos.uploads import engine_alive

        if await engine_alive(self.s, queue):
            return {}
        try:
            seen = await self.s.engine.last_seen(queue)
        except Exception:
            seen = None
        return {"engine_gone": True, "seen": seen}

    async def no_worker_note(self, queue: str = c.QUEUE_GPU) -> str:
        """ " The engine isn't running..." when no worker's heartbeat is alive for ``queue``."""
        return engine_note(await self.engine_gone(queue))

    def progress_shown(
        self,
        status: str,
        position: int | None,
        note: dict[str, Any] | None = None,
        progress: c.Progress | None = None,
    ) -> Shown:
        """What a one-style order's progress message shows for its job's state
        (``note``: :meth:`engine_gone`'s params)."""
        if status == JobStatus.QUEUED:
            return Shown(ProgressCode.QUEUED, {"position": int(position or 0) + 1, **(note or {})})
        if status == JobStatus.RUNNING:
            return running_shown(progress, VARIATIONS)  # the bar, when reported
        return Shown(ProgressCode.FINISHING)

    def progress_reply(self, order_id: int, text: str, cancellable: bool) -> Reply:
        row = (cancel_button(order_id),) if cancellable else ()
        return _say(text, row, edit_key=f"order-{order_id}")

    async def orphaned(self, job_id: str) -> bool:
        """The worker that claimed the running job is gone (never with an older engine)."""
        return await self.s.engine.orphaned(job_id)

    async def status(self, user: Row, where: str) -> Reply:
        """/status: the last order and where it is, or where the wizard is."""
        order = await self.s.store.last_order(user["id"])
        if order is None:
            return _say(wo.no_orders_yet(where))
        if order["pack"]:
            return await self.packs.status(user, order)
        style = self.s.prompts.styles.get(order["style"])
        name = style.name if style else order["style"]
        if order["status"] in IN_FLIGHT and order["job_id"]:
            js = await self.s.engine.state(job_of(order), order["job_id"])
            if js.status == JobStatus.QUEUED:
                what = wo.status_queued(int(js.position or 0) + 1, await self.no_worker_note())
            elif js.status == JobStatus.RUNNING and await self.orphaned(order["job_id"]):
                what = wo.STATUS_ORPHANED
            elif js.status == JobStatus.RUNNING:
                what = wo.STATUS_RUNNING
            else:
                what = wo.STATUS_FINISHING
        elif order["status"] == OrderStatus.FAILED:
            what = wo.status_failed(wf.stored_failure(order["error"]))
        else:
            what = wo.status_done(order["status"])
        text = wo.order_status(order["id"], name, what)
        if self.s.settings.daily_quota:
            text += wo.orders_today(await self.images_today(user), self.s.settings.daily_quota)
        return _say(text)

    # --- cancelling ---------------------------------------------------------------------
    def cancel_button(self, order_id: int, label: str = "") -> Button:
        """A Cancel button of that order (for /cancel's question, core/commands.py)."""
        return cancel_button(order_id, label)

    async def cancel(self, user: Row, order_id: int) -> Reply:
        store = self.s.store
        order = await store.order(order_id)
        if order is None or order["user_id"] != user["id"]:
            return _say(wo.NOT_YOURS_ORDER)
        if order["status"] not in IN_FLIGHT:
            return _say(wo.cannot_cancel(order_id, order["status"]))
        if order["pack"]:
            return await self.packs.cancel(order)
        removed = False
        if order["job_id"]:
            removed = await remove_queued(self.s.engine, order["job_id"])
        if not removed and order["job_id"]:
            js = await self.s.engine.state(job_of(order), order["job_id"])
            if js.status != "missing":
                return _say(wo.being_painted(order_id))
        await store.set_order(order_id, status=OrderStatus.CANCELLED, finished_at=now_iso())
        shown = Shown(ProgressCode.CANCELLED)
        await store.set_progress([(order_id, shown)])
        return _say(progress_words(order_id, shown), edit_key=f"order-{order_id}")


async def remove_queued(engine: Engine, job_id: str) -> bool:
    """Take a job out of its queue if it hasn't started; True when it was removed."""
    return await engine.remove_queued(job_id)
