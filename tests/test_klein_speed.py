"""FLUX.2 [klein] 4B's speed preparation (issue 16): the published architecture on the
meta device (parameters, FLOPs), the bench on the tiny model, and the order's
references VAE-encoded once, not once per render."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest
from conftest import FACES, needs_shared
from PIL import Image

from engine.pipeline import klein, klein_speed
from engine.pipeline.configs.klein import build_klein, load_config, parameter_counts

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.usefixtures("one_torch_thread")


def flop_count():
    """benchmarks/flop_count.py: the FLOP counting is benchmark code, not the engine's."""
    spec = importlib.util.spec_from_file_location("flop_count", ROOT / "benchmarks/flop_count.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["flop_count"] = module
    spec.loader.exec_module(module)
    return module


def bench():
    spec = importlib.util.spec_from_file_location("bench_speed", ROOT / "benchmarks/bench_speed.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_speed"] = module
    spec.loader.exec_module(module)
    return module


def test_klein_configs_are_the_4b_architecture() -> None:
    tr = load_config("transformer")
    assert (tr["num_layers"], tr["num_single_layers"]) == (5, 20)
    assert tr["num_attention_heads"] * tr["attention_head_dim"] == 3072
    te = load_config("text_encoder")
    # The transformer reads Qwen3-4B's hidden states of 3 layers stacked (9, 18, 27).
    assert tr["joint_attention_dim"] == 3 * te["hidden_size"] == 7680
    assert te["num_hidden_layers"] == 36 >= max(klein.DEFAULT_OUT_LAYERS)
    # 32 latent channels, 2x2 patches: the transformer's 128 input channels.
    assert load_config("vae")["latent_channels"] * 4 == tr["in_channels"] == 128
    with pytest.raises(ValueError, match="unknown klein component 'unet'"):
        load_config("unet")


@pytest.fixture(scope="module")
def klein_meta():
    return build_klein("meta")


@pytest.mark.slow
def test_klein_parameter_counts_on_meta(klein_meta) -> None:
    counts = parameter_counts(klein_meta)
    assert counts == {
        "transformer": 3_875_544_576,
        "vae": 84_046_115,
        "text_encoder": 4_022_468_096,  # Qwen3-4B: 4.0 B published (tied embeddings)
    }
    assert klein_meta.transformer.device.type == "meta"
    # The pipeline's text-limit logic takes the real layers from this shape.
    assert klein.text_limits(klein_meta).out_layers == klein.DEFAULT_OUT_LAYERS


@pytest.mark.slow
def test_klein_flops_on_meta(klein_meta) -> None:
    flops = flop_count().count_klein_flops(klein_meta, 1024, 4, 512)
    assert round(flops.transformer_plain / 1e12, 1) == 34.8  # 4,096 + 512 tokens
    assert round(flops.transformer / 1e12, 1) == 76.7  # + 4 x 1,024 reference tokens
    assert round(flops.vae_decode / 1e12, 2) == 10.47
    job = flops.job(4, 4)
    assert job == 16 * flops.transformer + 4 * flops.vae_decode + 4 * flops.vae_encode + flops.text
    assert round(job / 1e12) == 1278 and round(job / 790e12, 2) == 1.62


def test_tiny_klein_flop_count_is_stable() -> None:
    from engine.pipeline.tiny_klein import build_tiny_klein

    flops = flop_count().count_klein_flops(build_tiny_klein(), 64, 4, 64)
    assert (flops.transformer, flops.transformer_plain) == (99_667_968, 43_044_864)
    assert (flops.vae_decode, flops.vae_encode, flops.text) == (86_310_912, 43_057_152, 12_238_848)


@pytest.mark.slow
def test_bench_runs_tiny_klein_on_cpu_eager_and_compiled(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Both rows through the engine's render (graph capture for the compiled one);
    figures checked as the bench computed them (its --json rows)."""
    out_json = tmp_path / "rows.json"
    args = ["--config", "tiny-klein", "--device", "cpu", "--repeats", "1", "--warmup", "0"]
    args += ["--compile", "trace", "--json", str(out_json)]
    assert bench().main(args) == 0
    out = capsys.readouterr().out
    assert "klein job (4 images, 4 steps, 4 refs)" in out
    rows = json.loads(out_json.read_text())
    assert [r["variant"] for r in rows] == ["all-switches", "+compile(trace)"]
    for r in rows:
        assert r["path"] == "klein-4r" and (r["steps"], r["images"], r["size"]) == (4, 4, 64)
        assert 0 < r["s_min"] <= r["s_per_job"] < 120
        assert r["images_per_s"] == pytest.approx(4 / r["s_per_job"], rel=1e-9)
        assert 0 < r["floor_s"] < r["s_per_job"]
        assert r["ratio"] == pytest.approx(r["s_per_job"] / r["floor_s"], rel=1e-9)
    assert rows[1]["first_s"] > 0  # capture + one job
    table = out[out.rindex("variant") :].splitlines()[1:3]
    assert [line.split()[1] for line in table] == ["klein-4r", "klein-4r"]


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory):
    from engine.runtime import Runtime
    from sitter.config import load_settings

    data = tmp_path_factory.mktemp("klein-speed")
    settings = load_settings(model="tiny-klein", face_backend="dlib", data_dir=data)
    return Runtime(settings).load(("faces", "pipeline", "signer"))


class _EncoderCalls:
    """Counts the VAE encoder's real forward calls (a module hook, not a stand-in)."""

    def __init__(self, vae) -> None:
        self.n = 0
        self._handle = vae.encoder.register_forward_hook(self._count)

    def _count(self, *_a) -> None:
        self.n += 1

    def close(self) -> None:
        self._handle.remove()


@pytest.mark.slow
def test_references_are_encoded_once_per_order_and_reuse_is_exact(runtime) -> None:
    from engine.pipeline.generate import Resolved, render

    loaded = runtime.require_pipeline()
    side = klein.reference_side(loaded)
    images = [Image.new("RGB", (side, side), (40 * i, 90, 160 - 30 * i)) for i in range(4)]
    params = Resolved(2, 1.0, 64, 64, 1.0)
    kw = dict(prompt="a portrait", negative_prompt="", params=params, seeds=[1, 2], refs=None)
    calls = _EncoderCalls(loaded.pipe.vae)
    try:
        plain = render(loaded, **kw, ref_images=images)
        assert calls.n == 4  # the pipeline itself: once per reference per call
        latents = klein.ReferenceLatents()
        first = render(loaded, **kw, ref_images=images, ref_latents=latents)
        again = render(loaded, **kw, ref_images=images, ref_latents=latents)
        assert calls.n == 8 and latents.encoded == 4  # the re-render encoded nothing
        other = [im.transpose(Image.Transpose.FLIP_LEFT_RIGHT) for im in images]
        render(loaded, **kw, ref_images=other, ref_latents=latents)
        assert calls.n == 12  # other references: encoded afresh, not the stale latents
    finally:
        calls.close()
    assert "_encode_vae_image" not in loaded.pipe.__dict__  # the stand-in is gone
    for a, b, c in zip(plain, first, again, strict=True):
        assert a.tobytes() == b.tobytes() == c.tobytes()


@needs_shared
@pytest.mark.slow
def test_an_order_with_retries_encodes_its_references_once(runtime) -> None:
    """generate() re-renders every variation the likeness gate rejects (random weights
    draw no face: all of them); the references are VAE-encoded at the first render only."""
    from engine.analysis import analyze_photo
    from engine.pipeline.generate import generate
    from sitter import contract as c

    refs = []
    for path in sorted((FACES / "deepface_id01").glob("*.jpg")):
        res = analyze_photo(
            c.AnalyzePhotoRequest(photo=path.read_bytes()), runtime.require_analyzer()
        )
        if res.accepted and res.embedding is not None:
            refs.append(
                c.Reference(embedding=res.embedding, face_crop=res.face_crop, quality=res.quality)
            )
    chosen = len(klein.choose_references(refs))
    assert chosen >= 2
    req = c.GenerateRequest(
        generation_id="klein-speed",
        prompt="a portrait",
        reference_prompt="a portrait of the person in the reference images",
        seeds=[3, 4],
        references=refs,
        max_attempts=3,
    )
    calls = _EncoderCalls(runtime.require_pipeline().pipe.vae)
    try:
        result = generate(runtime, req)
    finally:
        calls.close()
    assert [v.attempts for v in result.variations] == [3, 3]  # three renders
    assert calls.n == chosen  # not 3 x chosen


@pytest.mark.slow
def test_compiled_klein_warms_up_with_four_references(tmp_path: Path) -> None:
    """The worker's compiled path: klein's switches, then the warm-up renders the
    production shape (four references); graph capture with dynamo's eager backend."""
    from engine.pipeline.generate import warm_up
    from engine.pipeline.loader import load_pipeline
    from sitter.config import load_settings

    settings = load_settings(model="tiny-klein", device="cpu", model_cache=tmp_path)
    loaded = load_pipeline(settings)
    assert not loaded.speed.compiled  # auto: off on a CPU
    state = klein_speed.apply_speedups(loaded, True, compile_backend="eager")
    assert loaded.speed is state
    assert state.compiled and "compile(eager)" in state.describe()
    calls = _EncoderCalls(loaded.pipe.vae)
    try:
        assert warm_up(loaded, batches=(2,)) is True
    finally:
        calls.close()
    assert calls.n == klein.MAX_REFERENCES  # the warm-up saw four references
