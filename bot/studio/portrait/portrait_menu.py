"""One portrait's More menu: avatar, vary (subtle, strong) and relight.

Vary and relight make four new portraits, so each is an order of its own (kind
``vary``/``relight``, ``parent_variation_id`` the portrait, ``refine`` what was
asked): queued, followed, delivered, retried, reported, swept and forgotten like any
order, its request built by the one builder (:meth:`Orders.enqueue`, a
``RefineRequest``). A relight puts the new light in the order's own answers and
composes the prompt again, so the old light is not left in it. A light typed in the
person's own words is screened like any typed answer; asking for it is a side step of
the table (``own_light``), ended by a command or after 15 minutes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from bot.store.rows import Portrait
from bot.store.store import Row
from bot.studio.core import words_chat as w
from bot.studio.core.buttons import read_id
from bot.studio.core.conversation import (
    ASKED_AT,
    Arrow,
    Outcome,
    State,
    Step,
    Turn,
    again,
    answer,
    go,
    say,
)
from bot.studio.core.events import Button, Reply
from bot.studio.core.routes import Routes
from bot.studio.core.services import Services
from bot.studio.orders.orders import Orders, seeds
from bot.studio.photos.reference_set import order_refusal
from bot.studio.portrait import buttons as pb
from bot.studio.portrait import words_portrait as wp
from bot.studio.portrait.buttons import MenuPress, PortraitPress
from bot.studio.rights import rights
from bot.studio.safety.semantic import answers_refusal, typed_refusal
from bot.studio.together import joint
from bot.studio.wizard.prompt_fit import prompt_refusal
from sitter.contract import MAX_LIGHTING
from sitter.prompts import Preset

LIGHT_SLOT = "lighting"  # prompts/wizard.toml's step whose presets are the lights
OWN_LIGHT = "own_light"  # the side step: the light for a relight, typed next
AWAITING = "relight_for"  # its session data: the portrait whose light is typed
AWAITING_IDX = "relight_idx"  # and that portrait's number (#2)
AWAITING_S = 15 * 60  # a light typed much later is not it
OLD_ASKED_AT = "relight_asked_at"  # before own_light: IDLE with relight_for and this


def from_idle(data: Mapping[str, Any]) -> dict[str, Any] | None:
    """A question saved before the upgrade (IDLE, relight_for + relight_asked_at) as the
    own_light step's data, so a light typed after the upgrade is still its answer."""
    vid, at = data.get(AWAITING), data.get(OLD_ASKED_AT)
    if not isinstance(vid, int) or not isinstance(at, int | float):
        return None
    return {AWAITING: vid, ASKED_AT: float(at)}


PER_ROW = 3


class PortraitMenu:
    def __init__(self, services: Services, orders: Orders):
        self.s = services
        self.orders = orders

    def register(self, routes: Routes) -> None:
        routes.on_press(PortraitPress, self.press)
        routes.on_press(MenuPress, self.on_menu)
        routes.side_step(self.own_light_step(), "Relight N → My own words")

    async def on_menu(self, turn: Turn, p: MenuPress) -> list[Reply]:
        return [await self.menu(turn.user, p.id)]

    def lights(self) -> tuple[Preset, ...]:
        step = next((s for s in self.s.prompts.steps if s.slot == LIGHT_SLOT), None)
        return step.presets if step is not None else ()

    async def portrait(self, user: Row, variation_id: int) -> Portrait | Reply:
        """The person's own, delivered portrait, or the plain reason it is not."""
        v = await self.s.store.variation(variation_id)
        if v is None:
            return say(w.NO_SUCH_PORTRAIT)
        if v.user_id != user["id"]:
            return say(w.SOMEONE_ELSES)
        if not v.kept:
            return say(w.PORTRAIT_REMOVED)
        return v

    # --- the menus -------------------------------------------------------------------------
    async def menu(self, user: Row, variation_id: int) -> Reply:
        v = await self.portrait(user, variation_id)
        if isinstance(v, Reply):
            return v
        n, vid = v.idx, v.id
        order = await self.s.store.order(v.order_id)
        like: tuple[Button, ...] = ()
        if order is not None and order["pack"]:  # four more in the look that painted it
            like = (Button(wp.MORE_LIKE_BUTTON.format(n=n), pb.portrait(vid, "like"), "primary"),)
        return say(
            wp.about_order(v.order_id, wp.portrait_menu(n)),
            like,
            (Button(wp.AVATAR_BUTTON.format(n=n), pb.follow_up("a", vid)),),
            (
                Button(wp.VARY_SUBTLE_BUTTON.format(n=n), pb.portrait(vid, "vary", "subtle")),
                Button(wp.VARY_STRONG_BUTTON.format(n=n), pb.portrait(vid, "vary", "strong")),
            ),
            (Button(wp.RELIGHT_BUTTON.format(n=n), pb.portrait(vid, "light")),),
        )

    def light_menu(self, v: Portrait, text: str = "") -> Reply:
        vid = v.id
        items = [
            Button(p.label, pb.portrait(vid, "light", str(i))) for i, p in enumerate(self.lights())
        ]
        items.append(Button(wp.OWN_LIGHT_BUTTON, pb.portrait(vid, "light", "own")))
        rows = [tuple(items[i : i + PER_ROW]) for i in range(0, len(items), PER_ROW)]
        return say(text or wp.about_order(v.order_id, wp.ask_light(v.idx)), *rows)

    # --- presses ---------------------------------------------------------------------------
    async def press(self, turn: Turn, p: PortraitPress) -> list[Reply] | Outcome:
        user = turn.user
        v = await self.portrait(user, p.variation)
        if isinstance(v, Reply):
            return [v]
        if p.action == "like":
            return await self.more_like(user, v) if not p.arg else [say(w.DEAD_BUTTON)]
        if p.action == "vary":
            if p.arg not in ("subtle", "strong"):
                return [say(w.DEAD_BUTTON)]
            return await self.place(user, v, "vary", p.arg, "")
        if not p.arg:
            return [self.light_menu(v)]
        if p.arg == "own":
            if turn.state not in (State.IDLE, OWN_LIGHT):  # their typing answers the wizard
                return [say(wp.MID_WIZARD)]
            return go(OWN_LIGHT, {AWAITING: v.id, AWAITING_IDX: v.idx})
        i = read_id(p.arg, 0)
        lights = self.lights()
        if i is None or i >= len(lights):  # wizard.toml changed since the menu was shown
            return [self.light_menu(v, wp.LIGHT_GONE)]
        return await self.place(user, v, "relight", "subtle", lights[i].value)

    # --- the side step: the light in the person's own words --------------------------------
    def own_light_step(self) -> Step:
        async def show(turn: Turn) -> list[Reply]:
            n, vid = turn.data.get(AWAITING_IDX), turn.data.get(AWAITING)
            if not isinstance(n, int) and isinstance(vid, int):  # saved before relight_idx
                v = await self.s.store.variation(vid)
                n = v.idx if v is not None else None
            return [say(wp.type_light(n, MAX_LIGHTING) if isinstance(n, int) else w.NOT_ASKING)]

        async def text(turn: Turn, text: str) -> Outcome:
            vid = turn.data.get(AWAITING)
            if not isinstance(vid, int):
                return go(State.IDLE, {}, say(w.NOT_ASKING))
            v = await self.portrait(turn.user, vid)
            if isinstance(v, Reply):  # removed or forgotten meanwhile
                return Outcome([v], to=State.IDLE, data={}, show=False)
            if not text.strip():
                return answer(say(wp.LIGHT_EMPTY))
            if len(text) > MAX_LIGHTING:
                return answer(say(wp.light_too_long(len(text), MAX_LIGHTING)))
            if refusal := await typed_refusal(self.s, turn.user, text):  # as any typed answer
                return answer(say(refusal + wp.OTHER_LIGHT))  # still asked: try again
            light = " ".join(text.split())

            async def placed(_rev: int) -> list[Reply]:
                return await self.place(turn.user, v, "relight", "subtle", light)

            return Outcome(to=State.IDLE, data={}, show=False, then=placed)

        async def files(turn: Turn, _files: object) -> Outcome:
            return again(say(w.not_collecting("now")))

        return Step(
            OWN_LIGHT,
            show,
            {},
            text,
            files,
            arrows=(
                Arrow(State.IDLE, "a light typed (a relight order), a command, 15 min"),
                Arrow(State.REFERENCES, "photos once it lapsed (idle adds them to the set)"),
            ),
            side=True,
            timeout_s=AWAITING_S,
            legacy=from_idle,
        )

    # --- placing the order -------------------------------------------------------------------
    async def more_like(self, user: Row, v: Portrait) -> list[Reply]:
        """Four new portraits in the look of a pack's portrait (the preview's "more like
        this"): a plain order of that look's style, answers and prompt, new seeds."""
        store = self.s.store
        refusal = await self.orders.limits(user)
        if refusal is not None:
            return [refusal]
        parent = await store.order(v.order_id)
        look = await self.source(parent, v.idx) if parent is not None else None
        if parent is None or look is None or not parent["pack"]:
            return [say(wp.NOT_FOR_PACKS)]
        if parent["set_id"] and (text := await order_refusal(self.s, user, parent["set_id"])):
            return [say(text)]
        order_id = await store.create_order(
            user_id=user["id"],
            set_id=parent["set_id"],
            platform=user["platform"],
            chat_id=user["chat_id"] or parent["chat_id"] or "",
            style=look["style"],
            choices=json.loads(look["choices"] or "{}"),
            prompt=look["prompt"],
            negative_prompt=look["negative_prompt"],
            params=json.loads(look["params"]),
            seeds=seeds(),
        )
        said = say(wp.more_like_queued(order_id, v.idx, parent["id"], look["name"]))
        return [said, await self.orders.enqueue(order_id)]

    async def source(self, parent: Row, idx: int) -> Row | None:
        """Where portrait ``idx`` of ``parent`` came from: the order itself, or for a pack
        the look that painted it (each look keeps its own style, answers and prompt)."""
        if not parent["pack"]:
            return parent
        for look in await self.s.store.looks(parent["id"]):
            if look["first"] <= idx < look["first"] + len(json.loads(look["seeds"])):
                return look
        return None

    async def place(
        self, user: Row, v: Portrait, kind: str, strength: str, light: str
    ) -> list[Reply]:
        """A vary/relight order of portrait ``v``: checked like a retry, then queued."""
        store = self.s.store
        refusal = await self.orders.limits(user)
        if refusal is not None:
            return [refusal]
        parent = await store.order(v.order_id)
        if parent is None:
            return [say(w.NO_SUCH_PORTRAIT)]
        source = await self.source(parent, v.idx)
        if source is None:  # a pack whose look row is gone (it never is while v is there)
            return [say(wp.NOT_FOR_PACKS)]
        if (ended := await joint.ended(store, parent)) is not None:  # two people painted
            return [say(ended)]  # again: only while the second one's consent holds
        if parent["set_id"] and (text := await order_refusal(self.s, user, parent["set_id"])):
            return [say(text)]
        choices = json.loads(source["choices"] or "{}")
        prompt = source["prompt"]
        if kind == "relight":
            choices[LIGHT_SLOT] = light  # the new light in place of the old
            whole = {k: str(v) for k, v in choices.items()} | {"subject": parent["subject"] or ""}
            if text := await answers_refusal(self.s, user, whole):  # its description too
                return [say(text + wp.OTHER_LIGHT)]  # the light with the other answers
            style = self.s.prompts.styles.get(source["style"])
            if style is not None:
                prompt = style.compose(choices)
                job = rights.analysis_job_id(await self.s.job_prefix(), user["id"])
                too_long = await prompt_refusal(  # the model's prompt length, as an order's
                    self.s.engine,
                    self.s.prompts,
                    style.key,
                    choices,
                    job_id=job,
                    two_people=joint.is_joint(parent),
                )
                if too_long:
                    return [say(too_long + wp.OTHER_LIGHT)]
        asked: dict[str, str | int] = {"strength": strength, "lighting": light}
        asked |= {"of_order": parent["id"], "of_idx": v.idx}
        order_id = await store.create_order(
            user_id=user["id"],
            set_id=parent["set_id"],
            platform=user["platform"],
            chat_id=user["chat_id"] or parent["chat_id"] or "",
            style=source["style"],
            choices=choices,
            prompt=prompt,
            negative_prompt=source["negative_prompt"],
            params=json.loads(source["params"]),
            seeds=seeds(),  # new seeds; the same identity conditioning
            kind=kind,
            parent_variation_id=v.id,
            refine=asked,
        )
        await joint.copy_joint(store, parent, order_id)  # her copy, Withdraw, /forget
        what = wp.refine_queued_caption(kind, v.idx, strength, light)
        return [say(f"Order #{order_id}: {what}."), await self.orders.enqueue(order_id)]
