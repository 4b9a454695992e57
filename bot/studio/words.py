"""What the studio says, in one place (plain words, no platform markup)."""

from __future__ import annotations

from sitter.config import Settings
from sitter.contract import FaceDetail, Issue, PhotoProblem

CONSENT_VERSION = "2026-11-21.1"
CONSENT_TEXT = (
    "These photos are of me, or I have the person's permission to use them. "
    "I will not use Sitter to make sexual images or to deceive anyone about who "
    "a person is or what they did."
)

FREE_TEXT_MAX = 200


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


def daily_limit(quota: int) -> str:
    return f"You've reached today's limit of {quota} orders. It resets at midnight UTC."


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
    return f"\nOrders today: {today} of {quota}."


def no_orders_yet(where: str) -> str:
    return f"No orders yet. We're {where}."


# --- results (bot/studio/results.py) ----------------------------------------------------------
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
        "seeds. /new for a different portrait."
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
    text = f"Portrait #{n} {what}" + (f" ({method})" if method else "") + "."
    if again:
        text = "Here it is again: " + text
    return text + " Sent as a file so its AI provenance metadata stays intact."


def follow_up_failed(verb: str, n: int, error: str) -> str:
    return f"Sorry, {verb.lower()} #{n} failed: {error}."


def welcome(settings: Settings) -> str:
    return (
        "Hi! I'm Sitter, a portrait studio. Send me a few photos of yourself, pick a "
        "style, attire, setting, lighting and framing, and I'll paint four portraits "
        "that look like you.\n\n"
        f"Privacy: your photos are used only for your portraits. Reference photos are "
        f"deleted after {settings.reference_retention_days} days, results after "
        f"{settings.result_retention_days} days, and /forget deletes everything at once.\n\n"
        f"Before we start, please confirm:\n“{CONSENT_TEXT}”"
    )


def privacy(settings: Settings) -> str:
    ref, res = settings.reference_retention_days, settings.result_retention_days
    return (
        "What I keep: the photos you send (to learn your face), their face measurements, "
        "your orders and the portraits I made, and when you agreed to the consent text "
        f"(version {CONSENT_VERSION}). A photo I refuse is deleted at once; I keep only its "
        "fingerprint (a hash) and why, so I can tell you if you send it again.\n"
        f"How long: reference photos {ref} days, portraits and your orders (prompts, answers, "
        f"seeds) {res} days; an unfinished wizard {ref} days after your last step; your "
        f"consent and account once nothing else of yours is left ({ref} days at the "
        "earliest). Then they are deleted on their own.\n"
        "Who sees them: only you, and moderators if someone reports a portrait.\n"
        "Delete everything now: /forget. After /forget I keep only: the moderation log "
        "(what was reported and decided, naming you by a number that no longer leads to "
        "you, without anything you typed); reports other people made about your portraits "
        "(their words, no image); until midnight UTC a keyed fingerprint of your account "
        "with today's order count, so the daily limit still holds after /forget (whoever "
        "holds the studio's database and its key could test a given account against it "
        "until then: it is a pseudonym, not anonymous); and, if a "
        "moderator banned you, your account id and the ban."
    )


HELP = (
    "How it works: /start, agree, send photos of yourself (10–20 is best), press Done, "
    "answer five short questions, confirm, and wait for four portraits.\n\n"
    "Commands:\n"
    "/start – begin or continue where you were\n"
    "/new – another portrait with the same photos\n"
    "/photos – add more reference photos\n"
    "/status – where your order is\n"
    "/cancel – cancel the current step or your queued order\n"
    "/privacy – what I keep and for how long\n"
    "/forget – delete all your photos, orders and portraits\n"
    "/report – report a portrait that uses your face without consent"
)

ASK_PHOTOS = (
    "Send me photos of yourself: at least {min}, 10–20 is best. Good ones show only you, "
    "your face clearly and large, in different light and from slightly different angles; "
    "no sunglasses, no heavy filters. You can send several at once."
)

_PROBLEM_HINT: dict[PhotoProblem, str] = {
    PhotoProblem.UNREADABLE: "I could not read it as an image",
    PhotoProblem.TOO_LARGE: "it is too large",
    PhotoProblem.UNSUPPORTED: "I can't use this kind of file",
    PhotoProblem.LOW_RESOLUTION: "the resolution is too low",
    PhotoProblem.NO_FACE: "I can't find a face in it",
    PhotoProblem.SEVERAL_FACES: "there is more than one face; send photos with only you",
    PhotoProblem.FACE_TOO_SMALL: "your face is too small; come closer or crop it",
    PhotoProblem.BLURRY: "it is blurry",
    PhotoProblem.TOO_DARK: "it is too dark",
    PhotoProblem.OVEREXPOSED: "it is overexposed",
    PhotoProblem.EXTREME_ANGLE: "the face is turned too far away",
    PhotoProblem.DIFFERENT_PERSON: "it looks like a different person than your other photos",
    PhotoProblem.PROTECTED: "this face is protected: its owner asked not to have it used",
    PhotoProblem.UNSAFE: "it looks like it shows nudity; please send an everyday photo",
}


def issue_words(issue: Issue) -> str:
    """The engine's own sentence when it wrote one (it names counts and sizes);
    otherwise a short hint for the problem."""
    detail = issue.detail.strip().rstrip(".")
    if len(detail) > 30 and " " in detail:
        return detail[0].lower() + detail[1:] if detail[:2] != "I " else detail
    hint = _PROBLEM_HINT.get(issue.problem, issue.problem.value)
    if not detail or detail.lower() in hint.lower():
        return hint
    return f"{hint} ({detail})"


# --- reference photos (bot/studio/photos.py, uploads.py) -----------------------------------------
def done_button(n: int) -> str:
    return f"Done ({n} photos)"


def not_fetched(error: str) -> str:
    return f"✗ I could not get this file{': ' + error if error else ''}."


def too_big(size_mb: float, limit_mb: float) -> str:
    return f"✗ it is {size_mb:.1f} MB; the limit is {limit_mb:.0f} MB."


EMPTY_FILE = "✗ the file is empty."
ACCEPTED = "✓ accepted."


def enough_photos(n: int) -> str:
    return f"✗ I already have {n} good photos; that's enough."


def same_photo(status: str) -> str:
    was = {"accepted": "accepted", "refused": "refused", "excluded": "left out"}
    return f"✗ same photo as one you already sent ({was.get(status, 'seen')})."


def check_failed(message: str) -> str:
    return f"✗ I couldn't check it ({message}). Please send it again."


CHECK_AGAIN_SOON = " (the engine is busy or stopped). Please send it again in a minute."


def need_more(minimum: int, have: int) -> str:
    return f"I need at least {minimum} good photos; I have {have}. Send a few more."


SET_CHECK_TIMED_OUT = "The photo checker didn't answer in time; press Done again in a minute."


def set_check_failed(message: str) -> str:
    return f"I couldn't compare your photos ({message}). Press Done to try again."


def left_out(name: str) -> str:
    return f"• {name} looks like a different person than the others, so I left it out."


def leaves_too_few(left: int, minimum: int) -> str:
    return f"That leaves {left} good photos; I need {minimum}. Send a few more of the same person."


def photos_ready(n: int) -> str:
    return f"Great, {n} photos of you are ready."


def count_line(accepted: int, minimum: int, maximum: int) -> str:
    if accepted >= maximum:
        return f"{accepted} good photos – that's the most I take. Press Done."
    if accepted >= minimum:
        more = " More help: 10–20 is best." if accepted < 10 else ""
        return f"{accepted} good photos so far. Press Done when you're ready.{more}"
    return f"{accepted} good photo{'s' if accepted != 1 else ''} so far; I need {minimum}."


OUTAGE = (
    "Sorry, the studio can't reach its queue or storage right now. Nothing you sent "
    "before is lost; please try again in a few minutes."
)


_REDONE: dict[str, str] = {"no_face": "no face", "not_alike": "not alike", "copy": "a copy"}


def likeness_words(v: dict | object) -> str:
    """A portrait's likeness in plain words: its score, what it needed, and why earlier
    tries were made again (a variations row; rows from before the gate have no verdict)."""
    row = v if isinstance(v, dict) else dict(v)  # type: ignore[call-overload]
    score, bar, verdict = row.get("likeness"), row.get("threshold"), row.get("verdict")
    if verdict is None:  # made before the per-person gate
        if score is not None:
            return f"likeness {score:.2f}" + ("" if row.get("passed") else " (weaker)")
        return "" if row.get("face_found") else "no face found to compare"
    need = f", needed {bar:.2f}" if bar is not None else ""
    words = {
        "passed": f"likeness {score or 0:.2f}{need}: looks like you",
        "not_alike": f"likeness {score or 0:.2f}{need}: not alike enough",
        "copy": f"likeness {score or 0:.2f}: too close a copy of one of your photos",
        "no_face": "no face found to compare",
        "unchecked": (
            f"likeness {score:.2f}, not checked for this style"
            if score is not None
            else "no face found; likeness not checked for this style"
        ),
    }.get(str(verdict), str(verdict))
    redone = [_REDONE.get(r, r) for r in str(row.get("regenerated") or "").split(",") if r]
    if redone:
        words = f"{len(redone) + 1} tries ({', '.join(redone)}) · {words}"
    return words


RETRY = "Retry with new seeds, or /new for a different portrait."


def withheld_line(n: int) -> str:
    """Said with the results when the safety check withheld variations (no details)."""
    if n == 1:
        return "One portrait was withheld by the safety check."
    return f"{n} portraits were withheld by the safety check."


def copy_withheld(n: int) -> str:
    """An upscaled or labelled copy the safety check withheld."""
    return f"I withheld this copy of #{n}: it did not pass the safety check."


def detail_columns(detail: FaceDetail | None) -> tuple[str | None, float | None]:
    """A variation's face detail pass as its two store columns: why it ran, and the
    likeness it added when its version was kept (None when it was not)."""
    if detail is None:
        return None, None
    before, after = detail.likeness_before, detail.likeness_after
    kept = detail.kept and before is not None and after is not None
    return detail.reason, round(after - before, 3) if kept else None  # type: ignore[operator]


def detail_words(v: dict | object) -> str:
    """A short caption tail when the face detail pass's version was kept ('' otherwise)."""
    row = v if isinstance(v, dict) else dict(v)  # type: ignore[call-overload]
    gain = row.get("detail_gain")
    return "" if gain is None else f" · face retouched ({gain:+.2f})"
