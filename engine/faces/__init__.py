"""Face analysis behind one interface (:class:`engine.faces.base.FaceAnalyzer`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sitter.config import ConfigError, FaceBackend

if TYPE_CHECKING:
    from engine.faces.base import FaceAnalyzer
    from sitter.config import Settings


def load_analyzer(settings: Settings) -> FaceAnalyzer:
    """The configured backend: ``dlib`` (no download) or ``insightface`` (a model pack)."""
    if settings.face_backend == FaceBackend.DLIB:
        from engine.faces.dlib_backend import DlibAnalyzer

        return DlibAnalyzer()
    if settings.face_backend == FaceBackend.INSIGHTFACE:
        from engine.faces.insightface_backend import InsightFaceAnalyzer

        return InsightFaceAnalyzer(
            pack=settings.face_pack,
            root=settings.models_dir / "insightface",
            device=settings.device,
        )
    raise ConfigError(f"SITTER_FACE_BACKEND: unknown backend {settings.face_backend!r}")
