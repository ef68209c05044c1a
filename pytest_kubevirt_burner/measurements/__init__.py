"""Watch-driven latency measurements (kube-burner's schema, two clocks), SLOs and result files."""

from .recorder import REGISTRY, MeasurementSet, default_measurements, quantile_names
from .slo import Slo, SloError, SloReport, evaluate, slos_for_item, slos_from_thresholds

__all__ = [
    "REGISTRY",
    "MeasurementSet",
    "Slo",
    "SloError",
    "SloReport",
    "default_measurements",
    "evaluate",
    "quantile_names",
    "slos_for_item",
    "slos_from_thresholds",
]
