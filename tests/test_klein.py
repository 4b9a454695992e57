"""FLUX.2 [klein] from the person's own photos: tiny random weights, the production loader.

The tiny model is built from the real classes and saved in the real repo's layout
(engine/pipeline/tiny_klein.py); everything else is the production path: the
loader's family detection, reference choice and preparation, the prompt's token
budget, the batched render with ``image=[...]``, likeness scoring and AI labels.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from conftest import FACES, needs_shared
from PIL import Image, ImageFilter

from engine.pipeline import klein
from engine.runtime import Runtime
from sitter import contract as c
from sitter.config import load_settings
from sitter.prompts import PromptLibrary

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("klein")


@pytest.fixture(scope="module")
def runtime(data: Path) -> Runtime:
    settings = load_settings(model="tiny-klein", face_backend="dlib", data_dir=data)
    return Runtime(settings).load(("faces", "pipeline", "signer"))


def _png(im: Image.Image) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


def _references(runtime: Runtime, person: str) -> list[c.Reference]:
    """The person's photos through the real photo analysis, as the bot sends them."""
    from engine.analysis import analyze_photo

    refs = []
    for path in sorted((FACES / person).glob("*.jpg")):
        res = analyze_photo(
            c.AnalyzePhotoRequest(photo=path.read_bytes()), runtime.require_analyzer()
        )
        if res.accepted and res.embedding is not None:
            refs.append(
                c.Reference(embedding=res.embedding, face_crop=res.face_crop, quality=res.quality)
            )
    assert len(refs) >= 2, f"{person}: too few accepted photos"
    return refs


def _request(refs: list[c.Reference], prompt: str, seeds=(7, 8, 9, 10)) -> c.GenerateRequest:
    return c.GenerateRequest(
        generation_id="klein-test",
        prompt="a text-to-image prompt that klein must not use",
        reference_prompt=prompt,
        seeds=list(seeds),
        references=refs,
        max_attempts=1,
    )


def test_tiny_klein_is_the_real_layout_loaded_by_the_production_loader(runtime: Runtime) -> None:
    from diffusers import Flux2KleinPipeline

    from engine.pipeline.loader import detect_family, model_folder

    loaded = runtime.require_pipeline()
    assert isinstance(loaded.pipe, Flux2KleinPipeline) and loaded.family == "klein"
    assert detect_family(runtime.settings) == "klein"
    folder, _ = model_folder(runtime.settings)
    assert folder is not None
    index = json.loads((folder / "model_index.json").read_text())
    assert index["_class_name"] == "Flux2KleinPipeline" and index["is_distilled"] is True
    assert index["text_encoder"] == ["transformers", "Qwen3ForCausalLM"]
    for part in ("transformer", "vae", "text_encoder"):
        assert list((folder / part).glob("*.safetensors")), part
    assert (folder / "tokenizer" / "tokenizer.json").is_file()
    limits = klein.text_limits(loaded.pipe)
    assert limits.max_sequence_length == 512 and limits.out_layers == (1, 2, 3)


def test_text_limits_of_the_real_4b_shape() -> None:
    """Qwen3-4B (36 layers, hidden 2560) under a 7680-wide transformer: layers 9, 18, 27."""
    pipe = SimpleNamespace(
        text_encoder=SimpleNamespace(
            config=SimpleNamespace(
                hidden_size=2560, num_hidden_layers=36, max_position_embeddings=40960
            )
        ),
        transformer=SimpleNamespace(config=SimpleNamespace(joint_attention_dim=7680)),
    )
    assert klein.text_limits(pipe) == klein.TextLimits(512, (9, 18, 27))


def _fake_ref(quality: dict[str, float], colour: int) -> c.Reference:
    crop = _png(Image.new("RGB", (256, 256), (colour, colour, colour)))
    emb = c.Embedding(backend="dlib", vector=[0.0] * 128)
    return c.Reference(embedding=emb, face_crop=crop, quality=quality)


def test_choice_prefers_sharp_large_faces_and_varied_angles() -> None:
    good = {"sharpness": 2.0, "brightness": 130.0, "face_px": 300.0, "clipped": 0.0}
    refs = [
        _fake_ref({**good, "yaw": 0.0}, 100),  # 0: best, frontal
        _fake_ref({**good, "yaw": 1.0}, 101),  # 1: the same angle again
        _fake_ref({**good, "yaw": 25.0}, 102),  # 2: turned right
        _fake_ref({**good, "yaw": -25.0}, 103),  # 3: turned left
        _fake_ref({**good, "sharpness": 0.05, "yaw": 12.0}, 104),  # 4: blurry
        _fake_ref({**good, "brightness": 20.0, "yaw": -12.0}, 105),  # 5: dark
        _fake_ref({**good, "yaw": 10.0, "pitch": 15.0}, 106),  # 6: looking down
        c.Reference(embedding=c.Embedding(backend="dlib", vector=[0.0] * 128)),  # no crop
    ]
    chosen = klein.choose_references(refs)
    assert len(chosen) == 4 and chosen[0] == 0
    assert set(chosen) == {0, 2, 3, 6}  # varied angles; not blurry, dark or a repeat
    assert klein.choose_references(refs[:2]) == [0, 1]
    assert klein.choose_references(refs[7:]) == []


def test_references_are_padded_squares_at_a_size_the_vae_takes() -> None:
    crop = Image.new("RGB", (200, 256), (200, 10, 10))
    for side, want in ((512, 512), (100, 96), (20, 64)):
        out = klein.prepare_reference(crop, side)
        assert out.size == (want, want)
    # The margin repeats the crop's edge colours: nothing grey or black is added.
    arr = np.asarray(klein.prepare_reference(crop, 512))
    assert (arr.reshape(-1, 3) == (200, 10, 10)).all()


@needs_shared
def test_references_in_four_variations_out(runtime: Runtime) -> None:
    from engine.pipeline.generate import generate
    from engine.provenance import verify

    refs = _references(runtime, "deepface_id01")
    lib = PromptLibrary.load()
    prompt = lib.reference_prompt("watercolor", {"attire": "a red scarf"})
    assert prompt.startswith("watercolor painting of the person in the reference images")
    result = generate(runtime, _request(refs, prompt))
    assert result.model == "tiny-klein" and result.adapter.startswith("reference images")
    assert [v.seed for v in result.variations] == [7, 8, 9, 10]
    images = []
    for v in result.variations:
        assert verify(v.image).ai_labelled
        im = Image.open(io.BytesIO(v.image)).convert("RGB")
        assert im.size == (64, 64)
        images.append(np.asarray(im))
        assert v.attempts == 1 and v.passed is False  # random weights draw no face
    assert len({a.tobytes() for a in images}) == 4  # four seeds, four pictures

    # Same order, same pixels; other reference photos, other pixels: image=[...] counts.
    def pixels(res: c.GenerateResult) -> list[bytes]:  # the C2PA manifest differs per file
        return [Image.open(io.BytesIO(v.image)).convert("RGB").tobytes() for v in res.variations]

    again = generate(runtime, _request(refs, prompt))
    assert pixels(again) == pixels(result)
    others = _references(runtime, "deepface_id02")
    other = generate(runtime, _request(others, prompt))
    assert all(a != b for a, b in zip(pixels(other), pixels(result), strict=True))


@needs_shared
def test_a_prompt_over_the_text_encoders_budget_is_refused_before_rendering(
    runtime: Runtime,
) -> None:
    from engine.pipeline.generate import generate

    refs = _references(runtime, "deepface_id01")
    lib = PromptLibrary.load()
    long_answer = "a very long and winding description of a scene " * 4  # 196 characters
    answers = {slot: long_answer for slot in ("attire", "setting", "lighting", "composition")}
    prompt = lib.reference_prompt("watercolor", answers)
    n = klein.prompt_tokens(runtime.require_pipeline().pipe.tokenizer, prompt)
    assert n > 512
    with pytest.raises(
        klein.PromptTooLong, match=r"too long for this model \(\d+ tokens, at most 512\)"
    ):
        generate(runtime, _request(refs, prompt))
    short = lib.reference_prompt("watercolor", {"attire": "a red scarf"})
    assert klein.check_prompt(runtime.require_pipeline(), short) < 512


def test_every_style_with_the_longest_presets_fits_the_tiny_tokenizer(runtime: Runtime) -> None:
    """The start-up byte bound holds for real: each preset prompt fits 512 tokens."""
    lib = PromptLibrary.load()
    longest = {s.slot: max((p.value for p in s.presets), key=len) for s in lib.steps}
    loaded = runtime.require_pipeline()
    for key in lib.styles:
        assert klein.check_prompt(loaded, lib.reference_prompt(key, longest)) <= 512


def test_worker_turns_a_too_long_prompt_into_a_plain_failure(runtime: Runtime) -> None:
    from engine.job_errors import permanent_code as _permanent_code

    assert _permanent_code(klein.PromptTooLong("x")) == "prompt_too_long"


def test_blurry_crop_without_quality_values_is_measured() -> None:
    sharp = Image.effect_noise((256, 256), 60).convert("RGB")
    blurry = sharp.filter(ImageFilter.GaussianBlur(6))
    emb = c.Embedding(backend="dlib", vector=[0.0] * 128)
    refs = [
        c.Reference(embedding=emb, face_crop=_png(blurry)),
        c.Reference(embedding=emb, face_crop=_png(sharp)),
    ]
    assert klein.choose_references(refs, k=1) == [1]


def test_the_check_prompt_job_counts_with_the_models_own_tokenizer(data: Path) -> None:
    from engine.prompt_check import check_prompt

    lib = PromptLibrary.load()
    long_answer = "a very long and winding description of everything " * 3
    answers = {k: long_answer for k in ("attire", "setting", "lighting", "composition")}
    req = c.CheckPromptRequest(
        prompt=lib.style("watercolor").compose(answers),
        reference_prompt=lib.reference_prompt("watercolor", answers),
    )
    klein_settings = load_settings(model="tiny-klein", face_backend="dlib", data_dir=data)
    res = check_prompt(klein_settings, req)
    assert not res.fits and res.family == "klein" and res.limit == 512
    assert res.tokens is not None and res.tokens > 512 and "too long" in res.message
    short = c.CheckPromptRequest(
        prompt="x", reference_prompt=lib.reference_prompt("watercolor", {})
    )
    assert check_prompt(klein_settings, short).fits
    # SDXL encodes any length whole: nothing to refuse.
    sdxl = check_prompt(load_settings(model="tiny", data_dir=data), req)
    assert sdxl.fits and sdxl.family == "sdxl" and sdxl.tokens is None
