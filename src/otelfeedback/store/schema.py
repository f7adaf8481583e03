"""The index schema, as an append-only list of migrations applied on open.

A shipped migration is never edited: a schema change is a new entry at the end. The file
store's index is derived data, so a migration may also ask for a rebuild (``reindex=True``):
the tables are emptied and the OTLP/JSON lines read again.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Migration:
    name: str
    statements: tuple[str, ...]
    reindex: bool = False


_KV = (
    "(trace_id TEXT NOT NULL, key TEXT NOT NULL, value_text TEXT, value_num REAL, "
    "PRIMARY KEY (trace_id, key))"
)

MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        "0001_initial",
        (
            "CREATE TABLE segments (name TEXT PRIMARY KEY, offset INTEGER NOT NULL, "
            "line INTEGER NOT NULL)",
            "CREATE TABLE spans (trace_id TEXT NOT NULL, span_id TEXT NOT NULL, "
            "parent_span_id TEXT, name TEXT NOT NULL, span_type TEXT NOT NULL, "
            "status TEXT NOT NULL, start_ns INTEGER NOT NULL, end_ns INTEGER NOT NULL, "
            "input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL, service_name TEXT, "
            "session_id TEXT, user_id TEXT, tags TEXT, metadata TEXT, request_preview TEXT, "
            "response_preview TEXT, data TEXT NOT NULL)",
            "CREATE UNIQUE INDEX spans_id ON spans (trace_id, span_id)",
            "CREATE INDEX spans_type ON spans (span_type, trace_id)",
            "CREATE INDEX spans_name ON spans (name, trace_id)",
            "CREATE TABLE span_attrs (key TEXT NOT NULL, value_text TEXT NOT NULL, "
            "trace_id TEXT NOT NULL, span_id TEXT NOT NULL, value_num REAL, "
            "PRIMARY KEY (key, value_text, trace_id, span_id)) WITHOUT ROWID",
            "CREATE VIRTUAL TABLE span_text USING fts5(trace_id UNINDEXED, body, "
            "tokenize='trigram')",
            "CREATE TABLE traces (trace_id TEXT PRIMARY KEY, name TEXT, status TEXT NOT NULL, "
            "start_ms INTEGER NOT NULL, end_ms INTEGER NOT NULL, execution_time_ms REAL NOT NULL, "
            "service_name TEXT, session_id TEXT, user_id TEXT, input_tokens INTEGER NOT NULL, "
            "output_tokens INTEGER NOT NULL, total_tokens INTEGER NOT NULL, "
            "span_count INTEGER NOT NULL, root_span_id TEXT, request_preview TEXT, "
            "response_preview TEXT, tags TEXT NOT NULL, metadata TEXT NOT NULL)",
            "CREATE INDEX traces_start ON traces (start_ms)",
            "CREATE INDEX traces_duration ON traces (execution_time_ms)",
            "CREATE INDEX traces_name ON traces (name)",
            "CREATE INDEX traces_session ON traces (session_id)",
            "CREATE TABLE trace_tags " + _KV,
            "CREATE INDEX trace_tags_text ON trace_tags (key, value_text)",
            "CREATE TABLE trace_metadata " + _KV,
            "CREATE INDEX trace_metadata_text ON trace_metadata (key, value_text)",
            "CREATE TABLE assessment_records (key TEXT PRIMARY KEY, trace_id TEXT NOT NULL, "
            "time_ns INTEGER NOT NULL, record TEXT NOT NULL)",
            "CREATE INDEX assessment_records_trace ON assessment_records (trace_id)",
            "CREATE TABLE assessments (assessment_id TEXT PRIMARY KEY, trace_id TEXT NOT NULL, "
            "span_id TEXT, name TEXT NOT NULL, kind TEXT NOT NULL, valid INTEGER NOT NULL, "
            "value_text TEXT, value_num REAL, create_time_ms INTEGER, data TEXT NOT NULL)",
            "CREATE INDEX assessments_trace ON assessments (trace_id)",
            "CREATE INDEX assessments_name ON assessments (name, kind, valid, value_text)",
        ),
    ),
    Migration(
        # Integer trace keys (``traces.id``, monotonic in arrival order) in every per-trace
        # table, so that bulk inserts append to the B-trees instead of landing at random
        # places (random 128-bit trace ids made every index page dirty in every chunk);
        # previews stored for parentless spans only; span data without the columns it
        # duplicates; span attributes once per trace; full text as an external-content FTS5
        # index over ``trace_text``, which the search also reads directly (see
        # ``query/dialect.py``). Derived data: the old tables are dropped and the index is
        # rebuilt from the segments on the next read.
        "0002_integer_trace_keys",
        (
            "DROP TABLE spans",
            "DROP TABLE span_attrs",
            "DROP TABLE span_text",
            "DROP TABLE traces",
            "DROP TABLE trace_tags",
            "DROP TABLE trace_metadata",
            "DELETE FROM assessment_records",
            "DELETE FROM assessments",
            "DELETE FROM segments",
            "CREATE TABLE traces (id INTEGER PRIMARY KEY, trace_id TEXT NOT NULL UNIQUE, "
            "name TEXT, status TEXT NOT NULL, start_ms INTEGER NOT NULL, end_ms INTEGER NOT NULL, "
            "execution_time_ms REAL NOT NULL, service_name TEXT, session_id TEXT, user_id TEXT, "
            "input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL, "
            "total_tokens INTEGER NOT NULL, span_count INTEGER NOT NULL, root_span_id TEXT, "
            "request_preview TEXT, response_preview TEXT, tags TEXT NOT NULL, "
            "metadata TEXT NOT NULL)",
            "CREATE INDEX traces_start ON traces (start_ms)",
            "CREATE INDEX traces_duration ON traces (execution_time_ms)",
            "CREATE INDEX traces_name ON traces (name)",
            "CREATE INDEX traces_session ON traces (session_id)",
            "CREATE TABLE spans (tid INTEGER NOT NULL, span_id TEXT NOT NULL, "
            "parent_span_id TEXT, name TEXT NOT NULL, span_type TEXT NOT NULL, "
            "status TEXT NOT NULL, start_ns INTEGER NOT NULL, end_ns INTEGER NOT NULL, "
            "input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL, service_name TEXT, "
            "session_id TEXT, user_id TEXT, tags TEXT, metadata TEXT, request_preview TEXT, "
            "response_preview TEXT, data TEXT NOT NULL)",
            "CREATE UNIQUE INDEX spans_id ON spans (tid, span_id)",
            "CREATE INDEX spans_type ON spans (span_type, tid)",
            "CREATE INDEX spans_name ON spans (name, tid)",
            "CREATE TABLE span_attrs (key TEXT NOT NULL, value_text TEXT NOT NULL, "
            "tid INTEGER NOT NULL, value_num REAL, PRIMARY KEY (key, value_text, tid)) "
            "WITHOUT ROWID",
            "CREATE TABLE trace_tags (tid INTEGER NOT NULL, key TEXT NOT NULL, value_text TEXT, "
            "value_num REAL, PRIMARY KEY (tid, key)) WITHOUT ROWID",
            "CREATE INDEX trace_tags_text ON trace_tags (key, value_text)",
            "CREATE TABLE trace_metadata (tid INTEGER NOT NULL, key TEXT NOT NULL, "
            "value_text TEXT, value_num REAL, PRIMARY KEY (tid, key)) WITHOUT ROWID",
            "CREATE INDEX trace_metadata_text ON trace_metadata (key, value_text)",
            "CREATE TABLE trace_text (id INTEGER PRIMARY KEY, tid INTEGER NOT NULL, "
            "body TEXT NOT NULL)",
            "CREATE INDEX trace_text_tid ON trace_text (tid)",
            "CREATE VIRTUAL TABLE trace_fts USING fts5(body, content='trace_text', "
            "content_rowid='id', tokenize='trigram')",
            "DROP INDEX assessments_name",
            "CREATE INDEX assessments_name ON assessments (name, kind, valid, value_text, "
            "trace_id)",
        ),
        reindex=True,
    ),
    Migration(
        # The trigram index without positions (``detail=none``): SQLite checks every
        # candidate row with LIKE anyway, so positions only cost time (half the index
        # time) and space. A 16 MB pending-terms buffer and merging 8 segments at a time
        # keep the merges of a growing index rare. ``rebuild`` refills it from trace_text.
        "0003_fts_without_positions",
        (
            "DROP TABLE trace_fts",
            "CREATE VIRTUAL TABLE trace_fts USING fts5(body, content='trace_text', "
            "content_rowid='id', tokenize='trigram', detail='none')",
            "INSERT INTO trace_fts (trace_fts, rank) VALUES ('hashsize', 16777216)",
            "INSERT INTO trace_fts (trace_fts, rank) VALUES ('automerge', 8)",
            "INSERT INTO trace_fts (trace_fts) VALUES ('rebuild')",
        ),
    ),
    Migration(
        # Secondary indexes a bulk load dropped, to recreate at its end (``store/bulk.py``).
        "0004_deferred_indexes",
        ("CREATE TABLE _deferred_indexes (name TEXT PRIMARY KEY, sql TEXT NOT NULL)",),
    ),
    Migration(
        # Records that are not spans (``store/records.py``), from ``<store>/records/``:
        # one row per version; ``seq`` is the store-wide sequence written in the line.
        "0005_records",
        (
            "CREATE TABLE records (seq INTEGER PRIMARY KEY, kind TEXT NOT NULL, "
            "id TEXT NOT NULL, version INTEGER NOT NULL, parent TEXT, deleted INTEGER NOT NULL, "
            "created_ms INTEGER NOT NULL, created_by TEXT, updated_ms INTEGER NOT NULL, "
            "updated_by TEXT, data TEXT NOT NULL)",
            "CREATE UNIQUE INDEX records_version ON records (kind, id, version)",
            "CREATE INDEX records_id ON records (kind, id, seq)",
            "CREATE INDEX records_parent ON records (kind, parent, id, seq)",
            "CREATE TABLE record_segments (name TEXT PRIMARY KEY, offset INTEGER NOT NULL, "
            "line INTEGER NOT NULL)",
        ),
    ),
    Migration(
        # ``next_seq``: the sequence of the version that replaced a row (NULL: the latest), so
        # "every record as of sequence S" is one range scan (seq <= S < next_seq) instead of
        # a grouping; the parent index without the sequence (a row id is in every index
        # entry anyway), and no (kind, id, seq) index (the unique one serves). The records
        # are read again from their lines on the next read, which sets ``next_seq``.
        "0006_record_snapshots",
        (
            "ALTER TABLE records ADD COLUMN next_seq INTEGER",
            "DROP INDEX records_id",
            "DROP INDEX records_parent",
            "CREATE INDEX records_parent ON records (kind, parent, id)",
            "DELETE FROM records",
            "DELETE FROM record_segments",
        ),
    ),
    Migration(
        # Request / response previews read from the conversation (the last user message,
        # the answer: ``_internal/chat.py``) instead of the first characters of the raw
        # input and output: the traces table's one-line rows. Derived data: rebuilt.
        # With them: every text ends with two newlines (``rows.TEXT_END``) and the trigram
        # index's terms are readable (``trace_fts_terms``), so a one- or two-character
        # pattern finds its candidates from the terms that start with it; and the start
        # index also holds status and latency, and the ratings (yes/no feedback) have their
        # own index, so the traces page's summary reads indexes only.
        "0007_conversation_previews",
        (
            "CREATE VIRTUAL TABLE trace_fts_terms USING fts5vocab(trace_fts, 'instance')",
            "DROP INDEX IF EXISTS traces_start",
            "CREATE INDEX traces_start ON traces (start_ms, status, execution_time_ms)",
            "CREATE INDEX assessments_ratings ON assessments (kind, valid, value_text, "
            "create_time_ms, trace_id)",
        ),
        reindex=True,
    ),
    Migration(
        # Lines the indexer could not take, even repaired (``store/indexer.py``): reported
        # by ``FileStore.index_status()`` until the next rebuild.
        "0008_skipped_lines",
        (
            "CREATE TABLE skipped_lines (segment TEXT NOT NULL, line INTEGER NOT NULL, "
            "reason TEXT NOT NULL, time REAL NOT NULL, PRIMARY KEY (segment, line))",
        ),
    ),
)

#: Statements that empty the derived data (the next ``update`` reads everything again).
CLEAR_STATEMENTS = (
    "DELETE FROM segments",
    "DELETE FROM spans",
    "DELETE FROM span_attrs",
    "INSERT INTO trace_fts (trace_fts) VALUES ('delete-all')",
    "DELETE FROM trace_text",
    "DELETE FROM traces",
    "DELETE FROM trace_tags",
    "DELETE FROM trace_metadata",
    "DELETE FROM assessment_records",
    "DELETE FROM assessments",
    "DELETE FROM record_segments",
    "DELETE FROM records",
    "DELETE FROM skipped_lines",
)


def migrate(conn: sqlite3.Connection) -> bool:
    """Apply pending migrations (in one write transaction). Returns whether a rebuild of the
    derived data is needed."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at REAL NOT NULL)"
    )
    applied = {row[0] for row in conn.execute("SELECT name FROM _migrations")}
    pending = [m for m in MIGRATIONS if m.name not in applied]
    if not pending:
        return False
    conn.execute("BEGIN IMMEDIATE")
    try:
        applied = {row[0] for row in conn.execute("SELECT name FROM _migrations")}
        reindex = False
        for migration in MIGRATIONS:
            if migration.name in applied:
                continue
            for statement in migration.statements:
                conn.execute(statement)
            conn.execute("INSERT INTO _migrations VALUES (?, ?)", (migration.name, time.time()))
            reindex = reindex or (migration.reindex and bool(applied))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return reindex
