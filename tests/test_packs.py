"""Content packs: the shipped ones load, a bad one is refused naming its file."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sitter.packs import MAX_PACK_IMAGES, find_pack, load_packs
from sitter.prompts import PROMPTS_DIR, PromptError, PromptLibrary


@pytest.fixture
def library() -> PromptLibrary:
    return PromptLibrary.load()


def test_the_shipped_packs_load_and_ask_only_what_their_looks_leave_open(
    library: PromptLibrary,
) -> None:
    packs = load_packs(library)
    assert {"creator", "linkedin", "avatar"} <= set(packs)
    creator, linkedin, avatar = packs["creator"], packs["linkedin"], packs["avatar"]
    assert len(creator.looks) == 8 and len(linkedin.looks) == 4 and len(avatar.looks) == 4
    # LinkedIn fixes attire, setting and framing per look: only the light is asked.
    assert linkedin.asked == ("lighting",)
    assert len({look.answers["attire"] for look in linkedin.looks}) == 4
    assert len({look.answers["setting"] for look in linkedin.looks}) == 4
    # Avatars are four different illustrated styles, each framed close.
    assert len({look.style for look in avatar.looks}) == 4
    assert all(look.answers["composition"] == "a close-up headshot" for look in avatar.looks)
    for pack in packs.values():
        assert pack.images == len(pack.looks) * pack.images_per_look <= MAX_PACK_IMAGES
        slots = [s.slot for s in library.steps]
        assert list(pack.asked) == [s for s in slots if s in pack.asked]  # wizard order


def test_a_look_gets_its_own_answers_and_the_persons_for_open_slots(
    library: PromptLibrary,
) -> None:
    linkedin = load_packs(library)["linkedin"]
    look = linkedin.looks[0]
    answers = linkedin.answers_for(look, {"lighting": "soft light", "attire": "pyjamas"})
    assert answers["lighting"] == "soft light"
    assert answers["attire"] == look.answers["attire"]  # the look's own answer wins
    prompt = library.style(look.style).compose(answers)
    assert "soft light" in prompt and look.answers["setting"] in prompt


def test_packs_are_found_by_key_or_name(library: PromptLibrary) -> None:
    packs = load_packs(library)
    assert find_pack(packs, "LinkedIn Headshots") is packs["linkedin"]
    assert find_pack(packs, "linkedin") is packs["linkedin"]
    assert find_pack(packs, "no such pack") is None


def _copy_prompts(tmp_path: Path) -> Path:
    folder = tmp_path / "prompts"
    shutil.copytree(PROMPTS_DIR, folder)
    return folder


BAD = {
    "style": ('name = "X"\n[[looks]]\nname = "a"\nstyle = "nope"\n', "unknown style 'nope'"),
    "slot": (
        'name = "X"\n[[looks]]\nname = "a"\nstyle = "cinematic"\nhat = "red"\n',
        "unknown keys ['hat']",
    ),
    "images": (
        'name = "X"\nimages_per_look = 8\n'
        + "".join(f'[[looks]]\nname = "l{i}"\nstyle = "cinematic"\n' for i in range(5)),
        f"over {MAX_PACK_IMAGES} images",
    ),
    "twins": (
        'name = "X"\n[[looks]]\nname = "A"\nstyle = "cinematic"\n'
        '[[looks]]\nname = "a"\nstyle = "fantasy"\n',
        "share a name",
    ),
    "toml": ("name = \n", "not valid TOML"),
    "empty": ('name = "X"\n', "expected [[looks]]"),
    "long": (
        f'name = "X"\n[[looks]]\nname = "a"\nstyle = "cinematic"\nsetting = "{"far " * 200}"\n',
        "keep it under",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_pack_is_refused_with_its_file_named(tmp_path: Path, case: str) -> None:
    folder = _copy_prompts(tmp_path)
    text, message = BAD[case]
    bad = folder / "packs" / f"bad_{case}.toml"
    bad.write_text(text)
    library = PromptLibrary.load(folder)
    with pytest.raises(PromptError) as info:
        load_packs(library)
    assert str(bad) in str(info.value) and message in str(info.value)


def test_no_packs_folder_means_no_packs(tmp_path: Path) -> None:
    folder = _copy_prompts(tmp_path)
    shutil.rmtree(folder / "packs")
    assert load_packs(PromptLibrary.load(folder)) == {}
