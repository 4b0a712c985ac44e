"""Issue 16 §4: a Trainer of Record's standing has one source, and everything follows it.

Standing = a term in force + a current QISP certificate + the agreement version in force signed.
Ending a term early (staff, with a reason) ends the ToR certificate for verification, and every
later term; lapse by dates is derived the same way.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from conftest import client_for, make_person
from stormcert.accounts.models import Role, User
from stormcert.audit.models import AuditEvent
from stormcert.certificates.models import Certificate, Status
from stormcert.courses.services import CourseError
from stormcert.directory.queries import verify
from stormcert.trainers.applications import issue_term_certificate, public_trainers, sign_agreement
from stormcert.trainers.models import AgreementSignature, TrainerTerm
from stormcert.trainers.services import TrainerError, end_term, grant_term
from stormcert.trainers.standing import in_standing, standing_on
from tests.certificates.builders import certify
from tests.courses.conftest import PT, T0, make_session
from tests.trainers.builders import agreement, tor_program
from tests.trainers.builders import in_standing as make_in_standing

pytestmark = pytest.mark.django_db

NEXT_TERM = date(2027, 7, 1)
NO_QISP = "You need a current (active) QISP certificate."


@pytest.fixture
def tor(programs: None, tom: User) -> User:
    return make_in_standing(tom, T0)


def _terms_with_certificates(user: User) -> tuple[TrainerTerm, TrainerTerm]:
    """This year's term and next year's (a renewal confirmed early), each with its certificate."""
    current = TrainerTerm.objects.get(user=user, starts_on=date(2026, 7, 1))
    issue_term_certificate(term=current, actor=None, now=T0)
    later = grant_term(
        user=user, program=tor_program(), actor=None, reason="renewed", starts_on=NEXT_TERM, now=T0
    )
    issue_term_certificate(term=later, actor=None, now=T0)
    current.refresh_from_db()
    later.refresh_from_db()
    return current, later


# --- The one answer ---------------------------------------------------------------------------


def test_standing_lists_every_reason_missing(programs: None, eve: User) -> None:
    agreement()
    standing = standing_on(eve, tor_program(), now=T0)
    assert not standing.ok and standing.term is None
    assert standing.missing == (
        "You have no current IGP ToR term.",
        NO_QISP,
        "Sign the Compliance Agreement in force (version 1).",
    )
    assert in_standing([eve.pk], tor_program(), T0) == set()


def test_standing_is_ok_with_all_three(tor: User) -> None:
    standing = standing_on(tor, tor_program(), now=T0)
    assert standing.ok and standing.missing == () and standing.term is not None
    assert in_standing([tor.pk], tor_program(), T0) == {tor.pk} == in_standing(None, tor_program(), T0)


def test_a_new_agreement_version_needs_a_new_signature_from_its_first_day(tor: User) -> None:
    agreement(version="2", effective_from=date(2027, 1, 1))
    eve_of = datetime(2026, 12, 31, 23, 59, tzinfo=PT)
    first_day = datetime(2027, 1, 1, 0, 0, tzinfo=PT)
    assert standing_on(tor, tor_program(), now=eve_of).ok
    assert standing_on(tor, tor_program(), now=first_day).missing == (
        "Sign the Compliance Agreement in force (version 2).",
    )
    assert in_standing([tor.pk], tor_program(), first_day) == set()
    sign_agreement(
        user=tor,
        program=tor_program(),
        typed_name="Tom Nguyen",
        ip_address=None,
        user_agent="",
        now=first_day,
    )
    assert standing_on(tor, tor_program(), now=first_day).ok


def test_an_expired_qisp_ends_standing_the_day_after_expiry(tor: User) -> None:
    qisp = Certificate.objects.get(holder=tor, program__code="QISP")
    last_day = datetime.combine(qisp.expires_on, datetime.min.time(), tzinfo=PT) + timedelta(hours=23)  # type: ignore[arg-type]
    grant_term(user=tor, program=tor_program(), actor=None, reason="next term", starts_on=NEXT_TERM, now=T0)
    assert standing_on(tor, tor_program(), now=last_day).ok
    assert standing_on(tor, tor_program(), now=last_day + timedelta(hours=1)).missing == (NO_QISP,)


# --- Symptoms from the issue: publishing asked only for a term --------------------------------


def test_a_term_alone_does_not_let_a_person_publish(programs: None, eve: User) -> None:
    """Issue 16: no QISP, no signed agreement, no ToR certificate, and a session was published."""
    agreement()
    grant_term(user=eve, program=tor_program(), actor=None, reason="granted in the admin", now=T0)
    with pytest.raises(CourseError) as refused:
        make_session(eve)
    assert NO_QISP in str(refused.value)
    assert "Sign the Compliance Agreement in force (version 1)" in str(refused.value)


def test_a_tor_must_sign_the_new_agreement_before_publishing(tor: User) -> None:
    """Issue 16: a ToR published before signing the new agreement version."""
    agreement(version="2", effective_from=T0.date())
    with pytest.raises(CourseError, match=r"Sign the Compliance Agreement in force \(version 2\)"):
        make_session(tor)
    sign_agreement(
        user=tor, program=tor_program(), typed_name="Tom Nguyen", ip_address=None, user_agent="", now=T0
    )
    assert make_session(tor).trainer == tor


def test_the_publish_page_says_what_is_missing(programs: None, eve: User) -> None:
    agreement()
    grant_term(user=eve, program=tor_program(), actor=None, reason="test", now=T0)
    with time_machine.travel(T0, tick=False):
        page = client_for(eve).get(reverse("courses:new"))
        mine = client_for(eve).get(reverse("courses:mine")).content.decode()
    assert page.status_code == 403
    assert NO_QISP in page.content.decode()
    assert NO_QISP in mine and "Publish a session" not in mine


# --- Ending a term early: the certificate and later terms follow -----------------------------


def test_ending_a_term_early_ends_both_certificates_for_verification(tor: User, sara: User) -> None:
    """Issue 16: after an early end both ToR certificates still verified "valid"."""
    current, later = _terms_with_certificates(tor)
    assert current.certificate and later.certificate
    assert verify(current.certificate.number, T0).status == "valid"
    ended = end_term(term=current, actor=sara, reason="Did not keep the agreement's terms.", now=T0)
    assert {t.pk for t in ended} == {current.pk, later.pk}
    for term in (current, later):
        term.refresh_from_db()
        assert term.ended_on == T0.date() and term.end_reason == "Did not keep the agreement's terms."
        result = verify(term.certificate.number, T0)  # type: ignore[union-attr]
        assert result.status == "ended"
        assert result.ended_on == T0.date()
        assert result.end_reason == "Trainer of Record term ended: Did not keep the agreement's terms"
    # The later term never comes into force, so next July does not bring the ToR back.
    assert not standing_on(tor, tor_program(), now=datetime(2027, 7, 2, 12, tzinfo=PT)).ok
    assert AuditEvent.objects.filter(verb="trainer.term_ended").count() == 2
    assert AuditEvent.objects.filter(verb="certificate.ended").count() == 2
    assert AuditEvent.objects.filter(verb="trainer.term_ended", reason__contains="agreement").exists()


def test_an_end_day_in_the_future_takes_effect_on_that_day(tor: User, sara: User) -> None:
    current, _ = _terms_with_certificates(tor)
    day = T0.date() + timedelta(days=10)
    end_term(term=current, actor=sara, reason="Moving out of state.", ended_on=day, now=T0)
    number = current.certificate.number  # type: ignore[union-attr]
    day_before = datetime.combine(day, datetime.min.time(), tzinfo=PT) - timedelta(seconds=1)
    on_the_day = datetime.combine(day, datetime.min.time(), tzinfo=PT)
    assert verify(number, day_before).status == "valid" and standing_on(tor, tor_program(), now=day_before).ok
    assert verify(number, on_the_day).status == "ended"
    assert "Your IGP ToR term ended on" in standing_on(tor, tor_program(), now=on_the_day).reason
    assert "Moving out of state." in standing_on(tor, tor_program(), now=on_the_day).reason


def test_ending_a_term_needs_a_reason_and_a_sensible_day(tor: User, sara: User) -> None:
    term = TrainerTerm.objects.get(user=tor)
    with pytest.raises(TrainerError, match="Give a reason"):
        end_term(term=term, actor=sara, reason="  ", now=T0)
    with pytest.raises(TrainerError, match="not in the past"):
        end_term(term=term, actor=sara, reason="x", ended_on=T0.date() - timedelta(days=1), now=T0)
    with pytest.raises(TrainerError, match="ends on June 30, 2027 anyway"):
        end_term(term=term, actor=sara, reason="x", ended_on=date(2027, 7, 1), now=T0)
    end_term(term=term, actor=sara, reason="x", now=T0)
    with pytest.raises(TrainerError, match="already ended"):
        end_term(term=term, actor=sara, reason="again", now=T0)
    assert AuditEvent.objects.filter(verb="trainer.term_ended").count() == 1
    # A term that ended is not given a certificate afterwards.
    with pytest.raises(TrainerError, match="was ended"):
        issue_term_certificate(term=term, actor=sara, now=T0)


def test_a_lapsed_term_verifies_expired_and_ends_standing(tor: User) -> None:
    certificate = issue_term_certificate(term=TrainerTerm.objects.get(user=tor), actor=None, now=T0)
    last_second = datetime(2027, 6, 30, 23, 59, 59, tzinfo=PT)
    assert (
        verify(certificate.number, last_second).status == "valid"
        and standing_on(tor, tor_program(), now=last_second).ok
    )
    after = last_second + timedelta(seconds=1)
    assert verify(certificate.number, after).status == "expired"
    assert standing_on(tor, tor_program(), now=after).missing == (
        "Your IGP ToR term ended on June 30, 2027; renew it to teach again.",
    )


def test_the_public_list_api_and_verify_page_agree_after_an_early_end(tor: User, sara: User) -> None:
    current, later = _terms_with_certificates(tor)
    with time_machine.travel(T0, tick=False):
        assert tor in [t.user for t in public_trainers(T0)]
        end_term(term=current, actor=sara, reason="Breach of the Compliance Agreement.", now=T0)
        visitor = Client()
        listing = visitor.get(reverse("trainers:public_list")).content.decode()
        for certificate in (current.certificate, later.certificate):
            assert certificate is not None
            api = visitor.get(f"/api/verify/{certificate.number}").json()
            page = visitor.get(reverse("directory:verify", args=[certificate.number])).content.decode()
            assert api["status"] == "ended" and api["ended_on"] == T0.date().isoformat()
            assert api["end_reason"] == "Trainer of Record term ended: Breach of the Compliance Agreement"
            assert (
                "Ended</strong> on November 21, 2026" in page
                and "Breach of the Compliance Agreement." in page
                and "Agreement.." not in page
            )
            certificate.refresh_from_db()
            assert certificate.status_on(T0.date()) == Status.ENDED
    assert tor not in [t.user for t in public_trainers(T0)]
    assert "Nguyen" not in listing


def test_the_public_list_shows_only_trainers_in_standing(tor: User, alice: User) -> None:
    # Alice has a term but no QISP and no signature: not listed (staff still see her term).
    grant_term(user=alice, program=tor_program(), actor=None, reason="test", now=T0)
    assert [t.user for t in public_trainers(T0)] == [tor]
    assert {t.user for t in public_trainers(T0, in_standing_only=False)} == {tor, alice}
    AgreementSignature.objects.filter(user=tor).delete()
    assert public_trainers(T0) == []


def test_staff_end_a_term_through_the_page(tor: User, sara: User, sara_client: Client) -> None:
    term = TrainerTerm.objects.get(user=tor)
    url = reverse("trainers:staff_end_term", args=[term.pk])
    with time_machine.travel(T0, tick=False):
        assert client_for(tor).get(url).status_code == 403
        page = sara_client.get(url)
        assert page.status_code == 200 and "End the term" in page.content.decode()
        refused = sara_client.post(url, {"reason": ""})
        assert refused.status_code == 200
        term.refresh_from_db()
        assert term.ended_on is None
        done = sara_client.post(url, {"reason": "Asked to step down.", "ended_on": ""})
    assert done.status_code == 302 and done["Location"] == reverse("courses:staff_queue")
    term.refresh_from_db()
    assert term.ended_on == T0.date() and term.end_reason == "Asked to step down."
    assert AuditEvent.objects.filter(verb="trainer.term_ended", actor=sara).exists()


def test_certify_builder_gives_an_active_qisp(tor: User) -> None:
    # Guard for the builders these tests rest on: without it every "missing" test could pass vacuously.
    assert Certificate.objects.filter(holder=tor, program__code="QISP").count() == 1
    other = make_person("tina@example.com", roles=(Role.TRAINER,), first_name="Tina", last_name="Ruiz")
    certify(other, issued_on=T0.date() - timedelta(days=10))
    assert standing_on(other, tor_program(), now=T0).missing[0] == "You have no current IGP ToR term."


def test_the_directory_says_ended_and_filters_by_it(tor: User, sara: User) -> None:
    from stormcert.directory.queries import Search, export_rows, search

    current, later = _terms_with_certificates(tor)
    end_term(term=current, actor=sara, reason="Stepped down.", now=T0)
    today = T0.date()

    def numbers(**params: str) -> set[str]:
        return {entry.number for entry in search(Search(**params), today)}

    # The directory lists the newest ToR certificate (the later term's): ended, in either plan.
    assert later.certificate is not None
    assert later.certificate.number in numbers(program="IGP-TOR", status="ended")
    assert later.certificate.number not in numbers(program="IGP-TOR", status="active")
    assert later.certificate.number in numbers(q="Nguyen", status="ended")
    assert later.certificate.number not in numbers(q="Nguyen", status="active")
    assert [e.status_on(today) for e in search(Search(q="Nguyen", program="IGP-TOR"), today)] == [
        Status.ENDED
    ]
    rows = {row["certificate_number"]: row["status"] for row in export_rows(today)}
    assert rows[later.certificate.number] == "ended"
