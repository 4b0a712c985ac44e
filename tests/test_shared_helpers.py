"""The helpers that replaced copies (issue 17): row locks, once-only claims, sending a message
once, and links on SITE_URL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.test import override_settings
from django.urls import reverse

from stormcert.accounts.models import Profile, User
from stormcert.certificates.models import NameChangeRequest
from stormcert.emails.models import OutboundEmail
from stormcert.emails.services import send_once
from stormcert.lib.db import claim_row, claim_stamp, lock
from stormcert.lib.links import absolute_url
from stormcert.lib.uploads import storing_document

NOW = datetime(2027, 3, 1, 17, 0, tzinfo=UTC)


@override_settings(SITE_URL="https://cert.example.org/")
def test_absolute_url_is_on_the_configured_site() -> None:
    assert absolute_url("certificates:mine") == "https://cert.example.org" + reverse("certificates:mine")
    assert absolute_url("directory:verify", "QISP-2027-00001") == (
        "https://cert.example.org" + reverse("directory:verify", args=["QISP-2027-00001"])
    )


def test_lock_reads_the_row_as_it_is_now_and_leaves_the_callers_object(alice: User) -> None:
    stale = User.objects.get(pk=alice.pk)
    User.objects.filter(pk=alice.pk).update(first_name="Alicia")
    with transaction.atomic():
        locked = lock(stale)
        assert locked.first_name == "Alicia"
        assert locked is not stale
    assert stale.first_name == alice.first_name != "Alicia"


def test_lock_reads_the_named_relations_in_the_same_query(
    alice: User, django_assert_num_queries: Any
) -> None:
    profile, _ = Profile.objects.get_or_create(user=alice)
    with transaction.atomic(), django_assert_num_queries(1):
        locked = lock(profile, "user")
        assert locked.user.email == alice.email


def test_a_stamp_is_claimed_once(alice: User) -> None:
    first, second = User.objects.get(pk=alice.pk), User.objects.get(pk=alice.pk)
    User.objects.filter(pk=alice.pk).update(last_login=None)
    assert claim_stamp(first, "last_login", NOW) is True
    assert first.last_login == NOW
    assert claim_stamp(second, "last_login", NOW) is False
    assert User.objects.get(pk=alice.pk).last_login == NOW


def test_a_row_is_claimed_once_and_losing_leaves_the_transaction_usable(alice: User) -> None:
    Profile.objects.filter(user=alice).delete()
    with transaction.atomic():
        assert claim_row(Profile, user=alice, company="First") is True
        assert claim_row(Profile, user=alice, company="Second") is False
        assert Profile.objects.get(user=alice).company == "First"


def _send(user: User, claim: Any, context: Any) -> bool:
    return send_once(
        claim=claim,
        template="accounts/email/claim_decided",
        to=user.email,
        user=user,
        context=context,
    )


def test_send_once_sends_only_for_the_winner_and_builds_its_context_only_then(alice: User) -> None:
    built: list[int] = []

    def context() -> dict[str, Any]:
        built.append(1)
        raise AssertionError("a lost claim must not build the message")

    User.objects.filter(pk=alice.pk).update(last_login=NOW)
    assert _send(alice, lambda: claim_stamp(alice, "last_login", NOW), context) is False
    assert built == []
    assert not OutboundEmail.objects.filter(to=alice.email).exists()


def test_a_message_that_fails_after_the_claim_undoes_the_claim(alice: User) -> None:
    """So the next run sends it: a claimed-but-never-sent reminder would be lost for good."""
    User.objects.filter(pk=alice.pk).update(last_login=None)

    def broken() -> dict[str, Any]:
        raise RuntimeError("the template's data could not be read")

    with pytest.raises(RuntimeError):
        _send(alice, lambda: claim_stamp(alice, "last_login", NOW), broken)
    assert User.objects.get(pk=alice.pk).last_login is None
    assert not OutboundEmail.objects.filter(to=alice.email).exists()


def test_send_once_sends_for_the_winner(alice: User) -> None:
    User.objects.filter(pk=alice.pk).update(last_login=None)
    context: dict[str, Any] = {"claim": None, "joined": [], "url": absolute_url("accounts:claim")}
    assert _send(alice, lambda: claim_stamp(alice, "last_login", NOW), context) is True
    assert OutboundEmail.objects.filter(to=alice.email, template="accounts/email/claim_decided").count() == 1
    assert _send(alice, lambda: claim_stamp(alice, "last_login", NOW), context) is False
    assert OutboundEmail.objects.filter(to=alice.email).count() == 1


def test_a_request_that_is_not_kept_leaves_no_file_and_says_one_is_waiting(
    alice: User, settings: Any, tmp_path: Any
) -> None:
    settings.MEDIA_ROOT = tmp_path
    request = NameChangeRequest(
        person=alice, old_name="Alice Alvarez", first_name="Alice", last_name="Moreno"
    )
    upload = SimpleUploadedFile("marriage.pdf", b"%PDF-1.4 evidence", content_type="application/pdf")
    with (
        pytest.raises(LookupError, match="already waiting"),
        storing_document(request, upload, taken=LookupError("already waiting")),
    ):
        assert list(tmp_path.rglob("*.pdf"))  # written first, with the rows
        raise IntegrityError("the partial unique constraint")
    assert not list(tmp_path.rglob("*.pdf"))
