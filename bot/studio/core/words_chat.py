"""What the conversation says (plain words, no platform markup): the steps, the
commands, the sentences several features share, and the results and progress lines
the job follower (bot/studio/jobs/) sends. A feature's own sentences are in its folder
(orders/words_orders.py, photos/words_photos.py, portrait/words_portrait.py, ...).

The photo verdicts, consent, /help and /privacy are in :mod:`bot.studio.core.words`;
between the two, every sentence the studio core says.

Every sentence goes through the catalogs (sitter/i18n.py, locales/): the constants are
read through the module's ``__getattr__`` (translated when read, in the language of the
person being answered), the functions call ``_``/``ngettext`` with named placeholders.
"""

from __future__ import annotations

from bot.studio.core.words import FREE_TEXT_MAX
from sitter import i18n
from sitter.i18n import N_, _, format_number, ngettext

# --- the conversation (bot/studio/core/conversation.py, wizard.py, commands.py) -----------------
_WORDS = {
    "SOMETHING_WENT_WRONG": N_("Sorry, something went wrong on my side. Please try again."),
    "SUSPENDED": N_("Your access to Sitter has been suspended. /privacy and /forget still work."),
    "GO_PRIVATE": N_(
        "Let's talk in private: send me /start in a direct message. "
        "Photos of your face don't belong in a group chat."
    ),
    "CONSENT_CHANGED": N_("The consent text changed since you agreed; please read it again."),
    "NO_PLUGIN": N_("Reporting is not available yet."),
    # LABEL
    "AGREE": N_("I agree"),
    # LABEL
    "DECLINE": N_("No thanks"),
    "NOTED": N_("Thank you, noted."),
    "DECLINED": N_("No problem. I won't keep or use any photo. /start if you change your mind."),
    "PRESS_AGREE": N_(
        "Please press “I agree” to continue (or /privacy to read how your photos are handled)."
    ),
    "NO_PHOTO_BEFORE_CONSENT": N_(
        "Before I look at any photo I need your consent. I didn't keep these."
    ),
    # Platform-neutral: the terminal has no "photos or files", every chat has "here".
    "WAITING_FOR_PHOTOS": N_(
        "I'm waiting for photos: send them here, or press Done when you have enough."
    ),
    "NOT_ASKING": N_("I'm not asking anything right now."),
    "WHAT_NEXT": N_("What next? /new for another portrait, /photos to add photos, /help for more."),
    # LABEL
    "NEW_PORTRAIT": N_("New portrait"),
    # LABEL
    "BACK": N_("◀ Back"),
    # LABEL
    "CANCEL": N_("✕ Cancel"),
    # LABEL
    "TYPE_OWN": N_("Type my own"),
    # LABEL
    "QUEUE_IT": N_("✓ Queue it"),
    "STALE_BUTTON": N_("That button is from an earlier message. Here's where we are now:"),
    "DEAD_BUTTON": N_("That button doesn't work any more. Here's where we are:"),
    "WRONG_STEP_BUTTON": N_("That button doesn't fit this step. Here's where we are:"),
    "NO_SUCH_BUTTON": N_(
        "This step has no “{word}” button: choose one of the buttons, or type your own answer."
    ),
    "KEPT_DATA": N_("Good, nothing was deleted."),
    "TYPE_ANSWER": N_("Type your answer as a message (up to {max} characters)."),
    "UNKNOWN_STYLE_BUTTON": N_("I don't know that style."),
    "NOT_ON_LIST": N_("That choice isn't on the list."),
    "EMPTY_ANSWER": N_("That message was empty. Choose a button or type your answer."),
    "PRESS_QUEUE": N_("Press “Queue it” to order, or Back to change something."),
    "CHOOSE_OR_TYPE": N_("Choose one, or type your own answer."),
    "WELCOME_BACK": N_("Welcome back – here's where we were."),
    "FIRST_THINGS_FIRST": N_("First things first:"),
    "CANCELLED_WIZARD": N_("Cancelled. Your photos are kept; nothing was queued."),
    "NOTHING_TO_CANCEL": N_("There's nothing to cancel right now."),
    "FORGET_ASK": N_(
        "This deletes all your photos, orders and portraits, and your consent. "
        "It cannot be undone. Delete everything?"
    ),
    # LABEL
    "FORGET_YES": N_("Yes, delete everything"),
    # LABEL
    "FORGET_KEEP": N_("Keep my data"),
    "FORGET_STALE": N_(
        "That delete button is from an earlier message; send /forget again if you want to "
        "delete everything."
    ),
    # LABEL
    "CANCEL_ORDER_BUTTON": N_("Cancel order #{id}"),
    # LABEL
    "CANCEL_WIZARD_BUTTON": N_("Stop choosing this portrait"),
    "CANCELLED_WIZARD_ORDER_GOES_ON": N_(
        "Cancelled the portrait you were choosing. Order #{id} goes on; /cancel stops it too."
    ),
    "SOMEONE_ELSES": N_("This portrait belongs to someone else."),
    "NO_SUCH_PORTRAIT": N_("That portrait no longer exists."),
    "PORTRAIT_REMOVED": N_("That portrait was removed."),
    # LABEL: ↻ means Retry, and only that
    "RETRY_BUTTON": N_("↻ Retry (new seeds)"),
    # LABEL
    "TRY_AGAIN_BUTTON": N_("↻ Try again"),
    # LABEL
    "REPORT_BUTTON": N_("Report {n}"),
    "NO_FACE": N_("no face found to compare"),
    "NO_FACE_EXPLAINED": N_(
        "“No face found to compare” means I couldn't find a face in that portrait, so I "
        "couldn't check that it looks like you; retry with new seeds or choose another style."
    ),
}


def __getattr__(name: str) -> str:
    """The sentence constants above, in the language being spoken."""
    return i18n.attribute(_WORDS, __name__, name)


# Every command /help lists (the moderation plugin's three when it is there): issue 22.
KNOWN_COMMANDS = (
    "/start /new /photos /pet /done /status /portraits /train /personal /together /cancel "
    "/privacy /forget /language /help"
)
PLUGIN_COMMANDS = ("report", "protect", "unprotect")


def step_heading(number: int, total: int, what: str) -> str:
    """'Step 2 of 5 – What should you wear?': numbers come from the conversation table."""
    return _("Step {number} of {total} – {what}").format(number=number, total=total, what=what)


def too_long(n: int) -> str:
    return _("That's {n} characters; please keep it under {max} – a few words are enough.").format(
        n=format_number(n), max=FREE_TEXT_MAX
    )


def unknown_style(text: str, names: str) -> str:
    return _("I don't know the style “{text}”. Choose one of: {names}.").format(
        text=text, names=names
    )


def unknown_command(name: str, plugin: bool = True) -> str:
    extra = "".join(f" /{c}" for c in PLUGIN_COMMANDS) if plugin else ""
    return _("I don't know the command /{name}. I know: {commands}.").format(
        name=name, commands=KNOWN_COMMANDS + extra
    )


def confirm_text(summary: str, variations: int) -> str:
    return _("Your order:\n{summary}\n\nI'll paint {n} variations. Queue it?").format(
        summary=summary, n=variations
    )


def order_waiting(order_id: int, status: str) -> str:
    return _("Your order #{id} is {status}. /status shows where it is.").format(
        id=order_id, status=status
    )


def not_collecting(where: str) -> str:
    return _("I'm not collecting photos {where}. To add more, use /photos.").format(where=where)


def cancel_which(order_id: int) -> str:
    """/cancel with an order on its way AND a portrait being chosen: both are 'it'."""
    return _(
        "Your order #{id} is on its way, and you're choosing another portrait. "
        "What should I cancel?"
    ).format(id=order_id)


def status_where(state: str) -> str:
    where = {
        "consent": N_("waiting for your consent (/start)"),
        "references": N_("collecting your photos"),
        "confirm": N_("waiting for you to confirm your order"),
        "idle": N_("ready for a new portrait (/new)"),
    }
    if state in where:
        return _(where[state])
    return _("at the {state} step of the wizard").format(state=state)


def forgotten(photos: int, orders: int, results: int, files: int) -> str:
    return _(
        "Done. I deleted {photos}, {orders} and {portraits} ({files} files), and your "
        "consent. /start to begin again."
    ).format(
        photos=ngettext("{n} photo", "{n} photos", photos).format(n=photos),
        orders=ngettext("{n} order", "{n} orders", orders).format(n=orders),
        portraits=ngettext("{n} portrait", "{n} portraits", results).format(n=results),
        files=files,
    )


# --- orders (bot/studio/orders/orders.py) ---------------------------------------------------------


def painting_text(order_id: int, variations: int) -> str:
    return _("Order #{id}: painting your {n} portraits now…").format(id=order_id, n=variations)


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
        return _("portrait {n} of {of}").format(n=variations[0], of=of)
    run = variations == list(range(variations[0], variations[-1] + 1))
    names = f"{variations[0]}–{variations[-1]}" if run else ", ".join(map(str, variations))
    return _("portraits {names} of {of}").format(names=names, of=of)


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
    what = which_portraits(variations, of) if variations and of else _("your portraits")
    if stage == "detail":
        what = _("face detail, {what}").format(what=what)
    elif attempt > 1:
        what = _("again for a closer likeness: {what}").format(what=what)
    return f"{painting_text(order_id, total)}\n{progress_bar(percent)} · {what}"


def still_in_progress(order_id: int) -> str:
    return _("Order #{id} is still in progress; wait for it first.").format(id=order_id)


# --- results (bot/studio/jobs/results.py) -----------------------------------------------------


def results_text(order_id: int, style: str, n: int) -> str:
    return _(
        "Order #{id} – {style}: your {n} portraits. Upscale or label one "
        "with the buttons (they come back as files with AI provenance), or retry with new "
        "seeds. More… for an avatar, variations or another light. /new for a different "
        "portrait."
    ).format(id=order_id, style=style, n=n)


def order_failed(order_id: int, error: str) -> str:
    return _(
        "Sorry, order #{id} failed: {error}. Your photos and choices are kept; you can try again."
    ).format(id=order_id, error=error or _("unknown error"))


def order_ready(order_id: int) -> str:
    return _("Order #{id} is ready ↓").format(id=order_id)


# --- follow-ups (bot/studio/portrait/followups.py) ------------------------------------------------


# --- the reference set (/photos: bot/studio/photos/reference_set.py) ------------------------------
