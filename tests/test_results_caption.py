"""The results caption says each portrait's likeness and why it was made again."""

from __future__ import annotations

from pathlib import Path

from bot.store.store import Store
from bot.studio.core.words import likeness_words
from bot.studio.jobs.tracking import variation_columns
from sitter import contract as c


def test_caption_words_for_each_verdict() -> None:
    row = {"likeness": 0.62, "threshold": 0.51, "passed": 1, "face_found": 1, "regenerated": ""}
    assert likeness_words({**row, "verdict": "passed"}) == (
        "likeness 0.62, needed 0.51: looks like you"
    )
    assert likeness_words(
        {**row, "likeness": 0.41, "verdict": "not_alike", "regenerated": "no_face,copy"}
    ) == ("3 tries (no face, a copy) · likeness 0.41, needed 0.51: not alike enough")
    assert likeness_words({**row, "likeness": 0.93, "verdict": "copy"}) == (
        "likeness 0.93: too close a copy of one of your photos"
    )
    none = {**row, "likeness": None, "face_found": 0, "threshold": None}
    assert likeness_words({**none, "verdict": "no_face"}) == "no face found to compare"
    assert likeness_words({**none, "verdict": "unchecked"}) == (
        "no face found; likeness not checked for this style"
    )
    # Rows stored before the per-person gate keep their old caption.
    old = {"likeness": 0.4, "passed": 0, "face_found": 1, "verdict": None}
    assert likeness_words(old) == "likeness 0.40 (weaker)"
    assert likeness_words({**old, "likeness": None, "face_found": 0}) == "no face found to compare"


async def test_verdict_survives_the_store(data_dir: Path) -> None:
    store = await Store.open(data_dir / "sitter.db", data_dir / "media")
    try:
        user = await store.ensure_user("telegram", "7", "Bo", "7")
        ref = await store.current_set(user["id"])
        oid = await store.create_order(
            user["id"], ref["id"], "telegram", "7", "watercolor", {}, "p", "", {}, [1]
        )
        rel, sha = store.media.put(user["id"], "results", b"png bytes", "png")
        v = c.Variation(
            seed=1,
            image=b"",
            likeness=0.93,
            face_found=True,
            attempts=2,
            passed=False,
            verdict=c.Verdict.COPY,
            threshold=0.5,
            regenerated_for=[c.Verdict.COPY],
        )
        await store.add_variation(
            oid,
            user["id"],
            1,
            v.seed,
            rel,
            sha,
            *variation_columns(v),
        )
        (row,) = await store.variations(oid)
        assert likeness_words(row) == (
            "2 tries (a copy) · likeness 0.93: too close a copy of one of your photos"
        )
    finally:
        await store.close()


def test_results_from_before_the_gate_still_parse() -> None:
    old = {"seed": 1, "image": b"x", "likeness": 0.5, "face_found": True, "attempts": 1}
    v = c.Variation.model_validate({**old, "passed": True})
    assert v.verdict is None and v.threshold is None and v.regenerated_for == []
    packed = c.serialize(
        c.GenerateResult(
            generation_id="g", variations=[v], model="m", adapter="a", device="cpu", seconds=1.0
        )
    )
    back = c.parse_result(c.JOB_GENERATE, c.deserialize(packed))
    assert isinstance(back, c.GenerateResult) and back.variations[0] == v
    req = c.GenerateRequest.model_validate(
        {
            "generation_id": "g",
            "prompt": "p",
            "seeds": [1],
            "references": [{"embedding": {"backend": "dlib", "vector": [0.0]}}],
        }
    )
    assert req.gate == c.LikenessGate()  # photographic, threshold


async def test_an_order_carries_its_styles_likeness_policy(
    redis_url: str, queue_prefix: str, data_dir: Path
) -> None:
    """The studio puts the style's [likeness] policy into the generation request."""
    from studio_harness import open_studio

    studio = await open_studio(data_dir, redis_url, queue_prefix)
    sent: list[c.GenerateRequest] = []

    async def enqueue(job: str, req: c.GenerateRequest, job_id: str) -> None:
        sent.append(req)

    studio.engine.enqueue = enqueue  # type: ignore[method-assign]
    try:
        store = studio.store
        user = await store.ensure_user("terminal", "9", "Cy")
        ref = await store.current_set(user["id"])
        rel, sha = store.media.put(user["id"], "refs", b"photo", "jpg")
        pid = await store.add_photo(ref["id"], user["id"], sha, rel, "a.jpg")
        await store.update_photo(pid, "accepted", embedding=[0.1] * 128, backend="dlib")
        for style in ("pencil_sketch", "watercolor"):
            oid = await store.create_order(
                user["id"], ref["id"], "terminal", "9", style, {}, "p", "", {}, [1, 2, 3, 4]
            )
            await studio.enqueue_order(oid)
    finally:
        await studio.aclose()
    assert [(r.gate.kind, r.gate.policy) for r in sent] == [
        (c.StyleKind.DRAWN, c.GatePolicy.LENIENT),
        (c.StyleKind.PAINTED, c.GatePolicy.THRESHOLD),
    ]
    assert sent[0].gate.reason == studio.prompts.style("pencil_sketch").likeness.reason
