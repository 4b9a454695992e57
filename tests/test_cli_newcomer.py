"""Issue 22 items 20 and 23: what a newcomer met running the commands themselves.

Real `sitter` processes (the refusals are what a person reads), with the shipped settings.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.terminal.app import continue_command
from sitter.config import TRY_OFFLINE, load_settings

ROOT = Path(__file__).resolve().parents[1]


def _sitter(*args: str, data_dir: Path, env: dict[str, str] | None = None) -> tuple[int, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("SITTER_")}
    base |= {"SITTER_DATA_DIR": str(data_dir), "PYTHONPATH": str(ROOT), **(env or {})}
    proc = subprocess.run(
        [sys.executable, "-c", "import sys; from cli.main import main; rc = main(sys.argv[1:]);"
         " print('IMPORTED', *sorted(m for m in ('torch', 'diffusers') if m in sys.modules));"
         " sys.exit(rc)", *args],
        cwd=ROOT, env=base, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    return proc.returncode, proc.stdout + proc.stderr


def test_generate_refuses_a_missing_folder_before_loading_a_model_library(tmp_path: Path) -> None:
    """It took 4–7 s to say "not a folder": diffusers and torch were imported first."""
    rc, out = _sitter(
        "generate", "--photos", str(tmp_path / "nope"), "--style", "watercolor",
        "--out", str(tmp_path / "o"), data_dir=tmp_path / "data",
    )  # fmt: skip
    assert rc == 2 and "--photos" in out and "is not a folder" in out, out
    assert "IMPORTED\n" in out, out  # neither torch nor diffusers


def test_generate_without_the_model_says_how_to_try_it_offline(tmp_path: Path) -> None:
    """The README's `sitter generate` with the default (real) model: the refusal names the
    offline way (the hint `sitter run` gave, `generate` did not), with no progress bars."""
    photos = tmp_path / "photos"
    photos.mkdir()
    from studio_harness import astronaut_set

    for f in astronaut_set():
        (photos / f.filename).write_bytes(f.data or b"")
    env = {"SITTER_FACE_BACKEND": "dlib"}  # the default model, not in this empty cache
    rc, out = _sitter(
        "generate", "--photos", str(photos), "--style", "watercolor",
        "--out", str(tmp_path / "o"), data_dir=tmp_path / "data", env=env,
    )  # fmt: skip
    assert rc == 2 and "is not in the model cache" in out, out
    assert f"To try Sitter without downloads: {TRY_OFFLINE}" in out, out
    assert "%|" not in out and "it/s" not in out, out


def test_the_goodbye_names_a_command_that_continues_with_the_same_models(
    tmp_path: Path,
) -> None:
    """ "`sitter chat` continues" was said after an offline session, but a bare `sitter chat`
    uses the real model (its worker refuses without a download)."""
    offline = load_settings(data_dir=tmp_path, model="tiny-klein", face_backend="dlib")
    cmd = continue_command(offline)
    assert cmd == "SITTER_MODEL=tiny-klein SITTER_FACE_BACKEND=dlib .venv/bin/sitter chat"
    real = load_settings(data_dir=tmp_path, model="black-forest-labs/FLUX.2-klein-4B")
    assert continue_command(real) == ".venv/bin/sitter chat"


def test_a_refusing_workers_reason_leaves_out_warnings_and_progress_bars(tmp_path: Path) -> None:
    from bot.local_worker import WorkerKeeper

    (tmp_path / "worker.log").write_text(
        "2026-12-07 21:25:44,642 WARNING engine.signing [order -] C2PA: signing with a local "
        "development certificate (/x/c2pa/dev-signer-chain.pem)\n"
        "Loading weights:  40%|████      | 2/5 [00:01<00:01,  2.10it/s]\r"
        "Loading weights: 100%|██████████| 5/5 [00:02<00:00,  2.31it/s]\n"
        "Fetching 3 files: 100%|##########| 3/3 [00:00<00:00, 1234.5it/s]\n"
        "SITTER_MODEL=black-forest-labs/FLUX.2-klein-4B is not in the model cache /x/models: "
        "run `sitter models fetch`\n"
    )
    keeper = WorkerKeeper.__new__(WorkerKeeper)  # no process: only its words
    keeper.settings = load_settings(data_dir=tmp_path)
    reason = keeper._reason()
    assert reason.startswith("SITTER_MODEL=black-forest-labs"), reason
    assert "C2PA" not in reason and "%|" not in reason and "it/s" not in reason, reason


def test_the_c2pa_development_note_is_a_warning_once_not_on_every_run(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from engine.signing import load_signer

    settings = load_settings(data_dir=tmp_path)
    with caplog.at_level(logging.INFO, logger="engine.signing"):
        load_signer(settings)
        load_signer(settings)
    notes = [r for r in caplog.records if "development certificate" in r.getMessage()]
    assert [r.levelno for r in notes] == [logging.WARNING, logging.INFO]


def test_every_generate_option_says_what_it_is_and_subject_is_screened(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Item 23: --attire, --setting, --lighting, --composition and --seed had no text in
    --help, and there was no --subject (the chat's "describe me" step)."""
    import argparse

    from cli.generate import cmd_generate
    from cli.main import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    gen = sub.choices["generate"]
    silent = [a.dest for a in gen._actions if not a.help]
    assert silent == [], silent
    assert "--subject" in gen.format_help()
    photos = tmp_path / "p"
    photos.mkdir()
    (photos / "a.jpg").write_bytes(b"\xff\xd8\xff")
    args = argparse.Namespace(
        photos=str(photos), style="watercolor", out=str(tmp_path / "o"), seed=None,
        attire="", setting="", lighting="", composition="", subject="naked", pack=None,
        aspect=None,
    )  # fmt: skip
    settings = load_settings(data_dir=tmp_path / "d", model="tiny", face_backend="dlib")
    assert cmd_generate(args, settings) == 2
    assert "nude" in capsys.readouterr().err  # refused before any model loads
    args.subject = "x" * 200
    assert cmd_generate(args, settings) == 2
    assert "--subject is 200 bytes" in capsys.readouterr().err


def test_dev_usage_names_every_command_it_takes() -> None:
    """Item 23: `./dev` without a command named run and test, not setup."""
    proc = subprocess.run([str(ROOT / "dev")], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2
    for word in ("./dev run", "./dev test", "./dev setup"):
        assert word in proc.stderr, proc.stderr
