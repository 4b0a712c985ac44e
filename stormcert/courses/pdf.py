"""The printable sign-in sheet a trainer takes to the session."""

from __future__ import annotations

from stormcert.courses.models import CourseSession, Seat
from stormcert.lib.pdf import new_pdf, pdf_text


def sign_in_sheet(session: CourseSession, seats: list[Seat]) -> bytes:
    pdf, font = new_pdf()

    def t(value: str) -> str:
        return pdf_text(value, font)

    pdf.set_font(font, "B", 16)
    pdf.cell(0, 9, t("Sign-in sheet: QISP one-day training course"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(font, "", 10)
    start, end = session.local_start, session.local_end
    for line in (
        f"{start:%A %B %-d, %Y}, {start:%-I:%M %p} to {end:%-I:%M %p %Z}",
        session.place(),
        f"Trainer of Record: {session.trainer.get_full_name() or session.trainer.email}",
        f"Session {session.pk} · {len(seats)} registered",
    ):
        pdf.cell(0, 6, t(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    widths = (10, 62, 62, 46)
    pdf.set_fill_color(227, 241, 237)
    pdf.set_font(font, "B", 10)
    for width, label in zip(widths, ("#", "Name", "Email", "Signature"), strict=True):
        pdf.cell(width, 8, t(label), border=1, fill=True)
    pdf.ln()
    pdf.set_font(font, "", 10)
    for number, seat in enumerate(seats, start=1):
        user = seat.user
        for width, value in zip(
            widths, (str(number), user.get_full_name() or "", user.email, ""), strict=True
        ):
            pdf.cell(width, 11, t(value[:40]), border=1)
        pdf.ln()
    pdf.ln(6)
    pdf.set_font(font, "", 9)
    pdf.multi_cell(
        0,
        5,
        t(
            "Attendance is recorded in stormcert by the Trainer of Record; recording a candidate present "
            "completes their course step and opens the course survey."
        ),
    )
    return bytes(pdf.output())
