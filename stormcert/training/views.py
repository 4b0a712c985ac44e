from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from stormcert.accounts.requests import AuthedRequest
from stormcert.lib.uploads import pdf_response
from stormcert.training.hooks import access_denied_reason
from stormcert.training.models import Course, Lesson, LessonKind, QuizAttempt
from stormcert.training.services import TrainingError, complete_lesson, course_progress, submit_quiz


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
    return render(
        request, "training/course.html", {"course": found, "progress": course_progress(request.user, found)}
    )


@login_required
def lesson(request: AuthedRequest, code: str, lesson_id: int) -> HttpResponse:
    found = _course_for(request, code)
    if isinstance(found, HttpResponse):
        return found
    current = _lesson(found, lesson_id)
    progress = course_progress(request.user, found)
    ordered = [lesson for unit in progress.units for lesson, _ in unit.lessons]
    done = {lesson.pk for unit in progress.units for lesson, is_done in unit.lessons if is_done}
    index = ordered.index(current)
    last_quiz = (
        QuizAttempt.objects.filter(user=request.user, lesson=current).first()
        if current.kind == LessonKind.QUIZ
        else None
    )
    return render(
        request,
        "training/lesson.html",
        {
            "course": found,
            "lesson": current,
            "progress": progress,
            "is_done": current.pk in done,
            "previous": ordered[index - 1] if index > 0 else None,
            "next": ordered[index + 1] if index + 1 < len(ordered) else None,
            "last_quiz": last_quiz,
        },
    )


@login_required
@require_POST
def complete(request: HttpRequest, code: str, lesson_id: int) -> HttpResponse:
    found = _course_for(request, code)
    if isinstance(found, HttpResponse):
        return found
    current = _lesson(found, lesson_id)
    if current.kind == LessonKind.QUIZ:
        return quiz(request, found, current)
    try:
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
        progress = course_progress(request.user, found)
        return render(
            request,
            "training/lesson.html",
            {"course": found, "lesson": current, "progress": progress, "answers": answers, "is_done": False},
            status=400,
        )
    progress = course_progress(request.user, found)
    return render(
        request,
        "training/lesson.html",
        {
            "course": found,
            "lesson": current,
            "progress": progress,
            "result": result,
            "is_done": True,
            "next": progress.next_lesson,
        },
    )


def _after_completion(request: HttpRequest, found: Course, current: Lesson) -> HttpResponse:
    progress = course_progress(request.user, found)
    if progress.complete:
        messages.success(request, f"You finished {found.title}. Well done!")
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
    # Served like candidates' uploads (sandboxed, no sniffing): staff upload these in the admin.
    return pdf_response(current.file, current.file.name.rsplit("/", 1)[-1])
