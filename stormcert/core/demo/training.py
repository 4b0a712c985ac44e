"""Original sample content for the demo: a short QISP online training and self-assessment, and
the builders any program's demo content uses (`build_course`, `build_self_assessment`).

The program's real course content is not public; staff replace this in the admin.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction

from stormcert.enrollments.models import SelfAssessmentQuestion
from stormcert.programs.models import Program
from stormcert.training.models import Course, CourseKind, Lesson, LessonKind, QuizQuestion, Unit
from stormcert.training.services import (
    BUCKET_SECONDS,
    complete_lesson,
    has_questions,
    open_lesson,
    reading_seconds_needed,
    record_activity,
    record_document_opened,
    study_rules,
    submit_quiz,
)

COURSE_CODE = "qisp-online-training"

UNITS: list[dict[str, Any]] = [
    {
        "title": "The Industrial General Permit",
        "summary": "Who the permit covers, what it requires, and where a QISP fits in.",
        "lessons": [
            {
                "title": "Why industrial stormwater is regulated",
                "kind": "reading",
                "minutes": 20,
                "body": (
                    "Rain that falls on an industrial site picks up what it touches: metals from roofs and yards, "
                    "oil from equipment, sediment from unpaved areas. Under the Clean Water Act, California's "
                    "**Industrial General Permit** (IGP) sets the rules facilities follow to keep those pollutants "
                    "out of rivers, lakes and the ocean.\n\n"
                    "## What the permit asks of a facility\n\n"
                    "- a **Stormwater Pollution Prevention Plan** (SWPPP) describing the site and its controls;\n"
                    "- **best management practices** (BMPs): good housekeeping, preventive maintenance, spill "
                    "response, material handling, erosion control and more;\n"
                    "- **monitoring**: visual observations and sampling of qualifying storm events;\n"
                    "- an **annual report** filed in SMARTS, the State Water Board's online system."
                ),
            },
            {
                "title": "Overview video: the QISP role",
                "kind": "video",
                "minutes": 10,
                "video_url": "https://vimeo.com/156619836",
                "body": "Watch the overview, then read the notes below.\n\n"
                "A QISP is called in when sampling results exceed the permit's numeric action levels and a "
                "facility enters **Level 1** or **Level 2** of the Exceedance Response Action process.",
            },
            {
                "title": "Check your understanding: the permit",
                "kind": "quiz",
                "minutes": 5,
                "body": "These questions are for practice only; retake them as often as you like.",
                "questions": [
                    (
                        "Where does a facility file its annual report?",
                        [
                            (
                                "In SMARTS, the State Water Board's online system",
                                True,
                                "Yes: reports are filed in SMARTS.",
                            ),
                            ("By mail to the regional board", False, "Reports are filed online, in SMARTS."),
                            ("Nowhere; the plan is enough", False, "An annual report is required."),
                        ],
                    ),
                    (
                        "What does a SWPPP describe?",
                        [
                            ("The site, its pollutant sources and the controls used", True, "Right."),
                            ("Only the sampling schedule", False, "It covers far more than sampling."),
                            ("The facility's financial statements", False, "Not at all."),
                        ],
                    ),
                ],
            },
        ],
    },
    {
        "title": "Best management practices",
        "summary": "The minimum BMPs every facility implements, and advanced BMPs where needed.",
        "lessons": [
            {
                "title": "The minimum BMPs",
                "kind": "reading",
                "minutes": 25,
                "body": (
                    "Every facility implements a set of **minimum BMPs**:\n\n"
                    "| BMP | In practice |\n|---|---|\n"
                    "| Good housekeeping | Sweep yards, cover stockpiles, keep drains clear |\n"
                    "| Preventive maintenance | Inspect equipment that could leak |\n"
                    "| Spill and leak prevention | Kits on hand, staff trained |\n"
                    "| Material handling | Store and load under cover where possible |\n"
                    "| Erosion and sediment controls | Stabilize bare soil |\n"
                    "| Employee training | Everyone knows their part |\n"
                    "| Quality assurance and record keeping | Written procedures, records kept |\n\n"
                    "When minimum BMPs are not enough, **advanced BMPs** follow: exposure minimization, "
                    "storm water containment and discharge reduction, and treatment control."
                ),
            },
            {
                "title": "Case study: a metal finishing yard",
                "kind": "case_study",
                "minutes": 30,
                "body": (
                    "A metal finishing shop in Oakland samples two storm events and finds zinc above the annual "
                    "numeric action level.\n\n"
                    "**Consider:** which sources on the site could carry zinc (galvanized roofs, outdoor parts "
                    "storage, drag-out from plating lines)? Which minimum BMPs would you check first, and what "
                    "would a Level 1 evaluation by a QISP look like?\n\n"
                    "> Write down your answers before moving on; the one-day course discusses cases like this."
                ),
            },
        ],
    },
    {
        "title": "Monitoring and exceedance response",
        "summary": "Sampling, action levels, and the Level 1 and Level 2 responses a QISP leads.",
        "lessons": [
            {
                "title": "Numeric action levels and ERA levels",
                "kind": "reading",
                "minutes": 25,
                "body": (
                    "The permit compares sampling results with **numeric action levels** (NALs). An *annual* NAL "
                    "exceedance is based on the average of all results for a parameter in a reporting year; an "
                    "*instantaneous maximum* exceedance on any two results in a year.\n\n"
                    "An exceedance moves a facility from **Baseline** to **Level 1**: a QISP evaluates the site "
                    "and the BMPs and writes a Level 1 ERA report. Further exceedances can move it to **Level 2**, "
                    "with an action plan and technical report, again prepared by a QISP."
                ),
            },
            {
                "title": "Check your understanding: exceedances",
                "kind": "quiz",
                "minutes": 5,
                "questions": [
                    (
                        "Who prepares a Level 1 ERA evaluation and report?",
                        [
                            (
                                "A Qualified Industrial Stormwater Practitioner",
                                True,
                                "Yes, that is the QISP's role.",
                            ),
                            ("Any employee of the facility", False, "The permit requires a QISP."),
                            ("The regional water board", False, "The facility's QISP prepares it."),
                        ],
                    ),
                    (
                        "What is compared with numeric action levels?",
                        [
                            ("Sampling results for each parameter", True, "Right."),
                            ("The number of BMPs in the SWPPP", False, "NALs apply to sampling results."),
                            ("Rainfall totals", False, "NALs apply to pollutant concentrations."),
                        ],
                    ),
                ],
            },
        ],
    },
]

SELF_ASSESSMENT = [
    (
        "How familiar are you with California's Industrial General Permit?",
        "",
        [("I work with it regularly", -4), ("I have read parts of it", 0), ("I have not read it yet", 6)],
    ),
    (
        "Have you prepared or updated a Stormwater Pollution Prevention Plan (SWPPP)?",
        "",
        [("Yes, several", -3), ("Once, or I helped", 0), ("No", 4)],
    ),
    (
        "Have you collected or interpreted stormwater samples?",
        "Sampling, lab results, action levels.",
        [("Yes", -2), ("A little", 0), ("No", 3)],
    ),
    (
        "How many hours a week can you set aside for the training?",
        "",
        [("More than 8", 0), ("4 to 8", 0), ("Fewer than 4", 2)],
    ),
]


def build_course(
    program: Program,
    *,
    code: str,
    title: str,
    summary: str,
    units: list[dict[str, Any]],
    kind: str = CourseKind.TRAINING,
    **extra: Any,
) -> bool:
    """Create a course of `program` with its units, lessons and practice quizzes once (any
    program; `units` as in UNITS). Returns True when it created the course."""
    course, made = Course.objects.get_or_create(
        code=code,
        defaults={"program": program, "title": title, "kind": kind, "summary": summary, **extra},
    )
    if not made:
        return False
    for u_pos, unit_data in enumerate(units, start=1):
        unit = Unit.objects.create(
            course=course, position=u_pos, title=unit_data["title"], summary=unit_data.get("summary", "")
        )
        for l_pos, data in enumerate(unit_data["lessons"], start=1):
            lesson = Lesson.objects.create(
                unit=unit,
                position=l_pos,
                title=data["title"],
                kind=data["kind"],
                body=data.get("body", ""),
                video_url=data.get("video_url", ""),
                estimated_minutes=data["minutes"],
            )
            for q_pos, (text, choices) in enumerate(data.get("questions", []), start=1):
                QuizQuestion.objects.create(
                    lesson=lesson,
                    position=q_pos,
                    text=text,
                    choices=[{"text": t, "correct": c, "feedback": f} for t, c, f in choices],
                )
    return True


def build_self_assessment(program: Program, questions: list[tuple[str, str, list[tuple[str, int]]]]) -> bool:
    """The program's self-assessment questions, once: (text, help, [(choice, extra hours)])."""
    if SelfAssessmentQuestion.objects.filter(program=program).exists():
        return False
    for position, (text, help_text, choices) in enumerate(questions, start=1):
        SelfAssessmentQuestion.objects.create(
            program=program,
            position=position,
            text=text,
            help=help_text,
            choices=[{"label": label, "hours": hours} for label, hours in choices],
        )
    return True


@transaction.atomic
def load_demo_content() -> bool:
    """Create the sample QISP course and questionnaire once; returns True when it created them."""
    program = Program.objects.get(code="QISP")
    made = build_course(
        program,
        code=COURSE_CODE,
        title="QISP Online Training",
        summary="Videos, readings, a case study and self-assessment quizzes. Quizzes are for "
        "practice and can be retaken at will; finishing the required lessons unlocks the midterm.",
        units=UNITS,
    )
    return build_self_assessment(program, SELF_ASSESSMENT) or made


def study_lesson(user: Any, lesson: Lesson, *, now: datetime) -> None:
    """Record, through the training services, the study the lesson's rule asks for, ending at
    `now`: the page opened, then reports at a steady pace (each a sign of study within the idle
    cut-off; for a video every stretch in order, in real time), or the document opened. What
    demo histories and tests use instead of clicking through a lesson; the rules are not bent."""
    rules = study_rules(user, lesson.unit.course, now)
    if has_questions(lesson):
        return
    if lesson.kind == LessonKind.FILE:
        record_document_opened(user=user, lesson=lesson, now=now)
        return
    length = lesson.video_seconds or lesson.estimated_minutes * 60
    video = lesson.kind == LessonKind.VIDEO
    seconds = length if video else reading_seconds_needed(lesson, rules, scrolled=False)
    buckets = list(range(math.ceil(length / BUCKET_SECONDS))) if video else []
    step = timedelta(seconds=rules.idle_cutoff_seconds)
    moment = now - timedelta(seconds=seconds)
    open_lesson(user=user, lesson=lesson, now=moment)
    while moment < now:
        moment = min(moment + step, now)
        report = record_activity(
            user=user,
            lesson=lesson,
            buckets=buckets,
            duration=length if video else None,
            auto_complete=False,
            now=moment,
        )
        buckets = [b for b in buckets if b not in set(report.watched)]


def complete_by_studying(user: Any, lesson: Lesson, *, now: datetime) -> bool:
    """Study a lesson as its rule asks (`study_lesson`, or answering its questions with the first
    choice each) and complete it at `now`; False when it was already done."""
    if has_questions(lesson):
        answers = {str(q.pk): "0" for q in lesson.questions.all()}
        before = lesson.progress.filter(user=user, voided_at__isnull=True).exists()
        submit_quiz(user=user, lesson=lesson, answers=answers, now=now)
        return not before
    study_lesson(user, lesson, now=now)
    return complete_lesson(user=user, lesson=lesson, now=now)
