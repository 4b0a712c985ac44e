"""Earlier records in the shape other systems export them: columns matched by staff, program
aliases from the definitions, US dates, spreadsheet line numbers, numbers already on file."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from conftest import client_for
from stormcert.accounts.models import LegacyRecord, User
from stormcert.audit.models import AuditEvent
from stormcert.backoffice import imports
from stormcert.backoffice.models import ColumnMapping, ImportRun, RunStatus
from stormcert.certificates.models import Certificate
from stormcert.programs.definitions import DEFINITIONS_DIR, DefinitionError, load_definition, parse_definition
from stormcert.programs.models import Program
from tests.backoffice.builders import dry_run, import_file, legacy_csv
from tests.certificates.builders import certify

pytestmark = pytest.mark.django_db

# As another system exports them: first and last name apart, its own column names and order,
# program names as it wrote them, dates month first.
OTHER = '"First Name","Last Name","Email","Cert #","Program","Issued","Expires","Status"'
OTHER_ROWS = (
    "Mary Ann,Smith Jones,MSJ@example.com,OWP-7001,QISP,03/14/2025,03/14/2027,active",
    "Lee,Wong,lee@example.com,OWP-7002, owp qisp ,1/5/2019,1/5/2021,expired",
    "Tom,Trainer,tom@example.com,TOR-2024-0009,TOR,07/01/2024,06/30/2027,active",
    'Rita,Reyes,rita@example.com,TOR-2024-0010,ToR,"Jul 1, 2024",2027-06-30,active',
)
# Which field each of OTHER's columns gives, by position.
OTHER_MAPPING = {
    "first_name": 0,
    "last_name": 1,
    "email": 2,
    "certificate_number": 3,
    "program": 4,
    "issued_on": 5,
    "expires_on": 6,
    "status": 7,
}


def other_csv(*rows: str) -> bytes:
    return legacy_csv(*rows, header=OTHER)


# --- Matching the columns -------------------------------------------------------------------------


def test_a_file_with_first_and_last_names_and_aliases_imports_through_the_mapping(
    programs: None, sara: User
) -> None:
    data = other_csv(*OTHER_ROWS)
    run = imports.start_run(actor=sara, filename="other.csv", data=data)
    assert run.status == RunStatus.MAPPING
    assert run.header == [
        "First Name",
        "Last Name",
        "Email",
        "Cert #",
        "Program",
        "Issued",
        "Expires",
        "Status",
    ]
    assert run.mapping == OTHER_MAPPING  # every column found by its name
    run = imports.map_columns(run=run, mapping=run.mapping, actor=sara)
    run = imports.apply_run(run=imports.check_all(run=run), actor=sara)
    assert run.status == RunStatus.APPLIED and run.count("create") == 4, run.report["reject"]

    mary = LegacyRecord.objects.get(certificate_number="OWP-7001")
    assert mary.name == "Mary Ann Smith Jones" and mary.email == "msj@example.com"
    # The placeholder keeps the split the file gave, not a guess from the joined name.
    assert (mary.holder.first_name, mary.holder.last_name) == ("Mary Ann", "Smith Jones")
    assert Certificate.objects.get(number="OWP-7001").holder_name == "Mary Ann Smith Jones"
    assert (mary.issued_on, mary.expires_on) == (date(2025, 3, 14), date(2027, 3, 14))
    tor = Program.objects.get(code="IGP-TOR")
    assert LegacyRecord.objects.get(certificate_number="OWP-7002").program.code == "QISP"
    assert {
        r.program for r in LegacyRecord.objects.filter(email__in=["tom@example.com", "rita@example.com"])
    } == {tor}
    rita = LegacyRecord.objects.get(email="rita@example.com")
    assert (rita.issued_on, rita.expires_on) == (date(2024, 7, 1), date(2027, 6, 30))
    assert AuditEvent.objects.filter(verb="legacy.import_columns", object_id=str(run.pk)).exists()

    # The same file again changes nothing.
    again = imports.start_run(actor=sara, filename="other.csv", data=data)
    again = imports.apply_run(
        run=imports.check_all(run=imports.map_columns(run=again, mapping=again.mapping, actor=sara)),
        actor=sara,
    )
    assert again.count("unchanged") == 4 and again.count("create") == 0


def test_the_remembered_mapping_prefills_the_next_file(programs: None, sara: User) -> None:
    header = "Col A,Col B,Col C,Col D,Col E,Col F,Col G,Col H"
    data = legacy_csv(OTHER_ROWS[0], header=header)
    first = imports.start_run(actor=sara, filename="a.csv", data=data)
    assert first.mapping == {}  # nothing to go on
    imports.map_columns(run=first, mapping=OTHER_MAPPING, actor=sara)

    # The next file with the same header (its names in another case) is matched the same way.
    same = imports.suggest(["col a", "COL B", "Col C", "Col D", "Col E", "Col F", "Col G", "Col  H"])
    assert same.mapping == OTHER_MAPPING
    assert same.how.startswith("as matched for the last file with this header")
    second = imports.start_run(actor=sara, filename="b.csv", data=legacy_csv(OTHER_ROWS[1], header=header))
    assert second.mapping == OTHER_MAPPING

    # A file with another header takes the names it can match, then the last file's choices by
    # column name for the rest.
    other = imports.suggest(["Email", "Col B", "Col A", "Extra", "Col D", "Col E", "Col F", "Col G", "Col H"])
    assert other.mapping == {
        "email": 0,
        "first_name": 2,
        "last_name": 1,
        "certificate_number": 4,
        "program": 5,
        "issued_on": 6,
        "expires_on": 7,
        "status": 8,
    }
    assert other.how == "by the column names and as in the last file matched"
    # A name found by the column names is not mixed with the last file's first and last name.
    named = imports.suggest(["Full Name", "Col A", "Col B", "Col C", "Col D"])
    assert named.mapping == {"name": 0, "email": 3, "certificate_number": 4}
    assert ColumnMapping.objects.count() == 1


@pytest.mark.parametrize(
    ("mapping", "field", "problem"),
    [
        ({**OTHER_MAPPING, "name": 0}, "name", "either one column with the whole name"),
        ({k: v for k, v in OTHER_MAPPING.items() if k != "last_name"}, "last_name", "choose the last name"),
        ({k: v for k, v in OTHER_MAPPING.items() if k != "issued_on"}, "issued_on", "required"),
        (
            {**OTHER_MAPPING, "expires_on": 5},
            "expires_on",
            "column F (“Issued”) is already chosen for issue date",
        ),
        ({**OTHER_MAPPING, "progress": 12}, "progress", "the file has no column M"),
    ],
)
def test_a_mapping_that_does_not_give_what_is_needed_says_why(
    programs: None, sara: User, mapping: dict[str, int], field: str, problem: str
) -> None:
    run = imports.start_run(actor=sara, filename="x.csv", data=other_csv(OTHER_ROWS[0]))
    with pytest.raises(imports.MappingError) as caught:
        imports.map_columns(run=run, mapping=mapping, actor=sara)
    assert problem in caught.value.problems[field]
    run.refresh_from_db()
    assert run.status == RunStatus.MAPPING and not ColumnMapping.objects.exists()


# --- The pages ------------------------------------------------------------------------------------


def upload(client: Client, data: bytes, name: str = "other.csv") -> Any:
    return client.post(reverse("backoffice:imports"), {"file": SimpleUploadedFile(name, data, "text/csv")})


def test_staff_match_columns_through_the_pages_and_a_refused_choice_keeps_them(
    programs: None, sara: User
) -> None:
    client = client_for(sara, mfa=True)
    response = upload(client, other_csv(*OTHER_ROWS))
    run = ImportRun.objects.get()
    columns_url = reverse("backoffice:import_columns", args=[run.pk])
    assert response["Location"] == columns_url
    # The run page sends a file whose columns are not matched yet to the matching page.
    assert client.get(reverse("backoffice:import_run", args=[run.pk]))["Location"] == columns_url
    page = client.get(columns_url).content.decode()
    assert "D: Cert #" in page and "Smith Jones" in page and ">2</th>" in page  # header, rows, line
    assert '<option value="3" selected>D: Cert #</option>' in page  # pre-filled by name
    assert "Pre-filled by the column names." in page

    chosen = {name: str(index) for name, index in OTHER_MAPPING.items()}
    refused = client.post(columns_url, {**chosen, "name": "0"})
    assert refused.status_code == 400
    text = refused.content.decode()
    assert "Choose either one column with the whole name, or first and last name columns, not both." in text
    assert '<option value="5" selected>F: Issued</option>' in text  # every choice kept
    run.refresh_from_db()
    assert run.status == RunStatus.MAPPING

    answer = client.post(columns_url, chosen)
    assert answer["Location"] == reverse("backoffice:import_run", args=[run.pk])
    client.post(reverse("backoffice:import_check", args=[run.pk]))
    page = client.get(answer["Location"]).content.decode()
    assert "Import 4 records" in page and "First name: column A (“First Name”)" in page
    client.post(reverse("backoffice:import_apply", args=[run.pk]))
    assert Certificate.objects.filter(number__in=["OWP-7001", "TOR-2024-0010"]).count() == 2

    # An imported file's columns show as read, and no longer change.
    page = client.get(columns_url).content.decode()
    assert "This file is imported: its columns cannot change." in page
    assert '<select name="status" disabled' in page or 'disabled id="id_status"' in page
    refused = client.post(columns_url, chosen)
    assert refused.status_code == 400 and "already imported" in refused.content.decode()
    run.refresh_from_db()
    assert run.status == RunStatus.APPLIED
    # The next upload with this header is pre-filled as matched.
    next_url = upload(client, other_csv(OTHER_ROWS[0]))["Location"]
    assert "Pre-filled as matched for the last file with this header" in client.get(next_url).content.decode()


def test_changing_the_columns_of_a_checked_file_checks_it_again(programs: None, sara: User) -> None:
    swapped = {**OTHER_MAPPING, "issued_on": 6, "expires_on": 5}
    run = dry_run(sara, other_csv(OTHER_ROWS[0]), mapping=swapped)
    assert run.report["reject"][0]["reason"] == "the expiry date is before the issue date"
    assert run.report["reject"][0]["column"] == "F (“Issued”)"
    client = client_for(sara, mfa=True)
    columns_url = reverse("backoffice:import_columns", args=[run.pk])
    assert '<option value="6" selected>G: Expires</option>' in client.get(columns_url).content.decode()
    client.post(columns_url, {name: str(i) for name, i in OTHER_MAPPING.items()})
    run.refresh_from_db()
    assert run.status == RunStatus.CHECKING and run.report["reject"] == [] and run.checked_rows == 0
    assert imports.check_all(run=run).count("create") == 1


# --- Program names --------------------------------------------------------------------------------


def test_an_unknown_program_names_the_codes_and_aliases_known(programs: None, sara: User) -> None:
    run = dry_run(sara, other_csv(OTHER_ROWS[0].replace(",QISP,", ",Trainer,")))
    [rejected] = run.report["reject"]
    assert rejected["line"] == 2 and rejected["field"] == "program" and rejected["value"] == "Trainer"
    assert rejected["reason"].startswith("unknown program; known: QISP (also OWP QISP, QISP Certificate")
    assert "IGP-TOR (also IGP ToR, ToR, OWP ToR, Trainer of Record" in rejected["reason"]


def test_the_loader_refuses_an_alias_two_programs_share(programs: None) -> None:
    casqa = (DEFINITIONS_DIR / "casqa.toml").read_text()
    shared = casqa.replace('aliases = ["OWP QISP",', 'aliases = [" tor ", "OWP QISP",', 1)
    with pytest.raises(DefinitionError) as caught:
        parse_definition(shared, source="casqa.toml")
    assert "program QISP: alias 'tor' is also the alias of IGP-TOR; an alias may name one program only" in (
        caught.value.problems
    )
    # Against the programs already loaded from another file, too; nothing is loaded.
    cgp = (DEFINITIONS_DIR / "cgp.toml").read_text()
    clash = cgp.replace('aliases = ["CGPTOR",', 'aliases = ["IGP-TOR", "CGPTOR",', 1)
    with pytest.raises(DefinitionError, match="alias 'IGP-TOR' is also the code of IGP-TOR"):
        load_definition(clash, source="cgp.toml")
    assert not Program.objects.filter(code="CGP-TOR").exists()
    with pytest.raises(DefinitionError, match="“aliases” should be a list of names"):
        parse_definition(casqa.replace('aliases = ["OWP QISP",', 'aliases = [3, "OWP QISP",', 1))


def test_an_alias_edited_in_the_admin_names_one_program_only(programs: None) -> None:
    qisp = Program.objects.get(code="QISP")
    qisp.aliases = ["Old QISP", " tor"]
    with pytest.raises(ValidationError, match="tor already names IGP-TOR"):
        qisp.full_clean()
    qisp.aliases = "Old QISP"  # type: ignore[assignment]  # as a hand edit could store it
    with pytest.raises(ValidationError, match="A list of names"):
        qisp.full_clean()
    qisp.aliases = ["Old QISP"]
    qisp.full_clean()


def test_the_definitions_load_their_aliases_and_again_change_nothing(db: None) -> None:
    call_command("load_programs", verbosity=0)
    assert Program.objects.get(code="IGP-TOR").aliases[:2] == ["ToR", "OWP ToR"]
    assert "CGPTOR" in Program.objects.get(code="CGP-TOR").aliases
    before = AuditEvent.objects.count()
    call_command("load_programs", verbosity=0)
    assert AuditEvent.objects.count() == before
    with pytest.raises(CommandError):
        call_command("load_programs", str(DEFINITIONS_DIR / "missing.toml"), verbosity=0)


# --- Dates ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("11/29/2028", date(2028, 11, 29)),
        ("1/2/2024", date(2024, 1, 2)),
        ("01-02-2024", date(2024, 1, 2)),
        ("2024-01-02", date(2024, 1, 2)),
        ("Nov 29, 2028", date(2028, 11, 29)),
        ("November 29 2028", date(2028, 11, 29)),
        ("Sept. 3, 2024", date(2024, 9, 3)),
    ],
)
def test_us_and_iso_dates_are_read(text: str, day: date) -> None:
    assert imports.read_date(text) == day


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (
            "11/29/28",
            "a two-digit year is not read (is 28 1928 or 2028?): write the year in full, e.g. 11/29/2028",
        ),
        ("29/11/2028", "this reads as day first; dates are read month first (MM/DD/YYYY)"),
        (
            "02/30/2024",
            "not a date (no such day): write it as MM/DD/YYYY (or M/D/YYYY), YYYY-MM-DD or Nov 29, 2028",
        ),
        ("yesterday", "not a date: write it as MM/DD/YYYY (or M/D/YYYY), YYYY-MM-DD or Nov 29, 2028"),
        ("Foo 3 2024", "not a date: write it as"),
        ("11/29/0028", "the year 28 is not plausible"),
    ],
)
def test_a_bad_date_names_the_forms_accepted(programs: None, sara: User, text: str, reason: str) -> None:
    run = dry_run(sara, other_csv(OTHER_ROWS[0].replace("03/14/2025", text)))
    [rejected] = run.report["reject"]
    assert rejected["line"] == 2 and rejected["field"] == "issued_on" and rejected["value"] == text
    assert rejected["reason"].startswith(reason)
    assert rejected["column"] == "F (“Issued”)"


# --- Line numbers ---------------------------------------------------------------------------------


def test_line_numbers_are_the_rows_a_spreadsheet_shows(programs: None, sara: User) -> None:
    # Row 2 has a cell with a line break (one spreadsheet row, two lines of text); row 3 is
    # blank (a row in a spreadsheet too); row 4 has a bad date and starts on line 5 of the text.
    data = other_csv(
        OTHER_ROWS[0].replace("Mary Ann", '"Mary\nAnn"'),
        "",
        OTHER_ROWS[1].replace("1/5/2019", "13/13/2019"),
    )
    run = dry_run(sara, data)
    assert run.total_rows == 2
    assert [e["line"] for e in run.report["create"]] == [2]
    assert [(r["line"], r["value"]) for r in run.report["reject"]] == [(4, "13/13/2019")]
    broken = other_csv(
        OTHER_ROWS[0].replace("Mary Ann", '"Mary\nAnn"'), OTHER_ROWS[1].replace("Lee", "L\0ee")
    )
    with pytest.raises(
        imports.ImportFileError, match=r"^Line 3 \(line 4 of the file as text\): this row holds a NUL"
    ):
        imports.start_run(actor=sara, filename="x.csv", data=broken)


# --- Numbers already on file ----------------------------------------------------------------------


def test_numbers_already_on_file_are_rejected_by_line_naming_whose_they_are(
    programs: None, sara: User, alice: User
) -> None:
    import_file(sara, other_csv(*OTHER_ROWS[:2]))  # an earlier run of this import
    certify(alice, issued_on=date(2026, 1, 15))
    ours = Certificate.objects.get(holder=alice).number
    run = dry_run(
        sara,
        other_csv(
            OTHER_ROWS[0].replace("MSJ@example.com", "mary.new@example.com"),  # the same record, moved
            OTHER_ROWS[1],
            OTHER_ROWS[2].replace("TOR-2024-0009", ours.lower()),
        ),
    )
    assert run.report["reject"] == [
        {
            "line": 4,
            "field": "certificate_number",
            "value": ours,
            "reason": f"certificate number {ours} is already on file for Alice Alvarez — issued by this system",
            "column": "D (“Cert #”)",
        }
    ]
    # A record an earlier run imported is still an update, and says what moves.
    assert run.report["update"] == [
        {"line": 2, "key": "OWP-7001", "name": "Mary Ann Smith Jones", "changes": ["email"]}
    ]
    assert run.report["unchanged"][0]["line"] == 3
    assert run.report["notes"] == [
        {
            "line": 2,
            "note": "the email on file for OWP-7001 changes from msj@example.com to mary.new@example.com",
        }
    ]
