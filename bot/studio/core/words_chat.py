"""What the conversation says (plain words, no platform markup): the steps, the
commands, the sentences several features share, and the results and progress lines
the job follower (bot/studio/jobs/) sends. A feature's own sentences are in its folder
(orders/words_orders.py, photos/words_photos.py, portrait/words_portrait.py, ...).

The photo verdicts, consent, /help and /privacy are in :mod:`bot.studio.core.words`;
between the two, every sentence the studio core says.
"""

from __future__ import annotations

from bot.studio.core.words import FREE_TEXT_MAX

# --- the conversation (bot/studio/core/conversation.py, wizard.py, commands.py) -----------------
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
NO_SUCH_BUTTON = (
    "This step has no “{word}” button: choose one of the buttons, or type your own answer."
)
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
# Every command /help lists (the moderation plugin's three when it is there): issue 22.
KNOWN_COMMANDS = (
    "/start /new /photos /pet /done /status /portraits /train /personal /together /cancel "
    "/privacy "
    "/forget /help"
)
PLUGIN_COMMANDS = ("report", "protect", "unprotect")


def step_heading(number: int, total: int, what: str) -> str:
    """'Step 2 of 5 – What should you wear?': numbers come from the conversation table."""
    return f"Step {number} of {total} – {what}"


def too_long(n: int) -> str:
    return (
        f"That's {n:,} characters; please keep it under {FREE_TEXT_MAX} – a few words are enough."
    )


def unknown_style(text: str, names: str) -> str:
    return f"I don't know the style “{text}”. Choose one of: {names}."


def unknown_command(name: str, plugin: bool = True) -> str:
    extra = "".join(f" /{c}" for c in PLUGIN_COMMANDS) if plugin else ""
    return f"I don't know the command /{name}. I know: {KNOWN_COMMANDS}{extra}."


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


# --- orders (bot/studio/orders/orders.py) ---------------------------------------------------------


SOMEONE_ELSES = "This portrait belongs to someone else."
NO_SUCH_PORTRAIT = "That portrait no longer exists."
PORTRAIT_REMOVED = "That portrait was removed."


def painting_text(order_id: int, variations: int) -> str:
    return f"Order #{order_id}: painting your {variations} portraits now…"


# --- live progress (bot/studio/jobs/progress.py) ------------------------------------------------
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


def still_in_progress(order_id: int) -> str:
    return f"Order #{order_id} is still in progress; wait for it first."


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


# --- follow-ups (bot/studio/portrait/followups.py) ------------------------------------------------


# --- the reference set (/photos: bot/studio/photos/reference_set.py) ------------------------------
