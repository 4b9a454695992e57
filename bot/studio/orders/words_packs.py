"""What the studio says about content packs (prompts/packs/*.toml): the pack step, the
order summary, its progress, one album per look, the contact sheet (plain words)."""

from __future__ import annotations

from sitter.packs import Pack

PACKS_BUTTON = "Packs: several looks in one order"
BACK_TO_STYLES = "◀ Styles"
UNKNOWN_PACK = "I don't know that pack."
NO_PACKS = "There are no packs yet; please choose a style."
PACK_GONE = "That pack is no longer offered; please choose again."
PREVIEW_BUTTON = "Preview in three styles"
PREVIEW_QUESTION = "choose {n} styles to preview (one portrait each):"


def preview_chosen(names: list[str], n: int) -> str:
    if not names:
        return f"Press {n} styles; press one again to take it back."
    return f"Chosen so far: {', '.join(names)} ({len(names)} of {n})."


def _images(n: int) -> str:
    return f"{n} image" + ("" if n == 1 else "s")


def numbers(first: int, last: int) -> str:
    return f"#{first}" if first == last else f"#{first}–#{last}"


def pack_line(pack: Pack) -> str:
    looks = len(pack.looks)
    return (
        f"• {pack.name} ({looks} looks × {pack.images_per_look} = {pack.images} images): "
        f"{pack.description}"
    )


def choose_pack(heading: str, packs: list[Pack]) -> str:
    return heading + "\n" + "\n".join(pack_line(p) for p in packs)


def preview_line() -> str:
    return (
        f"• {PREVIEW_BUTTON}: one portrait in each of three styles you choose (3 images); "
        "then “More like this” makes four of the one you like."
    )


def unknown_pack(text: str, names: str) -> str:
    return f"I don't know the pack “{text}”. Choose one of: {names}."


def pack_summary(pack: Pack, style_names: dict[str, str], asked: list[str]) -> str:
    """The pack, its looks (with their style) and what the person answered once."""
    each = _images(pack.images_per_look)
    lines = [f"Pack: {pack.name} – {len(pack.looks)} looks × {each}"]
    for i, look in enumerate(pack.looks, 1):
        lines.append(f"  {i}. {look.name} ({style_names.get(look.style, look.style)})")
    return "\n".join([*lines, *asked])


def confirm_pack(summary: str, images: int, used: int, quota: int) -> str:
    cost = f"That's {images} images"
    if quota:
        cost += f" of today's {quota} ({used} used so far, {max(0, quota - used)} left)"
    return (
        f"Your order:\n{summary}\n\n{cost}. Each look comes on its own, then a numbered "
        "contact sheet of the whole pack. Queue it?"
    )


def pack_queued(order_id: int, name: str, looks: int, position: int, note: str = "") -> str:
    ahead = "you're next" if position == 1 else f"{position - 1} ahead of you"
    return (
        f"Order #{order_id} ({name}, {looks} looks) is queued: position {position} ({ahead}).{note}"
    )


def pack_painting(order_id: int, name: str, look: str, k: int, n: int, sent: int) -> str:
    done = f" {sent} of {n} sent." if sent else ""
    return f"Order #{order_id} ({name}): painting look {k} of {n}, {look}…{done}"


def pack_finishing(order_id: int, name: str) -> str:
    return f"Order #{order_id} ({name}): putting the contact sheet together…"


def look_album(order_id: int, name: str, look: str, k: int, n: int, first: int, last: int) -> str:
    return (
        f"Order #{order_id} – {name}, look {k} of {n}: {look} ({numbers(first, last)}). "
        "Upscale or label one with the buttons (they come back as files with AI provenance)."
    )


def look_failed(order_id: int, look: str, error: str) -> str:
    return f"Order #{order_id}: the look {look} failed ({error}); the other looks go on."


def contact_sheet_text(order_id: int, name: str, n: int, looks: str) -> str:
    return (
        f"Order #{order_id} – {name}: all {n} portraits, numbered as under the albums "
        f"({looks}). ↻ Retry paints the whole pack again with new seeds. /new for another."
    )


def pack_ready(order_id: int, name: str) -> str:
    return f"Order #{order_id} ({name}) is ready ↓"


def pack_cancelled(order_id: int, sent: int, stopped: int = 0) -> str:
    kept = f" The {sent} looks already sent are yours to keep." if sent else ""
    halted = (
        f" The look being painted was stopped; its {stopped} images count toward today's "
        "limit, as do images already painted."
        if stopped
        else " Only images already painted count toward today's limit."
    )
    return (
        f"Order #{order_id} cancelled: the looks not yet painted are off the queue.{kept}{halted}"
    )


def pack_status(order_id: int, name: str, what: str) -> str:
    return f"Order #{order_id} ({name}): {what}"


def pack_painting_now(k: int, n: int, look: str) -> str:
    return f"painting look {k} of {n} ({look});"


def pack_progress(done: int, looks: int, sent: int) -> str:
    return f"{done} of {looks} looks painted, {sent} sent."


def trying_pack_again(order_id: int, images: int) -> str:
    return f"Painting pack order #{order_id} again with new seeds ({images} images)."
