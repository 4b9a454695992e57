"""Follow-ups of a delivered portrait (upscale, label, avatar) as a table.

Each :class:`FollowUp` row says everything that differs between the kinds: its
engine job and request, its words, where its file is kept; its button is its letter
in buttons.py's ``FOLLOW_UP_BUTTONS`` (checked against this table at import). Adding a
kind is a row here and its letter there (and its job in the engine); nothing else
branches on the kind.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bot.store import codes
from bot.store.codes import FollowUpStatus
from bot.store.rows import Portrait
from bot.store.store import Row
from bot.studio.core import words_chat as w
from bot.studio.core.conversation import Turn
from bot.studio.core.events import Button, Image, Reply
from bot.studio.core.routes import Routes
from bot.studio.core.services import Services
from bot.studio.jobs import words_failures as wf
from bot.studio.pets import sets as pet_sets
from bot.studio.portrait import buttons as pb
from bot.studio.portrait import words_portrait as wp
from bot.studio.portrait.buttons import FollowUpPress
from bot.studio.together.shared import shares
from sitter import contract as c
from sitter.i18n import N_, _


@dataclass(frozen=True)
class FollowUp:
    kind: str  # variation_jobs.kind
    label: str  # the result message's button: "Upscale 2"
    job: str  # the engine's job name
    request: Callable[[bytes], Any]  # the portrait's bytes -> the job's request
    verb: str  # "Upscaling #2…"
    done: str  # "Portrait #2 upscaled."
    folder: str  # the media folder its file goes to
    in_results: bool = True  # a row of buttons under the results (else in "More N…")

    @property
    def button(self) -> str:
        """Its FollowUpPress kind, from the one list in buttons.py."""
        return pb.FOLLOW_UP_BUTTONS[self.kind]


FOLLOW_UPS: tuple[FollowUp, ...] = (
    FollowUp(
        "upscale",
        N_("Upscale"),
        c.JOB_UPSCALE,
        lambda image: c.UpscaleRequest(image=image),
        N_("Upscaling"),
        N_("upscaled"),
        "upscaled",
    ),
    FollowUp(
        "label",
        N_("Label"),
        c.JOB_LABEL,
        lambda image: c.LabelRequest(image=image),
        N_("Labelling"),
        N_("with the “Made with AI” label"),
        "labelled",
    ),
    FollowUp(
        "avatar",
        N_("Avatar"),
        c.JOB_AVATAR,
        lambda image: c.AvatarRequest(image=image),  # 512 and 1024 px, labelled, signed
        N_("Making avatars of"),
        N_("as avatars"),
        "avatars",
        in_results=False,
    ),
)
BY_KIND = {f.kind: f for f in FOLLOW_UPS}
if set(BY_KIND) != set(pb.FOLLOW_UP_BUTTONS):  # a row without a button, or a button without one
    raise RuntimeError(f"follow-ups {sorted(BY_KIND)} != buttons {sorted(pb.FOLLOW_UP_BUTTONS)}")
BY_BUTTON = {f.button: f for f in FOLLOW_UPS}


def buttons(variations: Sequence[Portrait]) -> list[tuple[Button, ...]]:
    """One row per follow-up kind under a result message: "Upscale 1", "Upscale 2", ..."""
    return [
        tuple(Button(f"{_(f.label)} {v.idx}", pb.follow_up(f.button, v.id)) for v in variations)
        for f in FOLLOW_UPS
        if f.in_results
    ]


def _order_of(vj: Row | dict[str, Any]) -> int | None:
    """The order of a follow-up's portrait (a row read with it), else None."""
    return vj["order_id"] if "order_id" in vj.keys() else None  # noqa: SIM118 (sqlite3.Row)


REFUSED = "refused"  # variation_jobs.method of an avatar the engine would not cut: final


def is_final(vj: Row) -> bool:
    """A failure that the same job would repeat (no Try again): withheld, or refused."""
    return vj["method"] == REFUSED or codes.read(vj["error"])[0] == codes.Failure.COPY_WITHHELD


def final_words(vj: Row, n: int) -> str:
    """What a final failure says (made from its stored code when it is sent)."""
    code, params = codes.read(vj["error"])
    if code == codes.Failure.AVATAR_REFUSED:
        return wp.avatar_refused(n, params.get("problem", ""))
    if code == codes.Failure.COPY_WITHHELD:
        return wf.copy_withheld(n)
    return wf.stored_failure(vj["error"], n) if vj["error"] else w.PORTRAIT_REMOVED


def result_method(result: c.Message) -> str:
    """How the copy was made, in a few words (kept with it, said when it is sent)."""
    if isinstance(result, c.UpscaleResult):
        return f"{result.method or ''}, {result.width}×{result.height}".strip(", ")
    return ""  # a label says nothing more


class FollowUps:
    def __init__(self, services: Services):
        self.s = services

    def register(self, routes: Routes) -> None:
        routes.on_press(FollowUpPress, self.on_press)

    async def on_press(self, turn: Turn, p: FollowUpPress) -> list[Reply]:
        return [await self.press(turn.user, p.kind, p.id)]

    async def press(self, user: Row, button: str, variation_id: int) -> Reply:
        """A follow-up button under a result: checked, then queued (or sent again)."""
        variation = await self.s.store.variation(variation_id)
        if variation is None:
            return Reply(w.NO_SUCH_PORTRAIT)
        if variation.user_id != user["id"] and not await shares(
            self.s.store, variation.order_id, user["id"]
        ):  # the second person of a joint order acts on their own copy
            return Reply(w.SOMEONE_ELSES)
        if not variation.kept:
            return Reply(w.PORTRAIT_REMOVED)
        return await self.start(user, variation, BY_BUTTON[button])

    async def start(self, user: Row, variation: Portrait, f: FollowUp) -> Reply:
        n = variation.idx
        store = self.s.store
        vj = await store.variation_job(variation.id, f.kind)
        oid = variation.order_id
        if vj is not None and vj["status"] == FollowUpStatus.QUEUED:
            return Reply(wp.about_order(oid, wp.follow_up_under_way(f.verb, n)))
        if (
            vj is not None
            and vj["status"] in (FollowUpStatus.DONE, FollowUpStatus.DELIVERED)
            and vj["path"]
        ):
            return self.reply(vj, n, again=True)
        if vj is not None and vj["status"] == FollowUpStatus.FAILED and is_final(vj):
            return Reply(final_words(vj, n))  # the same portrait: the same answer
        if vj is None:
            vj_id = await store.create_variation_job(variation.id, user["id"], f.kind)
            tries, old_job = 1, None
        else:  # failed before: try again
            vj_id, tries, old_job = vj["id"], vj["enqueues"] + 1, vj["job_id"]
            await store.set_variation_job(
                vj_id, status=FollowUpStatus.QUEUED, error=None, delivered_at=None
            )
        await self._send(vj_id, f, variation, tries, old_job)
        return Reply(wp.about_order(oid, wp.follow_up_started(f.verb, n)))

    async def enqueue(self, vj_id: int) -> None:
        """Queue the job of follow-up row ``vj_id`` again (read from the database)."""
        store = self.s.store
        vj = await store.variation_job_by_id(vj_id)
        assert vj is not None  # the tracker read it under the person's lock
        variation = await store.variation(vj["variation_id"])
        if variation is None or not variation.kept:  # removed since it was pressed
            await store.set_variation_job(
                vj_id, status=FollowUpStatus.FAILED, error=codes.Failure.PORTRAIT_REMOVED
            )
            return
        await self._send(vj_id, BY_KIND[vj["kind"]], variation, vj["enqueues"] + 1, vj["job_id"])

    async def _send(
        self, vj_id: int, f: FollowUp, variation: Portrait, tries: int, old_job: str | None
    ) -> None:
        """The engine job for the row, from rows already read (a press reads each once)."""
        store, engine = self.s.store, self.s.engine
        assert variation.path is not None  # kept: press() and enqueue() check it first
        req = f.request(store.media.read(variation.path))
        if isinstance(req, c.AvatarRequest):  # a pet's portrait: centred on the animal's head
            order = await store.order(variation.order_id)
            sitter = order["sitter"] if order is not None else None
            req = req.model_copy(update={"subject": pet_sets.subject(sitter)})
        job_id = f"{await self.s.job_prefix()}-{f.kind[0]}{vj_id}-{tries}-{secrets.token_hex(4)}"
        if old_job:  # pressed again: the old job (and its portrait) leaves Redis
            await engine.drop([old_job])
        await store.set_variation_job(vj_id, job_id=job_id, enqueues=tries)
        await engine.enqueue(f.job, req, job_id=job_id)

    async def keep(self, vj: Row | dict[str, Any], result: c.Message) -> None:
        """Store a finished job's files and mark it done (or refused, for an avatar)."""
        store, f = self.s.store, BY_KIND[vj["kind"]]
        if isinstance(result, c.AvatarResult):
            if result.problem is not None or not result.avatars:
                why = codes.stored(codes.Failure.AVATAR_REFUSED, problem=result.problem or "")
                await store.set_variation_job(
                    vj["id"], status=FollowUpStatus.FAILED, error=why, method=REFUSED
                )
                return
            rels = [
                store.media.put(vj["user_id"], f.folder, a.image, "png")[0] for a in result.avatars
            ]
            sizes = ",".join(str(a.size) for a in result.avatars)
            await store.set_variation_job(
                vj["id"],
                status=FollowUpStatus.DONE,
                path=rels[0],
                more_paths=json.dumps(rels[1:]),
                method=sizes,
            )
            return
        assert isinstance(result, c.UpscaleResult | c.LabelResult)
        rel, _sha = store.media.put(vj["user_id"], f.folder, result.image, "png")
        await store.set_variation_job(
            vj["id"], status=FollowUpStatus.DONE, path=rel, method=result_method(result)
        )

    def reply(self, vj: Row, n: int, again: bool = False) -> Reply:
        media = self.s.store.media
        if vj["kind"] == "avatar":
            rels = [vj["path"], *json.loads(vj["more_paths"] or "[]")]
            sizes = [int(x) for x in (vj["method"] or "").split(",") if x.isdigit()]
            files = tuple(
                Image(media.path(r), caption=f"#{n} · {s}×{s}", as_file=True)
                for r, s in zip(rels, sizes or [0] * len(rels), strict=False)
            )
            text = wp.about_order(_order_of(vj), wp.avatars_done(n, sizes, again))
            return Reply(text=text, images=files)
        text = wp.follow_up_done(n, BY_KIND[vj["kind"]].done, vj["method"] or "", again)
        text = wp.about_order(_order_of(vj), text)
        path = media.path(vj["path"])
        return Reply(text=text, images=(Image(path, caption=f"#{n}", as_file=True),))

    def failed_reply(self, vj: Row | dict[str, Any], idx: int, error: str) -> Reply:
        f = BY_KIND[vj["kind"]]
        return Reply(
            text=wp.about_order(_order_of(vj), wp.follow_up_failed(f.verb, idx, error)),
            buttons=((Button(w.TRY_AGAIN_BUTTON, pb.follow_up(f.button, vj["variation_id"])),),),
        )
