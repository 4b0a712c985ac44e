"""The exam page's questions and its summary grid, as HTML built in Python.

Why not the template: on exam day every candidate opens this page at the same moment, and the
template engine spent about 0.3 ms per question on it (some 60 nodes each, every number through
localisation): 25 ms of a 70-question page, more than the start itself. Built here it is a few
string joins. The markup is the template's as it was (the browser tests, axe and exam.js read it);
every text that is not already safe HTML is escaped here, and the question text is the
sanitised `Question.rendered_text()`.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import TypedDict

from django.utils.safestring import SafeString, mark_safe


class PaperItem(TypedDict):
    position: int
    text: SafeString  # sanitised or escaped already (Question.rendered_text)
    choices: list[str]  # plain texts, in the order shown
    chosen: int | None  # the shown index of the saved choice
    flagged: bool
    seq: int


def _checked(on: bool) -> str:
    return " checked" if on else ""


def question_fieldsets(items: Sequence[PaperItem], total: int) -> SafeString:
    """One fieldset per item. The text may be HTML with paragraphs, lists or a table, which a
    legend cannot hold: the group is named by both its number and its text."""
    out: list[str] = []
    for item in items:
        p = int(item["position"])
        out.append(
            f'<fieldset class="exam-question" id="q{p}" data-position="{p}" data-seq="{int(item["seq"])}"'
            f' aria-labelledby="q{p}-number q{p}-text">'
            f'<legend id="q{p}-number"><span class="q-number">Question {p} of {int(total)}</span></legend>'
            f'<div class="q-text" id="q{p}-text">{item["text"]}</div>'
        )
        chosen = item["chosen"]
        for i, choice in enumerate(item["choices"]):
            out.append(
                f'<div class="choice"><input type="radio" name="q{p}" id="q{p}-{i}" value="{i}"'
                f'{_checked(chosen == i)}><label for="q{p}-{i}">{escape(choice)}</label></div>'
            )
        out.append(
            f'<div class="choice flag"><input type="checkbox" id="flag{p}" data-flag{_checked(item["flagged"])}>'
            f'<label for="flag{p}">Flag for review</label></div></fieldset>\n'
        )
    return mark_safe("".join(out))  # noqa: S308 - every text above is escaped or sanitised


def question_grid(items: Sequence[PaperItem], *, one_per_page: bool) -> SafeString:
    """The summary's links to every question, with what a screen reader needs to hear."""
    out: list[str] = []
    for item in items:
        p = int(item["position"])
        answered = item["chosen"] is not None
        flagged = bool(item["flagged"])
        href = f"?q={p}" if one_per_page else f"#q{p}"
        classes = " ".join(name for name, on in (("answered", answered), ("flagged", flagged)) if on)
        label = f"Question {p}, {'answered' if answered else 'not answered'}{', flagged' if flagged else ''}"
        out.append(f'<li><a href="{href}" id="nav{p}" class="{classes}" aria-label="{label}">{p}</a></li>')
    return mark_safe("".join(out))  # noqa: S308 - numbers and fixed words only
