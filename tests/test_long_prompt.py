"""SDXL / SD 1.5 prompts are encoded whole: words past CLIP's 77 tokens still count."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from engine import families
from engine.pipeline import long_prompt

pytestmark = pytest.mark.usefixtures("one_torch_thread")

HEAD = "watercolor painting of a person, wearing a tailored dark business suit, " * 2
TAIL_A = ", golden hour sunlight, close-up headshot"
TAIL_B = ", harsh blue neon light, full-length portrait"


@pytest.fixture(scope="module", params=["tiny", "tiny-sd15"])
def pipe(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    from diffusers import StableDiffusionPipeline, StableDiffusionXLPipeline

    folder = families.ensure_tiny_model(request.param, tmp_path_factory.mktemp("models"))
    cls = StableDiffusionXLPipeline if request.param == "tiny" else StableDiffusionPipeline
    return cls.from_pretrained(folder)


def _stock(pipe, prompt: str) -> torch.Tensor:
    """The pipeline's own encoding (which truncates at 77 tokens)."""
    if hasattr(pipe, "text_encoder_2"):
        return pipe.encode_prompt(prompt, device="cpu", do_classifier_free_guidance=False)[0]
    return pipe.encode_prompt(prompt, "cpu", 1, False)[0]


def test_words_past_token_77_change_the_conditioning(pipe) -> None:
    a, b = HEAD + TAIL_A, HEAD + TAIL_B
    head = long_prompt.token_count(pipe, HEAD)
    assert head > 77  # the tails start past CLIP's window
    # The stock pipeline cannot tell the two orders apart: the tails are cut off.
    assert torch.equal(_stock(pipe, a), _stock(pipe, b))
    ea = long_prompt.encode(pipe, a, None, cfg=False)["prompt_embeds"]
    eb = long_prompt.encode(pipe, b, None, cfg=False)["prompt_embeds"]
    assert ea.shape[1] == 77 * ((long_prompt.token_count(pipe, a) + 74) // 75)
    assert not torch.equal(ea, eb)
    # The first chunk is what the stock pipeline sees; only the later chunks differ.
    assert torch.equal(ea[:, :77], eb[:, :77])
    assert not torch.equal(ea[:, 77:], eb[:, 77:])


def test_a_short_prompt_gives_the_pipelines_own_embeddings_bit_for_bit(pipe) -> None:
    sdxl = hasattr(pipe, "text_encoder_2")
    ours = long_prompt.encode(pipe, "a cat", "ugly", cfg=True)
    if sdxl:
        stock = pipe.encode_prompt(
            "a cat", device="cpu", do_classifier_free_guidance=True, negative_prompt="ugly"
        )
        names = [
            "prompt_embeds",
            "negative_prompt_embeds",
            "pooled_prompt_embeds",
            "negative_pooled_prompt_embeds",
        ]
    else:
        stock = pipe.encode_prompt("a cat", "cpu", 1, True, "ugly")
        names = ["prompt_embeds", "negative_prompt_embeds"]
    for name, want in zip(names, stock, strict=True):
        assert torch.equal(ours[name], want), name


def test_the_negative_prompt_matches_a_long_prompts_length(pipe) -> None:
    out = long_prompt.encode(pipe, HEAD + TAIL_A, "blurry", cfg=True)
    assert out["negative_prompt_embeds"].shape == out["prompt_embeds"].shape


def test_a_long_order_renders_through_the_production_path(tmp_path: Path) -> None:
    """The worker's render takes the whole prompt (tiny SDXL, 2 steps, one seed)."""
    import numpy as np

    from engine.pipeline.generate import Resolved, render
    from engine.pipeline.identity_input import placeholder_crops
    from engine.pipeline.loader import load_pipeline
    from sitter.config import load_settings

    loaded = load_pipeline(load_settings(model="tiny", face_backend="dlib", data_dir=tmp_path))
    refs = np.ones((1, loaded.id_dim), dtype=np.float32)
    params = Resolved(2, 5.0, 64, 64, 1.0)

    def pixels(prompt: str) -> bytes:
        [im] = render(
            loaded,
            prompt=prompt,
            negative_prompt="",
            params=params,
            seeds=[3],
            refs=refs,
            crops=placeholder_crops(),
        )
        return im.tobytes()

    assert pixels(HEAD + TAIL_A) != pixels(HEAD + TAIL_B)
