"""What an order's buttons do: retry (``r``, new seeds, same order) and cancel (``q``),
each only for the order's owner; and /status. Registered with the studio's routes."""

from __future__ import annotations

import json

from bot.store.codes import IN_FLIGHT
from bot.store.store import Row
from bot.studio.core import words_chat as w
from bot.studio.core.conversation import Turn, say
from bot.studio.core.events import Reply
from bot.studio.core.routes import Routes
from bot.studio.orders import words_orders as wo
from bot.studio.orders.buttons import OrderPress
from bot.studio.orders.orders import Orders, seeds
from bot.studio.photos.reference_set import order_refusal
from bot.studio.together import joint


class OrderPresses:
    def __init__(self, orders: Orders):
        self.orders = orders

    def register(self, routes: Routes) -> None:
        routes.on_press(OrderPress, self.press)
        routes.on_command("status", self.status)

    async def status(self, turn: Turn) -> list[Reply]:
        return [await self.orders.status(turn.user, w.status_where(turn.state))]

    async def press(self, turn: Turn, p: OrderPress) -> list[Reply]:
        """Retry (``r``) or cancel (``q``) an order: only its owner's."""
        order = await self.orders.s.store.order(p.id)
        if order is None:
            return [say(wo.NO_SUCH_ORDER)]
        if order["user_id"] != turn.user["id"]:
            return [say(w.SOMEONE_ELSES)]
        if p.kind == "q":
            return [await self.orders.cancel(turn.user, p.id)]
        return await self.retry(turn.user, order)

    async def retry(self, user: Row, order: Row) -> list[Reply]:
        if order["status"] in IN_FLIGHT:
            return [say(w.still_in_progress(order["id"]))]
        if order["pack"]:
            return await self.orders.packs.retry(user, order)
        refusal = await self.orders.limits(user)
        if refusal is not None:
            return [refusal]
        if (ended := await joint.ended(self.orders.s.store, order)) is not None:
            return [say(ended)]  # two people: only while the invitation holds
        if order["set_id"] and (text := await order_refusal(self.orders.s, user, order["set_id"])):
            return [say(text)]
        async with self.orders.s.store.tx():  # a retry keeps the format and the subject
            new_id = await self.orders.s.store.create_order(
                user_id=user["id"],
                set_id=order["set_id"],
                platform=user["platform"],
                chat_id=user["chat_id"] or order["chat_id"] or "",
                style=order["style"],
                choices=json.loads(order["choices"]),
                prompt=order["prompt"],
                negative_prompt=order["negative_prompt"],
                params=json.loads(order["params"]),
                seeds=seeds(),
                retry_of=order["id"],
                kind=order["kind"],  # a vary/relight order is retried as one
                parent_variation_id=order["parent_variation_id"],
                refine=json.loads(order["refine"]) if order["refine"] else None,
            )
            await self.orders.s.store.set_order_look(new_id, order["aspect"], order["subject"])
            await joint.copy_joint(self.orders.s.store, order, new_id)
        return [say(wo.trying_again(order["id"])), await self.orders.enqueue(new_id)]
