"""Backend selection, the insightface error path, and dlib's geometry helpers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT
from PIL import Image

from engine.faces import load_analyzer
from engine.faces.dlib_backend import DlibAnalyzer, pose_from_five_points
from sitter.config import ConfigError, load_settings


def test_dlib_is_chosen_by_settings(data_dir: Path) -> None:
    analyzer = load_analyzer(load_settings(face_backend="dlib", data_dir=data_dir))
    assert isinstance(analyzer, DlibAnalyzer) and analyzer.name == "dlib"


@pytest.mark.parametrize(
    ("pack", "licence"), [("buffalo_l", "non-commercial"), ("auraface", "Apache-2.0")]
)
def test_missing_insightface_pack_says_what_and_where(
    data_dir: Path, pack: str, licence: str
) -> None:
    # The happy path needs a model pack, which cannot be downloaded on this machine.
    settings = load_settings(face_backend="insightface", face_pack=pack, data_dir=data_dir)
    with pytest.raises(ConfigError) as err:
        load_analyzer(settings)
    message = str(err.value)
    assert repr(pack) in message
    assert str(data_dir / "models" / "insightface" / "models" / pack) in message
    assert "sitter models fetch" in message and licence in message


def test_photos_check_reports_a_missing_pack_and_exits_2(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "cli", "photos", "check", "x.jpg"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={
            "SITTER_FACE_BACKEND": "insightface",
            "SITTER_DATA_DIR": str(tmp_path),
            "PATH": "/usr/bin:/bin",
        },
        check=False,
    )
    assert out.returncode == 2 and "buffalo_l" in out.stderr and "sitter models fetch" in out.stderr


def test_pose_from_five_points() -> None:
    # dlib's 5 points: two corners of each eye, then the base of the nose.
    eyes = [[30, 40], [45, 40], [75, 40], [60, 40]]
    level = np.array([*eyes, [52.5, 40 + 0.75 * 30]], np.float32)  # eye centres 30 px apart
    yaw, pitch = pose_from_five_points(level)
    assert abs(yaw) < 1 and abs(pitch) < 1
    turned = level.copy()
    turned[4, 0] += 0.4 * 30  # nose well off the eye midpoint
    yaw, _ = pose_from_five_points(turned)
    assert yaw > 45


def test_dlib_similarity_scale_and_aligned_crop() -> None:
    from skimage import data

    analyzer = DlibAnalyzer()
    a = np.zeros(128, np.float32)
    b = a.copy()
    b[0] = 0.6  # dlib's classic same-person distance
    assert analyzer.similarity(a, a) == 1.0
    assert analyzer.similarity(a, b) == pytest.approx(0.5)
    b[0] = 2.0
    assert analyzer.similarity(a, b) == 0.0
    image = Image.fromarray(data.astronaut())
    faces = analyzer.detect(image)
    assert len(faces) == 1  # the mission patch (HOG score 0.12) is not a face
    crop = analyzer.aligned_crop(image, faces[0], 256)
    assert crop.size == (256, 256) and crop.mode == "RGB"
