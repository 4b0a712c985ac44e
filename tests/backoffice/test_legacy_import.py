"""Importing the earlier system's records: dry run, all-or-nothing, re-runs, the directory."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from conftest import client_for
from stormcert.accounts.models import LegacyRecord, LegacyStatus, User
from stormcert.audit.models import AuditEvent
from stormcert.backoffice import imports
from stormcert.backoffice.models import RunStatus
from stormcert.certificates.models import Certificate, Source, Status
from tests.backoffice.builders import dry_run, import_file, legacy_csv, many_rows
from tests.certificates.builders import certify

pytestmark = pytest.mark.django_db

GOOD = (
    "Maria Garcia,MGarcia@Example.com,OWP-000123,QISP,2025-03-14,2027-03-14,active,",
    '"Wong, Lee",lwong@example.com,OWP-000124,QISP,2019-01-10,2021-01-10,expired,',
    "Pat Revoked,pat@example.com,OWP-000125,QISP,2024-02-01,2026-02-01,revoked,",
    "Sam Learner,sam@example.com,,QISP,,,in progress,account;read_guides;registration",
)


def counts() -> tuple[int, int, int]:
    return (
        Certificate.objects.count(),
        LegacyRecord.objects.count(),
        User.objects.filter(placeholder=True).count(),
    )


def test_the_dry_run_lists_what_would_happen_and_writes_nothing(programs: None, sara: User) -> None:
    run = dry_run(sara, legacy_csv(*GOOD))
    assert run.status == RunStatus.CHECKED
    assert run.count("create") == 4 and run.count("reject") == 0
    assert [e["line"] for e in run.report["create"]] == [2, 3, 4, 5]
    assert counts() == (0, 0, 0)


def test_a_bad_date_is_reported_with_line_and_field_and_nothing_is_written(
    programs: None, sara: User
) -> None:
    rows = [*GOOD, "Bad Date,bad@example.com,OWP-000200,QISP,2021-02-30,2023-02-28,expired,"]
    run = dry_run(sara, legacy_csv(*rows))
    assert run.report["reject"] == [
        {
            "line": 6,
            "field": "issued_on",
            "value": "2021-02-30",
            "reason": "not a date (no such day): write it as MM/DD/YYYY (or M/D/YYYY), YYYY-MM-DD or Nov 29, 2028",
            "column": "E (“issued_on”)",
        }
    ]
    with pytest.raises(imports.ImportRejected):
        imports.apply_run(run=run, actor=sara)
    assert counts() == (0, 0, 0)
    run.refresh_from_db()
    assert run.status == RunStatus.CHECKED


@pytest.mark.parametrize(
    ("row", "field", "reason"),
    [
        (",x@example.com,N-1,QISP,2024-01-01,2026-01-01,active,", "name", "a name is required"),
        ("A B,not-an-email,N-1,QISP,2024-01-01,2026-01-01,active,", "email", "not an email address"),
        ("A B,a@example.com,N-1,QSD,2024-01-01,2026-01-01,active,", "program", "unknown program"),
        ("A B,a@example.com,N-1,QISP,2024-01-01,2026-01-01,lapsed,", "status", "status must be"),
        ("A B,a@example.com,,QISP,2024-01-01,2026-01-01,active,", "certificate_number", "is required"),
        ("A B,a@example.com,N-1,QISP,,2026-01-01,active,", "issued_on", "required"),
        ("A B,a@example.com,N-1,QISP,2024-01-01,2023-01-01,active,", "expires_on", "before the issue"),
        ("A B,a@example.com,N-1,QISP,2024-01-01,2099-01-01,expired,", "status", "has not passed"),
        ("A B,a@example.com,,QISP,,,in progress,account;flying", "progress", "unknown step 'flying'"),
    ],
)
def test_each_field_is_checked(programs: None, sara: User, row: str, field: str, reason: str) -> None:
    run = dry_run(sara, legacy_csv(row))
    [rejected] = run.report["reject"]
    assert rejected["line"] == 2 and rejected["field"] == field
    assert reason in rejected["reason"]


def test_import_creates_certificates_with_their_original_numbers_in_the_directory(
    programs: None, sara: User
) -> None:
    run = import_file(sara, legacy_csv(*GOOD))
    assert run.status == RunStatus.APPLIED and run.applied_by == sara
    maria = Certificate.objects.get(number="OWP-000123")
    assert maria.source == Source.LEGACY
    assert (maria.issued_on, maria.expires_on) == (date(2025, 3, 14), date(2027, 3, 14))
    assert maria.holder.placeholder and not maria.holder.is_active
    assert not maria.holder.has_usable_password()
    assert maria.holder.email.endswith("@legacy.invalid")
    assert maria.holder_name == "Maria Garcia"
    lee = Certificate.objects.get(number="OWP-000124")
    assert lee.holder_name == "Lee Wong"  # "Last, First" on file
    assert lee.status_on(date(2026, 11, 22)) == Status.EXPIRED
    assert Certificate.objects.get(number="OWP-000125").status_on(date(2026, 11, 22)) == Status.REVOKED
    sam = LegacyRecord.objects.get(email="sam@example.com")
    assert sam.status == LegacyStatus.IN_PROGRESS and sam.certificate is None
    assert sam.progress == ["account", "read_guides", "registration"]
    assert LegacyRecord.objects.get(certificate_number="OWP-000123").email == "mgarcia@example.com"
    page = Client().get(reverse("directory:search"), {"q": "garcia"}).content.decode()
    assert "OWP-000123" in page and "Maria Garcia" in page
    assert Client().get(reverse("directory:verify", args=["OWP-000124"])).status_code == 200
    assert AuditEvent.objects.filter(verb="legacy.imported", object_id=str(run.pk)).exists()


def test_running_the_same_file_again_changes_nothing(programs: None, sara: User) -> None:
    import_file(sara, legacy_csv(*GOOD))
    before = counts()
    again = import_file(sara, legacy_csv(*GOOD))
    assert again.count("unchanged") == 4 and again.count("create") == 0
    assert counts() == before


def test_a_changed_row_updates_the_record_and_its_certificate(programs: None, sara: User) -> None:
    import_file(sara, legacy_csv(*GOOD))
    changed = GOOD[0].replace("2027-03-14", "2027-06-30").replace("Maria Garcia", "Maria Garcia-Lopez")
    run = import_file(sara, legacy_csv(changed, *GOOD[1:]))
    assert run.report["update"] == [
        {"line": 2, "key": "OWP-000123", "name": "Maria Garcia-Lopez", "changes": ["name", "expires_on"]}
    ]
    maria = Certificate.objects.get(number="OWP-000123")
    assert maria.expires_on == date(2027, 6, 30)
    assert maria.holder_name == "Maria Garcia-Lopez"
    assert counts() == (3, 4, 4)


def test_duplicates_in_the_file_and_numbers_issued_here_are_rejected(
    programs: None, sara: User, alice: User
) -> None:
    certify(alice, issued_on=date(2026, 1, 15))
    ours = Certificate.objects.get(holder=alice).number
    run = dry_run(
        sara,
        legacy_csv(
            GOOD[0],
            GOOD[0].replace("Maria", "Mario"),
            f"A B,ab@example.com,{ours},QISP,2024-01-01,2026-01-01,expired,",
        ),
    )
    reasons = {r["line"]: r["reason"] for r in run.report["reject"]}
    assert reasons == {
        3: "certificate number OWP-000123 is already on line 2",
        4: f"certificate number {ours} is already on file for Alice Alvarez — issued by this system",
    }


def test_all_or_nothing_when_the_data_changed_after_the_dry_run(
    programs: None, sara: User, alice: User
) -> None:
    run = dry_run(sara, legacy_csv(*GOOD))
    assert run.count("reject") == 0
    certify(alice, number="OWP-000125")  # someone issued that number meanwhile
    Certificate.objects.filter(number="OWP-000125").update(source=Source.COMPLETION)
    with pytest.raises(imports.ImportRejected):
        imports.apply_run(run=run, actor=sara)
    assert LegacyRecord.objects.count() == 0
    assert Certificate.objects.count() == 1


def test_older_certificates_of_one_person_are_superseded(programs: None, sara: User) -> None:
    import_file(
        sara,
        legacy_csv(
            "Ann Old,ann@example.com,OWP-1,QISP,2019-01-01,2021-01-01,expired,",
            "Ann Old,ann@example.com,OWP-2,QISP,2021-01-01,2023-01-01,expired,",
            "Ann Old,ann@example.com,OWP-3,QISP,2023-01-01,2025-01-01,expired,",
        ),
    )
    holders = set(Certificate.objects.values_list("holder_id", flat=True))
    assert len(holders) == 1  # one placeholder per email on file
    current = Certificate.objects.filter(superseded_at__isnull=True)
    assert [c.number for c in current] == ["OWP-3"]


def test_header_problems_are_refused_at_upload(programs: None, sara: User) -> None:
    run = imports.start_run(
        actor=sara,
        filename="x.csv",
        data=b"name,certificate,program,issued,expires,status\nA B,N-1,QISP,2024-01-01,2026-01-01,active\n",
    )
    assert run.status == RunStatus.MAPPING
    with pytest.raises(imports.MappingError, match="required: choose the column with the email"):
        imports.map_columns(run=run, mapping=run.mapping, actor=sara)
    with pytest.raises(imports.ImportFileError, match="The first line must name the columns"):
        imports.start_run(actor=sara, filename="x.csv", data=b",,\nA,b,c\n")
    with pytest.raises(imports.ImportFileError, match="not UTF-8"):
        imports.start_run(
            actor=sara, filename="x.csv", data=legacy_csv(GOOD[0]).replace(b"Maria", b"Mar\xeda")
        )
    with pytest.raises(imports.ImportFileError, match="no records"):
        imports.start_run(actor=sara, filename="x.csv", data=legacy_csv())


def test_the_dry_run_proceeds_in_chunks_that_keep_their_place(programs: None, sara: User) -> None:
    rows = many_rows(25)
    rows.append(rows[3])  # a duplicate of a row checked in an earlier chunk
    run = imports.start_run(actor=sara, filename="x.csv", data=legacy_csv(*rows))
    run = imports.map_columns(run=run, mapping=run.mapping, actor=sara)
    steps = 0
    while run.status == RunStatus.CHECKING:
        run = imports.check_next(run=run, chunk=10)
        steps += 1
    assert steps == 3 and run.checked_rows == 26
    assert run.report["reject"][0]["line"] == 27
    assert "already on line 5" in run.report["reject"][0]["reason"]


def test_ten_thousand_rows_import_with_few_queries(
    programs: None, sara: User, django_assert_max_num_queries: Any
) -> None:
    """The import writes in batches, not row by row: SQLite's 999-parameter limit makes its batches
    about 80 rows (PostgreSQL's are 1,000). The time is measured in bench/legacy_import.py."""
    data = legacy_csv(*many_rows(10_000))
    run = dry_run(sara, data)
    assert run.count("create") == 10_000
    with django_assert_max_num_queries(800):
        imports.apply_run(run=run, actor=sara)
    assert counts() == (10_000, 10_000, 10_000)
    assert Certificate.objects.filter(number="OWP-009999", holder_name="Holder9999 Active").exists()


# --- The pages -------------------------------------------------------------------------------------


def upload(client: Client, data: bytes, name: str = "owp.csv") -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(reverse("backoffice:imports"), {"file": SimpleUploadedFile(name, data, "text/csv")})


def confirm_columns(client: Client, response: Any) -> str:
    """Accept the pre-filled columns of the upload's matching page; the run page's URL."""
    columns_url = response["Location"]
    form = client.get(columns_url).context["form"]
    chosen = {name: form[name].value() or "" for name in imports.FIELDS}
    answer = client.post(columns_url, chosen)
    assert answer.status_code == 302, answer.content.decode()[:2000]
    return str(answer["Location"])


def test_staff_upload_check_and_import_through_the_pages(programs: None, sara: User) -> None:
    client = client_for(sara, mfa=True)
    response = upload(client, legacy_csv(*GOOD))
    run_url = confirm_columns(client, response)
    run_id = int(run_url.rstrip("/").split("/")[-1])
    page = client.get(run_url)
    assert b'id="check-progress"' in page.content and b"Checked <span" in page.content
    check_url = reverse("backoffice:import_check", args=[run_id])
    progress = client.post(check_url, headers={"accept": "application/json"}).json()
    assert progress == {"checked": 4, "total": 4, "percent": 100, "done": True, "rejected": 0}
    page = client.get(run_url)
    assert b"Import 4 records" in page.content
    client.post(reverse("backoffice:import_apply", args=[run_id]))
    assert Certificate.objects.count() == 3
    report = client.get(reverse("backoffice:import_report", args=[run_id]))
    lines = report.content.decode().splitlines()
    assert lines[0] == "line,outcome,certificate_or_email,field,value,reason_or_changes"
    assert lines[1] == "2,create,OWP-000123,,,"


def test_the_page_without_script_checks_everything_at_once_and_shows_rejections(
    programs: None, sara: User
) -> None:
    client = client_for(sara, mfa=True)
    bad = "Bad Date,bad@example.com,OWP-9,QISP,2021-13-01,2023-01-01,expired,"
    run_url = confirm_columns(client, upload(client, legacy_csv(GOOD[0], bad)))
    run_id = int(run_url.rstrip("/").split("/")[-1])
    client.post(reverse("backoffice:import_check", args=[run_id]))
    page = client.get(run_url).content.decode()
    assert "must be fixed before anything can be imported" in page
    assert "2021-13-01" in page and "not a date" in page
    assert "Import 2 records" not in page
    client.post(reverse("backoffice:import_apply", args=[run_id]))
    assert Certificate.objects.count() == 0


def test_a_bad_file_is_refused_with_a_message(programs: None, sara: User) -> None:
    client = client_for(sara, mfa=True)
    response = upload(client, b"just,some,columns\n1,2,3\n")
    # Columns named otherwise are matched by hand; without a name and the rest, it says so.
    answer = client.post(response["Location"], {"email": "0"})
    assert answer.status_code == 400
    page = answer.content.decode()
    assert "Required: choose the name column, or first and last name columns." in page
    assert "Required: choose the column with the certificate number." in page
    assert 'value="0" selected' in page  # the choice made is kept
    assert upload(client, b"").status_code == 400


def test_only_staff_may_import(programs: None, alice: User) -> None:
    client = client_for(alice)
    assert upload(client, legacy_csv(*GOOD)).status_code == 403
    assert client.get(reverse("backoffice:imports")).status_code == 403


def test_a_cell_over_the_csv_field_limit_is_refused_at_upload_with_its_line(
    programs: None, sara: User, client: Client
) -> None:
    # _csv.Error "field larger than field limit" was a 500 at upload.
    huge = "Maria " + "x" * 200_000
    data = legacy_csv(GOOD[0], f"{huge},m@example.com,OWP-9,QISP,2025-03-14,2027-03-14,active,")
    with pytest.raises(imports.ImportFileError, match=r"Line 3: a cell is longer than 131,072 characters"):
        imports.start_run(actor=sara, filename="x.csv", data=data)
    # An opened quote never closed swallows the rest of the file into one cell: same answer.
    unclosed = legacy_csv(GOOD[0], '"Open quote,' + "y" * 140_000)
    staff = client_for(sara, mfa=True)
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = staff.post(reverse("backoffice:imports"), {"file": SimpleUploadedFile("x.csv", unclosed)})
    assert response.status_code == 400
    assert "Line 3: a cell is longer than" in response.content.decode()
    with pytest.raises(imports.ImportFileError, match="Line 2: this row holds a NUL character"):
        imports.start_run(actor=sara, filename="x.csv", data=legacy_csv(GOOD[0].replace("Maria", "Ma\0ria")))


def test_a_number_that_already_exists_is_rejected_by_the_dry_run_not_the_apply(
    programs: None, sara: User, alice: User
) -> None:
    # A legacy certificate without a record of ours (demo data; an earlier system's number typed
    # in again in another case): the dry run passed it and apply failed on the unique number.
    certify(alice, number="OWP-000123")
    Certificate.objects.filter(number="OWP-000123").update(source=Source.LEGACY)
    certify(alice, number="OWP-000777")
    Certificate.objects.filter(number="OWP-000777").update(source=Source.LEGACY)
    run = dry_run(
        sara,
        legacy_csv(
            GOOD[0],
            GOOD[1].replace("OWP-000124", "owp-000777 "),
            GOOD[2],
            GOOD[2].replace("Pat", "Patricia").replace("OWP-000125", "Owp-000125"),
        ),
    )
    reasons = {r["line"]: r["reason"] for r in run.report["reject"]}
    assert reasons == {
        2: "certificate number OWP-000123 is already on file for Alice Alvarez — from an earlier import, "
        "and not as this record",
        3: "certificate number OWP-000777 is already on file for Alice Alvarez — from an earlier import, "
        "and not as this record",
        5: "certificate number OWP-000125 is already on line 4",
    }
    with pytest.raises(imports.ImportRejected):
        imports.apply_run(run=run, actor=sara)
    assert LegacyRecord.objects.count() == 0


def test_a_number_imported_before_still_updates_in_any_case(programs: None, sara: User) -> None:
    import_file(sara, legacy_csv(*GOOD))
    again = import_file(sara, legacy_csv(GOOD[0].replace("OWP-000123", "owp-000123"), *GOOD[1:]))
    assert again.count("reject") == 0 and again.count("unchanged") == 4


@pytest.mark.parametrize(
    "number",
    [
        "OWP/1",
        "OWP\\1",
        "OWP..1",
        "OWP\x071",
        "OWP-1\nX",
        "OWP\t1",
        "../../etc",
        "OWP-1%2F",
        ".OWP",
        "OWP\u202e1",
    ],
)
def test_numbers_with_path_or_control_characters_are_refused_by_line(
    programs: None, sara: User, number: str
) -> None:
    row = f'A B,a@example.com,"{number}",QISP,2024-01-01,2026-01-01,expired,'
    run = dry_run(sara, legacy_csv(GOOD[0], row))
    [rejected] = run.report["reject"]
    assert rejected["line"] == 3 and rejected["field"] == "certificate_number"
    assert "certificate number" in rejected["reason"]
