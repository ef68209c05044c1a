"""What a job run returns to the test: counts, verification, timings, errors and latencies."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Quantiles:
    """Latency quantiles of one transition, in seconds (nearest-rank percentiles)."""

    name: str
    n: int
    p50: float
    p95: float
    p99: float
    min: float
    max: float
    avg: float
    clock: str = "client"
    missing: int = 0
    invalid: int = 0


@dataclass
class JobResult:
    """Outcome of ``burner.run()``."""

    job_name: str
    job_type: str
    uuid: str
    dry_run: bool = False
    kinds: dict[str, str] = field(default_factory=dict)  # kind -> apiVersion
    expected: dict[str, int] = field(default_factory=dict)
    created: dict[str, int] = field(default_factory=dict)
    ready: dict[str, int] = field(default_factory=dict)
    found: dict[str, int] = field(default_factory=dict)
    verified: bool = False
    started_at: float = 0.0
    finished_at: float = 0.0
    create_seconds: float = 0.0
    qps_requested: float = 0.0
    qps_achieved: float = 0.0
    requests: int = 0
    retries: int = 0
    throttled_429: int = 0
    server_errors: int = 0
    connection_errors: int = 0
    deduplicated_creates: int = 0
    errors: list[str] = field(default_factory=list)
    documents: list[dict[str, Any]] = field(default_factory=list)
    quantiles: dict[str, Quantiles] = field(default_factory=dict)
    all_quantiles: dict[str, dict[str, Quantiles]] = field(default_factory=dict)
    slo_lines: list[str] = field(default_factory=list)
    slo_breaches: list[str] = field(default_factory=list)
    rendered: int = 0
    churn_started_at: float | None = None
    churn_ended_at: float | None = None
    churn_cycles: int = 0
    churn_objects: int = 0

    @property
    def elapsed(self) -> float:
        """Wall-clock seconds from job start to end."""
        return max(0.0, self.finished_at - self.started_at)

    @property
    def total_created(self) -> int:
        """Objects created by the job, all kinds."""
        return sum(self.created.values())

    def latency(self, key: str) -> Quantiles:
        """Quantiles of ``"<measurement>.<quantileName>"`` (e.g. ``podLatency.Ready``)."""
        try:
            return self.quantiles[key]
        except KeyError:
            known = ", ".join(sorted(self.quantiles)) or "none"
            raise KeyError(f"no latency recorded for {key!r} (recorded: {known})") from None
