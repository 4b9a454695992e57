"""What the studio says, in one place (plain words, no platform markup).

The failure words live with their owner, bot/studio/jobs/words_failures.py: callers
import them from there."""

from __future__ import annotations

from bot.studio.core.words_results import (  # noqa: F401  (re-exported: one place for words)
    detail_columns,
    detail_words,
    likeness_words,
    withheld_line,
)
from sitter import i18n
from sitter.config import Settings
from sitter.contract import Issue, PhotoProblem
from sitter.i18n import N_, _, format_number, ngettext

CONSENT_VERSION = "2026-11-21.1"
# Recorded as agreed in English (the source); shown translated (welcome).
CONSENT_TEXT = N_(
    "These photos are of me, or I have the person's permission to use them. "
    "I will not use Sitter to make sexual images or to deceive anyone about who "
    "a person is or what they did."
)

FREE_TEXT_MAX = 200


def welcome(settings: Settings) -> str:
    return _(
        "Hi! I'm Sitter, a portrait studio. Send me a few photos of yourself, pick a "
        "style, attire, setting, lighting and framing, and I'll paint four portraits "
        "that look like you.\n\n"
        "Privacy: your photos are used only for your portraits. Reference photos are "
        "deleted after {ref} days, results after {res} days, and /forget deletes "
        "everything at once.\n\n"
        "Before we start, please confirm:\n“{consent}”"
    ).format(
        ref=settings.reference_retention_days,
        res=settings.result_retention_days,
        consent=_(CONSENT_TEXT),
    )


def privacy(settings: Settings) -> str:
    ref, res = settings.reference_retention_days, settings.result_retention_days
    return _(
        "What I keep: the photos you send (to learn your face), their face measurements, "
        "your orders and the portraits I made, a personal model if you asked for one (a "
        "small file learned from your photos, used only for your own orders, deleted with "
        "your photos), how you asked to be described (offered "
        "again on your next order), and when you agreed to the consent text "
        "(version {version}). A photo I refuse is deleted at once; I keep only its "
        "fingerprint (a hash) and why, so I can tell you if you send it again.\n"
        "How long: reference photos {ref} days, portraits and your orders (prompts, answers, "
        "seeds) {res} days; an unfinished wizard {ref} days after your last step; that "
        "description {ref} days after you last gave it; your "
        "consent and account once nothing else of yours is left ({ref} days at the "
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
    ).format(version=CONSENT_VERSION, ref=ref, res=res)


_NUMBERS = [N_("no"), N_("one"), N_("two"), N_("three"), N_("four"), N_("five"), N_("six")]
_COUNT = dict(enumerate([*_NUMBERS, N_("seven"), N_("eight")]))


def help_text(questions: int) -> str:
    """/help; ``questions``: the wizard's steps, as the conversation table counts them."""
    count = _(_COUNT[questions]) if questions in _COUNT else str(questions)
    return _(HELP).format(questions=count)


HELP = N_(
    "How it works: /start, agree, send photos of yourself (10–20 is best), press Done, "
    "answer {questions} short questions, confirm, and wait for four portraits.\n"
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
    "/pet – a portrait of your cat or dog: its own set of photos, kept beside yours\n"
    "/done – finish sending photos (the same as the Done button)\n"
    "/status – where your order is\n"
    "/portraits – your portraits still kept, to see them again\n"
    "/train – a personal model learned from your photos (optional, with enough photos)\n"
    "/personal – /personal on or off: use your personal model in your orders, or not\n"
    "/together – a portrait of two people: an invitation to pass on, or yours to answer\n"
    "/cancel – cancel the current step or your queued order\n"
    "/privacy – what I keep and for how long\n"
    "/forget – delete all your photos, orders and portraits\n"
    "/language – the language I speak with you\n"
    "/report – report a portrait that uses your face without consent\n"
    "/protect – send a selfie so nobody else can use photos of your face here\n"
    "/unprotect – lift that protection"
)

ASK_PHOTOS = N_(
    "Send me photos of yourself: at least {min}, 10–20 is best. Good ones show only you, "
    "your face clearly and large, in different light and from slightly different angles; "
    "no sunglasses, no heavy filters. You can send several at once."
)

# A pet's photo refused, with its reason (issue 25; bot/studio/pets/ speaks of pets).
PET_PROBLEMS: dict[PhotoProblem, str] = {
    PhotoProblem.NO_PET: N_("I can't find a cat or a dog in it"),
    PhotoProblem.SEVERAL_PETS: N_("there is more than one animal; send photos of this pet alone"),
    PhotoProblem.PET_TOO_SMALL: N_("the animal is too small in it; come closer or crop it"),
    PhotoProblem.PERSON_IN_PET_PHOTO: N_(
        "there is a person in it; a pet's set takes photos of the pet alone"
    ),
    PhotoProblem.WRONG_SPECIES: N_("it shows another kind of animal than this pet's set"),
}


_PROBLEM_HINT: dict[PhotoProblem, str] = {
    PhotoProblem.UNREADABLE: N_("I could not read it as an image"),
    PhotoProblem.TOO_LARGE: N_("it is too large"),
    PhotoProblem.UNSUPPORTED: N_("I can't use this kind of file"),
    PhotoProblem.LOW_RESOLUTION: N_("the resolution is too low"),
    PhotoProblem.NO_FACE: N_("I can't find a face in it"),
    PhotoProblem.SEVERAL_FACES: N_("there is more than one face; send photos with only you"),
    PhotoProblem.FACE_TOO_SMALL: N_("your face is too small; come closer or crop it"),
    PhotoProblem.BLURRY: N_("it is blurry"),
    PhotoProblem.TOO_DARK: N_("it is too dark"),
    PhotoProblem.OVEREXPOSED: N_("it is overexposed"),
    PhotoProblem.EXTREME_ANGLE: N_("the face is turned too far away"),
    PhotoProblem.DIFFERENT_PERSON: N_("it looks like a different person than your other photos"),
    PhotoProblem.PROTECTED: N_("this face is protected: its owner asked not to have it used"),
    PhotoProblem.UNSAFE: N_("it looks like it shows nudity; please send an everyday photo"),
    **PET_PROBLEMS,  # a pet's set (issue 25)
}


# Said only in the bot's own words, whatever the engine's detail says: a protected face
# is refused neutrally (never "matches the face of ..."), and the others name a person
# or a body, where the engine's sentence could say more than the person should read.
NEUTRAL_ONLY = frozenset(
    {PhotoProblem.PROTECTED, PhotoProblem.DIFFERENT_PERSON, PhotoProblem.UNSAFE}
) | {PhotoProblem.PERSON_IN_PET_PHOTO}  # (a pet's photo: the person in it is not described)
DETAIL_MAX = 160


def issue_words(issue: Issue) -> str:
    """The engine's own sentence when it wrote one (it names counts and sizes, e.g.
    "I see 3 faces"), except for the problems in :data:`NEUTRAL_ONLY`; otherwise a
    short hint for the problem."""
    if issue.problem in NEUTRAL_ONLY:
        return _(_PROBLEM_HINT[issue.problem])
    detail = " ".join(issue.detail.split())[:DETAIL_MAX].rstrip(".")
    if len(detail) > 30 and " " in detail:
        return detail[0].lower() + detail[1:] if detail[:2] != "I " else detail
    hint = (
        _(_PROBLEM_HINT[issue.problem]) if issue.problem in _PROBLEM_HINT else issue.problem.value
    )
    if not detail or detail.lower() in hint.lower():
        return hint
    return f"{hint} ({detail})"


# --- reference photos (bot/studio/photos/photos.py, uploads.py) -----------------------------------
def done_button(n: int) -> str:
    # LABEL
    return _("Done ({n} photos)").format(n=n)


def not_fetched(error: str) -> str:
    if error:
        return _("✗ I could not get this file: {error}.").format(error=error)
    return _("✗ I could not get this file.")


def too_big(size_mb: float, limit_mb: float) -> str:
    return _("✗ it is {size} MB; the limit is {limit} MB.").format(
        size=format_number(round(size_mb, 1)), limit=format_number(round(limit_mb))
    )


def too_long(width: int, height: int, limit: int) -> str:
    return _(
        "✗ it is {width}×{height} pixels; I take pictures up to {limit} pixels on a side."
    ).format(width=width, height=height, limit=format_number(limit))


_WORDS = {
    "EMPTY_FILE": N_("✗ the file is empty."),
    "ACCEPTED": N_("✓ accepted."),
    "CHECK_AGAIN_SOON": N_(" (the engine is busy or stopped). Please send it again in a minute."),
    "SET_CHECK_TIMED_OUT": N_(
        "The photo checker didn't answer in time; press Done again in a minute."
    ),
    "SET_ASIDE": N_(
        "I keep it set aside, unused (it counts after all if most of your photos show that "
        "person; /photos lists it, Start a new set deletes it)."
    ),
    "MOVED_ON": N_("You moved on, so I stopped checking the rest of that message."),
    "OUTAGE": N_(
        "Sorry, the studio can't reach its queue or storage right now. Nothing you sent "
        "before is lost; please try again in a few minutes."
    ),
    "BUSY": N_(
        "Sorry, the studio is busy right now: another program is using its database. Nothing "
        "was lost; please press the button or send it again in a minute."
    ),
    "RETRY": N_("Retry with new seeds, or /new for a different portrait."),
}


def __getattr__(name: str) -> str:
    """The sentence constants above, in the language being spoken."""
    return i18n.attribute(_WORDS, __name__, name)


def enough_photos(n: int) -> str:
    return _("✗ I already have {n} good photos; that's enough.").format(n=n)


def same_photo(status: str) -> str:
    was = {"accepted": N_("accepted"), "refused": N_("refused"), "excluded": N_("left out")}
    return _("✗ same photo as one you already sent ({was}).").format(
        was=_(was.get(status, N_("seen")))
    )


def check_failed(message: str) -> str:
    return _("✗ I couldn't check it ({message}). Please send it again.").format(message=message)


def need_more(minimum: int, have: int) -> str:
    return _("I need at least {minimum} good photos; I have {have}. Send a few more.").format(
        minimum=minimum, have=have
    )


def set_check_failed(message: str) -> str:
    return _("I couldn't compare your photos ({message}). Press Done to try again.").format(
        message=message
    )


def left_out(name: str, first_person: bool = False) -> str:
    if first_person:
        text = _("• {name} shows someone else than your first photos, so I left it out.")
    else:
        text = _("• {name} looks like a different person than the others, so I left it out.")
    return text.format(name=name)


_PROTECT_OPEN = N_(
    "Your earlier request to protect a face is still with the moderators; I'll tell you "
    "what they decide. I didn't keep this selfie."
)


def protect_request_sent(rid: int, posted: bool) -> str:
    """/protect with a selfie that doesn't match the person's own reference photos."""
    later = "" if posted else _(" (I'll pass it on as soon as I can reach them)")
    return _(
        "I can protect a face at once only when it matches your own accepted reference "
        "photos (send them with /photos first), so nobody can lock someone else out. I've "
        "sent your request to the moderators as report #{rid}{later}: they'll look at it "
        "and protect the face if it is yours. I kept only its measurements, never the photo."
    ).format(rid=rid, later=later)


_FIRST_PERSON_KEPT = N_(
    "Your photos show two people (or more), and no one is in most of them. A set holds one "
    "person, so I kept the person you started with. If that's the wrong one, remove their "
    "photos in /photos, or start a new set."
)


def taken_back(name: str) -> str:
    """A photo set aside earlier that the set's majority now agrees with."""
    return _("• {name} counts after all: most of your photos show that person.").format(name=name)


_SAME_FACE_ASIDE = N_(
    "✗ that's the same picture as one I set aside (another person than the rest), "
    "edited (cropped, turned, framed or retouched); it counts once."
)
_SAME_PICTURE_ASIDE = N_(
    "✗ that's the same picture as one I set aside (another person than the rest), "
    "resized, recompressed or mirrored; it counts once."
)
_WORDS |= {
    "PROTECT_REQUEST_OPEN": _PROTECT_OPEN,
    "FIRST_PERSON_KEPT": _FIRST_PERSON_KEPT,
    "SAME_FACE_ASIDE": _SAME_FACE_ASIDE,
    "SAME_PICTURE_ASIDE": _SAME_PICTURE_ASIDE,
}


def same_picture(n: int) -> str:
    """A near duplicate (engine/near_duplicate.py) of photo ``n`` of the set."""
    return _(
        "✗ that's the same picture as photo {n}, resized, recompressed or mirrored; it counts once."
    ).format(n=n)


def leaves_too_few(left: int, minimum: int) -> str:
    return _(
        "That leaves {left} good photos; I need {minimum}. Send a few more of the same person."
    ).format(left=left, minimum=minimum)


def refused(why: str) -> str:
    return "✗ " + (why or _("it can't be used")) + "."


# The verdict when the checker did not answer (uploads.run_burst looks for it).
CHECKER_TIMED_OUT = "✗ the photo checker didn't answer in time"
ENGINE_DOWN = N_(
    "The studio's engine is not running right now, so I can't check photos. "
    "{kept} When it is back, send /done (or more photos) and I'll check them then."
)


def engine_down(kept: int) -> str:
    if kept:
        what = ngettext(
            "I kept your {n} photo unchecked.", "I kept your {n} photos unchecked.", kept
        ).format(n=kept)
    else:
        what = _("Photos you already sent are kept.")
    return _(ENGINE_DOWN).format(kept=what)


def over_cap(cap: int, left: int) -> str:
    return _(
        "I look at {cap} files per message at most, so I left the other "
        "{left} alone (not stored). Send your best 10–20 photos."
    ).format(cap=cap, left=left)


def turned_away(refused_today: int, more: int) -> str:
    return _(
        "I've refused {refused} files from you today, so I "
        "didn't look at {more} more. Send a few good photos tomorrow."
    ).format(refused=refused_today, more=more)


def photos_ready(n: int) -> str:
    return _("Great, {n} photos of you are ready.").format(n=n)


def count_line(accepted: int, minimum: int, maximum: int) -> str:
    if accepted >= maximum:
        return _("{n} good photos – that's the most I take. Press Done.").format(n=accepted)
    if accepted >= minimum:
        more = _(" More photos help: 10–20 is best.") if accepted < 10 else ""
        so_far = ngettext(
            "{n} good photo so far. Press Done when you're ready.",
            "{n} good photos so far. Press Done when you're ready.",
            accepted,
        )
        return so_far.format(n=accepted) + more
    return ngettext(
        "{n} good photo so far; I need {minimum}.",
        "{n} good photos so far; I need {minimum}.",
        accepted,
    ).format(n=accepted, minimum=minimum)
