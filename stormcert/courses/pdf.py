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
    pdf.cell(
        0,
        9,
        t(f"Sign-in sheet: {session.program.short_name}, {session.title}"),
        new_x="LMARGIN",
        new_y="NEXT",
    )
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
        # The name and the email in full, in smaller type or on more lines if they must be; the row
        # grows to hold them (and moves to the next page whole).
        name, email = (
            doc.measure(value, w=widths[i] - 2, largest=10, smallest=7.5, floor=6)
            for i, value in ((1, user.get_full_name()), (2, user.email))
        )
        height = max(11.0, name.height + 3, email.height + 3)
        if pdf.will_page_break(height):
            pdf.add_page()
        x, y = pdf.get_x(), pdf.get_y()
        pdf.set_font(font, "", 10)
        for width, value in zip(widths, (str(number), "", "", ""), strict=True):
            pdf.cell(width, height, t(value), border=1)
        doc.draw(name, x=x + widths[0] + 1, y=y, w=widths[1] - 2, h=height, align="L")
        doc.draw(email, x=x + sum(widths[:2]) + 1, y=y, w=widths[2] - 2, h=height, align="L")
        pdf.set_xy(x, y + height)
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
