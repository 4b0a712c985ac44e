"""Issue 18: trainer programs side by side, from data alone.

A second qualification program and its own trainer program are loaded beside the casqa.toml
ones (a copy of that definition under other codes and names, so the version is complete). The
first program's Trainers of Record keep teaching and publishing; each trainer program's ToRs
teach only the programs it `teaches`; lists, queues and the calendar name and filter programs.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from conftest import client_for, make_person
from stormcert.accounts.models import Role, User
from stormcert.courses.models import CourseSession
from stormcert.courses.services import CourseError, publish_session, sessions_needing_a_trainer
from stormcert.programs.definitions import DEFAULT_DEFINITION, load_definition
from stormcert.programs.models import Program
from stormcert.trainers.models import TrainerTerm
from stormcert.trainers.services import active_term, end_term
from stormcert.trainers.standing import standing_to_teach
from stormcert.trainers.yearly import sessions_without_a_term
from tests.courses.conftest import T0, make_session, session_fields
from tests.trainers.builders import in_standing, qisp_program, tor_program

pytestmark = pytest.mark.django_db

SISTER = {
    '"IGP-TOR"': '"CGP-TOR"',
    '"QISP"': '"QSD"',
    "QISP-{year}": "QSD-{year}",
    "TOR-{year}": "CTOR-{year}",
    'short_name = "IGP ToR"': 'short_name = "CGP ToR"',
    "Qualified Industrial Stormwater Practitioner": "Qualified SWPPP Developer",
    "Industrial General Permit Trainer of Record": "Construction General Permit Trainer of Record",
}


@pytest.fixture
def sister(programs: None) -> tuple[Program, Program]:
    """A second qualification program (QSD) and the trainer program teaching it (CGP-TOR)."""
    text = DEFAULT_DEFINITION.read_text(encoding="utf-8")
    # Another program's names for the earlier records' import are its own: the copy gets none
    # (the loader refuses an alias two programs share).
    text = re.sub(r"^aliases = .*$", "", text, flags=re.MULTILINE)
    for old, new in SISTER.items():
        text = text.replace(old, new)
    load_definition(text, source="sister.toml")
    qsd, cgp_tor = Program.objects.get(code="QSD"), Program.objects.get(code="CGP-TOR")
    assert list(cgp_tor.teaches.all()) == [qsd] and list(cgp_tor.requires.all()) == [qsd]
    assert list(tor_program().teaches.all()) == [qisp_program()]
    return qsd, cgp_tor


@pytest.fixture
def igp_tor(sister: tuple[Program, Program], tom: User) -> User:
    return in_standing(tom, T0)


@pytest.fixture
def cgp_tor(sister: tuple[Program, Program]) -> User:
    dana = make_person("dana@example.com", roles=(Role.TRAINER,), first_name="Dana", last_name="Reyes")
    return in_standing(dana, T0, program=sister[1])


def _new_session_post(**overrides: str) -> dict[str, str]:
    day = (T0 + timedelta(days=30)).date()
    data = {
        "title": "Course",
        "day": day.isoformat(),
        "start_time": "08:00",
        "end_time": "17:00",
        "time_zone": "America/Los_Angeles",
        "mode": "in_person",
        "venue": "Hall",
        "address": "1 Main St",
        "city": "Fresno",
        "meeting_details": "",
        "capacity": "10",
        "closes_on": (day - timedelta(days=3)).isoformat(),
        "price": "",
        "contact": "trainer@example.com",
        "notes": "",
    }
    data.update(overrides)
    return data


def test_the_first_trainer_program_keeps_teaching_while_another_exists(igp_tor: User) -> None:
    assert active_term(igp_tor, T0, program=tor_program()) is not None
    assert standing_to_teach(igp_tor, qisp_program(), now=T0).ok
    session = make_session(igp_tor)
    assert session.program == qisp_program()
    with time_machine.travel(T0, tick=False):
        client = client_for(igp_tor)
        form = client.get(reverse("courses:new"))
        assert form.status_code == 200
        body = form.content.decode()
        # One program to teach: no choice, the page says which.
        assert 'name="program"' not in body and "A session of QISP" in body
        done = client.post(reverse("courses:new"), _new_session_post())
    assert done.status_code == 302
    assert CourseSession.objects.filter(trainer=igp_tor).count() == 2
    assert {s.program.code for s in CourseSession.objects.filter(trainer=igp_tor)} == {"QISP"}


def test_a_tor_of_another_trainer_program_cannot_publish_for_the_first_qualification(
    cgp_tor: User, sister: tuple[Program, Program]
) -> None:
    qsd, _ = sister
    with pytest.raises(CourseError, match="You have no current IGP ToR term"):
        publish_session(trainer=cgp_tor, program=qisp_program(), fields=session_fields(), now=T0)
    # Their own program's sessions they may publish.
    session = publish_session(trainer=cgp_tor, program=qsd, fields=session_fields(), now=T0)
    assert session.program == qsd
    # A qualification program no trainer program teaches cannot be published at all, and a
    # trainer program is no program to publish sessions of.
    with pytest.raises(CourseError, match="not a qualification program"):
        publish_session(trainer=cgp_tor, program=tor_program(), fields=session_fields(), now=T0)
    with time_machine.travel(T0, tick=False):
        page = client_for(cgp_tor).get(reverse("courses:new")).content.decode()
    assert "A session of QSD" in page and 'name="program"' not in page and "A session of QISP" not in page


def test_a_tor_of_both_programs_chooses_which_one_a_session_teaches(
    igp_tor: User, sister: tuple[Program, Program]
) -> None:
    qsd, cgp = sister
    in_standing(igp_tor, T0, program=cgp)
    with time_machine.travel(T0, tick=False):
        client = client_for(igp_tor)
        body = client.get(reverse("courses:new")).content.decode()
        assert 'name="program"' in body and "QSD" in body and "QISP" in body
        refused = client.post(reverse("courses:new"), _new_session_post())
        assert refused.status_code == 400 and "This field is required" in refused.content.decode()
        assert not CourseSession.objects.exists()
        done = client.post(reverse("courses:new"), _new_session_post(program="QSD"))
    assert done.status_code == 302
    assert CourseSession.objects.get().program == qsd


def test_the_public_list_shows_each_programs_tors_under_their_program(
    igp_tor: User, cgp_tor: User, client: Client
) -> None:
    with time_machine.travel(T0, tick=False):
        every = client.get(reverse("trainers:public_list")).content.decode()
        only = client.get(reverse("trainers:public_list") + "?program=CGP-TOR").content.decode()
    igp_at, cgp_at = every.index("IGP ToR: Industrial"), every.index("CGP ToR: Construction")
    nguyen, reyes = every.index("Tom Nguyen"), every.index("Dana Reyes")
    assert (igp_at < nguyen < cgp_at < reyes) or (cgp_at < reyes < igp_at < nguyen)
    assert "Dana Reyes" in only and "Tom Nguyen" not in only


def test_the_tor_page_lists_programs_when_there_are_several(
    igp_tor: User, sister: tuple[Program, Program], client: Client
) -> None:
    with time_machine.travel(T0, tick=False):
        listing = client_for(igp_tor).get("/tor/")
        assert listing.status_code == 200
        body = listing.content.decode()
        assert "/tor/IGP-TOR/" in body and "/tor/CGP-TOR/" in body and "Trainer of Record</span> term" in body
        assert client.get("/tor/CGP-TOR/").status_code == 200
        assert client.get("/tor/QSD/").status_code == 404  # a qualification program has no ToR page
        assert client.get("/tor/NOPE/").status_code == 404


def test_the_tor_page_sends_to_the_only_trainer_program(programs: None, client: Client) -> None:
    response = client.get("/tor/")
    assert response.status_code == 302 and response["Location"] == "/tor/IGP-TOR/"
    assert client.get("/tor/IGP-TOR/").status_code == 200


def test_the_staff_queue_flags_only_real_lapses(
    igp_tor: User, cgp_tor: User, sister: tuple[Program, Program], sara: User
) -> None:
    qsd, _ = sister
    qisp_session = make_session(igp_tor)
    qsd_session = make_session(cgp_tor, program=qsd)
    # Both trainers stand in the trainer program that teaches their session's program.
    assert sessions_needing_a_trainer(T0) == []
    assert sessions_without_a_term(T0) == []
    end_term(term=TrainerTerm.objects.get(user=cgp_tor), actor=sara, reason="Stepped down.", now=T0)
    assert sessions_needing_a_trainer(T0) == [qsd_session]
    assert sessions_needing_a_trainer(T0, program=qisp_program()) == []
    assert sessions_without_a_term(T0) == [qsd_session]
    with time_machine.travel(T0, tick=False):
        staff = client_for(sara, mfa=True)
        page = staff.get(reverse("courses:staff_queue")).content.decode()
        filtered = staff.get(reverse("courses:staff_queue") + "?program=QISP").content.decode()
    assert "Dana Reyes" in page and "Your CGP ToR term ended" in page
    assert "Tom Nguyen" not in page
    assert "Dana Reyes" not in filtered
    assert qisp_session.pk not in [s.pk for s in sessions_needing_a_trainer(T0)]


def test_the_calendar_filters_by_program(
    igp_tor: User, cgp_tor: User, sister: tuple[Program, Program], client: Client
) -> None:
    qsd, _ = sister
    make_session(igp_tor, city="Sacramento")
    make_session(cgp_tor, program=qsd, city="Fresno")
    with time_machine.travel(T0, tick=False):
        every = client.get(reverse("courses:calendar")).content.decode()
        only = client.get(reverse("courses:calendar") + "?program=QSD").content.decode()
        data = json.loads(client.get(reverse("courses:calendar_json") + "?program=QISP").content)
        ics = client.get(reverse("courses:calendar_ics") + "?program=QSD").content.decode()
    assert "Sacramento" in every and "Fresno" in every
    assert "Fresno" in only and "Sacramento" not in only and "QSD course calendar" in only
    assert [s["program"] for s in data["sessions"]] == ["QISP"]
    assert "Fresno" in ics and "Sacramento" not in ics


def test_a_candidate_registers_with_their_enrollment_in_the_sessions_program(
    igp_tor: User, cgp_tor: User, sister: tuple[Program, Program], alice: User
) -> None:
    from stormcert.courses.services import register_for_session
    from tests.courses.conftest import ready_for_course

    qsd, _ = sister
    ready_for_course(alice, T0)
    qisp_session = make_session(igp_tor)
    qsd_session = make_session(cgp_tor, program=qsd)
    # Her QISP enrollment lets her into the QISP session, not into the other program's.
    with pytest.raises(CourseError, match="is for candidates of QSD"):
        register_for_session(user=alice, session=qsd_session, now=T0)
    seat = register_for_session(user=alice, session=qisp_session, now=T0).seat
    assert seat.program == qisp_program()


def test_staff_course_pages_filter_by_program(
    igp_tor: User, cgp_tor: User, sister: tuple[Program, Program], sara: User
) -> None:
    from stormcert.courses.models import Mode, SurveyQuestion
    from stormcert.courses.services import submit_virtual_plan

    qsd, _ = sister
    virtual: dict[str, Any] = {
        "mode": Mode.VIRTUAL,
        "venue": "",
        "address": "",
        "city": "",
        "meeting_details": "A link",
    }
    for trainer, program in ((igp_tor, qisp_program()), (cgp_tor, qsd)):
        session = make_session(trainer, program=program, day_offset=45, **virtual)
        submit_virtual_plan(session=session, actor=trainer, plan="Breakout rooms.", now=T0)
    SurveyQuestion.objects.create(
        program=qisp_program(), position=1, text="Was the first program's course clear?"
    )
    SurveyQuestion.objects.create(program=qsd, position=1, text="Was the second program's course clear?")
    with time_machine.travel(T0, tick=False):
        staff = client_for(sara, mfa=True)
        plans = staff.get(reverse("courses:staff_plans") + "?program=QSD").content.decode()
        surveys = staff.get(reverse("courses:staff_surveys") + "?program=QSD").content.decode()
    assert "Dana Reyes" in plans and "Tom Nguyen" not in plans
    assert "second program" in surveys and "first program" not in surveys


def test_staff_trainer_page_filters_by_trainer_program(igp_tor: User, cgp_tor: User, sara: User) -> None:
    with time_machine.travel(T0, tick=False):
        staff = client_for(sara, mfa=True)
        every = staff.get(reverse("trainers:staff_home")).content.decode()
        only = staff.get(reverse("trainers:staff_home") + "?program=CGP-TOR").content.decode()
    assert "Tom Nguyen" in every and "Dana Reyes" in every
    assert "Dana Reyes" in only and "Tom Nguyen" not in only


def test_an_application_belongs_to_its_program_url(
    sister: tuple[Program, Program], alice: User, sara: User
) -> None:
    from tests.trainers.builders import DURING, make_cycle, qisp, submitted

    cycle = make_cycle(sara)
    application = submitted(qisp(alice), cycle, DURING)
    document = application.documents.get()
    with time_machine.travel(DURING, tick=False):
        client = client_for(alice)
        assert client.get(reverse("trainers:document", args=["IGP-TOR", document.pk])).status_code == 200
        # The same document under the other trainer program's address is not found.
        assert client.get(reverse("trainers:document", args=["CGP-TOR", document.pk])).status_code == 404
        assert client.get(reverse("trainers:application", args=["IGP-TOR"])).status_code == 200
        assert client.get(reverse("trainers:application", args=["CGP-TOR"])).status_code == 404
