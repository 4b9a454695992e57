"""``sitter train`` and ``sitter generate --personal`` (issue 23): the shell's personal
model, with the tiny FLUX.2 [klein] and dlib, through the worker's own code."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from cli.main import build_parser
from sitter import contract as c
from sitter.config import load_settings

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_train_then_generate_with_the_personal_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from cli.generate import cmd_generate
    from cli.train import cmd_train

    photos = tmp_path / "me"
    photos.mkdir()
    from PIL import Image
    from skimage import data

    Image.fromarray(data.astronaut()).save(photos / "me.png")  # one face, 512 px
    settings = load_settings(data_dir=tmp_path / "d", model="tiny-klein", face_backend="dlib")
    model = tmp_path / "me.safetensors"
    parser = build_parser()

    bad = parser.parse_args(["train", "--photos", str(photos), "--out", str(model), "--steps", "0"])
    assert cmd_train(bad, settings) == 2
    assert "--steps must be from 1" in capsys.readouterr().err

    args = parser.parse_args(
        ["train", "--photos", str(photos), "--out", str(model), "--steps", "4"]
    )
    assert cmd_train(args, settings) == 0
    about = json.loads(model.with_name("me.safetensors.json").read_text())
    blob = model.read_bytes()
    assert about["sha256"] == hashlib.sha256(blob).hexdigest()
    assert (about["steps"], about["family"], about["commercial_ok"]) == (4, "klein", True)
    assert "commercial use allowed" in capsys.readouterr().out

    missing = ["--personal", str(tmp_path / "nope.safetensors")]
    common = ["generate", "--photos", str(photos), "--style", "watercolor", "--seed", "5"]
    gone = parser.parse_args([*common, "--out", str(tmp_path / "x"), *missing])
    assert cmd_generate(gone, settings) == 2
    assert "is not a file" in capsys.readouterr().err
    huge = tmp_path / "huge.safetensors"
    with huge.open("wb") as f:  # sparse: nothing written, the size alone is refused
        f.truncate(c.MAX_LORA_BYTES + 1)
    big = parser.parse_args([*common, "--out", str(tmp_path / "x"), "--personal", str(huge)])
    assert cmd_generate(big, settings) == 2
    assert "at most" in capsys.readouterr().err
    pack = [*common[:3], "--pack", "creator", *common[5:], "--out", str(tmp_path / "x")]
    pack += ["--personal", str(model)]
    assert cmd_generate(parser.parse_args(pack), settings) == 2  # not silently left out
    assert "--pack" in capsys.readouterr().err
    out = tmp_path / "out"
    gen = parser.parse_args([*common, "--out", str(out), "--personal", str(model)])
    assert cmd_generate(gen, settings) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["personal_model"] == about["sha256"]
