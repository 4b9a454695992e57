"""What the studio says about content packs (prompts/packs/*.toml): the pack step, the
order summary, its progress, one album per look, the contact sheet (plain words),
through the catalogs (sitter/i18n.py): constants translated when read."""

from __future__ import annotations

from sitter import i18n
from sitter.i18n import N_, _, ngettext
from sitter.packs import Pack

_WORDS = {
    # LABEL
    "PACKS_BUTTON": N_("Packs: several looks in one order"),
    # LABEL
    "BACK_TO_STYLES": N_("◀ Styles"),
    "UNKNOWN_PACK": N_("I don't know that pack."),
    "NO_PACKS": N_("There are no packs yet; please choose a style."),
    "PACK_GONE": N_("That pack is no longer offered; please choose again."),
    # LABEL
    "PREVIEW_BUTTON": N_("Preview in three styles"),
    "PREVIEW_QUESTION": N_("choose {n} styles to preview (one portrait each):"),
}


def __getattr__(name: str) -> str:
    """The sentence constants above, in the language being spoken."""
    return i18n.attribute(_WORDS, __name__, name)


def preview_chosen(names: list[str], n: int) -> str:
    if not names:
        return _("Press {n} styles; press one again to take it back.").format(n=n)
    return _("Chosen so far: {names} ({k} of {n}).").format(
        names=", ".join(names), k=len(names), n=n
    )


def _images(n: int) -> str:
    return ngettext("{n} image", "{n} images", n).format(n=n)


def numbers(first: int, last: int) -> str:
    return f"#{first}" if first == last else f"#{first}–#{last}"


def pack_line(pack: Pack) -> str:
    looks = len(pack.looks)
    return _("• {name} ({looks} looks × {each} = {images} images): {description}").format(
        name=pack.name,
        looks=looks,
        each=pack.images_per_look,
        images=pack.images,
        description=pack.description,
    )


def choose_pack(heading: str, packs: list[Pack]) -> str:
    return heading + "\n" + "\n".join(pack_line(p) for p in packs)


def preview_line() -> str:
    return _(
        "• {preview}: one portrait in each of three styles you choose (3 images); "
        "then “More like this” makes four of the one you like."
    ).format(preview=_(_WORDS["PREVIEW_BUTTON"]))


def unknown_pack(text: str, names: str) -> str:
    return _("I don't know the pack “{text}”. Choose one of: {names}.").format(
        text=text, names=names
    )


def pack_summary(pack: Pack, style_names: dict[str, str], asked: list[str]) -> str:
    """The pack, its looks (with their style) and what the person answered once."""
    each = _images(pack.images_per_look)
    lines = [
        _("Pack: {name} – {looks} looks × {each}").format(
            name=pack.name, looks=len(pack.looks), each=each
        )
    ]
    for i, look in enumerate(pack.looks, 1):
        lines.append(f"  {i}. {look.name} ({style_names.get(look.style, look.style)})")
    return "\n".join([*lines, *asked])


def confirm_pack(summary: str, images: int, used: int, quota: int) -> str:
    if quota:
        cost = _("That's {images} images of today's {quota} ({used} used so far, {left} left)")
    else:
        cost = _("That's {images} images")
    cost = cost.format(images=images, quota=quota, used=used, left=max(0, quota - used))
    return _(
        "Your order:\n{summary}\n\n{cost}. Each look comes on its own, then a numbered "
        "contact sheet of the whole pack. Queue it?"
    ).format(summary=summary, cost=cost)


def pack_queued(order_id: int, name: str, looks: int, position: int, note: str = "") -> str:
    ahead = _("{n} ahead of you").format(n=position - 1) if position > 1 else _("you're next")
    text = _("Order #{id} ({name}, {looks} looks) is queued: position {position} ({ahead}).")
    return text.format(id=order_id, name=name, looks=looks, position=position, ahead=ahead) + note


def pack_painting(order_id: int, name: str, look: str, k: int, n: int, sent: int) -> str:
    done = " " + _("{sent} of {n} sent.").format(sent=sent, n=n) if sent else ""
    text = _("Order #{id} ({name}): painting look {k} of {n}, {look}…")
    return text.format(id=order_id, name=name, k=k, n=n, look=look) + done


def pack_finishing(order_id: int, name: str) -> str:
    return _("Order #{id} ({name}): putting the contact sheet together…").format(
        id=order_id, name=name
    )


def look_album(order_id: int, name: str, look: str, k: int, n: int, first: int, last: int) -> str:
    return _(
        "Order #{id} – {name}, look {k} of {n}: {look} ({numbers}). "
        "Upscale or label one with the buttons (they come back as files with AI provenance)."
    ).format(id=order_id, name=name, k=k, n=n, look=look, numbers=numbers(first, last))


def look_failed(order_id: int, look: str, error: str) -> str:
    return _("Order #{id}: the look {look} failed ({error}); the other looks go on.").format(
        id=order_id, look=look, error=error
    )


def contact_sheet_text(order_id: int, name: str, n: int, looks: str) -> str:
    return _(
        "Order #{id} – {name}: all {n} portraits, numbered as under the albums "
        "({looks}). ↻ Retry paints the whole pack again with new seeds. /new for another."
    ).format(id=order_id, name=name, n=n, looks=looks)


def pack_ready(order_id: int, name: str) -> str:
    return _("Order #{id} ({name}) is ready ↓").format(id=order_id, name=name)


def pack_cancelled(order_id: int, sent: int, stopped: int = 0) -> str:
    kept = " " + _("The {n} looks already sent are yours to keep.").format(n=sent) if sent else ""
    if stopped:
        halted = _(
            "The look being painted was stopped; its {n} images count toward today's "
            "limit, as do images already painted."
        ).format(n=stopped)
    else:
        halted = _("Only images already painted count toward today's limit.")
    text = _("Order #{id} cancelled: the looks not yet painted are off the queue.")
    return text.format(id=order_id) + kept + " " + halted


def pack_status(order_id: int, name: str, what: str) -> str:
    return _("Order #{id} ({name}): {what}").format(id=order_id, name=name, what=what)


def pack_painting_now(k: int, n: int, look: str) -> str:
    return _("painting look {k} of {n} ({look});").format(k=k, n=n, look=look)


def pack_progress(done: int, looks: int, sent: int) -> str:
    return _("{done} of {looks} looks painted, {sent} sent.").format(
        done=done, looks=looks, sent=sent
    )


def trying_pack_again(order_id: int, images: int) -> str:
    return _("Painting pack order #{id} again with new seeds ({images} images).").format(
        id=order_id, images=images
    )
