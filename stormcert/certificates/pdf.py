"""The printable certificate: one landscape Letter page with a QR code of its verification page.

Rendered on request from the database (nothing stored), so an approved name change or a
revocation is never out of date in a file somewhere. The name drawn is the certified one
(`Certificate.holder_name`), never the profile's.
"""

from __future__ import annotations

import io

import segno
from django.utils import timezone

from stormcert.certificates.models import Certificate
from stormcert.lib.links import absolute_url
from stormcert.lib.pdf import Document

GREEN = (11, 93, 75)
INK = (28, 43, 39)
MUTED = (90, 107, 102)


def verify_url(certificate: Certificate) -> str:
    return absolute_url("directory:verify", certificate.number)


def qr_png(url: str) -> bytes:
    buffer = io.BytesIO()
    segno.make(url, error="m", micro=False).save(buffer, kind="png", scale=10, border=4)
    return buffer.getvalue()


# The printable area: everything is drawn inside the inner frame with this much room to spare.
MARGIN = 20


def certificate_pdf(certificate: Certificate) -> bytes:
    program = certificate.program
    # The name is declared up front so that each script's letters land in one cut font and are
    # shaped together (Arabic joining across a whole word).
    with Document("landscape", text=[certificate.holder_name], styles=("B",), margin=MARGIN) as doc:
        pdf, font, t = doc.pdf, doc.font, doc.t
        pdf.set_auto_page_break(False)
        pdf.set_title(t(f"{program.short_name} certificate {certificate.number}"))
        pdf.set_author(t(f"{program.name} Program"))
        width = pdf.w
        # A double frame in the program colour.
        pdf.set_draw_color(*GREEN)
        pdf.set_line_width(1.6)
        pdf.rect(10, 10, width - 20, pdf.h - 20)
        pdf.set_line_width(0.4)
        pdf.rect(14, 14, width - 28, pdf.h - 28)

        pdf.set_text_color(*GREEN)
        pdf.set_font(font, "B", 13)
        pdf.set_xy(MARGIN, 26)
        pdf.cell(width - 2 * MARGIN, 8, t(f"{program.name} Program").upper(), align="C")
        pdf.set_text_color(*INK)
        pdf.set_font(font, "B", 30)
        pdf.set_xy(MARGIN, 42)
        pdf.cell(width - 2 * MARGIN, 14, t("Certificate of Qualification"), align="C")
        pdf.set_font(font, "", 13)
        pdf.set_text_color(*MUTED)
        pdf.set_xy(MARGIN, 64)
        pdf.cell(width - 2 * MARGIN, 8, t("This certifies that"), align="C")
        pdf.set_text_color(*INK)
        # The name: as large as fits on one line, then smaller, then on two lines; never cut.
        # A one-line name sits where it always did; a longer one pushes the rest down a little.
        below = doc.fit(
            certificate.holder_name,
            x=MARGIN + 5,
            y=76,
            w=width - 2 * MARGIN - 10,
            style="B",
            largest=26,
            smallest=16,
            floor=11,
        )
        rule = max(below + 3, 92)
        pdf.set_draw_color(*MUTED)
        pdf.set_line_width(0.3)
        pdf.line(width / 2 - 70, rule, width / 2 + 70, rule)
        pdf.set_font(font, "", 13)
        pdf.set_xy(40, rule + 6)
        pdf.multi_cell(
            width - 80,
            7,
            t(
                f"has satisfied the requirements of the {program.name} Program and is certified as "
                f"{program.name} ({program.short_name})."
            ),
            align="C",
        )

        # The facts, left; the QR code of the verification page, right.
        facts = [
            ("Certificate number", certificate.number),
            ("Issued", certificate.issued_on.strftime("%B %d, %Y").replace(" 0", " ")),
            (
                "Expires",
                certificate.expires_on.strftime("%B %d, %Y").replace(" 0", " ")
                if certificate.expires_on
                else "Does not expire",
            ),
        ]
        if certificate.reissued_at is not None:
            # Same number and dates; the reissue (after an approved name change) is dated too.
            reissued = timezone.localtime(certificate.reissued_at, program.zone).date()
            facts.append(("Reissued", reissued.strftime("%B %d, %Y").replace(" 0", " ")))
        y = max(130 if len(facts) < 4 else 126, pdf.get_y() + 8)
        for label, value in facts:
            pdf.set_xy(40, y)
            pdf.set_font(font, "", 11)
            pdf.set_text_color(*MUTED)
            pdf.cell(50, 8, t(label))
            pdf.set_font(font, "B", 14)
            pdf.set_text_color(*INK)
            pdf.cell(90, 8, t(value))
            y += 11 if len(facts) < 4 else 9
        url = verify_url(certificate)
        size = 44
        qr_x = width - 40 - size
        pdf.image(io.BytesIO(qr_png(url)), x=qr_x, y=124, w=size, h=size)
        pdf.set_font(font, "", 8)
        pdf.set_text_color(*MUTED)
        pdf.set_xy(qr_x - 30, 124 + size + 1)
        pdf.cell(size + 60, 5, t("Scan to verify, or open"), align="C")
        pdf.set_xy(qr_x - 40, 124 + size + 5)
        pdf.cell(size + 80, 5, t(url), align="C", link=url)

        pdf.set_font(font, "", 9)
        pdf.set_xy(MARGIN, pdf.h - 30)
        pdf.multi_cell(
            width - 2 * MARGIN,
            5,
            t(
                "Status is kept current at the verification page and in the public Qualification Directory. "
                "A signed Open Badges 3.0 credential for this certificate is available to its holder."
            ),
            align="C",
        )
        return doc.output()
