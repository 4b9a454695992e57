"""The messages that bring an order's outcome: its portraits, or its failure."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from bot.store.rows import Portrait
from bot.store.store import Row
from bot.studio.core import buttons as b
from bot.studio.core import words
from bot.studio.core import words_chat as w
from bot.studio.core.events import Button, Image, Reply
from bot.studio.core.services import Services
from bot.studio.core.words import detail_columns, detail_words, likeness_words
from bot.studio.jobs import words_failures as wf
from bot.studio.orders import buttons as ob
from bot.studio.personal import words_personal as wpm
from bot.studio.pets import words_pets as wpt
from bot.studio.portrait import buttons as pb
from bot.studio.portrait import followups
from bot.studio.portrait import words_portrait as wp
from bot.studio.wizard.looks import format_label
from sitter import contract as c
from sitter.packs import pack_name


def variation_columns(v: c.Variation) -> tuple[Any, ...]:
    """A delivered variation's judged values, in ``Store.add_variation``'s order after the
    file: likeness, face, pass, attempts, verdict, bar, why it was redone, detail pass."""
    return (
        v.likeness,
        v.face_found,
        v.passed,
        v.attempts,
        v.verdict.value if v.verdict else None,
        v.threshold,
        ",".join(r.value for r in v.regenerated_for),
        *detail_columns(v.detail),
    )


def results_reply(
    s: Services, order: Row, variations: Sequence[Portrait], withheld: int = 0
) -> Reply:
    style = s.prompts.styles.get(order["style"])
    pet = str(dict(order).get("pet_name") or "")  # a pet's portrait names the pet
    images = []
    for v in variations:
        if not v.kept:
            continue
        likeness = likeness_words(v, pet)  # score and reason in plain words
        cap = f"#{v.idx}" + (f" · {likeness}" if likeness else "") + detail_words(v)
        images.append(Image(s.store.media.path(v.path or ""), caption=cap))
    rows: list[tuple[Button, ...]] = [
        (Button(w.RETRY_BUTTON, ob.retry(order["id"]), "primary"),),
        *followups.buttons(variations),
    ]
    if s.plugin is not None:
        rows.append(
            tuple(Button(w.REPORT_BUTTON.format(n=v.idx), b.report(v.id)) for v in variations)
        )
    # Avatar, vary and relight: one "More N…" per portrait (Discord takes 5 rows).
    rows.append(tuple(Button(wp.MORE_BUTTON.format(n=v.idx), pb.menu(v.id)) for v in variations))
    name = style.name if style else order["style"]
    pack = order["pack"] if "pack" in order.keys() else None  # noqa: SIM118
    if pack:  # a pack's row holds its first look's style: the pack's name instead
        name = pack_name(s.packs, pack)
    # sqlite3.Row: "in" looks at values, keys() at the columns (tests pass plain dicts too)
    aspect = order["aspect"] if "aspect" in order.keys() else None  # noqa: SIM118
    if fmt := format_label(s.prompts, aspect):  # "Cinematic, Story 9:16"
        name = f"{name}, {fmt}"
    if pet:  # "Watercolor, of Rex"
        name = wpt.results_name(name, pet)
    text = w.results_text(order["id"], name, len(images))
    row = dict(order)  # (an order from before migration 0011 reads as a plain one)
    if row.get("personal"):  # painted with the person's personal model (0017)
        text += "\n" + wpm.RESULTS_LINE
    if row.get("kind", "order") != "order" and row.get("refine"):  # vary/relight: what, of what
        asked = json.loads(row["refine"])
        done = wp.refined_text(
            row["kind"],
            int(asked.get("of_order", 0)),
            int(asked.get("of_idx", 0)),
            asked.get("strength", ""),
            asked.get("lighting", ""),
        )
        text = done + "\n" + text
    if any(w.NO_FACE in i.caption for i in images):  # said once, not under each portrait
        text += "\n" + w.NO_FACE_EXPLAINED
    if withheld and not images:
        text = f"Order #{order['id']} – {name}: {words.withheld_line(withheld)} {words.RETRY}"
        rows = rows[:1]
    elif withheld:
        text += " " + words.withheld_line(withheld)
    return Reply(text=text, images=tuple(images), buttons=tuple(rows))


def failure_reply(order: Row) -> Reply:
    return Reply(
        text=w.order_failed(order["id"], wf.stored_failure(order["error"])),
        buttons=((Button(w.TRY_AGAIN_BUTTON, ob.retry(order["id"]), "primary"),),),
    )
