"""What this app plugs into: payment fulfilments and the training app's hooks."""

from datetime import datetime

from stormcert.accounts.merge import MergeError, on_merge
from stormcert.accounts.models import User
from stormcert.enrollments import services
from stormcert.enrollments.models import Enrollment
from stormcert.payments.fulfilment import register
from stormcert.training.hooks import on_complete, register_access, register_rules
from stormcert.training.models import CourseKind, LessonActivity, LessonProgress

register(services.REGISTRATION)(services.fulfil_registration)
register(services.CONSEQUENCE)(services.fulfil_resolution)
register_access(CourseKind.TRAINING, services.training_access)
on_complete(CourseKind.TRAINING, services.training_completed)
register_rules(CourseKind.TRAINING, services.training_rules)


@on_merge
def settle_enrollments(source: User, target: User, now: datetime) -> dict[str, int]:
    """One enrollment per person and program: when both accounts have one, an untouched one
    (never registered, no records) gives way; two with progress are for staff to settle."""
    dropped = 0
    theirs = {e.program_id: e for e in Enrollment.objects.filter(user=source).select_related("program")}
    for mine in Enrollment.objects.filter(user=target, program_id__in=theirs):
        other = theirs[mine.program_id]
        if _untouched(other):
            other.delete()
        elif _untouched(mine):
            mine.delete()
        else:
            raise MergeError(
                f"Both accounts have progress in {other.program}: settle which enrollment stands "
                "(void the other's records) before merging."
            )
        dropped += 1
    return {"empty enrollments dropped": dropped} if dropped else {}


def _untouched(enrollment: Enrollment) -> bool:
    return (
        enrollment.window_start is None
        and enrollment.completed_at is None
        and not enrollment.records.exists()
        and not enrollment.attempts.exists()
        and not enrollment.certificates.exists()
    )


@on_merge
def settle_lesson_progress(source: User, target: User, now: datetime) -> dict[str, int]:
    """A lesson both accounts finished counts once: the merged-away copy is voided, not lost."""
    done = LessonProgress.objects.filter(user=target, voided_at__isnull=True).values("lesson_id")
    n = LessonProgress.objects.filter(user=source, voided_at__isnull=True, lesson_id__in=done).update(
        voided_at=now
    )
    # Study evidence of a lesson both accounts opened: the target's stands, the other is voided.
    seen = LessonActivity.objects.filter(user=target, voided_at__isnull=True).values("lesson_id")
    LessonActivity.objects.filter(user=source, voided_at__isnull=True, lesson_id__in=seen).update(
        voided_at=now
    )
    return {"duplicate lesson completions voided": n} if n else {}
