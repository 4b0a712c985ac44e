"""Shared test fixtures: named personas and small builders.

alice is a candidate, tom a trainer, sara staff (with two-factor set up), eve an outsider.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth.models import Group
from django.test import Client

from stormcert.accounts.models import Role, User
from stormcert.programs.definitions import DEFAULT_DEFINITION, load_definition_file

# Playwright's sync API runs an event loop in the test thread; the ORM calls the browser
# tests make around it are plain synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

PASSWORD = "correct-horse-battery-staple"
TOTP_SECRET = "JBSWY3DPEHPK3PXPTESTSECRET234567"


def make_person(
    email: str,
    *,
    roles: tuple[Role, ...] = (),
    staff: bool = False,
    verified: bool = True,
    first_name: str = "",
    last_name: str = "",
    password: str = PASSWORD,
) -> User:
    user = User.objects.create_user(
        email,
        password,
        first_name=first_name or email.split("@")[0].title(),
        last_name=last_name or "Tester",
        is_staff=staff,
    )
    EmailAddress.objects.create(user=user, email=user.email, verified=verified, primary=True)
    for role in roles:
        group, _ = Group.objects.get_or_create(name=role.value)
        user.groups.add(group)
    return user


def enable_totp(user: User, secret: str = TOTP_SECRET) -> None:
    from allauth.mfa.totp.internal.auth import TOTP

    TOTP.activate(user, secret)


def totp_code(secret: str = TOTP_SECRET, *, offset: int = 0) -> str:
    import time

    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    return format_hotp_value(hotp_value(secret, int(time.time()) // 30 + offset))


@pytest.fixture
def programs(db: Any) -> None:
    load_definition_file(DEFAULT_DEFINITION)


@pytest.fixture
def alice(db: Any) -> User:
    return make_person("alice@example.com", roles=(Role.CANDIDATE,), first_name="Alice", last_name="Alvarez")


@pytest.fixture
def tom(db: Any) -> User:
    return make_person("tom@example.com", roles=(Role.TRAINER,), first_name="Tom", last_name="Nguyen")


@pytest.fixture
def sara(db: Any) -> User:
    user = make_person(
        "sara@example.com", roles=(Role.STAFF,), staff=True, first_name="Sara", last_name="Okafor"
    )
    enable_totp(user)
    return user


@pytest.fixture
def eve(db: Any) -> User:
    return make_person("eve@example.com", first_name="Eve", last_name="Outsider")


def client_for(user: User, *, mfa: bool = False) -> Client:
    """A client signed in as `user`. force_login opens the session without any credential, so
    for staff it is a session *without* two-factor: no staff powers (has_staff_powers). With
    `mfa=True` the session also carries the record allauth writes when the authenticator code is
    given at sign-in, as after a real staff login (the user must have an authenticator app)."""
    client = Client()
    client.force_login(user)
    if mfa:
        record_two_factor(client, user)
    return client


def record_two_factor(client: Client, user: User) -> None:
    """Record in `client`'s session that `user` gave their TOTP code, exactly as allauth does."""
    from allauth.account.internal.flows.login import record_authentication
    from allauth.mfa.models import Authenticator
    from django.test import RequestFactory

    authenticator = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
    if authenticator is None:
        raise ValueError(f"{user.email} has no authenticator app: call enable_totp(user) first.")
    request = RequestFactory().get("/")
    request.session = client.session
    record_authentication(request, user, "mfa", id=authenticator.pk, type=authenticator.type)
    request.session.save()


@pytest.fixture
def alice_client(alice: User) -> Client:
    return client_for(alice)


@pytest.fixture
def sara_client(sara: User) -> Client:
    return client_for(sara, mfa=True)


@pytest.fixture(autouse=True)
def _fresh_cache() -> Any:
    # Rate limits and used TOTP codes live in the cache; each test starts clean.
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


# The password hasher tests use. Production hashes with Django's PBKDF2 (a million rounds, slow
# by design); every persona and every browser sign-in would pay that, minutes over the suite.
# tests/test_account_enumeration.py checks that sign-up still calls the hasher where timing
# matters, and that the production settings keep a slow one.
TEST_PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True, scope="session")
def _test_settings(tmp_path_factory: pytest.TempPathFactory) -> Any:
    # Once per test session, and so once per xdist worker, each in a scratch folder of its own:
    # signing keys for credentials (never the development keys under var/keys) and uploaded
    # documents (never the development media folder; tests that look at files set their own).
    from django.test import override_settings

    with override_settings(
        CREDENTIAL_KEYS_DIR=tmp_path_factory.mktemp("keys"),
        CREDENTIAL_KEYS_GENERATE=True,
        MEDIA_ROOT=tmp_path_factory.mktemp("media"),
        PASSWORD_HASHERS=TEST_PASSWORD_HASHERS,
    ):
        yield


# --- Row locks: every locking query names what it locks, none locks a shared row ------------
# tests/lockcheck.py explains the rule; here it is switched on for every test of the session
# (in every xdist worker, each loading this file). A bad query raises where it runs; one that
# raised in a thread, or whose error the code swallowed, fails its test at teardown.
_FAILED = pytest.StashKey[bool]()


def pytest_configure(config: pytest.Config) -> None:
    from tests import lockcheck

    lockcheck.install()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.failed:
        item.stash[_FAILED] = True
    return report


@pytest.fixture(autouse=True)
def _row_locks_named(request: pytest.FixtureRequest) -> Any:
    from tests import lockcheck

    lockcheck.take()  # nothing left over from another test's threads
    yield
    found = lockcheck.take()
    if found and not request.node.stash.get(_FAILED, False):  # else it already failed with it
        pytest.fail("A locking query broke the row-lock rule:\n" + "\n".join(str(v) for v in found))
