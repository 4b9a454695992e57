"""The numbered contact sheet: a grid of the pictures, each tile recognisably its picture."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from bot.studio.photos.contact_sheet import GAP, MAX_COLS, contact_sheet


def _solid(rgb: tuple[int, int, int], size: tuple[int, int] = (300, 400)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, rgb).save(buf, "PNG")
    return buf.getvalue()


def test_tiles_sit_in_reading_order_with_their_own_picture() -> None:
    colours = [(200, 30, 30), (30, 200, 30), (30, 30, 200), (200, 200, 30), (30, 200, 200)]
    sheet = Image.open(io.BytesIO(contact_sheet([_solid(c) for c in colours], tile=128)))
    assert sheet.size == (MAX_COLS * 128 + 5 * GAP, 2 * 128 + 3 * GAP)
    px = np.asarray(sheet.convert("RGB")).astype(int)
    for i, c in enumerate(colours):
        x = GAP + (i % MAX_COLS) * (128 + GAP) + 100  # right part of the tile: off the number
        y = GAP + (i // MAX_COLS) * (128 + GAP) + 100
        assert np.abs(px[y, x] - np.array(c)).max() < 25, (i, px[y, x])
    # the number badge is drawn: dark pixels in the tile's top-left corner
    corner = px[GAP * 2 : GAP * 2 + 16, GAP * 2 : GAP * 2 + 16]
    assert corner.min() < 60


def test_an_empty_set_or_a_pixel_bomb_is_refused_plainly() -> None:
    with pytest.raises(ValueError, match="no pictures"):
        contact_sheet([])
    bomb = io.BytesIO()
    Image.new("1", (9000, 9000)).save(bomb, "PNG")
    with pytest.raises(ValueError, match="too large"):
        contact_sheet([bomb.getvalue()])
