"""The sign-in sheet prints every registrant's name whole, in its script, inside its column."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pypdfium2
import pytest

from conftest import make_person
from stormcert.accounts.models import User
from stormcert.courses.models import Seat
from stormcert.courses.pdf import sign_in_sheet
from tests.courses.conftest import make_session

pytestmark = pytest.mark.django_db

MM = 72 / 25.4
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "pdf-names"
LONGEST = ("Wolfeschlegelsteinhausen " * 6)[:150], ("Bergerdorff-Ōtsuka " * 8)[:150]
NAMES = [
    ("María de los Ángeles Guadalupe", "Núñez-Szczepańska Øvergård Łukasiewicz-Öz"),
    ("花子", "山田"),
    ("محمد", "الهاشمي"),
    ("שרה", "כהן"),
    ("Αικατερίνη", "Παπαδοπούλου"),
]


def test_long_and_non_latin_names_are_printed_whole_inside_the_name_column(trainer: User) -> None:
    session = make_session(trainer)
    seats = [
        Seat(user=make_person(f"person{i}@example.com", first_name=first, last_name=last))
        for i, (first, last) in enumerate([LONGEST, *NAMES])
    ]
    page = pypdfium2.PdfDocument(sign_in_sheet(session, seats))[0]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)  # for a person to look at
    page.render(scale=1.5).to_pil().save(ARTIFACTS / "sign-in-sheet.png")
    textpage = page.get_textpage()
    # The name column runs from 18 + 10 mm to 18 + 72 mm: read it alone (a line mixing an Arabic
    # name with an email address comes back in visual order), and every name is there, whole.
    _, height = page.get_size()
    column = textpage.get_text_bounded(left=28 * MM, bottom=0, right=90 * MM, top=height)
    words = unicodedata.normalize("NFKC", column).split()
    everything = textpage.get_text_range()
    # The longest name the profile allows makes its row taller rather than run into the next one.
    long_bottom = min(
        textpage.get_charbox(index)[1]
        for index in range(everything.index("Wolfe"), everything.index("person0@"))
        if everything[index].strip()
    )
    assert textpage.get_charbox(everything.index(NAMES[0][0]))[3] < long_bottom - 3 * MM
    for first, last in NAMES:
        for word in f"{first} {last}".split():
            assert word in words, (word, words)
        # pdfium gives such a line back in visual order; what matters is what a reader sees: an
        # Arabic or Hebrew first name to the right of the family name, a Latin one to the left.
        first_x = textpage.get_charbox(everything.index(first))[0]
        last_x = textpage.get_charbox(everything.index(last))[0]
        right_to_left = unicodedata.bidirectional(first[0]) in ("R", "AL")
        assert (first_x > last_x) if right_to_left else (first_x <= last_x + 0.5)
        # Nothing of the name spills out of the column.
        for word in f"{first} {last}".split():
            at = everything.index(word)
            for index in range(at, at + len(word)):
                left, _, right, _ = textpage.get_charbox(index)
                assert left >= 28 * MM and right <= 90 * MM, (word, left / MM, right / MM)
