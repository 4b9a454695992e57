"""Orders: queue position, one active order, cancel while queued, /status, quota.

On the in-memory engine (tests/fake_engine.py): these are about the conversation;
cancelling on the real queue is tests/test_robust_orders.py's."""

from __future__ import annotations

import pytest
from fake_engine import FakeEngine
from studio_harness import (
    Chat,
    astronaut_set,
)

from bot.studio.core.core import Studio
from bot.studio.core.events import Who


@pytest.fixture
def studio(fake_studio: Studio) -> Studio:
    return fake_studio


WIZARD = (
    "Professional headshot",
    "Business suit",
    "Office",
    "Soft daylight",
    "Headshot",
    "Skip",
    "Square 1:1 (avatars)",
)


async def test_queue_position_one_active_order_and_cancel(
    studio: Studio, fake_engine: FakeEngine
) -> None:
    chat = Chat(studio, Who("terminal", "max", "max-chat", "Max"))
    await chat.send("/start")
    await chat.press("I agree")
    await chat.files(astronaut_set())
    await chat.press("Done")
    fake_engine.stop()  # nobody serves the queue: orders stay queued
    for label in WIZARD:
        await chat.press(label)
    [progress] = await chat.press("✓ Queue it")
    assert "is queued: position 1 (you're next)" in progress.text
    assert progress.edit_key and progress.edit_key.startswith("order-")
    cancel_data = chat.button("Cancel order", [progress])

    [status] = await chat.send("/status")
    assert "queued, position 1" in status.text and "Images today: 4 of 12" in status.text

    # A second order while one is active: refused, clearly.
    await chat.send("/new")
    for label in WIZARD:
        await chat.press(label)
    [refused] = await chat.press("✓ Queue it")
    assert "already have an order in progress" in refused.text

    # Someone else cannot cancel it.
    other = Chat(studio, Who("terminal", "nia", "nia-chat", "Nia"))
    [no] = await other.press("Cancel order", [progress])
    assert no.text == "This portrait belongs to someone else."

    [cancelled] = await chat.press("Cancel order", [progress])
    assert "cancelled" in cancelled.text and cancelled.edit_key == progress.edit_key
    assert chat.button("Cancel order", [progress]) == cancel_data
    [twice] = await chat.press("Cancel order", [progress])
    assert "already cancelled" in twice.text
    assert await studio.engine.queue_depth("gpu") == 0

    # Cancelled orders don't count toward the daily quota; now a new one is accepted.
    [status] = await chat.send("/status")
    assert "Images today: 0 of 12" in status.text
    await chat.send("/new")
    for label in WIZARD:
        await chat.press(label)
    [progress2] = await chat.press("✓ Queue it")
    assert "is queued" in progress2.text
    # /cancel outside the wizard cancels the queued order.
    [via_command] = await chat.send("/cancel")
    assert "cancelled" in via_command.text


async def test_help_privacy_and_unknown_press(studio: Studio) -> None:
    chat = Chat(studio, Who("terminal", "ola", "ola-chat", "Ola"))
    [help_] = await chat.send("/help")
    assert "/forget" in help_.text and "/status" in help_.text
    [privacy] = await chat.send("/privacy")
    assert "30 days" in privacy.text and "90 days" in privacy.text and "/forget" in privacy.text
    [r] = await chat.send("/forget")
    assert "cannot be undone" in r.text
    # The delete button goes stale once the session moves on.
    await chat.send("/start")
    replies = await chat.press("I agree")
    [stale] = await chat.press("Yes, delete everything", [r])
    assert "earlier message" in stale.text
    assert replies
