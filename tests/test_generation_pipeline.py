"""The generation path with the tiny offline model: loading, batching, seeds, adapter."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps

from engine.pipeline.generate import render, resolve_params, retry_seed
from engine.pipeline.loader import LoadedPipeline, detect_family, load_pipeline
from sitter.config import ConfigError, load_settings
from sitter.contract import GenerationParams

# Two cores shared by many processes: one torch thread is several times faster here.
pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models")


def _settings(models_dir: Path, model: str = "tiny", **kw: object):
    return load_settings(model=model, face_backend="dlib", model_cache=models_dir, **kw)


@pytest.fixture(scope="module", params=["tiny", "tiny-sd15"])
def loaded(request: pytest.FixtureRequest, models_dir: Path) -> LoadedPipeline:
    return load_pipeline(_settings(models_dir, request.param))


REFS = np.random.default_rng(0).normal(size=(3, 128)).astype(np.float32)
_rng = np.random.default_rng(1)
CROPS = [Image.fromarray(_rng.integers(0, 256, (256, 256, 3), dtype=np.uint8)) for _ in range(4)]
OTHER_CROPS = [ImageOps.mirror(c).rotate(90) for c in CROPS]


def _render(
    loaded: LoadedPipeline,
    seeds: list[int],
    refs: np.ndarray = REFS,
    crops: list[Image.Image] = CROPS,
    **params: object,
):
    resolved = resolve_params(loaded, GenerationParams(**params))  # type: ignore[arg-type]
    images = render(
        loaded,
        prompt="a portrait",
        negative_prompt="blurry",
        params=resolved,
        seeds=seeds,
        refs=refs,
        crops=crops,
    )
    return [np.asarray(im).astype(np.int16) for im in images]


def test_tiny_model_loads_through_the_real_loader(loaded: LoadedPipeline) -> None:
    from diffusers.models.embeddings import IPAdapterPlusImageProjection

    expected = {"tiny": ("sdxl", "StableDiffusionXLPipeline"), "tiny-sd15": ("sd15", "")}
    family, cls = expected[loaded.model]
    assert loaded.family == family
    assert type(loaded.pipe).__name__ == (cls or "StableDiffusionPipeline")
    # dlib faces -> IP-Adapter Plus Face, through load_ip_adapter: the resampler, the IP
    # processors and the CLIP image encoder it is fed through.
    (projection,) = loaded.pipe.unet.encoder_hid_proj.image_projection_layers
    assert isinstance(projection, IPAdapterPlusImageProjection)
    procs = {type(p).__name__ for p in loaded.pipe.unet.attn_processors.values()}
    assert "IPAdapterAttnProcessor2_0" in procs
    assert type(loaded.pipe.image_encoder).__name__ == "CLIPVisionModelWithProjection"
    assert loaded.adapter.kind == "plus-face" and not loaded.adapter.trained
    assert loaded.adapter.id_dim == 128
    assert loaded.device == "cpu" and "float32" in loaded.opts.describe()


def test_four_variations_in_one_call_are_distinct_and_bit_exact(loaded: LoadedPipeline) -> None:
    first = _render(loaded, [11, 12, 13, 14])
    again = _render(loaded, [11, 12, 13, 14])
    assert [a.shape for a in first] == [(64, 64, 3)] * 4
    for a, b in zip(first, again, strict=True):
        assert np.array_equal(a, b)  # same order + same seeds -> the same pixels
    for i in range(1, 4):
        assert np.abs(first[0] - first[i]).mean() > 5  # each seed its own image


def test_a_seed_reproduces_its_image_outside_the_batch(loaded: LoadedPipeline) -> None:
    batch = _render(loaded, [21, 22, 23, 24])
    (alone,) = _render(loaded, [23])
    # Per-image CPU generators: the same latents. Batched vs single matmuls may round
    # differently in the last bit, so allow one 8-bit step.
    assert np.abs(batch[2] - alone).max() <= 2


def test_the_face_crops_steer_the_image(loaded: LoadedPipeline) -> None:
    (a,) = _render(loaded, [5])
    (b,) = _render(loaded, [5], crops=OTHER_CROPS)
    (c,) = _render(loaded, [5], crops=OTHER_CROPS, identity_scale=0.0)
    (d,) = _render(loaded, [5], identity_scale=0.0)
    assert np.abs(a - b).mean() > 0.5  # the adapter is live: other face, other pixels
    assert np.array_equal(c, d)  # scale 0 switches it off


def test_style_params_override_the_family_defaults(loaded: LoadedPipeline) -> None:
    (img,) = _render(loaded, [1], width=80, height=64, steps=2, guidance=1.0)
    assert img.shape == (64, 80, 3)
    with pytest.raises(ValueError, match="multiples of 8"):
        resolve_params(loaded, GenerationParams(width=100))


def test_retry_seeds_are_deterministic_and_new() -> None:
    assert retry_seed(7, 1) == 7
    assert retry_seed(7, 2) == retry_seed(7, 2) != 7
    assert len({retry_seed(s, a) for s in range(4) for a in (1, 2, 3)}) == 12


def test_family_comes_from_model_index(tmp_path: Path, models_dir: Path) -> None:
    folder = tmp_path / "sd15"
    folder.mkdir()
    (folder / "model_index.json").write_text(json.dumps({"_class_name": "StableDiffusionPipeline"}))
    assert detect_family(_settings(models_dir, str(folder))) == "sd15"
    (folder / "model_index.json").write_text(json.dumps({"_class_name": "FluxPipeline"}))
    with pytest.raises(ConfigError, match="FluxPipeline"):
        detect_family(_settings(models_dir, str(folder)))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ConfigError, match=r"no model_index\.json"):
        detect_family(_settings(models_dir, str(empty)))


def test_hub_model_missing_from_the_cache_says_what_to_do(models_dir: Path) -> None:
    with pytest.raises(ConfigError, match="sitter models fetch"):
        detect_family(_settings(models_dir, "stabilityai/stable-diffusion-xl-base-1.0"))


def test_output_is_png_sized_as_asked(loaded: LoadedPipeline) -> None:
    from engine.pipeline.generate import png_bytes

    resolved = resolve_params(loaded, GenerationParams())
    (im,) = render(
        loaded,
        prompt="x",
        negative_prompt="",
        params=resolved,
        seeds=[3],
        refs=REFS[:1],
        crops=CROPS,
    )
    with Image.open(io.BytesIO(png_bytes(im))) as back:
        assert back.format == "PNG" and back.size == (64, 64)


def test_sdxl_sized_styles_fit_the_tiny_model(loaded: LoadedPipeline) -> None:
    r = resolve_params(loaded, GenerationParams(width=832, height=1216, steps=30))
    assert (r.width, r.height, r.steps) == (40, 64, 8)


def test_a_cancelled_render_stops_at_the_next_step(loaded: LoadedPipeline) -> None:
    import threading

    from engine.pipeline.generate import Cancelled

    cancel = threading.Event()
    cancel.set()  # as when the job's time limit fires while the thread renders
    resolved = resolve_params(loaded, GenerationParams())
    with pytest.raises(Cancelled):
        render(
            loaded,
            prompt="x",
            negative_prompt="",
            params=resolved,
            seeds=[1],
            refs=REFS[:1],
            crops=CROPS,
            cancel=cancel,
        )
