"""The holder's PDF (with a QR code of the verification page) and signed credential: who may
download them, what they contain, and that the credential verifies offline against the
published keys and fails when one byte changes."""

from __future__ import annotations

import base64
from pathlib import Path

import jwt
import pypdfium2
import pytest
import zxingcpp
from django.conf import settings
from django.test import Client

from conftest import client_for
from stormcert.accounts.models import User
from stormcert.certificates.credentials import verify_credential
from stormcert.certificates.models import Certificate
from tests.certificates.builders import certify

pytestmark = pytest.mark.django_db


def qr_urls(pdf: bytes) -> list[str]:
    """Render page 1 and decode every QR code on it."""
    page = pypdfium2.PdfDocument(pdf)[0]
    image = page.render(scale=3).to_pil()
    return [r.text for r in zxingcpp.read_barcodes(image) if r.format == zxingcpp.BarcodeFormat.QRCode]


def test_the_holder_downloads_the_pdf_with_a_qr_of_the_verification_page(alice: User, programs: None) -> None:
    certificate = certify(alice)
    response = client_for(alice).get(f"/certificates/{certificate.number}/certificate.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    url = f"{settings.SITE_URL}/verify/{certificate.number}/"
    assert qr_urls(response.content) == [url]
    text = pypdfium2.PdfDocument(response.content)[0].get_textpage().get_text_range()
    for expected in ("Alice Alvarez", certificate.number, "January 15, 2026", "January 15, 2028"):
        assert expected in text


def test_others_cannot_download_someone_elses_documents(
    alice: User, eve: User, sara: User, programs: None, client: Client
) -> None:
    certificate = certify(alice)
    for suffix in ("certificate.pdf", "credential.jwt"):
        path = f"/certificates/{certificate.number}/{suffix}"
        assert client_for(eve).get(path).status_code == 404
        assert client.get(path).status_code == 302  # to sign in
        assert client_for(sara, mfa=True).get(path).status_code == 200  # staff may


def test_the_certificates_page_lists_the_holders_certificates(alice: User, eve: User, programs: None) -> None:
    certificate = certify(alice)
    page = client_for(alice).get("/certificates/").content.decode()
    assert certificate.number in page and "Download the certificate (PDF)" in page
    assert "You have no certificate yet" in client_for(eve).get("/certificates/").content.decode()


def _credential(alice: User) -> tuple[Certificate, str]:
    certificate = certify(alice)
    response = client_for(alice).get(f"/certificates/{certificate.number}/credential.jwt")
    assert response.status_code == 200
    return certificate, response.content.decode()


def test_the_credential_verifies_against_the_published_key(
    alice: User, programs: None, client: Client
) -> None:
    certificate, token = _credential(alice)
    keys = client.get("/.well-known/jwks.json").json()
    assert {k["kty"] for k in keys["keys"]} == {"OKP"} and len(keys["keys"]) == 2  # QISP and IGP-TOR

    # A relying party with nothing but PyJWT and the published JWKS:
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "EdDSA"
    jwk = next(k for k in keys["keys"] if k["kid"] == header["kid"])
    claims = jwt.decode(token, jwt.PyJWK(jwk).key, algorithms=["EdDSA"], options={"verify_exp": False})
    assert claims["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert claims["@context"][0] == "https://www.w3.org/ns/credentials/v2"
    assert claims["jti"] == claims["id"] == certificate.credential_id
    assert claims["sub"] == certificate.number
    assert (
        claims["credentialSubject"]["achievement"]["name"] == "Qualified Industrial Stormwater Practitioner"
    )
    assert claims["credentialSubject"]["identifier"][0]["identityHash"] == "Alice Alvarez"
    assert claims["validFrom"] == "2026-01-15T08:00:00Z"  # midnight Pacific
    assert claims["validUntil"] == "2028-01-16T07:59:59Z"  # end of the expiry day, Pacific
    status_url = claims["credentialStatus"]["id"]
    assert client.get(status_url.removeprefix(settings.SITE_URL)).json()["revokedCredentials"] == []
    issuer = client.get(claims["iss"].removeprefix(settings.SITE_URL)).json()
    assert issuer["type"] == ["Profile"]
    assert verify_credential(token, keys)["sub"] == certificate.number


@pytest.mark.parametrize("part", [0, 1, 2])
def test_changing_one_byte_breaks_the_signature(
    alice: User, programs: None, client: Client, part: int
) -> None:
    _, token = _credential(alice)
    keys = client.get("/.well-known/jwks.json").json()
    pieces = token.split(".")
    raw = bytearray(base64.urlsafe_b64decode(pieces[part] + "=" * (-len(pieces[part]) % 4)))
    raw[len(raw) // 2] ^= 0x01
    pieces[part] = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    tampered = ".".join(pieces)
    with pytest.raises((jwt.InvalidSignatureError, jwt.DecodeError, jwt.InvalidKeyError)):
        verify_credential(tampered, keys, verify_exp=False)


def test_a_key_from_the_environment_is_used(
    alice: User, programs: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    monkeypatch.setenv("CREDENTIAL_KEY_QISP", pem)
    _, token = _credential(alice)
    claims = jwt.decode(token, key.public_key(), algorithms=["EdDSA"], options={"verify_exp": False})
    assert claims["sub"].startswith("QISP-")


def test_production_without_a_key_refuses_to_sign(
    alice: User, programs: None, settings: object, tmp_path: object
) -> None:
    from django.core.exceptions import ImproperlyConfigured

    from stormcert.certificates.credentials import signed_credential

    settings.CREDENTIAL_KEYS_DIR = tmp_path  # type: ignore[attr-defined]
    settings.CREDENTIAL_KEYS_GENERATE = False  # type: ignore[attr-defined]
    with pytest.raises(ImproperlyConfigured, match="CREDENTIAL_KEY_QISP"):
        signed_credential(certify(alice))


def test_a_rotated_key_keeps_old_credentials_verifiable(
    alice: User, programs: None, settings: object, tmp_path: Path, client: Client
) -> None:
    """deploy/README.md's rotation: the old public key goes to retired/, the new key signs."""
    from cryptography.hazmat.primitives import serialization

    from stormcert.certificates.credentials import jwks, private_key, signed_credential

    settings.CREDENTIAL_KEYS_DIR = tmp_path  # type: ignore[attr-defined]
    settings.CREDENTIAL_KEYS_GENERATE = True  # type: ignore[attr-defined]
    certificate = certify(alice)
    old_token = signed_credential(certificate)
    old_public = private_key(certificate.program).public_key()
    (tmp_path / "retired").mkdir()
    (tmp_path / "retired" / "qisp-2026.pem").write_bytes(
        old_public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    (tmp_path / "qisp.pem").unlink()  # the next use makes a new key, as an operator would
    new_token = signed_credential(certificate)
    keys = client.get("/.well-known/jwks.json").json()
    assert keys == jwks()
    kids = [jwt.get_unverified_header(t)["kid"] for t in (old_token, new_token)]
    assert kids[0] != kids[1] and {k["kid"] for k in keys["keys"]} >= set(kids)
    for token in (old_token, new_token):
        assert certificate.number in verify_credential(token, keys, verify_exp=False)["sub"]
    # Without the retired key, the old credential no longer verifies: the folder is what keeps it.
    (tmp_path / "retired" / "qisp-2026.pem").unlink()
    with pytest.raises(jwt.PyJWTError, match="not published"):
        verify_credential(old_token, jwks(), verify_exp=False)
