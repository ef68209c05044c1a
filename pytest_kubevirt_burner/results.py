"""What a job run returns to the test: counts, verification, timings, SLO verdicts, documents.

A leaf module: every layer (measurements, jobs, report, the fixtures) reads these types.
"""

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


@dataclass(frozen=True)
class SloVerdict:
    """One threshold of one SLO judged against the job's quantiles (times in seconds).

    ``value`` is None without samples and +inf when the quantile's rank fell among objects that
    never reached the transition; ``margin`` is ``threshold - value`` (negative when breached,
    None without a value). ``line`` is the human-readable sentence the reports print.
    """

    measurement: str
    quantile: str
    metric: str  # p50, p95, p99, max or avg
    threshold: float
    value: float | None
    passed: bool
    margin: float | None
    operation: str | None = None
    mode: str = "gate"  # gate: a breach fails the test; report: it is only reported
    clock: str = "client"
    n: int = 0
    missing: int = 0
    line: str = ""

    @property
    def key(self) -> str:
        """``<measurement>[.<operation>].<quantileName>`` as in ``JobResult.latency()``."""
        op = f"{self.operation}." if self.operation else ""
        return f"{self.measurement}.{op}{self.quantile}"

    @property
    def breached(self) -> bool:
        """Whether the threshold is exceeded (in either mode)."""
        return not self.passed

    @property
    def fails_job(self) -> bool:
        """Whether this verdict fails the job: a breach of a gate-mode SLO."""
        return not self.passed and self.mode == "gate"


@dataclass
class JobResult:
    """Outcome of ``burner.run()``."""

    job_name: str
    job_type: str
    uuid: str
    dry_run: bool = False
    iterations: int = 1  # the job's iterations after --burner-scale
    kinds: dict[str, str] = field(default_factory=dict)  # kind -> apiVersion
    expected: dict[str, int] = field(default_factory=dict)
    created: dict[str, int] = field(default_factory=dict)  # objects created, by kind
    operations: dict[str, int] = field(default_factory=dict)  # requests of other jobs, by verb/op
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
    refused: dict[str, int] = field(default_factory=dict)  # creates refused for good, by kind
    documents: list[dict[str, Any]] = field(default_factory=list)  # quantiles + jobSummary written
    quantiles: dict[str, Quantiles] = field(default_factory=dict)
    all_quantiles: dict[str, dict[str, Quantiles]] = field(default_factory=dict)
    slo_verdicts: list[SloVerdict] = field(default_factory=list)
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
    def slo_lines(self) -> list[str]:
        """One line per breached SLO threshold (gate and report mode)."""
        return [v.line for v in self.slo_verdicts if v.breached]

    @property
    def slo_breaches(self) -> list[str]:
        """Lines of the breached gate-mode SLO thresholds (those that fail the job)."""
        return [v.line for v in self.slo_verdicts if v.fails_job]

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
