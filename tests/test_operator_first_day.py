"""The operator's first day: fetch from a Hub, verify, and a worker that renders offline.

A Hugging Face Hub on loopback (tests/hub_server.py, via ``HF_ENDPOINT``) serves
the tiny FLUX.2 [klein] saved in the real repository's layout under the real repo
id, beside a root single-file checkpoint the loader never reads. Then, in
subprocesses as an operator runs them: ``sitter models fetch`` (takes exactly the
files the loader reads), ``sitter models verify``, the Hub goes away, and a
``sitter worker`` starts from the cache with ``HF_HUB_OFFLINE=1`` and renders an
order sent through the real queue. A half-finished download is resumed.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hub_server import Hub
from PIL import Image, ImageEnhance, ImageOps

from sitter import contract as c

ROOT = Path(__file__).resolve().parents[1]
REPO = "black-forest-labs/FLUX.2-klein-4B"
CARD = "---\nlicense: apache-2.0\n---\n# FLUX.2 [klein] 4B (a tiny random stand-in)\n"

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("one_torch_thread")]


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from engine import families

    root = tmp_path_factory.mktemp("hub")
    folder = root / "FLUX.2-klein-4B"
    shutil.copytree(families.ensure_tiny_model("tiny-klein", root / "build"), folder)
    (folder / "README.md").write_text(CARD)
    (folder / "flux-2-klein-4b.safetensors").write_bytes(b"\0" * 4096)  # never read
    return folder


def _files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}


def _env(data_dir: Path, **extra: str) -> dict[str, str]:
    # The optional GPU upscaler's file where fetch puts it, so nothing is fetched from
    # GitHub. SITTER_UPSCALER_WEIGHTS stays unset: a stand-in file named there would rightly
    # count as an unknown (not the published) upscaler under the commercial licence.
    weights = data_dir / "models" / "RealESRGAN_x4plus.pth"
    weights.parent.mkdir(parents=True, exist_ok=True)
    weights.write_bytes(b"optional GPU upscaler: present, so nothing is fetched from GitHub")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SITTER_", "HF_"))}
    env.update(
        PYTHONPATH=str(ROOT),
        SITTER_DATA_DIR=str(data_dir),
        HF_HUB_DISABLE_XET="1",
        HF_HUB_DISABLE_TELEMETRY="1",
        OMP_NUM_THREADS="1",
        **extra,
    )
    return env


def _sitter(env: dict[str, str], *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _references() -> list[c.Reference]:
    """Three photos of one person (scikit-image's astronaut) through the real analysis."""
    from skimage import data

    from engine.analysis import analyze_photo
    from engine.faces.dlib_backend import DlibAnalyzer

    face = Image.fromarray(data.astronaut()).crop((80, 0, 400, 320))
    photos = [face, ImageOps.mirror(face), ImageEnhance.Brightness(face).enhance(0.9)]
    refs = []
    analyzer = DlibAnalyzer()
    for im in photos:
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=90)
        res = analyze_photo(c.AnalyzePhotoRequest(photo=buf.getvalue()), analyzer)
        assert res.accepted and res.embedding is not None
        refs.append(
            c.Reference(embedding=res.embedding, face_crop=res.face_crop, quality=res.quality)
        )
    return refs


async def test_fetch_verify_then_an_offline_worker_renders(
    repo: Path, data_dir: Path, redis_url: str, queue_prefix: str
) -> None:
    from sitter.queue import EngineClient, connect

    wanted = _files(repo) - {"flux-2-klein-4b.safetensors"}
    with Hub({REPO: repo}) as hub:
        fetched = _sitter(_env(data_dir, HF_ENDPOINT=hub.url), "models", "fetch")
        assert fetched.returncode == 0, fetched.stderr
        assert f"fetching {REPO}" in fetched.stdout
        # Exactly what the loader reads (and the card, for the licence): no root checkpoint.
        assert set(hub.downloads) == {f"{REPO}/{f}" for f in wanted}
        assert all(n == 1 for n in hub.downloads.values())

    offline = _env(data_dir, HF_HUB_OFFLINE="1", HF_ENDPOINT="http://127.0.0.1:9")
    verified = _sitter(offline, "models", "verify")
    assert verified.returncode == 0, verified.stderr
    assert "base model: ok" in verified.stdout and "tensors readable" in verified.stdout
    listed = _sitter(offline, "models", "list")
    assert "[present]" in listed.stdout and "commercial-safe" in listed.stdout

    # The Hub is gone; an order waits on the queue; a worker starts from the cache.
    pool = await connect(redis_url, queue_prefix)
    engine = EngineClient(pool, queue_prefix, poll_delay=0.01)
    try:
        req = c.GenerateRequest(
            generation_id="first-day",
            prompt="a portrait",
            reference_prompt="a portrait of the person in the reference images",
            params=c.GenerationParams(width=64, height=64),
            seeds=[1, 2, 3, 4],
            references=_references(),
            max_attempts=1,
        )
        handle = await engine.enqueue(c.JOB_GENERATE, req, job_id="first-day")
        env = {**offline, "SITTER_REDIS_URL": redis_url, "SITTER_QUEUE_PREFIX": queue_prefix}
        worker = _sitter(env, "worker", "--burst", "--queues", "gpu", timeout=600)
        assert worker.returncode == 0, worker.stderr[-3000:]
        result = await engine.result(c.JOB_GENERATE, handle, timeout=30)
    finally:
        await pool.aclose()
    assert isinstance(result, c.GenerateResult), result
    assert result.model == REPO and result.adapter.startswith("reference images")
    assert len(result.variations) == 4
    for v in result.variations:
        assert Image.open(io.BytesIO(v.image)).size == (64, 64)


def test_a_half_finished_download_is_named_never_loaded_and_fetched_again(
    repo: Path, data_dir: Path
) -> None:
    """huggingface_hub 2.x downloads each file to a private temporary file and renames it
    when complete, so an interrupted fetch leaves files missing, never half a file in the
    snapshot. `verify` names what is missing, the worker refuses to load it, and the
    next fetch completes the snapshot (the partial file is downloaded again, whole)."""
    big = "transformer/diffusion_pytorch_model.safetensors"
    offline = _env(data_dir, HF_HUB_OFFLINE="1", HF_ENDPOINT="http://127.0.0.1:9")
    with Hub({REPO: repo}) as hub:
        assert _sitter(_env(data_dir, HF_ENDPOINT=hub.url), "models", "fetch").returncode == 0
        snapshot = next((data_dir / "models").glob(f"models--*/snapshots/{hub.repos[REPO].sha}"))
        (snapshot / big).resolve().unlink()  # as if the fetch had stopped before this file:
        (snapshot / big).unlink()  # no blob, no link (a partial stays a private temp file)
        verified = _sitter(offline, "models", "verify")
        assert verified.returncode == 1
        assert "incomplete: transformer missing or partial" in verified.stderr
        assert "MISSING" in _sitter(offline, "models", "list").stdout  # so fetch takes it
        hub.downloads.clear()
        again = _sitter(_env(data_dir, HF_ENDPOINT=hub.url), "models", "fetch")
        assert again.returncode == 0, again.stderr
        assert hub.downloads[f"{REPO}/{big}"] == 1 and not hub.ranges
    assert (snapshot / big).read_bytes() == (repo / big).read_bytes()
    assert _sitter(offline, "models", "verify").returncode == 0
