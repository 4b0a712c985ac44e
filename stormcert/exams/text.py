"""A question's text as HTML, the same on every page that shows it (the exam, the admin, item
statistics, the import preview): imported HTML and Markdown reach a browser only through nh3."""

from __future__ import annotations

import functools

import markdown as md  # type: ignore[import-untyped,unused-ignore]
import nh3
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# What a question needs: emphasis, formulas' sub/superscripts, lists, code and small tables.
# No links or images: a question must not send the candidate anywhere or load anything.
QUESTION_TAGS = {
    "p",
    "b",
    "strong",
    "i",
    "em",
    "u",
    "sub",
    "sup",
    "br",
    "ul",
    "ol",
    "li",
    "code",
    "pre",
    "table",
    "caption",
    "thead",
    "tbody",
    "tfoot",
    "tr",
    "th",
    "td",
}
QUESTION_ATTRIBUTES = {"th": {"scope", "colspan", "rowspan"}, "td": {"colspan", "rowspan"}}


def sanitize_html(html: str) -> str:
    """Only the tags above survive; scripts and styles go with their content, other tags leave
    their text. Entities stay entities: `&lt;` is decoded by the browser, once."""
    return nh3.clean(
        html or "", tags=QUESTION_TAGS, attributes=QUESTION_ATTRIBUTES, url_schemes=set()
    ).strip()


def markdown_to_html(text: str) -> str:
    return sanitize_html(md.markdown(text or "", extensions=["tables", "sane_lists"], output_format="html"))


# A pure function of its two arguments, so a memo cannot go stale: an edited question is new text.
# Bounded, per process: the exam page shows 70 questions to each of a thousand candidates at once,
# drawn from a few hundred, and sanitising each one per view cost more than the rest of the page.
@functools.lru_cache(maxsize=4096)
def render_question_text(text: str, text_format: str) -> SafeString:
    if text_format == "html":
        return mark_safe(sanitize_html(text))  # noqa: S308 - sanitised
    if text_format == "markdown":
        return mark_safe(markdown_to_html(text))  # noqa: S308 - sanitised
    # Plain text as it always was: escaped; a line break (GIFT's \n) shows as one.
    return mark_safe(escape(text).replace("\n", "<br>"))  # noqa: S308 - escaped


def html_to_plain(html: str) -> str:
    """The text of an HTML fragment, entities decoded exactly once, whitespace collapsed."""
    import html as html_lib

    text = nh3.clean(html or "", tags=set())
    return " ".join(html_lib.unescape(text).split())
