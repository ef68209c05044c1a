"""``latency_recorder``: measure any measurement around arbitrary code, outside a job."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from .cluster.watch import ResilientWatch
from .jobs.watches import forward
from .measurements import MeasurementSet
from .results import Quantiles


class LatencyRecording:
    """What a ``latency_recorder`` block measured (filled in when the block exits)."""

    def __init__(self, measurements: MeasurementSet) -> None:
        self._ms = measurements
        self.quantiles: dict[str, Quantiles] = {}
        self.all_quantiles: dict[str, dict[str, Quantiles]] = {}

    def wait(self, count: int | None = None, timeout: float = 300.0) -> bool:
        """Wait until ``count`` objects (default: all seen so far) reached their last transition."""
        deadline = time.monotonic() + timeout
        while True:
            tracked, pending = self._ms.progress()
            done = tracked - pending
            if (done >= count) if count is not None else (tracked and not pending):
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)

    def latency(self, key: str) -> Quantiles:
        """Quantiles of ``"<measurement>.<quantileName>"`` in seconds (after the block)."""
        try:
            return self.quantiles[key]
        except KeyError:
            known = ", ".join(sorted(self.quantiles)) or "none (the block has not ended)"
            raise KeyError(f"no latency recorded for {key!r} (recorded: {known})") from None


@contextmanager
def record(
    session: Any,
    names: str | Sequence[str],
    name: str,
    *,
    label_selector: str = "",
    namespace: str | None = None,
) -> Iterator[LatencyRecording]:
    """Watch objects matching ``label_selector`` created inside the block and measure them.

    Objects that exist when the block starts are ignored. Documents land in the metrics
    directory as for a job named ``name``; the quantiles are on the recording after the block.
    """
    wanted = [names] if isinstance(names, str) else list(names)
    ms = MeasurementSet(
        wanted,
        job_name=name,
        uuid=session.run.uuid,
        metrics_dir=session.metrics_directory(),
        metadata=session.metadata(),
        clock=session.run.latency_clock,
        ignore_existing=True,
    )
    client = session.client()
    watches = []
    for spec in ms.watches():
        selector = ",".join(s for s in (label_selector, spec.label_selector) if s)
        watches.append(
            ResilientWatch(
                client,
                spec.api_version,
                spec.kind,
                namespace=namespace,
                label_selector=selector,
                on_event=forward(ms.handler(spec.kind)),
            )
        )
    recording = LatencyRecording(ms)
    error: BaseException | None = None
    try:
        for w in watches:
            w.start()
        for w in watches:
            w.wait_synced(60.0)
        ms.watches_synced()
        yield recording
    except BaseException as exc:
        error = exc
        raise
    finally:
        for w in watches:
            w.stop()
        recording.all_quantiles = ms.all_quantiles()
        recording.quantiles = ms.finalize(
            passed=error is None,
            interrupted=isinstance(error, KeyboardInterrupt),
            reason="" if error is None else (str(error) or type(error).__name__),
        )
