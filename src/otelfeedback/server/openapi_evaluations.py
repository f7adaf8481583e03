"""The OpenAPI paths and schemas of the evaluations API (``api_evaluations.py``), merged into
the document of ``openapi.py``."""

from __future__ import annotations

from typing import Any


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _ok(name: str) -> dict[str, Any]:
    return {"description": "OK", "content": {"application/json": {"schema": _ref(name)}}}


def _q(name: str, schema: dict[str, Any], description: str, required: bool = False) -> Any:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "schema": schema,
        "description": description,
    }


RUN_ID = {
    "name": "run_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$"},
}
ERRORS = {
    "400": {"description": "Bad input", "content": {"application/json": {"schema": _ref("Error")}}},
    "404": {
        "description": "No such run",
        "content": {"application/json": {"schema": _ref("Error")}},
    },
}
_STRING = {"type": "string"}
_NUMBER_OR_NULL = {"type": ["number", "null"]}

PATHS: dict[str, Any] = {
    "/api/evaluations/runs": {
        "get": {
            "summary": "Every evaluation run, newest first",
            "responses": {"200": _ok("EvaluationRunList")},
        }
    },
    "/api/evaluations/runs/{run_id}": {
        "get": {
            "summary": "One evaluation run: data source, scorers (judge model, prompt hash), "
            "metrics, error counts",
            "parameters": [RUN_ID],
            "responses": {"200": _ok("EvaluationRun"), **ERRORS},
        }
    },
    "/api/evaluations/runs/{run_id}/rows": {
        "get": {
            "summary": "A page of a run's rows: trace, inputs, outputs, expectations, results",
            "parameters": [
                RUN_ID,
                _q("offset", {"type": "integer", "minimum": 0}, "first row (0)"),
                _q("limit", {"type": "integer", "minimum": 1, "maximum": 1000}, "rows (100)"),
            ],
            "responses": {"200": _ok("EvaluationRowPage"), **ERRORS},
        }
    },
    "/api/evaluations/compare": {
        "get": {
            "summary": "Compare two runs: metric deltas; rows (paired by inputs) that "
            "regressed, improved or changed, per scorer",
            "parameters": [
                _q("base", _STRING, "the run compared against", True),
                _q("candidate", _STRING, "the newer run", True),
            ],
            "responses": {"200": _ok("RunComparison"), **ERRORS},
        }
    },
    "/api/evaluations/alignment": {
        "get": {
            "summary": "Judge-vs-human alignment over traces with both: n, agreement, "
            "Cohen's kappa, TPR/TNR, precision/recall, confusion matrix, disagreements",
            "parameters": [
                _q("judge", _STRING, "the judge's feedback name", True),
                _q("human", _STRING, "the human label's feedback name", True),
                _q("map", _STRING, "repeatable: HUMAN_VALUE=JUDGE_VALUE"),
                _q("judge_model", _STRING, "pin this judge model (default: the newest)"),
                _q("prompt_hash", _STRING, "pin this prompt hash (default: the newest)"),
                _q("run_id", _STRING, "only judge results of this run"),
                _q("positive", _STRING, "the label TPR/precision/recall are about (yes)"),
            ],
            "responses": {"200": _ok("AlignmentReport"), **ERRORS},
        }
    },
}

SCHEMAS: dict[str, Any] = {
    "EvaluationRun": {
        "type": "object",
        "properties": {
            "run_id": _STRING,
            "name": _STRING,
            "status": {"enum": ["running", "finished", "failed"]},
            "created_time_ms": {"type": "integer"},
            "finished_time_ms": {"type": ["integer", "null"]},
            "data_source": {
                "type": "object",
                "properties": {
                    "type": {"enum": ["traces", "rows", "dataset"]},
                    "rows": {"type": "integer"},
                    "dataset": {"type": ["object", "null"]},
                },
            },
            "predict_fn": {"type": ["string", "null"]},
            "scorers": {"type": "array", "items": {"type": "object"}},
            "metrics": {"type": "object", "additionalProperties": {"type": "number"}},
            "errors": {"type": "object", "additionalProperties": {"type": "integer"}},
            "row_count": {"type": "integer"},
            "passed_count": {"type": ["integer", "null"]},
        },
    },
    "EvaluationRunList": {
        "type": "object",
        "properties": {"runs": {"type": "array", "items": _ref("EvaluationRun")}},
    },
    "EvaluationRow": {
        "type": "object",
        "properties": {
            "index": {"type": "integer"},
            "trace_id": {"type": ["string", "null"]},
            "key": _STRING,
            "inputs": {},
            "outputs": {},
            "expectations": {},
            "results": {"type": "array", "items": {"type": "object"}},
            "error": {"type": ["string", "null"]},
            "passed": {"type": "boolean"},
        },
    },
    "EvaluationRowPage": {
        "type": "object",
        "properties": {
            "rows": {"type": "array", "items": _ref("EvaluationRow")},
            "total": {"type": "integer"},
            "next_offset": {"type": ["integer", "null"]},
        },
    },
    "RunComparison": {
        "type": "object",
        "properties": {
            "base": _ref("EvaluationRun"),
            "candidate": _ref("EvaluationRun"),
            "metrics": {"type": "array", "items": {"type": "object"}},
            "paired_rows": {"type": "integer"},
            "only_in_base": {"type": "integer"},
            "only_in_candidate": {"type": "integer"},
            "regressed": {"type": "object"},
            "improved": {"type": "object"},
            "changed": {"type": "object"},
        },
    },
    "AlignmentReport": {
        "type": "object",
        "properties": {
            "judge": _STRING,
            "human": _STRING,
            "judge_model": {"type": ["string", "null"]},
            "prompt_hash": {"type": ["string", "null"]},
            "n": {"type": "integer"},
            "agreement": _NUMBER_OR_NULL,
            "kappa": _NUMBER_OR_NULL,
            "tpr": _NUMBER_OR_NULL,
            "tnr": _NUMBER_OR_NULL,
            "precision": _NUMBER_OR_NULL,
            "recall": _NUMBER_OR_NULL,
            "labels": {"type": "array", "items": _STRING},
            "confusion": {"type": "object"},
            "per_label": {"type": "object"},
            "disagreements": {"type": "array", "items": {"type": "object"}},
            "skipped": {"type": "object"},
            "versions": {"type": "array", "items": {"type": "object"}},
        },
    },
}
