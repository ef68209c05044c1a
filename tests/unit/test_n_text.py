"""The results table and JUnit show missing and invalid samples next to ``n``."""

from __future__ import annotations

from pytest_kubevirt_burner.report.model import QStats
from pytest_kubevirt_burner.report.terminal import results_table
from pytest_kubevirt_burner.results import Quantiles


def test_n_names_missing_and_invalid_samples() -> None:
    q = Quantiles("Ready", 48, 1.0, 2.0, 3.0, -0.5, 4.0, 1.5, missing=2, invalid=1)
    assert QStats.from_quantiles("podLatency.Ready", q).n_text() == "48 (2 missing, 1 invalid)"
    clean = Quantiles("Ready", 5, 1.0, 2.0, 3.0, 0.5, 4.0, 1.5)
    assert QStats.from_quantiles("podLatency.Ready", clean).n_text() == "5"
    assert results_table([])[0].startswith("Job")
