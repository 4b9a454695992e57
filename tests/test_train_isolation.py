"""A training shares the worker's pipeline with orders (SITTER_TRAIN_MODE=shared): each
time the training lets go of the GPU lock, an order may render. Its adapter must then
be off — from the first release on, a resumed run included (the checkpoint holds what
was learned from another person's photos). Tiny klein through the production loader.
"""

from __future__ import annotations

import io
import threading
from typing import Any

import pytest
from conftest import insightface_image
from PIL import Image

from engine.runtime import Runtime
from engine.training.loop import TRAIN_ADAPTER, Checkpoint, Hooks, encode, train_lora
from sitter import contract as c
from sitter.config import load_settings

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _runtime(tmp_path_factory: pytest.TempPathFactory) -> Runtime:
    data = tmp_path_factory.mktemp("tiny-klein")
    settings = load_settings(model="tiny-klein", face_backend="dlib", data_dir=data)
    return Runtime(settings).load(("faces", "pipeline", "signer"))


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Runtime:
    return _runtime(tmp_path_factory)


def _samples(runtime: Runtime) -> tuple[Any, list[Any]]:
    from engine.training.data import pictures
    from engine.training.job import trainer_for

    buf = io.BytesIO()
    Image.open(insightface_image("Tom_Hanks_54745.png")).convert("RGB").save(buf, "PNG")
    photo = c.TrainPhoto(image=buf.getvalue(), quality={"face_share": 0.4})
    trainer = trainer_for(runtime)
    pics = pictures([photo], trainer.side())
    return trainer, encode(trainer, [p.image for p in pics], [p.caption for p in pics])


def _live(den: Any) -> bool:
    """The training adapter would change a render now."""
    from peft.tuners.tuners_utils import BaseTunerLayer

    for m in den.modules():
        if (
            isinstance(m, BaseTunerLayer)
            and not m.disable_adapters
            and TRAIN_ADAPTER in m.active_adapters
            and TRAIN_ADAPTER in getattr(m, "lora_A", {})
        ):
            return True
    return False


class WatchedLock:
    """The GPU lock, noting at each release whether the training adapter is live."""

    def __init__(self, den: Any) -> None:
        self.lock = threading.RLock()
        self.den = den
        self.live_at_release: list[bool] = []

    def __enter__(self) -> None:
        self.lock.acquire()

    def __exit__(self, *exc: object) -> None:
        self.live_at_release.append(_live(self.den))
        self.lock.release()


def test_every_training_of_a_worker_learns_the_same_layers(runtime: Runtime) -> None:
    """A layer an earlier LoRA wrapped (and left wrapped once deleted) is still trained:
    else a worker's second training learns fewer layers than its first, and a
    checkpoint of one worker cannot be resumed by another ("another LoRA shape")."""
    trainer, samples = _samples(runtime)
    first = train_lora(trainer, samples, steps=1, rank=4, seed=1, lock=runtime.gpu_lock)
    second = train_lora(trainer, samples, steps=1, rank=4, seed=1, lock=runtime.gpu_lock)
    assert sorted(second.lora) == sorted(first.lora)


def test_a_resumed_training_never_leaves_its_adapter_on_for_an_order(
    runtime: Runtime, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A worker's first training, resumed from another worker's checkpoint (what it
    learned of a person): at no release of the GPU lock is its adapter on."""
    trainer, samples = _samples(runtime)
    saved: list[Checkpoint] = []
    train_lora(
        trainer, samples, steps=4, rank=4, seed=1, lock=runtime.gpu_lock,
        hooks=Hooks(checkpoint=saved.append, every=2),
    )  # fmt: skip
    from safetensors.torch import load, save

    ck = Checkpoint(saved[0].step, load(save(saved[0].tensors)), saved[0].state)
    fresh = _runtime(tmp_path_factory)  # another worker: its layers never wrapped yet
    trainer, samples = _samples(fresh)
    watched = WatchedLock(trainer.denoiser)
    done = train_lora(trainer, samples, steps=4, rank=4, seed=1, lock=watched, resume=ck)
    assert done.resumed_from == 2
    assert watched.live_at_release and not any(watched.live_at_release), watched.live_at_release
