"""prompts/ as data: every shipped style loads; a broken file is named in the error."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sitter.prompts import PROMPTS_DIR, WIZARD_SLOTS, PromptError, PromptLibrary


def test_shipped_styles_load_and_compose() -> None:
    lib = PromptLibrary.load()
    assert len(lib.styles) >= 8
    for style in lib.styles.values():
        assert style.slots >= {"subject", *WIZARD_SLOTS}, style.key
        p = style.params
        assert p.steps and p.guidance and p.width and p.height and p.identity_scale
        assert p.width % 64 == 0 and p.height % 64 == 0
        prompt = style.compose({"attire": "a red scarf", "setting": "a café 🌆"})
        assert "a red scarf" in prompt and "a café 🌆" in prompt and "{" not in prompt
        assert ", ," not in prompt
    assert [s.slot for s in lib.steps] == list(WIZARD_SLOTS)
    assert all(len(s.presets) >= 4 for s in lib.steps)
    assert lib.find_style("oil PAINTING").key == "oil_painting"  # type: ignore[union-attr]
    assert lib.find_style("pencil_sketch").key == "pencil_sketch"  # type: ignore[union-attr]
    assert lib.find_style("anime") is None
    # As people type them: British spelling (the product writes "colour"), & and -.
    for typed in ("watercolour", "Watercolour", "WATERCOLOR", "water color"):
        found = lib.find_style(typed)
        assert found is not None and found.key == "watercolor", typed
    assert lib.find_style("Black & White").key == "black_and_white"  # type: ignore[union-attr]
    assert lib.find_style("pop-art").key == "pop_art"  # type: ignore[union-attr]
    # Every style says what kind of picture it makes, for the likeness gate.
    kinds = {s.key: (s.likeness.kind.value, s.likeness.policy.value) for s in lib.styles.values()}
    assert kinds["professional_headshot"] == ("photographic", "threshold")
    assert kinds["watercolor"] == ("painted", "threshold")
    assert kinds["pencil_sketch"] == ("drawn", "lenient")
    assert all(s.likeness.reason for s in lib.styles.values() if s.likeness.policy != "threshold")


@pytest.fixture
def prompts_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "prompts"
    shutil.copytree(PROMPTS_DIR / "styles", folder / "styles")
    shutil.copy(PROMPTS_DIR / "wizard.toml", folder / "wizard.toml")
    return folder


def test_unknown_slot_is_named_with_the_file(prompts_copy: Path) -> None:
    bad = prompts_copy / "styles" / "watercolor.toml"
    bad.write_text(bad.read_text().replace("{lighting}", "{mood}"))
    with pytest.raises(PromptError, match=r"watercolor\.toml: unknown slot\(s\) \{mood\}"):
        PromptLibrary.load(prompts_copy)


def test_malformed_toml_is_named(prompts_copy: Path) -> None:
    (prompts_copy / "styles" / "broken.toml").write_text('name = "Broken\ntemplate = ')
    with pytest.raises(PromptError, match=r"broken\.toml: not valid TOML"):
        PromptLibrary.load(prompts_copy)


_OK = 'name = "X"\ntemplate = "{subject}"\n[likeness]\n'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('name = "X"\ntemplate = "no subject here"\n', "must contain {subject}"),
        ('name = "X"\ntemplate = "{subject"\n', "template is malformed"),
        ('template = "{subject}"\n', "'name' must be a non-empty string"),
        ('name = "X"\ntemplate = "{subject}"\ncolour = 1\n', "unknown keys"),
        ('name = "X"\ntemplate = "{subject}"\n[params]\nsteps = "many"\n', "bad [params]"),
        ('name = "X"\ntemplate = "{subject}"\n[params]\nseed = 1\n', "[params] takes only"),
        ('name = "X"\ntemplate = "{subject}"\n', "needs a [likeness] table"),
        (f'{_OK}kind = "anime"\n', "kind must be one of photographic, painted, drawn"),
        (f'{_OK}kind = "drawn"\npolicy = "maybe"\n', "policy must be one of threshold"),
        (f'{_OK}kind = "drawn"\npolicy = "off"\n', "policy 'off' needs a reason"),
        (f'{_OK}kind = "drawn"\nthreshold = 0.3\n', "takes kind, policy and reason"),
    ],
)
def test_bad_style_files(prompts_copy: Path, text: str, message: str) -> None:
    (prompts_copy / "styles" / "odd.toml").write_text(text)
    with pytest.raises(PromptError, match=r"odd\.toml") as err:
        PromptLibrary.load(prompts_copy)
    assert message in str(err.value)


def test_wizard_must_cover_each_slot(prompts_copy: Path) -> None:
    wiz = prompts_copy / "wizard.toml"
    wiz.write_text(wiz.read_text().replace('slot = "lighting"', 'slot = "weather"'))
    with pytest.raises(PromptError, match=r"wizard\.toml: step 3: unknown slot 'weather'"):
        PromptLibrary.load(prompts_copy)
    (prompts_copy / "wizard.toml").unlink()
    with pytest.raises(PromptError, match=r"wizard\.toml: missing"):
        PromptLibrary.load(prompts_copy)


def test_reference_wording_for_models_that_see_the_photos(prompts_copy: Path) -> None:
    lib = PromptLibrary.load(prompts_copy)  # no families.toml: the built-in wording
    text = lib.reference_prompt("watercolor", {"attire": "a red scarf"})
    assert text.startswith("watercolor painting of the person in the reference images")
    assert text.endswith("as in the reference images") and "a red scarf" in text
    shipped = PromptLibrary.load()
    assert shipped.reference_wording.subject == "the person in the reference images"


def test_a_style_may_word_the_reference_prompt_itself(prompts_copy: Path) -> None:
    style = prompts_copy / "styles" / "watercolor.toml"
    original = style.read_text()
    line = 'reference_template = "turn {subject} into a watercolor, wearing {attire}"\n'
    style.write_text(line + original)  # top-level keys come before [params]
    lib = PromptLibrary.load(prompts_copy)
    assert lib.reference_prompt("watercolor", {"attire": "a hat"}) == (
        "turn the person in the reference images into a watercolor, wearing a hat"
    )
    style.write_text('reference_template = "no subject"\n' + original)
    with pytest.raises(PromptError, match=r"watercolor\.toml: the reference_template must"):
        PromptLibrary.load(prompts_copy)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[video]\nsubject = 'x'\n", "unknown tables"),
        ("[reference]\nsubject = ''\n", "'subject' must be a non-empty string"),
        ("[reference]\nsubject = 'x'\ntone = 'y'\n", "takes only subject and suffix"),
        ("[reference]\nsubject = 'x'\nsuffix = '" + "very " * 100 + "'\n", "bytes; keep it under"),
    ],
)
def test_families_file_is_validated_at_start(prompts_copy: Path, text: str, message: str) -> None:
    (prompts_copy / "families.toml").write_text(text)
    with pytest.raises(PromptError, match=message):
        PromptLibrary.load(prompts_copy)


def test_a_step_no_style_names_goes_at_the_end_of_the_prompt(prompts_copy: Path) -> None:
    """A [[steps]] entry added to wizard.toml is a new slot: legal, and its answer reaches
    the prompt even though no style's template names it (issue 11)."""
    wiz = prompts_copy / "wizard.toml"
    wiz.write_text(
        wiz.read_text()
        + '\n[[steps]]\nslot = "expression"\nquestion = "What expression?"\n'
        + 'presets = [{ label = "Smiling", value = "a warm smile" }]\n'
    )
    lib = PromptLibrary.load(prompts_copy)
    assert [s.slot for s in lib.steps][-1] == "expression"
    text = lib.style("watercolor").compose({"attire": "a red scarf", "expression": "a warm smile"})
    assert text.endswith(", a warm smile") and "a red scarf" in text
    reserved = wiz.read_text().replace('slot = "expression"', 'slot = "confirm"')
    wiz.write_text(reserved)
    with pytest.raises(PromptError, match="'confirm' is reserved"):
        PromptLibrary.load(prompts_copy)
