"""TokenBucket: client-go token-bucket semantics, accuracy at high rates, thread safety."""

from __future__ import annotations

import math
import threading
import time

import pytest

from pytest_kubevirt_burner.cluster.ratelimit import DEFAULT_BURST, DEFAULT_QPS, TokenBucket


def test_burst_goes_out_without_waiting() -> None:
    bucket = TokenBucket(qps=1.0, burst=50)
    waited = [bucket.wait() for _ in range(50)]
    assert waited == [0.0] * 50
    stats = bucket.stats()
    assert (stats.acquired, stats.waits, stats.total_wait) == (50, 0, 0.0)
    # The 51st token is one refill interval away.
    assert not bucket.try_acquire()


def test_try_acquire_never_waits_and_refills() -> None:
    bucket = TokenBucket(qps=1000.0, burst=3)
    assert [bucket.try_acquire() for _ in range(4)] == [True, True, True, False]
    time.sleep(0.01)  # refills ~10 tokens, capped at burst
    assert 2.9 <= bucket.tokens() <= 3.0
    assert [bucket.try_acquire() for _ in range(4)] == [True, True, True, False]


def test_reservation_goes_negative_and_reports_delay() -> None:
    bucket = TokenBucket(qps=50.0, burst=1)
    assert bucket.wait() == 0.0
    delay = bucket.wait()
    assert delay == pytest.approx(0.02, abs=0.005)
    stats = bucket.stats()
    assert stats.waits == 1 and stats.total_wait == pytest.approx(delay)
    assert stats.max_wait == pytest.approx(delay)


class FakeClock:
    """A clock that only moves when the bucket sleeps (plus a fixed overshoot per sleep)."""

    def __init__(self, overshoot: float = 0.0) -> None:
        self.now = 1000.0
        self.overshoot = overshoot

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds + self.overshoot


@pytest.mark.parametrize("qps", [20, 100, 500, 1000])
@pytest.mark.parametrize("overshoot", [0.0, 0.0002])
def test_steady_state_rate_is_exact(qps: int, overshoot: float) -> None:
    # From a full bucket, n = burst + qps*T calls take T seconds of bucket time; sleep overshoot
    # (the OS waking us late) must not accumulate into the achieved rate.
    burst, seconds = 10, 3
    clock = FakeClock(overshoot)
    bucket = TokenBucket(qps=qps, burst=burst, clock=clock, sleep=clock.sleep)
    n = burst + qps * seconds
    start = clock.now
    waits = [bucket.wait() for _ in range(n)]
    assert waits[:burst] == [0.0] * burst  # the burst goes out without waiting
    achieved = (n - burst) / (clock.now - start)
    assert achieved == pytest.approx(qps, rel=0.01)


def test_rate_is_shared_fairly_between_threads() -> None:
    qps, burst, threads, seconds = 1000, 10, 8, 1.0
    bucket = TokenBucket(qps=qps, burst=burst)
    per_thread = int(qps * seconds) // threads
    counts = [0] * threads

    def worker(i: int) -> None:
        for _ in range(per_thread):
            bucket.wait()
            counts[i] += 1

    start = time.monotonic()
    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    elapsed = time.monotonic() - start
    total = per_thread * threads
    assert counts == [per_thread] * threads
    assert bucket.stats().acquired == total
    achieved = (total - burst) / elapsed
    assert achieved <= qps * 1.02  # a loaded machine can only make it slower, never faster


def test_waiters_are_served_in_reservation_order() -> None:
    bucket = TokenBucket(qps=10.0, burst=1)
    bucket.wait()  # drain
    finished: list[int] = []
    lock = threading.Lock()

    def worker(i: int) -> None:
        bucket.wait()
        with lock:
            finished.append(i)

    pool = []
    for i in range(4):
        t = threading.Thread(target=worker, args=(i,))
        t.start()
        pool.append(t)
        time.sleep(0.02)  # reservations are 100 ms apart, start-ups 20 ms apart
    for t in pool:
        t.join()
    assert finished == [0, 1, 2, 3]


def test_try_acquire_is_thread_safe() -> None:
    bucket = TokenBucket(qps=0.001, burst=100)
    wins = [0] * 8

    def worker(i: int) -> None:
        for _ in range(1000):
            if bucket.try_acquire():
                wins[i] += 1

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert sum(wins) == 100
    assert bucket.stats().acquired == 100


@pytest.mark.parametrize(("qps", "burst"), [(0, 0), (-1, -5), (0, 20), (7.5, 0), (math.nan, 3)])
def test_zero_or_negative_means_kube_burner_defaults(qps: float, burst: int) -> None:
    bucket = TokenBucket(qps, burst)
    assert bucket.qps == (DEFAULT_QPS if not qps > 0 else qps)
    assert bucket.burst == (DEFAULT_BURST if burst <= 0 else burst)
    assert (DEFAULT_QPS, DEFAULT_BURST) == (5.0, 10)


def test_unlimited_never_waits() -> None:
    bucket = TokenBucket.unlimited()
    assert bucket.is_unlimited
    assert all(bucket.wait() == 0.0 for _ in range(10_000))
    assert all(bucket.try_acquire() for _ in range(100))
    assert bucket.stats().acquired == 10_100
    assert repr(bucket) == "TokenBucket.unlimited()"
    assert repr(TokenBucket(20, 20)) == "TokenBucket(qps=20, burst=20)"
