"""What the fake engine (tests/fake_engine.py) answers each job: contract models built
by rules a test can read, on real decoding (engine/intake.py) and Pillow images.

No face detector: a photo shows what the test said it shows (``FakeEngine.show``),
by its sha256; a person's embedding is a fixed random unit vector named by the person.
"""

from __future__ import annotations

import hashlib
import io
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PIL import Image, ImageDraw

from sitter import contract as c

if TYPE_CHECKING:
    from fake_engine import FakeEngine

THRESHOLD = 0.5  # same person at or above this cosine similarity
BACKEND = "fake"
DIMS = 32


@dataclass(frozen=True)
class Seen:
    """What the fake's analysis "sees" in one photo."""

    person: str | None  # None: no face (a pet: its name)
    faces: int = 1
    species: str | None = None  # a pet's photo: "cat" or "dog" (``FakeEngine.show_pet``)


def person_vector(person: str, jitter: str = "") -> list[float]:
    """A fixed unit vector for ``person``; ``jitter`` (a photo's sha) moves it slightly."""
    rng = random.Random(hashlib.sha256(person.encode()).digest())
    v = [rng.gauss(0, 1) for _ in range(DIMS)]
    if jitter:
        j = random.Random(jitter)
        v = [x + j.gauss(0, 0.05) for x in v]
    n = sum(x * x for x in v) ** 0.5
    return [x / n for x in v]


def similarity(a: list[float], b: list[float]) -> float:
    na = sum(x * x for x in a) ** 0.5
    nb = sum(x * x for x in b) ** 0.5
    return sum(x * y for x, y in zip(a, b, strict=False)) / (na * nb) if na and nb else 0.0


def _png(im: Image.Image) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


def _median(xs: list[float]) -> float:
    s = sorted(xs)
    mid = len(s) // 2
    return s[mid] if len(s) % 2 else (s[mid - 1] + s[mid]) / 2


def analyze(engine: FakeEngine, req: c.AnalyzePhotoRequest) -> c.Message:
    from engine.intake import IntakeLimits, PhotoRefused, decode_with_limits
    from engine.near_duplicate import fingerprint

    try:
        photo = decode_with_limits(req.photo, IntakeLimits())
    except PhotoRefused as refused:
        issue = c.Issue(problem=refused.problem, detail=refused.detail)
        return c.AnalyzePhotoResult(
            accepted=False, issues=[issue], width=refused.width, height=refused.height
        )
    base = {"width": photo.width, "height": photo.height, "format": photo.format}
    sha = hashlib.sha256(req.photo).hexdigest()
    seen = engine.photos.get(sha, Seen(None, 0))
    if req.subject != c.Subject.PERSON:
        return analyze_pet(engine, req, photo, seen, base)
    if seen.person is None or seen.faces == 0 or seen.species:
        issue = c.Issue(problem=c.PhotoProblem.NO_FACE, detail="no face found")
        return c.AnalyzePhotoResult(accepted=False, issues=[issue], **base)
    base["face_count"] = seen.faces
    if seen.faces > 1:
        issue = c.Issue(problem=c.PhotoProblem.SEVERAL_FACES, detail=f"I see {seen.faces} faces")
        return c.AnalyzePhotoResult(accepted=False, issues=[issue], **base)
    vec = person_vector(seen.person, sha)
    for p in req.protected:
        if similarity(vec, p.embedding.vector) >= THRESHOLD:
            issue = c.Issue(
                problem=c.PhotoProblem.PROTECTED,
                detail="I can't use this photo. Please send photos of yourself.",
            )
            return c.AnalyzePhotoResult(
                accepted=False, issues=[issue], protected_match=p.id, **base
            )
    quality: dict[str, float] = {}
    if req.set_embeddings:
        sim = _median([similarity(vec, e.vector) for e in req.set_embeddings])
        quality["set_similarity"] = round(sim, 3)
    issues = []
    if req.set_embeddings and quality["set_similarity"] < THRESHOLD:
        # as the real engine: refused, with its face (the bot keeps it aside)
        issues.append(c.Issue(problem=c.PhotoProblem.DIFFERENT_PERSON, detail=""))
    crop = photo.image.resize((64, 64))  # not aligned: the whole photo, scaled
    return c.AnalyzePhotoResult(
        accepted=not issues,
        issues=issues,
        fingerprint=fingerprint(photo.image) if engine.fingerprints else "",
        embedding=c.Embedding(backend=BACKEND, vector=vec),
        face_crop=_png(crop),
        quality=quality,
        **base,
    )


def analyze_pet(
    engine: FakeEngine, req: c.AnalyzePhotoRequest, photo: Any, seen: Seen, base: dict[str, Any]
) -> c.Message:
    """A pet's photo: the pet the test named (``show_pet``) is found; a person without a
    pet is refused as person_in_pet_photo, anything else as no_pet; the other species as
    wrong_species. The pet's "embedding" is a fixed vector named by the pet."""
    from engine.near_duplicate import fingerprint

    def refused(problem: c.PhotoProblem, detail: str) -> c.Message:
        return c.AnalyzePhotoResult(
            accepted=False, issues=[c.Issue(problem=problem, detail=detail)], **base
        )

    if seen.species is None:
        if seen.person is not None and seen.faces:
            return refused(c.PhotoProblem.PERSON_IN_PET_PHOTO, "")
        return refused(c.PhotoProblem.NO_PET, "no cat or dog found")
    if seen.species != req.subject.value:
        return refused(c.PhotoProblem.WRONG_SPECIES, f"this is a {seen.species}")
    sha = hashlib.sha256(req.photo).hexdigest()
    vec = person_vector(f"pet:{seen.person}", sha)
    quality: dict[str, float] = {}
    issues = []
    if req.set_embeddings:
        quality["set_similarity"] = round(
            _median([similarity(vec, e.vector) for e in req.set_embeddings]), 3
        )
        if quality["set_similarity"] < THRESHOLD:
            issues.append(c.Issue(problem=c.PhotoProblem.DIFFERENT_PERSON, detail=""))
    return c.AnalyzePhotoResult(
        accepted=not issues,
        issues=issues,
        fingerprint=fingerprint(photo.image) if engine.fingerprints else "",
        embedding=c.Embedding(backend="fake-pet", vector=vec),
        face_crop=_png(photo.image.resize((64, 64))),
        quality=quality,
        species=c.Subject(seen.species),
        **base,
    )


def check_set(engine: FakeEngine, req: c.CheckSetRequest) -> c.Message:
    vecs = [e.vector for e in req.embeddings]
    meds = [
        _median([similarity(v, o) for j, o in enumerate(vecs) if j != i]) if len(vecs) > 1 else 1.0
        for i, v in enumerate(vecs)
    ]
    matches = [
        c.ProtectedMatch(index=i, protected_id=p.id)
        for i, v in enumerate(vecs)
        for p in req.protected
        if similarity(v, p.embedding.vector) >= THRESHOLD
    ]
    from engine.identity import one_person

    kept = one_person(len(vecs), lambda i, j: similarity(vecs[i], vecs[j]), THRESHOLD)
    return c.CheckSetResult(
        outliers=kept.outliers,
        threshold=THRESHOLD,
        distances=meds,
        protected_matches=matches,
    )


def generate(engine: FakeEngine, req: c.GenerateRequest) -> c.Message:
    for r in [*req.references, *req.partner_references]:  # both people of a joint order
        if any(
            similarity(r.embedding.vector, p.embedding.vector) >= THRESHOLD for p in req.protected
        ):
            return c.JobFailure(
                code="protected", message="a reference photo shows a protected face"
            )
    engine.asked.append(req)
    out = []
    pet = req.subject != c.Subject.PERSON
    for n, seed in enumerate(req.seeds):
        rng = random.Random(seed)
        im = Image.new("RGB", (64, 64), tuple(rng.randrange(256) for _ in range(3)))
        two = bool(req.partner_references)  # a joint order: two faces, each matched
        for box in ((4, 16, 30, 50), (34, 16, 60, 50)) if two else ((16, 12, 48, 52),):
            ImageDraw.Draw(im).ellipse(box, fill=(230, 190, 160))
        if pet:  # the first one's coat drifted once and was redone (engine/pets/colour.py)
            drifted = [c.Verdict.COLOUR_DRIFT] if n == 0 else []
            colour = c.ColourCheck(drift=4.0, limit=12.0, passed=True)
            out.append(
                c.Variation(
                    seed=seed,
                    image=_png(im),
                    likeness=0.9,
                    face_found=True,
                    passed=True,
                    verdict=c.Verdict.PASSED,
                    threshold=0.5,
                    attempts=len(drifted) + 1,
                    regenerated_for=drifted,
                    colour=colour,
                )
            )
            continue
        out.append(
            c.Variation(
                seed=seed,
                image=_png(im),
                likeness=0.8,
                face_found=True,
                passed=True,
                partner_similarity=0.8 if two else None,
            )
        )
    return c.GenerateResult(
        generation_id=req.generation_id,
        variations=out,
        model="fake-engine",
        adapter="none",
        device="none",
        seconds=0.0,
        personal_sha256=req.personal.sha256 if req.personal is not None else "",
    )


FAKE_TRAIN_STEPS = 100  # a training job's default steps here


def train(engine: FakeEngine, req: c.TrainRequest) -> c.Message:
    """A "LoRA" made from the photos: real safetensors bytes (an 8-byte header length, a
    JSON header padded to 8 bytes, then one small F32 tensor: the photos' digest), with
    the licence of the fake's base model. ``safetensors.safe_open`` reads it."""
    import json
    import struct

    digest = hashlib.sha256(b"".join(p.image for p in req.photos) + req.train_id.encode())
    tensor = {"dtype": "F32", "shape": [2, 4], "data_offsets": [0, 32]}
    header = json.dumps(
        {"__metadata__": {"format": "fake", "train_id": req.train_id}, "lora_A.weight": tensor}
    ).encode()
    header += b" " * (-len(header) % 8)
    lora = struct.pack("<Q", len(header)) + header + digest.digest()
    return c.TrainResult(
        train_id=req.train_id,
        lora=lora,
        sha256=hashlib.sha256(lora).hexdigest(),
        steps=req.steps or FAKE_TRAIN_STEPS,
        resumed_from=0,
        family="fake",
        base_model="fake-engine",
        licence="apache-2.0",
        commercial_ok=True,
        seconds=0.0,
    )


def upscale(engine: FakeEngine, req: c.UpscaleRequest) -> c.Message:
    with Image.open(io.BytesIO(req.image)) as im:
        big = im.convert("RGB").resize((im.width * req.scale, im.height * req.scale))
    return c.UpscaleResult(
        image=_png(big),
        method="pillow resize (fake engine)",
        width=big.width,
        height=big.height,
        seconds=0.0,
    )


def label(engine: FakeEngine, req: c.LabelRequest) -> c.Message:
    with Image.open(io.BytesIO(req.image)) as im:
        out = im.convert("RGB")
    ImageDraw.Draw(out).text((2, out.height - 12), req.text, fill=(255, 255, 255))
    return c.LabelResult(image=_png(out), seconds=0.0)


def check_prompt(engine: FakeEngine, req: c.CheckPromptRequest) -> c.Message:
    words = len((req.reference_prompt or req.prompt).split())
    if engine.prompt_limit is None:
        return c.CheckPromptResult(fits=True, message="not counted by the fake engine")
    fits = words <= engine.prompt_limit
    return c.CheckPromptResult(
        fits=fits,
        family="fake",
        tokens=words,
        limit=engine.prompt_limit,
        message="" if fits else f"your answers are too long for the model ({words} words)",
    )


def screen_text(engine: FakeEngine, req: c.ScreenTextRequest) -> c.Message:
    """No model here (conversation tests only; tests/test_text_screen.py runs the real one):
    a phrase a test put in ``engine.screen_refusals`` (phrase -> category) is refused."""
    for slot, text in req.texts.items():
        for phrase, category in engine.screen_refusals.items():
            if phrase in text:
                return c.ScreenTextResult(
                    ok=False, category=category, slot=slot, phrase=phrase, model="fake"
                )
    return c.ScreenTextResult(ok=True, checked=False, model="fake")


def avatar(engine: FakeEngine, req: c.AvatarRequest) -> c.Message:
    """A centre square at each size; ``engine.avatar_problem`` (a test sets it): refused."""
    problem = getattr(engine, "avatar_problem", None)
    if problem is not None:
        return c.AvatarResult(problem=problem, message="the engine's own sentence")
    with Image.open(io.BytesIO(req.image)) as im:
        side = min(im.size)
        square = im.convert("RGB").crop((0, 0, side, side))
    avatars = [c.Avatar(size=n, image=_png(square.resize((n, n)))) for n in req.sizes]
    return c.AvatarResult(avatars=avatars, crop=[0, 0, side, side], offset=0.0)


def refine(engine: FakeEngine, req: c.RefineRequest) -> c.Message:
    """An order's portraits (as :func:`generate`), from the refine request's own fields."""
    fields = set(c.GenerateRequest.model_fields) & set(type(req).model_fields)
    made = generate(engine, c.GenerateRequest(**{k: getattr(req, k) for k in fields}))
    if not isinstance(made, c.GenerateResult):
        return made
    strength = 0.35 if req.strength == c.RefineStrength.SUBTLE else 0.6
    return c.RefineResult(**dict(made), mode=req.mode, strength=strength)


HANDLERS: dict[str, Any] = {
    c.JOB_ANALYZE: analyze,
    c.JOB_CHECK_SET: check_set,
    c.JOB_GENERATE: generate,
    c.JOB_UPSCALE: upscale,
    c.JOB_LABEL: label,
    c.JOB_CHECK_PROMPT: check_prompt,
    c.JOB_SCREEN_TEXT: screen_text,
    c.JOB_AVATAR: avatar,
    c.JOB_REFINE: refine,
    c.JOB_TRAIN: train,
}
