"""Label schemas, labeling sessions and expert review (``docs/labeling.md``).

::

    from otelfeedback.labeling import (
        InputCategorical, InputText, create_label_schema, create_labeling_session)

    create_label_schema("response_accuracy", type="feedback",
                        title="Is the response factually accurate?",
                        input=InputCategorical(["Accurate", "Partially Accurate", "Inaccurate"]))
    session = create_labeling_session("quickstart_review",
                                      label_schemas=["response_accuracy"])
    session.add_traces(otelfeedback.search_traces(max_results=1))
    print(session.url)   # the review app, for experts: no account, no install

Schemas, sessions and their items are records in the store (file store or remote); an
expert's label is an ordinary assessment on the trace.
"""

from otelfeedback.labeling._store import using_store
from otelfeedback.labeling.agreement import AgreementReport, Disagreement, SchemaAgreement
from otelfeedback.labeling.board import Review
from otelfeedback.labeling.inputs import (
    InputCategorical,
    InputCategoricalList,
    InputNumeric,
    InputText,
    InputTextList,
)
from otelfeedback.labeling.links import DEFAULT_LIFETIME
from otelfeedback.labeling.progress import LabelingItem, Progress, ReviewerProgress
from otelfeedback.labeling.schemas import (
    LabelSchema,
    create_label_schema,
    delete_label_schema,
    get_label_schema,
    list_label_schemas,
)
from otelfeedback.labeling.sessions import (
    LabelingSession,
    create_labeling_session,
    delete_labeling_session,
    get_labeling_session,
    list_labeling_sessions,
)

#: Built-in schema names the judges read (``Correctness`` reads ``expected_response``).
EXPECTED_RESPONSE = "expected_response"
EXPECTED_FACTS = "expected_facts"
GUIDELINES = "guidelines"


def rotate_review_link_secret() -> None:
    """Replace the key review links are signed with: every link given out so far stops
    working (reviewers then get a 403 page). New links use the new key."""
    from otelfeedback.labeling import links
    from otelfeedback.labeling._store import current_store

    links.rotate(current_store())


__all__ = [
    "DEFAULT_LIFETIME",
    "EXPECTED_FACTS",
    "EXPECTED_RESPONSE",
    "GUIDELINES",
    "AgreementReport",
    "Disagreement",
    "InputCategorical",
    "InputCategoricalList",
    "InputNumeric",
    "InputText",
    "InputTextList",
    "LabelSchema",
    "LabelingItem",
    "LabelingSession",
    "Progress",
    "Review",
    "ReviewerProgress",
    "SchemaAgreement",
    "create_label_schema",
    "create_labeling_session",
    "delete_label_schema",
    "delete_labeling_session",
    "get_label_schema",
    "get_labeling_session",
    "list_label_schemas",
    "list_labeling_sessions",
    "rotate_review_link_secret",
    "using_store",
]
