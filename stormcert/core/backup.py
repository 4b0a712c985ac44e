"""Backup and restore of everything stormcert keeps: the database and the uploaded documents.

A backup is one `.tar.gz` holding:
- `database.sqlite3` (SQLite, taken with SQLite's online backup API, so the site can keep running
  and writing while it is taken) or `database.dump` (PostgreSQL, `pg_dump --format=custom`, one
  consistent snapshot while the site runs);
- `media/` (uploaded statements of qualifications, accommodation documents, lesson files);
- `manifest.json`: when, which engine, the row count and a content fingerprint of every table, so a
  restore can prove it brought back exactly what was saved.

The credential signing keys (CREDENTIAL_KEYS_DIR) are secrets and are not put in the archive;
keep them with the other secrets (see the README).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import connection, connections
from django.utils import timezone

FORMAT = 1


class BackupError(Exception):
    """The backup or restore cannot be done; the message says why."""


def fingerprint() -> dict[str, dict[str, Any]]:
    """{table: {"rows": n, "sha256": …}} over every model table, rows in primary-key order.
    Equal fingerprints mean equal contents, whatever the engine returned them as."""
    result: dict[str, dict[str, Any]] = {}
    for model in apps.get_models(include_auto_created=True):
        if model._meta.proxy or not model._meta.managed:
            continue
        digest = hashlib.sha256()
        rows = 0
        fields = [f.column for f in model._meta.concrete_fields]
        for row in model._base_manager.order_by("pk").values_list(*fields).iterator(chunk_size=2000):
            digest.update(repr(tuple(_plain(v) for v in row)).encode())
            rows += 1
        result[model._meta.db_table] = {"rows": rows, "sha256": digest.hexdigest()}
    return result


def _plain(value: Any) -> Any:
    """The same value from either engine: JSON may come back as text or as objects."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    if isinstance(value, memoryview):
        return bytes(value)
    return value


def _engine() -> str:
    vendor = connection.vendor
    if vendor not in ("sqlite", "postgresql"):
        raise BackupError(f"Backups support SQLite and PostgreSQL, not {vendor}.")
    return vendor


def _pg_env() -> dict[str, str]:
    db = connection.settings_dict
    env = dict(os.environ)
    env.update(
        {
            "PGHOST": str(db.get("HOST") or ""),
            "PGPORT": str(db.get("PORT") or ""),
            "PGUSER": str(db.get("USER") or ""),
            "PGDATABASE": str(db["NAME"]),
        }
    )
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    return {k: v for k, v in env.items() if v != ""}


def _run(command: list[str]) -> None:
    done = subprocess.run(command, env=_pg_env(), capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise BackupError(f"{command[0]} failed: {done.stderr.strip()[:500]}")


def backup(*, output: Path, now: datetime | None = None) -> dict[str, Any]:
    """Write the archive to `output` and return its manifest."""
    now = now or timezone.now()
    engine = _engine()
    manifest = {
        "format": FORMAT,
        "taken_at": now.isoformat(),
        "engine": engine,
        "tables": fingerprint(),
    }
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        if engine == "sqlite":
            target = sqlite3.connect(work / "database.sqlite3")
            connection.ensure_connection()
            # The online backup API copies page by page and restarts if a writer changes a page
            # meanwhile, so the copy is consistent without stopping the site.
            connection.connection.backup(target)
            target.close()
        else:
            _run(["pg_dump", "--format=custom", "--no-owner", "--file", str(work / "database.dump")])
        (work / "manifest.json").write_text(json.dumps(manifest, indent=1))
        output.parent.mkdir(parents=True, exist_ok=True)
        partial = output.with_suffix(output.suffix + ".partial")
        with tarfile.open(partial, "w:gz") as archive:
            for name in ("manifest.json", "database.sqlite3", "database.dump"):
                if (work / name).exists():
                    archive.add(work / name, arcname=name)
            media = Path(settings.MEDIA_ROOT)
            if media.exists():
                archive.add(media, arcname="media")
        partial.replace(output)  # a crash midway never leaves a truncated file under the real name
    return manifest


@contextmanager
def _opened(archive_path: Path) -> Iterator[tuple[Path, dict[str, Any]]]:
    if not archive_path.exists():
        raise BackupError(f"No backup at {archive_path}.")
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        with tarfile.open(archive_path, "r:gz") as archive:
            archive.extractall(work, filter="data")
        try:
            manifest = json.loads((work / "manifest.json").read_text())
        except (OSError, ValueError):
            raise BackupError(f"{archive_path} is not a stormcert backup (no manifest).") from None
        if manifest.get("format") != FORMAT:
            raise BackupError(
                f"{archive_path} has backup format {manifest.get('format')}; expected {FORMAT}."
            )
        yield work, manifest


def read_manifest(archive_path: Path) -> dict[str, Any]:
    with _opened(archive_path) as (_, manifest):
        return manifest


def restore(*, archive_path: Path) -> dict[str, Any]:
    """Replace the database and the uploaded documents with the backup's, then check that every
    table's fingerprint matches the manifest. Returns the manifest."""
    engine = _engine()
    with _opened(archive_path) as (work, manifest):
        if manifest["engine"] != engine:
            raise BackupError(
                f"This backup is of a {manifest['engine']} database; the site runs on {engine}. "
                "Use `dumpdata`/`loaddata` to move between engines."
            )
        if engine == "sqlite":
            source = sqlite3.connect(work / "database.sqlite3")
            connection.ensure_connection()
            # Backing up *into* the live file replaces it page by page under SQLite's own locks.
            source.backup(connection.connection)
            source.close()
        else:
            connections.close_all()
            _run(
                [
                    "pg_restore",
                    "--clean",
                    "--if-exists",
                    "--no-owner",
                    "--single-transaction",
                    "--dbname",
                    str(connection.settings_dict["NAME"]),
                    str(work / "database.dump"),
                ]
            )
        media = Path(settings.MEDIA_ROOT)
        if (work / "media").exists():
            if media.exists():
                shutil.rmtree(media)
            shutil.copytree(work / "media", media)
        connections.close_all()
        restored = fingerprint()
        differs = sorted(t for t, v in manifest["tables"].items() if restored.get(t) != v)
        if differs:
            raise BackupError(f"Restored, but these tables differ from the backup: {', '.join(differs)}")
        return manifest


def describe(manifest: dict[str, Any]) -> str:
    rows = sum(t["rows"] for t in manifest["tables"].values())
    out = io.StringIO()
    out.write(
        f"{manifest['engine']} backup taken {manifest['taken_at']}: {len(manifest['tables'])} tables, {rows} rows"
    )
    return out.getvalue()
