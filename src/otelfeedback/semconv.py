"""The vocabulary: span types, attribute keys and assessment source types.

OTel GenAI (``gen_ai.*``) keys are used where they exist, OpenInference keys beside them,
and our own ``otelfeedback.*`` namespace only for what neither has. Every key is declared
once here; other modules import the constant, never the literal.
"""

from __future__ import annotations

from enum import Enum
from typing import Final

from otelfeedback.errors import InvalidArgumentError


class SpanType(str, Enum):
    """What a span represents. The value is stored in ``otelfeedback.span_type``."""

    LLM = "LLM"
    CHAT_MODEL = "CHAT_MODEL"
    RETRIEVER = "RETRIEVER"
    EMBEDDING = "EMBEDDING"
    RERANKER = "RERANKER"
    TOOL = "TOOL"
    CHAIN = "CHAIN"
    AGENT = "AGENT"
    PARSER = "PARSER"
    EVALUATOR = "EVALUATOR"
    GUARDRAIL = "GUARDRAIL"
    UNKNOWN = "UNKNOWN"

    def __str__(self) -> str:
        return self.value

    @classmethod
    def parse(cls, value: SpanType | str) -> SpanType:
        """Return the ``SpanType`` for ``value`` (case-insensitive).

        Raises:
            InvalidArgumentError: (a ``ValueError``) ``value`` is not a span type; the
                message lists the valid ones.
        """
        if isinstance(value, SpanType):
            return value
        if isinstance(value, str):
            member = cls.__members__.get(value.upper())
            if member is not None:
                return member
        valid = ", ".join(cls.__members__)
        raise InvalidArgumentError("span_type", f"unknown {value!r}; expected one of: {valid}")


#: OpenInference span kind for each of our span types (OpenInference has no CHAT_MODEL,
#: PARSER or UNKNOWN; they map to the nearest kind).
OPENINFERENCE_KIND: Final[dict[SpanType, str]] = {
    SpanType.LLM: "LLM",
    SpanType.CHAT_MODEL: "LLM",
    SpanType.RETRIEVER: "RETRIEVER",
    SpanType.EMBEDDING: "EMBEDDING",
    SpanType.RERANKER: "RERANKER",
    SpanType.TOOL: "TOOL",
    SpanType.CHAIN: "CHAIN",
    SpanType.AGENT: "AGENT",
    SpanType.PARSER: "CHAIN",
    SpanType.EVALUATOR: "EVALUATOR",
    SpanType.GUARDRAIL: "GUARDRAIL",
    SpanType.UNKNOWN: "CHAIN",
}


class AssessmentSourceType(str, Enum):
    """Who produced an assessment."""

    HUMAN = "HUMAN"
    LLM_JUDGE = "LLM_JUDGE"
    CODE = "CODE"

    def __str__(self) -> str:
        return self.value


# --- our own namespace ------------------------------------------------------------------
SPAN_TYPE: Final = "otelfeedback.span_type"
"""Our span type (a ``SpanType`` value)."""
TRACE_TAGS: Final = "otelfeedback.trace.tags"
"""JSON object of trace tags (key/value), on the local root span."""
TRACE_REQUEST_PREVIEW: Final = "otelfeedback.trace.request_preview"
"""Explicit request preview for the trace list, on the local root span."""
TRACE_RESPONSE_PREVIEW: Final = "otelfeedback.trace.response_preview"
"""Explicit response preview for the trace list, on the local root span."""
TRUNCATED: Final = "otelfeedback.truncated"
"""List of attribute keys whose values were cut to the size cap."""

# --- OpenInference ----------------------------------------------------------------------
OPENINFERENCE_SPAN_KIND: Final = "openinference.span.kind"
"""OpenInference span kind (LLM, CHAIN, TOOL, RETRIEVER, ...)."""
INPUT_VALUE: Final = "input.value"
"""The span's input: JSON or text."""
INPUT_MIME_TYPE: Final = "input.mime_type"
"""``application/json`` or ``text/plain``."""
OUTPUT_VALUE: Final = "output.value"
"""The span's output: JSON or text."""
OUTPUT_MIME_TYPE: Final = "output.mime_type"
"""``application/json`` or ``text/plain``."""
SESSION_ID: Final = "session.id"
"""Conversation / session id."""
USER_ID: Final = "user.id"
"""End-user id."""
METADATA: Final = "metadata"
"""JSON object of metadata."""
TAG_TAGS: Final = "tag.tags"
"""List of tag strings (OpenInference form of tags: ``key`` or ``key=value``)."""

MIME_JSON: Final = "application/json"
MIME_TEXT: Final = "text/plain"

# --- OTel GenAI -------------------------------------------------------------------------
GEN_AI_CONVERSATION_ID: Final = "gen_ai.conversation.id"
"""OTel GenAI conversation id (mirrors ``session.id``)."""
GEN_AI_OPERATION_NAME: Final = "gen_ai.operation.name"
"""``chat``, ``embeddings``, ``text_completion``, ``execute_tool``, ..."""
GEN_AI_PROVIDER_NAME: Final = "gen_ai.provider.name"
"""``openai``, ``azure.ai.openai``, ..."""
GEN_AI_REQUEST_MODEL: Final = "gen_ai.request.model"
GEN_AI_RESPONSE_MODEL: Final = "gen_ai.response.model"
GEN_AI_RESPONSE_ID: Final = "gen_ai.response.id"
GEN_AI_RESPONSE_FINISH_REASONS: Final = "gen_ai.response.finish_reasons"
GEN_AI_USAGE_INPUT_TOKENS: Final = "gen_ai.usage.input_tokens"
GEN_AI_USAGE_OUTPUT_TOKENS: Final = "gen_ai.usage.output_tokens"
GEN_AI_EVALUATION_RESULT: Final = "gen_ai.evaluation.result"
"""Event name for an evaluation / feedback result."""
GEN_AI_EVALUATION_NAME: Final = "gen_ai.evaluation.name"
GEN_AI_EVALUATION_SCORE_VALUE: Final = "gen_ai.evaluation.score.value"
GEN_AI_EVALUATION_SCORE_LABEL: Final = "gen_ai.evaluation.score.label"
GEN_AI_EVALUATION_EXPLANATION: Final = "gen_ai.evaluation.explanation"

# --- assessments on the wire (docs/assessments.md) ----------------------------------------
ASSESSMENT_PREFIX: Final = "otelfeedback.assessment."
ASSESSMENT_ID: Final = "otelfeedback.assessment.id"
ASSESSMENT_TRACE_ID: Final = "otelfeedback.assessment.trace_id"
ASSESSMENT_SPAN_ID: Final = "otelfeedback.assessment.span_id"
ASSESSMENT_NAME: Final = "otelfeedback.assessment.name"
ASSESSMENT_KIND: Final = "otelfeedback.assessment.kind"
"""``feedback`` or ``expectation``."""
ASSESSMENT_VALUE: Final = "otelfeedback.assessment.value"
"""The exact value, JSON-encoded."""
ASSESSMENT_RATIONALE: Final = "otelfeedback.assessment.rationale"
ASSESSMENT_SOURCE_TYPE: Final = "otelfeedback.assessment.source_type"
ASSESSMENT_SOURCE_ID: Final = "otelfeedback.assessment.source_id"
ASSESSMENT_METADATA: Final = "otelfeedback.assessment.metadata"
"""JSON object."""
ASSESSMENT_ERROR: Final = "otelfeedback.assessment.error"
"""JSON object ``{error_code, error_message, stack_trace}``."""
ASSESSMENT_CREATE_TIME_MS: Final = "otelfeedback.assessment.create_time_ms"
ASSESSMENT_LAST_UPDATE_TIME_MS: Final = "otelfeedback.assessment.last_update_time_ms"
ASSESSMENT_OVERRIDES: Final = "otelfeedback.assessment.overrides"
"""Id of the assessment this one replaces."""
ASSESSMENT_OPERATION: Final = "otelfeedback.assessment.operation"
"""``create``, ``update`` or ``delete``."""
ASSESSMENT_TIME_UNIX_NANO: Final = "otelfeedback.assessment.time_unix_nano"
"""When the record was made (ns since the epoch): the order of the log. A carrier span's own
timestamps lie inside its target trace instead (docs/assessments.md)."""

# --- OpenInference annotations (spec/annotations.md) -----------------------------------------
ANNOTATION_SPAN_PREFIX: Final = "annotations.0.annotation."
"""Prefix of a span-scope annotation on a carrier span (one annotation per carrier)."""
ANNOTATION_TRACE_PREFIX: Final = "trace.annotations.0.annotation."
"""Prefix of a trace-scope annotation on a carrier span."""
ANNOTATION_FIELDS: Final = (
    "name",
    "score",
    "label",
    "explanation",
    "annotator_kind",
    "identifier",
    "metadata",
)
"""Fields under an annotation prefix: ``name`` plus score/label/explanation, who and an
upsert ``identifier`` (our assessment id), ``metadata`` as a JSON object string."""
ERROR_TYPE: Final = "error.type"
"""OTel ``error.type``: on a ``gen_ai.evaluation.result`` event when the evaluator failed."""
ASSESSMENT_CARRIER_SPAN_NAME: Final = "otelfeedback.assessment"
"""Name of the carrier span that holds a post-hoc assessment record."""
RUN_ID: Final = "otelfeedback.run_id"
"""Trace metadata / assessment metadata key tying a trace to a run (labeling session,
evaluation run); ``search_traces(run_id=...)`` matches it."""
LABELING_SESSION_ID: Final = "otelfeedback.labeling.session_id"
"""Assessment metadata of an expert's label: the labeling session it was given in."""
LABELING_SESSION_NAME: Final = "otelfeedback.labeling.session"
"""Assessment metadata of an expert's label: the session's name when it was given."""
LABELING_SCHEMA: Final = "otelfeedback.labeling.schema"
"""Assessment metadata of an expert's label: the label schema it answers."""
LABELING_COMMENT: Final = "otelfeedback.labeling.comment"
"""Assessment metadata of an expectation label: the reviewer's comment (feedback labels
carry it as their rationale)."""

# --- evaluation (docs/evaluation.md) ----------------------------------------------------------
JUDGE_MODEL: Final = "otelfeedback.judge_model"
"""Assessment metadata: the judge model of an LLM judge's result (``openai:/gpt-4o-mini``)."""
PROMPT_HASH: Final = "otelfeedback.prompt_hash"
"""Assessment metadata: the hash of the judge's prompt template (12 hex)."""
SCORER: Final = "otelfeedback.scorer"
"""Assessment metadata: the name of the scorer that produced the result."""
JUDGE_RUN_ID: Final = "otelfeedback.judge_run_id"
"""Trace metadata of a judge call's own trace: the evaluation run it served (not ``RUN_ID``,
so ``search_traces(run_id=...)`` lists the app's traces, not the judges')."""
JUDGE_TARGET_TRACE: Final = "otelfeedback.judge_target_trace"
"""Trace metadata of a judge call's own trace: the trace it judged."""

# --- model calls (OpenAI instrumentation) -------------------------------------------------
# OTel GenAI request/response keys beyond the core ones above.
GEN_AI_REQUEST_TEMPERATURE: Final = "gen_ai.request.temperature"
GEN_AI_REQUEST_TOP_P: Final = "gen_ai.request.top_p"
GEN_AI_REQUEST_MAX_TOKENS: Final = "gen_ai.request.max_tokens"
GEN_AI_REQUEST_FREQUENCY_PENALTY: Final = "gen_ai.request.frequency_penalty"
GEN_AI_REQUEST_PRESENCE_PENALTY: Final = "gen_ai.request.presence_penalty"
GEN_AI_REQUEST_STOP_SEQUENCES: Final = "gen_ai.request.stop_sequences"
GEN_AI_REQUEST_SEED: Final = "gen_ai.request.seed"
GEN_AI_REQUEST_CHOICE_COUNT: Final = "gen_ai.request.choice.count"
"""Number of choices asked for (set only when not 1)."""
GEN_AI_REQUEST_STREAM: Final = "gen_ai.request.stream"
GEN_AI_REQUEST_ENCODING_FORMATS: Final = "gen_ai.request.encoding_formats"
GEN_AI_OUTPUT_TYPE: Final = "gen_ai.output.type"
"""``text`` or ``json`` (structured outputs)."""
GEN_AI_EMBEDDINGS_DIMENSION_COUNT: Final = "gen_ai.embeddings.dimension.count"
GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: Final = "gen_ai.usage.cache_read.input_tokens"
GEN_AI_USAGE_REASONING_OUTPUT_TOKENS: Final = "gen_ai.usage.reasoning.output_tokens"
GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK: Final = "gen_ai.response.time_to_first_chunk"
"""Seconds from the request to the first chunk of a stream."""
OPENAI_REQUEST_SERVICE_TIER: Final = "openai.request.service_tier"
OPENAI_RESPONSE_SERVICE_TIER: Final = "openai.response.service_tier"
OPENAI_RESPONSE_SYSTEM_FINGERPRINT: Final = "openai.response.system_fingerprint"
SERVER_ADDRESS: Final = "server.address"
SERVER_PORT: Final = "server.port"
HTTP_RESPONSE_STATUS_CODE: Final = "http.response.status_code"
HTTP_REQUEST_RESEND_COUNT: Final = "http.request.resend_count"
"""Retries the client made (on the span: in total; on a retry event: this retry's number)."""

# OpenInference LLM keys (flattened, zero-based index paths).
LLM_MODEL_NAME: Final = "llm.model_name"
LLM_PROVIDER: Final = "llm.provider"
"""Who hosts the model: ``openai``, ``azure``."""
LLM_SYSTEM: Final = "llm.system"
"""The model family's vendor API: ``openai``."""
LLM_INVOCATION_PARAMETERS: Final = "llm.invocation_parameters"
"""JSON object of every request parameter except the prompt/messages."""
LLM_INPUT_MESSAGES: Final = "llm.input_messages"
#: How many of the earliest input messages were left out of ``llm.input_messages.*`` to keep
#: the span under the attribute limit (the whole conversation is in ``input.value``).
LLM_INPUT_MESSAGES_OMITTED: Final = "otelfeedback.llm.input_messages.omitted"
"""Prefix: ``llm.input_messages.N.message.role`` etc."""
LLM_OUTPUT_MESSAGES: Final = "llm.output_messages"
LLM_PROMPTS: Final = "llm.prompts"
"""Legacy completions: the prompt strings."""
LLM_TOOLS: Final = "llm.tools"
"""Prefix: ``llm.tools.N.tool.json_schema``."""
LLM_TOKEN_COUNT_PROMPT: Final = "llm.token_count.prompt"
LLM_TOKEN_COUNT_COMPLETION: Final = "llm.token_count.completion"
LLM_TOKEN_COUNT_TOTAL: Final = "llm.token_count.total"
LLM_TOKEN_COUNT_CACHE_READ: Final = "llm.token_count.prompt_details.cache_read"
LLM_TOKEN_COUNT_REASONING: Final = "llm.token_count.completion_details.reasoning"
MESSAGE_ROLE: Final = "message.role"
MESSAGE_CONTENT: Final = "message.content"
MESSAGE_NAME: Final = "message.name"
MESSAGE_TOOL_CALL_ID: Final = "message.tool_call_id"
MESSAGE_CONTENTS: Final = "message.contents"
"""Prefix of multi-part content: ``message.contents.M.message_content.type`` etc."""
MESSAGE_CONTENT_TYPE: Final = "message_content.type"
MESSAGE_CONTENT_TEXT: Final = "message_content.text"
MESSAGE_CONTENT_IMAGE_URL: Final = "message_content.image.image.url"
MESSAGE_TOOL_CALLS: Final = "message.tool_calls"
"""Prefix: ``message.tool_calls.K.tool_call.id`` etc."""
TOOL_CALL_ID: Final = "tool_call.id"
TOOL_CALL_FUNCTION_NAME: Final = "tool_call.function.name"
TOOL_CALL_FUNCTION_ARGUMENTS: Final = "tool_call.function.arguments"
TOOL_JSON_SCHEMA: Final = "tool.json_schema"
EMBEDDING_MODEL_NAME: Final = "embedding.model_name"
EMBEDDING_EMBEDDINGS: Final = "embedding.embeddings"
"""Prefix: ``embedding.embeddings.N.embedding.text`` (vectors are never recorded)."""
EMBEDDING_TEXT: Final = "embedding.text"
EMBEDDING_INVOCATION_PARAMETERS: Final = "embedding.invocation_parameters"

# Our own, where neither vocabulary has a key.
STREAM_END: Final = "otelfeedback.stream.end"
"""How a streamed call's span ended: ``exhausted``, ``closed``, ``error`` or ``abandoned``."""
RETRY_EVENT: Final = "otelfeedback.retry"
"""Span event: the client is about to retry (``http.request.resend_count``, the failed
attempt's ``http.response.status_code`` or ``error.type``, and the wait)."""
RETRY_DELAY_S: Final = "otelfeedback.retry.delay_s"
"""Seconds the client waited before the retry."""
