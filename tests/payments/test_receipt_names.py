"""A receipt prints the buyer's name whole, whatever its script and length, inside the page."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pypdfium2
import pytest

from conftest import make_person
from stormcert.payments.receipts import receipt_pdf
from tests.payments.conftest import make_order

pytestmark = pytest.mark.django_db

MM = 72 / 25.4
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "pdf-names"


@pytest.mark.parametrize(
    ("first", "last"),
    [
        ("María de los Ángeles Guadalupe", "Núñez-Szczepańska Øvergård Łukasiewicz-Öz y Fernández-Ibáñez"),
        ("建国", "欧阳"),
        ("محمد بن عبد الله", "الهاشمي"),
    ],
)
def test_the_receipt_prints_the_name_whole_inside_the_margins(programs: None, first: str, last: str) -> None:
    buyer = make_person("buyer@example.com", first_name=first, last_name=last)
    page = pypdfium2.PdfDocument(receipt_pdf(make_order(buyer)))[0]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)  # for a person to look at
    page.render(scale=1.5).to_pil().save(ARTIFACTS / f"receipt-{len(first)}.png")
    textpage = page.get_textpage()
    text = " ".join(unicodedata.normalize("NFKC", textpage.get_text_range()).split())
    assert f"{first} {last}" in text, text
    width, _ = page.get_size()
    for index in range(textpage.count_chars()):
        if textpage.get_text_range(index, 1).strip():
            left, _, right, _ = textpage.get_charbox(index)
            assert left >= 18 * MM - 1 and right <= width - 18 * MM + 1
