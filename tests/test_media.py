"""Content-addressed media files, one folder per user."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.store.media import MediaStore


def test_put_is_content_addressed_and_atomic(tmp_path: Path) -> None:
    media = MediaStore(tmp_path / "media")
    rel, digest = media.put(3, "refs", b"hello", "jpg")
    assert rel.startswith("u3/refs/") and digest in rel
    assert media.put(3, "refs", b"hello", "jpg") == (rel, digest)
    assert media.read(rel) == b"hello"
    assert not list((tmp_path / "media").rglob(".tmp-*"))


def test_users_do_not_share_folders_and_delete_user_counts(tmp_path: Path) -> None:
    media = MediaStore(tmp_path / "media")
    media.put(1, "refs", b"a", "png")
    media.put(1, "results", b"b", "png")
    other, _ = media.put(2, "refs", b"a", "png")
    assert media.delete_user(1) == 2
    assert not media.user_dir(1).exists()
    assert media.read(other) == b"a"


@pytest.mark.parametrize("rel", ["../escape.txt", "/etc/passwd", "u1/../../x"])
def test_paths_cannot_escape(tmp_path: Path, rel: str) -> None:
    media = MediaStore(tmp_path / "media")
    with pytest.raises(ValueError, match="escapes"):
        media.path(rel)


def test_bad_kind_or_extension_is_refused(tmp_path: Path) -> None:
    media = MediaStore(tmp_path / "media")
    with pytest.raises(ValueError):
        media.put(1, "../x", b"a", "png")
    with pytest.raises(ValueError):
        media.put(1, "refs", b"a", "p/ng")
