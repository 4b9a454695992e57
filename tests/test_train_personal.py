"""A personal model (issue 23), in the worker's process: tiny klein and tiny SDXL built
through the production loader, 64 px, on the CPU.

The loss on a fixed batch falls over 30 steps; the LoRA file is diffusers' format for
the family, loads through the production path of an order (``GenerateRequest.personal``)
and changes the pixels at a fixed seed, and nothing of it stays in the pipeline after
the order; a run resumed from a checkpoint ends exactly where an unbroken one does;
the licence is the base model's; a family that cannot train says not_supported.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from conftest import insightface_image
from identity_refs import reference_of
from PIL import Image

from engine.job_errors import Permanent
from engine.runtime import Runtime
from engine.training.loop import Checkpoint, Hooks, encode, train_lora
from sitter import contract as c
from sitter.config import load_settings

pytestmark = pytest.mark.usefixtures("one_torch_thread")

FAMILIES = {"tiny-klein": "klein", "tiny-sdxl": "sdxl"}


@pytest.fixture(scope="module", params=sorted(FAMILIES))
def runtime(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Runtime:
    data = tmp_path_factory.mktemp(request.param)
    settings = load_settings(model=request.param, face_backend="dlib", data_dir=data)
    return Runtime(settings).load(("faces", "pipeline", "signer"))


def _png(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


def _photo() -> c.TrainPhoto:
    image = Image.open(insightface_image("Tom_Hanks_54745.png")).convert("RGB")
    return c.TrainPhoto(image=_png(image), quality={"face_share": 0.4, "yaw": 2.0})


def _pixels(png: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(png)) as im:
        return np.asarray(im.convert("RGB")).astype(np.int16)


def _order(runtime: Runtime, personal: c.PersonalModel | None) -> c.GenerateResult:
    from engine.pipeline.generate import generate

    image = Image.open(insightface_image("Tom_Hanks_54745.png"))
    req = c.GenerateRequest(
        generation_id="personal",
        prompt="a studio portrait of the person",
        reference_prompt="the person in the reference images, a studio portrait",
        seeds=[11],
        references=[reference_of(runtime.require_analyzer(), image)],
        max_attempts=1,
        personal=personal,
    )
    return generate(runtime, req)


def _adapters(runtime: Runtime) -> list[str]:
    pipe = runtime.require_pipeline().pipe
    return [a for names in pipe.get_list_adapters().values() for a in names]


def _samples(runtime: Runtime) -> tuple[Any, list[Any]]:
    from engine.training.data import pictures
    from engine.training.job import trainer_for

    trainer = trainer_for(runtime)
    pics = pictures([_photo()], trainer.side())
    return trainer, encode(trainer, [p.image for p in pics], [p.caption for p in pics])


def test_the_loss_falls_and_the_saved_lora_changes_an_order(runtime: Runtime) -> None:
    import torch

    from engine.pipeline.personal import on_gpu, personal_model
    from engine.training.job import lora_bytes

    trainer, samples = _samples(runtime)
    assert trainer.family == FAMILIES[runtime.settings.model]
    trained = train_lora(
        trainer, samples, steps=30, rank=16, seed=0, lock=runtime.gpu_lock, fixed_batch=True
    )
    first, last = np.mean(trained.losses[:5]), np.mean(trained.losses[-5:])
    assert last < 0.9 * first, trained.losses  # the loss on the fixed batch falls
    assert _adapters(runtime) == []  # the training adapter is gone from the worker's model

    blob = lora_bytes(trained, {"sitter_family": trainer.family})
    personal = c.PersonalModel(lora=blob, sha256=hashlib.sha256(blob).hexdigest())
    # The file, loaded as an order loads it (load_lora_weights), is what was learned:
    # the fixed batch's loss is the trained one, not the base model's.
    with torch.no_grad():
        base = float(trainer.loss(samples[0], torch.Generator("cpu").manual_seed(0)))
        with personal_model(runtime, personal) as lora, on_gpu(runtime, lora):
            own = float(trainer.loss(samples[0], torch.Generator("cpu").manual_seed(0)))
    assert base == pytest.approx(trained.losses[0], rel=1e-3)
    assert own < 0.9 * base and own == pytest.approx(trained.losses[-1], rel=0.1)

    plain = _order(runtime, None)
    mine = _order(runtime, personal)
    again = _order(runtime, None)
    assert mine.personal_sha256 == personal.sha256 and plain.personal_sha256 == ""
    diff = np.abs(_pixels(mine.variations[0].image) - _pixels(plain.variations[0].image))
    assert diff.mean() > 1.0, diff.mean()  # the person's model changes the pixels
    # ... and nothing of it stays: the next order is the plain one again, no adapter left.
    assert np.array_equal(_pixels(again.variations[0].image), _pixels(plain.variations[0].image))
    assert _adapters(runtime) == []


def test_the_job_answers_the_family_format_and_licence(runtime: Runtime) -> None:
    from safetensors.torch import load

    from engine.training.job import train_personal, trainer_for

    trainer = trainer_for(runtime)
    res = train_personal(runtime, c.TrainRequest(train_id="t", photos=[_photo()], steps=3))
    assert (res.steps, res.resumed_from, res.family) == (3, 0, trainer.family)
    assert res.sha256 == hashlib.sha256(res.lora).hexdigest()
    assert res.commercial_ok and res.licence.startswith("Apache-2.0")  # the tiny base's
    keys = list(load(res.lora))  # diffusers' format: the family's prefix on every key
    assert keys and all(k.startswith(trainer.lora_prefix + ".") for k in keys)
    assert _adapters(runtime) == []


def test_a_resumed_run_ends_where_an_unbroken_one_does(runtime: Runtime) -> None:
    import torch

    trainer, samples = _samples(runtime)
    lock = runtime.gpu_lock
    torch.manual_seed(0)
    whole = train_lora(trainer, samples, steps=6, rank=4, seed=3, lock=lock)
    saved: list[Checkpoint] = []
    torch.manual_seed(0)
    first = train_lora(
        trainer, samples, steps=6, rank=4, seed=3, lock=lock,
        hooks=Hooks(checkpoint=saved.append, every=3),
    )  # fmt: skip
    assert [ck.step for ck in saved] == [3] and first.resumed_from == 0
    # The checkpoint crosses as safetensors + JSON, as through Redis.
    from safetensors.torch import load, save

    ck = Checkpoint(3, load(save(saved[0].tensors)), saved[0].state)
    torch.manual_seed(123)  # the LoRA's fresh init is overwritten by the checkpoint
    resumed = train_lora(trainer, samples, steps=6, rank=4, seed=3, lock=lock, resume=ck)
    assert resumed.resumed_from == 3 and len(resumed.losses) == 3
    assert resumed.losses == pytest.approx(whole.losses[3:], rel=1e-4)
    for key, value in whole.lora.items():
        assert torch.allclose(resumed.lora[key], value, atol=1e-6), key
    assert _adapters(runtime) == []


def test_a_personal_model_of_another_family_or_sha_is_refused(runtime: Runtime) -> None:
    from safetensors.torch import save

    other = "sdxl" if runtime.settings.model == "tiny-klein" else "klein"
    import torch

    blob = save({"x.lora_A.weight": torch.zeros(1)}, metadata={"sitter_family": other})
    bad_family = c.PersonalModel(lora=blob, sha256=hashlib.sha256(blob).hexdigest())
    wrong_sha = c.PersonalModel(lora=blob, sha256="0" * 64)
    for personal, words in ((bad_family, "trained for"), (wrong_sha, "sha256")):
        with pytest.raises(Permanent, match=words) as err:
            _order(runtime, personal)
        assert err.value.code == c.FailureCode.BAD_REQUEST


def test_the_personal_model_inherits_the_base_models_licence(tmp_path: Path) -> None:
    from engine.licences import personal_model_part

    for model, commercial in (
        ("black-forest-labs/FLUX.2-klein-4B", True),
        ("black-forest-labs/FLUX.2-klein-9B", False),
        ("black-forest-labs/FLUX.2-dev", False),
        ("tiny-klein", True),
    ):
        part = personal_model_part(load_settings(model=model, data_dir=tmp_path))
        assert part.commercial_ok is commercial, model
        assert part.role == "personal model"


def test_a_family_that_cannot_train_says_not_supported() -> None:
    from engine.families import by_name
    from engine.training.job import trainer_for

    loaded = SimpleNamespace(model_family=by_name("qwen-edit"))
    rt: Any = SimpleNamespace(require_pipeline=lambda: loaded)
    with pytest.raises(Permanent, match="not supported") as err:
        trainer_for(rt)
    assert err.value.code == c.FailureCode.NOT_SUPPORTED
