"""Watch-driven latency measurements (kube-burner's schema, two clocks), SLOs and result files."""

from .base import Obj, Recorder, Sample, WatchSpec, true_conditions
from .recorder import REGISTRY, MeasurementSet, default_measurements, quantile_names
from .registry import MeasurementRegistry
from .simple import SimpleRecorder
from .slo import Slo, SloError, SloReport, evaluate, slos_for_item, slos_from_thresholds

__all__ = [
    "REGISTRY",
    "MeasurementRegistry",
    "MeasurementSet",
    "Obj",
    "Recorder",
    "Sample",
    "SimpleRecorder",
    "Slo",
    "SloError",
    "SloReport",
    "WatchSpec",
    "default_measurements",
    "evaluate",
    "quantile_names",
    "slos_for_item",
    "slos_from_thresholds",
    "true_conditions",
]
