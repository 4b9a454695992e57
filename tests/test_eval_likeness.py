"""benchmarks/eval_likeness.py runs end to end on the tiny model (a smoke test)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
from PIL import Image, ImageOps

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _script():
    spec = importlib.util.spec_from_file_location(
        "eval_likeness", ROOT / "benchmarks/eval_likeness.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_eval_likeness_on_the_tiny_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from skimage import data

    person = tmp_path / "ids" / "astronaut"
    person.mkdir(parents=True)
    face = Image.fromarray(data.astronaut()).crop((80, 0, 400, 320))  # one face: hers
    face.save(person / "a.jpg", quality=92)
    ImageOps.mirror(face).save(person / "b.png")
    (tmp_path / "ids" / "noface").mkdir()  # skipped, like ../shared/faces/noface
    script = _script()
    argv = ["--identities", str(tmp_path / "ids"), "--models", "tiny", "--orders", "1"]
    argv += ["--styles", "professional_headshot", "--attempts", "2", "--variations", "2"]
    argv += ["--data-dir", str(tmp_path / "data")]
    assert script.main(argv) == 0
    out = capsys.readouterr().out
    assert "astronaut: 2 of 2 photos accepted" in out
    assert "figures are meaningless" in out
    rows = [
        line
        for line in out.splitlines()
        if line.startswith(("sdxl (tiny): tiny", "  [professional"))
    ]
    assert len(rows) == 2
    # orders 1; noise has no face: nothing passes, each variation used both attempts.
    fields = rows[0].split()
    assert fields[3:5] == ["1", "-"] and fields[-2] == "2.00"


def test_eval_likeness_pets_mode_on_tiny_models(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """--pets on tiny klein and the tiny pet models: the path runs and prints the pet
    figures (meaningless on random weights: what they mean needs a GPU box)."""
    from pet_models import build, chelsea

    folders = build(tmp_path / "pet-models")
    monkeypatch.setenv("SITTER_PET_DETECTOR", str(folders["cat"]))
    monkeypatch.setenv("SITTER_PET_EMBEDDER", str(folders["embedder"]))
    for name, image in (("tom", chelsea()), ("luna", ImageOps.mirror(chelsea()))):
        (tmp_path / "pets" / name).mkdir(parents=True)
        image.save(tmp_path / "pets" / name / "a.png")
        image.rotate(3).save(tmp_path / "pets" / name / "b.png")
    argv = ["--pets", "cat", "--identities", str(tmp_path / "pets"), "--models", "tiny-klein"]
    argv += ["--orders", "1", "--styles", "watercolor", "--attempts", "1", "--variations", "2"]
    argv += ["--data-dir", str(tmp_path / "data")]
    assert _script().main(argv) == 0
    out = capsys.readouterr().out
    assert "tom: 2 of 2 photos accepted" in out and "luna: 2 of 2 photos accepted" in out
    assert "pets (cat): 2 animals, 4 accepted photos" in out
    assert "photo pairs: same animal median" in out and "best split" in out
    assert "outputs: drift to own" in out
    assert " drift " in next(line for line in out.splitlines() if line.startswith("klein (tiny)"))
