"""PDF pages with fpdf2 (pure Python, no system libraries): one place for the page and the font."""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF

# A Unicode font when the system has one (names like “Nguyễn”); the PDF core font otherwise.
UNICODE_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
UNICODE_FONT_BOLD = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")


def new_pdf(orientation: str = "portrait") -> tuple[FPDF, str]:
    """A Letter page with margins, and the name of the font to use on it."""
    pdf = FPDF(orientation=orientation, format="Letter")
    pdf.set_margins(18, 18, 18)
    pdf.add_page()
    if UNICODE_FONT.exists() and UNICODE_FONT_BOLD.exists():
        pdf.add_font("body", "", str(UNICODE_FONT))
        pdf.add_font("body", "B", str(UNICODE_FONT_BOLD))
        return pdf, "body"
    return pdf, "helvetica"


def pdf_text(value: str, font: str) -> str:
    """Text the chosen font can draw (the core font only knows Latin-1)."""
    return value if font == "body" else value.encode("latin-1", "replace").decode("latin-1")
