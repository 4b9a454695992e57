"""Picture formats (engine/formats.py): the size table, and renders at those sizes on the
tiny SDXL and tiny FLUX.2 [klein] models through the production generate path and CLI."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import pytest
from conftest import insightface_image
from identity_refs import reference_of
from PIL import Image

from engine import formats
from engine.runtime import Runtime
from sitter import contract as c
from sitter.config import load_settings

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TABLE = {
    "sdxl": {"1:1": (1024, 1024), "4:5": (896, 1152), "9:16": (768, 1344), "16:9": (1344, 768)},
    "sd15": {"1:1": (512, 512), "4:5": (448, 576), "9:16": (384, 704), "16:9": (704, 384)},
    "klein": {"1:1": (1024, 1024), "4:5": (896, 1120), "9:16": (720, 1280), "16:9": (1280, 720)},
    "qwen-edit": {
        "1:1": (1024, 1024),
        "4:5": (896, 1120),
        "9:16": (736, 1312),
        "16:9": (1312, 736),
    },
    "tiny": {"1:1": (64, 64), "4:5": (56, 72), "9:16": (48, 88), "16:9": (88, 48)},
}


def test_the_size_table() -> None:
    assert formats.table() == TABLE
    for family, sizes in TABLE.items():
        grid = formats.grids()[family]
        side, multiple = (1024, 64) if family == "sdxl" else grid  # SDXL: its buckets
        for ratio, (w, h) in sizes.items():
            rw, rh = map(int, ratio.split(":"))
            assert abs(math.log((w / h) / (rw / rh))) < 0.1, (family, ratio)  # within 10 %
            assert w % multiple == 0 and h % multiple == 0, (family, ratio)
            assert abs(w * h / side**2 - 1) <= formats.AREA_TOLERANCE, (family, ratio)
            if family == "sdxl":
                assert (w, h) in formats.SDXL_BUCKETS  # a size it was trained on


def test_formats_are_named_as_people_say_them() -> None:
    assert formats.parse_aspect("4:5") == c.Aspect.PORTRAIT
    assert formats.parse_aspect(" 16x9 ") == c.Aspect.LANDSCAPE
    assert formats.parse_aspect("Story") == c.Aspect.STORY
    assert formats.parse_aspect("banner") == c.Aspect.LANDSCAPE
    assert formats.parse_aspect("square") == c.Aspect.SQUARE
    with pytest.raises(ValueError, match=r"unknown format '3:2': use 1:1 \(square\)"):
        formats.parse_aspect("3:2")


def test_the_aspect_field_travels_only_when_set_and_is_new_in_contract_3() -> None:
    from sitter import wire

    ref = c.Reference(embedding=c.Embedding(backend="dlib", vector=[0.1] * 128))
    plain = c.GenerateRequest(generation_id="g", prompt="p", seeds=[1], references=[ref])
    assert "aspect" not in c.to_wire(plain)
    story = plain.model_copy(update={"aspect": c.Aspect.STORY})
    assert c.to_wire(story)["aspect"] == "9:16"
    assert c.parse_request(c.JOB_GENERATE, c.to_wire(story)) == story
    assert wire.since(c.GenerateRequest.model_fields["aspect"]) == 3
    for older in (1, 2):  # never to an older side
        assert "aspect" not in wire.to_wire(story, older, c.ADDED_VALUES)


@pytest.fixture(scope="module", params=["tiny", "tiny-klein"])
def runtime(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Runtime:
    data = tmp_path_factory.mktemp(f"formats-{request.param}")
    settings = load_settings(model=request.param, face_backend="dlib", data_dir=data)
    return Runtime(settings).load(("faces", "pipeline", "signer"))


def _request(runtime: Runtime, aspect: c.Aspect | None) -> c.GenerateRequest:
    image = Image.open(insightface_image("Tom_Hanks_54745.png"))
    return c.GenerateRequest(
        generation_id=f"fmt-{aspect}",
        prompt="a studio portrait of a person",
        reference_prompt="the person in the reference images as a studio portrait",
        params=c.GenerationParams(width=1024, height=1024),  # a style's size: the aspect wins
        seeds=[3],
        references=[reference_of(runtime.require_analyzer(), image)],
        max_attempts=1,
        aspect=aspect,
    )


def test_each_format_renders_at_its_size_on_the_tiny_models(runtime: Runtime) -> None:
    from engine.pipeline.generate import generate, resolve_params
    from engine.provenance import verify

    loaded = runtime.require_pipeline()
    assert resolve_params(loaded, c.GenerationParams()).width == 64  # unchanged without one
    for aspect in c.Aspect:
        want = formats.size_for("tiny", aspect)
        resolved = resolve_params(loaded, c.GenerationParams(width=1024, height=1024), aspect)
        assert (resolved.width, resolved.height) == want
        result = generate(runtime, _request(runtime, aspect))
        (v,) = result.variations
        with Image.open(io.BytesIO(v.image)) as im:
            assert im.size == want, (runtime.settings.model, aspect)
        assert verify(v.image).ai_labelled


def test_real_families_resolve_to_their_trained_sizes() -> None:
    from types import SimpleNamespace

    from engine.families import by_name
    from engine.pipeline.generate import resolve_params
    from engine.pipeline.loader import FAMILY_DEFAULTS

    for family in ("sdxl", "sd15"):
        loaded = SimpleNamespace(
            defaults=FAMILY_DEFAULTS[family],
            tiny=False,
            family=family,
            model_family=by_name(family),
        )
        for aspect in c.Aspect:
            got = resolve_params(loaded, c.GenerationParams(), aspect)  # type: ignore[arg-type]
            assert (got.width, got.height) == TABLE[family][aspect.value]


def test_sitter_generate_aspect(
    tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from skimage import data

    from cli.generate import cmd_generate
    from cli.main import build_parser

    photos, out = tmp_path / "photos", tmp_path / "out"
    photos.mkdir()
    astronaut = Image.fromarray(data.astronaut()).crop((80, 0, 400, 320))
    astronaut.save(photos / "a.jpg", quality=92)
    settings = load_settings(data_dir=data_dir, model="tiny", face_backend="dlib")
    argv = ["generate", "--photos", str(photos), "--style", "professional_headshot"]
    argv += ["--out", str(out), "--seed", "7", "--aspect", "4:5"]
    args = build_parser().parse_args(argv)
    assert cmd_generate(args, settings) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["aspect"] == "4:5"
    assert (summary["params_used"]["width"], summary["params_used"]["height"]) == (56, 72)
    for v in summary["variations"]:
        with Image.open(out / v["file"]) as im:
            assert im.size == (56, 72)

    bad = build_parser().parse_args([*argv[:-1], "3:2"])
    assert cmd_generate(bad, settings) == 2
    assert "--aspect: unknown format '3:2'" in capsys.readouterr().err
