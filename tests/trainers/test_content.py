"""Program content a ToR completes: course information (a page, a document), the orientation and
the renewal meeting (a meeting with a date and link); completing the item in force marks the step."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from conftest import client_for, make_person
from stormcert.accounts.models import User
from stormcert.audit.models import AuditEvent
from stormcert.trainers.applications import approval_missing, decide, send_notices, sign_agreement
from stormcert.trainers.content import confirm_attendance, content_in_force, mark_attendance, open_content
from stormcert.trainers.models import Application, CompletionHow, ContentCompletion, TrainerContent
from stormcert.trainers.services import TrainerError, grant_term
from stormcert.trainers.yearly import term_renewal_status
from tests.trainers.builders import (
    CLOSES,
    NOTICE,
    PT,
    agreement,
    make_cycle,
    qisp,
    scored,
    submitted,
    tor_program,
)

pytestmark = pytest.mark.django_db

AFTER = datetime.combine(NOTICE, datetime.min.time(), tzinfo=PT) + timedelta(days=1)
MEETING = AFTER + timedelta(days=3)


def _selected(alice: User, sara: User) -> Application:
    chosen = scored(submitted(qisp(alice), make_cycle(sara)))
    decide(application=chosen, selected=True, actor=sara, reason="Top score", now=CLOSES)
    send_notices(now=AFTER - timedelta(hours=1))
    chosen.refresh_from_db()
    return chosen


def _items() -> tuple[TrainerContent, TrainerContent]:
    info = TrainerContent.objects.create(
        program=tor_program(),
        kind="course_information",
        title="QISP course outline and trainer guide",
        body="# Outline\nEight units.",
        effective_from=date(2027, 1, 1),
    )
    orientation = TrainerContent.objects.create(
        program=tor_program(),
        kind="orientation",
        title="2027 ToR orientation",
        body="What a ToR does.",
        meeting_at=MEETING,
        meeting_link="https://meet.example.org/tor-2027",
        effective_from=date(2027, 1, 1),
    )
    return info, orientation


def test_the_item_in_force_is_the_latest_effective(programs: None) -> None:
    old, _ = _items()
    new = TrainerContent.objects.create(
        program=tor_program(),
        kind="course_information",
        title="2028 outline",
        effective_from=date(2028, 1, 1),
    )
    assert content_in_force(tor_program(), "course_information", AFTER) == old
    assert content_in_force(tor_program(), "course_information", datetime(2028, 2, 1, tzinfo=PT)) == new


def test_reading_the_course_information_and_attending_the_orientation_complete_the_steps(
    programs: None, alice: User, sara: User
) -> None:
    chosen = _selected(alice, sara)
    info, orientation = _items()
    agreement()
    assert open_content(user=alice, content=info, now=AFTER) is True
    assert open_content(user=alice, content=info, now=AFTER) is False  # once
    # Opening a meeting's page does not attend it; confirming before it took place is refused.
    assert open_content(user=alice, content=orientation, now=AFTER) is False
    with pytest.raises(TrainerError, match="after the meeting"):
        confirm_attendance(user=alice, content=orientation, now=AFTER)
    chosen.refresh_from_db()
    assert chosen.course_info_at == AFTER and chosen.orientation_at is None
    confirm_attendance(user=alice, content=orientation, now=MEETING + timedelta(hours=2))
    chosen.refresh_from_db()
    assert chosen.orientation_how == "attended"
    sign_agreement(
        user=alice,
        program=tor_program(),
        typed_name="Alice Alvarez",
        ip_address=None,
        user_agent="",
        now=MEETING,
    )
    assert approval_missing(chosen, MEETING + timedelta(hours=3)) == []
    assert ContentCompletion.objects.filter(user=alice).count() == 2
    assert AuditEvent.objects.filter(verb="trainers.content_completed").count() == 2


def test_staff_mark_attendance_with_a_reason_and_outsiders_are_refused(
    programs: None, alice: User, sara: User
) -> None:
    chosen = _selected(alice, sara)
    _, orientation = _items()
    stranger = make_person("stranger@example.com")
    with pytest.raises(TrainerError, match="selected candidates"):
        open_content(user=stranger, content=orientation, now=AFTER)
    with pytest.raises(TrainerError, match="reason"):
        mark_attendance(user=alice, content=orientation, actor=sara, reason="", now=MEETING)
    mark_attendance(user=alice, content=orientation, actor=sara, reason="On the call list", now=MEETING)
    with pytest.raises(TrainerError, match="already completed"):
        mark_attendance(user=alice, content=orientation, actor=sara, reason="again", now=MEETING)
    chosen.refresh_from_db()
    assert chosen.orientation_at == MEETING
    completion = ContentCompletion.objects.get(user=alice)
    assert (completion.how, completion.marked_by) == (CompletionHow.STAFF, sara)
    staff = client_for(sara, mfa=True)
    page = staff.get(reverse("trainers:staff_content", args=[orientation.pk])).content.decode()
    assert "Alice" in page and "Attendance marked by staff" in page
    refused = staff.post(
        reverse("trainers:staff_content", args=[orientation.pk]), {"email": "no@x.org", "reason": "x"}
    )
    assert "No account has this email address" in refused.content.decode()


def test_the_renewal_meeting_content_marks_the_renewal(programs: None, tom: User) -> None:
    qisp(tom)
    grant_term(
        user=tom,
        program=tor_program(),
        actor=None,
        reason="t",
        starts_on=date(2026, 7, 1),
        now=datetime(2026, 7, 1, tzinfo=PT),
    )
    meeting = TrainerContent.objects.create(
        program=tor_program(),
        kind="renewal_meeting",
        title="2027 renewal meeting",
        meeting_at=datetime(2027, 5, 10, 10, 0, tzinfo=PT),
        effective_from=date(2027, 1, 1),
    )
    confirm_attendance(user=tom, content=meeting, now=datetime(2027, 5, 11, tzinfo=PT))
    status = term_renewal_status(tom, tor_program(), datetime(2027, 5, 12, tzinfo=PT))
    assert status is not None and status.renewal.meeting_how == "attended"


def test_the_pages_show_the_content_and_refuse_self_declaring(
    programs: None, alice: User, sara: User
) -> None:
    _selected(alice, sara)
    info, orientation = _items()
    with time_machine.travel(AFTER + timedelta(hours=12)):
        # Signed in inside the travel: a session from the real clock would be expired.
        client = client_for(alice)
        home = client.get(reverse("trainers:home", args=["IGP-TOR"])).content.decode()
        assert "open and read QISP course outline" in home and "2027 ToR orientation" in home
        refused = client.post(
            reverse("trainers:orientation", args=["IGP-TOR"]), {"how": "viewed"}, follow=True
        )
        assert "Complete the orientation on its page" in refused.content.decode()
        page = client.get(reverse("trainers:content", args=["IGP-TOR", info.pk])).content.decode()
        assert "Eight units" in page and "Completed on" in page
        meeting = client.get(reverse("trainers:content", args=["IGP-TOR", orientation.pk])).content.decode()
        assert "https://meet.example.org/tor-2027" in meeting and "Come back after the meeting" in meeting
    with time_machine.travel(MEETING + timedelta(hours=2)):
        client = client_for(alice)
        done = client.post(
            reverse("trainers:content_attended", args=["IGP-TOR", orientation.pk]), follow=True
        )
        assert "your attendance at 2027 ToR orientation is recorded" in done.content.decode()
    assert (
        client_for(make_person("x@example.com"))
        .get(reverse("trainers:content", args=["IGP-TOR", info.pk]))
        .status_code
        == 403
    )


def test_the_public_page_states_the_fees_and_renewal_steps(programs: None, client: object) -> None:
    with time_machine.travel(datetime(2027, 3, 1, tzinfo=PT)):
        page = client.get(reverse("trainers:home", args=["IGP-TOR"])).content.decode()  # type: ignore[attr-defined]
    assert "Fees and the yearly renewal" in page
    for text in ("$300.00", "$150.00", "$65.00", "$25.00", "by June 30", "a new term from July 1"):
        assert text in page, text
    assert "Keep your QISP certificate current" in page
