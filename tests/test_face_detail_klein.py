"""The face detail pass on FLUX.2 [klein] (tiny-klein through the production loader),
and the bot's side: the caption and the store columns."""

from __future__ import annotations

import numpy as np
import pytest
from face_detail_helpers import astronaut, face_canvas, make_gate, order, pixels, with_faces
from identity_refs import reference_of

from engine.likeness import reference_vectors
from engine.pipeline import detail, detail_render
from engine.pipeline import generate as gen
from engine.pipeline.identity_input import choose_crops
from engine.runtime import Runtime
from sitter import contract as c
from sitter.config import load_settings

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def klein_runtime(tmp_path_factory: pytest.TempPathFactory) -> Runtime:
    settings = load_settings(
        model="tiny-klein",
        face_backend="dlib",
        data_dir=tmp_path_factory.mktemp("data"),
        face_detail="always",
    )
    return Runtime(settings).load(("faces", "pipeline", "signer"), warm_up=False)


@pytest.fixture(scope="module")
def references(klein_runtime: Runtime) -> list[c.Reference]:
    return [reference_of(klein_runtime.require_analyzer(), astronaut())]


def test_klein_detail_pass_edits_the_crop_with_the_references(
    klein_runtime: Runtime, references: list[c.Reference], monkeypatch: pytest.MonkeyPatch
) -> None:
    """FLUX.2 [klein]: a reference edit of the crop (Flux2KleinInpaintPipeline made with
    from_pipe), the order's prepared reference photos beside it; blended and re-judged."""
    from engine.pipeline import klein

    rt = klein_runtime
    loaded = rt.require_pipeline()
    seen: list[dict] = []
    pipe = detail_render.detail_pipe(loaded)
    assert type(pipe).__name__ == "Flux2KleinInpaintPipeline"
    assert pipe.transformer is loaded.pipe.transformer and pipe.vae is loaded.pipe.vae
    real_call = type(pipe).__call__

    def spy(self, **kwargs):  # the real edit, recording its inputs
        seen.append(kwargs)
        return real_call(self, **kwargs)

    monkeypatch.setattr(type(pipe), "__call__", spy)
    image = face_canvas()
    refs = reference_vectors(references, "dlib", 128)
    gate = make_gate(rt, references)
    ref_images = klein.reference_images(loaded, references)
    (done,) = detail.detail_pass(
        rt,
        loaded,
        [(image, gate.judge(image))],
        [3],
        judge=gate.judge,
        prompt="a portrait of the person in the reference images",
        negative_prompt="",
        params=gen.resolve_params(loaded, c.GenerationParams()),
        refs=refs,
        id_crops=choose_crops(references, refs),
        ref_images=ref_images,
    )
    (call,) = seen
    assert call["image"].size == (64, 64) and call["strength"] == pytest.approx(0.35)
    assert call["image_reference"] == ref_images  # the order's references, beside the crop
    assert done.report is not None and done.detailed is not None and done.mask is not None
    assert done.report.likeness_after == gate.judge(done.detailed).score
    changed = np.any(np.asarray(done.detailed) != np.asarray(image), axis=2)
    assert changed.any() and not changed[np.asarray(done.mask) == 0].any()


def test_a_klein_order_runs_the_pass_with_its_references_and_prompt(
    klein_runtime: Runtime, references: list[c.Reference], monkeypatch: pytest.MonkeyPatch
) -> None:
    rt = klein_runtime
    made = with_faces(monkeypatch)
    seen: list[dict] = []
    real = detail.render_crops

    def spy(loaded, crops_in, seeds, **kwargs):
        seen.append(kwargs)
        return real(loaded, crops_in, seeds, **kwargs)

    monkeypatch.setattr(detail, "render_crops", spy)
    req = order(references, [1, 2]).model_copy(
        update={"reference_prompt": "the person in the reference images, a portrait"}
    )
    result = gen.generate(rt, req)
    (call,) = seen
    assert call["prompt"] == req.reference_prompt and len(call["ref_images"]) == 1
    for v in result.variations:
        assert v.detail is not None and v.detail.reason == "always"
        kept = pixels(v.image)
        assert np.array_equal(kept, np.asarray(made[v.seed])) != v.detail.kept


async def test_the_caption_mentions_a_kept_detail_pass(tmp_path) -> None:
    from bot.store.store import Store
    from bot.studio.core.words import detail_columns, detail_words

    kept = c.FaceDetail(
        reason="small_face",
        strength=0.35,
        crop=[0, 0, 8, 8],
        likeness_before=0.44,
        likeness_after=0.51,
        kept=True,
    )
    lost = kept.model_copy(update={"likeness_after": None, "kept": False})
    assert detail_columns(kept) == ("small_face", 0.07)
    assert detail_columns(lost) == ("small_face", None)
    assert detail_columns(None) == (None, None)
    store = await Store.open(tmp_path / "sitter.db", tmp_path / "media")
    try:
        user = await store.ensure_user("telegram", "7", "Bo", "7")
        ref = await store.current_set(user["id"])
        oid = await store.create_order(
            user["id"], ref["id"], "telegram", "7", "watercolor", {}, "p", "", {}, [1, 2]
        )
        for idx, d in ((1, kept), (2, lost)):
            rel, sha = store.media.put(user["id"], "results", b"png %d" % idx, "png")
            await store.add_variation(
                oid, user["id"], idx, idx, rel, sha, 0.5, True, True, 1, "passed", 0.46, "",
                *detail_columns(d),
            )  # fmt: skip
        first, second = await store.variations(oid)
        assert (first.detail, first.detail_gain) == ("small_face", 0.07)
        assert detail_words(first) == " · face retouched (+0.07)"
        assert second.detail == "small_face" and detail_words(second) == ""
    finally:
        await store.close()
