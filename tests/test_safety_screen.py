"""Prompt safety: refused content in disguise is caught, innocent prompts pass."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from safety_corpus import MUST_PASS, MUST_REFUSE, as_slots

from bot.studio.safety import SAFETY_DIR, Screen, default_screen
from sitter.text_views import normalize, to_latin, views

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def screen() -> Screen:
    return default_screen()


SEXUAL = [
    "nude portrait",
    "n u d e portrait",
    "a n u d e photo",
    "N.U.D.E",
    "n-u-d-e",
    "n*u*d*e on a beach",
    "nu.de",
    "nu de",
    "nud3",
    "NUD3S",
    "p0rn star",
    "pr0n",
    "s3xy",
    "$exy pose",
    "5exy",
    "b00bs",
    "t1ts",
    "nuuuude",
    "sexxxy",
    "ｎｕｄｅ",  # fullwidth
    "𝐧𝐮𝐝𝐞",  # mathematical bold
    "nu\u200bde",  # zero-width space
    "n\u00adude",  # soft hyphen
    "na\u200dked",  # zero-width joiner
    "nùdé",  # accents
    "n̷u̷d̷e̷",  # combining strokes
    "sеxy",  # Cyrillic е
    "nаkеd",  # Cyrillic а and е
    "ΝUDΕ",  # Greek capitals Ν and Ε
    "topless on a yacht",
    "fully naked",
    "in lingerie",
    "erotic boudoir shot",
    "NSFW",
    "without clothes",
    "nackt im Wald",  # German
    "toute nue",  # French
    "desnuda en la playa",  # Spanish
    "foto nuda",  # Italian
    "голая девушка",  # Russian
    "гoлая",  # Russian with a Latin o
    "обнажённая",
    "ヌード写真",  # Japanese
    "裸体",  # Chinese
    "누드 사진",  # Korean
    "çıplak",  # Turkish
]

MINORS = [
    "as a child",
    "as a kid",
    "kids party",
    "teenager",
    "a teen girl",
    "schoolgirl outfit",
    "little girl",
    "16 years old",
    "16-year-old",
    "sixteen year old",
    "twelve-year-old",
    "15yo",
    "15 y/o",
    "aged 12",
    "age: 9",
    "t e e n",
    "t33n",
    "underage",
    "lolita",
    "as a toddler",
    "ребёнок",
    "девочка 12 лет",
    "niña",
    "une fille de 12 ans",
    "14 Jahre alt",
    "小学生の少女",
    "14歳",
    "menor de edad",
]

IMPERSONATION = [
    "as Barack Obama",
    "0bama giving a speech",
    "dressed as Donald Trump",
    "Vladimir Putin",
    "me as Taylor Swift",
    "t a y l o r swift",
    "Elon Musk at a launch",
    "as the president of the United States",
    "a mugshot",
    "police mug shot",
    "fake passport photo",
    "leaked photo",
    "deepfake",
    "Путин",
    "特朗普",
    "Beyoncé on stage",
    "BEYONCE",
]

INNOCENT = [
    "Sussex countryside",
    "Essex",
    "Middlesex University",
    "Scunthorpe",
    "Penistone",
    "classic portrait",
    "a skirt and blouse",
    "a pencil skirt",
    "a short summer skirt",
    "cocktail dress",
    "a therapist's office",
    "assassin's creed costume",
    "grapefruit on the table",
    "analysis of light",
    "a titanic ship in the background",
    "cockpit of a plane",
    "nude lipstick",
    "nude makeup and nude heels",
    "baby blue suit",
    "kid leather gloves",
    "the Karate Kid poster",
    "El Niño storm clouds",
    "Las Meninas style",
    "unisex hoodie",
    "a trumpet player",
    "trump card",
    "1990s film look",
    "4k, 85mm lens, f/1.8",
    "a b&w portrait",
    "30 years old",
    "looking 45 years old",
    "a 21 year old graduate",
    "photo from 10 years ago",
    "aged 25",
    "under 5 minutes",
    "sandalwood and musk",
    "white musk perfume bottle",
    "sitting on the rock by the sea",
    "rock climbing gear",
    "Sir Francis Drake's ship",
    "a naga queen fantasy armour",
    "bald, pelado",
    "a mature woman with silver hair",
    "adult",
    "young woman in a café",
    "a youthful glow",
    "a sexton at the church",
    "Dick Van Dyke style suit",
    "an old wood-panelled library",
    "seaside cliff, golden hour",
    "a swan on the lake",
    "blue tits in the garden",
    "a teacher in a classroom",
    "a mother with her pram",  # 'mother' alone is fine
    "with my dog",
    "Kindness",
    "a kind smile",
    "passionate expression",
    "Nina Simone vinyl",
    "chicken breasts on a grill",
    "the Sex Pistols t-shirt",
    "Titian painting",
    "Mr. Smith's hat",
    "Shih Tzu",
    "infantry uniform",
    "Infanta Margarita costume",
    "boobook owl",
    "my dad's ex-army jacket",
    "it's ex-boyfriend proof",
    "size xx x-large",
    "Modigliani style",
    "messy hair",
    "Nagoya street at night",
    "a bus stop in the rain",
    "wearing a sweater",
    "smart casual, blazer",
    "",
    "   ",
    "😀🎉",
]


@pytest.mark.parametrize("text", SEXUAL)
def test_sexual_content_is_refused(screen: Screen, text: str) -> None:
    v = screen.check(text)
    assert not v.ok and v.category == "sexual", (text, v)


@pytest.mark.parametrize("text", MINORS)
def test_minors_are_refused(screen: Screen, text: str) -> None:
    v = screen.check(text)
    assert not v.ok and v.category == "minors", (text, v)


@pytest.mark.parametrize("text", IMPERSONATION)
def test_impersonation_is_refused(screen: Screen, text: str) -> None:
    v = screen.check(text)
    assert not v.ok and v.category == "impersonation", (text, v)


@pytest.mark.parametrize("text", INNOCENT)
def test_innocent_prompts_pass(screen: Screen, text: str) -> None:
    v = screen.check(text)
    assert v.ok, (text, v)


def test_every_shipped_preset_and_style_passes(screen: Screen) -> None:
    """The studio's own words must never trip the screen."""
    texts: list[str] = []
    wizard = tomllib.loads((ROOT / "prompts" / "wizard.toml").read_text(encoding="utf-8"))
    for step in wizard.get("steps", []):
        texts.append(step.get("question", ""))
        texts += [p["value"] for p in step.get("presets", [])]
        texts += [p["label"] for p in step.get("presets", [])]
    for path in sorted((ROOT / "prompts" / "styles").glob("*.toml")):
        style = tomllib.loads(path.read_text(encoding="utf-8"))
        texts += [style.get("name", ""), style.get("description", ""), style.get("template", "")]
    assert len(texts) > 30
    refused = [(t, screen.check(t)) for t in texts if not screen.check(t).ok]
    assert not refused


def test_reason_is_clear_and_names_the_slot(screen: Screen) -> None:
    v = screen.check_order({"style": "cinematic", "attire": "n u d 3", "setting": "beach"})
    assert not v.ok
    assert v.slot == "attire" and v.matched == "nude"
    assert v.message.startswith("I can't use “nude” in your attire.")
    assert "nude, sexual or erotic" in v.message


def test_phrase_split_across_slots_is_caught(screen: Screen) -> None:
    v = screen.check_order({"attire": "a dress", "free_text": "little", "setting": "girl"})
    assert not v.ok and v.slot == "order" and v.category == "minors"


def test_allow_phrase_does_not_hide_a_real_refusal(screen: Screen) -> None:
    assert not screen.check("nude lipstick and otherwise fully nude").ok
    assert not screen.check("baby blue eyes, as a baby").ok


def test_normalisation_building_blocks() -> None:
    assert normalize("Ｎ\u200bＵＤＥ  X") == "nude x"
    assert to_latin("nаkеd") == "naked"  # Cyrillic а, е
    v = views("n u d 3")
    assert "nude" in v.runs


def test_lists_load_and_a_broken_list_is_refused_clearly(tmp_path: Path) -> None:
    names = {c.name for c in Screen.from_folder(SAFETY_DIR).categories}
    assert names == {"sexual", "minors", "impersonation", "hate"}
    (tmp_path / "broken.toml").write_text('terms = ["x"]\n', encoding="utf-8")
    with pytest.raises(ValueError, match="missing 'reason'"):
        Screen.from_folder(tmp_path)
    with pytest.raises(FileNotFoundError, match="no prompt safety lists"):
        Screen.from_folder(tmp_path / "nowhere")


# --- issue 22: disguises, unlisted phrasings, the whole order (tests/safety_corpus.py) ---
@pytest.mark.parametrize("case", MUST_REFUSE, ids=repr)
def test_the_corpus_of_refusals_is_refused_by_the_rules(screen: Screen, case: object) -> None:
    v = screen.check_order(as_slots(case))  # type: ignore[arg-type]
    assert not v.ok, (case, v)
    assert v.message.startswith("I can't use “")


@pytest.mark.parametrize("case", MUST_PASS, ids=repr)
def test_ordinary_answers_pass_the_rules(screen: Screen, case: object) -> None:
    v = screen.check_order(as_slots(case))  # type: ignore[arg-type]
    assert v.ok, (case, v)


def test_an_age_anywhere_with_anything_revealing_anywhere_is_refused(screen: Screen) -> None:
    """Each answer alone passes; the order does not (issue 22: judge the whole order)."""
    order = {"subject": "a high school senior", "attire": "a bikini", "setting": "a garden"}
    assert all(screen.check(t).ok for t in order.values())
    v = screen.check_order(order)
    assert not v.ok and v.category == "youth_revealing" and v.slot == "order"
    said = "I can't use “high school senior” together with “bikini” in your order."
    assert v.message.startswith(said)
    assert screen.check_order({"subject": "16 years old", "attire": "swim trunks"}).category
    assert screen.check_order({"subject": "born in 2012", "attire": "leggings"}).category
    # an adult's age is no youth: only ages under 18 pair (second review, issue 22)
    assert screen.check_order({"subject": "42 years old", "attire": "swim trunks"}).ok
    assert screen.check_order({"subject": "42 years old", "attire": "a navy suit"}).ok


def test_the_issue_order_and_relight_are_refused(screen: Screen) -> None:
    v = screen.check_order({"subject": "a high school freshman", "attire": "shirtless"})
    assert not v.ok and v.slot == "subject" and v.category == "minors"
    v = screen.check_order({"lighting": "moonlight on bare skin in the buff"})
    assert not v.ok and v.category == "sexual"


def test_a_birth_year_is_an_age(screen: Screen) -> None:
    from bot.studio.safety.ages import ages

    assert ages("born in 2012", "", year=2026) == [14]
    assert ages("class of 2032", "", year=2026) == [12]
    assert ages("she is 14", "", year=2026) == [14]
    assert ages("fourteen", "") == [14] and ages("14yrs", "") == [14]
    assert ages("she is 5 feet tall", "") == [] and ages("14 years of experience", "") == []
    assert not screen.check("born in 2012").ok
    assert screen.check("born in 1990").ok
    assert screen.check("a 1990s film look").ok


def test_the_look_alike_table_comes_from_unicode_data() -> None:
    """The generated table (scripts/make_confusables.py) folds the issue's letters."""
    from sitter.confusables import FOLD

    assert len(FOLD) > 500
    assert "".join(FOLD[ord(ch)] for ch in "ոսᏁᏌᎠᎬɴᴜᴅᴇ") == "nunudenude"
    assert to_latin("🇳🇺🇩🇪") == "nude"
    assert to_latin("νυde", spelt=True) == "nude"  # Greek nu, upsilon
