"""SDXL identity that fits the face backend: IP-Adapter Plus Face (any backend, fed the
aligned face crops) and FaceID Plus v2 (insightface buffalo_l embedding + the crop's CLIP
features), random weights of the real classes in the real files' names and layouts,
loaded through the production loader and diffusers' own ``load_ip_adapter``."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import numpy as np
import pytest
from identity_refs import made_up, stand_in_crop
from PIL import Image, ImageOps

from engine.families.sdxl import SDXL
from engine.pipeline.adapter import (
    FACEID_PLUSV2,
    PLUS_FACE,
    AdapterFiles,
    adapter_kind,
    choose_adapter,
    load_adapter,
)
from engine.pipeline.generate import Resolved, render
from engine.pipeline.identity_input import MAX_CROPS, MissingFaceCrops, choose_crops
from engine.pipeline.loader import LoadedPipeline, load_pipeline
from sitter.config import ConfigError, load_settings

pytestmark = pytest.mark.usefixtures("one_torch_thread")

_rng = np.random.default_rng(3)
CROPS = [Image.fromarray(_rng.integers(0, 256, (256, 256, 3), dtype=np.uint8)) for _ in range(4)]
OTHER_CROPS = [ImageOps.mirror(c).rotate(90) for c in CROPS]
EMBEDS = np.random.default_rng(4).normal(size=(3, 512)).astype(np.float32)


def _sdxl_files(kind: str) -> AdapterFiles:
    files = SDXL.adapter_files_for(kind)
    assert files is not None, kind
    return files


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models")


def _settings(models_dir: Path, backend: str = "dlib", **kw: object):
    return load_settings(model="tiny", face_backend=backend, model_cache=models_dir, **kw)


@pytest.fixture(scope="module")
def faceid(models_dir: Path) -> LoadedPipeline:
    return load_pipeline(_settings(models_dir, "insightface"))  # buffalo_l -> FaceID Plus v2


def _one(loaded: LoadedPipeline, refs: np.ndarray, crops: list[Image.Image], scale: float = 1.0):
    params = Resolved(steps=3, guidance=5.0, width=64, height=64, identity_scale=scale)
    (im,) = render(
        loaded, prompt="a portrait", negative_prompt="", params=params, seeds=[7], refs=refs,
        crops=crops,
    )  # fmt: skip
    return np.asarray(im).astype(np.int16)


# --- which adapter --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("backend", "pack", "wanted", "kind"),
    [
        ("dlib", "buffalo_l", "auto", PLUS_FACE),
        ("insightface", "auraface", "auto", PLUS_FACE),
        ("insightface", "antelopev2", "auto", PLUS_FACE),  # not what FaceID was trained on
        ("insightface", "buffalo_l", "auto", FACEID_PLUSV2),
        ("insightface", "buffalo_l", "plus-face", PLUS_FACE),
        ("insightface", "buffalo_l", "FaceID-PlusV2", FACEID_PLUSV2),
    ],
)
def test_the_adapter_follows_the_face_backend(backend, pack, wanted, kind) -> None:
    settings = load_settings(face_backend=backend, face_pack=pack, identity_adapter=wanted)
    assert adapter_kind(settings) == kind


@pytest.mark.parametrize(("backend", "pack"), [("dlib", "buffalo_l"), ("insightface", "auraface")])
def test_faceid_without_buffalo_l_embeddings_refuses_to_start(
    models_dir: Path, backend: str, pack: str
) -> None:
    settings = _settings(models_dir, backend, face_pack=pack, identity_adapter="faceid-plusv2")
    with pytest.raises(ConfigError, match="trained on insightface buffalo_l") as err:
        load_pipeline(settings)
    assert "SITTER_IDENTITY_ADAPTER=plus-face" in str(err.value)


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("off", "there is no 'off'"),
        ("none", "there is no 'off'"),
        # (the old default h94/IP-Adapter-FaceID is read as faceid-plusv2, with a warning)
        ("someone/IP-Adapter-Custom", "now names the adapter"),
        ("instantid", "unknown identity adapter"),
    ],
)
def test_no_setting_switches_the_adapter_off(value: str, says: str) -> None:
    with pytest.raises(ConfigError, match="SITTER_IDENTITY_ADAPTER") as err:
        load_settings(identity_adapter=value)
    assert says in str(err.value)


# --- the files ------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", [PLUS_FACE, FACEID_PLUSV2])
def test_random_adapters_sit_where_the_hub_keeps_the_real_files(
    models_dir: Path, kind: str
) -> None:
    """Exactly the files `sitter models fetch` takes, at their repository paths, and
    the loader reads nothing else (it loads from these folders)."""
    from diffusers import DiffusionPipeline

    from engine.families import ensure_tiny_model

    pipe = DiffusionPipeline.from_pretrained(ensure_tiny_model("tiny", models_dir))
    spec = choose_adapter(
        files=_sdxl_files(kind),
        tiny=True,
        kind=kind,
        id_dim=512,
        unet=pipe.unet,
        models_dir=models_dir,
    )
    files = _sdxl_files(kind)
    repos = {files.repo: Path(spec.source), files.encoder_repo: Path(spec.encoder_source)}
    on_disk = {
        (repo, p.relative_to(folder).as_posix())
        for repo, folder in repos.items()
        for p in folder.rglob("*")
        if p.is_file()
    }
    assert on_disk == set(files.hub_files())
    load_adapter(pipe, spec, None)
    assert pipe.image_encoder is not None and pipe.feature_extractor is not None


def _hub_cache(models_dir: Path, cache: Path) -> None:
    """Copy the tiny random adapters into a Hugging Face cache under the real repo ids."""
    from diffusers import DiffusionPipeline

    from engine.families import ensure_tiny_model

    pipe = DiffusionPipeline.from_pretrained(ensure_tiny_model("tiny", models_dir))
    for kind in (PLUS_FACE, FACEID_PLUSV2):
        spec = choose_adapter(
            files=_sdxl_files(kind),
            tiny=True,
            kind=kind,
            id_dim=512,
            unet=pipe.unet,
            models_dir=models_dir,
        )
        files = _sdxl_files(kind)
        for repo, rel in files.hub_files():
            folder = Path(spec.source if repo == files.repo else spec.encoder_source)
            entry = cache / f"models--{repo.replace('/', '--')}"
            (entry / "refs").mkdir(parents=True, exist_ok=True)
            (entry / "refs" / "main").write_text("0" * 40)
            target = entry / "snapshots" / ("0" * 40) / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(folder / rel, target)


@pytest.mark.parametrize("kind", [PLUS_FACE, FACEID_PLUSV2])
def test_hub_adapters_load_from_the_cache_offline_or_say_fetch(
    models_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    """The real-model path (h94 repo ids, local_files_only) against a model cache."""
    from diffusers import DiffusionPipeline

    from engine.families import ensure_tiny_model

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    pipe = DiffusionPipeline.from_pretrained(ensure_tiny_model("tiny", models_dir))
    spec = choose_adapter(
        files=_sdxl_files(kind),
        tiny=False,
        kind=kind,
        id_dim=512,
        unet=pipe.unet,
        models_dir=models_dir,
    )
    assert spec.trained and spec.source.startswith("h94/")
    with pytest.raises(ConfigError, match="sitter models fetch"):
        load_adapter(pipe, spec, tmp_path / "empty")
    cache = tmp_path / "cache"
    _hub_cache(models_dir, cache)
    pipe = DiffusionPipeline.from_pretrained(ensure_tiny_model("tiny", models_dir))
    load_adapter(pipe, spec, cache)
    (projection,) = pipe.unet.encoder_hid_proj.image_projection_layers
    want = "FaceIDPlus" if kind == FACEID_PLUSV2 else "IPAdapterPlus"
    assert want in type(projection).__name__


def test_models_verify_names_the_adapter_files(
    models_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from engine.cli_models import cmd_models

    cache = tmp_path / "cache"
    settings = load_settings(  # SDXL + Plus Face (the default model is FLUX.2 [klein])
        face_backend="dlib", model="stabilityai/stable-diffusion-xl-base-1.0", model_cache=cache
    )
    cmd_models(argparse.Namespace(action="verify"), settings)
    err = capsys.readouterr().err
    assert "identity adapter: FAILED (ip-adapter-plus-face_sdxl_vit-h" in err
    assert "h94/IP-Adapter/models/image_encoder/model.safetensors" in err
    _hub_cache(models_dir, cache)
    cmd_models(argparse.Namespace(action="verify"), settings)
    out = capsys.readouterr().out
    assert "identity adapter: ok (ip-adapter-plus-face_sdxl_vit-h" in out and "3 files" in out
    cmd_models(argparse.Namespace(action="list"), settings)
    assert "Apache-2.0" in capsys.readouterr().out


# --- what it is fed -------------------------------------------------------------------------
def test_faceid_plusv2_loads_through_the_production_loader(faceid: LoadedPipeline) -> None:
    from diffusers.models.embeddings import IPAdapterFaceIDPlusImageProjection

    (projection,) = faceid.pipe.unet.encoder_hid_proj.image_projection_layers
    assert isinstance(projection, IPAdapterFaceIDPlusImageProjection)
    assert faceid.adapter.kind == FACEID_PLUSV2 and faceid.id_dim == 512
    assert faceid.adapter.licence_name == "ip-adapter-faceid-plusv2_sdxl"
    assert type(faceid.pipe.image_encoder).__name__ == "CLIPVisionModelWithProjection"


def test_the_faceid_lora_is_merged_into_the_unet(faceid: LoadedPipeline, models_dir: Path) -> None:
    """h94's FaceID Plus v2 file carries a LoRA (the random one too): loaded by diffusers
    through peft, then merged, so no peft layer is left for fused QKV to bypass."""
    from diffusers import UNet2DConditionModel

    from engine.families import ensure_tiny_model

    plain = UNet2DConditionModel.from_pretrained(ensure_tiny_model("tiny", models_dir) / "unet")
    unet = faceid.pipe.unet
    assert not getattr(unet, "peft_config", None)
    assert not any(hasattr(m, "base_layer") for m in unet.modules())  # no peft wrappers
    name = "down_blocks.1.attentions.0.transformer_blocks.0.attn1"
    merged, before = unet.get_submodule(name), plain.get_submodule(name)
    assert getattr(merged, "fused_projections", False)  # the speed switch still applied
    q_rows = before.to_q.weight.shape[0]
    assert not np.allclose(merged.to_qkv.weight[:q_rows].detach(), before.to_q.weight.detach())


def test_faceid_plusv2_takes_both_the_embedding_and_the_crop(faceid: LoadedPipeline) -> None:
    base = _one(faceid, EMBEDS, CROPS)
    assert np.array_equal(base, _one(faceid, EMBEDS, CROPS))  # deterministic
    other_person = _one(faceid, -EMBEDS, CROPS)
    other_crop = _one(faceid, EMBEDS, OTHER_CROPS)
    assert np.abs(base - other_person).mean() > 0.5  # the embedding steers it
    assert np.abs(base - other_crop).mean() > 0.5  # and so does the face crop
    projection = faceid.pipe.unet.encoder_hid_proj.image_projection_layers[0]
    assert projection.shortcut is True  # v2
    assert projection.clip_embeds is None  # the last person's crop features are not kept
    assert np.array_equal(_one(faceid, EMBEDS, CROPS, 0.0), _one(faceid, -EMBEDS, OTHER_CROPS, 0.0))


def test_the_most_typical_crops_are_fed_cycled_to_a_fixed_count() -> None:
    refs = [made_up([1.0, 0.0], seed=1), made_up([0.9, 0.1], seed=2), made_up([-3.0, 4.0], seed=3)]
    vectors = np.array([r.embedding.vector for r in refs], np.float32)
    crops = choose_crops(refs, vectors)
    assert len(crops) == MAX_CROPS
    as_png = [np.asarray(Image.open(__import__("io").BytesIO(stand_in_crop(s)))) for s in (1, 2, 3)]
    order = [
        next(k for k, a in enumerate(as_png) if np.array_equal(a, np.asarray(c))) for c in crops
    ]
    assert (
        order[:3] == [1, 0, 2] and order[3] == order[0]
    )  # nearest the mean first; the odd one last


def test_references_without_a_usable_crop_are_refused() -> None:
    from engine.likeness import IdentityMismatch
    from sitter import contract as c

    bare = [c.Reference(embedding=c.Embedding(backend="dlib", vector=[0.1] * 128))]
    vectors = np.full((1, 128), 0.1, np.float32)
    with pytest.raises(MissingFaceCrops, match="no face crops") as err:
        choose_crops(bare, vectors)
    assert isinstance(err.value, IdentityMismatch)  # the worker answers identity_mismatch
    broken = [bare[0].model_copy(update={"face_crop": b"not a png"})]
    with pytest.raises(MissingFaceCrops, match="not a readable image"):
        choose_crops(broken, vectors)
