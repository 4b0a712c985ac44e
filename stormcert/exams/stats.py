"""Item statistics for staff: how often each question was shown, how hard it is (facility) and
how well it separates strong from weak candidates (discrimination, point-biserial)."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

from django.utils.safestring import SafeString

from stormcert.exams.models import Answer, Attempt, AttemptStatus, Exam


@dataclass
class ItemStat:
    question_id: int
    text: SafeString  # rendered as on the exam page (Question.rendered_text)
    topic: str
    shown: int
    facility: float | None
    discrimination: float | None


@dataclass
class ExamStats:
    attempts: int
    passed: int
    histogram: list[tuple[str, int]]
    items: list[ItemStat]

    @property
    def pass_rate(self) -> float | None:
        return self.passed / self.attempts if self.attempts else None


def exam_stats(exam: Exam) -> ExamStats:
    graded = Attempt.objects.filter(exam=exam).exclude(status=AttemptStatus.IN_PROGRESS)
    scores = {a.pk: float(a.score_percent or 0) for a in graded.only("pk", "score_percent")}
    passed = graded.filter(passed=True).count()
    bins = [0] * 10
    for score in scores.values():
        bins[min(int(score // 10), 9)] += 1
    histogram = [(f"{i * 10}–{i * 10 + 9 if i < 9 else 100}%", n) for i, n in enumerate(bins)]
    per_item: dict[int, list[tuple[int, float]]] = defaultdict(list)
    meta: dict[int, tuple[SafeString, str]] = {}
    rows = Answer.objects.filter(attempt_id__in=list(scores)).select_related("item__question")
    for answer in rows:
        question = answer.item.question
        if question.pk not in meta:
            meta[question.pk] = (question.rendered_text(), question.topic)
        right = int(answer.is_correct())
        per_item[question.pk].append((right, scores[answer.attempt_id]))
    items = [
        ItemStat(pk, meta[pk][0], meta[pk][1], len(pairs), _facility(pairs), _point_biserial(pairs))
        for pk, pairs in per_item.items()
    ]
    items.sort(key=lambda i: i.discrimination if i.discrimination is not None else 2.0)
    return ExamStats(len(scores), passed, histogram, items)


def _facility(pairs: list[tuple[int, float]]) -> float | None:
    return sum(r for r, _ in pairs) / len(pairs) if pairs else None


def _point_biserial(pairs: list[tuple[int, float]]) -> float | None:
    n = len(pairs)
    if n < 2:
        return None
    mean = sum(s for _, s in pairs) / n
    sd = math.sqrt(sum((s - mean) ** 2 for _, s in pairs) / n)
    p = sum(r for r, _ in pairs) / n
    if sd == 0 or p in (0, 1):
        return None
    mean_right = sum(s for r, s in pairs if r) / (p * n)
    return (mean_right - mean) / sd * math.sqrt(p / (1 - p))
