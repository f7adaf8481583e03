"""``Dataset.to_pandas()``: a version's records as a DataFrame (pandas is optional)."""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Sequence
from typing import Any

from otelfeedback.datasets.entities import DatasetRecord
from otelfeedback.datasets.normalize import AUTHORSHIP, FIELDS
from otelfeedback.errors import MissingExtraError

#: The record id, the content, where it came from, who made it, and the versions that
#: added and last changed it.
COLUMNS = ("record_id", *FIELDS, "source_type", "source_id", *AUTHORSHIP, "added_in", "changed_in")


def records_to_frame(records: Sequence[DatasetRecord]) -> Any:
    """One row per record, in the dataset's order; ``merge_records`` takes it back."""
    if importlib.util.find_spec("pandas") is None:
        raise MissingExtraError("pandas", "Dataset.to_pandas()")
    pd: Any = importlib.import_module("pandas")
    rows = [
        {**r.to_dict(), "source_type": r.source_type, "source_id": r.source_id} for r in records
    ]
    return pd.DataFrame(rows, columns=list(COLUMNS))
