"""Search indexes, by database vendor.

SQLite: an FTS5 table over the folded `search_text` (kept in sync by `Bulletin.save`, not by
triggers, because SQLite table rebuilds in later migrations would silently drop triggers).
PostgreSQL: a pg_trgm GIN index on the folded column, so the substring search uses an index.
"""

from django.db import migrations, transaction

FTS = "content_bulletin_fts"


def forwards(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cur:
        if connection.vendor == "sqlite":
            cur.execute(
                f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS} USING fts5("
                "search_text, tokenize = 'unicode61 remove_diacritics 2')"
            )
            cur.execute(
                f"INSERT INTO {FTS}(rowid, search_text) SELECT id, search_text FROM content_bulletin"
            )
        elif connection.vendor == "postgresql":
            try:
                with transaction.atomic(using=schema_editor.connection.alias):
                    cur.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            except Exception:  # noqa: BLE001 - without the extension search still works, unindexed
                return
            cur.execute(
                "CREATE INDEX IF NOT EXISTS content_bulletin_search_trgm "
                "ON content_bulletin USING gin (search_text gin_trgm_ops)"
            )


def backwards(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cur:
        if connection.vendor == "sqlite":
            cur.execute(f"DROP TABLE IF EXISTS {FTS}")
        elif connection.vendor == "postgresql":
            cur.execute("DROP INDEX IF EXISTS content_bulletin_search_trgm")


class Migration(migrations.Migration):
    dependencies = [("content", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
