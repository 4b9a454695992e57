"""Round avatars from a portrait: a square crop on the face, safe for a circle.

Discord and Telegram show an avatar as the circle inscribed in its square. The
crop is planned from the face box (the largest face): the face box is
:data:`FACE_SHARE` of the side, centred across, with the eyes a little above the
middle (:data:`EYE_LINE`). Near an edge the square is pushed back inside the
picture, and made tighter when that lets it stay on the face; it is accepted only
when the face's centre is within :data:`MAX_OFFSET` of the side from the middle
and every corner of the face box is inside the circle with :data:`CIRCLE_MARGIN`
to spare. Otherwise the person gets a plain explanation (:class:`AvatarRefused`),
never a crop with half a face.

Each size is a PNG with the visible label inside the circle (platforms strip an
avatar's metadata; the badge is what stays), the XMP and text note of
engine/provenance.py, and a C2PA manifest signed with the portrait as its parent.
Only a portrait whose C2PA manifest this studio signed is made an avatar (XMP can
be copied onto any photo): a real photo is never labelled as made by AI.
"""

from __future__ import annotations

import io
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

from PIL import Image

from engine.badge import MAX_PIXELS, TEXT_SHARE, add_badge, layout
from engine.faces.base import Face, FaceAnalyzer
from engine.provenance import carry_provenance, signed_ai_info
from engine.signing import C2paCredentials
from sitter.contract import Avatar, AvatarProblem, AvatarRequest, AvatarResult

FACE_SHARE = 0.42  # face box height / side, the framing aimed at
MAX_FACE_SHARE = 0.58  # tighter than this and the face box's corners leave the circle
EYE_LINE = 0.42  # the eyes this far down the side
CENTRE_SLACK = 0.04  # the eye line may move the face's centre this far off the middle
MAX_OFFSET = 0.08  # face centre from the crop's centre, of the side, at most
CIRCLE_MARGIN = 0.05  # the face box stays this far (of the side) inside the circle
SHRINK = 0.97  # each tighter try
MIN_SOURCE = 192  # portrait pixels across the crop, at least (sharp enough at 512)
OTHER_FACE_SHARE = 0.6  # a second face this large (of the first's width): whose avatar?
BADGE_SHARE = 0.045  # the label's text height, of the side (readable at 512 px)

Box = tuple[int, int, int, int]


class AvatarRefused(Exception):
    def __init__(self, problem: AvatarProblem, message: str) -> None:
        super().__init__(message)
        self.problem, self.message = problem, message


@dataclass(frozen=True)
class Plan:
    crop: Box  # left, top, right, bottom in portrait pixels (a square)
    face: Box
    offset: float  # face centre from the crop's centre, of the side

    @property
    def side(self) -> int:
        return self.crop[2] - self.crop[0]


def circle_safe(face: Box, crop: Box, margin: float = CIRCLE_MARGIN) -> bool:
    """Every corner of ``face`` inside the circle of ``crop`` with ``margin`` to spare."""
    side = crop[2] - crop[0]
    cx, cy = (crop[0] + crop[2]) / 2, (crop[1] + crop[3]) / 2
    radius = side * (0.5 - margin)
    return all(math.hypot(x - cx, y - cy) <= radius for x in face[::2] for y in face[1::2])


def face_offset(face: Box, crop: Box) -> float:
    side = crop[2] - crop[0]
    fx, fy = (face[0] + face[2]) / 2, (face[1] + face[3]) / 2
    return math.hypot(fx - (crop[0] + crop[2]) / 2, fy - (crop[1] + crop[3]) / 2) / side


def eye_line(face: Face, backend: str) -> float | None:
    """The eyes' height in the picture from the landmarks, when the backend has them.

    dlib's 5 points are two corners per eye and the nose; insightface's are the eye
    centres, the nose and the mouth corners."""
    pts = face.landmarks
    if pts is None or len(pts) != 5:
        return None
    eyes = pts[:4] if backend.startswith("dlib") else pts[:2]
    return float(eyes[:, 1].mean())


def plan_crop(size: tuple[int, int], face: Box, eyes_y: float | None = None) -> Plan:
    """The square to cut from a ``size`` picture for ``face``, or :class:`AvatarRefused`."""
    width, height = size
    fw, fh = face[2] - face[0], face[3] - face[1]
    fx, fy = (face[0] + face[2]) / 2, (face[1] + face[3]) / 2
    extent = max(fw, fh)
    limit = min(width, height)
    smallest = extent / MAX_FACE_SHARE
    if smallest > limit:
        raise AvatarRefused(
            AvatarProblem.FACE_TOO_LARGE,
            "The face fills too much of this picture to fit inside a round avatar. "
            "Try a portrait that shows more around the face, like a head-and-shoulders shot.",
        )
    side = min(extent / FACE_SHARE, limit)
    while side >= smallest:
        s = int(side)
        cy = fy if eyes_y is None else eyes_y + (0.5 - EYE_LINE) * s
        cy = min(max(cy, fy - CENTRE_SLACK * s), fy + CENTRE_SLACK * s)
        left = round(min(max(fx - s / 2, 0), width - s))
        top = round(min(max(cy - s / 2, 0), height - s))
        crop = (left, top, left + s, top + s)
        offset = face_offset(face, crop)
        if offset <= MAX_OFFSET and circle_safe(face, crop):
            if s < MIN_SOURCE:
                raise AvatarRefused(
                    AvatarProblem.TOO_SMALL,
                    f"The face is too small in this picture for a sharp avatar (the crop "
                    f"would be {s} px across; it needs {MIN_SOURCE}). Try a larger portrait.",
                )
            return Plan(crop, face, round(offset, 4))
        side *= SHRINK
    raise AvatarRefused(
        AvatarProblem.FACE_AT_EDGE,
        "The face is too close to the edge of this picture: a round avatar would cut it "
        "off. Try another portrait with some room around the face.",
    )


def choose_face(faces: Sequence[Face]) -> Face:
    if not faces:
        raise AvatarRefused(
            AvatarProblem.NO_FACE, "I can't find a face in this picture to centre an avatar on."
        )
    main = max(faces, key=lambda f: f.width * f.height)
    others = [f for f in faces if f is not main and f.width >= OTHER_FACE_SHARE * main.width]
    if others:
        raise AvatarRefused(
            AvatarProblem.SEVERAL_FACES,
            f"I see {len(others) + 1} faces in this picture, so I don't know whose avatar "
            "to make. Pick a portrait with one person.",
        )
    return main


def circle_badge(image: Image.Image, text: str) -> Image.Image:
    """The "Made with AI" badge at the bottom centre, inside the circle."""
    side = image.width
    # engine/badge.py sizes its text by the side (TEXT_SHARE): lay out for a larger
    # side to get BADGE_SHARE here, then move the plate into the circle.
    big = max(1, round(side * BADGE_SHARE / TEXT_SHARE))
    lay = layout(big, big, text)
    x0, y0, x1, y1 = lay.plate
    w, h = x1 - x0, y1 - y0
    radius = side * (0.5 - CIRCLE_MARGIN)
    half = w / 2
    drop = math.sqrt(max(radius**2 - half**2, 0.0))  # how low the plate's corners may go
    nx0 = round(side / 2 - half)
    ny1 = min(side - 1, round(side / 2 + drop))
    ny0 = ny1 - h
    dx, dy = nx0 - x0, ny0 - y0
    ox, oy = lay.text_origin
    moved = replace(lay, plate=(nx0, ny0, nx0 + w, ny1), text_origin=(ox + dx, oy + dy))
    return add_badge(image, text, lay=moved)


def _png(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


def _open(data: bytes) -> Image.Image:
    try:
        with Image.open(io.BytesIO(data)) as im:
            if im.width * im.height > MAX_PIXELS:
                raise AvatarRefused(AvatarProblem.UNREADABLE, "This picture is too large.")
            im.load()
            return im.convert("RGB")
    except (OSError, Image.DecompressionBombError, ValueError):
        raise AvatarRefused(AvatarProblem.UNREADABLE, "I can't read this picture.") from None


def make_avatars(
    req: AvatarRequest, analyzer: FaceAnalyzer, signer: C2paCredentials
) -> AvatarResult:
    """The avatar job: plan, cut, label and sign each size; a refusal comes back as data."""
    started = time.perf_counter()
    try:
        if signed_ai_info(req.image, signer) is None:  # XMP alone is copied too easily
            raise AvatarRefused(
                AvatarProblem.NOT_A_PORTRAIT,
                "This picture carries no label signed by this Sitter studio, so I won't "
                "label it as made with AI. Avatars are made from the studio's own portraits.",
            )
        image = _open(req.image)
        face = choose_face(analyzer.detect(image))
        plan = plan_crop(image.size, face.box, eye_line(face, analyzer.name))
    except AvatarRefused as refused:
        return AvatarResult(
            problem=refused.problem,
            message=refused.message,
            seconds=round(time.perf_counter() - started, 3),
        )
    square = image.crop(plan.crop)
    avatars = []
    for size in dict.fromkeys(req.sizes):
        out = square.resize((size, size), Image.Resampling.LANCZOS)
        edit = f"round avatar crop, {size} px"
        if req.badge:
            out = circle_badge(out, req.text)
            edit += f", visible '{req.text}' label"
        png = carry_provenance(_png(out), req.image, signer=signer, edit=edit)
        avatars.append(Avatar(size=size, image=png))
    return AvatarResult(
        avatars=avatars,
        crop=list(plan.crop),
        offset=plan.offset,
        seconds=round(time.perf_counter() - started, 3),
    )
