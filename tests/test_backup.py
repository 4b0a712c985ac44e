"""Backup and restore, on whichever engine the suite runs (CI runs it on SQLite and PostgreSQL):
back up, change things, restore, and compare every table with what was saved."""

from __future__ import annotations

import json
import tarfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import override_settings

from conftest import make_person
from stormcert.accounts.models import User
from stormcert.certificates.models import Certificate
from stormcert.core.backup import BackupError, backup, fingerprint, read_manifest, restore
from tests.certificates.builders import certify

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def media(tmp_path: Path) -> Iterator[Path]:
    root = tmp_path / "media"
    (root / "trainers").mkdir(parents=True)
    (root / "trainers" / "soq.pdf").write_bytes(b"%PDF-1.4 statement of qualifications")
    with override_settings(MEDIA_ROOT=root):
        yield root


def test_backup_then_restore_brings_back_exactly_what_was_saved(
    programs: None, media: Path, tmp_path: Path
) -> None:
    alice = make_person("alice@example.com")
    cert = certify(alice, issued_on=date(2026, 1, 15))
    before = fingerprint()
    archive = tmp_path / "backups" / "b.tar.gz"
    manifest = backup(output=archive)
    assert manifest["engine"] == connection.vendor
    assert manifest["tables"] == before
    assert manifest["tables"]["certificates_certificate"]["rows"] == 1
    with tarfile.open(archive) as tar:
        names = tar.getnames()
    assert "media/trainers/soq.pdf" in names and "manifest.json" in names

    # Things go wrong after the backup.
    Certificate.objects.filter(pk=cert.pk).update(expires_on=date(2030, 1, 1))
    make_person("intruder@example.com")
    (media / "trainers" / "soq.pdf").unlink()
    assert fingerprint() != before

    restore(archive_path=archive)
    assert fingerprint() == before
    assert Certificate.objects.get(pk=cert.pk).expires_on == date(2028, 1, 15)
    assert not User.objects.filter(email="intruder@example.com").exists()
    assert (media / "trainers" / "soq.pdf").read_bytes() == b"%PDF-1.4 statement of qualifications"


def test_the_commands_refuse_without_yes_and_explain(programs: None, media: Path, tmp_path: Path) -> None:
    archive = tmp_path / "b.tar.gz"
    call_command("backup", str(archive))
    with pytest.raises(CommandError, match="replaces ALL current data"):
        call_command("restore", str(archive))
    call_command("restore", str(archive), "--yes")


def test_restore_refuses_what_is_not_a_backup_of_this_engine(media: Path, tmp_path: Path) -> None:
    with pytest.raises(BackupError, match="No backup at"):
        restore(archive_path=tmp_path / "missing.tar.gz")
    junk = tmp_path / "junk.tar.gz"
    with tarfile.open(junk, "w:gz") as tar:
        (tmp_path / "x.txt").write_text("hello")
        tar.add(tmp_path / "x.txt", arcname="x.txt")
    with pytest.raises(BackupError, match="not a stormcert backup"):
        restore(archive_path=junk)
    archive = tmp_path / "b.tar.gz"
    backup(output=archive)
    other = "postgresql" if connection.vendor == "sqlite" else "sqlite"
    forged = tmp_path / "forged.tar.gz"
    manifest = read_manifest(archive)
    manifest["engine"] = other
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    with tarfile.open(forged, "w:gz") as tar:
        tar.add(tmp_path / "manifest.json", arcname="manifest.json")
    with pytest.raises(BackupError, match=f"backup is of a {other} database"):
        restore(archive_path=forged)
