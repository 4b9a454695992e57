"""What the orders say (plain words): limits, placing, queueing, cancelling, retrying
and an order's live progress. Shared sentences (a portrait that is someone else's, the
painting line the job follower also says) stay in bot/studio/core/words_chat.py."""

from __future__ import annotations

from bot.store.codes import OrderStatus


def order_in_progress(order_id: int) -> str:
    return (
        f"You already have an order in progress (#{order_id}). Wait for it, or "
        "cancel it with /cancel, before ordering another."
    )


def over_today(limit: str) -> str:
    """The confirmation step of an order over today's limit (no Queue button)."""
    return f"{limit}\nGo ◀ Back to choose something smaller, or come back tomorrow."


def daily_limit(quota: int, used: int = 0, cost: int = 4) -> str:
    """The daily limit counts images: a portrait order is 4, a pack every image it paints."""
    left = max(0, quota - used)
    return (
        f"That's {cost} images, and you have {left} of today's {quota} left ({used} used). "
        "The daily limit counts images: a portrait order is 4, a pack one per image it "
        "paints. It resets at midnight UTC."
    )


STYLE_GONE = "That style is no longer offered; please choose again."

REFERENCES_GONE = "Your reference photos are gone; please send new ones."

CHANGE_IT = " Go Back and change it."

NOT_YOURS_ORDER = "That order isn't yours."

NO_SUCH_ORDER = "That order no longer exists."


def refs_gone_for(order_id: int) -> str:
    return f"Order #{order_id} can't be made: your reference photos are gone."


def queued_text(order_id: int, position: int, note: str = "") -> str:
    ahead = "you're next" if position == 1 else f"{position - 1} ahead of you"
    return f"Order #{order_id} is queued: position {position} ({ahead}).{note}"


def finishing_text(order_id: int) -> str:
    return f"Order #{order_id}: finishing up…"


def no_worker(seen: str) -> str:
    return (
        f" The studio's engine is not running ({seen}); your order waits "
        "safely and starts when it runs again."
    )


CANCEL_ORDER = "Cancel order"


def cannot_cancel(order_id: int, status: str) -> str:
    return f"Order #{order_id} is already {status}; nothing to cancel."


def being_painted(order_id: int) -> str:
    return (
        f"Order #{order_id} is already being painted and can't be stopped; it will arrive shortly."
    )


def order_cancelled(order_id: int) -> str:
    return f"Order #{order_id} cancelled. It doesn't count toward today's limit."


def trying_again(order_id: int) -> str:
    return f"Trying order #{order_id} again with new seeds."


def order_status(order_id: int, style: str, what: str) -> str:
    return f"Order #{order_id} ({style}): {what}"


def status_queued(position: int, note: str) -> str:
    return f"queued, position {position}.{note}"


STATUS_ORPHANED = "its engine worker stopped; it goes back to the queue in a moment."

STATUS_RUNNING = "being painted right now."

STATUS_FINISHING = "finishing up."

STATUS_DONE = {
    OrderStatus.DONE: "ready; sending it now.",
    OrderStatus.DELIVERED: "delivered.",
    OrderStatus.CANCELLED: "cancelled.",
}


def status_failed(error: str) -> str:
    return f"failed: {error}"


def orders_today(today: int, quota: int) -> str:
    return f"\nImages today: {today} of {quota}."


def no_orders_yet(where: str) -> str:
    return f"No orders yet. We're {where}."
