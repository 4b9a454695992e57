"""docker/ and .env.example, checked statically (no Docker engine runs here).

The compose files parse and describe what an operator needs; every file a
Dockerfile copies exists and is not excluded by its .dockerignore; every
environment variable the code reads is documented in .env.example and every
documented one is read; .env is ignored by git.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from bot.platforms import PLATFORMS
from sitter.config import Settings

ROOT = Path(__file__).resolve().parents[1]
DOCKER = ROOT / "docker"
ENV_EXAMPLE = ROOT / ".env.example"
DOCKERFILES = ["Dockerfile.bot", "Dockerfile.engine"]
COMPOSE_FILES = ["compose.yaml", "compose.worker.yaml"]
# Variables the test suite alone reads (not operators' business).
TEST_ONLY = {"SITTER_TEST_REDIS_URL", "SITTER_SHARED_DIR"}
VAR = re.compile(r"\bSITTER_[A-Z0-9_]+\b")


def _compose(name: str) -> dict:
    return yaml.safe_load((DOCKER / name).read_text())


def _dockerfile_lines(name: str) -> list[str]:
    """Instructions with continuation lines joined and comments dropped."""
    text = (DOCKER / name).read_text()
    text = re.sub(r"\\\n", " ", text)
    return [
        ln.strip() for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")
    ]


def _copy_sources(name: str) -> list[str]:
    sources = []
    for line in _dockerfile_lines(name):
        if line.upper().startswith(("COPY ", "ADD ")):
            parts = [p for p in line.split()[1:] if not p.startswith("--")]
            sources += parts[:-1]
    return sources


# --- compose -------------------------------------------------------------------------------
@pytest.mark.parametrize("name", COMPOSE_FILES)
def test_compose_parses_and_every_service_restarts_and_reads_env_file(name: str) -> None:
    compose = _compose(name)
    assert compose["services"], f"{name} has no services"
    for svc_name, svc in compose["services"].items():
        assert "restart" in svc, f"{name}: service {svc_name} has no restart policy"
        env_files = svc.get("env_file")
        env_files = [env_files] if isinstance(env_files, str) else env_files
        assert env_files == ["../.env"], f"{name}: {svc_name} must read its secrets from ../.env"
        if svc["restart"] != "no":  # long-running services prove they are healthy
            assert svc.get("healthcheck", {}).get("test"), f"{name}: {svc_name} has no healthcheck"
        build = svc.get("build")
        if build:
            context = (DOCKER / build["context"]).resolve()
            assert context == ROOT, f"{name}: {svc_name} must build from the repository root"
            assert (context / build["dockerfile"]).is_file()
        for volume in svc.get("volumes", []):
            source = volume.split(":")[0]
            if not source.startswith((".", "/")):
                assert source in compose.get("volumes", {}), f"{name}: volume {source} undeclared"


def test_compose_redis_persists_the_queue() -> None:
    redis = _compose("compose.yaml")["services"]["redis"]
    command = " ".join(redis["command"])
    assert "--appendonly yes" in command, "a Redis restart must not lose queued orders"
    assert "--requirepass" in command
    assert any(v.endswith(":/data") for v in redis["volumes"]), (
        "the append-only file needs a volume"
    )
    assert "ports" not in redis, "Redis must not be published on the host by default"
    assert "redis-cli" in " ".join(redis["healthcheck"]["test"])


@pytest.mark.parametrize("name", COMPOSE_FILES)
def test_compose_worker_reserves_a_gpu_and_waits_for_models(name: str) -> None:
    services = _compose(name)["services"]
    worker = services["worker"]
    devices = worker["deploy"]["resources"]["reservations"]["devices"]
    assert devices[0]["driver"] == "nvidia" and "gpu" in devices[0]["capabilities"]
    assert worker["depends_on"]["models"]["condition"] == "service_completed_successfully"
    assert services["models"]["command"] == ["sitter", "models", "fetch"]
    assert any(v.startswith("models:") for v in worker["volumes"])


def test_compose_bot_keeps_data_on_a_volume_and_waits_for_redis() -> None:
    services = _compose("compose.yaml")["services"]
    bot = services["bot"]
    assert bot["environment"]["SITTER_DATA_DIR"] == "/data"
    assert any(v.startswith("sitter-data:/data") for v in bot["volumes"])
    assert bot["depends_on"]["redis"]["condition"] == "service_healthy"
    assert services["worker"]["depends_on"]["redis"]["condition"] == "service_healthy"
    assert "Dockerfile.bot" in bot["build"]["dockerfile"]


def test_compose_health_checks_call_a_real_module() -> None:
    """The health command the compose file runs exists and knows both roles."""
    from sitter import healthcheck

    for name in COMPOSE_FILES:
        for svc in _compose(name)["services"].values():
            test = svc.get("healthcheck", {}).get("test", [])
            if "sitter.healthcheck" in test:
                assert test[-1] in ("bot", "worker")
    assert healthcheck.main(["nonsense"]) == 2


# --- Dockerfiles ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", DOCKERFILES)
def test_every_copied_file_exists(name: str) -> None:
    sources = _copy_sources(name)
    assert sources, f"{name} copies nothing"
    missing = [s for s in sources if not (ROOT / s).exists()]
    assert not missing, f"{name} copies files that do not exist: {missing}"


@pytest.mark.parametrize("name", DOCKERFILES)
def test_dockerignore_lets_the_copied_files_in_and_keeps_secrets_out(name: str) -> None:
    ignore = (DOCKER / f"{name}.dockerignore").read_text().split()
    allowed = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    for source in _copy_sources(name):
        assert source.rstrip("/") in allowed, f"{name}: {source} is excluded by its .dockerignore"
    assert ".env" in ignore and "**" in ignore


def test_bot_image_is_slim_without_torch() -> None:
    lines = _dockerfile_lines("Dockerfile.bot")
    assert lines[0] == "FROM python:3.11-slim"
    installs = " ".join(ln for ln in lines if "pip install" in ln)
    assert '".[bot]"' in installs
    assert ".[engine]" not in installs and "pip install torch" not in installs


def test_engine_image_keeps_the_base_torch_and_installs_insightface_without_deps() -> None:
    lines = _dockerfile_lines("Dockerfile.engine")
    base = next(ln for ln in lines if ln.startswith("ARG BASE="))
    assert re.fullmatch(r"ARG BASE=pytorch/pytorch:[\d.]+-cuda[\d.]+-cudnn\d+-runtime", base)
    install = next(ln for ln in lines if '".[engine]"' in ln)
    assert "-c /tmp/torch-pin.txt" in install and "torch==" in install
    assert 'pip install --no-deps "insightface==' in install
    assert "libomp5" in " ".join(lines), "the ncnn upscaler needs libomp5"


@pytest.mark.parametrize("name", DOCKERFILES)
def test_images_run_as_a_user_with_a_healthcheck(name: str) -> None:
    lines = _dockerfile_lines(name)
    assert any(ln.startswith("USER ") and "root" not in ln for ln in lines)
    assert any(ln.startswith("HEALTHCHECK ") and "sitter.healthcheck" in ln for ln in lines)


# --- environment variables -------------------------------------------------------------------
def _documented() -> dict[str, list[str]]:
    """SITTER_* variables in .env.example (set or commented out) -> the comments above them.

    Consecutive variables share the comment block above the first of them.
    """
    docs: dict[str, list[str]] = {}
    comments: list[str] = []
    after_var = False
    for raw in ENV_EXAMPLE.read_text().splitlines():
        line = raw.strip()
        m = re.fullmatch(r"#?\s*(SITTER_[A-Z0-9_]+)=.*", line)
        if m:
            docs[m.group(1)] = list(comments)
            after_var = True
            continue
        if line.startswith("#") and not line.startswith("# ====="):
            if after_var:
                comments = []
            comments.append(line)
        else:
            comments = []
        after_var = False
    return docs


def _read_by_code() -> set[str]:
    names = {f"SITTER_{field.upper()}" for field in Settings.model_fields}
    for platform in PLATFORMS:  # each adapter's own settings, under its prefix
        prefix = platform.settings.model_config.get("env_prefix", "")
        names |= {f"{prefix}{field.upper()}" for field in platform.settings.model_fields}
    files = [p for pkg in ("sitter", "bot", "engine", "cli") for p in ROOT.glob(f"{pkg}/**/*.py")]
    files += [ROOT / "dev", *ROOT.glob("scripts/*"), *DOCKER.glob("*")]
    for path in files:
        if path.is_file():
            names |= set(VAR.findall(path.read_text(errors="replace")))
    prefixes = {n for n in names if n.endswith("_")}  # an adapter's env_prefix, not a variable
    return names - TEST_ONLY - prefixes


def test_every_variable_the_code_reads_is_documented() -> None:
    documented = _documented()
    missing = sorted(_read_by_code() - set(documented))
    assert not missing, f"add these to .env.example with a comment line above each: {missing}"
    undocumented = sorted(name for name, comments in documented.items() if not comments)
    assert not undocumented, f"these .env.example variables have no comment above: {undocumented}"


def test_every_documented_variable_is_read_by_the_code() -> None:
    stale = sorted(set(_documented()) - _read_by_code())
    assert not stale, f".env.example documents variables nothing reads: {stale}"


def test_env_example_loads_as_settings() -> None:
    """Copying the example to .env gives a working configuration, not a parse error."""
    settings = Settings(_env_file=ENV_EXAMPLE)  # type: ignore[call-arg]
    defaults = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.queue_prefix == defaults.queue_prefix
    assert settings.min_photos == defaults.min_photos
    assert settings.metrics_port is None
    for platform in PLATFORMS:
        own = platform.settings(_env_file=ENV_EXAMPLE)  # type: ignore[call-arg]
        assert own.token is None, platform.name


def test_dot_env_is_ignored_by_git() -> None:
    out = subprocess.run(
        ["git", "check-ignore", "-q", ".env"], cwd=ROOT, capture_output=True, check=False
    )
    assert out.returncode == 0, ".env must be listed in .gitignore (it holds tokens)"
    tracked = subprocess.run(
        ["git", "ls-files", ".env"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert tracked.stdout.strip() == "", ".env is committed: remove it and rotate its tokens"
