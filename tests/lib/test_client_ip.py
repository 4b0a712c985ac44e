"""Behind nginx, the client is the forwarded address, never the proxy's: otherwise every visitor
shares one public rate limit (found by `make cluster`), sign-in throttling pauses everyone at
once, and the audit log records nginx as who did everything."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import RequestFactory

from stormcert.accounts.adapter import AccountAdapter
from stormcert.lib.http import client_ip


def _request(remote: str, forwarded: str = "") -> Any:
    request = RequestFactory().get("/", REMOTE_ADDR=remote)
    if forwarded:
        request.META["HTTP_X_FORWARDED_FOR"] = forwarded
    return request


def test_without_trusted_proxies_the_remote_address_is_the_client(settings: Any) -> None:
    settings.TRUSTED_PROXIES = []
    assert client_ip(_request("203.0.113.9", "198.51.100.1")) == "203.0.113.9"


@pytest.mark.parametrize(
    ("remote", "forwarded", "client"),
    [
        ("10.0.0.10", "203.0.113.9", "203.0.113.9"),  # nginx forwards for the client
        ("10.0.0.10", "1.2.3.4, 203.0.113.9", "203.0.113.9"),  # the client forged a hop on the left
        ("10.0.0.10", "203.0.113.9, 10.0.0.11", "203.0.113.9"),  # two proxies of ours in a row
        ("10.0.0.10", "2001:db8::7", "2001:db8::7"),
        ("10.0.0.10", "", "10.0.0.10"),  # nothing forwarded: the proxy itself asked
        ("10.0.0.10", "not-an-address", "10.0.0.10"),
        ("198.51.100.5", "203.0.113.9", "198.51.100.5"),  # not our proxy: its header is not believed
    ],
)
def test_a_trusted_proxy_forwards_for_the_client(
    settings: Any, remote: str, forwarded: str, client: str
) -> None:
    settings.TRUSTED_PROXIES = ["10.0.0.0/24"]
    assert client_ip(_request(remote, forwarded)) == client


def test_sign_in_throttling_counts_the_same_client(settings: Any) -> None:
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    assert AccountAdapter().get_client_ip(_request("127.0.0.1", "203.0.113.9")) == "203.0.113.9"


@pytest.mark.django_db
def test_two_clients_behind_the_proxy_have_their_own_public_limit(settings: Any, client: Any) -> None:
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    settings.RATE_LIMIT_PUBLIC = "3/m"
    first = [
        client.get("/directory/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9").status_code
        for _ in range(4)
    ]
    assert first == [200, 200, 200, 429]
    # Another person through the same nginx is not refused for the first one's requests.
    assert (
        client.get("/directory/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.4").status_code
        == 200
    )
