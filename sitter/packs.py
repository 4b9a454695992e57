"""Content packs: a named set of looks rendered in one order.

A pack is ``prompts/packs/<key>.toml``::

    name = "LinkedIn headshots"
    description = "Four headshots with different attire and backdrops."
    images_per_look = 2            # optional, 1..8 (default 2)

    [[looks]]
    name = "Boardroom"
    style = "professional_headshot"  # a key of prompts/styles/
    attire = "a tailored dark business suit"   # answers for some wizard slots...
    setting = "a bright modern office"

Slots a look leaves open are asked once for the whole pack (the union over its
looks, in the wizard's order) and filled into every look that left them open.
Packs are validated at start against the styles and the wizard, like styles:
a bad pack stops start-up with a message that names the file.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sitter.prompts import REFERENCE_PROMPT_SAFE_BYTES, PromptError, PromptLibrary

# A pack the person makes: one portrait in each of three styles they choose, every slot
# asked once; "More like this" then orders four of the one they like (portrait_menu.py).
PREVIEW = "preview"  # its key (reserved: no prompts/packs/preview.toml)
PREVIEW_CHOSEN = "preview_styles"  # wizard answers / order choices: the chosen style keys
PREVIEW_STYLES = 3
PREVIEW_NAME = "Preview in three styles"
PREVIEW_DESCRIPTION = (
    "One portrait in each of three styles you choose; then more of the one you like."
)

MAX_LOOKS = 12
MAX_IMAGES_PER_LOOK = 8
MAX_PACK_IMAGES = 32
DEFAULT_IMAGES_PER_LOOK = 2


@dataclass(frozen=True)
class Look:
    name: str
    style: str
    answers: dict[str, str]  # the slots this look fixes, slot -> prompt words


@dataclass(frozen=True)
class Pack:
    key: str
    name: str
    description: str
    looks: tuple[Look, ...]
    images_per_look: int
    asked: tuple[str, ...]  # slots asked once for the whole pack, in wizard order

    @property
    def images(self) -> int:
        """What the pack costs against the daily quota: every image it renders."""
        return len(self.looks) * self.images_per_look

    def answers_for(self, look: Look, asked: dict[str, str]) -> dict[str, str]:
        """The look's own answers, with the person's answers for the slots it left open."""
        return {**{s: v for s, v in asked.items() if s in self.asked}, **look.answers}


def load_packs(library: PromptLibrary, folder: Path | None = None) -> dict[str, Pack]:
    """Every pack in ``prompts/packs`` (none when the folder is absent), validated."""
    folder = Path(folder) if folder is not None else library.folder / "packs"
    if not folder.is_dir():
        return {}
    packs = {}
    for path in sorted(folder.glob("*.toml")):
        pack = _load_pack(path, library)
        packs[pack.key] = pack
    return packs


def preview_pack(library: PromptLibrary, styles: list[str]) -> Pack:
    """The preview: one look per chosen style (one image each), every slot asked."""
    looks = tuple(Look(library.styles[k].name, k, {}) for k in styles if k in library.styles)
    asked = tuple(s.slot for s in library.steps)
    return Pack(PREVIEW, PREVIEW_NAME, PREVIEW_DESCRIPTION, looks, 1, asked)


def chosen_pack(packs: dict[str, Pack], library: PromptLibrary, choices: Any) -> Pack | None:
    """The pack that wizard answers (or an order's choices) name: a shipped pack, or the
    person's preview with the styles chosen so far; None when there is none."""
    key = str((choices or {}).get("pack") or "")
    if key == PREVIEW:
        return preview_pack(library, [str(k) for k in (choices.get(PREVIEW_CHOSEN) or [])])
    return packs.get(key)


def pack_name(packs: dict[str, Pack], key: str) -> str:
    """A pack order's name for the person (its row keeps the key)."""
    return PREVIEW_NAME if key == PREVIEW else (packs[key].name if key in packs else key)


def find_pack(packs: dict[str, Pack], text: str) -> Pack | None:
    """A pack by key or name, case-insensitively (``sitter generate --pack``, typed text)."""
    t = " ".join(text.lower().replace("_", " ").replace("-", " ").split())
    for p in packs.values():
        if t in (p.name.lower(), p.key.replace("_", " ")):
            return p
    return None


def _load_pack(path: Path, library: PromptLibrary) -> Pack:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise PromptError(f"{path}: not valid TOML: {exc}") from None
    key = path.stem
    if not key.replace("_", "").isalnum() or not key.islower():
        raise PromptError(f"{path}: pack file names are lower_snake_case")
    if key == PREVIEW:
        raise PromptError(f"{path}: {PREVIEW!r} is the studio's own preview; name it otherwise")
    unknown = set(data) - {"name", "description", "images_per_look", "looks"}
    if unknown:
        raise PromptError(f"{path}: unknown keys {sorted(unknown)}")
    name = _string(path, data, "name")
    per_look = data.get("images_per_look", DEFAULT_IMAGES_PER_LOOK)
    if (
        not isinstance(per_look, int)
        or isinstance(per_look, bool)
        or not (1 <= per_look <= MAX_IMAGES_PER_LOOK)
    ):
        raise PromptError(
            f"{path}: images_per_look must be a whole number 1..{MAX_IMAGES_PER_LOOK}"
        )
    raw = data.get("looks")
    if not isinstance(raw, list) or not raw:
        raise PromptError(f"{path}: expected [[looks]] entries")
    if len(raw) > MAX_LOOKS:
        raise PromptError(f"{path}: {len(raw)} looks; a pack has at most {MAX_LOOKS}")
    if len(raw) * per_look > MAX_PACK_IMAGES:
        raise PromptError(
            f"{path}: {len(raw)} looks × {per_look} images is over {MAX_PACK_IMAGES} images"
        )
    slots = tuple(s.slot for s in library.steps)
    looks = tuple(_load_look(path, i, item, library, slots) for i, item in enumerate(raw, 1))
    names = [look.name.lower() for look in looks]
    if len(set(names)) != len(names):
        raise PromptError(f"{path}: two looks share a name; each look needs its own")
    asked = tuple(s for s in slots if any(s not in look.answers for look in looks))
    pack = Pack(key, name, _string(path, data, "description", False), looks, per_look, asked)
    _check_length(path, pack, library)
    return pack


def _load_look(
    path: Path, i: int, item: Any, library: PromptLibrary, slots: tuple[str, ...]
) -> Look:
    if not isinstance(item, dict):
        raise PromptError(f"{path}: look {i} is not a table")
    where = f"{path}: look {i}"
    unknown = set(item) - {"name", "style", *slots}
    if unknown:
        raise PromptError(
            f"{where}: unknown keys {sorted(unknown)}; a look takes name, style and the "
            f"wizard's slots ({', '.join(slots)})"
        )
    style = _string(path, item, "style", where=where)
    if style not in library.styles:
        raise PromptError(f"{where}: unknown style {style!r}; known: {', '.join(library.styles)}")
    answers = {s: _string(path, item, s, where=where) for s in slots if s in item}
    return Look(_string(path, item, "name", where=where), style, answers)


def _string(
    path: Path, data: dict[str, Any], key: str, required: bool = True, where: str = ""
) -> str:
    value = data.get(key, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise PromptError(f"{where or path}: {key!r} must be a non-empty string")
    return value.strip()


def _check_length(path: Path, pack: Pack, library: PromptLibrary) -> None:
    """Each look with the longest presets for its open slots must fit FLUX.2 [klein]."""
    longest = {s.slot: max((p.value for p in s.presets), key=len) for s in library.steps}
    for look in pack.looks:
        text = library.reference_prompt(look.style, pack.answers_for(look, longest))
        n = len(text.encode("utf-8"))
        if n > REFERENCE_PROMPT_SAFE_BYTES:
            raise PromptError(
                f"{path}: look {look.name!r} is {n} bytes as a reference prompt with the "
                f"longest presets; keep it under {REFERENCE_PROMPT_SAFE_BYTES}"
            )
