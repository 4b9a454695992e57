"""Issue 13, items 16, 18, 19 and 21-24: the terminal's file reading, secrets in logs and
messages, and what the commands say (`photos check`, `generate`, `doctor`, `verify`).
Real files, real subprocesses, a real Redis, the real python-telegram-bot client."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from conftest import BAD_IMAGES, FACES, needs_shared
from studio_harness import astronaut_set

from bot.studio.core.events import Files, Who
from bot.terminal.app import Terminal
from sitter.config import load_settings

ROOT = Path(__file__).resolve().parents[1]
TELEGRAM_TOKEN = "7412345678:AAHk3p9QzXv-Lm2NdR8sTq4WbYc6Ue1Fo0J"
PASSWORD = "hunter2-redis-secret"


def _sitter(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess:
    full = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(ROOT),
        "HOME": os.environ.get("HOME", "/tmp"),
    }
    full.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=full,
        timeout=timeout,
        check=False,
    )


# --- 16: the terminal stats before it reads ---------------------------------------------------
def test_terminal_skips_devices_pipes_and_huge_files_without_reading_them(tmp_path: Path) -> None:
    """`x.jpg -> /dev/zero` in a folder ended `sitter chat` with a MemoryError."""
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "x.jpg").symlink_to("/dev/zero")
    os.mkfifo(folder / "pipe.png")  # reading it would block forever
    with (folder / "huge.jpg").open("wb") as fh:  # sparse: 5 GB on paper, nothing on disk
        fh.truncate(5 * 10**9)
    good = astronaut_set()[0]
    (folder / "me.png").write_bytes(good.data or b"")
    term = Terminal(tmp_path / "out", Who("terminal", "t", "t"), max_bytes=20 * 1024 * 1024)
    event = term.parse(str(folder))
    assert isinstance(event, Files)
    by_name = {f.filename: f for f in event.files}
    assert by_name["x.jpg"].data is None and "not a regular file" in by_name["x.jpg"].error
    assert by_name["pipe.png"].data is None and "not a regular file" in by_name["pipe.png"].error
    assert by_name["huge.jpg"].data is None and "5000.0 MB" in by_name["huge.jpg"].error
    assert by_name["me.png"].data == good.data


def test_terminal_reads_no_more_files_than_one_message_may_hold(tmp_path: Path) -> None:
    """Review 1, finding 6: a folder of 40 photos with a cap of 12: twelve are read, the
    other 28 are passed on unread (so the studio says it left them alone), in order."""
    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(40):
        (folder / f"p{i:02}.jpg").write_bytes(b"photo %d" % i)
    term = Terminal(tmp_path / "out", Who("terminal", "t", "t"), max_files=12)
    event = term.parse(str(folder))
    assert isinstance(event, Files) and len(event.files) == 40
    read, unread = event.files[:12], event.files[12:]
    assert [f.data for f in read] == [b"photo %d" % i for i in range(12)]
    assert all(f.data is None and f.error == "not read" for f in unread)


# --- 18: the Telegram token never reaches a log line --------------------------------------------
class _Unauthorized(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = json.dumps({"ok": False, "error_code": 401, "description": "Unauthorized"})
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args: object) -> None:
        pass


def test_telegram_token_is_redacted_in_every_log_line_at_every_level(
    redis_url: str, tmp_path: Path
) -> None:
    """`sitter bot` at DEBUG against a Bot API on loopback that refuses the token: PTB
    says the token in its DEBUG `Set Bot API URL: .../bot<TOKEN>` and in `InvalidToken:
    The token `...` was rejected`; neither reaches the output, and the bot ends with a
    plain message."""
    server = HTTPServer(("127.0.0.1", 0), _Unauthorized)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        run = _sitter(
            "bot",
            env={
                "SITTER_TELEGRAM_TOKEN": TELEGRAM_TOKEN,
                "SITTER_TELEGRAM_API_URL": f"http://127.0.0.1:{server.server_port}",
                "SITTER_REDIS_URL": redis_url,
                "SITTER_DATA_DIR": str(tmp_path),
                "SITTER_LOG_LEVEL": "DEBUG",
            },
        )
    finally:
        server.shutdown()
    out = run.stdout + run.stderr
    assert "Set Bot API URL" in out  # the DEBUG line is there ...
    assert TELEGRAM_TOKEN not in out and TELEGRAM_TOKEN.split(":")[1] not in out  # ... redacted
    assert run.returncode == 2 and "Telegram rejected SITTER_TELEGRAM_TOKEN" in run.stderr
    assert "Traceback" not in out


# --- 19: a Redis password in either URL form is never printed ----------------------------------
@pytest.mark.parametrize(
    "url",
    [
        f"redis://:{PASSWORD}@127.0.0.1:1/0",
        f"redis://127.0.0.1:1/0?password={PASSWORD}",
        f"redis://default:{PASSWORD}@127.0.0.1:1/0?socket_timeout=1",
    ],
)
def test_redis_password_is_hidden_by_doctor_healthcheck_and_bot(url: str, tmp_path: Path) -> None:
    from sitter.redact import redact_url

    assert PASSWORD not in redact_url(url) and "127.0.0.1:1" in redact_url(url)
    env = {"SITTER_REDIS_URL": url, "SITTER_DATA_DIR": str(tmp_path)}
    doctor = _sitter("doctor", env=env)
    bot = _sitter("bot", env={**env, "SITTER_TELEGRAM_TOKEN": TELEGRAM_TOKEN})
    health = subprocess.run(
        [sys.executable, "-m", "sitter.healthcheck", "worker"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), **env},
        timeout=60,
        check=False,
    )
    assert "127.0.0.1:1" in doctor.stdout and "No Redis answers" in bot.stderr
    assert "127.0.0.1:1" in health.stderr
    for run in (doctor, bot, health):
        assert PASSWORD not in run.stdout + run.stderr, run.stdout + run.stderr
        assert TELEGRAM_TOKEN not in run.stdout + run.stderr


# --- 21: `sitter photos check` -----------------------------------------------------------------
@needs_shared
def test_photos_check_is_independent_by_default_and_as_a_set_on_request() -> None:
    people = [
        FACES / "obama" / "1.jpg",
        FACES / "biden" / "1.jpg",
        FACES / "kit_harington" / "1.jpg",
    ]
    people += [FACES / "alex_lacamoire" / "1.jpg"]
    env = {"SITTER_FACE_BACKEND": "dlib"}
    each = _sitter("photos", "check", "--json", *map(str, people), env=env)
    rows = [json.loads(line) for line in each.stdout.splitlines()]
    assert [r["accepted"] for r in rows] == [True] * len(people), each.stdout
    together = _sitter("photos", "check", "--json", "--as-set", *map(str, people), env=env)
    problems = {
        p["problem"] for line in together.stdout.splitlines() for p in json.loads(line)["reasons"]
    }
    assert "different_person" in problems
    help_text = _sitter("photos", "--help").stdout
    assert (
        "each file is checked on its own" in " ".join(help_text.split()) and "--as-set" in help_text
    )


@needs_shared
def test_photos_check_as_a_set_keeps_the_majority_whatever_the_order(tmp_path: Path) -> None:
    """Issue 22, item 2: b1.jpg of one person, o1.jpg and o2.jpg of another, judged in file
    order, refused the two; the bot keeps the two. And fewer photos than the studio's
    minimum are pointed out."""
    names = {"b1.jpg": "biden/1.jpg", "o1.jpg": "obama/1.jpg", "o2.jpg": "obama/2.jpg"}
    for name, src in names.items():
        (tmp_path / name).write_bytes((FACES / src).read_bytes())
    files = [str(tmp_path / n) for n in names]
    env = {"SITTER_FACE_BACKEND": "dlib"}
    out = _sitter("photos", "check", "--json", "--as-set", *files, env=env)
    rows = {Path(r["file"]).name: r for r in map(json.loads, out.stdout.splitlines())}
    assert {n: r["accepted"] for n, r in rows.items()} == {
        "b1.jpg": False,
        "o1.jpg": True,
        "o2.jpg": True,
    }, out.stdout
    assert rows["b1.jpg"]["reasons"][0]["problem"] == "different_person"
    assert "most of the other photos" in rows["b1.jpg"]["reasons"][0]["detail"]
    assert "2 usable photos; the studio needs at least 4 of one person" in out.stderr
    assert out.returncode == 1
    text = _sitter("photos", "check", "--as-set", *files, env=env)
    assert "b1.jpg: refused" in text.stdout and "o2.jpg: accepted" in text.stdout
    assert "2 usable photos; the studio needs at least 4" in text.stdout


@needs_shared
def test_photos_check_reports_low_resolution_sizes_and_keeps_stderr_clean() -> None:
    files = [BAD_IMAGES / "hopper.tif", BAD_IMAGES / "hopper_bad_exif.jpg"]
    files += [BAD_IMAGES / "crash-0c7e0e8e11ce787078f00b5b0ca409a167f070e0.tif"]
    out = _sitter(
        "photos", "check", "--json", *map(str, files), env={"SITTER_FACE_BACKEND": "dlib"}
    )
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    low = rows[0]
    assert low["reasons"][0]["problem"] == "low_resolution"
    assert (low["width"], low["height"]) == (128, 128)
    assert out.stderr == "", out.stderr  # no UserWarning: Corrupt EXIF, no _tiffReadProc


# --- 22: `sitter generate` ---------------------------------------------------------------------
def test_generate_checks_the_seed_first_takes_style_names_and_screens_answers(
    tmp_path: Path,
) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    for f in astronaut_set():
        (photos / f.filename).write_bytes(f.data or b"")
    env = {"SITTER_MODEL": "tiny", "SITTER_FACE_BACKEND": "dlib", "SITTER_DATA_DIR": str(tmp_path)}
    base = ["generate", "--photos", str(photos), "--out", str(tmp_path / "out")]
    seed = _sitter(*base, "--style", "watercolor", "--seed", "-5", env=env)
    assert seed.returncode == 2 and "--seed must be a whole number from 0 to" in seed.stderr
    assert "Traceback" not in seed.stderr and "loading" not in seed.stdout  # before any model
    unsafe = _sitter(*base, "--style", "Oil painting", "--attire", "n.u.d.e, topless", env=env)
    assert unsafe.returncode == 2 and "unknown style" not in unsafe.stderr  # the name is taken
    assert "loading" not in unsafe.stdout and not (tmp_path / "out").exists()  # refused first
    assert unsafe.stderr.strip(), "the safety screen says why"
    help_text = " ".join(_sitter("generate", "--help").stdout.split())
    assert "'Oil painting'" in help_text and "'Watercolor'" in help_text


# --- 23: `sitter doctor` -----------------------------------------------------------------------
async def test_doctor_names_what_ready_used_to_hide(
    redis_url: str, queue_prefix: str, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from redis.asyncio import Redis

    from cli.doctor import run_checks
    from sitter.heartbeat import Heartbeat

    monkeypatch.chdir(data_dir)  # no stray .env
    monkeypatch.setenv("SITTER_TELEGRAM_TOKEN", "123:abc def")  # the adapter's own setting
    settings = load_settings(
        data_dir=data_dir,
        redis_url=redis_url,
        queue_prefix=queue_prefix,
        model="stabilityai/stable-diffusion-xl-base-1.0",
    )
    client = Redis.from_url(redis_url)
    beat = Heartbeat(client, queue_prefix, ["fast", "gpu"], 5.0, model="tiny")
    await beat.serving()
    try:
        lines = [f"{f.mark} {f.area} {f.text}" for f in await run_checks(settings)]
    finally:
        await beat.stop()
        await client.aclose()
    text = "\n".join(lines)
    assert "✗ config SITTER_TELEGRAM_TOKEN does not look like a token" in text
    assert "no Telegram moderators or moderation chat: reports go nowhere" in text
    assert "local development certificate" in text and "Valid, not Trusted" in text
    assert "runs model 'tiny' while SITTER_MODEL here is" in text
    assert "wizard with 7 steps" in text  # the chat says "Step 1 of 7"
    assert "123:abc def" not in text


# --- 24: `sitter verify` -----------------------------------------------------------------------
def test_verify_says_a_missing_file_plainly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from cli.main import main

    assert main(["verify", str(tmp_path / "gone.png")]) == 2
    out = capsys.readouterr().out
    assert out.strip() == f"{tmp_path / 'gone.png'}: no such file"
    assert main(["verify", "--json", str(tmp_path)]) == 2
    assert json.loads(capsys.readouterr().out)["error"] == "this is a folder, not an image file"


# --- review 1, finding 9: percent-encoded and short passwords ----------------------------------
@pytest.mark.parametrize(
    ("url", "password"),
    [
        ("redis://127.0.0.1:1/0?password=p%40ss%2Fw0rd%21", "p@ss/w0rd!"),
        ("redis://:p%40ss%2Fw0rd%21@127.0.0.1:1/0", "p@ss/w0rd!"),
        ("redis://127.0.0.1:1/0?password=k9z", "k9z"),
        ("redis://:k9z@127.0.0.1:1/0", "k9z"),
    ],
)
def test_encoded_and_short_redis_passwords_never_reach_a_log_line(
    url: str, password: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A percent-encoded password is hidden in both forms (as written in the URL and as
    redis-py decodes it); one under four characters is hidden wherever it stands in a URL
    or a password= pair (replacing it everywhere would garble every line)."""
    from urllib.parse import quote

    from sitter import redact

    redact.install(redact.url_secrets(url))
    log = logging.getLogger("sitter.test.redact")
    with caplog.at_level(logging.INFO):
        log.warning("connecting to %s", url)
        log.warning("redis said: Error connecting to %s", url.replace("redis://", "rediss://"))
        log.warning("options: password=%s db=0", quote(password, safe=""))
        if len(password) >= 4:  # long enough to be hidden anywhere
            log.warning("AUTH %s failed", password)
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "127.0.0.1:1" in text
    for form in {password, quote(password, safe=""), quote(password)}:
        assert form not in text, (form, text)


def test_photos_check_shows_a_names_terminal_escapes_made_visible(tmp_path: Path) -> None:
    """A new user's `sitter photos check evil<ESC>[31mred.jpg` coloured the terminal."""
    evil = tmp_path / "evil\x1b[31mred\tx.jpg"
    evil.write_bytes(b"not a picture")
    out = _sitter("photos", "check", str(evil), env={"SITTER_FACE_BACKEND": "dlib"})
    assert "\x1b" not in out.stdout and "\t" not in out.stdout, out.stdout
    assert "evil\\x1b[31mred\\x09x.jpg" in out.stdout, out.stdout
