"""PostgreSQL only: the pg_trgm extension and a trigram GIN index on the directory search text,
so `search_text LIKE '%son%'` is an index scan. SQLite has no pg_trgm; there the directory
search is a plain scan, which is fine at its scale, and this migration does nothing."""

from django.db import migrations

CREATE = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS certificates_search_trgm ON certificates_certificate "
    "USING gin (search_text gin_trgm_ops)",
]
DROP = ["DROP INDEX IF EXISTS certificates_search_trgm"]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for sql in statements:
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("certificates", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(_run(CREATE), _run(DROP)),
    ]
