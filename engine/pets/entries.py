"""The pet models' rows of ``sitter models list|fetch|verify`` (engine/models.py lists
them with the others): the animal detector and embedder of engine/pets/models.py."""

from __future__ import annotations

from pathlib import Path

from engine.hub_files import download, verify_safetensors
from engine.model_entry import Entry
from sitter.config import Settings

# A transformers model repo: its config, weights, image processor and card (no ONNX, no
# other frameworks' weights).
PET_ALLOW = ["config.json", "preprocessor_config.json", "*.safetensors", "README.md"]


def pet_entries(settings: Settings) -> list[Entry]:
    """The animal detector and embedder (engine/pets/): Hub repos fetched into the cache,
    or local folders. Optional: a worker without them serves people as before."""
    from engine.licences import pet_parts
    from engine.pets.models import model_folder

    out = []
    names = (("animal detector", settings.pet_detector), ("animal embedder", settings.pet_embedder))
    for (role, ref), part in zip(names, pet_parts(settings), strict=True):
        cache = settings.models_dir
        folder = model_folder(ref, cache)

        def fetch(ref: str = ref, cache: Path = cache) -> str:
            from huggingface_hub import snapshot_download

            return download(
                ref, lambda: snapshot_download(ref, cache_dir=cache, allow_patterns=PET_ALLOW)
            )

        def verify(ref: str = ref, cache: Path = cache) -> str:
            found = model_folder(ref, cache)
            if found is None:
                raise ValueError("not in the cache")
            return verify_safetensors(found)

        local = Path(ref).expanduser().is_dir()
        out.append(
            Entry(
                role,
                ref,
                part.licence,
                part.commercial,
                str(folder or f"{cache} (Hugging Face cache layout)"),
                folder is not None and any(folder.glob("*.safetensors")),
                required=False,
                detail="pet photos and portraits (SITTER_PET_DETECTOR / SITTER_PET_EMBEDDER)",
                fetch=None if local else fetch,
                verify=verify,
            )
        )
    return out
