from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from stormcert.accounts.requests import AuthedRequest
from stormcert.lib.http import BadJSON, bounded_int, json_body
from stormcert.lib.uploads import pdf_response
from stormcert.training.hooks import access_denied_reason, after_completion
from stormcert.training.models import Course, Lesson, QuizAttempt
from stormcert.training.services import (
    TrainingError,
    complete_lesson,
    course_progress,
    has_questions,
    lesson_status,
    open_lesson,
    record_activity,
    record_document_opened,
    study_rules,
    submit_quiz,
    watched_percent,
)

# Largest video timeline a report may name, in 5-second buckets (a 24-hour video).
MAX_BUCKET = 24 * 3600 // 5


def _course_for(request: HttpRequest, code: str) -> Course | HttpResponse:
    course = get_object_or_404(Course.objects.select_related("program"), code=code)
    reason = access_denied_reason(request.user, course, timezone.now())
    if reason:
        messages.warning(request, reason)
        return redirect("enrollments:qualification", course.program.code)
    return course


def _lesson(course: Course, lesson_id: int) -> Lesson:
    return get_object_or_404(Lesson.objects.select_related("unit__course"), pk=lesson_id, unit__course=course)


@login_required
def course(request: HttpRequest, code: str) -> HttpResponse:
    found = _course_for(request, code)
    if isinstance(found, HttpResponse):
        return found
    progress = course_progress(request.user, found)
    after = after_completion(request.user, found, timezone.now()) if progress.complete else None
    return render(request, "training/course.html", {"course": found, "progress": progress, "after": after})


@login_required
def lesson(request: AuthedRequest, code: str, lesson_id: int) -> HttpResponse:
    found = _course_for(request, code)
    if isinstance(found, HttpResponse):
        return found
    current = _lesson(found, lesson_id)
    # Showing the page starts (or continues) the server's record of study on it.
    activity = open_lesson(user=request.user, lesson=current)
    rules = study_rules(request.user, found, timezone.now())
    return render(
        request,
        "training/lesson.html",
        {
            **_lesson_context(request.user, found, current),
            "status": lesson_status(request.user, current, rules=rules, activity=activity),
            "activity": activity,
            "watched": watched_percent(current, activity),
            "rules": rules,
        },
    )


def _lesson_context(user: Any, found: Course, current: Lesson) -> dict[str, Any]:
    progress = course_progress(user, found)
    ordered = [lesson for unit in progress.units for lesson, _ in unit.lessons]
    done = {lesson.pk for unit in progress.units for lesson, is_done in unit.lessons if is_done}
    index = ordered.index(current)
    answered = has_questions(current)
    return {
        "course": found,
        "lesson": current,
        "progress": progress,
        "is_done": current.pk in done,
        "answered": answered,
        "previous": ordered[index - 1] if index > 0 else None,
        "next": ordered[index + 1] if index + 1 < len(ordered) else None,
        "last_quiz": QuizAttempt.objects.filter(user=user, lesson=current).first() if answered else None,
        # Finished: what is now open (an exam, say), shown where the last lesson was completed.
        "after": after_completion(user, found, timezone.now()) if progress.complete else None,
    }


@login_required
@require_POST
def report(request: HttpRequest, code: str, lesson_id: int) -> JsonResponse:
    """The lesson page's progress reports (training.js): small JSON in, the rule's state out.

    {"buckets": [0, 1, 2], "duration": 312, "scrolled_to_end": false}: 5-second stretches of the
    video played in normal playback since the last report, the player's length, whether the end
    of the page was reached. The server measures time itself and credits stretches at real pace."""
    course = get_object_or_404(Course.objects.select_related("program"), code=code)
    reason = access_denied_reason(request.user, course, timezone.now())
    if reason:
        return JsonResponse({"error": reason}, status=403)
    current = _lesson(course, lesson_id)
    try:
        payload = json_body(request)
        if not isinstance(payload, dict):
            raise BadJSON("Send a JSON object.")
        raw = payload.get("buckets") or []
        if not isinstance(raw, list) or len(raw) > MAX_BUCKET:
            raise BadJSON("buckets must be a list of whole numbers.")
        buckets = [bounded_int(b, name="bucket", low=0, high=MAX_BUCKET) for b in raw]
        duration = payload.get("duration")
        seconds = (
            None
            if duration in (None, 0)
            else bounded_int(
                round(duration) if isinstance(duration, float) else duration,
                name="duration",
                low=0,
                high=24 * 3600,
            )
        )
        result = record_activity(
            user=request.user,
            lesson=current,
            buckets=buckets,
            duration=seconds,
            scrolled_to_end=payload.get("scrolled_to_end") is True,
        )
    except BadJSON as exc:
        return JsonResponse(
            {"error": f"{exc} Send JSON with buckets, duration and scrolled_to_end."}, status=400
        )
    except TrainingError as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    return JsonResponse(
        {
            **result.status.as_json(),
            "done": result.done,
            "watched": result.watched,
            "seconds_spent": result.seconds_spent,
        }
    )


@login_required
@require_POST
def complete(request: HttpRequest, code: str, lesson_id: int) -> HttpResponse:
    found = _course_for(request, code)
    if isinstance(found, HttpResponse):
        return found
    current = _lesson(found, lesson_id)
    if has_questions(current):
        return quiz(request, found, current)
    try:
        # The click is itself a sign of study (time since the last report counts, capped).
        record_activity(user=request.user, lesson=current, auto_complete=False)
        complete_lesson(user=request.user, lesson=current)
    except TrainingError as exc:
        messages.error(request, str(exc))
        return redirect("training:lesson", code=code, lesson_id=lesson_id)
    return _after_completion(request, found, current)


def quiz(request: HttpRequest, found: Course, current: Lesson) -> HttpResponse:
    answers = {k.removeprefix("q"): request.POST.get(k, "") for k in request.POST if k.startswith("q")}
    try:
        result = submit_quiz(user=request.user, lesson=current, answers=answers)
    except TrainingError as exc:
        messages.error(request, str(exc))
        return render(
            request,
            "training/lesson.html",
            {**_lesson_context(request.user, found, current), "answers": answers, "is_done": False},
            status=400,
        )
    context = _lesson_context(request.user, found, current)
    return render(
        request,
        "training/lesson.html",
        {**context, "result": result, "is_done": True, "next": context["progress"].next_lesson},
    )


def _after_completion(request: HttpRequest, found: Course, current: Lesson) -> HttpResponse:
    progress = course_progress(request.user, found)
    if progress.complete:
        step = after_completion(request.user, found, timezone.now())
        if step is None:
            messages.success(request, f"You finished {found.title}. Well done!")
            return redirect("enrollments:qualification", found.program.code)
        # The message names what is now open and links to it (an exam after the training).
        messages.success(
            request,
            format_html(
                'You finished {}. {} <a href="{}">{}</a>.', found.title, step.lead, step.path, step.text
            ),
        )
        return redirect("enrollments:qualification", found.program.code)
    nxt = progress.next_lesson
    messages.success(request, f"“{current.title}” is complete.")
    if nxt is None:
        return redirect("training:course", code=found.code)
    return redirect("training:lesson", code=found.code, lesson_id=nxt.pk)


@login_required
def lesson_file(request: HttpRequest, code: str, lesson_id: int) -> FileResponse:
    found = _course_for(request, code)
    if isinstance(found, HttpResponse):
        raise Http404("No access to this course.")
    current = _lesson(found, lesson_id)
    if not current.file:
        raise Http404("No document.")
    # Serving the file is what a document lesson's rule (training.document_must_open) asks for.
    record_document_opened(user=request.user, lesson=current)
    # Served like candidates' uploads (sandboxed, no sniffing): staff upload these in the admin.
    return pdf_response(current.file, current.file.name.rsplit("/", 1)[-1])
