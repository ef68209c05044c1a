"""Garbage-collector settings for a simulator process holding tens of thousands of objects."""

from __future__ import annotations

import gc

# The store holds JSON dicts and lists that are freed by reference counting and never form
# cycles, yet CPython's default thresholds re-scan all of them in a full collection every time
# the heap grows by a quarter: at 30,000 objects that was about a third of the process's CPU
# time. Young collections every 50,000 allocations and a full one only after 100 middle ones
# (some 100 million allocations) keep cyclic garbage, which is rare here, bounded.
THRESHOLDS = (50_000, 20, 100)


def tune_gc() -> None:
    """Freeze what exists now (modules, startup state) and raise the collection thresholds.

    Process-wide: call it only in a process that runs nothing but the simulator.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
