"""Every route, probed with bad input: each answer is the 4xx the table names, never a 500.

Tables, one per kind of input (query and path parameters, JSON bodies, form posts, OTLP
bodies), each row a request and the status it must get. A refused write writes nothing, and
every answer (500s included: see test_security) carries the security headers.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest

from otelfeedback.server import create_app
from tests.server.conftest import Seeded
from tests.server.live import LiveServer, Reply, get, request

JSON = {"Content-Type": "application/json"}
JSON_HEADERS = tuple(JSON.items())
UNKNOWN_TRACE = "a" * 32
UNKNOWN_AID = "a-" + "0" * 32
DEEP = "[" * 100_000 + "]" * 100_000
#: A tag for the seeded trace's one feedback; ``{T}`` / ``{A}`` in a path are the trace and it.
T, A = "{T}", "{A}"


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    status: int
    body: bytes | None = None
    headers: tuple[tuple[str, str], ...] = ()
    code: str | None = None  # the JSON error code, for API answers


#: The traces page's JSON twin answers a bad filter with its page model and ``filter_error``.
FILTER_ERROR = "filter_error"


def q(text: str) -> str:
    return quote(text, safe="")


QUERIES = [
    # search API
    Case("GET", "/api/traces?max_results=" + q("²"), 400, code="INVALID_ARGUMENT"),
    Case("GET", "/api/traces?max_results=" + q("٣"), 400, code="INVALID_ARGUMENT"),
    Case("GET", "/api/traces?max_results=0", 400, code="INVALID_ARGUMENT"),
    Case("GET", "/api/traces?max_results=-1", 400, code="INVALID_ARGUMENT"),
    Case("GET", "/api/traces?max_results=1001", 400, code="INVALID_ARGUMENT"),
    Case("GET", "/api/traces?max_results=1e3", 400, code="INVALID_ARGUMENT"),
    Case("GET", "/api/traces?max_results=" + "9" * 5000, 400, code="INVALID_ARGUMENT"),
    Case("GET", "/api/traces?include_spans=maybe", 400, code="INVALID_ARGUMENT"),
    Case("GET", "/api/traces?order_by=colour", 400, code="INVALID_ARGUMENT"),
    Case("GET", "/api/traces?order_by=" + q("name SIDEWAYS"), 400, code="INVALID_ARGUMENT"),
    Case("GET", "/api/traces?page_token=zzz", 400, code="INVALID_ARGUMENT"),
    Case("GET", "/api/traces?page_token=" + "A" * 1000, 400, code="INVALID_ARGUMENT"),
    Case("GET", "/api/traces?filter=" + q("((("), 400, code="INVALID_FILTER"),
    Case(
        "GET",
        "/api/traces?filter=" + q("(" * 330 + "name = 'a'" + ")" * 330),
        400,
        code="INVALID_FILTER",
    ),
    Case("GET", "/api/traces?filter=" + q("NOT " * 989 + "name = 'a'"), 400, code="INVALID_FILTER"),
    Case(
        "GET",
        "/api/traces?filter=" + q("timestamp_ms > 9223372036854775808"),
        400,
        code="INVALID_FILTER",
    ),
    Case(
        "GET",
        "/api/traces?filter=" + q("tags.x = 99999999999999999999"),
        400,
        code="INVALID_FILTER",
    ),
    Case("GET", "/api/traces?filter=" + q("timestamp_ms > 1e400"), 400, code="INVALID_FILTER"),
    Case("GET", "/api/traces?filter=" + q("tags.x = 'a' & 1"), 400, code="INVALID_FILTER"),
    # one trace, one span, assessments
    Case("GET", "/api/traces/zz", 400, code="INVALID_ARGUMENT"),
    Case("GET", "/api/traces/%00", 400, code="INVALID_ARGUMENT"),
    Case("GET", f"/api/traces/{UNKNOWN_TRACE}", 404, code="NOT_FOUND"),
    Case("GET", f"/api/traces/{T}/spans/zz", 400, code="INVALID_ARGUMENT"),
    Case("GET", f"/api/traces/{T}/spans/{'a' * 16}", 404, code="NOT_FOUND"),
    Case("GET", f"/api/traces/zz/spans/{'a' * 16}", 400, code="INVALID_ARGUMENT"),
    Case("GET", "/api/traces/zz/assessments", 400, code="INVALID_ARGUMENT"),
    Case("GET", f"/api/traces/{UNKNOWN_TRACE}/assessments", 404, code="NOT_FOUND"),
    Case("GET", f"/api/traces/{T}/assessments/zz", 400, code="INVALID_ARGUMENT"),
    Case("GET", f"/api/traces/zz/assessments/{A}", 400, code="INVALID_ARGUMENT"),
    Case("GET", f"/api/traces/{T}/assessments/{UNKNOWN_AID}", 404, code="NOT_FOUND"),
    # records
    Case("GET", "/api/records/Bad", 400, code="INVALID_ARGUMENT"),
    Case("GET", "/api/records/" + "k" * 65, 400, code="INVALID_ARGUMENT"),
    Case("GET", "/api/records/a?limit=0", 400, code="INVALID_ARGUMENT"),
    Case("GET", "/api/records/a?limit=" + q("²"), 400, code="INVALID_ARGUMENT"),
    Case("GET", "/api/records/a?as_of=-1", 400, code="INVALID_ARGUMENT"),
    Case("GET", "/api/records/a?as_of=" + "9" * 40, 400, code="INVALID_ARGUMENT"),
    Case("GET", "/api/records/a?page_token=nope", 400, code="INVALID_ARGUMENT"),
    Case("GET", "/api/records/a?include_deleted=maybe", 400, code="INVALID_ARGUMENT"),
    Case("GET", "/api/records/a/%00", 400, code="INVALID_ARGUMENT"),
    Case("GET", "/api/records/a/b?version=0", 400, code="INVALID_ARGUMENT"),
    Case("GET", "/api/records/a/b?version=" + q("²"), 400, code="INVALID_ARGUMENT"),
    Case("GET", "/api/records/a/b", 404, code="NOT_FOUND"),
    Case("GET", "/api/records/Bad/b/history", 400, code="INVALID_ARGUMENT"),
    Case("GET", "/api/records/a/-b/history", 400, code="INVALID_ARGUMENT"),
    # datasets ("probe" exists: see Probe)
    Case("GET", "/api/datasets/missing", 404, code="NOT_FOUND"),
    Case("GET", "/api/datasets/%00", 400, code="INVALID_ARGUMENT"),
    Case("GET", "/api/datasets/probe?version=x", 400, code="INVALID_ARGUMENT"),
    Case("GET", "/api/datasets/probe?version=" + q("²"), 400, code="INVALID_ARGUMENT"),
    Case("GET", "/api/datasets/probe?version=99", 400, code="INVALID_ARGUMENT"),
    Case("GET", "/api/datasets/probe/records?limit=99999", 400, code="INVALID_ARGUMENT"),
    Case("GET", "/api/datasets/probe/records?offset=-1", 400, code="INVALID_ARGUMENT"),
    Case("GET", "/api/datasets/probe/records?version=" + "9" * 40, 400, code="INVALID_ARGUMENT"),
    Case("GET", "/api/datasets/missing/records", 404, code="NOT_FOUND"),
    Case("GET", "/api/datasets/missing/versions", 404, code="NOT_FOUND"),
    Case("GET", "/api/datasets/%00/versions", 400, code="INVALID_ARGUMENT"),
    Case("GET", "/api/datasets/probe/diff?from=x", 400, code="INVALID_ARGUMENT"),
    Case("GET", "/api/datasets/probe/diff?to=9", 400, code="INVALID_ARGUMENT"),
    Case("GET", "/api/datasets/missing/diff", 404, code="NOT_FOUND"),
    Case("DELETE", "/api/datasets/missing", 404, code="NOT_FOUND"),
    Case("DELETE", "/api/datasets/%00", 400, code="INVALID_ARGUMENT"),
    Case("GET", "/datasets/missing", 404),
    Case("GET", "/datasets/%00", 400),
    Case("GET", "/datasets/probe?version=9", 400),
    Case("GET", "/datasets/probe?page=x", 400),
    Case("GET", "/datasets/probe?format=json&version=9", 400, code="INVALID_ARGUMENT"),
    Case("GET", "/datasets/missing?format=json", 404, code="NOT_FOUND"),
    Case("GET", "/datasets/probe/diff?from=" + q("²"), 400),
    Case("GET", "/datasets/probe/diff?format=json&to=9", 400, code="INVALID_ARGUMENT"),
    # routes and methods that do not exist
    Case("GET", "/api/nope", 404, code="NOT_FOUND"),
    Case("PUT", "/api/traces", 405, code="METHOD_NOT_ALLOWED"),
    Case(
        "POST",
        "/api/traces",
        405,
        b"{}",
        (("Content-Type", "application/json"),),
        code="METHOD_NOT_ALLOWED",
    ),
    Case("DELETE", "/api/assessment-names", 405, code="METHOD_NOT_ALLOWED"),
    Case("GET", "/v1/traces", 405),
    Case("GET", "/nope", 404),
    Case("GET", "/static/x/nope.js", 404),
    # pages and their JSON twins
    Case("GET", "/traces?page=" + q("²"), 400),
    Case("GET", "/traces?page=0", 400),
    Case("GET", "/traces?page=" + "9" * 30, 400),
    Case("GET", "/traces?max_results=501", 400),
    Case("GET", "/traces?max_results=" + q("²"), 400),
    Case("GET", "/traces?sort=colour", 400),
    Case("GET", "/traces?dir=sideways", 400),
    Case("GET", "/traces?filter=" + q("((("), 400),
    Case("GET", "/traces?filter=" + q("(" * 330 + "name = 'a'" + ")" * 330), 400),
    Case("GET", "/traces?filter=" + q("tags.x = 99999999999999999999"), 400),
    Case("GET", "/traces?page_token=zzz", 400),
    Case("GET", "/traces?format=json&page=" + q("²"), 400, code="INVALID_ARGUMENT"),
    Case("GET", "/traces?format=json&filter=" + q("((("), 400, code=FILTER_ERROR),
    Case("GET", "/traces/zz", 400),
    Case("GET", "/traces?range=2y", 400),
    Case("GET", "/traces?format=json&range=2y", 400, code="INVALID_ARGUMENT"),
    # a form's address reopened with GET: a malformed id is a 400 (a good one redirects)
    Case("GET", "/traces/zz/assessments", 400),
    Case("GET", f"/traces/{UNKNOWN_TRACE}/assessments/zz/edit", 400),
    Case("GET", "/traces/zz/assessments/a-" + "0" * 32 + "/delete", 400),
    Case("GET", "/traces/%00", 400),
    Case("GET", f"/traces/{UNKNOWN_TRACE}", 404),
    Case("GET", "/traces/zz?format=json", 400, code="INVALID_ARGUMENT"),
    Case("GET", f"/traces/{UNKNOWN_TRACE}?format=json", 404, code="NOT_FOUND"),
    # labeling: REST, pages, the review app (the seeded store has no schema or session)
    Case("GET", "/api/labeling/schemas/nope", 404, code="NOT_FOUND"),
    Case("GET", "/api/labeling/schemas/" + "x" * 300, 400, code="INVALID_ARGUMENT"),
    Case("DELETE", "/api/labeling/schemas/nope", 404, code="NOT_FOUND"),
    Case("GET", "/api/labeling/sessions/nope", 404, code="NOT_FOUND"),
    Case("GET", "/api/labeling/sessions/" + "lss-" + "0" * 32, 404, code="NOT_FOUND"),
    Case("DELETE", "/api/labeling/sessions/nope", 404, code="NOT_FOUND"),
    Case("GET", "/api/labeling/sessions/nope/items?limit=0", 404, code="NOT_FOUND"),
    Case("GET", "/api/labeling/sessions/nope/progress", 404, code="NOT_FOUND"),
    Case("GET", "/api/labeling/sessions/nope/agreement", 404, code="NOT_FOUND"),
    Case("GET", "/labeling/sessions/nope", 404),
    Case("GET", "/labeling/sessions/nope?format=json", 404, code="NOT_FOUND"),
    Case("GET", "/labeling/schemas/nope", 404),
    Case("GET", "/labeling/schemas/nope?format=json", 404, code="NOT_FOUND"),
    Case("GET", "/review/garbage", 403),
    Case("GET", "/review/garbage?format=json", 403, code="LINK_REFUSED"),
    Case("GET", "/review/a.b/items/" + UNKNOWN_TRACE, 403),
    Case("GET", "/review/%00/done", 403),
    # evaluations: the API, the pages and their JSON twins
    Case("GET", "/api/evaluations/runs/nope", 404, code="NOT_FOUND"),
    Case("GET", "/api/evaluations/runs/-x", 400, code="INVALID_ARGUMENT"),
    Case("GET", "/api/evaluations/runs/" + "r" * 201, 400, code="INVALID_ARGUMENT"),
    Case("GET", "/api/evaluations/runs/nope/rows", 404, code="NOT_FOUND"),
    Case("GET", "/api/evaluations/runs/nope/rows?offset=-1", 400, code="INVALID_ARGUMENT"),
    Case("GET", "/api/evaluations/runs/nope/rows?offset=" + q("²"), 400, code="INVALID_ARGUMENT"),
    Case("GET", "/api/evaluations/runs/nope/rows?limit=0", 400, code="INVALID_ARGUMENT"),
    Case("GET", "/api/evaluations/compare", 400, code="INVALID_ARGUMENT"),
    Case("GET", "/api/evaluations/compare?base=a&candidate=b", 404, code="NOT_FOUND"),
    Case("GET", "/api/evaluations/compare?base=%00&candidate=b", 400, code="INVALID_ARGUMENT"),
    Case("GET", "/api/evaluations/alignment?judge=a", 400, code="INVALID_ARGUMENT"),
    Case("GET", "/api/evaluations/alignment?judge=a&human=b&map=x", 400, code="INVALID_ARGUMENT"),
    Case(
        "GET",
        "/api/evaluations/alignment?judge=" + "j" * 300 + "&human=b",
        400,
        code="INVALID_ARGUMENT",
    ),
    Case("GET", "/evaluations/runs/nope", 404),
    Case("GET", "/evaluations/runs/nope?format=json", 404, code="NOT_FOUND"),
    Case("GET", "/evaluations/runs/nope?page=" + q("²"), 400),
    Case("GET", "/evaluations/compare?base=a&candidate=b", 404),
    Case("GET", "/evaluations/compare?format=json", 400, code="INVALID_ARGUMENT"),
    Case("GET", "/evaluations/alignment?judge=a&human=b&mapping=nope", 400),
    Case("GET", "/evaluations/alignment?format=json&judge=a", 400, code="INVALID_ARGUMENT"),
]

ASSESSMENTS = f"/api/traces/{T}/assessments"
BAD_BODIES: list[tuple[bytes, int, str]] = [
    (b"", 400, "INVALID_JSON"),
    (b"{", 400, "INVALID_JSON"),
    (b"null", 400, "INVALID_JSON"),
    (b"[]", 400, "INVALID_JSON"),
    (b"\xff\xfe", 400, "INVALID_JSON"),
    (DEEP.encode(), 400, "INVALID_JSON"),
    (('{"value": ' + DEEP + "}").encode(), 400, "INVALID_JSON"),
    (('{"value": ' + "[" * 65 + "]" * 65 + "}").encode(), 400, "INVALID_JSON"),
    (b'{"value": "\\ud800"}', 400, "INVALID_JSON"),
    (b'{"name": "\\udfff", "value": 1}', 400, "INVALID_JSON"),
    (b'{"value": 1, "metadata": {"\\ud800": 1}}', 400, "INVALID_JSON"),
    (b'{"value": 1' + b"9" * 5000 + b"}", 400, "INVALID_JSON"),
    (b'{"value": NaN}', 400, "INVALID_ARGUMENT"),
    (b'{"value": Infinity}', 400, "INVALID_ARGUMENT"),
    (b'{"value": 1, "unknown": 1}', 400, "INVALID_ARGUMENT"),
]
CREATE_ONLY: list[tuple[bytes, int, str]] = [
    (b'{"kind": 1, "value": 1}', 400, "INVALID_ARGUMENT"),
    (b'{"kind": "x", "value": 1}', 400, "INVALID_ARGUMENT"),
    (b'{"name": 1, "value": 1}', 400, "INVALID_ARGUMENT"),
    (b'{"name": "", "value": 1}', 400, "INVALID_ARGUMENT"),
    (b'{"name": "' + b"x" * 100_000 + b'", "value": 1}', 400, "INVALID_ARGUMENT"),
    (b'{"value": 1, "source": 1}', 400, "INVALID_ARGUMENT"),
    (b'{"value": 1, "source": {"source_type": "ROBOT"}}', 400, "INVALID_ARGUMENT"),
    (b'{"value": 1, "source": {"source_id": 1}}', 400, "INVALID_ARGUMENT"),
    (b'{"value": 1, "span_id": 1}', 400, "INVALID_ARGUMENT"),
    (b'{"value": 1, "span_id": "zz"}', 400, "INVALID_ARGUMENT"),
    (b'{"value": 1, "metadata": 1}', 400, "INVALID_ARGUMENT"),
    (b'{"value": 1, "error": 1}', 400, "INVALID_ARGUMENT"),
    (b'{"error": {"error_code": 1}}', 400, "INVALID_ARGUMENT"),
    (b'{"value": 1, "rationale": 1}', 400, "INVALID_ARGUMENT"),
    (b'{"kind": "expectation", "value": 1, "rationale": "x"}', 400, "INVALID_ARGUMENT"),
]
WRITES = [
    *[Case("POST", ASSESSMENTS, s, b, JSON_HEADERS, c) for b, s, c in BAD_BODIES + CREATE_ONLY],
    *[Case("PATCH", f"{ASSESSMENTS}/{A}", s, b, JSON_HEADERS, c) for b, s, c in BAD_BODIES],
    *[Case("POST", f"{ASSESSMENTS}/{A}/override", s, b, JSON_HEADERS, c) for b, s, c in BAD_BODIES],
    Case(
        "POST", "/api/traces/zz/assessments", 400, b'{"value": 1}', JSON_HEADERS, "INVALID_ARGUMENT"
    ),
    Case(
        "POST",
        f"/api/traces/{UNKNOWN_TRACE}/assessments",
        404,
        b'{"value": 1}',
        JSON_HEADERS,
        "NOT_FOUND",
    ),
    Case("PATCH", f"{ASSESSMENTS}/zz", 400, b'{"value": 1}', JSON_HEADERS, "INVALID_ARGUMENT"),
    Case("PATCH", f"{ASSESSMENTS}/{UNKNOWN_AID}", 404, b'{"value": 1}', JSON_HEADERS, "NOT_FOUND"),
    Case(
        "POST", f"{ASSESSMENTS}/zz/override", 400, b'{"value": 1}', JSON_HEADERS, "INVALID_ARGUMENT"
    ),
    Case(
        "POST",
        f"{ASSESSMENTS}/{UNKNOWN_AID}/override",
        404,
        b'{"value": 1}',
        JSON_HEADERS,
        "NOT_FOUND",
    ),
    Case("DELETE", f"{ASSESSMENTS}/zz", 400, code="INVALID_ARGUMENT"),
    Case("DELETE", f"/api/traces/zz/assessments/{A}", 400, code="INVALID_ARGUMENT"),
    Case(
        "POST",
        ASSESSMENTS,
        415,
        b'{"value": 1}',
        (("Content-Type", "text/plain"),),
        "UNSUPPORTED_MEDIA_TYPE",
    ),
    Case("POST", ASSESSMENTS, 415, b'{"value": 1}', (), "UNSUPPORTED_MEDIA_TYPE"),
    Case(
        "POST",
        ASSESSMENTS,
        415,
        b"value=1",
        (("Content-Type", "application/x-www-form-urlencoded"),),
        "UNSUPPORTED_MEDIA_TYPE",
    ),
]

RECORD = {"kind": "a", "id": "b", "data": {"x": 1}}
RECORDS: list[tuple[bytes, int, str]] = [
    (b"", 400, "INVALID_JSON"),
    (b"[]", 400, "INVALID_JSON"),
    (DEEP.encode(), 400, "INVALID_JSON"),
    (b"\xff", 400, "INVALID_JSON"),
    (b'{"records": {}}', 400, "INVALID_ARGUMENT"),
    (b'{"records": [1]}', 400, "INVALID_ARGUMENT"),
    (b'{"records": [], "extra": 1}', 400, "INVALID_ARGUMENT"),
    (json.dumps({"records": [{**RECORD, "kind": "Bad"}]}).encode(), 400, "INVALID_ARGUMENT"),
    (
        json.dumps({"records": [{**RECORD, "expected_version": -1}]}).encode(),
        400,
        "INVALID_ARGUMENT",
    ),
    # a version no record can have: a conflict, whatever the store holds
    (
        json.dumps({"records": [{**RECORD, "expected_version": 2**70}]}).encode(),
        409,
        "CONFLICT",
    ),
    (json.dumps({"records": [RECORD], "author": 5}).encode(), 400, "INVALID_ARGUMENT"),
    (json.dumps({"records": [{**RECORD, "expected_version": 3}]}).encode(), 409, "CONFLICT"),
    (json.dumps({"records": [{**RECORD, "deleted": True}]}).encode(), 404, "NOT_FOUND"),
]
WRITES += [Case("POST", "/api/records", s, b, JSON_HEADERS, c) for b, s, c in RECORDS]
WRITES.append(
    Case(
        "POST",
        "/api/records",
        415,
        b"{}",
        (("Content-Type", "text/plain"),),
        "UNSUPPORTED_MEDIA_TYPE",
    )
)

LABELING_WRITES: list[tuple[str, bytes, int, str]] = [
    ("/api/labeling/schemas", b"", 400, "INVALID_JSON"),
    ("/api/labeling/schemas", DEEP.encode(), 400, "INVALID_JSON"),
    (
        "/api/labeling/schemas",
        b'{"name": "\\ud800", "title": "t", "input": {}}',
        400,
        "INVALID_JSON",
    ),
    ("/api/labeling/schemas", b'{"name": "x"}', 400, "INVALID_ARGUMENT"),
    (
        "/api/labeling/schemas",
        b'{"name": "x", "title": "t", "input": {"type": "stars"}}',
        400,
        "INVALID_ARGUMENT",
    ),
    (
        "/api/labeling/schemas",
        b'{"name": "x", "title": "t", "input": {"type": "numeric", "min_value": NaN}}',
        400,
        "INVALID_ARGUMENT",
    ),
    ("/api/labeling/sessions", b"[]", 400, "INVALID_JSON"),
    (
        "/api/labeling/sessions",
        b'{"name": "s", "label_schemas": ["nope"]}',
        400,
        "INVALID_ARGUMENT",
    ),
    ("/api/labeling/sessions", b'{"name": "s"}', 400, "INVALID_ARGUMENT"),
    ("/api/labeling/sessions/nope/traces", b'{"trace_ids": []}', 404, "NOT_FOUND"),
    ("/api/labeling/sessions/nope/traces/remove", b'{"trace_ids": []}', 404, "NOT_FOUND"),
    ("/api/labeling/sessions/nope/links", b"{}", 404, "NOT_FOUND"),
    ("/api/labeling/sessions/nope/links", b'{"colour": 1}', 400, "INVALID_ARGUMENT"),
    (
        "/api/labeling/sessions/nope/labels",
        b'{"trace_id": "x", "reviewer": "r", "labels": {}}',
        404,
        "NOT_FOUND",
    ),
]
WRITES += [Case("POST", p, s, b, JSON_HEADERS, c) for p, b, s, c in LABELING_WRITES]
WRITES.append(
    Case(
        "POST",
        "/api/labeling/schemas",
        415,
        b"{}",
        (("Content-Type", "text/plain"),),
        "UNSUPPORTED_MEDIA_TYPE",
    )
)
DATASET_BODIES: list[tuple[str, bytes, int, str]] = [
    ("", b"{", 400, "INVALID_JSON"),
    ("", b"[]", 400, "INVALID_JSON"),
    ("", DEEP.encode(), 400, "INVALID_JSON"),
    ("", b'{"name": ""}', 400, "INVALID_ARGUMENT"),
    ("", b'{"name": "a/b"}', 400, "INVALID_ARGUMENT"),
    ("", b'{"name": "probe"}', 400, "INVALID_ARGUMENT"),  # taken
    ("", b'{"name": "x", "owner": 1}', 400, "INVALID_ARGUMENT"),
    ("", b'{"name": "x", "tags": {"k": 1}}', 400, "INVALID_ARGUMENT"),
    ("/probe/records", b"{", 400, "INVALID_JSON"),
    ("/probe/records", b"{}", 400, "INVALID_ARGUMENT"),
    ("/probe/records", b'{"records": "x"}', 400, "INVALID_ARGUMENT"),
    ("/probe/records", b'{"records": []}', 400, "INVALID_ARGUMENT"),
    ("/probe/records", b'{"records": [{"inputs": "q"}]}', 400, "INVALID_ARGUMENT"),
    ("/probe/records", b'{"records": [{"inputs": {"q": NaN}}]}', 400, "INVALID_ARGUMENT"),
    (
        "/probe/records",
        b'{"records": [{"inputs": {"q": 1}}, {"inputs": {"q": "a"}}]}',
        400,
        "INVALID_ARGUMENT",
    ),
    ("/probe/records", b'{"records": [{"inputs": {"q": 1}, "x": 1}]}', 400, "INVALID_ARGUMENT"),
    ("/probe/records", b'{"records": [], "rows": 1}', 400, "INVALID_ARGUMENT"),
    ("/missing/records", b'{"records": [{"inputs": {"q": 1}}]}', 404, "NOT_FOUND"),
    ("/probe/records/delete", b'{"record_ids": ["x"]}', 400, "INVALID_ARGUMENT"),
    ("/probe/records/delete", b'{"record_ids": 5}', 400, "INVALID_ARGUMENT"),
    ("/probe/records/delete", b"{}", 400, "INVALID_ARGUMENT"),
    ("/probe/traces", b'{"trace_ids": []}', 400, "INVALID_ARGUMENT"),
    ("/probe/traces", b'{"trace_ids": ["zz"]}', 400, "INVALID_ARGUMENT"),
    ("/probe/traces", f'{{"trace_ids": ["{UNKNOWN_TRACE}"]}}'.encode(), 404, "NOT_FOUND"),
    ("/probe/traces", b'{"trace_ids": "x", "more": 1}', 400, "INVALID_ARGUMENT"),
    ("/missing/traces", f'{{"trace_ids": ["{UNKNOWN_TRACE}"]}}'.encode(), 404, "NOT_FOUND"),
]
WRITES += [
    Case("POST", "/api/datasets" + path, s, b, JSON_HEADERS, c) for path, b, s, c in DATASET_BODIES
]
WRITES.append(Case("POST", "/api/datasets/probe/records", 415, b"{}", (), "UNSUPPORTED_MEDIA_TYPE"))

GOOD_FORM = "kind=feedback&name=quality&value_type=number&value=3&reviewer=dev"
#: (path, form fields after the CSRF token, status); ``NO_CSRF`` drops the token.
NO_CSRF = "no-csrf"
FORMS: list[tuple[str, str, int]] = [
    (f"/traces/{T}/assessments", GOOD_FORM + "&" + NO_CSRF, 403),
    (f"/traces/{T}/assessments", "kind=x&name=q&value=1&reviewer=dev", 400),
    (f"/traces/{T}/assessments", "name=&value_type=boolean&value=yes&reviewer=dev", 400),
    (f"/traces/{T}/assessments", "name=q&value_type=boolean&value=maybe&reviewer=dev", 400),
    (f"/traces/{T}/assessments", "name=q&value_type=number&value=1e999&reviewer=dev", 400),
    (f"/traces/{T}/assessments", "name=q&value_type=number&value=abc&reviewer=dev", 400),
    (f"/traces/{T}/assessments", "name=q&value_type=json&value=NaN&reviewer=dev", 400),
    (
        f"/traces/{T}/assessments",
        "name=q&value_type=json&value=" + q(DEEP[:200_000]) + "&reviewer=dev",
        400,
    ),
    (
        f"/traces/{T}/assessments",
        "name=q&value_type=json&value=" + q('"\\ud800"') + "&reviewer=dev",
        400,
    ),
    (f"/traces/{T}/assessments", "name=q&value_type=colour&value=1&reviewer=dev", 400),
    (f"/traces/{T}/assessments", "name=q&value_type=text&value=x&reviewer=", 400),
    (f"/traces/{T}/assessments", "name=q&value_type=text&value=x&reviewer=" + "r" * 300, 400),
    (f"/traces/{T}/assessments", "name=q&value_type=text&value=x&reviewer=d&span_id=zz", 400),
    (
        f"/traces/{T}/assessments",
        "kind=expectation&name=q&value_type=text&value=x&rationale=why&reviewer=dev",
        400,
    ),
    ("/traces/zz/assessments", GOOD_FORM, 400),
    ("/traces/%00/assessments", GOOD_FORM, 400),
    ("/traces/zz/assessments", "kind=x", 400),
    (f"/traces/{UNKNOWN_TRACE}/assessments", GOOD_FORM, 404),
    (
        f"/traces/{UNKNOWN_TRACE}/assessments",
        "name=q&value_type=json&value=" + q(DEEP[:2000]) + "&reviewer=dev",
        404,
    ),
    (f"/traces/{T}/assessments/{A}/edit", "value_type=number&value=x&reviewer=dev", 400),
    (f"/traces/{T}/assessments/{A}/edit", "value_type=number&value=3&reviewer=", 400),
    (f"/traces/{T}/assessments/zz/edit", "value_type=number&value=3&reviewer=dev", 400),
    (f"/traces/{T}/assessments/{UNKNOWN_AID}/edit", "value_type=number&value=3&reviewer=d", 404),
    (f"/traces/zz/assessments/{A}/edit", "value_type=number&value=3&reviewer=dev", 400),
    ("/traces/zz/assessments/zz/edit", "value_type=json&value=" + q(DEEP[:2000]), 400),
    (f"/traces/{T}/assessments/{A}/edit", "value_type=number&value=3&" + NO_CSRF, 403),
    (f"/traces/{T}/assessments/zz/delete", "", 400),
    (f"/traces/zz/assessments/{A}/delete", "", 400),
    (f"/traces/{T}/assessments/{A}/delete", NO_CSRF, 403),
    ("/labeling/sessions", "name=&label_schemas=nope", 400),
    ("/labeling/sessions", "name=s&label_schemas=nope&reviewers_per_item=" + q("²"), 400),
    ("/labeling/sessions", "name=s&" + NO_CSRF, 403),
    ("/labeling/add-traces", "session=nope&trace_id=" + UNKNOWN_TRACE, 404),
    ("/labeling/add-traces", "session=nope&" + NO_CSRF, 403),
    ("/labeling/sessions/nope/links", "reviewer=a&days=3", 404),
    ("/labeling/sessions/nope/remove", "trace_id=zz", 404),
    ("/labeling/sessions/nope/delete", "", 404),
    ("/labeling/schemas", "name=x&title=t&type=feedback&input_type=categorical&options=", 400),
    ("/labeling/schemas", "name=x&title=t&input_type=numeric&min_value=2&max_value=1", 400),
    ("/labeling/schemas", "name=x&title=t&input_type=text&max_length=" + q("²"), 400),
    ("/labeling/schemas", "name=x&" + NO_CSRF, 403),
    ("/labeling/schemas/nope/delete", "", 404),
    ("/review/garbage/start", "reviewer=a", 403),
    ("/review/garbage/items/" + UNKNOWN_TRACE, "action=submit", 403),
    ("/datasets/add-traces", f"dataset=probe&trace_id={T}&{NO_CSRF}", 403),
    ("/datasets/add-traces", f"trace_id={T}", 400),
    ("/datasets/add-traces", "dataset=probe", 400),
    ("/datasets/add-traces", "dataset=probe&trace_id=zz", 400),
    ("/datasets/add-traces", f"dataset=a%2Fb&trace_id={T}", 400),
    ("/datasets/add-traces", f"dataset=probe&trace_id={UNKNOWN_TRACE}", 404),
    ("/datasets/add-traces", f"dataset=missing&trace_id={UNKNOWN_TRACE}", 404),
    ("/datasets", "name=", 400),
    ("/datasets", "name=a%2Fb", 400),
    ("/datasets", "name=probe", 400),
    ("/datasets", "name=x&" + NO_CSRF, 403),
]


@pytest.fixture
def probe(server: LiveServer, seeded: Seeded) -> Probe:
    return Probe(server, seeded)


class Probe:
    """Sends the table's requests with the seeded trace's ids, cookies and CSRF token."""

    def __init__(self, server: LiveServer, seeded: Seeded) -> None:
        self.server = server
        self.seeded = seeded
        page = get(server.url + f"/traces/{seeded.trace_id}")
        self.cookie = page.headers["set-cookie"].split(";")[0]
        found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert found is not None
        self.csrf = found.group(1)
        listed = get(server.url + f"/api/traces/{seeded.trace_id}/assessments").json()
        self.aid = listed["assessments"][0]["assessment_id"]
        created = request("POST", server.url + "/api/datasets", b'{"name": "probe"}', JSON)
        assert created.status == 201  # an empty dataset the dataset cases refer to

    def path(self, template: str) -> str:
        return template.replace(T, self.seeded.trace_id).replace(A, self.aid)

    def send(self, case: Case) -> Reply:
        return request(
            case.method, self.server.url + self.path(case.path), case.body, dict(case.headers)
        )

    def post_form(self, path: str, fields: str) -> Reply:
        if NO_CSRF in fields:
            fields = fields.replace("&" + NO_CSRF, "").replace(NO_CSRF, "")
        else:
            fields = f"csrf_token={self.csrf}&{fields}"
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": self.cookie}
        return request("POST", self.server.url + self.path(path), fields.encode(), headers)

    def store_bytes(self) -> int:
        """What the store holds: bytes of its files, or (PostgreSQL) its rows of written data."""
        if isinstance(self.seeded.store, str):
            import psycopg

            with psycopg.connect(self.seeded.store, autocommit=True) as conn:
                row = conn.execute(
                    "SELECT (SELECT count(*) FROM spans) + (SELECT count(*) FROM "
                    "assessment_records) + (SELECT count(*) FROM ingest_queue) + "
                    "(SELECT count(*) FROM records)"
                ).fetchone()
            return int(row[0]) if row else 0
        return sum(
            f.stat().st_size
            for f in self.seeded.store.rglob("*")
            if f.is_file() and f.name != "index.sqlite" and not f.name.startswith("index.sqlite")
        )


def check(reply: Reply, status: int, code: str | None, json_wanted: bool) -> str | None:
    """What is wrong with ``reply``, or None."""
    if reply.status != status:
        return f"status {reply.status}, expected {status}: {reply.body[:200]!r}"
    if "content-security-policy" not in {k.lower() for k in reply.headers}:
        return "no security headers"
    if code == FILTER_ERROR:
        return None if reply.json().get(FILTER_ERROR) else "no filter_error"
    if json_wanted:
        try:
            error = reply.json()["error"]
        except (ValueError, KeyError, TypeError):
            return f"not a JSON error: {reply.body[:200]!r}"
        if code is not None and error.get("code") != code:
            return f"code {error.get('code')!r}, expected {code!r}: {error.get('message')}"
        if not error.get("message"):
            return "an error without a message"
    return None


def run(cases: list[tuple[str, Reply, int, str | None, bool]]) -> None:
    failures = [
        f"{label}: {problem}"
        for label, reply, status, code, json_wanted in cases
        if (problem := check(reply, status, code, json_wanted)) is not None
    ]
    assert not failures, "\n".join(failures)


def _label(case: Case) -> str:
    return f"{case.method} {case.path[:100]} {(case.body or b'')[:60]!r}"


def test_bad_queries_and_paths_get_the_tables_4xx(probe: Probe) -> None:
    results = []
    for case in QUERIES:
        wants_json = case.path.startswith("/api/") or "format=json" in case.path
        results.append((_label(case), probe.send(case), case.status, case.code, wants_json))
    run(results)


def test_bad_json_writes_get_the_tables_4xx_and_write_nothing(probe: Probe) -> None:
    before = probe.store_bytes()
    results = [(_label(c), probe.send(c), c.status, c.code, True) for c in WRITES]
    run(results)
    assert probe.store_bytes() == before
    assert get(probe.server.url + "/api/records/a").json()["records"] == []
    # and the store still reads: the seeded feedback is intact
    listed = get(probe.server.url + f"/api/traces/{probe.seeded.trace_id}/assessments").json()
    assert [a["assessment_id"] for a in listed["assessments"]] == [probe.aid]


def test_bad_form_posts_get_the_tables_4xx_and_write_nothing(probe: Probe) -> None:
    before = probe.store_bytes()
    results = []
    for path, fields, status in FORMS:
        reply = probe.post_form(path, fields)
        results.append((f"POST {path} {fields[:80]}", reply, status, None, False))
    run(results)
    assert probe.store_bytes() == before


def test_a_refused_form_shows_the_trace_page_again_with_the_message(probe: Probe) -> None:
    reply = probe.post_form(
        f"/traces/{T}/assessments", "name=q&value_type=number&value=abc&reviewer=dev"
    )
    assert reply.status == 400
    assert "is not a number" in reply.text
    assert probe.seeded.trace_id in reply.text  # the trace page, not the error page
    bad_trace = probe.post_form("/traces/zz/assessments", "kind=x")
    assert bad_trace.status == 400
    assert "trace_id: expected a 32-character hex" in bad_trace.text


#: Routes that read no parameter and no body.
TAKE_NO_INPUT = {
    "/",
    "/api/openapi.json",
    "/api/assessment-names",
    "/api/health",
    "/labeling",
    "/api/evaluations/runs",
    "/evaluations",
}
#: ... and the methods of routes whose other methods do take input.
TAKE_NO_INPUT_METHODS = {
    ("GET", "/api/labeling/schemas"),
    ("GET", "/api/labeling/sessions"),
    ("POST", "/api/labeling/link-secret/rotate"),
    ("GET", "/labeling/sessions"),
    ("GET", "/labeling/schemas"),
    ("GET", "/api/datasets"),
    ("GET", "/datasets"),
}


def test_every_route_is_in_a_table(server: LiveServer) -> None:
    """A new route must be added to the tables above (and so be probed)."""
    probed = {(c.method, c.path.split("?")[0]) for c in QUERIES + WRITES}
    probed |= {("POST", p) for p, _, _ in FORMS}
    probed |= {("POST", "/v1/traces")}  # test_otlp_receiver and the fuzz tests
    unprobed = []
    for route in server.app.routes:
        pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(route.path))
        for method in route.methods or ():
            if (
                method == "HEAD"
                or route.path in TAKE_NO_INPUT
                or (method, route.path) in TAKE_NO_INPUT_METHODS
            ):
                continue
            if not any(m == method and re.fullmatch(pattern, p) for m, p in probed):
                unprobed.append(f"{method} {route.path}")
    assert not unprobed, f"not in a table: {unprobed}"


def test_deep_otlp_json_is_a_400_and_writes_nothing(tmp_path: Path) -> None:
    live = LiveServer(create_app(tmp_path / "store"))
    try:
        for body in (DEEP, '{"resourceSpans": ' + DEEP + "}"):
            reply = request("POST", live.url + "/v1/traces", body.encode(), JSON)
            assert reply.status == 400, reply.body
            assert "nested too deeply" in json.loads(reply.body)["message"]
        assert not list((tmp_path / "store" / "traces").glob("*")) or all(
            f.stat().st_size == 0 for f in (tmp_path / "store" / "traces").glob("*")
        )
    finally:
        live.close()
