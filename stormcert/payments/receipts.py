"""Printable PDF receipts (fpdf2: pure Python, no system libraries)."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from stormcert.lib.money import format_money
from stormcert.lib.pdf import Document
from stormcert.payments.models import Order, PaymentState, RefundState


def receipt_for_number(number: str) -> bytes:
    return receipt_pdf(Order.objects.select_related("user").get(number=number))


def receipt_pdf(order: Order) -> bytes:
    with Document(text=[order.user.get_full_name()]) as doc:
        return _draw(doc, order)


def _draw(doc: Document, order: Order) -> bytes:
    pdf, font, t = doc.pdf, doc.font, doc.t
    first_line = order.lines.select_related("program").first()
    zone = first_line.program.zone if first_line else timezone.get_current_timezone()
    pdf.set_font(font, "B", 18)
    pdf.cell(0, 10, t("Receipt"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(font, "", 10)
    # Who issues it: the site, and the programs the order pays for (from its lines).
    issuer = " · ".join(part for part in (settings.SITE_NAME, order.program_names) if part)
    pdf.cell(0, 6, t(issuer), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font(font, "", 11)
    for label, value in (
        ("Order", order.number),
        ("Date", timezone.localtime(order.created_at, zone).strftime("%B %d, %Y")),
        # The name and the address on lines of their own: an Arabic or Hebrew name next to an
        # address would make one line of mixed direction, hard to read and to copy.
        ("Billed to", order.user.get_full_name() or order.user.email),
        ("Email", order.user.email),
        ("Status", order.get_status_display()),
    ):
        pdf.set_font(font, "B", 11)
        pdf.cell(35, 7, t(label))
        pdf.set_font(font, "", 11)
        # Wrapped rather than run off the page: a name and an email can be long.
        pdf.multi_cell(0, 7, t(value), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_fill_color(227, 241, 237)
    pdf.set_font(font, "B", 11)
    pdf.cell(130, 8, t("Item"), fill=True)
    pdf.cell(0, 8, t("Amount"), fill=True, align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(font, "", 11)
    for line in order.lines.all():
        pdf.cell(130, 8, t(line.description + ("" if line.refundable else " (non-refundable)")))
        pdf.cell(0, 8, t(format_money(line.amount, order.currency)), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(font, "B", 11)
    pdf.cell(130, 8, t("Total"))
    pdf.cell(0, 8, t(format_money(order.total, order.currency)), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font(font, "B", 11)
    pdf.cell(0, 8, t("Payments"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(font, "", 10)
    for payment in order.payments.filter(state=PaymentState.CONFIRMED):
        when = (
            timezone.localtime(payment.confirmed_at, zone).strftime("%Y-%m-%d")
            if payment.confirmed_at
            else ""
        )
        ref = f" ref. {payment.provider_id}" if payment.provider_id else ""
        pdf.cell(130, 7, t(f"{when}  {payment.get_provider_display()}{ref}"))
        pdf.cell(
            0, 7, t(format_money(payment.amount, order.currency)), align="R", new_x="LMARGIN", new_y="NEXT"
        )
    for refund in order.refunds.filter(state=RefundState.DONE):
        when = timezone.localtime(refund.done_at, zone).strftime("%Y-%m-%d") if refund.done_at else ""
        pdf.cell(130, 7, t(f"{when}  Refund"))
        pdf.cell(
            0,
            7,
            t("-" + format_money(refund.amount, order.currency)),
            align="R",
            new_x="LMARGIN",
            new_y="NEXT",
        )
    pdf.set_font(font, "B", 11)
    pdf.cell(130, 8, t("Net paid"))
    pdf.cell(
        0, 8, t(format_money(order.net_paid(), order.currency)), align="R", new_x="LMARGIN", new_y="NEXT"
    )
    return doc.output()
