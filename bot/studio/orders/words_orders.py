"""What the orders say (plain words): limits, placing, queueing, cancelling, retrying
and an order's live progress. Shared sentences (a portrait that is someone else's, the
painting line the job follower also says) stay in bot/studio/core/words_chat.py.
Through the catalogs (sitter/i18n.py): constants translated when read."""

from __future__ import annotations

from bot.store.codes import OrderStatus
from sitter import i18n
from sitter.i18n import N_, _

_WORDS = {
    "STYLE_GONE": N_("That style is no longer offered; please choose again."),
    "REFERENCES_GONE": N_("Your reference photos are gone; please send new ones."),
    "CHANGE_IT": N_(" Go Back and change it."),
    "NOT_YOURS_ORDER": N_("That order isn't yours."),
    "NO_SUCH_ORDER": N_("That order no longer exists."),
    # LABEL
    "CANCEL_ORDER": N_("Cancel order"),
    "STATUS_ORPHANED": N_("its engine worker stopped; it goes back to the queue in a moment."),
    "STATUS_RUNNING": N_("being painted right now."),
    "STATUS_FINISHING": N_("finishing up."),
}
_DONE = {
    OrderStatus.DONE: N_("ready; sending it now."),
    OrderStatus.DELIVERED: N_("delivered."),
    OrderStatus.CANCELLED: N_("cancelled."),
}


def __getattr__(name: str) -> str:
    """The sentence constants above, in the language being spoken."""
    return i18n.attribute(_WORDS, __name__, name)


def status_done(status: str) -> str:
    """A finished order's status in words (the status code itself when it has none)."""
    return _(_DONE[status]) if status in _DONE else status  # type: ignore[index]


def order_in_progress(order_id: int) -> str:
    return _(
        "You already have an order in progress (#{id}). Wait for it, or "
        "cancel it with /cancel, before ordering another."
    ).format(id=order_id)


def over_today(limit: str) -> str:
    """The confirmation step of an order over today's limit (no Queue button)."""
    return limit + "\n" + _("Go ◀ Back to choose something smaller, or come back tomorrow.")


def daily_limit(quota: int, used: int = 0, cost: int = 4) -> str:
    """The daily limit counts images: a portrait order is 4, a pack every image it paints."""
    left = max(0, quota - used)
    return _(
        "That's {cost} images, and you have {left} of today's {quota} left ({used} used). "
        "The daily limit counts images: a portrait order is 4, a pack one per image it "
        "paints. It resets at midnight UTC."
    ).format(cost=cost, left=left, quota=quota, used=used)


def refs_gone_for(order_id: int) -> str:
    return _("Order #{id} can't be made: your reference photos are gone.").format(id=order_id)


def queued_text(order_id: int, position: int, note: str = "") -> str:
    ahead = _("{n} ahead of you").format(n=position - 1) if position > 1 else _("you're next")
    text = _("Order #{id} is queued: position {position} ({ahead}).")
    return text.format(id=order_id, position=position, ahead=ahead) + note


def finishing_text(order_id: int) -> str:
    return _("Order #{id}: finishing up…").format(id=order_id)


def no_worker(seen: str) -> str:
    return " " + _(
        "The studio's engine is not running ({seen}); your order waits "
        "safely and starts when it runs again."
    ).format(seen=seen)


def cannot_cancel(order_id: int, status: str) -> str:
    return _("Order #{id} is already {status}; nothing to cancel.").format(
        id=order_id, status=status
    )


def being_painted(order_id: int) -> str:
    return _(
        "Order #{id} is already being painted and can't be stopped; it will arrive shortly."
    ).format(id=order_id)


def order_cancelled(order_id: int) -> str:
    return _("Order #{id} cancelled. It doesn't count toward today's limit.").format(id=order_id)


def trying_again(order_id: int) -> str:
    return _("Trying order #{id} again with new seeds.").format(id=order_id)


def order_status(order_id: int, style: str, what: str) -> str:
    return _("Order #{id} ({style}): {what}").format(id=order_id, style=style, what=what)


def status_queued(position: int, note: str) -> str:
    return _("queued, position {position}.").format(position=position) + note


def status_failed(error: str) -> str:
    return _("failed: {error}").format(error=error)


def orders_today(today: int, quota: int) -> str:
    return "\n" + _("Images today: {today} of {quota}.").format(today=today, quota=quota)


def no_orders_yet(where: str) -> str:
    return _("No orders yet. We're {where}.").format(where=where)
