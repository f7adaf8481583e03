"""The agreement statistics against worked examples from the literature, and a session's
report."""

from __future__ import annotations

import pytest

from otelfeedback.labeling.agreement import fleiss_kappa, krippendorff_alpha, percent_agreement

# Krippendorff, K. (2011). Computing Krippendorff's Alpha-Reliability. Annenberg School for
# Communication, University of Pennsylvania. Example C ("any number of observers, missing
# data"): 4 observers, 12 units, values 1-5; alpha nominal = 0.743, interval = 0.849.
_A = [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None]
_B = [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3]
_C = [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None]
_D = [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None]
KRIPPENDORFF_C = [[v for v in unit if v is not None] for unit in zip(_A, _B, _C, _D)]

# Same source, example A ("binary data, two observers, no missing data"): alpha = 0.095.
KRIPPENDORFF_A = list(zip([0, 1, 0, 0, 0, 0, 0, 0, 1, 0], [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]))

# Fleiss, J. L. (1971). Measuring nominal scale agreement among many raters. Psychological
# Bulletin, 76(5), 378-382. Table 1: 30 patients, 6 psychiatrists each, 5 diagnoses
# (depression, personality disorder, schizophrenia, neurosis, other); kappa = 0.430.
FLEISS_1971 = [
    [0, 0, 0, 6, 0],
    [0, 3, 0, 0, 3],
    [0, 1, 4, 0, 1],
    [0, 0, 0, 0, 6],
    [0, 3, 0, 3, 0],
    [2, 0, 4, 0, 0],
    [0, 0, 4, 0, 2],
    [2, 0, 3, 1, 0],
    [2, 0, 0, 4, 0],
    [0, 0, 0, 0, 6],
    [1, 0, 0, 5, 0],
    [1, 1, 0, 4, 0],
    [0, 3, 3, 0, 0],
    [1, 0, 0, 5, 0],
    [0, 2, 0, 3, 1],
    [0, 0, 5, 0, 1],
    [3, 0, 0, 1, 2],
    [5, 1, 0, 0, 0],
    [0, 2, 0, 4, 0],
    [1, 0, 2, 0, 3],
    [0, 0, 0, 0, 6],
    [0, 1, 0, 5, 0],
    [0, 2, 0, 1, 3],
    [2, 0, 0, 4, 0],
    [1, 0, 0, 4, 1],
    [0, 5, 0, 1, 0],
    [4, 0, 0, 0, 2],
    [0, 2, 0, 4, 0],
    [1, 0, 5, 0, 0],
    [0, 0, 0, 0, 6],
]

# Wikipedia, "Fleiss' kappa", worked example: 10 subjects, 14 raters, 5 categories;
# P-bar = 0.378, kappa = 0.210.
WIKIPEDIA_FLEISS = [
    [0, 0, 0, 0, 14],
    [0, 2, 6, 4, 2],
    [0, 0, 3, 5, 6],
    [0, 3, 9, 2, 0],
    [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0],
    [3, 2, 6, 3, 0],
    [2, 5, 3, 2, 2],
    [6, 5, 2, 1, 0],
    [0, 2, 2, 3, 7],
]


def units_of(counts: list[list[int]]) -> list[list[int]]:
    """Category counts per subject -> the ratings per subject."""
    return [[category for category, n in enumerate(row) for _ in range(n)] for row in counts]


def test_krippendorff_alpha_matches_the_published_examples() -> None:
    assert krippendorff_alpha(KRIPPENDORFF_C, "nominal") == pytest.approx(0.743, abs=5e-4)
    assert krippendorff_alpha(KRIPPENDORFF_C, "interval") == pytest.approx(0.849, abs=5e-4)
    assert krippendorff_alpha(KRIPPENDORFF_A, "nominal") == pytest.approx(0.095, abs=5e-4)


def test_fleiss_kappa_matches_the_published_examples() -> None:
    assert fleiss_kappa(units_of(FLEISS_1971)) == pytest.approx(0.430, abs=5e-4)
    assert fleiss_kappa(units_of(WIKIPEDIA_FLEISS)) == pytest.approx(0.210, abs=5e-4)
    assert percent_agreement(units_of(WIKIPEDIA_FLEISS)) == pytest.approx(0.378, abs=5e-4)


def test_perfect_chance_and_undefined_agreement() -> None:
    assert percent_agreement([["a", "a"], ["b", "b"]]) == 1.0
    assert krippendorff_alpha([["a", "a"], ["b", "b"]]) == 1.0
    assert fleiss_kappa([["a", "a"], ["b", "b"]]) == 1.0
    # every value the same: nothing varies, so alpha and kappa are undefined, not 1
    assert krippendorff_alpha([["a", "a"], ["a", "a"]]) is None
    assert fleiss_kappa([["a", "a"], ["a", "a"]]) is None
    # single ratings do not count; nothing pairable at all is undefined
    assert percent_agreement([["a"], ["b"]]) is None
    assert krippendorff_alpha([["a"], []]) is None
    assert fleiss_kappa([]) is None
    # systematic disagreement is below zero
    alpha = krippendorff_alpha([["a", "b"], ["b", "a"]])
    assert alpha is not None and alpha < 0


def test_interval_alpha_needs_numbers_and_unknown_levels_are_refused() -> None:
    with pytest.raises(ValueError, match="numbers"):
        krippendorff_alpha([["x", 1]], "interval")
    with pytest.raises(ValueError, match="numbers"):
        krippendorff_alpha([[True, 1]], "interval")
    with pytest.raises(ValueError, match="level"):
        krippendorff_alpha([[1, 1]], "ordinal")
