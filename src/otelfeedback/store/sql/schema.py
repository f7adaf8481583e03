"""The PostgreSQL store's schema: versioned migrations, applied on open, never edited.

The tables are the file store index's (``store/schema.py``), so the one query compiler
(``store/query/``) runs on both; the differences are PostgreSQL's own: ``COLLATE "C"`` on
text that is compared or sorted (byte order and ASCII-only ``ILIKE``, as SQLite does),
a ``pg_trgm`` GIN index for full text, and the per-trace tables partitioned by trace key
(``partitions.py``). A shipped migration is never edited: a change is a new entry at the
end. A database whose schema is newer than this code is refused (``SchemaTooNewError``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from otelfeedback.errors import ConfigurationError

#: A PostgreSQL advisory lock key (any 64-bit number): held while migrating.
MIGRATION_LOCK = 0x6F74_6566_0001
#: Traces per partition of the per-trace tables, unless the store is created with another.
DEFAULT_PARTITION_TRACES = 1_000_000


class SchemaTooNewError(ConfigurationError):
    """The database was migrated by a newer otelfeedback than this one."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    statements: tuple[str, ...]


_C = 'COLLATE "C"'

MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "initial",
        (
            "CREATE EXTENSION IF NOT EXISTS pg_trgm",
            f"CREATE TABLE store_settings (key text {_C} PRIMARY KEY, value text NOT NULL)",
            # Trace keys, in arrival order: the partition key of the per-trace tables.
            "CREATE SEQUENCE trace_keys",
            f"CREATE TABLE traces (id bigint PRIMARY KEY, trace_id text {_C} NOT NULL UNIQUE, "
            f"name text {_C}, status text {_C} NOT NULL, start_ms bigint NOT NULL, "
            "end_ms bigint NOT NULL, execution_time_ms double precision NOT NULL, "
            f"service_name text {_C}, session_id text {_C}, user_id text {_C}, "
            "input_tokens bigint NOT NULL, output_tokens bigint NOT NULL, "
            "total_tokens bigint NOT NULL, span_count integer NOT NULL, "
            f"root_span_id text {_C}, request_preview text, response_preview text, "
            "tags text NOT NULL, metadata text NOT NULL)",
            "CREATE INDEX traces_start ON traces (start_ms)",
            "CREATE INDEX traces_duration ON traces (execution_time_ms)",
            "CREATE INDEX traces_name ON traces (name)",
            "CREATE INDEX traces_session ON traces (session_id)",
            # ``ord``: arrival order within the trace (SQLite's rowid), breaking start ties.
            f"CREATE TABLE spans (tid bigint NOT NULL, span_id text {_C} NOT NULL, "
            f"parent_span_id text {_C}, name text {_C} NOT NULL, span_type text {_C} NOT NULL, "
            f"status text {_C} NOT NULL, start_ns bigint NOT NULL, end_ns bigint NOT NULL, "
            "input_tokens bigint NOT NULL, output_tokens bigint NOT NULL, "
            f"service_name text {_C}, session_id text {_C}, user_id text {_C}, tags text, "
            "metadata text, request_preview text, response_preview text, data text NOT NULL, "
            "ord integer NOT NULL, PRIMARY KEY (tid, span_id)) PARTITION BY RANGE (tid)",
            "CREATE INDEX spans_type ON spans (span_type, tid)",
            "CREATE INDEX spans_name ON spans (name, tid)",
            f"CREATE TABLE span_attrs (key text {_C} NOT NULL, value_text text {_C} NOT NULL, "
            "tid bigint NOT NULL, value_num double precision, "
            "PRIMARY KEY (key, value_text, tid)) PARTITION BY RANGE (tid)",
            "CREATE INDEX span_attrs_tid ON span_attrs (tid)",
            # Case-folded input/output text (``text.search_text``) with a trigram index.
            "CREATE TABLE trace_text (tid bigint NOT NULL, body text NOT NULL) "
            "PARTITION BY RANGE (tid)",
            "CREATE INDEX trace_text_tid ON trace_text (tid)",
            "CREATE INDEX trace_text_body ON trace_text USING gin (body gin_trgm_ops)",
            f"CREATE TABLE trace_tags (tid bigint NOT NULL, key text {_C} NOT NULL, "
            f"value_text text {_C}, value_num double precision, PRIMARY KEY (tid, key))",
            "CREATE INDEX trace_tags_text ON trace_tags (key, value_text)",
            f"CREATE TABLE trace_metadata (tid bigint NOT NULL, key text {_C} NOT NULL, "
            f"value_text text {_C}, value_num double precision, PRIMARY KEY (tid, key))",
            "CREATE INDEX trace_metadata_text ON trace_metadata (key, value_text)",
            # The append-only assessment log and its resolution (``assessments/resolve.py``).
            f"CREATE TABLE assessment_records (key text {_C} PRIMARY KEY, "
            f"trace_id text {_C} NOT NULL, time_ns bigint NOT NULL, "
            "seq bigint GENERATED ALWAYS AS IDENTITY, record text NOT NULL)",
            "CREATE INDEX assessment_records_trace ON assessment_records (trace_id, time_ns, seq)",
            f"CREATE TABLE assessments (assessment_id text {_C} PRIMARY KEY, "
            f"trace_id text {_C} NOT NULL, span_id text {_C}, name text {_C} NOT NULL, "
            f"kind text {_C} NOT NULL, valid integer NOT NULL, value_text text {_C}, "
            "value_num double precision, create_time_ms bigint, data text NOT NULL)",
            "CREATE INDEX assessments_trace ON assessments (trace_id)",
            "CREATE INDEX assessments_name ON assessments (name, kind, valid, value_text, "
            "trace_id)",
            # Records that are not spans (``store/records.py``): one row per version.
            f"CREATE TABLE records (seq bigint PRIMARY KEY, kind text {_C} NOT NULL, "
            f"id text {_C} NOT NULL, version integer NOT NULL, parent text {_C}, "
            "deleted boolean NOT NULL, created_ms bigint NOT NULL, created_by text, "
            "updated_ms bigint NOT NULL, updated_by text, data text NOT NULL)",
            "CREATE UNIQUE INDEX records_version ON records (kind, id, version)",
            "CREATE INDEX records_id ON records (kind, id, seq)",
            "CREATE INDEX records_parent ON records (kind, parent, id, seq)",
        ),
    ),
    Migration(
        # The server's requests, durable before they are indexed (``queue.py``), and the
        # ones that could not be indexed, kept with the error.
        2,
        "ingest_queue",
        (
            "CREATE TABLE ingest_queue (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
            "line bytea NOT NULL, received_ms bigint NOT NULL)",
            "CREATE TABLE ingest_rejected (id bigint PRIMARY KEY, line bytea NOT NULL, "
            "received_ms bigint NOT NULL, error text NOT NULL, rejected_ms bigint NOT NULL)",
        ),
    ),
    Migration(
        # The traces page's summary (``store/stats.py``) from indexes, as in the file
        # store's index: start with status and latency, and the yes/no ratings.
        3,
        "summary_indexes",
        (
            "DROP INDEX IF EXISTS traces_start",
            "CREATE INDEX traces_start ON traces (start_ms, status, execution_time_ms)",
            "CREATE INDEX assessments_ratings ON assessments (kind, valid, value_text, "
            "create_time_ms, trace_id)",
        ),
    ),
    Migration(
        # A queued request is kept uncompressed: it lives for a moment, and PostgreSQL's
        # compression of every request (on the database's cores) slowed acknowledging.
        4,
        "queue_uncompressed",
        ("ALTER TABLE ingest_queue ALTER COLUMN line SET STORAGE EXTERNAL",),
    ),
)

#: The schema version this code writes and reads.
SCHEMA_VERSION = MIGRATIONS[-1].version


def current_version(conn: Any) -> int:
    """The database's schema version (0: never migrated)."""
    found = conn.execute("SELECT to_regclass('schema_migrations')").fetchone()
    if found is None or found[0] is None:
        return 0
    row = conn.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()
    return int(row[0])


def check_version(version: int, where: str) -> None:
    """Raise ``SchemaTooNewError`` when ``version`` is newer than this code's."""
    if version > SCHEMA_VERSION:
        raise SchemaTooNewError(
            f"{where}: the database schema is version {version}, newer than this "
            f"otelfeedback's ({SCHEMA_VERSION}); upgrade otelfeedback to use it"
        )


def migrate(conn: Any, where: str, partition_traces: int | None = None) -> list[str]:
    """Apply pending migrations, each in its own transaction, under an advisory lock (several
    servers may start at once). Returns the names applied.

    Args:
        conn: a psycopg connection in autocommit mode.
        where: the database, for messages.
        partition_traces: traces per partition, for a new store (default 1,000,000).

    Raises:
        SchemaTooNewError: the database's schema is newer than this code's.
    """
    conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
    try:
        applied = current_version(conn)
        check_version(applied, where)
        if applied == 0:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, "
                "name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
            )
        done = []
        for migration in MIGRATIONS:
            if migration.version <= applied:
                continue
            with conn.transaction():
                for statement in migration.statements:
                    conn.execute(statement)
                if migration.version == 1:
                    conn.execute(
                        "INSERT INTO store_settings VALUES ('partition_traces', %s)",
                        (str(partition_traces or DEFAULT_PARTITION_TRACES),),
                    )
                conn.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                    (migration.version, migration.name),
                )
            done.append(f"{migration.version:04d}_{migration.name}")
        return done
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))
