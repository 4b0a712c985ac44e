"""The public endpoints answer 429 with a plain message once one address asks too often."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path", ["/verify/QISP-1/", "/directory/", "/api/verify/QISP-1", "/directory/export.csv"]
)
def test_too_many_requests_get_429(programs: None, client: Client, settings: object, path: str) -> None:
    settings.RATE_LIMIT_PUBLIC = "3/m"  # type: ignore[attr-defined]
    for _ in range(3):
        assert client.get(path).status_code != 429
    refused = client.get(path)
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) >= 1
    body = refused.json()["detail"] if path.startswith("/api/") else refused.content.decode()
    assert "Too many requests from your address" in body
    # Another address is not affected.
    assert client.get(path, REMOTE_ADDR="10.0.0.9").status_code != 429
