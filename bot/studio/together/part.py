"""The feature's part: what it registers with the core's routes."""

from __future__ import annotations

from bot.studio.core.conversation import Outcome, Turn, say
from bot.studio.core.events import Button, Reply
from bot.studio.core.routes import Routes, command_args, command_vouched
from bot.studio.core.services import Services
from bot.studio.orders.orders import Orders
from bot.studio.together import joint, placement
from bot.studio.together import words_together as wt
from bot.studio.together.buttons import InvitationPress, InvitePress, JointPress, invite
from bot.studio.together.invitations import Invitations


class Together:
    def __init__(self, services: Services, orders: Orders):
        self.s = services
        self.orders = orders
        self.invitations = Invitations(services)

    def register(self, routes: Routes) -> None:
        routes.on_command("together", self.command)
        routes.on_start_payload(self.invitations.open_link)
        routes.on_press(InvitePress, self.on_invite)
        routes.on_press(InvitationPress, self.on_invitation)
        routes.on_press(JointPress, self.on_joint)
        routes.wizard_step(placement.STEP)
        routes.style_button(Button(wt.TOGETHER_BUTTON, invite()))

    async def command(self, turn: Turn) -> list[Reply] | Outcome:
        """/together: the live invitations (answer, make, withdraw), else a new one. On
        Discord the adapter names the member: "member <id> <dm> <name>"."""
        args = command_args()
        if args.startswith("member ") and command_vouched():  # typed ids are never trusted
            return [await self.invitations.make_for(turn.user, args.removeprefix("member "))]
        listed = await self.invitations.listing(turn.user)
        return listed or [await self.invitations.make(turn.user)]

    async def on_invite(self, turn: Turn, _p: InvitePress) -> list[Reply]:
        return [await self.invitations.make(turn.user)]

    async def on_invitation(self, turn: Turn, p: InvitationPress) -> list[Reply] | Outcome:
        if p.kind in ("ta", "td"):
            return await self.invitations.answer(turn.user, p.id, accept=p.kind == "ta")
        if p.kind == "tx":
            return await self.invitations.withdraw(turn.user, p.id)
        return await self.invitations.start_joint(turn, p.id)

    async def on_joint(self, turn: Turn, p: JointPress) -> list[Reply]:
        """Either person: delete the joint order's portraits, or retry it (charged to the
        one who ordered it)."""
        store = self.s.store
        order = await store.order(p.id)
        if order is None or not joint.is_joint(order):
            return [say(wt.NO_SUCH_JOINT)]
        uid = turn.user["id"]
        if uid not in (order["user_id"], order["partner_user_id"]):
            return [say(wt.NOT_IN_THIS)]
        if p.kind == "tz":
            await joint.delete_joint(self.s, p.id)
            text = wt.JOINT_DELETED.format(id=p.id)
            other = order["partner_user_id"] if uid == order["user_id"] else order["user_id"]
            await self.invitations.tell(other, say(text))
            return [say(text)]
        orderer = await store.user_by_id(order["user_id"])
        if orderer is None:
            return [say(wt.NO_SUCH_JOINT)]
        from bot.studio.orders.presses import OrderPresses

        return await OrderPresses(self.orders).retry(orderer, order)
