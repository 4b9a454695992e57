"""A personal model, opt-in: the offer (after Done, from /photos, /train), the consent
(recorded and versioned like the studio's own, kind ``personal``), the training job
queued on the ``train`` queue, Stop, and the switch (buttons, /personal on|off).

Following the job (progress, the file stored, "ready") is the tracker's kind
``personal`` (follow.py); deleting is gone.py's."""

from __future__ import annotations

import io
import logging
import secrets

from bot.store.codes import Failure
from bot.store.personal_store import IN_FLIGHT
from bot.store.store import Row, now_iso
from bot.studio.core.conversation import Turn, say
from bot.studio.core.events import Button, Reply
from bot.studio.core.routes import Routes, command_args
from bot.studio.core.services import Services
from bot.studio.moderation import reach
from bot.studio.orders import words_orders as wo
from bot.studio.orders.orders import Orders
from bot.studio.personal import buttons as pb
from bot.studio.personal import gone
from bot.studio.personal import words_personal as wpm
from bot.studio.personal.buttons import PersonalPress
from sitter import contract as c

log = logging.getLogger(__name__)


def edit_key(model_id: int) -> str:
    """The training's one progress message, edited in place."""
    return f"train-{int(model_id)}"


def cancel_row(model_id: int) -> tuple[Button, ...]:
    return (Button(wpm.CANCEL_BUTTON, pb.personal(pb.CANCEL, model_id), "danger"),)


def switch_row(model_id: int, on: bool) -> tuple[Button, ...]:
    if on:
        return (Button(wpm.OFF_BUTTON, pb.personal(pb.OFF, model_id)),)
    return (Button(wpm.ON_BUTTON, pb.personal(pb.ON, model_id), "primary"),)


def ready_reply(row: Row) -> Reply:
    on = bool(row["enabled"])
    return say(wpm.ready(int(row["steps_done"]), on), switch_row(row["id"], on))


class Personal:
    def __init__(self, services: Services, orders: Orders):
        self.s = services
        self.orders = orders

    def register(self, routes: Routes) -> None:
        routes.on_command("train", self.train_command)
        routes.on_command("personal", self.switch_command)
        routes.on_press(PersonalPress, lambda turn, p: self.press(turn.user, p))

    # --- what the photos step shows -------------------------------------------------------
    async def offer_button(self, user: Row, set_id: int, accepted: int) -> tuple[Button, ...]:
        """The /photos sheet's button, when the set has enough photos for a model."""
        if accepted < self.s.settings.train_min_photos:
            return ()
        return (Button(wpm.OFFER_BUTTON, pb.personal(pb.OFFER, set_id)),)

    async def after_done(self, user: Row, set_id: int, accepted: int) -> list[Reply]:
        """After Done: a short word on the offer, once the set has enough photos and has
        no model (ready or being learned) yet."""
        if accepted < self.s.settings.train_min_photos:
            return []
        store = self.s.store
        if await store.ready_personal(user["id"], set_id) is not None:
            return []
        if await store.training_in_flight(user["id"]) is not None:
            return []
        return [
            say(wpm.offer_after_done(accepted), await self.offer_button(user, set_id, accepted))
        ]

    # --- the offer --------------------------------------------------------------------------
    async def train_command(self, turn: Turn) -> list[Reply]:
        """/train: the offer for the current set (or where the model stands)."""
        ref = await self.s.store.current_set(turn.user["id"])
        return [await self.offer(turn.user, ref["id"])]

    async def offer(self, user: Row, set_id: int) -> Reply:
        store, settings = self.s.store, self.s.settings
        running = await store.training_in_flight(user["id"])
        if running is not None:
            return say(wpm.ALREADY_TRAINING, cancel_row(running["id"]))
        ready = await store.ready_personal(user["id"], set_id)
        if ready is not None:
            return ready_reply(ready)
        have, need = await store.count_photos(set_id), settings.train_min_photos
        if have < need:
            return say(wpm.need_photos(need, have) if have else wpm.NO_SET_YET)
        text = wpm.offer(
            have,
            settings.train_minutes,
            settings.train_quota_cost,
            settings.reference_retention_days,
        )
        yes = Button(wpm.AGREE_BUTTON, pb.personal(pb.AGREE, set_id), "primary")
        no = Button(wpm.NOT_NOW_BUTTON, pb.personal(pb.NOT_NOW, set_id))
        return say(text, (yes, no))

    # --- presses ----------------------------------------------------------------------------
    async def press(self, user: Row, p: PersonalPress) -> list[Reply]:
        if p.kind in (pb.OFFER, pb.AGREE, pb.NOT_NOW):
            ref = await self.s.store.current_set(user["id"])
            if ref["id"] != p.id:  # someone else's offer, or one for a set changed since
                owner = await self.s.store.set_owner(p.id)
                mine = owner is None or owner == user["id"]
                return [say(wpm.SET_CHANGED if mine else wpm.NOT_YOUR_OFFER)]
            if p.kind == pb.OFFER:
                return [await self.offer(user, p.id)]
            if p.kind == pb.NOT_NOW:
                return [say(wpm.NOT_NOW)]
            return [await self.agree(user, p.id)]
        row = await self.s.store.personal(p.id)
        if row is None:
            return [say(wpm.GONE)]
        if row["user_id"] != user["id"]:
            return [say(wpm.NOT_YOURS)]
        if p.kind == pb.CANCEL:
            return [await self.cancel(row)]
        return [await self.switch(row, p.kind == pb.ON)]

    async def agree(self, user: Row, set_id: int) -> Reply:
        """Consent given: checks, the consent recorded, the row, the job queued."""
        store, settings = self.s.store, self.s.settings
        running = await store.training_in_flight(user["id"])
        if running is not None:
            return say(wpm.ALREADY_TRAINING, cancel_row(running["id"]))
        if (ready := await store.ready_personal(user["id"], set_id)) is not None:
            return ready_reply(ready)
        need = settings.train_min_photos
        if (have := await store.count_photos(set_id)) < need:
            return say(wpm.need_photos(need, have))
        if (limit := await self.over_quota(user)) is not None:
            return limit
        # A protected face is never learned: the studio's own check (its photos go).
        if await reach.check_set(self.s, user, set_id) is not None:
            return say(wpm.PROTECTED)
        photos = await store.photos(set_id, "accepted")
        await store.record_consent(user["id"], wpm.CONSENT_VERSION, wpm.CONSENT_TEXT, "personal")
        model_id = await store.add_personal(
            user["id"],
            set_id,
            wpm.CONSENT_VERSION,
            user["platform"],
            user["chat_id"] or "",
            len(photos),
            quota_cost=settings.train_quota_cost,
        )
        return await self.enqueue(model_id)

    async def over_quota(self, user: Row) -> Reply | None:
        """Training counts as SITTER_TRAIN_QUOTA_COST images of today's limit."""
        quota, cost = self.s.settings.daily_quota, self.s.settings.train_quota_cost
        if not quota or not cost:
            return None
        used = await self.orders.images_today(user)
        if used + cost > quota:
            return say(wo.daily_limit(quota, used, cost))
        return None

    async def enqueue(self, model_id: int) -> Reply:
        """Queue the model's training (a new job id on every enqueue); its progress message."""
        store = self.s.store
        row = await store.personal(model_id)
        assert row is not None
        photos = (await store.photos(row["set_id"], "accepted"))[: c.MAX_TRAIN_PHOTOS]
        if not photos:
            await store.finish_personal(model_id, "failed", error=Failure.REFERENCES_GONE.value)
            return say(wpm.failed(Failure.REFERENCES_GONE, ""))
        job_id = f"{await self.s.job_prefix()}-t{model_id}-{secrets.token_hex(4)}"
        req = c.TrainRequest(
            train_id=job_id,
            photos=[
                c.TrainPhoto(
                    image=train_image(store.media.read(p.path)),
                    face_crop=store.media.read(p.crop_path) if p.crop_path else None,
                    quality={k: float(v) for k, v in p.quality.items() if _number(v)},
                )
                for p in photos
            ],
            steps=row["steps"] or None,
        )
        await store.set_personal(model_id, job_id=job_id, enqueues=row["enqueues"] + 1)
        await self.s.engine.enqueue(c.JOB_TRAIN, req, job_id=job_id)
        log.info("personal model %s queued (%d photos)", model_id, len(photos))
        js = await self.s.engine.state(c.JOB_TRAIN, job_id)
        text = wpm.queued(js.position if js.status == "queued" else None)
        from bot.studio.photos.uploads import engine_alive

        if not await engine_alive(self.s, c.QUEUE_TRAIN):
            text += "\n" + wpm.NO_TRAINER
        return say(text, cancel_row(model_id), edit_key=edit_key(model_id))

    async def cancel(self, row: Row) -> Reply:
        """Stop: the job and its checkpoint leave Redis; the row keeps only the fact."""
        if row["status"] not in IN_FLIGHT:
            return say(wpm.NOTHING_TO_STOP)
        if row["job_id"]:
            await gone.drop_trainings(self.s.engine, [str(row["job_id"])])
        await self.s.store.finish_personal(row["id"], "cancelled", delivered_at=now_iso())
        return say(wpm.STOPPED, edit_key=edit_key(row["id"]))

    # --- the switch -------------------------------------------------------------------------
    async def switch(self, row: Row, on: bool) -> Reply:
        if row["status"] != "ready":
            return say(wpm.GONE)
        await self.s.store.set_personal(row["id"], enabled=int(on))
        return say(wpm.switched(on), switch_row(row["id"], on))

    async def switch_command(self, turn: Turn) -> list[Reply]:
        """/personal on | off (bare: where the model stands)."""
        ref = await self.s.store.current_set(turn.user["id"])
        row = await self.s.store.ready_personal(turn.user["id"], ref["id"])
        if row is None:
            return [say(wpm.NO_MODEL)]
        arg = command_args().strip().lower()
        if arg in ("on", "off"):
            return [await self.switch(row, arg == "on")]
        if arg:
            return [say(wpm.usage("personal"))]
        return [ready_reply(row)]


# A training reads its pictures at 512 px (tiny: 64); the originals (up to
# SITTER_MAX_UPLOAD_BYTES each, 20 MB) would make a request of up to 40 of them, 800 MB:
# past Redis' 512 MB limit on one value, and a copy of every photo in Redis for the
# job's lifetime. A photo over these goes as a JPEG of this side.
TRAIN_SIDE = 1536
TRAIN_PHOTO_BYTES = 2 * 1024 * 1024


def train_image(data: bytes, side: int = TRAIN_SIDE, limit: int = TRAIN_PHOTO_BYTES) -> bytes:
    """The photo as the training request carries it: as stored when small, else upright
    (EXIF), at most ``side`` px on its long side, JPEG. Unreadable: as stored (the
    engine skips a picture it cannot read)."""
    from PIL import Image, ImageOps

    try:
        with Image.open(io.BytesIO(data)) as im:
            if len(data) <= limit and max(im.size) <= side:
                return data
            rgb = ImageOps.exif_transpose(im).convert("RGB")
    except Exception:
        return data
    rgb.thumbnail((side, side), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    rgb.save(out, "JPEG", quality=92)
    return out.getvalue()


def _number(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)
