"""Qwen-Image-Edit-2509, the second reference-image family (engine/families/qwen_edit.py).

The tiny model is built from the real classes (``QwenImageEditPlusPipeline``,
``QwenImageTransformer2DModel``, ``AutoencoderKLQwenImage``,
``Qwen2_5_VLForConditionalGeneration``, a byte-level tokenizer and the PIL image
processor made in code) and saved in the real repo's layout; everything else is the
production path: the loader's family detection, the references chosen and prepared,
the batched render, vary/relight through refine, the licence verdict.
"""

from __future__ import annotations

import io
import json
import threading
from pathlib import Path

import numpy as np
import pytest
from identity_refs import made_up
from PIL import Image

from engine.runtime import Runtime
from sitter import contract as c
from sitter.config import load_settings

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Runtime:
    data = tmp_path_factory.mktemp("qwen")
    settings = load_settings(model="tiny-qwen-edit", face_backend="dlib", data_dir=data)
    return Runtime(settings).load(("faces", "pipeline", "signer"))


def _refs() -> list[c.Reference]:
    return [made_up([0.1 * (i + 1)] * 128, seed=i) for i in range(4)]


def _order(seeds: tuple[int, ...] = (7, 8), attempts: int = 1) -> c.GenerateRequest:
    return c.GenerateRequest(
        generation_id="qwen-test",
        prompt="a text-to-image prompt that an editing model must not use",
        reference_prompt="a portrait of the person in the reference images",
        seeds=list(seeds),
        references=_refs(),
        max_attempts=attempts,
    )


def _pixels(res: c.GenerateResult) -> list[bytes]:  # the C2PA manifest differs per file
    return [Image.open(io.BytesIO(v.image)).convert("RGB").tobytes() for v in res.variations]


def test_tiny_qwen_edit_is_the_real_layout_loaded_by_the_production_loader(
    runtime: Runtime,
) -> None:
    from diffusers import QwenImageEditPlusPipeline

    from engine.pipeline.loader import detect_family, model_folder

    loaded = runtime.require_pipeline()
    assert isinstance(loaded.pipe, QwenImageEditPlusPipeline)
    assert loaded.family == "qwen-edit" == detect_family(runtime.settings)
    folder, _ = model_folder(runtime.settings)
    assert folder is not None and folder.name == "qwen-edit-v1"
    index = json.loads((folder / "model_index.json").read_text())
    assert index["_class_name"] == "QwenImageEditPlusPipeline"
    assert index["processor"] == ["transformers", "Qwen2VLProcessor"]  # the real repo's
    assert index["text_encoder"] == ["transformers", "Qwen2_5_VLForConditionalGeneration"]
    for part in ("transformer", "vae", "text_encoder"):
        assert list((folder / part).glob("*.safetensors")), part
    assert (folder / "processor").is_dir() and (folder / "tokenizer").is_dir()
    assert loaded.speed is not None and "compile" in loaded.speed.skipped  # CPU


def test_an_order_is_deterministic_and_encodes_each_picture_once(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    from engine.families.qwen_edit import Pictures
    from engine.pipeline.generate import generate

    loaded = runtime.require_pipeline()
    inputs = loaded.model_family.prepare(loaded, _order())
    assert inputs.prompt == "a portrait of the person in the reference images"
    assert len(inputs.ref_images) == 3  # at most three input pictures
    assert isinstance(inputs.ref_latents, Pictures)

    pipe_class = type(loaded.pipe)
    real_encode = pipe_class._encode_vae_image
    encoded: list[object] = []

    def counting(self: object, image: object, generator: object) -> object:
        encoded.append(image)
        return real_encode(self, image=image, generator=generator)

    monkeypatch.setattr(pipe_class, "_encode_vae_image", counting)
    first = generate(runtime, _order(attempts=2))  # random weights: every attempt fails
    monkeypatch.undo()
    assert [v.seed for v in first.variations] == [7, 8] and first.model == "tiny-qwen-edit"
    assert all(v.attempts == 2 for v in first.variations)
    assert len(encoded) == 3  # three pictures, encoded once for both attempts
    assert len(set(_pixels(first))) == 2  # two seeds, two pictures
    again = generate(runtime, _order(attempts=2))
    assert _pixels(again) == _pixels(first)  # same order, same pixels


def test_other_photos_make_other_pictures(runtime: Runtime) -> None:
    from engine.pipeline.generate import generate

    ours = generate(runtime, _order(seeds=(3,)))
    others = _order(seeds=(3,)).model_copy(
        update={"references": [made_up([0.5] * 128, seed=9 + i) for i in range(3)]}
    )
    assert _pixels(generate(runtime, others)) != _pixels(ours)  # the pictures are read


def test_vary_starts_from_the_portrait_at_its_strength(runtime: Runtime) -> None:
    from engine.families import Draw
    from engine.pipeline.generate import resolve_params, step_callback

    loaded = runtime.require_pipeline()
    family = loaded.model_family
    params = resolve_params(loaded, c.GenerationParams())
    refs = family.prepare(loaded, _order()).ref_images
    draw = Draw("a portrait", "", params, [5], np.zeros((1, 128), np.float32), ref_images=refs)
    on_step = step_callback(None, params.steps, "test")
    start = Image.new("RGB", (64, 64), (200, 40, 40))
    low = family.render_from(loaded, draw, start, 0.05, on_step)[0]
    high = family.render_from(loaded, draw, start, 1.0, on_step)[0]
    again = family.render_from(loaded, draw, start, 0.05, on_step)[0]
    assert low.size == (64, 64) and np.array_equal(np.asarray(low), np.asarray(again))
    assert not np.array_equal(np.asarray(low), np.asarray(high))  # strength is used


def test_vary_off_the_models_grid_keeps_the_portraits_size(runtime: Runtime) -> None:
    """72x80 is on a grid of 8 but not on the model's (``vae_scale_factor * 2``, 32 on
    the tiny model, 16 on the real one): it renders, and comes back at 72x80."""
    from engine.families import Draw
    from engine.pipeline.generate import resolve_params, step_callback

    loaded = runtime.require_pipeline()
    family = loaded.model_family
    assert 72 % (loaded.pipe.vae_scale_factor * 2) != 0
    params = resolve_params(loaded, c.GenerationParams())
    refs = family.prepare(loaded, _order()).ref_images
    draw = Draw("a portrait", "", params, [5, 6], np.zeros((2, 128), np.float32), ref_images=refs)
    on_step = step_callback(None, params.steps, "test")
    start = Image.new("RGB", (72, 80), (200, 40, 40))
    out = family.render_from(loaded, draw, start, 0.5, on_step)
    assert [im.size for im in out] == [(72, 80), (72, 80)]
    crops = family.render_crops(loaded, draw, [start, start], 0.5, 2, on_step)
    assert [im.size for im in crops] == [(72, 80), (72, 80)]


def test_refine_relights_through_the_family(runtime: Runtime) -> None:
    from identity_refs import png

    from engine.refine import refine

    portrait = png(Image.new("RGB", (64, 64), (90, 120, 160)))
    req = c.RefineRequest(
        generation_id="qwen-relight",
        image=portrait,
        mode=c.RefineMode.RELIGHT,
        strength=c.RefineStrength.SUBTLE,
        lighting="soft window light",
        prompt="a portrait",
        reference_prompt="a portrait of the person in the reference images",
        seeds=[11],
        references=_refs(),
        max_attempts=1,
    )
    res = refine(runtime, req)
    assert res.mode == c.RefineMode.RELIGHT and len(res.variations) == 1
    with Image.open(io.BytesIO(res.variations[0].image)) as im:
        assert im.size == (64, 64)


def test_qwen_image_edit_2509_is_licensed_for_commercial_use(tmp_path: Path) -> None:
    from engine import licences
    from engine.licence_registry import PARTS

    part = PARTS["Qwen/Qwen-Image-Edit-2509"]
    assert part.licence == "Apache-2.0" and part.commercial_ok
    settings = load_settings(
        model="Qwen/Qwen-Image-Edit-2509", face_backend="dlib", data_dir=tmp_path
    )
    assert licences.base_family(settings) == "qwen-edit"  # known before it is fetched
    verdict = licences.verdict(settings)
    assert verdict.commercial_ok, verdict.summary()
    assert [p.key for p in licences.licensed_parts(settings)["pipeline"]] == [
        "Qwen/Qwen-Image-Edit-2509",
        "reference-images",
    ]


def test_prompts_of_any_length_fit(runtime: Runtime) -> None:
    from engine.prompt_check import check_prompt

    long = "a portrait of the person in the reference images, " * 40
    res = check_prompt(runtime.settings, c.CheckPromptRequest(prompt=long, reference_prompt=long))
    assert res.fits and res.family == "qwen-edit" and res.tokens is None


def _bench_speed():
    import importlib.util
    import sys

    root = Path(__file__).resolve().parent.parent
    spec = importlib.util.spec_from_file_location("bench_speed", root / "benchmarks/bench_speed.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_speed"] = module
    spec.loader.exec_module(module)
    return module


def test_bench_speed_times_an_order_on_tiny_qwen_edit(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """benchmarks/bench_speed.py's short mode for this family: one timed order through
    the engine's render, its row as the bench wrote it (--json); --dry says so."""
    bench = _bench_speed()
    assert bench.main(["--config", "tiny-qwen-edit", "--dry"]) == 0
    assert "no meta-device counts" in capsys.readouterr().out
    out_json = tmp_path / "rows.json"
    args = ["--config", "tiny-qwen-edit", "--device", "cpu", "--repeats", "1", "--warmup", "0"]
    args += ["--images", "2", "--json", str(out_json)]
    assert bench.main(args) == 0
    out = capsys.readouterr().out
    assert "qwen-edit job (2 images, 4 steps, 3 pictures)" in out
    [row] = json.loads(out_json.read_text())
    assert row["path"] == "qwen-3p" and (row["steps"], row["images"], row["size"]) == (4, 2, 64)
    assert 0 < row["s_min"] <= row["s_per_job"] < 300
    assert row["images_per_s"] == pytest.approx(2 / row["s_per_job"], rel=1e-9)
    assert row["floor_s"] is None  # no FLOP count for this family yet: no made-up floor
    assert out[out.rindex("variant") :].splitlines()[1].split()[1] == "qwen-3p"


def test_the_face_detail_pass_edits_each_crop_beside_the_photos(runtime: Runtime) -> None:
    from engine.pipeline.detail_render import render_crops
    from engine.pipeline.generate import resolve_params

    loaded = runtime.require_pipeline()
    params = resolve_params(loaded, c.GenerationParams())
    photos = loaded.model_family.prepare(loaded, _order()).ref_images
    crops = [Image.new("RGB", (40, 40), (180, 150, 120)), Image.new("RGB", (32, 32), (90, 60, 40))]

    def detail(seeds: list[int]) -> list[np.ndarray]:
        out = render_crops(
            loaded,
            crops,
            seeds,
            prompt="a portrait of the person in the reference images",
            negative_prompt="",
            params=params,
            strength=0.4,
            refs=np.zeros((1, 128), np.float32),
            id_crops=[],
            ref_images=photos,
        )
        assert [im.size for im in out] == [(64, 64), (64, 64)]  # the model's own square
        return [np.asarray(im) for im in out]

    first = detail([1, 2])
    assert all(np.array_equal(a, b) for a, b in zip(first, detail([1, 2]), strict=True))
    assert not np.array_equal(first[0], detail([3, 2])[0])  # each crop's own seed


def test_nothing_of_an_order_stays_with_the_pipeline(runtime: Runtime) -> None:
    """The person's prepared photos and their latents live with the order only: after a
    render, a vary and a failed order, the worker's pipeline holds nothing of them."""
    from identity_refs import png

    from engine.pipeline.generate import generate
    from engine.pipeline.loaded import Cancelled
    from engine.refine import refine

    loaded = runtime.require_pipeline()
    before = dict(loaded.extra)
    generate(runtime, _order(seeds=(4,)))
    assert loaded.extra == before
    vary = c.RefineRequest(
        generation_id="qwen-vary-forget",
        image=png(Image.new("RGB", (64, 64), (90, 120, 160))),
        mode=c.RefineMode.VARY,
        strength=c.RefineStrength.SUBTLE,
        prompt="a portrait",
        reference_prompt="a portrait of the person in the reference images",
        seeds=[12],
        references=_refs(),
        max_attempts=1,
    )
    refine(runtime, vary)
    assert loaded.extra == before
    broken = _order(seeds=(5,)).model_copy(update={"generation_id": "qwen-broken"})
    cancelled = threading.Event()
    cancelled.set()
    with pytest.raises(Cancelled):  # the order ends at its first step
        generate(runtime, broken, cancel=cancelled)
    assert loaded.extra == before
