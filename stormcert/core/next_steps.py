"""The one next step of a person in a program, for every page and email that ends with one.

It lives in core, the composition root, because the answer crosses every app the journey passes
through (the training course, the exam, the course calendar, certificates, renewal); the lower
apps ask through their hook registries (payments.fulfilment.NEXT_STEPS,
training.hooks.AFTER_COMPLETION), filled in core.integrations."""

from __future__ import annotations

from datetime import datetime

from django.urls import reverse
from django.utils.http import urlencode

from stormcert.accounts.models import User
from stormcert.certificates.models import Certificate
from stormcert.enrollments.models import Enrollment
from stormcert.enrollments.services import journey_for
from stormcert.exams.models import Exam
from stormcert.lib.links import NextStep
from stormcert.programs.models import Program
from stormcert.renewals.services import Stage, current_certificate, renewal_status
from stormcert.training.models import Course, CourseKind


def training_course(program: Program) -> Course | None:
    return Course.objects.filter(program=program, kind=CourseKind.TRAINING, is_published=True).first()


def certificate_step(certificate: Certificate) -> NextStep:
    return NextStep(
        text="Your certificate: PDF, digital credential and directory entry",
        path=reverse("certificates:mine"),
        lead=f"Your certificate {certificate.number} is issued.",
    )


def next_step_in(user: User, program: Program, now: datetime) -> NextStep | None:
    """Where the person goes next in a qualification program: renewal for a holder whose renewal
    is open, the certificate for a holder, else the journey's current step."""
    certificate = current_certificate(user, program)
    if certificate is not None:
        status = renewal_status(certificate, now)
        if status.is_open:
            return NextStep(
                text=f"Renew your {program.short_name} certificate",
                path=reverse("renewals:renewal"),
                lead=f"Renewal of certificate {certificate.number} is open.",
            )
        if status.stage not in (Stage.REVOKED, Stage.REQUALIFY):
            return certificate_step(certificate)
    qualification = reverse("enrollments:qualification", args=[program.code])
    enrollment = Enrollment.objects.filter(user=user, program=program).first()
    if enrollment is None:
        return NextStep(text=f"Start your {program.short_name} steps", path=qualification)
    journey = journey_for(enrollment, now)
    current = journey.current
    if journey.action is not None or current is None:
        return NextStep(text=f"Your {program.short_name} steps", path=qualification, lead=journey.summary)
    if current.kind == "training":
        course = training_course(program)
        if course is not None:
            return NextStep(
                text=f"Start {course.title}",
                path=reverse("training:course", args=[course.code]),
                lead=f"{course.title} is open.",
            )
    if current.kind == "exam":
        exam = Exam.objects.filter(program=program, step_code=current.code).first()
        return NextStep(
            text=f"Go to the {current.title.lower()}",
            path=reverse("exams:intro", args=[program.code, exam.step_code]) if exam else qualification,
            lead=f"The {current.title.lower()} is open.",
        )
    if current.kind == "course":
        return NextStep(
            text="Choose a course session",
            path=reverse("courses:calendar") + "?" + urlencode({"program": program.code}),
            lead=f"Next: {current.title}.",
        )
    return NextStep(text=f"Next: {current.title}", path=qualification)
