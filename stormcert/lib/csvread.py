"""Reading an uploaded CSV file row by row, with a message a person can act on when it breaks.

csv.reader raises `_csv.Error` (a cell over the module's field limit of 131,072 characters,
usually a quote left open; or a malformed quote): uncaught, that was a 500 on every upload that
reads CSV. A NUL character, which PostgreSQL cannot store, is refused the same way. Every CSV reader of the project goes through `csv_rows`, which turns it into
CsvLineError naming the line the broken row starts on.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator


class CsvLineError(ValueError):
    """A row the csv module cannot read; `line` is where that row starts in the file."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"Line {line:,}: {reason}")
        self.line, self.reason = line, reason


def _reason(error: csv.Error) -> str:
    text = str(error)
    if "field larger than field limit" in text:
        return (
            f"a cell is longer than {csv.field_size_limit():,} characters, so the file cannot be read "
            'from here on. Often a quote (") opened in a cell is never closed; check this line.'
        )
    return f"this row is not valid CSV ({text})."


def csv_rows(text: str) -> Iterator[tuple[int, list[str]]]:
    """(line the row starts on, cells) for every row of `text`, including the first."""
    reader = csv.reader(io.StringIO(text))
    while True:
        start = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise CsvLineError(start, _reason(exc)) from None
        if any("\x00" in cell for cell in cells):
            # Python's csv reads NUL, but PostgreSQL cannot store it in text: refuse it here.
            raise CsvLineError(start, "this row holds a NUL character; save the file as CSV text.")
        yield start, cells
