"""Settings from the environment, with plain-words errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.discord.settings import DiscordSettings
from bot.telegram.settings import TelegramSettings
from sitter.config import ConfigError, FaceBackend, load_settings


def test_defaults_work_on_one_machine(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    s = load_settings()
    assert s.db_path == Path("data/sitter.db") and s.media_dir == Path("data/media")
    assert TelegramSettings.load().token is None and DiscordSettings.load().token is None
    assert s.redis_url.startswith("redis://127.0.0.1")


def test_environment_names(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SITTER_REDIS_URL", "redis://example:6380/2")
    monkeypatch.setenv("SITTER_DATA_DIR", str(tmp_path / "d"))
    monkeypatch.setenv("SITTER_TELEGRAM_TOKEN", "123:abc")
    monkeypatch.setenv("SITTER_TELEGRAM_API_URL", "http://127.0.0.1:8081")
    monkeypatch.setenv("SITTER_DISCORD_TOKEN", "  ")
    monkeypatch.setenv("SITTER_MODEL", "tiny")
    monkeypatch.setenv("SITTER_FACE_BACKEND", "dlib")
    s = load_settings()
    assert s.redis_url == "redis://example:6380/2"
    assert s.db_path == tmp_path / "d" / "sitter.db"
    assert s.is_tiny and s.face_backend is FaceBackend.DLIB
    # The chat platforms' settings: the same names, declared by their adapters.
    telegram, discord = TelegramSettings.load(), DiscordSettings.load()
    assert telegram.token is not None and telegram.token.get_secret_value() == "123:abc"
    assert "123:abc" not in repr(telegram)  # secrets stay out of logs
    assert telegram.api_url == "http://127.0.0.1:8081"
    assert discord.token is None  # blank means unset


def test_a_platforms_bad_value_names_its_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SITTER_DISCORD_MODERATION_GUILDS", "the mods")
    (tmp_path / ".env").write_text("SITTER_TELEGRAM_MODERATION_CHAT=ours\n")
    with pytest.raises(ConfigError, match="SITTER_DISCORD_MODERATION_GUILDS"):
        DiscordSettings.load()
    with pytest.raises(ConfigError, match="SITTER_TELEGRAM_MODERATION_CHAT"):
        TelegramSettings.load()


def test_dotenv_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("SITTER_MIN_PHOTOS=6\n")
    assert load_settings().min_photos == 6


def test_bad_values_name_the_variable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SITTER_FACE_BACKEND", "opencv")
    monkeypatch.setenv("SITTER_MIN_PHOTOS", "lots")
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert "SITTER_FACE_BACKEND" in str(err.value) and "SITTER_MIN_PHOTOS" in str(err.value)


def test_empty_values_mean_unset(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SITTER_METRICS_PORT", "")
    monkeypatch.setenv("SITTER_MIN_PHOTOS", "")
    s = load_settings()
    assert s.metrics_port is None and s.min_photos == 4


@pytest.mark.parametrize(
    "url", ["127.0.0.1:6379", "localhost", "http://127.0.0.1:6379/0", "user:s3cret@redis:6379"]
)
def test_a_redis_url_without_its_scheme_is_a_config_error(
    url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Issue 22, item 19: it was redis-py's ValueError, a traceback from doctor/run/chat."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SITTER_REDIS_URL", url)
    with pytest.raises(ConfigError) as err:
        load_settings()
    said = str(err.value)
    assert "SITTER_REDIS_URL: Value error, a Redis URL starts with redis://, rediss://" in said
    assert "s3cret" not in said
    for good in ("redis://127.0.0.1:6379/0", "rediss://h:6380/1", "unix:///tmp/r.sock?db=0"):
        monkeypatch.setenv("SITTER_REDIS_URL", good)
        assert load_settings().redis_url == good


@pytest.mark.parametrize("command", [["doctor"], ["chat", "--no-worker"], ["run", "--no-worker"]])
def test_the_commands_say_a_bad_redis_url_in_one_line(command: list[str], tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    env = {
        **os.environ,
        "SITTER_REDIS_URL": "127.0.0.1:6379",
        "SITTER_DATA_DIR": str(tmp_path),
        "PYTHONPATH": str(root),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "cli", *command],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    assert "SITTER_REDIS_URL: Value error, a Redis URL starts with redis://" in proc.stderr
