"""C2PA signing credentials: a configured certificate, or a local development CA.

C2PA validators refuse a self-signed signing certificate, so the development
setup is two certificates: a root CA (kept only as a trust anchor) and a leaf it
signs with CA=false, digitalSignature key usage, the emailProtection extended key
usage and subject/authority key identifiers (ES256, P-256). Both are created once
under ``data_dir/c2pa`` and reused; files written by a development signer verify
as *valid* everywhere and as *trusted* only where that root is given as an anchor.

For production, set ``SITTER_C2PA_CERT`` (PEM chain: leaf first, then
intermediates) and ``SITTER_C2PA_KEY`` (PEM private key) to a certificate from a
CA on the C2PA trust list; ``SITTER_C2PA_TSA_URL`` adds an RFC 3161 timestamp.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sitter.config import Settings

log = logging.getLogger(__name__)

# The organisation named in development certificates; verify() recognises it.
DEV_ORGANIZATION = "Sitter local development (not a trusted certificate)"
DEV_DIR = "c2pa"
DEV_FILES = ("dev-root-ca.pem", "dev-signer-chain.pem", "dev-signer-key.pem")
DEV_LEAF_DAYS = 3 * 365
RENEW_BEFORE = dt.timedelta(days=30)


class SigningError(Exception):
    """Signing credentials are missing, unreadable or refused by the C2PA library."""


@dataclass(frozen=True)
class C2paCredentials:
    """What signing needs; plain strings so a worker can hold it for its lifetime."""

    cert_chain_pem: str
    key_pem: str
    alg: str  # "es256", "es384", "ps256", "ed25519", ...
    development: bool
    trust_anchor_pem: str | None = None  # the dev root CA, to check "trusted" locally
    tsa_url: str | None = None
    source: str = ""

    def sign(
        self,
        asset: bytes,
        mime: str,
        manifest: dict[str, Any],
        *,
        parent: bytes | None = None,
        parent_mime: str | None = None,
    ) -> bytes:
        """Embed a signed manifest in ``asset`` and return the new bytes.

        With ``parent``, that earlier file (and its own manifest) becomes the
        parent ingredient, so the history of an edit stays verifiable.
        """
        import c2pa

        settings: dict[str, Any] = {
            "builder": {"thumbnail": {"enabled": False}},
            "verify": {"remote_manifest_fetch": False, "ocsp_fetch": False},
        }
        if self.trust_anchor_pem:
            # verify-after-sign must accept our own development root.
            settings["trust"] = {"user_anchors": self.trust_anchor_pem}
        try:
            signer = c2pa.Signer.from_info(
                c2pa.C2paSignerInfo(
                    self.alg, self.cert_chain_pem.encode(), self.key_pem.encode(), self.tsa_url
                )
            )
            with signer, c2pa.Context.from_dict(settings) as context:
                builder = c2pa.Builder(manifest, context=context)
                if parent is not None:
                    # EDIT: the SDK records c2pa.opened for the parent before our actions.
                    builder.set_intent(c2pa.C2paBuilderIntent.EDIT)
                    builder.add_ingredient(
                        {"title": "parent", "relationship": "parentOf"},
                        parent_mime or mime,
                        io.BytesIO(parent),
                    )
                out = io.BytesIO()
                builder.sign(signer, mime, io.BytesIO(asset), out)
        except c2pa.C2paError as exc:
            raise SigningError(f"C2PA signing failed ({self.source}): {exc}") from exc
        return out.getvalue()

    def identity(self) -> tuple[str, str | None, str | None]:
        """The signing certificate's serial number (decimal, as C2PA readers report it),
        organisation and common name: what a manifest signed by these credentials names."""
        from cryptography import x509
        from cryptography.x509.oid import NameOID

        leaf = x509.load_pem_x509_certificates(self.cert_chain_pem.encode())[0]

        def name(oid: x509.ObjectIdentifier) -> str | None:
            found = leaf.subject.get_attributes_for_oid(oid)
            return str(found[0].value) if found else None

        return str(leaf.serial_number), name(NameOID.ORGANIZATION_NAME), name(NameOID.COMMON_NAME)


def _alg_for_key(key_pem: bytes) -> str:
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    key = load_pem_private_key(key_pem, password=None)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        algs = {"secp256r1": "es256", "secp384r1": "es384", "secp521r1": "es512"}
        if key.curve.name not in algs:
            raise SigningError(f"unsupported EC curve {key.curve.name} for C2PA")
        return algs[key.curve.name]
    if isinstance(key, rsa.RSAPrivateKey):
        return "ps256"
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return "ed25519"
    raise SigningError(f"unsupported key type {type(key).__name__} for C2PA")


def load_signer(settings: Settings) -> C2paCredentials:
    """Credentials from SITTER_C2PA_CERT/KEY, else the development CA (made once)."""
    cert, key = settings.c2pa_cert, settings.c2pa_key
    tsa = settings.c2pa_tsa_url
    if (cert is None) != (key is None):
        raise SigningError(
            "set both SITTER_C2PA_CERT (PEM certificate chain) and SITTER_C2PA_KEY "
            "(PEM private key), or neither to use a local development certificate"
        )
    if cert is not None and key is not None:
        try:
            chain, key_pem = Path(cert).read_bytes(), Path(key).read_bytes()
        except OSError as exc:
            raise SigningError(f"cannot read the C2PA certificate or key: {exc}") from exc
        try:
            alg = _alg_for_key(key_pem)
        except ValueError as exc:  # cryptography: not a PEM key, or encrypted
            raise SigningError(f"SITTER_C2PA_KEY {key}: not an unencrypted PEM key") from exc
        return C2paCredentials(
            chain.decode(), key_pem.decode(), alg, development=False, tsa_url=tsa, source=str(cert)
        )
    folder = Path(settings.data_dir) / DEV_DIR
    new = not (folder / DEV_FILES[1]).is_file()
    ca_path, chain_path, key_path = ensure_dev_certificates(folder)
    # Said once, when it is made (every CLI run repeated it); `sitter doctor` says it always.
    (log.warning if new else log.info)(
        "C2PA: signing with a local development certificate (%s); set SITTER_C2PA_CERT and "
        "SITTER_C2PA_KEY for one that validators trust",
        chain_path,
    )
    return C2paCredentials(
        chain_path.read_text(),
        key_path.read_text(),
        "es256",
        development=True,
        trust_anchor_pem=ca_path.read_text(),
        tsa_url=tsa,
        source=str(chain_path),
    )


def ensure_dev_certificates(folder: Path) -> tuple[Path, Path, Path]:
    """(root CA, signer chain, signer key) under ``folder``, created on first use.

    Reused while the signer certificate has more than RENEW_BEFORE left; several
    workers starting at once on one data folder take turns (a file lock), so they
    never pair one worker's key with another's certificate.
    """
    import fcntl

    paths = tuple(folder / name for name in DEV_FILES)
    ca_path, chain_path, key_path = paths
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if all(p.is_file() for p in paths) and _still_valid(chain_path.read_bytes()):
            return ca_path, chain_path, key_path
        ca_pem, chain_pem, key_pem = _make_dev_certificates()
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(key_pem)
        chain_path.write_bytes(chain_pem)
        ca_path.write_bytes(ca_pem)
    log.info("C2PA: created a development CA and signer under %s", folder)
    return ca_path, chain_path, key_path


def _still_valid(chain_pem: bytes) -> bool:
    from cryptography import x509

    try:
        leaf = x509.load_pem_x509_certificate(chain_pem)
    except ValueError:
        return False
    return leaf.not_valid_after_utc - dt.datetime.now(dt.UTC) > RENEW_BEFORE


def _make_dev_certificates(leaf_days: int = DEV_LEAF_DAYS) -> tuple[bytes, bytes, bytes]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    def name(cn: str) -> x509.Name:
        return x509.Name(
            [
                x509.NameAttribute(NameOID.COMMON_NAME, cn),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, DEV_ORGANIZATION),
            ]
        )

    def usage(*, sign: bool, ca: bool) -> x509.KeyUsage:
        return x509.KeyUsage(
            digital_signature=sign,
            content_commitment=False,
            key_encipherment=False,
            data_encipherment=False,
            key_agreement=False,
            key_cert_sign=ca,
            crl_sign=ca,
            encipher_only=False,
            decipher_only=False,
        )

    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = name("Sitter development root CA")
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(usage(sign=False, ca=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(name("Sitter development signer"))
        .issuer_name(ca_name)
        .public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=leaf_days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(usage(sign=True, ca=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(leaf_key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    key_pem = leaf_key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    ca_pem = ca.public_bytes(pem)
    return ca_pem, leaf.public_bytes(pem) + ca_pem, key_pem
