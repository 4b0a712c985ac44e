"""Demo content for the sister program, the Construction General Permit's QSD qualification and
its CGP Trainer of Record program (stormcert/programs/definitions/cgp.toml): online modules, a
question bank and the exam, the course survey, and Tom as a CGP ToR with one QSD session.

Everything here is original sample content built with the same builders as the QISP demo
(`build_course`, `build_exams`, `build_survey`, `build_trainer_program`, `publish_plans`); the
program's real materials are not public, and staff replace these in the admin.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from stormcert.accounts.models import User
from stormcert.certificates.models import Certificate
from stormcert.core.demo.certificates import issue_demo_certificate
from stormcert.core.demo.courses import build_survey, publish_plans
from stormcert.core.demo.exams import build_exams
from stormcert.core.demo.trainers import build_trainer_program
from stormcert.core.demo.training import build_course
from stormcert.courses.models import Mode, QuestionKind
from stormcert.lib.dates import add_years
from stormcert.programs.models import Program
from stormcert.programs.rules import program_today
from stormcert.trainers.applications import issue_term_certificate
from stormcert.trainers.models import TrainerTerm

QUALIFICATION = "QSD"
TRAINER_PROGRAM = "CGP-TOR"
COURSE_CODE = "qsd-online-modules"

UNITS: list[dict[str, Any]] = [
    {
        "title": "The Construction General Permit",
        "summary": "Which projects need coverage, who is responsible, and where a QSD and a QSP fit in.",
        "lessons": [
            {
                "title": "Why construction stormwater is regulated",
                "kind": "reading",
                "minutes": 20,
                "body": (
                    "Bare soil on a construction site washes away in the first rain. Sediment clouds creeks, "
                    "smothers habitat and carries whatever else was on the ground: concrete wash water, fuel, "
                    "paint. California's **Construction General Permit** (CGP, State Water Board Order "
                    "2022-0057-DWQ) covers construction that disturbs one acre or more of soil, or less as "
                    "part of a larger common plan of development.\n\n"
                    "## Who does what\n\n"
                    "- the **Legally Responsible Person** (usually the owner) obtains coverage by filing "
                    "Permit Registration Documents in SMARTS and answers for compliance;\n"
                    "- a **Qualified SWPPP Developer** (QSD) writes, amends and certifies the Storm Water "
                    "Pollution Prevention Plan (SWPPP);\n"
                    "- a **Qualified SWPPP Practitioner** (QSP) carries it out on site: inspections, "
                    "sampling, and keeping the BMPs working. A QSD may act as the QSP."
                ),
            },
            {
                "title": "Check your understanding: the permit",
                "kind": "quiz",
                "minutes": 5,
                "body": "These questions are for practice only; retake them as often as you like.",
                "questions": [
                    (
                        "Who writes and certifies a project's SWPPP?",
                        [
                            ("A Qualified SWPPP Developer", True, "Yes: that is the QSD's role."),
                            ("Any member of the site crew", False, "The permit requires a QSD."),
                            ("The city's building inspector", False, "The project's QSD writes it."),
                        ],
                    ),
                    (
                        "Where does a project file its Permit Registration Documents?",
                        [
                            ("In SMARTS, the State Water Board's online system", True, "Right."),
                            ("With the county assessor", False, "They are filed in SMARTS."),
                        ],
                    ),
                ],
            },
        ],
    },
    {
        "title": "Risk and the SWPPP",
        "summary": "How a project's risk level is set, and what its SWPPP must hold.",
        "lessons": [
            {
                "title": "Sediment risk, receiving water risk, risk level",
                "kind": "reading",
                "minutes": 25,
                "body": (
                    "A traditional project's **risk level** (1, 2 or 3) combines two assessments:\n\n"
                    "| Assessment | Asks |\n|---|---|\n"
                    "| Sediment risk | How much soil could this site lose, given its rainfall, soils and slopes? |\n"
                    "| Receiving water risk | How sensitive is the water the site drains to? |\n\n"
                    "Linear underground and overhead projects (LUPs) are sorted into **types** instead. "
                    "The higher the risk, the more the permit asks: more BMPs, more inspections, sampling "
                    "of pH and turbidity, and action when results exceed the numeric action levels."
                ),
            },
            {
                "title": "Case study: a hillside subdivision",
                "kind": "case_study",
                "minutes": 30,
                "body": (
                    "A twelve-acre subdivision is graded on a slope above a creek in October.\n\n"
                    "**Consider:** what would make its sediment risk high? Which erosion controls would "
                    "you put on the graded pads before the first storm, and which sediment controls at "
                    "the perimeter? What belongs in the plan for a forecast storm?\n\n"
                    "> Write down your answers before the course; your Trainer of Record discusses cases like this."
                ),
            },
        ],
    },
    {
        "title": "BMPs, inspections and monitoring",
        "summary": "Keeping soil in place, trapping what moves, and checking that it works.",
        "lessons": [
            {
                "title": "Erosion control first, sediment control second",
                "kind": "reading",
                "minutes": 20,
                "body": (
                    "**Erosion controls** keep soil where it is: preserving vegetation, mulch, blankets, "
                    "scheduling grading outside the rainy season. **Sediment controls** catch soil already "
                    "moving: fiber rolls, silt fence, sediment basins, inlet protection. Stopping erosion "
                    "at the source is the more effective of the two.\n\n"
                    "Around them: a **stabilized construction entrance** against tracking, lined "
                    "**concrete washouts**, covered stockpiles, and good housekeeping of materials and waste. "
                    "The QSP inspects the BMPs, before and after rain especially, and fixes what fails."
                ),
            },
            {
                "title": "Check your understanding: BMPs",
                "kind": "quiz",
                "minutes": 5,
                "questions": [
                    (
                        "Which of these is an erosion control?",
                        [
                            (
                                "An erosion control blanket on a bare slope",
                                True,
                                "Right: it keeps soil in place.",
                            ),
                            ("A silt fence at the perimeter", False, "That traps sediment already moving."),
                            ("Inlet protection", False, "That is a sediment control."),
                        ],
                    ),
                ],
            },
        ],
    },
]

# (topic, question, [right answer, wrong answers...], index of the right one)
QUESTIONS: list[tuple[str, str, list[str], int]] = [
    (
        "Permit coverage",
        "Which construction projects generally need coverage under the Construction General Permit?",
        [
            "Projects disturbing one acre or more of soil, or less as part of a larger common plan",
            "Only projects over fifty acres",
            "Every project with a building permit, however little soil it disturbs",
            "Only public works projects",
        ],
        0,
    ),
    (
        "Permit coverage",
        "Who writes, amends and certifies a project's SWPPP?",
        [
            "A Qualified SWPPP Developer (QSD)",
            "Any site worker",
            "The building inspector",
            "The concrete supplier",
        ],
        0,
    ),
    (
        "Permit coverage",
        "Who carries out the SWPPP on site: inspections, sampling and BMP upkeep?",
        [
            "A Qualified SWPPP Practitioner (QSP), or a QSD",
            "The State Water Board's staff",
            "The project's neighbors",
            "The architect's office",
        ],
        0,
    ),
    (
        "Permit coverage",
        "How does a project obtain coverage under the permit?",
        [
            "By filing Permit Registration Documents, including a Notice of Intent, in SMARTS",
            "Automatically, with its grading permit",
            "By posting a sign at the gate",
            "By telephoning the regional board",
        ],
        0,
    ),
    (
        "Permit coverage",
        "When may a project end its coverage?",
        [
            "When construction is complete and the site is finally stabilized, by filing a Notice of Termination",
            "As soon as the building is framed",
            "At the end of each rainy season",
            "Whenever the QSP changes",
        ],
        0,
    ),
    (
        "Permit coverage",
        "Who answers for a project's permit compliance?",
        [
            "The Legally Responsible Person, usually the owner",
            "The QSP alone",
            "The laboratory",
            "The county",
        ],
        0,
    ),
    (
        "Risk and the SWPPP",
        "Which two assessments combine into a traditional project's risk level?",
        [
            "Sediment risk and receiving water risk",
            "Project cost and duration",
            "Number of workers and of trucks",
            "Air temperature and wind",
        ],
        0,
    ),
    (
        "Risk and the SWPPP",
        "How many risk levels does the permit set for traditional construction projects?",
        ["Three", "One", "Five", "Ten"],
        0,
    ),
    (
        "Risk and the SWPPP",
        "Which projects are sorted into types rather than risk levels?",
        [
            "Linear underground and overhead projects (LUPs)",
            "Interior remodels",
            "Parking lot restriping",
            "Single-family roof repairs",
        ],
        0,
    ),
    (
        "Risk and the SWPPP",
        "What must a SWPPP hold?",
        [
            "Site maps, the BMPs for each phase of work, and the inspection, monitoring and reporting plan",
            "Only the project budget",
            "Only the contractor's insurance certificates",
            "The architect's renderings",
        ],
        0,
    ),
    (
        "Risk and the SWPPP",
        "When must the SWPPP be amended?",
        [
            "When site conditions or activities change so that its BMPs no longer fit",
            "Never, once certified",
            "Only when the owner sells the project",
            "Every week, whether anything changed or not",
        ],
        0,
    ),
    (
        "Risk and the SWPPP",
        "What is a Rain Event Action Plan (REAP)?",
        [
            "A site-specific list of actions to take ahead of forecast rain",
            "A report of rainfall totals for the year",
            "The laboratory's sampling method",
            "A request to stop work for the winter",
        ],
        0,
    ),
    (
        "Risk and the SWPPP",
        "Why does a higher risk level matter?",
        [
            "The permit asks for more BMPs, inspections and monitoring",
            "The permit fee is waived",
            "No SWPPP is needed",
            "The project may skip erosion controls",
        ],
        0,
    ),
    (
        "BMPs",
        "Which of these is an erosion control (it keeps soil in place)?",
        [
            "Hydraulic mulch or blankets on bare slopes",
            "Silt fence at the perimeter",
            "Storm drain inlet protection",
            "A sediment basin",
        ],
        0,
    ),
    (
        "BMPs",
        "Which of these is a sediment control (it traps soil already moving)?",
        [
            "Fiber rolls along the bottom of a slope",
            "Preserving existing vegetation",
            "Scheduling grading for the dry season",
            "Seeding a finished slope",
        ],
        0,
    ),
    (
        "BMPs",
        "What is a stabilized construction entrance for?",
        [
            "Keeping vehicles from tracking sediment onto public roads",
            "Parking for visitors",
            "Storing fuel",
            "Washing out concrete trucks",
        ],
        0,
    ),
    (
        "BMPs",
        "Where should concrete trucks wash out?",
        [
            "In a designated, lined washout that keeps wash water out of drains and soil",
            "Into the nearest storm drain",
            "Onto bare ground at the back of the lot",
            "Into the street gutter",
        ],
        0,
    ),
    (
        "BMPs",
        "Which usually works better, preventing erosion or trapping sediment?",
        [
            "Preventing erosion at the source",
            "Trapping sediment at the perimeter",
            "They are always equal",
            "Neither matters if the site is sampled",
        ],
        0,
    ),
    (
        "BMPs",
        "What should happen to a soil stockpile before forecast rain?",
        [
            "Cover it and contain its base",
            "Spread it across the site",
            "Wet it down with a hose",
            "Nothing; stockpiles do not erode",
        ],
        0,
    ),
    (
        "Inspections and monitoring",
        "Which parameters do Risk Level 2 and 3 projects sample in stormwater discharges?",
        ["pH and turbidity", "Only air temperature", "Only bacteria", "Only dissolved oxygen"],
        0,
    ),
    (
        "Inspections and monitoring",
        "What are sampling results compared with to decide whether a response is needed?",
        [
            "The permit's numeric action levels (NALs)",
            "Last year's rainfall",
            "The project budget",
            "The neighbors' complaints",
        ],
        0,
    ),
    (
        "Inspections and monitoring",
        "When does the QSP inspect the site?",
        [
            "Regularly during construction, and before, during and after qualifying rain events",
            "Once, when construction ends",
            "Only when the regional board asks",
            "Only in the dry season",
        ],
        0,
    ),
    (
        "Inspections and monitoring",
        "What follows an inspection that finds a failed BMP?",
        [
            "Repair or replace it promptly and record the corrective action",
            "Wait for the next rain to see whether it holds",
            "Remove it from the SWPPP",
            "Nothing, if sampling is on schedule",
        ],
        0,
    ),
    (
        "Inspections and monitoring",
        "Where are the project's annual report and sampling results filed?",
        ["In SMARTS", "With the building department", "On the gate sign", "Nowhere; they stay on site"],
        0,
    ),
]
# Drawn per topic; adds up to the exam's question_count in cgp.toml (20).
BLUEPRINT = {"Permit coverage": 5, "Risk and the SWPPP": 6, "BMPs": 5, "Inspections and monitoring": 4}

SURVEY = [
    ("The course met its stated objectives.", QuestionKind.RATING, True),
    ("The trainer explained the CGP requirements clearly.", QuestionKind.RATING, True),
    ("The SWPPP exercises were useful for my work.", QuestionKind.RATING, True),
    ("What would you change about the course?", QuestionKind.COMMENT, False),
]

AGREEMENT = """\
As a CGP Trainer of Record I agree to:

1. **Teach the approved QSD course.** Use the current course materials without removing required content.
2. **Keep my qualifications current.** Hold an active QSD certificate and pay the yearly ToR fee.
3. **Record attendance truthfully.** Mark a candidate present only if they attended the whole course.
4. **Publish sessions accurately** on the Training Course Calendar and tell registrants promptly of changes.
5. **Protect candidates' information** and use it only to run the course.

This agreement renews each term while I remain a Trainer of Record; a new version asks for a new signature.
"""

# Tom's upcoming QSD session: days from today, mode, city, venue, address, capacity, price.
PLANS: list[tuple[int, str, str, str, str, int, Decimal | None]] = [
    (
        28,
        Mode.IN_PERSON,
        "Fresno",
        "San Joaquin Valley Training Room",
        "2550 Mariposa Mall",
        20,
        Decimal("395.00"),
    ),
]


@transaction.atomic
def load_demo_cgp_content() -> bool:
    """The QSD online modules, question bank, exam and course survey, once."""
    program = Program.objects.filter(code=QUALIFICATION).first()
    if program is None:
        return False
    made = build_course(
        program,
        code=COURSE_CODE,
        title="QSD Online Pre-course Modules",
        summary="Readings, a case study and practice quizzes on the Construction General Permit, to "
        "prepare for the course with a CGP Trainer of Record.",
        units=UNITS,
    )
    made = (
        build_exams(
            program,
            bank_code="qsd-sample",
            bank_title="QSD sample questions",
            questions=QUESTIONS,
            exams=[("qsd_exam", "QSD exam", BLUEPRINT)],
        )
        or made
    )
    return build_survey(program, SURVEY) or made


@transaction.atomic
def load_demo_cgp_trainer(trainer: User, now: datetime | None = None) -> bool:
    """`trainer` as a QSD and CGP Trainer of Record (a current QSD certificate, this term with
    its certificate, the Compliance Agreement signed) with one upcoming QSD session. Once."""
    now = now or timezone.now()
    programs = {p.code: p for p in Program.objects.filter(code__in=[QUALIFICATION, TRAINER_PROGRAM])}
    if len(programs) < 2:
        return False
    qualification, tor_program = programs[QUALIFICATION], programs[TRAINER_PROGRAM]
    created = False
    if not Certificate.objects.filter(holder=trainer, program=qualification).exists():
        issued = add_years(program_today(qualification, now), -1)
        issue_demo_certificate(trainer, qualification, issued, add_years(issued, 2))
        created = True
    created = (
        build_trainer_program(
            tor_program,
            agreement_version="2023.1",
            agreement_text=AGREEMENT,
            effective_from=date(2023, 9, 1),
            trainers=[trainer],
            now=now,
        )
        or created
    )
    term = (
        TrainerTerm.objects.filter(user=trainer, program=tor_program, certificate__isnull=True)
        .in_force_on(program_today(tor_program, now))
        .first()
    )
    if term is not None:
        issue_term_certificate(term=term, actor=None, now=now)
        created = True
    sessions = publish_plans(
        trainer,
        qualification,
        PLANS,
        title="QSD training course",
        notes="Bring a laptop and a copy of the Construction General Permit. Lunch is provided.",
        now=now,
    )
    return created or bool(sessions)
