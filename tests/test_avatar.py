"""Round avatars (engine/avatar.py) on real photos, measured again with dlib on the output.

A real photo stands in for a portrait: it is first labelled as the engine labels its
portraits (engine.provenance.add_provenance), so the avatar's manifest has a parent.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest
from arq.connections import ArqRedis
from conftest import FACES, needs_shared
from PIL import Image

from engine.avatar import (
    CIRCLE_MARGIN,
    MAX_OFFSET,
    AvatarRefused,
    circle_safe,
    face_offset,
    make_avatars,
    plan_crop,
)
from engine.faces.dlib_backend import DlibAnalyzer
from engine.provenance import TRAINED_ALGORITHMIC_MEDIA, add_provenance, verify
from engine.signing import C2paCredentials, load_signer
from sitter import contract as c
from sitter.config import Settings, load_settings

PHOTOS = ["obama/1.jpg", "deepface_id01/1.jpg", "alex_lacamoire/2.jpg", "kit_harington/3.jpg"]
PHOTOS += ["deepface_id03/2.jpg", "biden/1.jpg"]


@pytest.fixture(scope="module")
def analyzer() -> DlibAnalyzer:
    return DlibAnalyzer()


@pytest.fixture(scope="module")
def signer(tmp_path_factory: pytest.TempPathFactory) -> C2paCredentials:
    return load_signer(Settings(data_dir=tmp_path_factory.mktemp("avatar")))


def _png(im: Image.Image) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


def _portrait(im: Image.Image, signer: C2paCredentials, seed: int = 5) -> bytes:
    """A real photo labelled as the engine labels a generated portrait."""
    return add_provenance(_png(im.convert("RGB")), model="test-portrait", seed=seed, signer=signer)


def _astronaut() -> Image.Image:
    from skimage import data

    return Image.fromarray(data.astronaut())


def _photo(name: str) -> Image.Image:
    return Image.open(FACES / name).convert("RGB")


def _check_avatars(
    res: c.AvatarResult, analyzer: DlibAnalyzer, signer: C2paCredentials
) -> list[float]:
    """Each size: square, one face found again by dlib, centred, inside the circle; labelled."""
    assert res.problem is None, res.message
    assert [a.size for a in res.avatars] == [512, 1024]
    offsets = []
    for avatar in res.avatars:
        im = Image.open(io.BytesIO(avatar.image))
        assert im.format == "PNG" and im.size == (avatar.size, avatar.size)
        faces = analyzer.detect(im.convert("RGB"))
        assert len(faces) == 1
        side = avatar.size
        offset = face_offset(faces[0].box, (0, 0, side, side))
        assert offset < 0.1  # the face's centre within a tenth of the side from the middle
        assert circle_safe(faces[0].box, (0, 0, side, side), margin=0.0)  # inside the circle
        offsets.append(offset)
        report = verify(avatar.image, trust_anchors=signer.trust_anchor_pem)
        assert report.ai_labelled and report.c2pa_trusted
        assert report.c2pa_actions == ["c2pa.opened", "c2pa.edited"]  # the portrait is parent
        assert report.c2pa_source_type == TRAINED_ALGORITHMIC_MEDIA
        assert report.seed == 5 and report.ai_system == "test-portrait"
        assert report.text_note and f"round avatar crop, {side} px" in report.text_note
    return offsets


def test_astronaut_avatar_is_centred_and_circle_safe(
    analyzer: DlibAnalyzer, signer: C2paCredentials
) -> None:
    res = make_avatars(c.AvatarRequest(image=_portrait(_astronaut(), signer)), analyzer, signer)
    offsets = _check_avatars(res, analyzer, signer)
    assert res.offset is not None and res.offset <= MAX_OFFSET
    left, top, right, bottom = res.crop
    assert right - left == bottom - top >= 192
    print(f"astronaut: planned {res.offset:.3f}, measured {offsets}")


@needs_shared
@pytest.mark.parametrize("name", PHOTOS)
def test_real_photos_make_centred_circle_safe_avatars(
    name: str, analyzer: DlibAnalyzer, signer: C2paCredentials
) -> None:
    res = make_avatars(c.AvatarRequest(image=_portrait(_photo(name), signer)), analyzer, signer)
    offsets = _check_avatars(res, analyzer, signer)
    print(f"{name}: planned {res.offset:.3f}, measured {[round(o, 3) for o in offsets]}")


def test_the_label_sits_inside_the_circle_below_the_face(
    analyzer: DlibAnalyzer, signer: C2paCredentials
) -> None:
    portrait = _portrait(_astronaut(), signer)
    plain = make_avatars(c.AvatarRequest(image=portrait, badge=False), analyzer, signer)
    badged = make_avatars(c.AvatarRequest(image=portrait), analyzer, signer)
    for a, b in zip(plain.avatars, badged.avatars, strict=True):
        pa = np.asarray(Image.open(io.BytesIO(a.image)).convert("RGB")).astype(int)
        pb = np.asarray(Image.open(io.BytesIO(b.image)).convert("RGB")).astype(int)
        ys, xs = np.nonzero(np.abs(pa - pb).max(axis=2) > 8)
        assert len(xs) > 0  # a label was drawn
        side = a.size
        corners = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
        assert circle_safe(corners, (0, 0, side, side), margin=CIRCLE_MARGIN * 0.9)
        face = analyzer.detect(Image.fromarray(pa.astype(np.uint8)))[0]
        assert corners[1] > face.box[3]  # below the chin: the face is not covered
        assert "visible 'Made with AI' label" in (verify(b.image).text_note or "")
        assert "visible" not in (verify(a.image).text_note or "x")


def test_plan_keeps_the_eyes_above_the_middle() -> None:
    plan = plan_crop((1000, 1400), (400, 500, 600, 700), eyes_y=555.0)
    left, top, right, _ = plan.crop
    side = right - left
    assert side == round(200 / 0.42) or abs(side - 200 / 0.42) <= 1
    assert top < 555 - side * 0.05 < 555 < top + side / 2  # eyes above the middle
    assert plan.offset <= 0.05


def test_plan_refuses_faces_at_the_edge_and_faces_too_large() -> None:
    with pytest.raises(AvatarRefused) as edge:
        plan_crop((800, 800), (0, 300, 200, 500))  # against the left edge
    assert edge.value.problem == c.AvatarProblem.FACE_AT_EDGE
    assert "too close to the edge" in edge.value.message
    with pytest.raises(AvatarRefused) as large:
        plan_crop((300, 300), (10, 10, 290, 290))
    assert large.value.problem == c.AvatarProblem.FACE_TOO_LARGE
    with pytest.raises(AvatarRefused) as small:
        plan_crop((200, 200), (80, 80, 120, 120))
    assert small.value.problem == c.AvatarProblem.TOO_SMALL


def _edge_cases(im: Image.Image, analyzer: DlibAnalyzer) -> dict[str, Image.Image]:
    left, top, right, _ = analyzer.detect(im)[0].box
    return {
        "left": im.crop((left - 4, 0, im.width, im.height)),
        "top": im.crop((0, top - 2, im.width, im.height)),
        "right": im.crop((0, 0, right + 3, im.height)),
    }


def test_a_face_at_the_pictures_edge_gets_an_explanation(
    analyzer: DlibAnalyzer, signer: C2paCredentials
) -> None:
    for where, cropped in _edge_cases(_astronaut(), analyzer).items():
        assert len(analyzer.detect(cropped)) == 1, where  # the face is whole, only at the edge
        res = make_avatars(c.AvatarRequest(image=_portrait(cropped, signer)), analyzer, signer)
        assert res.problem == c.AvatarProblem.FACE_AT_EDGE, where
        assert res.avatars == [] and res.crop == []
        assert "too close to the edge" in res.message and "another portrait" in res.message


@needs_shared
def test_real_photo_cut_at_the_face_and_other_refusals(
    analyzer: DlibAnalyzer, signer: C2paCredentials
) -> None:
    for where, cropped in _edge_cases(_photo("obama/1.jpg"), analyzer).items():
        res = make_avatars(c.AvatarRequest(image=_portrait(cropped, signer)), analyzer, signer)
        assert res.problem == c.AvatarProblem.FACE_AT_EDGE, where

    def avatar_of(name: str) -> c.AvatarResult:
        return make_avatars(
            c.AvatarRequest(image=_portrait(_photo(name), signer)), analyzer, signer
        )

    group = avatar_of("group/1.jpg")
    assert group.problem == c.AvatarProblem.SEVERAL_FACES and "faces" in group.message
    assert avatar_of("noface/1.jpg").problem == c.AvatarProblem.NO_FACE


def test_an_unlabelled_photo_is_never_labelled_as_ai(
    analyzer: DlibAnalyzer, signer: C2paCredentials
) -> None:
    res = make_avatars(c.AvatarRequest(image=_png(_astronaut())), analyzer, signer)
    assert res.problem == c.AvatarProblem.NOT_A_PORTRAIT and res.avatars == []
    junk = make_avatars(c.AvatarRequest(image=b"not an image"), analyzer, signer)
    assert junk.problem == c.AvatarProblem.NOT_A_PORTRAIT


def test_sitter_avatar_command(
    tmp_path: Path, data_dir: Path, signer: C2paCredentials, capsys: pytest.CaptureFixture[str]
) -> None:
    from cli.main import build_parser
    from engine.cli_avatar import cmd_avatar

    settings = load_settings(data_dir=data_dir, face_backend="dlib")
    own = load_signer(settings)
    portrait = tmp_path / "portrait.png"
    portrait.write_bytes(_portrait(_astronaut(), own))
    out = tmp_path / "out"
    args = build_parser().parse_args(["avatar", str(portrait), "--out", str(out)])
    assert cmd_avatar(args, settings) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "portrait-avatar-1024.png",
        "portrait-avatar-512.png",
    ]
    assert verify((out / "portrait-avatar-512.png").read_bytes()).ai_labelled
    assert "face centre" in capsys.readouterr().out

    edge = tmp_path / "edge.png"
    analyzer = DlibAnalyzer()
    edge.write_bytes(_portrait(_edge_cases(_astronaut(), analyzer)["left"], own))
    args = build_parser().parse_args(["avatar", str(edge), "--out", str(tmp_path / "o2")])
    assert cmd_avatar(args, settings) == 1
    assert "too close to the edge" in capsys.readouterr().err
    assert not (tmp_path / "o2").exists()


# --- the avatar job through a real worker -------------------------------------------------
@pytest.fixture
async def redis(redis_url: str, queue_prefix: str) -> AsyncIterator[ArqRedis]:
    from sitter.queue import connect

    pool = await connect(redis_url, queue_prefix)
    yield pool
    await pool.aclose()


async def test_avatar_job_on_the_fast_queue(
    redis_url: str, queue_prefix: str, data_dir: Path, redis: ArqRedis
) -> None:
    from engine import worker as engine_worker
    from engine.runtime import Runtime
    from sitter.queue import EngineClient

    settings = load_settings(
        face_backend="dlib",
        data_dir=data_dir,
        redis_url=redis_url,
        queue_prefix=queue_prefix,
        poll_delay_s=0.01,
    )
    runtime = Runtime(settings).load(("faces", "signer", "safety"))
    client = EngineClient(redis, queue_prefix, poll_delay=0.01)
    good = _portrait(_astronaut(), runtime.signer)
    edge = _portrait(_edge_cases(_astronaut(), runtime.analyzer)["left"], runtime.signer)
    jobs = [await client.enqueue(c.JOB_AVATAR, c.AvatarRequest(image=p)) for p in (good, edge)]
    assert c.queue_for(c.JOB_AVATAR) == c.QUEUE_FAST
    w = engine_worker.build_worker(settings, c.QUEUE_FAST, runtime, burst=True)
    try:
        await w.async_run()
    finally:
        await w.close()
    assert (w.jobs_complete, w.jobs_failed) == (2, 0)
    made = await client.result(c.JOB_AVATAR, jobs[0], timeout=5)
    assert isinstance(made, c.AvatarResult) and made.problem is None
    assert [a.size for a in made.avatars] == [512, 1024]
    assert all(verify(a.image).ai_labelled for a in made.avatars)
    refused = await client.result(c.JOB_AVATAR, jobs[1], timeout=5)
    assert isinstance(refused, c.AvatarResult) and refused.problem == c.AvatarProblem.FACE_AT_EDGE


def test_a_real_photo_with_a_copied_sitter_label_is_not_made_an_avatar(
    analyzer: DlibAnalyzer, signer: C2paCredentials, tmp_path: Path
) -> None:
    """Issue 22, item 9: a real photo carrying a Sitter XMP and note copied from a portrait
    was made into an AI-labelled avatar. Only this studio's own C2PA signature counts."""
    from engine import imagemeta
    from engine.provenance import read_ai_info, signed_ai_info

    portrait = _portrait(_astronaut(), signer)
    label = imagemeta.read(portrait)
    photo = imagemeta.write(_png(_astronaut()), xmp=label.xmp, notes=label.notes)
    assert read_ai_info(photo) is not None  # the copy reads exactly like Sitter's label
    assert signed_ai_info(photo, signer) is None
    res = make_avatars(c.AvatarRequest(image=photo), analyzer, signer)
    assert res.problem is c.AvatarProblem.NOT_A_PORTRAIT and res.avatars == []
    assert "no label signed by this Sitter studio" in res.message
    # Another installation's development certificate is not this studio's signature.
    other = load_signer(Settings(data_dir=tmp_path / "elsewhere"))
    theirs = _portrait(_astronaut(), other)
    assert verify(theirs).c2pa_valid  # a sound manifest, only not ours
    res = make_avatars(c.AvatarRequest(image=theirs), analyzer, signer)
    assert res.problem is c.AvatarProblem.NOT_A_PORTRAIT
    # The studio's own portrait, and an avatar of it (signed with it as parent), are ours.
    info = signed_ai_info(portrait, signer)
    assert info is not None and info.model == "test-portrait" and info.seed == 5
    made = make_avatars(c.AvatarRequest(image=portrait), analyzer, signer)
    assert made.problem is None and signed_ai_info(made.avatars[0].image, signer) is not None
