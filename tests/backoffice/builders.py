"""Builders for back-office tests: legacy CSV files and imports run to the end."""

from __future__ import annotations

from stormcert.accounts.models import User
from stormcert.backoffice import imports
from stormcert.backoffice.models import ImportRun

HEADER = "name,email,certificate_number,program,issued_on,expires_on,status,progress"


def legacy_csv(*rows: str, header: str = HEADER) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


def many_rows(n: int, *, start: int = 0) -> list[str]:
    """n valid certificate rows, a quarter of them expired, one person per row."""
    out = []
    for i in range(start, start + n):
        if i % 4 == 0:
            out.append(
                f"Holder{i} Expired,h{i}@old.example.org,OWP-{i:06d},QISP,2019-03-01,2021-03-01,expired,"
            )
        else:
            out.append(
                f"Holder{i} Active,h{i}@old.example.org,OWP-{i:06d},QISP,2025-05-01,2027-05-01,active,"
            )
    return out


def dry_run(
    staff: User, data: bytes, filename: str = "owp.csv", mapping: dict[str, int] | None = None
) -> ImportRun:
    """Upload, match the columns (as pre-filled, unless `mapping` is given) and check."""
    run = imports.start_run(actor=staff, filename=filename, data=data)
    run = imports.map_columns(run=run, mapping=run.mapping if mapping is None else mapping, actor=staff)
    return imports.check_all(run=run)


def import_file(staff: User, data: bytes) -> ImportRun:
    return imports.apply_run(run=dry_run(staff, data), actor=staff)
