"""What core plugs into the lower apps' registries: the next step after a paid order and after
finishing a course (core.next_steps decides; the lower apps only show it)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.urls import reverse
from django.utils import timezone

from stormcert.core.next_steps import next_step_in, training_course
from stormcert.enrollments.services import CONSEQUENCE, REGISTRATION
from stormcert.lib.links import NextStep
from stormcert.payments.fulfilment import register_next_step
from stormcert.renewals.services import PURPOSE as RENEWAL
from stormcert.trainers.applications import SOQ
from stormcert.trainers.yearly import TERM_FEE
from stormcert.training.hooks import register_after_completion
from stormcert.training.models import CourseKind


@register_next_step(REGISTRATION)
def _after_registration(line: Any) -> NextStep | None:
    # Asked when the payment is confirmed, before the line is fulfilled: what it opens is known.
    course = training_course(line.program)
    if course is None:
        return next_step_in(line.order.user, line.program, timezone.now())
    return NextStep(
        text=f"Start {course.title}",
        path=reverse("training:course", args=[course.code]),
        lead=f"Your registration is paid: {course.title} is open.",
    )


@register_next_step(CONSEQUENCE)
def _after_consequence(line: Any) -> NextStep | None:
    return NextStep(
        text=f"Continue your {line.program.short_name} steps",
        path=reverse("enrollments:qualification", args=[line.program.code]),
    )


@register_next_step(RENEWAL)
def _after_renewal(line: Any) -> NextStep | None:
    return NextStep(
        text="Your renewed certificate: PDF, digital credential and directory entry",
        path=reverse("certificates:mine"),
        lead="Your renewal is paid; your renewed certificate is issued.",
    )


@register_next_step(SOQ)
def _after_soq(line: Any) -> NextStep | None:
    return NextStep(text="Your application", path=reverse("trainers:application", args=[line.program.code]))


@register_next_step(TERM_FEE)
def _after_term_fee(line: Any) -> NextStep | None:
    return NextStep(
        text=f"Your {line.program.short_name} page", path=reverse("trainers:home", args=[line.program.code])
    )


def _after_training(user: Any, course: Any, now: datetime) -> NextStep | None:
    return next_step_in(user, course.program, now)


def _after_review(user: Any, course: Any, now: datetime) -> NextStep | None:
    return NextStep(
        text=f"Renew your {course.program.short_name} certificate",
        path=reverse("renewals:renewal"),
        lead="The review is done: you can renew.",
    )


register_after_completion(CourseKind.TRAINING, _after_training)
register_after_completion(CourseKind.REVIEW, _after_review)
