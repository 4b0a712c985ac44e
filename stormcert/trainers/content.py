"""Program content a Trainer of Record (or a selected candidate) completes: the ToR course
information, the orientation, the yearly renewal meeting. Staff publish each as a
`TrainerContent` row (a page, a document, or a meeting with its date and link); completing the
item in force is recorded against it (`ContentCompletion`) and also marks the step it stands
for, on the application (orientation, course information) or the term's renewal (meeting), so
approval and renewal read the same stamps as before content existed.

How an item is completed: a page or document by opening it; a meeting by the person confirming
they attended, once its time has passed, or by staff marking their attendance (audited).
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from stormcert.accounts.models import User
from stormcert.audit.services import record
from stormcert.lib.db import claim_row
from stormcert.programs.models import Program
from stormcert.programs.rules import program_today
from stormcert.trainers import yearly
from stormcert.trainers.applications import acknowledge_course_info, record_orientation, selected_application
from stormcert.trainers.models import (
    CompletionHow,
    ContentCompletion,
    ContentKind,
    TrainerContent,
    TrainerTerm,
)
from stormcert.trainers.services import TrainerError


def content_in_force(program: Program, kind: str, now: datetime) -> TrainerContent | None:
    """The item of `kind` ToRs complete today: the latest effective on or before today."""
    return (
        TrainerContent.objects.filter(
            program=program, kind=kind, effective_from__lte=program_today(program, now)
        )
        .order_by("-effective_from")
        .first()
    )


def content_by_kind(program: Program, now: datetime) -> dict[str, TrainerContent]:
    """Every kind's item in force, by kind (for the ToR page)."""
    found = {}
    for kind in ContentKind.values:
        item = content_in_force(program, kind, now)
        if item is not None:
            found[kind] = item
    return found


def completion_of(user: User, content: TrainerContent) -> ContentCompletion | None:
    return ContentCompletion.objects.filter(content=content, user=user).first()


def may_open(user: User, content: TrainerContent) -> bool:
    """Selected candidates and (former) Trainers of Record of the program read its content."""
    program = content.program
    return (
        selected_application(user, program) is not None
        or TrainerTerm.objects.filter(user=user, program=program).exists()
    )


def meeting_has_taken_place(content: TrainerContent, now: datetime) -> bool:
    return content.meeting_at is not None and now >= content.meeting_at


def _complete(
    *,
    user: User,
    content: TrainerContent,
    how: str,
    now: datetime,
    actor: User | None = None,
    reason: str = "",
) -> bool:
    """Record the completion once (the unique row is the claim) and mark the step it stands
    for; True when this call recorded it."""
    with transaction.atomic():
        if not claim_row(
            ContentCompletion, content=content, user=user, how=how, completed_at=now, marked_by=actor
        ):
            return False
        record(
            actor=actor or user,
            verb="trainers.content_completed",
            obj=content,
            data={"user": user.email, "how": how, "kind": content.kind},
            reason=reason,
            now=now,
        )
        _mark_step(user=user, content=content, how=how, now=now)
    return True


def _mark_step(*, user: User, content: TrainerContent, how: str, now: datetime) -> None:
    program = content.program
    # The existing steps' own words: a meeting attended, a page or recording viewed.
    said = "viewed" if how == CompletionHow.READ else "attended"
    if content.kind == ContentKind.RENEWAL_MEETING:
        if yearly.term_renewal_status(user, program, now) is not None:
            yearly.record_meeting(user=user, program=program, how=said, now=now)
        return
    application = selected_application(user, program)
    if application is None or application.approved_at is not None:
        return  # a sitting ToR reading the course information: the completion row says it
    if content.kind == ContentKind.ORIENTATION:
        record_orientation(application=application, how=said, now=now)
    elif content.kind == ContentKind.COURSE_INFORMATION:
        acknowledge_course_info(application=application, now=now)


def open_content(*, user: User, content: TrainerContent, now: datetime | None = None) -> bool:
    """The person opened the item (its page or its document): a page or a document is then
    read; a meeting is not attended by opening its page."""
    now = now or timezone.now()
    if not may_open(user, content):
        raise TrainerError(
            f"This is for selected candidates and Trainers of Record of {content.program.short_name}."
        )
    if content.is_meeting:
        return False
    return _complete(user=user, content=content, how=CompletionHow.READ, now=now)


def confirm_attendance(*, user: User, content: TrainerContent, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    if not may_open(user, content):
        raise TrainerError(
            f"This is for selected candidates and Trainers of Record of {content.program.short_name}."
        )
    if content.meeting_at is None:
        raise TrainerError("This is not a meeting: opening it is enough.")
    if not meeting_has_taken_place(content, now):
        local = timezone.localtime(content.meeting_at, content.program.zone)
        raise TrainerError(
            f"Confirm your attendance after the meeting: it is on {local:%B %-d, %Y at %-I:%M %p %Z}."
        )
    return _complete(user=user, content=content, how=CompletionHow.ATTENDED, now=now)


def mark_attendance(
    *, user: User, content: TrainerContent, actor: User, reason: str, now: datetime | None = None
) -> bool:
    """Staff record that `user` attended (or completed) the item, with a reason."""
    now = now or timezone.now()
    if not reason.strip():
        raise TrainerError("Give a reason: attendance marked by staff is audited.")
    if not may_open(user, content):
        raise TrainerError(
            f"{user} is neither a selected candidate nor a Trainer of Record of {content.program.short_name}."
        )
    if not _complete(
        user=user, content=content, how=CompletionHow.STAFF, now=now, actor=actor, reason=reason
    ):
        raise TrainerError(f"{user} has already completed {content.title}.")
    return True
