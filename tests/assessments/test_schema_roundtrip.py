"""One assessment schema: an entity survives record -> wire attributes -> an OTLP/JSON line ->
decode -> log resolution -> entity unchanged, for any field values; and the REST schema names
exactly the fields ``to_dict`` writes."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from otelfeedback import AssessmentSource, AssessmentSourceType, Expectation, Feedback
from otelfeedback._internal.otlp_json.decode import decode_attributes
from otelfeedback._internal.otlp_json.encode import dumps_line, key_values
from otelfeedback.assessments.entities import AssessmentError
from otelfeedback.assessments.resolve import resolve_assessments
from otelfeedback.assessments.schema import FIELDS, openapi_schema
from otelfeedback.assessments.wire import AssessmentRecord, decode_record, record_attributes

_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=20)
_HEX16 = st.text("0123456789abcdef", min_size=16, max_size=16)
_HEX32 = st.text("0123456789abcdef", min_size=32, max_size=32)
_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | _TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=8,
)
_TIMES = st.integers(min_value=0, max_value=2**53)


@st.composite
def assessments(draw: st.DrawFn) -> Feedback | Expectation:
    common: dict[str, Any] = {
        "name": draw(_TEXT.filter(bool)),
        "value": draw(_JSON),
        "source": AssessmentSource(
            draw(st.sampled_from(list(AssessmentSourceType))), draw(_TEXT.filter(str.strip))
        ),
        "trace_id": draw(_HEX32),
        "span_id": draw(st.none() | _HEX16),
        "metadata": draw(st.dictionaries(_TEXT, _JSON, max_size=3)),
        "assessment_id": "a-" + draw(_HEX32),
        "create_time_ms": draw(_TIMES),
        "last_update_time_ms": draw(_TIMES),
    }
    if draw(st.booleans()):
        return Expectation(**common)
    error = draw(
        st.none() | st.builds(AssessmentError, _TEXT.filter(bool), st.none() | _TEXT, st.none())
    )
    return Feedback(
        **common,
        rationale=draw(st.none() | _TEXT),
        error=error,
        # An override names another assessment (never itself).
        overrides=draw(
            st.none() | _HEX32.map("a-".__add__).filter(lambda a: a != common["assessment_id"])
        ),
    )


@settings(max_examples=150, derandomize=True, deadline=None)
@given(assessments(), _TIMES)
def test_an_assessment_survives_the_wire_and_the_log(
    assessment: Feedback | Expectation, time_ns: int
) -> None:
    record = AssessmentRecord("create", assessment.to_record_fields(), time_ns, "key")
    # The attributes travel as an OTLP/JSON line and come back through the one decoder.
    line = dumps_line({"attributes": key_values(record_attributes(record))})
    attributes = decode_attributes(json.loads(line)["attributes"])
    decoded = decode_record(attributes, time_ns, "key")
    (resolved,) = resolve_assessments([decoded])
    assert resolved.to_dict() == assessment.to_dict()
    assert type(resolved) is type(assessment)


def test_the_rest_schema_names_exactly_what_to_dict_writes() -> None:
    example = Feedback(name="x", value=1, trace_id="0" * 32, assessment_id="a-1").to_dict()
    assert set(openapi_schema()["properties"]) == set(example)
    assert {f.name for f in FIELDS if f.group == "source"} == set(example["source"])


def test_source_parse_accepts_objects_dicts_and_none_and_names_bad_input() -> None:
    import pytest

    from otelfeedback import InvalidArgumentError

    assert AssessmentSource.parse(None, AssessmentSourceType.CODE) == AssessmentSource(
        AssessmentSourceType.CODE, "default"
    )
    parsed = AssessmentSource.parse({"source_type": "llm_judge", "source_id": " judge "})
    assert parsed == AssessmentSource(AssessmentSourceType.LLM_JUDGE, "judge")
    with pytest.raises(InvalidArgumentError, match="unknown source_type 'ROBOT'"):
        AssessmentSource.parse({"source_type": "ROBOT", "source_id": "x"})
    with pytest.raises(InvalidArgumentError, match="source_id must be a non-empty string"):
        AssessmentSource.parse({"source_type": "HUMAN", "source_id": "  "})
    with pytest.raises(InvalidArgumentError, match="at most 250 characters"):
        AssessmentSource.parse(AssessmentSource("HUMAN", "x" * 251))
    # Stored data with a type this version does not know is kept, not refused.
    kept = AssessmentSource.parse({"source_type": "ROBOT", "source_id": "r"}, strict=False)
    assert kept.source_type == "ROBOT"
