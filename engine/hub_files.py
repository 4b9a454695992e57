"""Reading and checking Hugging Face Hub files for ``sitter models fetch|verify``.

Downloads go through ``huggingface_hub``; without internet access a download fails
with :class:`FetchError`, whose message says how to copy a model in by hand.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path


class FetchError(Exception):
    """A download failed; the message says what to do instead."""


def hub_file(repo: str, filename: str, cache: Path) -> Path | None:
    from huggingface_hub import hf_hub_download

    try:
        return Path(hf_hub_download(repo, filename, cache_dir=cache, local_files_only=True))
    except Exception:
        return None


def download(what: str, call: Callable[[], str]) -> str:
    try:
        return call()
    except Exception as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise FetchError(
            f"cannot download {what}: {type(exc).__name__}: {reason}\n"
            "  This machine may have no internet access. Fetch on a machine that has it "
            "(`sitter models fetch` with the same SITTER_MODEL_CACHE) and copy the cache folder "
            "over, or point the setting at a local folder."
        ) from None


def verify_components(folder: Path) -> None:
    """Every component model_index.json names is complete: a half-finished fetch is
    named here, never loaded (weights without their index, a folder left empty)."""

    index = folder / "model_index.json"
    if not index.is_file():
        return
    missing = []
    for name, spec in json.loads(index.read_text(encoding="utf-8")).items():
        if name.startswith("_") or not isinstance(spec, list) or spec[0] is None:
            continue
        part = folder / name
        files = {p.name for p in part.iterdir()} if part.is_dir() else set()
        if name.startswith("scheduler"):
            ok = "scheduler_config.json" in files
        elif name.startswith("tokenizer"):
            ok = bool(files)
        else:
            ok = "config.json" in files and any(f.endswith(".safetensors") for f in files)
            for shard_index in part.glob("*.safetensors.index.json") if ok else []:
                shards = set(json.loads(shard_index.read_text())["weight_map"].values())
                ok = ok and shards <= files
        if not ok:
            missing.append(name)
    if missing:
        raise ValueError(
            f"incomplete: {', '.join(missing)} missing or partial in {folder}; "
            "run `sitter models fetch` again"
        )


def verify_safetensors(folder: Path) -> str:
    """Check the components, open every .safetensors header; return a one-line summary."""
    from safetensors import safe_open

    verify_components(folder)
    files = sorted(folder.rglob("*.safetensors"))
    if not files:
        raise ValueError(f"no .safetensors weights under {folder}")
    tensors = 0
    for f in files:
        with safe_open(str(f), framework="pt") as st:
            tensors += len(list(st.keys()))
    return f"{len(files)} weight file(s), {tensors} tensors readable"
