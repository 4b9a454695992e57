"""What the conversation, the orders and the results say (plain words, no platform
markup): the steps, the commands, an order's progress, its results, its follow-ups.

The photo verdicts, consent, /help and /privacy are in :mod:`bot.studio.words`;
between the two, every sentence the studio core says.
"""

from __future__ import annotations

import re

from bot.studio.words import FREE_TEXT_MAX

# --- the conversation (bot/studio/conversation.py, wizard.py, commands.py) -----------------
SOMETHING_WENT_WRONG = "Sorry, something went wrong on my side. Please try again."
SUSPENDED = "Your access to Sitter has been suspended. /privacy and /forget still work."
GO_PRIVATE = (
    "Let's talk in private: send me /start in a direct message. "
    "Photos of your face don't belong in a group chat."
)
CONSENT_CHANGED = "The consent text changed since you agreed; please read it again."
NO_PLUGIN = "Reporting is not available yet."
AGREE, DECLINE = "I agree", "No thanks"
NOTED = "Thank you, noted."
DECLINED = "No problem. I won't keep or use any photo. /start if you change your mind."
PRESS_AGREE = (
    "Please press “I agree” to continue (or /privacy to read how your photos are handled)."
)
NO_PHOTO_BEFORE_CONSENT = "Before I look at any photo I need your consent. I didn't keep these."
# Platform-neutral: the terminal has no "photos or files", every chat has "here".
WAITING_FOR_PHOTOS = "I'm waiting for photos: send them here, or press Done when you have enough."
NOT_ASKING = "I'm not asking anything right now."
WHAT_NEXT = "What next? /new for another portrait, /photos to add photos, /help for more."
NEW_PORTRAIT = "New portrait"
BACK, CANCEL, TYPE_OWN, QUEUE_IT = "◀ Back", "✕ Cancel", "Type my own", "✓ Queue it"
STALE_BUTTON = "That button is from an earlier message. Here's where we are now:"
DEAD_BUTTON = "That button doesn't work any more. Here's where we are:"
WRONG_STEP_BUTTON = "That button doesn't fit this step. Here's where we are:"
KEPT_DATA = "Good, nothing was deleted."
TYPE_ANSWER = "Type your answer as a message (up to {max} characters)."
UNKNOWN_STYLE_BUTTON = "I don't know that style."
NOT_ON_LIST = "That choice isn't on the list."
EMPTY_ANSWER = "That message was empty. Choose a button or type your answer."
PRESS_QUEUE = "Press “Queue it” to order, or Back to change something."
CHOOSE_OR_TYPE = "Choose one, or type your own answer."
WELCOME_BACK = "Welcome back – here's where we were."
FIRST_THINGS_FIRST = "First things first:"
CANCELLED_WIZARD = "Cancelled. Your photos are kept; nothing was queued."
NOTHING_TO_CANCEL = "There's nothing to cancel right now."
FORGET_ASK = (
    "This deletes all your photos, orders and portraits, and your consent. "
    "It cannot be undone. Delete everything?"
)
FORGET_YES, FORGET_KEEP = "Yes, delete everything", "Keep my data"
FORGET_STALE = (
    "That delete button is from an earlier message; send /forget again if you want to "
    "delete everything."
)
KNOWN_COMMANDS = "/start /new /photos /status /cancel /privacy /forget /help"


def step_heading(number: int, total: int, what: str) -> str:
    """'Step 2 of 5 – What should you wear?': numbers come from the conversation table."""
    return f"Step {number} of {total} – {what}"


def too_long(n: int) -> str:
    return (
        f"That's {n:,} characters; please keep it under {FREE_TEXT_MAX} – a few words are enough."
    )


def unknown_style(text: str, names: str) -> str:
    return f"I don't know the style “{text}”. Choose one of: {names}."


def unknown_command(name: str) -> str:
    return f"I don't know the command /{name}. I know: {KNOWN_COMMANDS}."


def confirm_text(summary: str, variations: int) -> str:
    return f"Your order:\n{summary}\n\nI'll paint {variations} variations. Queue it?"


def order_waiting(order_id: int, status: str) -> str:
    return f"Your order #{order_id} is {status}. /status shows where it is."


def not_collecting(where: str) -> str:
    return f"I'm not collecting photos {where}. To add more, use /photos."


def cancel_which(order_id: int) -> str:
    """/cancel with an order on its way AND a portrait being chosen: both are 'it'."""
    return (
        f"Your order #{order_id} is on its way, and you're choosing another portrait. "
        "What should I cancel?"
    )


CANCEL_ORDER_BUTTON = "Cancel order #{id}"
CANCEL_WIZARD_BUTTON = "Stop choosing this portrait"
CANCELLED_WIZARD_ORDER_GOES_ON = (
    "Cancelled the portrait you were choosing. Order #{id} goes on; /cancel stops it too."
)


def status_where(state: str) -> str:
    return {
        "consent": "waiting for your consent (/start)",
        "references": "collecting your photos",
        "confirm": "waiting for you to confirm your order",
        "idle": "ready for a new portrait (/new)",
    }.get(state, f"at the {state} step of the wizard")


def forgotten(photos: int, orders: int, results: int, files: int) -> str:
    def n(k: int, what: str) -> str:
        return f"{k} {what}{'s' if k != 1 else ''}"

    return (
        f"Done. I deleted {n(photos, 'photo')}, {n(orders, 'order')} and "
        f"{n(results, 'portrait')} ({files} files), and your consent. /start to begin again."
    )


# --- orders (bot/studio/orders.py) ----------------------------------------------------------
def order_in_progress(order_id: int) -> str:
    return (
        f"You already have an order in progress (#{order_id}). Wait for it, or "
        "cancel it with /cancel, before ordering another."
    )


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
SOMEONE_ELSES = "This portrait belongs to someone else."
NO_SUCH_PORTRAIT = "That portrait no longer exists."
PORTRAIT_REMOVED = "That portrait was removed."


def refs_gone_for(order_id: int) -> str:
    return f"Order #{order_id} can't be made: your reference photos are gone."


def queued_text(order_id: int, position: int, note: str = "") -> str:
    ahead = "you're next" if position == 1 else f"{position - 1} ahead of you"
    return f"Order #{order_id} is queued: position {position} ({ahead}).{note}"


def painting_text(order_id: int, variations: int) -> str:
    return f"Order #{order_id}: painting your {variations} portraits now…"


# --- live progress (bot/studio/jobs/progress.py) -------------------------------------------
BAR_CELLS = 8


def progress_bar(percent: int) -> str:
    """``▓▓▓▓░░░░ 50%``: eight cells, rounded down (never full before the end)."""
    percent = max(0, min(100, percent))
    filled = percent * BAR_CELLS // 100
    return "▓" * filled + "░" * (BAR_CELLS - filled) + f" {percent}%"


def which_portraits(variations: list[int], of: int) -> str:
    """``portrait 2 of 4``, ``portraits 1–4 of 4``, ``portraits 1, 3 of 4``."""
    if len(variations) == 1:
        return f"portrait {variations[0]} of {of}"
    run = variations == list(range(variations[0], variations[-1] + 1))
    names = f"{variations[0]}–{variations[-1]}" if run else ", ".join(map(str, variations))
    return f"portraits {names} of {of}"


def painting_progress(
    order_id: int,
    total: int,
    percent: int,
    stage: str,
    variations: list[int],
    of: int,
    attempt: int,
) -> str:
    """The progress message while the engine paints: the sentence, then a bar and what
    it is doing (``▓▓▓▓░░░░ 50% · portraits 1–4 of 4``)."""
    what = which_portraits(variations, of) if variations and of else "your portraits"
    if stage == "detail":
        what = f"face detail, {what}"
    elif attempt > 1:
        what = f"again for a closer likeness: {what}"
    return f"{painting_text(order_id, total)}\n{progress_bar(percent)} · {what}"


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


def still_in_progress(order_id: int) -> str:
    return f"Order #{order_id} is still in progress; wait for it first."


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
    "done": "ready; sending it now.",
    "delivered": "delivered.",
    "cancelled": "cancelled.",
}


def status_failed(error: str) -> str:
    return f"failed: {error}"


def orders_today(today: int, quota: int) -> str:
    return f"\nImages today: {today} of {quota}."


def no_orders_yet(where: str) -> str:
    return f"No orders yet. We're {where}."


# --- results (bot/studio/jobs/results.py) -----------------------------------------------------
RETRY_BUTTON = "↻ Retry (new seeds)"  # ↻ means Retry, and only that
TRY_AGAIN_BUTTON = "↻ Try again"
REPORT_BUTTON = "Report {n}"
NO_FACE = "no face found to compare"
NO_FACE_EXPLAINED = (
    "“No face found to compare” means I couldn't find a face in that portrait, so I "
    "couldn't check that it looks like you; retry with new seeds or choose another style."
)


def results_text(order_id: int, style: str, n: int) -> str:
    return (
        f"Order #{order_id} – {style}: your {n} portraits. Upscale or label one "
        "with the buttons (they come back as files with AI provenance), or retry with new "
        "seeds. More… for an avatar, variations or another light. /new for a different "
        "portrait."
    )


def order_failed(order_id: int, error: str) -> str:
    return (
        f"Sorry, order #{order_id} failed: {error or 'unknown error'}. "
        "Your photos and choices are kept; you can try again."
    )


def order_ready(order_id: int) -> str:
    return f"Order #{order_id} is ready ↓"


# --- follow-ups (bot/studio/followups.py) ------------------------------------------------------
def follow_up_under_way(verb: str, n: int) -> str:
    return f"{verb} #{n} is already under way; I'll send it when it's ready."


def follow_up_started(verb: str, n: int) -> str:
    return f"{verb} #{n}… I'll send it as a file when it's ready."


def follow_up_done(n: int, what: str, method: str, again: bool) -> str:
    # Only the size is said: the stored method also names the upscaler's internals.
    size = re.search(r"\d+×\d+", method or "")
    text = f"Portrait #{n} {what}" + (f" to {size.group()}" if size else "") + "."
    if again:
        text = "Here it is again: " + text
    return text + " Sent as a file so its AI provenance metadata stays intact."


def follow_up_failed(verb: str, n: int, error: str) -> str:
    return f"Sorry, {verb.lower()} #{n} failed: {error}."


# --- the reference set (/photos: bot/studio/reference_set.py) ----------------------------------
REMOVE_BUTTON = "Remove {n}"
NEW_SET_BUTTON = "Start a new set"
NO_PHOTOS_YET = "Your set has no photos yet: send me a few of yourself."
NEW_SET_YES, NEW_SET_KEEP = "Yes, delete them", "Keep my photos"


def new_set_ask(count: int) -> str:
    return f"This deletes all {count} photos of your set, so you can start a new one. Sure?"


def photo_sheet(count: int, aside: list[str]) -> str:
    """The caption of the /photos contact sheet."""
    text = (
        f"Your reference set: {count} photo{'s' if count != 1 else ''}, numbered on the sheet. "
        "Remove one with its button (or type “remove 3”), start a new set, or send more "
        "photos to add them."
    )
    if aside:
        text += "\nSet aside (they look like someone else): " + ", ".join(aside) + "."
    return text


def photo_removed(n: int, name: str, left: int) -> str:
    named = "" if name.startswith("photo") else f" ({name})"  # a chat photo has no name
    return (
        f"Removed photo {n}{named}: deleted, file and all. "
        f"{left} photo{'s' if left != 1 else ''} left in your set."
    )


def no_such_photo(n: int, count: int) -> str:
    if not count:
        return NO_PHOTOS_YET
    return f"There's no photo {n}: your set has photos 1–{count}. Send /photos to see them."


def new_set_started(deleted: int) -> str:
    return (
        f"I deleted the {deleted} photo{'s' if deleted != 1 else ''} of your set. "
        "Send new photos of yourself to start a new one."
    )


def what_to_remove(count: int) -> str:
    return f"Which one? Type “remove” and its number on the sheet (1–{count})."
