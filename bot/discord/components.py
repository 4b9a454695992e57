"""Persistent components: buttons, preset menus and the free-text modal.

They are ``DynamicItem``s: discord.py rebuilds them from the custom id alone, so
a button sent before a restart still works after it. The state behind a press is
the core's (its data in the id, its database); these classes only route.
"""

from __future__ import annotations

import re
from typing import Any, cast

import discord

from bot.discord import ids
from bot.discord.host import ClientHost
from bot.studio.core.events import Button

MAX_ROWS = 5
MAX_PER_ROW = 5
MAX_OPTIONS = 25
BUTTON_LABEL = 80
MODAL_TITLE = 45
FREE_TEXT_MAX = 400

STYLES = {
    "choice": discord.ButtonStyle.secondary,
    "primary": discord.ButtonStyle.primary,
    "danger": discord.ButtonStyle.danger,
    "free_text": discord.ButtonStyle.secondary,
}


def _client(interaction: discord.Interaction) -> ClientHost:
    # Every interaction here reaches our own client (SitterClient), which is a ClientHost.
    return cast(ClientHost, interaction.client)


class PressButton(discord.ui.DynamicItem[discord.ui.Button], template=ids.PRESS_TEMPLATE):
    """A core button: pressing it hands the core a Press with its data."""

    def __init__(self, data: str, label: str = "…", style: discord.ButtonStyle | None = None):
        super().__init__(
            discord.ui.Button(
                label=label[:BUTTON_LABEL],
                style=style or discord.ButtonStyle.secondary,
                custom_id=ids.make(ids.PRESS, data),
            )
        )
        self.data = data

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> PressButton:
        assert isinstance(item, discord.ui.Button)  # the template's own kind
        return cls(match["data"], item.label or "…", item.style)

    async def callback(self, interaction: discord.Interaction) -> None:
        await _client(interaction).on_press(interaction, self.data)


class FreeTextButton(discord.ui.DynamicItem[discord.ui.Button], template=ids.FREE_TEXT_TEMPLATE):
    """A core button of kind free_text: opens a modal (the modal is the acknowledgement)."""

    def __init__(self, data: str, label: str = "…"):
        super().__init__(
            discord.ui.Button(
                label=label[:BUTTON_LABEL],
                style=discord.ButtonStyle.secondary,
                emoji="✏️",
                custom_id=ids.make(ids.FREE_TEXT, data),
            )
        )
        self.data = data

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> FreeTextButton:
        assert isinstance(item, discord.ui.Button)
        return cls(match["data"], item.label or "…")

    async def callback(self, interaction: discord.Interaction) -> None:
        label = self.item.label or "Your words"
        await interaction.response.send_modal(FreeTextModal(self.data, label))


class PresetSelect(discord.ui.DynamicItem[discord.ui.Select], template=ids.PICK_TEMPLATE):
    """Many presets as one menu; each option's value is the core data of one button."""

    def __init__(self, n: int, options: list[discord.SelectOption] | None = None, hint: str = ""):
        super().__init__(
            discord.ui.Select(
                custom_id=f"{ids.PICK}{n}",
                placeholder=(hint or "Choose…")[:150],
                options=options or [discord.SelectOption(label="…", value="-")],
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> PresetSelect:
        assert isinstance(item, discord.ui.Select)
        return cls(int(match["n"]), list(item.options), item.placeholder or "")

    async def callback(self, interaction: discord.Interaction) -> None:
        values = self.item.values
        if values:
            await _client(interaction).on_press(interaction, values[0])


class FreeTextModal(discord.ui.Modal):
    """Asks for typed input. Only its layout lives here; submits are routed by custom id."""

    def __init__(self, data: str, label: str):
        custom_id = ids.make(ids.MODAL, data)
        super().__init__(title=label[:MODAL_TITLE], custom_id=custom_id, timeout=900)
        self.data = data
        self.answer: discord.ui.TextInput = discord.ui.TextInput(
            label=label[:MODAL_TITLE],
            style=discord.TextStyle.paragraph,
            max_length=FREE_TEXT_MAX,
            custom_id="answer",
        )
        self.add_item(self.answer)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        # The client handles every Sitter modal submit from the raw payload (see
        # SitterClient.on_interaction), so one opened before a restart works too.
        return None


def modal_value(data: dict[str, Any], custom_id: str = "answer") -> str:
    """The typed value in a raw modal-submit payload (rows of inputs, or labels around one)."""
    stack: list[Any] = list(data.get("components", []))
    while stack:
        comp = stack.pop(0)
        if not isinstance(comp, dict):
            continue
        if comp.get("custom_id") == custom_id and "value" in comp:
            return str(comp["value"])
        stack.extend(comp.get("components", []))
        if "component" in comp:
            stack.append(comp["component"])
    return ""


def _button(b: Button, row: int) -> discord.ui.Item:
    if b.kind == "free_text":
        item: discord.ui.DynamicItem = FreeTextButton(b.data, b.label)
    else:
        item = PressButton(b.data, b.label, STYLES.get(b.kind, discord.ButtonStyle.secondary))
    item.row = row
    return item


def _select(n: int, buttons: list[Button], row: int) -> discord.ui.Item:
    options = [
        discord.SelectOption(label=b.label[:100] or "…", value=b.data[: ids.MAX_OPTION_VALUE])
        for b in buttons
    ]
    item = PresetSelect(n, options, "Choose…")
    item.row = row
    return item


def _longest_choice_run(plan: list[tuple[str, list[Button]]]) -> tuple[int, int] | None:
    """The longest stretch (2+ rows) of consecutive button rows holding only presets."""
    best: tuple[int, int] | None = None
    start = None
    for i, (kind, bs) in enumerate([*plan, ("end", [])]):
        plain = kind == "buttons" and all(b.kind == "choice" for b in bs)
        if plain and start is None:
            start = i
        elif not plain and start is not None:
            if i - start >= 2 and (best is None or i - start > best[1] - best[0]):
                best = (start, i)
            start = None
    return best


def build_view(rows: tuple[tuple[Button, ...], ...]) -> discord.ui.View | None:
    """Lay the core's rows out within Discord's 5 rows of 5 buttons.

    A row wider than 5 becomes a select menu (its free-text button stays a button);
    with more than 5 rows, the longest stretch of preset rows becomes one menu.
    """
    rows = tuple(r for r in rows if r)
    if not rows:
        return None
    plan: list[tuple[str, list[Button]]] = []
    for row in rows:
        if len(row) <= MAX_PER_ROW:
            plan.append(("buttons", list(row)))
            continue
        choices = [b for b in row if b.kind == "choice"]
        others = [b for b in row if b.kind != "choice"]
        plan.extend(("menu", choices[i : i + MAX_OPTIONS]) for i in range(0, len(choices), 25))
        plan.extend(("buttons", others[i : i + 5]) for i in range(0, len(others), MAX_PER_ROW))
    while len(plan) > MAX_ROWS and (run := _longest_choice_run(plan)) is not None:
        start, end = run
        if end == len(plan) and end - start >= 3 and len(plan) - (end - start) + 2 <= MAX_ROWS:
            end -= 1  # the message's last row stays buttons (navigation: Back, Cancel)
        merged = [b for _, bs in plan[start:end] for b in bs]
        menus = [("menu", merged[i : i + MAX_OPTIONS]) for i in range(0, len(merged), 25)]
        plan[start:end] = menus
    if len(plan) > MAX_ROWS:
        choices = [b for kind, bs in plan for b in bs if kind == "menu" or b.kind == "choice"]
        others = [b for kind, bs in plan for b in bs if kind == "buttons" and b.kind != "choice"]
        plan = [("menu", choices[i : i + MAX_OPTIONS]) for i in range(0, len(choices), 25)]
        plan += [("buttons", others[i : i + 5]) for i in range(0, len(others), MAX_PER_ROW)]
        plan = plan[:MAX_ROWS]
    view = discord.ui.View(timeout=None)
    n_menus = 0
    for r, (kind, buttons) in enumerate(plan):
        if kind == "menu":
            view.add_item(_select(n_menus, buttons, r))
            n_menus += 1
        else:
            for b in buttons:
                view.add_item(_button(b, r))
    return view


DYNAMIC_ITEMS = (PressButton, FreeTextButton, PresetSelect)
