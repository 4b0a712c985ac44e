"""Reading a question file: which format it is in, its text as UTF-8, and the format's reader
(stormcert/exams/banks/: gift.py, aiken.py, moodle.py). Nothing here writes to the database:
`stormcert.exams.banks.services` turns a reading into a preview and then into questions."""

from __future__ import annotations

import re

from stormcert.exams.banks.aiken import parse_aiken
from stormcert.exams.banks.common import ANSWER_LINE, DEFAULT_TOPIC, MAX_BYTES, Parsed, ParseReport
from stormcert.exams.banks.gift import parse_gift
from stormcert.exams.banks.moodle import not_utf8, parse_moodle_xml

FORMATS = {
    "detect": "Work it out from the file",
    "gift": "GIFT",
    "aiken": "Aiken",
    "moodle_xml": "Moodle XML",
}
FORMAT_LABELS = {k: v for k, v in FORMATS.items() if k != "detect"}
EXTENSIONS = (".gift", ".txt", ".aiken", ".xml")
# An answer block with = or ~ in it: GIFT, even when a question's text has "ANSWER:" in it.
_GIFT_BLOCK = re.compile(r"(?<!\\)\{[^}]*(?<!\\)[=~]")

__all__ = [
    "FORMATS",
    "ParseReport",
    "Parsed",
    "detect_format",
    "parse_aiken",
    "parse_file",
    "parse_gift",
    "parse_moodle_xml",
]


def detect_format(name: str, content: bytes) -> str:
    """moodle_xml, gift or aiken; "" when neither the name nor the content says."""
    lower = name.lower()
    head = content.lstrip(b"\xef\xbb\xbf \t\r\n")[:100]
    if lower.endswith(".xml") or head.startswith((b"<?xml", b"<quiz")):
        return "moodle_xml"
    if not lower.endswith(EXTENSIONS):
        return ""
    text = content.decode("utf-8-sig", errors="replace")
    if lower.endswith(".aiken") or (ANSWER_LINE.search(text) and not _GIFT_BLOCK.search(text)):
        return "aiken"
    return "gift"


def parse_file(
    name: str, content: bytes, file_format: str = "detect", default_topic: str = DEFAULT_TOPIC
) -> ParseReport:
    if len(content) > MAX_BYTES:
        return ParseReport(rejected=[("file", "the file is larger than 5 MB; split it into smaller files")])
    if file_format == "detect":
        file_format = detect_format(name, content)
        if not file_format:
            return ParseReport(
                rejected=[
                    (
                        "file",
                        "choose a .gift or .txt (GIFT or Aiken) or .xml (Moodle XML) file, or say which format it is in",
                    )
                ]
            )
    if file_format == "moodle_xml":
        report = parse_moodle_xml(content, default_topic)
    elif file_format in ("gift", "aiken"):
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            return ParseReport(file_format=file_format, rejected=[("file", not_utf8(exc))])
        report = (
            parse_gift(text, default_topic) if file_format == "gift" else parse_aiken(text, default_topic)
        )
    else:
        return ParseReport(rejected=[("file", f"unknown format “{file_format}”")])
    if not report.questions and not report.rejected:
        report.rejected.append(("file", "the file has no questions"))
    return report
