"""What the studio says, in one place (plain words, no platform markup).

The failure words live in bot/studio/jobs/words_failures.py and are re-exported here
for the callers that still read them as ``words.X`` (jobs/ among them): the one import
of a feature folder left in the core besides core.py."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.store.base import Row
from bot.store.rows import Portrait
from bot.studio.jobs.words_failures import (  # noqa: F401  (re-exported: one place for words)
    ACCOUNT_SUSPENDED,
    LOST_SEVERAL_TIMES,
    NO_PORTRAITS,
    PORTRAIT_GONE,
    REFERENCES_GONE,
    REMOVED_BY_MODERATOR,
    STOPPED_BY_MODERATOR,
    copy_withheld,
    engine_failure,
    failure_words,
    prompt_too_long,
    stored_failure,
)
from sitter.config import Settings
from sitter.contract import FaceDetail, Issue, PhotoProblem

CONSENT_VERSION = "2026-11-21.1"
CONSENT_TEXT = (
    "These photos are of me, or I have the person's permission to use them. "
    "I will not use Sitter to make sexual images or to deceive anyone about who "
    "a person is or what they did."
)

FREE_TEXT_MAX = 200


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
        "your orders and the portraits I made, a personal model if you asked for one (a "
        "small file learned from your photos, used only for your own orders, deleted with "
        "your photos), how you asked to be described (offered "
        "again on your next order), and when you agreed to the consent text "
        f"(version {CONSENT_VERSION}). A photo I refuse is deleted at once; I keep only its "
        "fingerprint (a hash) and why, so I can tell you if you send it again.\n"
        f"How long: reference photos {ref} days, portraits and your orders (prompts, answers, "
        f"seeds) {res} days; an unfinished wizard {ref} days after your last step; that "
        f"description {ref} days after you last gave it; your "
        f"consent and account once nothing else of yours is left ({ref} days at the "
        "earliest). Then they are deleted on their own.\n"
        "Who sees them: only you, and moderators if someone reports a portrait.\n"
        "Portraits of two people (/together: only with the other person's accepted "
        "invitation) are sent to both; either of you can withdraw or delete them, and "
        "/forget by either of you deletes every portrait of the two of you, for both. "
        "Your photos are never shown to the other person.\n"
        "Delete everything now: /forget. After /forget I keep only: the moderation log "
        "(what was reported and decided, naming you by a number that no longer leads to "
        "you, without anything you typed); reports other people made about your portraits "
        "(their words, no image); until midnight UTC a keyed fingerprint of your account "
        "with today's image count, so the daily limit still holds after /forget (whoever "
        "holds the studio's database and its key could test a given account against it "
        "until then: it is a pseudonym, not anonymous); and, if a "
        "moderator banned you, your account id and the ban."
    )


_COUNT = dict(enumerate(("no", "one", "two", "three", "four", "five", "six", "seven", "eight")))


def help_text(questions: int) -> str:
    """/help; ``questions``: the wizard's steps, as the conversation table counts them."""
    return HELP.replace(
        "five short questions", f"{_COUNT.get(questions, questions)} short questions"
    )


HELP = (
    "How it works: /start, agree, send photos of yourself (10–20 is best), press Done, "
    "answer five short questions, confirm, and wait for four portraits.\n"
    "Packs: at the style step, “Packs” paints several looks in one order (a creator set, "
    "LinkedIn headshots, avatars), one album per look plus a numbered contact sheet; "
    "“Preview in three styles” paints one portrait in each of three styles you choose, "
    "and “More like #N” under one of them makes four more of it.\n"
    "The daily limit counts images: a portrait order is 4, a pack one per image it "
    "paints; the order summary says how many before you queue it, and /status how many "
    "are left today.\n\n"
    "Commands:\n"
    "/start – begin or continue where you were\n"
    "/new – another portrait with the same photos\n"
    "/photos – your reference photos: see them, remove one, add more or start anew\n"
    "/done – finish sending photos (the same as the Done button)\n"
    "/status – where your order is\n"
    "/portraits – your portraits still kept, to see them again\n"
    "/train – a personal model learned from your photos (optional, with enough photos)\n"
    "/personal – /personal on or off: use your personal model in your orders, or not\n"
    "/cancel – cancel the current step or your queued order\n"
    "/privacy – what I keep and for how long\n"
    "/forget – delete all your photos, orders and portraits\n"
    "/report – report a portrait that uses your face without consent\n"
    "/protect – send a selfie so nobody else can use photos of your face here\n"
    "/unprotect – lift that protection"
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


# Said only in the bot's own words, whatever the engine's detail says: a protected face
# is refused neutrally (never "matches the face of ..."), and the others name a person
# or a body, where the engine's sentence could say more than the person should read.
NEUTRAL_ONLY = frozenset(
    {PhotoProblem.PROTECTED, PhotoProblem.DIFFERENT_PERSON, PhotoProblem.UNSAFE}
)
DETAIL_MAX = 160


def issue_words(issue: Issue) -> str:
    """The engine's own sentence when it wrote one (it names counts and sizes, e.g.
    "I see 3 faces"), except for the problems in :data:`NEUTRAL_ONLY`; otherwise a
    short hint for the problem."""
    if issue.problem in NEUTRAL_ONLY:
        return _PROBLEM_HINT[issue.problem]
    detail = " ".join(issue.detail.split())[:DETAIL_MAX].rstrip(".")
    if len(detail) > 30 and " " in detail:
        return detail[0].lower() + detail[1:] if detail[:2] != "I " else detail
    hint = _PROBLEM_HINT.get(issue.problem, issue.problem.value)
    if not detail or detail.lower() in hint.lower():
        return hint
    return f"{hint} ({detail})"


# --- reference photos (bot/studio/photos/photos.py, uploads.py) -----------------------------------
def done_button(n: int) -> str:
    return f"Done ({n} photos)"


def not_fetched(error: str) -> str:
    return f"✗ I could not get this file{': ' + error if error else ''}."


def too_big(size_mb: float, limit_mb: float) -> str:
    return f"✗ it is {size_mb:.1f} MB; the limit is {limit_mb:.0f} MB."


def too_long(width: int, height: int, limit: int) -> str:
    return f"✗ it is {width}×{height} pixels; I take pictures up to {limit:,} pixels on a side."


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


def left_out(name: str, first_person: bool = False) -> str:
    if first_person:
        return f"• {name} shows someone else than your first photos, so I left it out."
    return f"• {name} looks like a different person than the others, so I left it out."


PROTECT_REQUEST_OPEN = (
    "Your earlier request to protect a face is still with the moderators; I'll tell you "
    "what they decide. I didn't keep this selfie."
)


def protect_request_sent(rid: int, posted: bool) -> str:
    """/protect with a selfie that doesn't match the person's own reference photos."""
    later = "" if posted else " (I'll pass it on as soon as I can reach them)"
    return (
        "I can protect a face at once only when it matches your own accepted reference "
        "photos (send them with /photos first), so nobody can lock someone else out. I've "
        f"sent your request to the moderators as report #{rid}{later}: they'll look at it "
        "and protect the face if it is yours. I kept only its measurements, never the photo."
    )


FIRST_PERSON_KEPT = (
    "Your photos show two people (or more), and no one is in most of them. A set holds one "
    "person, so I kept the person you started with. If that's the wrong one, remove their "
    "photos in /photos, or start a new set."
)


def taken_back(name: str) -> str:
    """A photo set aside earlier that the set's majority now agrees with."""
    return f"• {name} counts after all: most of your photos show that person."


SAME_FACE_ASIDE = (
    "✗ that's the same picture as one I set aside (another person than the rest), "
    "edited (cropped, turned, framed or retouched); it counts once."
)
SAME_PICTURE_ASIDE = (
    "✗ that's the same picture as one I set aside (another person than the rest), at "
    "another size; it counts once."
)


def same_picture(n: int) -> str:
    """A near duplicate (engine/near_duplicate.py) of photo ``n`` of the set."""
    return f"✗ that's the same picture as photo {n}, at another size; it counts once."


def leaves_too_few(left: int, minimum: int) -> str:
    return f"That leaves {left} good photos; I need {minimum}. Send a few more of the same person."


def refused(why: str) -> str:
    return "✗ " + (why or "it can't be used") + "."


# After "✗ looks like a different person": the photo is kept, not thrown away.
SET_ASIDE = (
    "I keep it set aside, unused (it counts after all if most of your photos show that "
    "person; /photos lists it, Start a new set deletes it)."
)


# The verdict when the checker did not answer (uploads.run_burst looks for it).
CHECKER_TIMED_OUT = "✗ the photo checker didn't answer in time"
ENGINE_DOWN = (
    "The studio's engine is not running right now, so I can't check photos. "
    "{kept} When it is back, send /done (or more photos) and I'll check them then."
)


def engine_down(kept: int) -> str:
    if kept:
        what = f"I kept your {kept} photo{'s' if kept != 1 else ''} unchecked."
    else:
        what = "Photos you already sent are kept."
    return ENGINE_DOWN.format(kept=what)


def over_cap(cap: int, left: int) -> str:
    return (
        f"I look at {cap} files per message at most, so I left the other "
        f"{left} alone (not stored). Send your best 10–20 photos."
    )


def turned_away(refused_today: int, more: int) -> str:
    return (
        f"I've refused {refused_today} files from you today, so I "
        f"didn't look at {more} more. Send a few good photos tomorrow."
    )


MOVED_ON = "You moved on, so I stopped checking the rest of that message."


def photos_ready(n: int) -> str:
    return f"Great, {n} photos of you are ready."


def count_line(accepted: int, minimum: int, maximum: int) -> str:
    if accepted >= maximum:
        return f"{accepted} good photos – that's the most I take. Press Done."
    if accepted >= minimum:
        more = " More photos help: 10–20 is best." if accepted < 10 else ""
        return f"{accepted} good photos so far. Press Done when you're ready.{more}"
    return f"{accepted} good photo{'s' if accepted != 1 else ''} so far; I need {minimum}."


OUTAGE = (
    "Sorry, the studio can't reach its queue or storage right now. Nothing you sent "
    "before is lost; please try again in a few minutes."
)
BUSY = (
    "Sorry, the studio is busy right now: another program is using its database. Nothing "
    "was lost; please press the button or send it again in a minute."
)


_REDONE: dict[str, str] = {
    "no_face": "no face",
    "not_alike": "not alike",
    "copy": "a copy",
    "one_face": "one person missing",  # a portrait of two (issue 24)
    "stranger": "a stranger's face",
}


def likeness_words(v: Portrait | Row | Mapping[str, Any]) -> str:
    """A portrait's likeness in plain words: its score, what it needed, and why earlier
    tries were made again (a variations row; rows from before the gate have no verdict)."""
    row = v if isinstance(v, Mapping) else dict(v)  # a Portrait reads as its columns
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
        "one_face": "only one of the two people could be found",
        "stranger": "a face that looks like neither of you",
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


def detail_columns(detail: FaceDetail | None) -> tuple[str | None, float | None]:
    """A variation's face detail pass as its two store columns: why it ran, and the
    likeness it added when its version was kept (None when it was not)."""
    if detail is None:
        return None, None
    before, after = detail.likeness_before, detail.likeness_after
    kept = detail.kept and before is not None and after is not None
    return detail.reason, round(after - before, 3) if kept else None  # type: ignore[operator]


def detail_words(v: Portrait | Row | Mapping[str, Any]) -> str:
    """A short caption tail when the face detail pass's version was kept ('' otherwise)."""
    row = v if isinstance(v, Mapping) else dict(v)
    gain = row.get("detail_gain")
    return "" if gain is None else f" · face retouched ({gain:+.2f})"
