"""The one way stormcert writes CSV: cells nobody can turn into a spreadsheet formula.

Names, companies, cities, emails and imported values are typed by people, and the files go to
employers, regulators and staff who open them in Excel, LibreOffice or Google Sheets. A cell that
starts with `=`, `+`, `-` or `@` (or a tab or carriage return, which some of them skip before
looking) runs as a formula there: `=HYPERLINK("http://x","y")` becomes a link that sends the
sheet's data away, `@SUM(A1)` a calculation. Following OWASP's advice, such a cell gets a
leading single quote, which every spreadsheet shows as text (the quote itself stays visible in a
text editor; that is the price of a file that is safe everywhere). We also neutralise a cell that
reaches one of those characters after leading spaces, a line feed, and the full-width forms
(`＝` `＋` `－` `＠`) that some East Asian spreadsheet versions also treat as formulas.

**Text is always neutralised, numbers never are.** A value the program computed as a number
(`int`, `float`, `Decimal`: a refund of -5.00, a count) is written as it is and stays a number
in the spreadsheet. Every `str` is treated as typed text, even "-5": so a figure must be passed
as a number, not as preformatted text, to stay numeric. Dates are written by `str()` (ISO, always
starting with a digit).

`tests/test_csv_writers.py` fails if a CSV writer appears in stormcert anywhere but here.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any, Protocol

TRIGGERS = frozenset("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20")


class _Writable(Protocol):
    def write(self, s: str, /) -> Any: ...


def safe_cell(value: object) -> object:
    """The value as it may go into a cell: text that a spreadsheet would run gets a quote."""
    if isinstance(value, bool | int | float | Decimal) or value is None:
        return value
    text = value if isinstance(value, str) else str(value)
    if text.lstrip(" ")[:1] in TRIGGERS:
        return "'" + text
    return text


class SafeWriter:
    """csv.writer with every cell passed through `safe_cell`. `writerow` returns what the file's
    `write` returned, so a streamed response can yield each line (see `Echo`)."""

    def __init__(self, file: _Writable, **options: Any) -> None:
        self._writer = csv.writer(file, **options)

    def writerow(self, row: Iterable[object]) -> Any:
        return self._writer.writerow([safe_cell(v) for v in row])

    def writerows(self, rows: Iterable[Iterable[object]]) -> None:
        for row in rows:
            self.writerow(row)


class SafeDictWriter:
    """csv.DictWriter with every cell passed through `safe_cell` (the header row too)."""

    def __init__(self, file: _Writable, fieldnames: Sequence[str], **options: Any) -> None:
        self.fieldnames = list(fieldnames)
        self._writer = SafeWriter(file, **options)

    def writeheader(self) -> Any:
        return self._writer.writerow(self.fieldnames)

    def writerow(self, row: Mapping[str, object]) -> Any:
        unknown = set(row) - set(self.fieldnames)
        if unknown:
            raise ValueError(f"fields not in fieldnames: {', '.join(sorted(unknown))}")
        return self._writer.writerow([row.get(name, "") for name in self.fieldnames])


class Echo:
    """A file whose write() returns the text: with a writer above, each writerow() gives the
    line to yield from a StreamingHttpResponse (nothing is kept in memory)."""

    def write(self, value: str) -> str:
        return value


def writer(file: _Writable, **options: Any) -> SafeWriter:
    return SafeWriter(file, **options)


def dict_writer(file: _Writable, fieldnames: Sequence[str], **options: Any) -> SafeDictWriter:
    return SafeDictWriter(file, fieldnames, **options)
