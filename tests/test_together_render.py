"""Portraits of two people through the real worker (engine.worker.build_worker, real Redis)
on the tiny FLUX.2 [klein] and the tiny SDXL at 64 px, and `sitter generate`'s options.

What each model is given is recorded at the pipeline's call: klein gets both people's
photos, the first person's first (two each: four images), and a prompt that names "the
first person" and "the second person" by those images; SDXL reads "two people" and its
IP-Adapter Plus Face gets one mask per person (every crop of the first person masked to
the left, of the second to the right), each image at the identity scale shared out over
that person's crops, and one scale again after the call. The first person is Tom Hanks
(insightface's photo), the second the astronaut (scikit-image); a mirror image of each
makes their second reference.
"""

from __future__ import annotations

import argparse
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import insightface_image
from identity_refs import reference_of
from PIL import Image, ImageOps

from engine import worker as engine_worker
from engine.runtime import Runtime
from sitter import contract as c
from sitter.config import Settings, load_settings
from sitter.prompts import PromptLibrary
from sitter.queue import EngineClient, connect

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("together")


def _people(runtime: Runtime) -> tuple[list[c.Reference], list[c.Reference]]:
    from skimage import data

    analyzer = runtime.require_analyzer()
    hanks = Image.open(insightface_image("Tom_Hanks_54745.png")).convert("RGB")
    astronaut = Image.fromarray(data.astronaut()).crop((80, 0, 400, 320))
    return (
        [reference_of(analyzer, hanks), reference_of(analyzer, ImageOps.mirror(hanks))],
        [reference_of(analyzer, astronaut), reference_of(analyzer, ImageOps.mirror(astronaut))],
    )


def _order(
    first: list[c.Reference], second: list[c.Reference], gid: str, placement: c.Placement
) -> c.GenerateRequest:
    lib = PromptLibrary.load()
    answers = {"attire": "a red scarf"}
    return c.GenerateRequest(
        generation_id=gid,
        prompt=lib.style("watercolor").compose(answers, lib.subject()),
        reference_prompt=lib.reference_prompt("watercolor", answers),
        seeds=[3, 4],
        references=first,
        partner_references=second,
        placement=placement,
        max_attempts=1,
    )


class Calls:
    """Every call of the pipeline's class, with what the adapter's processors held."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, pipe: Any) -> None:
        self.kwargs: list[dict[str, Any]] = []
        self.scales: list[list[Any]] = []
        cls = type(pipe)
        real = cls.__call__

        def spy(this: Any, *args: Any, **kwargs: Any) -> Any:
            self.kwargs.append(kwargs)
            if hasattr(this, "unet"):
                self.scales.append(_ip_scales(this))
            return real(this, *args, **kwargs)

        monkeypatch.setattr(cls, "__call__", spy)


def _ip_scales(pipe: Any) -> list[Any]:
    return [p.scale[0] for p in pipe.unet.attn_processors.values() if hasattr(p, "to_k_ip")]


async def _through_the_worker(
    settings: Settings, runtime: Runtime, req: c.GenerateRequest
) -> c.GenerateResult:
    pool = await connect(settings.redis_url, settings.queue_prefix)
    try:
        client = EngineClient(pool, settings.queue_prefix, poll_delay=0.01)
        job = await client.enqueue(c.JOB_GENERATE, req, job_id=f"gen:{req.generation_id}")
        w = engine_worker.build_worker(settings, c.QUEUE_GPU, runtime, burst=True)
        try:
            await w.async_run()
        finally:
            await w.close()
        res = await client.result(c.JOB_GENERATE, job, timeout=5)
    finally:
        await pool.aclose()
    assert isinstance(res, c.GenerateResult), res
    return res


def _settings(model: str, data: Path, redis_url: str, queue_prefix: str) -> Settings:
    return load_settings(
        model=model,
        face_backend="dlib",
        data_dir=data,
        redis_url=redis_url,
        queue_prefix=queue_prefix,
        poll_delay_s=0.01,
    )


def _vary(
    runtime: Runtime, req: c.GenerateRequest, portrait: bytes, monkeypatch: pytest.MonkeyPatch
) -> tuple[c.RefineResult, dict[str, Any]]:
    """Vary one delivered portrait of the two (engine/refine.py, as the refine job runs
    it): what the image-to-image pipeline was given."""
    from engine.pipeline.detail_render import detail_pipe
    from engine.refine import refine

    calls = Calls(monkeypatch, detail_pipe(runtime.require_pipeline()))
    res = refine(
        runtime,
        c.RefineRequest(
            generation_id=f"{req.generation_id}-varied",
            mode=c.RefineMode.VARY,
            image=portrait,
            prompt=req.prompt,
            reference_prompt=req.reference_prompt,
            seeds=[9],
            references=req.references,
            partner_references=req.partner_references,
            placement=req.placement,
            max_attempts=1,
        ),
    )
    [v] = res.variations  # gated for both people, like the order
    assert v.verdict == c.Verdict.NO_FACE and v.partner_threshold is not None
    [call] = calls.kwargs
    return res, call


def _two_person_variations(res: c.GenerateResult) -> None:
    assert [v.seed for v in res.variations] == [3, 4]
    for v in res.variations:
        assert Image.open(io.BytesIO(v.image)).size == (64, 64)
        # random weights draw no face: redone like a miss, both people's bars reported
        assert v.verdict == c.Verdict.NO_FACE and not v.passed
        assert v.threshold is not None and v.partner_threshold is not None
        assert v.partner_similarity is None


@pytest.fixture(scope="module")
def klein(data: Path) -> Iterator[Runtime]:
    settings = load_settings(model="tiny-klein", face_backend="dlib", data_dir=data / "klein")
    yield Runtime(settings).load(("faces", "pipeline", "signer"))


@pytest.fixture(scope="module")
def sdxl(data: Path) -> Iterator[Runtime]:
    settings = load_settings(model="tiny-sdxl", face_backend="dlib", data_dir=data / "sdxl")
    yield Runtime(settings).load(("faces", "pipeline", "signer"))


async def test_klein_sees_both_people_in_order_and_reads_who_is_who(
    klein: Runtime,
    data: Path,
    redis_url: str,
    queue_prefix: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from engine.pipeline import klein as klein_refs

    loaded = klein.require_pipeline()
    calls = Calls(monkeypatch, loaded.pipe)
    first, second = _people(klein)
    req = _order(first, second, "together-klein", c.Placement.SHOULDER_TO_SHOULDER)
    settings = _settings("tiny-klein", data / "klein", redis_url, queue_prefix)
    _two_person_variations(await _through_the_worker(settings, klein, req))

    [call] = calls.kwargs  # one batched render of both seeds
    prompt = call["prompt"]
    assert prompt.startswith(
        "A portrait of two people together. Reference images 1 and 2 show the first person; "
        "reference images 3 and 4 show the second person."
    ), prompt
    assert (
        "the first person and the second person, standing close together shoulder to "
        "shoulder, the first person on the left" in prompt
    )
    assert "the person in the reference images" not in prompt  # the one-person wording is gone
    assert "a red scarf" in prompt and "each appearing once" in prompt
    images = call["image"]
    expected = [
        *klein_refs.reference_images(loaded, first, 2),
        *klein_refs.reference_images(loaded, second, 2),
    ]
    assert len(images) == 4
    for got, want in zip(images, expected, strict=True):
        assert np.array_equal(np.asarray(got), np.asarray(want))
    # the first two are the first person's: their crops differ from the second person's
    assert not np.array_equal(np.asarray(images[0]), np.asarray(images[2]))

    # Varied: the edited portrait plus one photo of each (klein takes 4 inputs in all),
    # numbered again for the model.
    res = await _through_the_worker(settings, klein, req)
    _, edit = _vary(klein, req, res.variations[0].image, monkeypatch)
    assert [np.asarray(i).tobytes() for i in edit["image_reference"]] == [
        np.asarray(expected[0]).tobytes(),
        np.asarray(expected[2]).tobytes(),
    ]
    assert (
        "Reference image 1 shows the first person; reference image 2 shows the second person."
        in edit["prompt"]
    )


async def test_sdxl_masks_each_persons_identity_to_their_side(
    sdxl: Runtime,
    data: Path,
    redis_url: str,
    queue_prefix: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from engine.pipeline import long_prompt

    loaded = sdxl.require_pipeline()
    calls = Calls(monkeypatch, loaded.pipe)
    prompts: list[str] = []
    encode = long_prompt.encode

    def spy_encode(pipe: Any, prompt: str, *args: Any, **kwargs: Any) -> Any:
        prompts.append(prompt)
        return encode(pipe, prompt, *args, **kwargs)

    monkeypatch.setattr(long_prompt, "encode", spy_encode)
    first, second = _people(sdxl)
    req = _order(first, second, "together-sdxl", c.Placement.SIDE_BY_SIDE)
    settings = _settings("tiny-sdxl", data / "sdxl", redis_url, queue_prefix)
    _two_person_variations(await _through_the_worker(settings, sdxl, req))

    assert prompts[0].startswith(
        "watercolor painting of two people standing side by side, one on the left and one on "
        "the right, wearing a red scarf"
    ), prompts[0]
    [call] = calls.kwargs
    [embeds] = call["ip_adapter_image_embeds"]
    [masks] = call["cross_attention_kwargs"]["ip_adapter_masks"]
    crops = 4  # each person's crops, cycled to the adapter's count (identity_input.MAX_CROPS)
    assert embeds.shape[:2] == (2, 2 * crops)  # CFG's negative and positive, 8 images
    assert tuple(masks.shape) == (1, 2 * crops, 64, 64)
    left, right = masks[0, :, :, :32], masks[0, :, :, 32:]
    for i in range(crops):  # the first person's crops paint the left half only
        assert left[i].min() == 1 and right[i].max() == 0
    for i in range(crops, 2 * crops):  # the second person's the right half only
        assert left[i].max() == 0 and right[i].min() == 1
    scale = loaded.defaults.identity_scale
    [during] = calls.scales
    assert during and all(s == [scale / crops] * (2 * crops) for s in during)
    assert all(s == scale for s in _ip_scales(loaded.pipe))  # one scale again after

    # Varied (image to image): the same two masks on the img2img pipeline.
    res = await _through_the_worker(settings, sdxl, req)
    _, edit = _vary(sdxl, req, res.variations[0].image, monkeypatch)
    [masks] = edit["cross_attention_kwargs"]["ip_adapter_masks"]
    assert tuple(masks.shape) == (1, 2 * crops, 64, 64)
    assert masks[0, 0, :, :32].min() == 1 and masks[0, -1, :, :32].max() == 0
    assert all(s == scale for s in _ip_scales(loaded.pipe))


def test_the_family_words_two_people_for_any_placement(sdxl: Runtime) -> None:
    from engine.families import KLEIN, QWEN_EDIT, SDXL
    from engine.families.together import mask_spans

    lib = PromptLibrary.load()
    prompt = lib.style("watercolor").compose({}, lib.subject())
    reference = lib.reference_prompt("watercolor", {})
    for placement in c.Placement:
        t2i = SDXL.together_prompt(prompt, reference, placement)
        assert "two people" in t2i and "a person" not in t2i
        (a0, a1), (b0, b1) = mask_spans(placement)
        assert 0 <= a0 < a1 <= 1 and 0 <= b0 < b1 <= 1 and a0 < b0 and a1 < b1
        for family in (KLEIN, QWEN_EDIT):
            worded = family.together_prompt(prompt, reference, placement)
            assert "the first person" in worded and "the second person" in worded
    # Qwen-Image-Edit takes three pictures: one each, named as its text encoder names them.
    assert QWEN_EDIT.together_prompt(prompt, reference, None).startswith(
        "A portrait of two people together. Picture 1 shows the first person; Picture 2 "
        "shows the second person."
    )
    # A described subject (no "a person" to replace): the two people lead.
    described = lib.style("watercolor").compose({}, lib.subject("a tall woman"))
    assert SDXL.together_prompt(described, reference, None).startswith("two people standing")


def test_generate_explains_the_two_person_options(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from cli.generate import cmd_generate

    photos = tmp_path / "a"
    photos.mkdir()
    Image.new("RGB", (64, 64)).save(photos / "1.jpg")
    settings = load_settings(data_dir=tmp_path / "data", model="tiny", face_backend="dlib")

    def args(**kw: Any) -> argparse.Namespace:
        base: dict[str, Any] = dict(
            photos=str(photos),
            style="watercolor",
            out=str(tmp_path / "out"),
            attire="",
            setting="",
            lighting="",
            composition="",
            subject="",
            seed=1,
            pack=None,
            aspect=None,
            partner_photos=None,
            placement=None,
        )
        return argparse.Namespace(**(base | kw))

    def refused(**kw: Any) -> str:
        assert cmd_generate(args(**kw), settings) == 2
        return capsys.readouterr().err

    assert "is not a folder" in refused(partner_photos=str(tmp_path / "nope"))
    assert "--placement needs --partner-photos" in refused(placement="facing")
    said = refused(partner_photos=str(photos), placement="upside down")
    assert "side_by_side, shoulder_to_shoulder, facing, back_to_back" in said
    assert "second person's own folder" in refused(partner_photos=str(photos))
    assert "takes --style" in refused(partner_photos=str(photos), pack="avatar")


def test_the_check_prompt_job_counts_the_wording_for_two(klein: Runtime, data: Path) -> None:
    """The bot asks before queueing (CheckPromptRequest.two_people): counted as klein words
    it for two, in its longest placement; the one-person count is shorter."""
    from engine.families import KLEIN
    from engine.pipeline.klein import prompt_tokens
    from engine.prompt_check import check_prompt

    lib = PromptLibrary.load()
    answers = {"attire": "a red scarf"}
    one = c.CheckPromptRequest(
        prompt=lib.style("watercolor").compose(answers, lib.subject()),
        reference_prompt=lib.reference_prompt("watercolor", answers),
    )
    two = one.model_copy(update={"two_people": True})
    settings = load_settings(model="tiny-klein", face_backend="dlib", data_dir=data / "klein")
    alone, together = check_prompt(settings, one), check_prompt(settings, two)
    assert alone.tokens is not None and together.tokens is not None
    assert together.tokens > alone.tokens
    tok = klein.require_pipeline().pipe.tokenizer
    assert together.tokens == max(
        prompt_tokens(tok, KLEIN.together_prompt(one.prompt, one.reference_prompt, p))
        for p in c.Placement
    )


def test_a_pet_or_one_persons_personal_model_is_refused_for_two(sdxl: Runtime) -> None:
    """Before any render: a bad request (the worker answers bad_request), said plainly."""
    from engine.job_errors import permanent_code
    from engine.pipeline.generate import generate

    first, second = _people(sdxl)
    req = _order(first, second, "together-refused", c.Placement.FACING)
    pet = req.model_copy(update={"subject": c.Subject.DOG})
    with pytest.raises(ValueError, match="of two people") as err:
        generate(sdxl, pet)
    assert permanent_code(err.value) == c.FailureCode.BAD_REQUEST
    lora = c.PersonalModel(lora=b"x", sha256="0" * 64)
    with pytest.raises(ValueError, match="personal model"):
        generate(sdxl, req.model_copy(update={"personal": lora}))


def test_one_face_in_both_sets_is_refused_for_two(sdxl: Runtime) -> None:
    """One person's second account as the partner: the worker compares the two sets
    before any render (the bot asked too), a bad request."""
    from engine.job_errors import permanent_code
    from engine.pipeline.generate import generate

    first, _second = _people(sdxl)
    req = _order(first, first, "together-same-face", c.Placement.SIDE_BY_SIDE)
    with pytest.raises(ValueError, match="same face") as err:
        generate(sdxl, req)
    assert permanent_code(err.value) == c.FailureCode.BAD_REQUEST
