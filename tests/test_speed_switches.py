"""Each speed switch leaves the tiny pipeline's output unchanged beyond float rounding;
CFG is one batched UNet call; the fast path is 4 steps without guidance."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from diffusers.models.attention_processor import AttnProcessor2_0

from engine.pipeline import speed
from engine.pipeline.generate import Resolved, render, warm_up
from engine.pipeline.identity_input import identity_kwargs, placeholder_crops
from engine.pipeline.loader import LoadedPipeline, load_pipeline
from sitter.config import load_settings

SIDE = 64
SEEDS = [3, 4]
CROPS = placeholder_crops()


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models")


def fresh(models_dir: Path, **overrides: object) -> LoadedPipeline:
    """A tiny SDXL through the production loader (CPU: no compile, speedups applied)."""
    settings = load_settings(
        model="tiny", device="cpu", model_cache=models_dir, face_backend="insightface", **overrides
    )
    return load_pipeline(settings)


def latents(loaded: LoadedPipeline, steps: int = 2, guidance: float = 5.0) -> np.ndarray:
    """The pipeline call render() makes, stopped before the VAE for a float comparison."""
    refs = np.random.default_rng(7).standard_normal((3, loaded.id_dim)).astype(np.float32)
    cfg = guidance > 1.0
    loaded.pipe.set_ip_adapter_scale(1.0)
    with torch.inference_mode():
        identity = identity_kwargs(loaded, refs, CROPS, cfg=cfg, batch=len(SEEDS))
        out = loaded.pipe(
            prompt="a portrait",
            negative_prompt="blurry",
            num_images_per_prompt=len(SEEDS),
            generator=[torch.Generator().manual_seed(s) for s in SEEDS],
            num_inference_steps=steps,
            guidance_scale=guidance,
            width=SIDE,
            height=SIDE,
            **identity,
            output_type="latent",
        )
    return out.images.float().numpy()


def decoded(loaded: LoadedPipeline, lat: np.ndarray) -> np.ndarray:
    vae = loaded.pipe.vae
    with torch.inference_mode():
        z = torch.from_numpy(lat) / vae.config.scaling_factor
        return vae.decode(z.to(memory_format=torch.channels_last)).sample.float().numpy()


def rel(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def unfused(models_dir: Path) -> LoadedPipeline:
    """The same model with every fused module put back on plain SDPA processors."""
    loaded = fresh(models_dir)
    for model in (loaded.pipe.unet, loaded.pipe.vae):
        procs = model.attn_processors
        plain = {
            n: p if "IPAdapter" in type(p).__name__ else AttnProcessor2_0()
            for n, p in procs.items()
        }
        model.set_attn_processor(plain)
    return loaded


@pytest.fixture(scope="module")
def reference(models_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    loaded = unfused(models_dir)
    lat = latents(loaded)
    return lat, decoded(loaded, lat)


def test_loader_applies_speedups_and_keeps_the_identity_adapter(models_dir: Path) -> None:
    loaded = fresh(models_dir)
    state = loaded.speed
    assert state is not None
    assert "sdpa" in state.applied and any(a.startswith("fused-qkv") for a in state.applied)
    assert "compile" in state.skipped  # CPU: SITTER_COMPILE=auto is off
    kinds = {name: type(p).__name__ for name, p in loaded.pipe.unet.attn_processors.items()}
    cross = [k for n, k in kinds.items() if n.endswith("attn2.processor")]
    selfattn = [k for n, k in kinds.items() if n.endswith("attn1.processor")]
    assert cross and all(k == "IPAdapterAttnProcessor2_0" for k in cross)
    assert selfattn and all(k == "FusedAttnProcessor2_0" for k in selfattn)


def test_fused_projections_match_unfused(models_dir: Path, reference) -> None:
    lat, img = reference
    loaded = fresh(models_dir)  # fused by the loader
    got = latents(loaded)
    assert rel(got, lat) < 1e-4
    assert rel(decoded(loaded, got), img) < 1e-4


def test_identity_scale_still_acts_after_fusing(models_dir: Path) -> None:
    loaded = fresh(models_dir)
    refs = np.random.default_rng(1).standard_normal((2, loaded.id_dim)).astype(np.float32)
    params = Resolved(2, 0.0, SIDE, SIDE, 0.0)
    off = render(
        loaded, prompt="p", negative_prompt="", params=params, seeds=[5], refs=refs, crops=CROPS
    )
    on = render(
        loaded,
        prompt="p",
        negative_prompt="",
        params=Resolved(2, 0.0, SIDE, SIDE, 1.0),
        seeds=[5],
        refs=refs,
        crops=CROPS,
    )
    assert np.abs(np.asarray(off[0], float) - np.asarray(on[0], float)).max() > 0


def test_diffusers_fuse_qkv_would_drop_the_adapter(models_dir: Path) -> None:
    """Why speed.fuse_projections exists: the stock call replaces IP-Adapter processors."""
    loaded = unfused(models_dir)
    loaded.pipe.unet.fuse_qkv_projections()
    kinds = {type(p).__name__ for p in loaded.pipe.unet.attn_processors.values()}
    assert kinds == {"FusedAttnProcessor2_0"}


def test_channels_last_matches(models_dir: Path, reference) -> None:
    lat, img = reference
    loaded = unfused(models_dir)
    loaded.pipe.unet.to(memory_format=torch.channels_last)
    loaded.pipe.vae.to(memory_format=torch.channels_last)
    got = latents(loaded)
    assert rel(got, lat) < 1e-4
    assert rel(decoded(loaded, got), img) < 1e-4


def test_classic_attention_matches_sdpa(models_dir: Path, reference) -> None:
    lat, _ = reference
    loaded = unfused(models_dir)
    speed.set_classic_attention(loaded.pipe.unet)
    assert rel(latents(loaded), lat) < 1e-4


def test_all_switches_together_match(models_dir: Path, reference) -> None:
    lat, img = reference
    loaded = fresh(models_dir)
    speed.apply_speedups(loaded, False, channels_last=True)
    got = latents(loaded)
    assert rel(got, lat) < 1e-4
    assert rel(decoded(loaded, got), img) < 1e-4


def count_unet_calls(loaded: LoadedPipeline) -> list[int]:
    batches: list[int] = []
    loaded.pipe.unet.register_forward_pre_hook(
        lambda _m, args: batches.append(int(args[0].shape[0]))
    )
    return batches


def test_cfg_is_one_batched_unet_call_per_step(models_dir: Path) -> None:
    loaded = fresh(models_dir)
    batches = count_unet_calls(loaded)
    refs = np.ones((1, loaded.id_dim), np.float32)
    params = Resolved(3, 5.0, SIDE, SIDE, 0.8)
    out = render(
        loaded, prompt="p", negative_prompt="n", params=params, seeds=SEEDS, refs=refs, crops=CROPS
    )
    assert len(out) == 2
    assert batches == [2 * len(SEEDS)] * 3


def test_fast_path_is_four_steps_without_guidance_on_trailing_timesteps(models_dir: Path) -> None:
    loaded = fresh(models_dir)
    batches = count_unet_calls(loaded)
    params = Resolved(4, 0.0, SIDE, SIDE, 0.8)  # a style asking for the fast path
    refs = np.ones((1, loaded.id_dim), np.float32)
    out = render(
        loaded,
        prompt="p",
        negative_prompt="",
        params=params,
        seeds=[1, 2, 3, 4],
        refs=refs,
        crops=CROPS,
    )
    assert loaded.pipe.scheduler.config.timestep_spacing == "trailing"  # render chose it
    assert len(out) == 4 and all(im.size == (SIDE, SIDE) for im in out)
    assert batches == [4, 4, 4, 4]  # 4 steps, no unconditional half
    assert [int(t) for t in loaded.pipe.scheduler.timesteps] == [999, 749, 499, 249]
    # A quality order afterwards gets the model's own scheduler back.
    speed.choose_path(loaded, Resolved(30, 5.0, SIDE, SIDE, 0.8))
    assert loaded.pipe.scheduler.config.timestep_spacing == "leading"


def test_fast_path_setting_turns_every_order_fast(models_dir: Path) -> None:
    loaded = fresh(models_dir, fast_path=True)
    params = speed.choose_path(loaded, Resolved(30, 5.5, SIDE, SIDE, 0.8))
    assert (params.steps, params.guidance) == (speed.FAST_STEPS, 0.0)
    assert loaded.pipe.scheduler.config.timestep_spacing == "trailing"
    batches = count_unet_calls(loaded)
    refs = np.ones((1, loaded.id_dim), np.float32)
    quality_order = Resolved(30, 5.5, SIDE, SIDE, 0.8)
    render(
        loaded,
        prompt="p",
        negative_prompt="",
        params=quality_order,
        seeds=[9],
        refs=refs,
        crops=CROPS,
    )
    assert batches == [1, 1, 1, 1]


def test_compile_setting() -> None:
    assert speed.compile_wanted("auto", "cuda") and speed.compile_wanted("auto", "cuda:1")
    assert not speed.compile_wanted("auto", "cpu")
    assert speed.compile_wanted("on", "cpu") and not speed.compile_wanted("off", "cuda")
    with pytest.raises(ValueError, match="SITTER_COMPILE='sometimes': use auto, on or off"):
        speed.compile_wanted("sometimes", "cuda")


@pytest.mark.slow
def test_unet_and_vae_decoder_compile_without_graph_breaks(
    models_dir: Path, reference, monkeypatch: pytest.MonkeyPatch
) -> None:
    """fullgraph=True raises on any graph break: the IP-Adapter and fused processors
    trace whole. The eager backend checks capture without inductor's compile time."""
    lat, _ = reference
    loaded = fresh(models_dir)
    torch._dynamo.reset()
    for name in ("automatic_dynamic_shapes", "cache_size_limit"):  # restored after the test
        monkeypatch.setattr(torch._dynamo.config, name, getattr(torch._dynamo.config, name))
    speed.apply_speedups(loaded, True, compile_backend="eager", static_shapes=True)
    assert not torch._dynamo.config.automatic_dynamic_shapes
    assert any(a.startswith("compile(") for a in loaded.speed.applied)
    got = latents(loaded)
    assert rel(got, lat) < 1e-4
    decoded(loaded, got)
    assert warm_up(loaded, batches=(len(SEEDS),))  # same shape: no recompile
    assert not warm_up(fresh(models_dir))  # nothing compiled: the plain 1-step render


def test_worker_warm_up_is_unchanged_without_compile(models_dir: Path) -> None:
    from engine.runtime import Runtime

    runtime = Runtime(load_settings(model="tiny", device="cpu", model_cache=models_dir))
    runtime.pipeline = fresh(models_dir)
    runtime.warm_up()  # the plain 1-step render; no compile on CPU by default
    assert not runtime.pipeline.speed.compiled
