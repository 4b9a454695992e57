"""AI provenance: XMP + text note + signed C2PA, read back by verify() from real files."""

from __future__ import annotations

import io
import json
import os
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine import imagemeta
from engine.provenance import (
    TRAINED_ALGORITHMIC_MEDIA,
    ProvenanceError,
    add_provenance,
    carry_provenance,
    verify,
)
from engine.signing import (
    DEV_FILES,
    C2paCredentials,
    SigningError,
    _make_dev_certificates,
    load_signer,
)
from sitter.config import Settings


@pytest.fixture
def signer(data_dir: Path) -> C2paCredentials:
    return load_signer(Settings(data_dir=data_dir))


def _image(fmt: str, size: int = 64) -> bytes:
    rng = np.random.default_rng(7)
    pixels = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, fmt, **({"quality": 90} if fmt == "JPEG" else {}))
    return buf.getvalue()


def _through_file(data: bytes, path: Path) -> bytes:
    path.write_bytes(data)
    return path.read_bytes()


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_labels_verify_after_a_round_trip_through_a_file(
    fmt: str, signer: C2paCredentials, tmp_path: Path
) -> None:
    raw = _image(fmt)
    signed = add_provenance(raw, model="stabilityai/sdxl-base", seed=1234, signer=signer)
    back = _through_file(signed, tmp_path / f"out.{fmt.lower()}")

    report = verify(back)
    assert report.format == fmt.lower()
    assert report.xmp_source_type == TRAINED_ALGORITHMIC_MEDIA
    assert report.ai_system == "stabilityai/sdxl-base" and report.seed == 1234
    assert report.text_note is not None and report.text_note.startswith("Made with AI")
    assert "seed 1234" in report.text_note and report.software == "Sitter 0.1.0"
    assert report.c2pa_present and report.c2pa_valid and report.c2pa_state == "Valid"
    assert not report.c2pa_trusted  # no anchor given: valid, not trusted
    assert report.c2pa_actions == ["c2pa.created"]
    assert report.c2pa_source_type == TRAINED_ALGORITHMIC_MEDIA
    assert report.development_certificate and report.failures == []
    assert report.ai_labelled
    assert "local development certificate" in report.summary()

    trusted = verify(back, trust_anchors=signer.trust_anchor_pem)
    assert trusted.c2pa_trusted and trusted.c2pa_state == "Trusted"

    # Other readers see the same: Pillow decodes the same pixels, and finds the notes.
    with Image.open(io.BytesIO(back)) as im, Image.open(io.BytesIO(raw)) as orig:
        assert np.array_equal(np.asarray(im), np.asarray(orig))
        if fmt == "PNG":
            assert im.info["Description"] == report.text_note
            assert b"trainedAlgorithmicMedia" in im.info["XML:com.adobe.xmp"].encode()
        else:
            assert im.getexif()[0x010E] == report.text_note
            assert b"trainedAlgorithmicMedia" in im.info["xmp"]


def _replace_png_chunk(data: bytes, ctype: bytes, edit) -> bytes:
    out, pos = [data[:8]], 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, payload = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == ctype:
            payload = edit(payload)
        crc = struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF)
        out.append(struct.pack(">I", len(payload)) + kind + payload + crc)
        pos += 12 + length
    return b"".join(out)


def test_png_pixels_edited_after_signing_fail_validation(signer: C2paCredentials) -> None:
    signed = add_provenance(_image("PNG"), model="tiny", seed=1, signer=signer)

    def brighten(idat: bytes) -> bytes:
        rows = bytearray(zlib.decompress(idat))
        rows[1] = (rows[1] + 80) % 256  # first pixel of the first row, filter byte kept
        return zlib.compress(bytes(rows))

    edited = _replace_png_chunk(signed, b"IDAT", brighten)
    Image.open(io.BytesIO(edited)).load()  # still a valid PNG, only the pixels changed
    report = verify(edited, trust_anchors=signer.trust_anchor_pem)
    assert report.c2pa_present and not report.c2pa_valid and not report.c2pa_trusted
    assert report.c2pa_state == "Invalid"
    assert any("dataHash.mismatch" in f for f in report.failures), report.failures
    assert not report.ai_labelled


def test_png_note_edited_after_signing_fails_validation(signer: C2paCredentials) -> None:
    signed = add_provenance(_image("PNG"), model="tiny", seed=1, signer=signer)
    edited = _replace_png_chunk(signed, b"iTXt", lambda p: p.replace(b"seed 1.", b"seed 2."))
    assert edited != signed
    report = verify(edited)
    assert "seed 2" in (report.text_note or "")
    assert not report.c2pa_valid and report.c2pa_state == "Invalid"


def test_jpeg_scan_data_edited_after_signing_fails_validation(signer: C2paCredentials) -> None:
    signed = bytearray(add_provenance(_image("JPEG"), model="tiny", seed=1, signer=signer))
    sos = signed.rfind(b"\xff\xda")
    pos = sos + 40  # inside the entropy-coded data; avoid creating a marker
    signed[pos] = 0x11 if signed[pos] != 0x11 else 0x22
    report = verify(bytes(signed))
    assert report.c2pa_present and not report.c2pa_valid


def test_unlabelled_image_reports_what_is_missing() -> None:
    report = verify(_image("PNG"))
    assert not report.c2pa_present and report.xmp_source_type is None
    assert not report.ai_labelled
    assert "C2PA: no manifest" in report.summary()


def test_edits_keep_the_chain_to_the_generation(signer: C2paCredentials) -> None:
    original = add_provenance(_image("PNG", 32), model="tiny", seed=9, signer=signer)
    with Image.open(io.BytesIO(original)) as im:
        buf = io.BytesIO()
        im.resize((128, 128)).save(buf, "PNG")
    upscaled = carry_provenance(buf.getvalue(), original, signer=signer, edit="upscaled 4x")
    report = verify(upscaled, trust_anchors=signer.trust_anchor_pem)
    assert report.c2pa_trusted and report.c2pa_actions == ["c2pa.opened", "c2pa.edited"]
    # The created action (trainedAlgorithmicMedia) is found through the parent ingredient.
    assert report.c2pa_source_type == TRAINED_ALGORITHMIC_MEDIA
    assert report.seed == 9 and report.ai_system == "tiny"
    assert report.text_note is not None and report.text_note.endswith("; upscaled 4x.")
    assert report.ai_labelled


def test_provenance_twice_leaves_one_copy(signer: C2paCredentials) -> None:
    once = add_provenance(_image("PNG"), model="a", seed=1, signer=signer)
    twice = add_provenance(once, model="b", seed=2, signer=signer)
    assert twice.count(b"XML:com.adobe.xmp") == 1 and twice.count(b"caBX") == 1
    report = verify(twice)
    assert report.c2pa_valid and report.ai_system == "b" and report.seed == 2


def test_unsupported_format_is_named(signer: C2paCredentials) -> None:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buf, "WEBP")
    with pytest.raises(ProvenanceError, match="PNG and JPEG files only; this one is WebP"):
        add_provenance(buf.getvalue(), model="tiny", seed=1, signer=signer)
    with pytest.raises(ProvenanceError, match="truncated PNG"):
        verify(_image("PNG")[:60])


def test_dev_ca_is_created_once_and_reused(data_dir: Path) -> None:
    first = load_signer(Settings(data_dir=data_dir))
    folder = data_dir / "c2pa"
    stamps = {name: (folder / name).stat().st_mtime_ns for name in DEV_FILES}
    second = load_signer(Settings(data_dir=data_dir))
    assert second == first and first.development and first.alg == "es256"
    assert {name: (folder / name).stat().st_mtime_ns for name in DEV_FILES} == stamps
    assert os.stat(folder / "dev-signer-key.pem").st_mode & 0o777 == 0o600
    # The chain is leaf + root; the root alone is the trust anchor.
    assert first.cert_chain_pem.count("BEGIN CERTIFICATE") == 2
    assert first.trust_anchor_pem and first.cert_chain_pem.endswith(first.trust_anchor_pem)


def test_configured_certificate_is_used(tmp_path: Path, data_dir: Path) -> None:
    # Stand-in for an operator's CA-issued certificate: same shape, different files.
    ca, chain, key = _make_dev_certificates()
    (tmp_path / "chain.pem").write_bytes(chain)
    (tmp_path / "key.pem").write_bytes(key)
    creds = load_signer(
        Settings(data_dir=data_dir, c2pa_cert=tmp_path / "chain.pem", c2pa_key=tmp_path / "key.pem")
    )
    assert not creds.development and creds.trust_anchor_pem is None
    assert not (data_dir / "c2pa").exists()  # no development CA made
    signed = add_provenance(_image("JPEG"), model="tiny", seed=3, signer=creds)
    assert verify(signed, trust_anchors=ca.decode()).c2pa_trusted


def test_certificate_settings_errors_are_specific(tmp_path: Path, data_dir: Path) -> None:
    with pytest.raises(SigningError, match="set both SITTER_C2PA_CERT"):
        load_signer(Settings(data_dir=data_dir, c2pa_cert=tmp_path / "chain.pem"))
    with pytest.raises(SigningError, match="cannot read"):
        load_signer(
            Settings(data_dir=data_dir, c2pa_cert=tmp_path / "no.pem", c2pa_key=tmp_path / "no")
        )
    (tmp_path / "chain.pem").write_text("junk")
    (tmp_path / "key.pem").write_text("junk")
    with pytest.raises(SigningError, match="not an unencrypted PEM key"):
        load_signer(
            Settings(
                data_dir=data_dir, c2pa_cert=tmp_path / "chain.pem", c2pa_key=tmp_path / "key.pem"
            )
        )


def test_metadata_writer_keeps_jpeg_structure() -> None:
    raw = _image("JPEG")
    tagged = imagemeta.write(raw, xmp=b"<x/>", notes={"Description": "d", "Software": "s"})
    again = imagemeta.write(tagged, xmp=b"<y/>", notes={"Description": "e", "Software": "s"})
    meta = imagemeta.read(again)
    assert meta.xmp == b"<y/>" and meta.notes == {"Description": "e", "Software": "s"}
    assert again.startswith(b"\xff\xd8\xff\xe0")  # JFIF APP0 still first


def test_sitter_verify_command(
    signer: C2paCredentials, data_dir: Path, tmp_path: Path, capsys, monkeypatch
) -> None:
    from cli.main import main

    good = tmp_path / "good.png"
    good.write_bytes(add_provenance(_image("PNG"), model="tiny", seed=5, signer=signer))
    plain = tmp_path / "plain.jpg"
    plain.write_bytes(_image("JPEG"))
    monkeypatch.setenv("SITTER_DATA_DIR", str(data_dir))
    assert main(["verify", str(good)]) == 0
    out = capsys.readouterr().out
    assert "good.png: AI-labelled" in out and "C2PA: Valid, not Trusted" in out
    assert main(["verify", "--json", "--no-dev-anchor", str(good), str(plain)]) == 1
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["ai_labelled"] for r in lines] == [True, False]
    assert lines[0]["c2pa_state"] == "Valid" and lines[1]["c2pa_present"] is False
    assert main(["verify", str(tmp_path / "missing.png")]) == 2


def test_dev_certificate_near_expiry_is_renewed(data_dir: Path) -> None:
    folder = data_dir / "c2pa"
    folder.mkdir()
    ca, chain, key = _make_dev_certificates(leaf_days=10)  # inside the renewal window
    for name, pem in zip(DEV_FILES, (ca, chain, key), strict=True):
        (folder / name).write_bytes(pem)
    renewed = load_signer(Settings(data_dir=data_dir))
    assert renewed.cert_chain_pem.encode() != chain
    assert load_signer(Settings(data_dir=data_dir)) == renewed  # and then reused


def test_workers_starting_together_get_one_matching_pair(data_dir: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    settings = Settings(data_dir=data_dir)
    with ThreadPoolExecutor(4) as pool:
        creds = list(pool.map(lambda _: load_signer(settings), range(4)))
    assert all(c == creds[0] for c in creds)
    signed = add_provenance(_image("PNG"), model="tiny", seed=1, signer=creds[0])
    assert verify(signed, trust_anchors=creds[0].trust_anchor_pem).c2pa_trusted


def test_an_edit_of_a_photo_with_a_copied_label_names_no_model(
    signer: C2paCredentials, data_dir: Path
) -> None:
    """Issue 22, item 9: what an earlier label says is believed only from Sitter's own
    signature; XMP copied onto a real photo is not carried into the edit's label."""
    from engine import imagemeta
    from engine.provenance import read_ai_info, signed_ai_info

    original = add_provenance(_image("PNG"), model="sdxl-x", seed=42, signer=signer)
    label = imagemeta.read(original)
    copied = imagemeta.write(_image("PNG", 96), xmp=label.xmp, notes=label.notes)
    assert read_ai_info(copied) is not None and signed_ai_info(copied, signer) is None
    edited = carry_provenance(_image("PNG", 128), copied, signer=signer, edit="upscaled 2x")
    assert verify(edited, trust_anchors=signer.trust_anchor_pem).ai_system == "unknown"
    honest = carry_provenance(_image("PNG", 128), original, signer=signer, edit="upscaled 2x")
    info = signed_ai_info(honest, signer)
    assert info is not None and (info.model, info.seed) == ("sdxl-x", 42)
