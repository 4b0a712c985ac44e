"""Open Badges 3.0 credentials, signed as a compact JWT with the program's Ed25519 key.

Anyone can check a credential offline: fetch the public keys once from /.well-known/jwks.json,
verify the EdDSA signature with any JWT library, then (online, optionally) ask the revocation
list whether the credential was withdrawn.

Keys, one per program, are looked up in this order:
1. the environment variable CREDENTIAL_KEY_<CODE> (program code upper-cased, other characters
   as "_"; e.g. CREDENTIAL_KEY_ABC_X1 for the code "ABC-X1") holding the PEM text of a PKCS#8 Ed25519 private key;
2. the file <CREDENTIAL_KEYS_DIR>/<code>.pem;
3. in development only (DEBUG, or CREDENTIAL_KEYS_GENERATE=1), a key generated once and
   written to that file. Production with no key refuses to sign instead of inventing one.

Rotating a key (deploy/README.md): the old key's public half goes to
<CREDENTIAL_KEYS_DIR>/retired/<code>-<anything>.pem (`openssl pkey -pubout`). New credentials are
signed with the new key only, and /.well-known/jwks.json keeps publishing the retired public keys,
so every credential already handed out still verifies by its key id.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import re
import tempfile
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from stormcert.certificates.models import Certificate
from stormcert.lib.links import absolute_url
from stormcert.programs.models import Program

OB3_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
VC2_CONTEXT = "https://www.w3.org/ns/credentials/v2"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _env_name(program: Program) -> str:
    return "CREDENTIAL_KEY_" + re.sub(r"[^A-Z0-9]", "_", program.code.upper())


def _key_path(program: Program) -> Path:
    return Path(settings.CREDENTIAL_KEYS_DIR) / f"{program.code.lower()}.pem"


def _generate(path: Path) -> None:
    """Write a new key atomically; if another process won the race, keep its key."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".key-")
    try:
        os.write(fd, pem)
        os.close(fd)
        os.chmod(tmp, 0o600)
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)  # fails if the file exists: the first writer wins
    finally:
        os.unlink(tmp)


def private_key(program: Program) -> Ed25519PrivateKey:
    pem = os.environ.get(_env_name(program), "")
    if not pem:
        path = _key_path(program)
        if not path.exists():
            if not settings.CREDENTIAL_KEYS_GENERATE:
                raise ImproperlyConfigured(
                    f"No signing key for {program.code}: set {_env_name(program)} or put a PEM file at {path}."
                )
            _generate(path)
        pem = path.read_text()
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ImproperlyConfigured(f"The signing key for {program.code} is not an Ed25519 key.")
    return key


def retired_keys(program: Program) -> list[Ed25519PublicKey]:
    """The program's earlier public keys, kept so the credentials they signed still verify."""
    keys = []
    folder = Path(settings.CREDENTIAL_KEYS_DIR) / "retired"
    for path in sorted(folder.glob(f"{program.code.lower()}-*.pem")):
        data = path.read_bytes()
        loaded: Any = (
            serialization.load_pem_private_key(data, password=None).public_key()
            if b"PRIVATE KEY" in data
            else serialization.load_pem_public_key(data)
        )
        if not isinstance(loaded, Ed25519PublicKey):
            raise ImproperlyConfigured(f"{path} is not an Ed25519 key.")
        keys.append(loaded)
    return keys


def public_jwk(program: Program) -> dict[str, str]:
    return _jwk(private_key(program).public_key())


def _jwk(public: Ed25519PublicKey) -> dict[str, str]:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    jwk = {"crv": "Ed25519", "kty": "OKP", "x": _b64(raw)}
    # RFC 7638 thumbprint: the key id changes exactly when the key does.
    thumbprint = _b64(
        hashlib.sha256(json.dumps(jwk, separators=(",", ":"), sort_keys=True).encode()).digest()
    )
    return {**jwk, "kid": thumbprint, "use": "sig", "alg": "EdDSA"}


def jwks() -> dict[str, Any]:
    keys: dict[str, dict[str, str]] = {}
    for program in Program.objects.order_by("code"):
        for jwk in [public_jwk(program), *(_jwk(k) for k in retired_keys(program))]:
            keys.setdefault(jwk["kid"], jwk)
    return {"keys": list(keys.values())}


def issuer_profile(program: Program) -> dict[str, Any]:
    return {
        "id": absolute_url("certificates:issuer", program.code),
        "type": ["Profile"],
        "name": f"{program.name} Program",
        "url": settings.SITE_URL,
    }


def _instant(day: Any, program: Program, end: bool = False) -> datetime:
    moment = datetime.combine(day, time.max if end else time.min, tzinfo=program.zone)
    return moment.astimezone(UTC).replace(microsecond=0)


def credential_for(certificate: Certificate) -> dict[str, Any]:
    """The Open Badges 3.0 OpenBadgeCredential (W3C VC data model 2.0)."""
    program = certificate.program
    verify_url = absolute_url("directory:verify", certificate.number)
    credential: dict[str, Any] = {
        "@context": [VC2_CONTEXT, OB3_CONTEXT],
        "id": certificate.credential_id,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": issuer_profile(program),
        "name": f"{program.name} certificate {certificate.number}",
        "validFrom": _instant(certificate.issued_on, program).isoformat().replace("+00:00", "Z"),
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [
                {
                    "type": "IdentityObject",
                    "identityType": "name",
                    "hashed": False,
                    "identityHash": certificate.holder_name,
                }
            ],
            "achievement": {
                "id": absolute_url("certificates:achievement", program.code),
                "type": ["Achievement"],
                "achievementType": "Certificate",
                "name": program.name,
                "description": program.summary.strip(),
                "criteria": {"id": absolute_url("home") + "#steps"},
                "humanCode": program.short_name,
            },
            "result": [{"type": ["Result"], "value": certificate.number}],
        },
        "credentialStatus": {
            "id": absolute_url("certificates:revocations", program.code),
            "type": "1EdTechRevocationList",
        },
        "evidence": [{"id": verify_url, "type": ["Evidence"], "name": "Public verification page"}],
    }
    if certificate.expires_on is not None:
        credential["validUntil"] = (
            _instant(certificate.expires_on, program, end=True).isoformat().replace("+00:00", "Z")
        )
    return credential


def signed_credential(certificate: Certificate) -> str:
    """The credential as a VC-JWT: the credential's claims plus the registered JWT claims."""
    program = certificate.program
    credential = credential_for(certificate)
    claims: dict[str, Any] = {
        **credential,
        "iss": credential["issuer"]["id"],
        "jti": credential["id"],
        "sub": certificate.number,
        "nbf": int(_instant(certificate.issued_on, program).timestamp()),
        # Signed anew when an approved name change reissued the documents.
        "iat": int((certificate.reissued_at or certificate.issued_at).timestamp()),
    }
    if certificate.expires_on is not None:
        claims["exp"] = int(_instant(certificate.expires_on, program, end=True).timestamp())
    return jwt.encode(
        claims,
        private_key(program),
        algorithm="EdDSA",
        headers={"kid": public_jwk(program)["kid"], "typ": "JWT"},
    )


def verify_credential(token: str, keys: dict[str, Any], *, verify_exp: bool = True) -> dict[str, Any]:
    """Check a credential against a JWKS (what a relying party does offline)."""
    header = jwt.get_unverified_header(token)
    match = next((k for k in keys["keys"] if k.get("kid") == header.get("kid")), None)
    if match is None:
        raise jwt.InvalidKeyError("The credential was signed with a key that is not published.")
    public = jwt.PyJWK(match).key
    if not isinstance(public, Ed25519PublicKey):
        raise jwt.InvalidKeyError("The published key is not an Ed25519 key.")
    return jwt.decode(token, public, algorithms=["EdDSA"], options={"verify_exp": verify_exp})
