"""A certificate draws any real name: long ones fitted to the space, every script in the right
letters and order. The PDF is read back (pypdfium2) for the text and the position of every
character; the pages are also rendered to test-artifacts/pdf-names/ for a person to look at."""

from __future__ import annotations

import itertools
import logging
import unicodedata
from pathlib import Path

import pypdfium2
import pytest

from stormcert.accounts.models import User
from stormcert.certificates.models import Certificate
from stormcert.certificates.pdf import MARGIN, certificate_pdf
from stormcert.lib import fonts
from tests.certificates.builders import certify

pytestmark = pytest.mark.django_db

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "pdf-names"
MM = 72 / 25.4  # PDF points per millimetre

NAMES = {
    "latin-72": "María de los Ángeles Guadalupe Núñez-Szczepańska Øvergård Łukasiewicz-Öz",
    "latin-91": "María de los Ángeles Guadalupe Núñez-Szczepańska Øvergård Łukasiewicz-Öz y Fernández-Ibáñez",
    "vietnamese": "Nguyễn Thị Ngọc Phụng Lệ",
    "greek": "Αικατερίνη Παπαδοπούλου-Χατζηγεωργίου",
    "cyrillic": "Александра Владимировна Жуковская-Щербакова",
    "chinese": "欧阳建国",
    "japanese": "山田 花子 やまだ はなこ",
    "korean": "김민준",
    "arabic": "محمد بن عبد الله الهاشمي",
    "hebrew": "שרה בת אברהם כהן",
    # The longest the profile allows: 150 + 150 characters.
    "longest": " ".join(["Wolfeschlegelsteinhausenbergerdorff"] * 5)[:150]
    + " "
    + " ".join(["Ōtsuka-Brontë"] * 11)[:150],
}
assert len(NAMES["latin-72"]) == 72 and len(NAMES["longest"]) == 301


def render(certificate: Certificate, name: str) -> bytes:
    Certificate.objects.filter(pk=certificate.pk).update(holder_name=name)
    certificate.refresh_from_db()
    return certificate_pdf(certificate)


def words(text: str) -> list[str]:
    """Compatibility-normalised words: a shaped PDF may give back presentation forms."""
    return unicodedata.normalize("NFKC", text).split()


def line_count(middles: list[float]) -> int:
    """Lines of text, from the vertical middles of their characters (a line of the name is over
    12 pt from the next; letters on one line differ by a few points at most)."""
    ordered = sorted(middles)
    return 1 + sum(1 for a, b in itertools.pairwise(ordered) if b - a > 6)


@pytest.fixture
def certificate(alice: User, programs: None) -> Certificate:
    return certify(alice)


@pytest.mark.parametrize("key", list(NAMES))
def test_the_name_is_drawn_whole_in_order_and_inside_the_printable_area(
    certificate: Certificate, key: str, caplog: pytest.LogCaptureFixture
) -> None:
    name = NAMES[key]
    with caplog.at_level(logging.WARNING):
        pdf = render(certificate, name)
    # fpdf2 warns (and leaves a gap) for a character no font had; the PDF code warns before "?".
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text

    page = pypdfium2.PdfDocument(pdf)[0]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)  # kept for a person to look at, pass or fail
    page.render(scale=1.5).to_pil().save(ARTIFACTS / f"{key}.png")
    (ARTIFACTS / f"{key}.pdf").write_bytes(pdf)
    textpage = page.get_textpage()
    text = textpage.get_text_range()
    start = text.index("This certifies that") + len("This certifies that")
    drawn = text[start : text.index("has satisfied")]
    # Every letter, in reading order: for Arabic and Hebrew the logical order (first word first),
    # which a PDF drawn as reversed, unjoined letters does not give back.
    assert words(drawn) == words(name)

    # Nothing on the page, the name above all, runs past the margins of the printable area.
    width, height = page.get_size()
    middles: list[float] = []
    name_chars = 0
    for index in range(textpage.count_chars()):
        char = textpage.get_text_range(index, 1)
        if not char.strip():
            continue
        left, bottom, right, top = textpage.get_charbox(index)
        inside = MARGIN * MM - 1  # the margin, less a point for rounding
        assert inside <= left and right <= width - inside, (char, left, right)
        assert inside <= bottom and top <= height - inside, (char, bottom, top)
        if start <= index < start + len(drawn):
            name_chars += 1
            middles.append((bottom + top) / 2)
    assert name_chars >= len(name.replace(" ", "")) * 0.9  # a joined script may merge a few
    lines = line_count(middles)
    # Smaller type first (72 characters still fit on one line), then two lines; the longest name
    # the profile allows takes three at the smallest type rather than losing any of it.
    assert lines == {"latin-91": 2, "longest": 3}.get(key, 1)


def test_a_short_name_keeps_the_large_type_and_a_longer_one_gets_smaller(certificate: Certificate) -> None:
    def name_height(name: str) -> float:
        textpage = pypdfium2.PdfDocument(render(certificate, name))[0].get_textpage()
        text = textpage.get_text_range()
        index = text.index(name[0], text.index("This certifies that") + 20)
        _, bottom, _, top = textpage.get_charbox(index)
        return top - bottom

    short, longer = (
        name_height("Alice Alvarez"),
        name_height("Alexandrina Wilhelmina Bartholomew-Featherstonehaugh"),
    )
    assert longer < short * 0.9


def test_a_character_no_font_has_is_marked_not_dropped(
    certificate: Certificate, caplog: pytest.LogCaptureFixture
) -> None:
    # A private-use character: names that predate the profile check (legacy imports) can have one.
    with caplog.at_level(logging.WARNING, logger="stormcert.lib.pdf"):
        pdf = render(certificate, "Ana\ue000 Lima")
    assert "Ana? Lima" in pypdfium2.PdfDocument(pdf)[0].get_textpage().get_text_range()
    assert "U+E000" in caplog.text


def test_what_can_be_printed_is_answered_by_the_fonts() -> None:
    for name in NAMES.values():
        assert fonts.unprintable(name) == []
    assert fonts.unprintable("Ana\ue000 \U00010000\u0007 Ana\ue000") == ["\ue000", "\U00010000", "\u0007"]
    assert "U+10000" in fonts.describe(["\U00010000"])


def test_without_a_font_package_its_script_is_reported_unprintable(
    certificate: Certificate, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # A machine missing a font package degrades visibly: the form refuses the script, the PDF
    # marks it, instead of a certificate with a hole in the name.
    monkeypatch.setattr(fonts, "installed_faces", lambda: (fonts.LATIN,))
    assert fonts.unprintable("Li 李") == ["李"]
    with caplog.at_level(logging.WARNING, logger="stormcert.lib.pdf"):
        pdf = render(certificate, "Li 李")
    assert "Li ?" in pypdfium2.PdfDocument(pdf)[0].get_textpage().get_text_range()
