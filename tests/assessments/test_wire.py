"""Assessments as OTel data: what a plain OTLP backend receives."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

import otelfeedback
from otelfeedback import AssessmentSource, get_trace, log_expectation, log_feedback
from tests.otlp_receiver import HttpReceiver, attrs


def _hex_ids_to_base64(value: Any) -> Any:
    """OTLP/JSON writes ids as hex where the proto3 JSON mapping expects base64: the one
    documented difference; convert before handing the line to protobuf's parser."""
    if isinstance(value, list):
        return [_hex_ids_to_base64(v) for v in value]
    if isinstance(value, dict):
        return {
            k: base64.b64encode(bytes.fromhex(v)).decode()
            if k in ("traceId", "spanId", "parentSpanId") and isinstance(v, str)
            else _hex_ids_to_base64(v)
            for k, v in value.items()
        }
    return value


def _proto_spans(store_dir: Path) -> list[Any]:
    """Every span in the store's segments, parsed by opentelemetry-proto (not our decoder)."""
    spans = []
    for path in sorted((store_dir / "traces").glob("segment-*.jsonl")):
        for raw in path.read_text().splitlines():
            request = trace_service_pb2.ExportTraceServiceRequest()
            json_format.ParseDict(_hex_ids_to_base64(json.loads(raw)), request)
            for rs in request.resource_spans:
                for ss in rs.scope_spans:
                    spans.extend(ss.spans)
    return spans


def test_carrier_span_decoded_by_independent_parser(
    traced_call: Callable[[], str], store_dir: Path
) -> None:
    trace_id = traced_call()
    root_id = get_trace(trace_id).info.root_span_id
    fb = log_feedback(
        trace_id,
        "user_feedback",
        False,
        rationale="too vague",
        source=AssessmentSource("HUMAN", "enduser_123"),
        metadata={"ui": "web"},
    )
    otelfeedback.flush()
    carriers = [s for s in _proto_spans(store_dir) if s.name == "otelfeedback.assessment"]
    (carrier,) = carriers
    assert carrier.trace_id.hex() == trace_id
    (link,) = carrier.links
    assert (link.trace_id.hex(), link.span_id.hex()) == (trace_id, root_id)
    a = attrs(carrier.attributes)
    assert a["openinference.span.kind"] == "EVALUATOR"
    # OpenInference annotation, trace scope (no span_id given)
    prefix = "trace.annotations.0.annotation."
    assert a[prefix + "name"] == "user_feedback"
    assert a[prefix + "score"] == 0.0 and a[prefix + "label"] == "false"
    assert a[prefix + "explanation"] == "too vague"
    assert a[prefix + "annotator_kind"] == "HUMAN"
    assert a[prefix + "identifier"] == fb.assessment_id
    assert json.loads(a[prefix + "metadata"])["ui"] == "web"
    # our complete record
    assert a["otelfeedback.assessment.id"] == fb.assessment_id
    assert a["otelfeedback.assessment.operation"] == "create"
    assert json.loads(a["otelfeedback.assessment.value"]) is False
    assert a["otelfeedback.assessment.source_id"] == "enduser_123"
    # the OTel GenAI evaluation event
    (event,) = carrier.events
    assert event.name == "gen_ai.evaluation.result"
    assert attrs(event.attributes) == {
        "gen_ai.evaluation.name": "user_feedback",
        "gen_ai.evaluation.score.value": 0.0,
        "gen_ai.evaluation.score.label": "false",
        "gen_ai.evaluation.explanation": "too vague",
    }


def test_assessments_reach_a_real_otlp_receiver_linked_to_their_target(tmp_path: Path) -> None:
    receiver = HttpReceiver()
    try:
        otelfeedback.configure(store=tmp_path / "store", otlp_endpoint=receiver.endpoint)

        @otelfeedback.trace
        def app() -> str:
            with otelfeedback.start_span("search", span_type="TOOL"):
                pass
            return "done"

        app()
        trace_id = otelfeedback.get_last_active_trace_id() or ""
        tool = next(s for s in get_trace(trace_id).spans if s.name == "search")
        fb = log_feedback(trace_id, "useful", 4, span_id=tool.span_id)
        ex = log_expectation(trace_id, "expected_answer", "done!")
        otelfeedback.flush()
        received = receiver.wait_for(4)
    finally:
        receiver.close()
    carriers = {
        s.attributes["otelfeedback.assessment.id"]: s
        for s in received
        if "otelfeedback.assessment.id" in s.attributes
    }
    assert set(carriers) == {fb.assessment_id, ex.assessment_id}
    span_carrier = carriers[fb.assessment_id]
    assert span_carrier.trace_id == trace_id
    assert span_carrier.links[0][:2] == (trace_id, tool.span_id)
    assert span_carrier.attributes["annotations.0.annotation.score"] == 4.0
    assert [name for name, _ in span_carrier.events] == ["gen_ai.evaluation.result"]
    expectation_carrier = carriers[ex.assessment_id]
    assert expectation_carrier.attributes["otelfeedback.assessment.kind"] == "expectation"
    assert expectation_carrier.events == []  # an expectation is not an evaluation result
