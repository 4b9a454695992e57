"""The Discord adapter's pieces that need no chat: ids, layout, files, text."""

from __future__ import annotations

import io
import os

import discord
import pytest
from PIL import Image as PILImage

from bot.discord import ids
from bot.discord.components import FreeTextButton, PresetSelect, PressButton, build_view
from bot.discord.files import fit, per_file_limit
from bot.discord.sender import split_text
from bot.studio.core.events import Button


def _custom_ids(view: discord.ui.View) -> list[str]:
    return [c["custom_id"] for row in view.to_components() for c in row["components"]]


def test_core_data_of_64_bytes_fits_a_custom_id_and_more_is_refused_clearly():
    data = "w:12345:preset:" + "x" * 49
    assert len(data) == 64
    assert len(ids.make(ids.PRESS, data)) <= ids.MAX_CUSTOM_ID
    with pytest.raises(ValueError, match="custom ids take 100"):
        ids.make(ids.PRESS, "x" * 95)


def test_result_buttons_fit_discords_grid():
    rows = (
        (Button("Retry", "r:41", "primary"),),
        tuple(Button(f"Upscale {n}", f"u:{n}") for n in range(1, 5)),
        tuple(Button(f"Label {n}", f"l:{n}") for n in range(1, 5)),
        (Button("Report", "rep:7", "danger"),),
    )
    view = build_view(rows)
    assert view is not None
    comps = view.to_components()
    assert len(comps) == 4 and all(len(r["components"]) <= 5 for r in comps)
    assert _custom_ids(view)[:2] == ["sitter:b:r:41", "sitter:b:u:1"]
    assert all(isinstance(i, PressButton) for i in view.children)


def test_many_preset_rows_become_one_menu_and_the_last_row_stays_buttons():
    styles = [Button(f"Style {i}", f"w:3:style:{i}") for i in range(10)]
    nav = (Button("◀ Back", "w:3:back"), Button("✕ Cancel", "w:3:cancel"))
    view = build_view((*[tuple(styles[i : i + 2]) for i in range(0, 10, 2)], nav))
    assert view is not None
    menu, buttons = view.to_components()
    assert [o["label"] for o in menu["components"][0]["options"]] == [b.label for b in styles]
    assert [c["label"] for c in buttons["components"]] == ["◀ Back", "✕ Cancel"]


def test_many_presets_become_a_menu_and_free_text_stays_a_button():
    styles = [Button(f"Style {i}", f"w:3:style:{i}") for i in range(10)]
    rows = (
        *[tuple(styles[i : i + 2]) for i in range(0, 10, 2)],
        (Button("Type my own", "w:3:own", "free_text"),),
        (Button("◀ Back", "w:3:back"), Button("✕ Cancel", "w:3:cancel")),
    )
    view = build_view(rows)
    assert view is not None
    comps = view.to_components()
    assert len(comps) <= 5
    menu = comps[0]["components"][0]
    assert menu["type"] == 3 and [o["value"] for o in menu["options"]] == [b.data for b in styles]
    kinds = {type(i) for i in view.children}
    assert kinds == {PresetSelect, FreeTextButton, PressButton}
    assert "sitter:t:w:3:own" in _custom_ids(view)


def test_a_row_wider_than_five_becomes_a_menu():
    row = tuple(Button(f"P{i}", f"w:1:preset:{i}") for i in range(7))
    view = build_view((row,))
    assert view is not None
    (only,) = view.to_components()
    assert only["components"][0]["type"] == 3 and len(only["components"][0]["options"]) == 7


def _noise_png(side: int) -> bytes:
    img = PILImage.frombytes("RGB", (side, side), os.urandom(side * side * 3))
    buf = io.BytesIO()
    img.save(buf, "PNG", compress_level=1)
    return buf.getvalue()


def test_an_image_over_the_limit_is_reencoded_and_shrunk_until_it_fits():
    data = _noise_png(700)  # noise does not compress: about 1.5 MB
    limit = 300 * 1024
    assert len(data) > limit
    out = fit(data, "portrait-1.png", limit)
    assert out.changed and out.filename == "portrait-1.jpg"
    assert len(out.data) <= limit
    img = PILImage.open(io.BytesIO(out.data))
    assert img.format == "JPEG" and img.width >= 100


def test_an_image_within_the_limit_is_sent_byte_for_byte():
    data = _noise_png(64)
    out = fit(data, "a.png", 10 * 1024 * 1024)
    assert out.data == data and not out.changed


def test_per_file_limit_keeps_a_message_under_25_mib():
    assert per_file_limit(10 * 1024 * 1024, 2) == 10 * 1024 * 1024
    assert per_file_limit(10 * 1024 * 1024, 4) == 25 * 1024 * 1024 // 4
    assert per_file_limit(100 * 1024 * 1024, 5) == 5 * 1024 * 1024


def test_long_text_is_split_on_lines_within_2000_characters():
    text = "\n".join(f"line {i} " + "x" * 90 for i in range(60))
    chunks = split_text(text)
    assert len(chunks) == 3 and all(len(c) <= 2000 for c in chunks)
    assert "".join(c + "\n" for c in chunks).strip() == text
    assert split_text("x" * 4500) == ["x" * 2000, "x" * 2000, "x" * 500]
