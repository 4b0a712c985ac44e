"""Store every certificate number in its canonical form (stormcert.lib.numbers).

Numbers issued here were already canonical; an earlier system's imported numbers may be in lower
case or carry stray spaces. Each such certificate, its imported record and any claim request that
typed its number get the canonical form. A number whose canonical form is already taken by another
certificate or record (the earlier system had "owp-7" and "OWP-7") is left as it is and logged as
a warning on the `stormcert.migrations` logger: staff decide which is which; the migration never
fails on it. Lookups use the canonical form, so such a left-over number is found only from the
staff certificate list (by holder) until staff correct it.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import migrations

from stormcert.lib.numbers import canonical_number

log = logging.getLogger("stormcert.migrations")


def _problem(canonical: str, taken: set[str]) -> str:
    """Why a number cannot take its canonical form (empty when it can)."""
    if not canonical:
        return "empty"
    if len(canonical) > 40:  # NFKC and upper() can lengthen a number ("ß" is "SS")
        return "longer than 40 characters"
    if canonical in taken:
        return "already another certificate's or record's number"
    return ""


def canonicalise(apps: Any, schema_editor: Any) -> dict[str, list[str]]:
    """Returns what it did ({"changed": [...], "skipped": [...]}) for the tests."""
    Certificate = apps.get_model("certificates", "Certificate")
    LegacyRecord = apps.get_model("accounts", "LegacyRecord")
    ClaimRequest = apps.get_model("accounts", "ClaimRequest")
    taken = set(Certificate.objects.values_list("number", flat=True))
    taken |= set(LegacyRecord.objects.exclude(certificate_number="").values_list("certificate_number", flat=True))
    changed: list[str] = []
    skipped: list[str] = []

    # Certificates first, each with the imported record that carries the same number.
    # Ordered by id: of two numbers that fold to one, the older keeps the canonical form.
    pairs = Certificate.objects.order_by("pk").values_list("pk", "number", "search_text")
    for pk, number, search_text in pairs.iterator(chunk_size=2000):
        canonical = canonical_number(number)
        if canonical == number:
            continue
        problem = _problem(canonical, taken)
        if problem:
            skipped.append(number)
            log.warning(
                "Certificate %s (id %s) keeps its number: its canonical form %r is %s.",
                number,
                pk,
                canonical,
                problem,
            )
            continue
        Certificate.objects.filter(pk=pk).update(
            number=canonical, search_text=search_text.replace(number.lower(), canonical.lower())
        )
        LegacyRecord.objects.filter(certificate_number=number).update(certificate_number=canonical)
        taken.discard(number)
        taken.add(canonical)
        changed.append(canonical)

    # Records without a certificate of their own (revoked or not yet linked) with a number.
    for pk, number in LegacyRecord.objects.exclude(certificate_number="").order_by("pk").values_list(
        "pk", "certificate_number"
    ):
        canonical = canonical_number(number)
        if canonical == number:
            continue
        problem = _problem(canonical, taken)
        if problem:
            if number not in skipped:
                skipped.append(number)
                log.warning("Imported record %s (id %s) keeps its number: %r is %s.", number, pk, canonical, problem)
            continue
        LegacyRecord.objects.filter(pk=pk).update(certificate_number=canonical)
        taken.discard(number)
        taken.add(canonical)
        changed.append(canonical)

    # What people typed when asking staff to join a record: not unique, so always safe.
    for pk, number in ClaimRequest.objects.exclude(certificate_number="").values_list("pk", "certificate_number"):
        canonical = canonical_number(number)[:40]
        if canonical != number:
            ClaimRequest.objects.filter(pk=pk).update(certificate_number=canonical)

    if changed or skipped:
        log.warning(
            "Certificate numbers: %d made canonical, %d left as they were (see the warnings above).",
            len(changed),
            len(skipped),
        )
    return {"changed": changed, "skipped": skipped}


class Migration(migrations.Migration):
    dependencies = [
        ("certificates", "0003_program_name_index"),
        ("accounts", "0002_legacy_records_claims_merges"),
    ]

    operations = [
        # Reversing keeps the canonical numbers: they are the same numbers.
        migrations.RunPython(canonicalise, migrations.RunPython.noop, elidable=True),
    ]
