"""The face detail pass on the tiny models, through the production loader.

A tiny random model paints noise, so the "generated" image is the real render
with scikit-image's astronaut (CC0) pasted small into it: dlib finds that face,
the pass crops it, re-renders the crop with the tiny pipeline (img2img made
with ``from_pipe``), blends it back and scores it again.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import FACES, needs_shared
from face_detail_helpers import CANVAS, astronaut, face_canvas, make_gate, order, pixels, with_faces
from identity_refs import reference_of
from PIL import Image

from engine.gate import PersonGate
from engine.likeness import Likeness, reference_vectors
from engine.pipeline import detail, detail_render
from engine.pipeline import generate as gen
from engine.pipeline.identity_input import choose_crops
from engine.runtime import Runtime
from sitter import contract as c
from sitter.config import ConfigError, load_settings

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Runtime:
    data_dir = tmp_path_factory.mktemp("data")
    settings = load_settings(model="tiny", face_backend="dlib", data_dir=data_dir)
    return Runtime(settings).load(("faces", "pipeline", "signer"))


@pytest.fixture(scope="module")
def references(runtime: Runtime) -> list[c.Reference]:
    return [reference_of(runtime.require_analyzer(), astronaut())]


def _mode(runtime: Runtime, monkeypatch: pytest.MonkeyPatch, mode: str) -> None:
    monkeypatch.setattr(
        runtime, "settings", runtime.settings.model_copy(update={"face_detail": mode})
    )


def _direct(runtime: Runtime, references: list[c.Reference], image: Image.Image):
    refs = reference_vectors(references, "dlib", 128)
    loaded = runtime.require_pipeline()
    params = gen.resolve_params(loaded, c.GenerationParams())
    gate = make_gate(runtime, references)
    out = detail.detail_pass(
        runtime,
        loaded,
        [(image, gate.judge(image))],
        [7],
        judge=gate.judge,
        prompt="a portrait",
        negative_prompt="",
        params=params,
        refs=refs,
        id_crops=choose_crops(references, refs),
    )
    return out[0], gate


def _spy_crops(monkeypatch: pytest.MonkeyPatch) -> list[tuple[list[tuple[int, int]], list]]:
    calls: list[tuple[list[tuple[int, int]], list]] = []
    real = detail.render_crops

    def spy(loaded, crops_in, seeds, **kwargs):  # the real render, recording what it saw
        out = real(loaded, crops_in, seeds, **kwargs)
        calls.append(([im.size for im in crops_in], [im.size for im in out]))
        return out

    monkeypatch.setattr(detail, "render_crops", spy)
    return calls


def test_the_crop_is_rendered_blended_and_rescored(
    runtime: Runtime, references: list[c.Reference], monkeypatch: pytest.MonkeyPatch
) -> None:
    _mode(runtime, monkeypatch, "always")
    calls = _spy_crops(monkeypatch)
    image = face_canvas()
    face = runtime.require_analyzer().detect(image)[0]
    done, gate = _direct(runtime, references, image)
    r = done.report
    assert r is not None and r.reason == "always" and r.strength == pytest.approx(0.35)
    x0, y0, x1, y1 = r.crop
    assert x0 <= face.box[0] and y0 <= face.box[1] and x1 >= face.box[2] and y1 >= face.box[3]
    assert x1 - x0 == y1 - y0 < CANVAS  # a square around the face, not the frame
    # rendered once, at the tiny model's native 64 px, from the crop
    assert calls == [([(x1 - x0, y1 - y0)], [(64, 64)])]
    # re-scored: the report's numbers are the order's gate's on each version
    assert r.likeness_before == gate.judge(image).score
    assert done.detailed is not None and done.mask is not None
    assert r.likeness_after == gate.judge(done.detailed).score
    # blended: changed inside the mask, and the mask lies inside the crop
    changed = np.any(np.asarray(done.detailed) != np.asarray(image), axis=2)
    mask = np.asarray(done.mask)
    assert changed.any() and not changed[mask == 0].any()
    ys, xs = np.nonzero(mask)
    assert xs.min() >= x0 and xs.max() < x1 and ys.min() >= y0 and ys.max() < y1


@pytest.mark.parametrize("source", ["astronaut", "shared"])
def test_paste_back_is_byte_identical_outside_the_mask(runtime: Runtime, source: str) -> None:
    if source == "shared":
        if not FACES.is_dir():
            pytest.skip(needs_shared.kwargs["reason"])
        photo = Image.open(FACES / "obama" / "1.jpg").convert("RGB")
        photo.thumbnail((256, 256))
    else:
        photo = face_canvas()
    face = runtime.require_analyzer().detect(photo)[0]
    crop = detail.face_crop_box(face.box, photo.size)
    rng = np.random.default_rng(0)
    patch = Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8))
    blended, mask = detail.paste_back(photo, patch, crop)
    before, after, m = np.asarray(photo), np.asarray(blended), np.asarray(mask)
    assert blended.size == photo.size and (m > 0).sum() > 0
    assert np.array_equal(before[m == 0], after[m == 0])  # byte for byte outside the mask
    full = np.asarray(patch.resize((crop.side, crop.side), Image.Resampling.LANCZOS))
    x0, y0, x1, y1 = crop.box
    inside = m[y0:y1, x0:x1] == 255
    assert inside.any() and np.array_equal(after[y0:y1, x0:x1][inside], full[inside])


def test_auto_runs_for_a_small_face_or_a_score_just_below_themake_gate(runtime: Runtime) -> None:
    analyzer = runtime.require_analyzer()
    gate = analyzer.same_person_threshold
    small = face_canvas()
    small_face = analyzer.detect(small)[0]
    large = astronaut().resize((160, 160))
    large_face = analyzer.detect(large)[0]
    good = Likeness(True, gate + 0.2, True)
    near = Likeness(True, gate - detail.NEAR_GATE_BAND / 2, False)
    far = Likeness(True, gate - 3 * detail.NEAR_GATE_BAND, False)
    assert detail.why_detail("auto", small_face.box, small, good, gate) == "small_face"
    assert detail.why_detail("auto", large_face.box, large, good, gate) is None
    assert detail.why_detail("auto", large_face.box, large, near, gate) == "near_gate"
    assert detail.why_detail("auto", large_face.box, large, far, gate) is None
    assert detail.why_detail("always", large_face.box, large, good, gate) == "always"
    assert detail.why_detail("off", small_face.box, small, near, gate) is None
    assert detail.why_detail("always", None, small, good, gate) is None


@pytest.mark.parametrize("mode", ["off", "always", "auto"])
def test_off_never_runs_always_and_auto_do(
    runtime: Runtime, references: list[c.Reference], monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    _mode(runtime, monkeypatch, mode)
    made = with_faces(monkeypatch)
    calls = _spy_crops(monkeypatch)
    result = gen.generate(runtime, order(references, [1, 2]))
    assert all(v.face_found for v in result.variations)
    if mode == "off":
        assert calls == [] and all(v.detail is None for v in result.variations)
        return
    # one batched call for both variations (auto: the face is small in the 256 px frame)
    assert len(calls) == 1 and len(calls[0][0]) == 2
    for v in result.variations:
        assert v.detail is not None and v.detail.reason == (
            "always" if mode == "always" else "small_face"
        )
        # the kept version is the better-scoring one, and the likeness is the kept one's
        before, after = v.detail.likeness_before, v.detail.likeness_after
        better = after is not None and (before is None or after > before)
        assert v.detail.kept == better
        assert v.likeness == (after if better else before)
        kept = pixels(v.image)
        assert np.array_equal(kept, np.asarray(made[v.seed])) != better
        assert make_gate(runtime, references).judge(Image.fromarray(kept)).score == v.likeness


def test_the_detailed_version_is_kept_when_it_scores_better(
    runtime: Runtime, references: list[c.Reference], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The tiny random VAE cannot paint a face back, so the other branch is driven with
    the gate's verdicts replaced: the original scores just below the bar, the detailed
    one above it (the face is still found by dlib, for the crop)."""
    _mode(runtime, monkeypatch, "auto")
    made = with_faces(monkeypatch)
    gate = runtime.require_analyzer().same_person_threshold
    verdicts = iter([gate - 0.02, gate + 0.1])

    def judge(self: PersonGate, image: Image.Image) -> Likeness:
        s = next(verdicts)
        return Likeness(face_found=True, score=s, passed=s >= gate)

    monkeypatch.setattr(PersonGate, "judge", judge)
    (v,) = gen.generate(runtime, order(references, [5])).variations
    assert v.detail is not None and v.detail.kept and v.passed
    assert v.detail.reason == "small_face"
    assert (v.detail.likeness_before, v.detail.likeness_after) == (gate - 0.02, gate + 0.1)
    assert v.likeness == gate + 0.1 and v.attempts == 1  # no re-render needed
    original, kept = np.asarray(made[5]), pixels(v.image)
    assert not np.array_equal(original, kept)
    x0, y0, x1, y1 = v.detail.crop
    outside = np.ones(original.shape[:2], bool)
    outside[y0:y1, x0:x1] = False
    assert np.array_equal(original[outside], kept[outside])


def test_detail_pipe_shares_the_loaded_weights_and_their_dtype(tmp_path) -> None:
    import torch

    for model in ("tiny", "tiny-sd15"):
        settings = load_settings(
            model=model, face_backend="dlib", data_dir=tmp_path, dtype="bfloat16"
        )
        rt = Runtime(settings).load(("pipeline",), warm_up=False)
        loaded = rt.require_pipeline()
        pipe = detail_render.detail_pipe(loaded)
        assert "Img2Img" in type(pipe).__name__
        for name in ("unet", "vae", "text_encoder", "image_encoder"):
            assert getattr(pipe, name) is getattr(loaded.pipe, name)
        assert loaded.pipe.unet.dtype == torch.bfloat16  # from_pipe did not cast it to fp32
        assert detail_render.detail_pipe(loaded) is pipe  # made once


def test_sd15_detail_pass_runs(tmp_path, references: list[c.Reference]) -> None:
    settings = load_settings(
        model="tiny-sd15", face_backend="dlib", data_dir=tmp_path, face_detail="always"
    )
    rt = Runtime(settings).load(("faces", "pipeline", "signer"), warm_up=False)
    done, _ = _direct(rt, references, face_canvas())
    assert done.report is not None and done.detailed is not None


def test_the_setting_and_the_contract() -> None:
    assert load_settings(face_detail=" ALWAYS ").face_detail == "always"
    with pytest.raises(ConfigError, match=r"SITTER_FACE_DETAIL.*auto, always, off"):
        load_settings(face_detail="sometimes")
    with pytest.raises(ConfigError, match="SITTER_FACE_DETAIL_STRENGTH"):
        load_settings(face_detail_strength=0)
    old = {"seed": 1, "image": b"x", "likeness": 0.5, "face_found": True, "passed": True}
    assert c.Variation.model_validate(old).detail is None  # results from before still parse
    d = c.FaceDetail(
        reason="near_gate",
        strength=0.35,
        crop=[1, 2, 3, 4],
        likeness_before=0.43,
        likeness_after=0.5,
        kept=True,
        seconds=0.2,
    )
    back = c.Variation.model_validate(c.deserialize(c.serialize(c.Variation(**old, detail=d))))
    assert back.detail == d


def test_the_near_gate_band_follows_the_backends_scale() -> None:
    assert detail.near_gate_band(0.46) == pytest.approx(detail.NEAR_GATE_BAND)  # dlib
    assert detail.near_gate_band(0.68) == pytest.approx(0.06 * 0.32 / 0.54)  # insightface


def test_a_face_too_large_for_its_margin_leaves_no_seam(runtime: Runtime) -> None:
    """The crop is at most the image; where its edge lies inside the image, the mask is 0."""
    photo = Image.new("RGB", (320, 200), (200, 180, 160))
    photo.paste(astronaut(), (40, -30))  # a face of about 90 px: 2.5 times is 225
    face = runtime.require_analyzer().detect(photo)[0]
    crop = detail.face_crop_box(face.box, photo.size)
    x0, _, x1, _ = crop.box
    assert crop.side == 200 and x0 > 0 and x1 < 320  # clamped to the height, inside in x
    m = np.asarray(detail.feather_mask(crop, photo.size))
    assert not m[:, 0].any() and not m[:, -1].any()  # the interior edges fade out
    assert m.max() == 255
