"""The printable sign-in sheet a trainer takes to the session."""

from __future__ import annotations

from stormcert.courses.models import CourseSession, Seat
from stormcert.lib.pdf import Document


def sign_in_sheet(session: CourseSession, seats: list[Seat]) -> bytes:
    names = [seat.user.get_full_name() for seat in seats]
    with Document(text=[*names, session.trainer.get_full_name()], styles=("",)) as doc:
        return _draw(doc, session, seats)


def _draw(doc: Document, session: CourseSession, seats: list[Seat]) -> bytes:
    pdf, font, t = doc.pdf, doc.font, doc.t
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
        pdf.multi_cell(0, 6, t(line), new_x="LMARGIN", new_y="NEXT")
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
        x, y = pdf.get_x(), pdf.get_y()
        for width, value in zip(widths, (str(number), "", "", ""), strict=True):
            pdf.cell(width, 11, t(value), border=1)
        # The name and the email in full, in smaller type or on two lines if they must be.
        for left, width, value in (
            (widths[0], widths[1], user.get_full_name()),
            (sum(widths[:2]), widths[2], user.email),
        ):
            doc.fit(
                value, x=x + left + 1, y=y, w=width - 2, h=11, largest=10, smallest=7.5, floor=6, align="L"
            )
        pdf.set_xy(x, y + 11)
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
    return doc.output()
