"""Each injected fault gives exactly the codes, headers and behaviour it promises."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import urllib3
from prometheus_client.parser import text_string_to_metric_families

from ._simproc import Http, configmap, running

N_WRITES = 200
P_FAIL = 0.3


def _write_codes(workdir: Path, seed: int) -> tuple[list[int], list[int], list[str | None]]:
    spec = f"error-rate={P_FAIL}:500,503;verbs=create;resources=configmaps"
    with running(workdir, seed=seed, faults=spec) as sim:
        http = Http(sim)
        codes, retry_after = [], []
        for i in range(N_WRITES):
            resp = http.request("POST", "/api/v1/namespaces/default/configmaps", configmap(f"c{i}"))
            codes.append(resp.status)
            retry_after.append(resp.headers.get("Retry-After"))
            if resp.status >= 500:
                body = resp.json()
                assert body["kind"] == "Status" and body["code"] == resp.status
                assert (
                    body["reason"] == {500: "InternalError", 503: "ServiceUnavailable"}[resp.status]
                )
        lists = [
            http.request("GET", "/api/v1/namespaces/default/configmaps").status for _ in range(30)
        ]
        http.close()
    return codes, lists, retry_after


def test_error_rate_is_seeded_and_within_bounds(tmp_path: Path) -> None:
    codes, lists, retry_after = _write_codes(tmp_path / "a", seed=5)
    failed = [c for c in codes if c != 201]
    # binomial(200, 0.3): mean 60, sd 6.5; +-4.5 sd
    assert 31 <= len(failed) <= 89, len(failed)
    assert set(failed) == {500, 503}
    assert set(codes) <= {201, 500, 503}
    for code, header in zip(codes, retry_after, strict=True):
        assert header == ("1" if code == 503 else None)
    assert set(lists) == {200}, "lists are outside the fault's verbs"
    again, _, _ = _write_codes(tmp_path / "b", seed=5)
    assert again == codes, "the same seed must fail the same requests"


def _rejected_total(http: Http) -> float:
    text = http.request("GET", "/metrics").data.decode()
    for family in text_string_to_metric_families(text):
        if family.name == "apiserver_flowcontrol_rejected_requests":
            return sum(s.value for s in family.samples if s.name.endswith("_total"))
    return 0.0


def test_rate_limit_gives_429_with_adaptive_retry_after(tmp_path: Path) -> None:
    with running(tmp_path, faults="rate-limit=5:5") as sim:
        http = Http(sim)
        statuses = []
        retry_afters = []
        start = time.monotonic()
        while time.monotonic() - start < 2.5:
            resp = http.request("GET", "/api/v1/namespaces/default/configmaps")
            statuses.append(resp.status)
            if resp.status == 429:
                header = resp.headers["Retry-After"]
                body = resp.json()
                assert body["kind"] == "Status" and body["reason"] == "TooManyRequests"
                assert body["code"] == 429
                assert body["details"]["retryAfterSeconds"] == int(header)
                retry_afters.append(int(header))
        assert set(statuses) == {200, 429}
        ok = statuses.count(200)
        # 5 of burst plus 5/s refill over ~2.5 s
        assert 5 <= ok <= 5 + 5 * 3.5, ok
        assert retry_afters[0] == 1
        assert max(retry_afters) >= 2, "Retry-After must grow under sustained rejection"
        assert max(retry_afters) <= 32
        assert _rejected_total(http) == statuses.count(429)
        # non-API paths are not charged
        assert all(http.request("GET", "/healthz").status == 200 for _ in range(20))
        http.close()


def test_watch_streams_are_cut(tmp_path: Path) -> None:
    with running(tmp_path, faults="watch-cut=1s") as sim:
        http = Http(sim)
        start = time.monotonic()
        resp = http.request(
            "GET", "/api/v1/namespaces?watch=1", preload_content=False, timeout=20.0
        )
        assert resp.status == 200
        data = b"".join(resp.stream(1024))
        elapsed = time.monotonic() - start
        resp.release_conn()
        assert 0.9 <= elapsed <= 30.0, elapsed  # cut after ~1 s, not at the 20 s timeout
        assert b'"type":"ADDED"' in data  # the initial events came before the cut
        http.close()


def test_latency_is_added_per_verb(tmp_path: Path) -> None:
    with running(tmp_path, faults="latency=300ms;verbs=list") as sim:
        http = Http(sim)
        http.request("GET", "/api/v1/namespaces/default")  # warm the connection

        def timed(path: str) -> float:
            t0 = time.perf_counter()
            assert http.request("GET", path).status == 200
            return time.perf_counter() - t0

        lists = [timed("/api/v1/namespaces") for _ in range(3)]
        gets = [timed("/api/v1/namespaces/default") for _ in range(3)]
        assert min(lists) >= 0.3, lists
        assert max(gets) < 0.25, gets
        http.close()


@pytest.mark.timeout(60)
def test_outage_window_refuses_connections(tmp_path: Path) -> None:
    with running(tmp_path, faults="outage=2s@2s") as sim:
        t0 = time.monotonic()
        http = Http(sim)
        watch = http.request(
            "GET", "/api/v1/namespaces?watch=1", preload_content=False, timeout=30.0
        )
        assert watch.status == 200
        timeline: list[tuple[float, bool]] = []
        while time.monotonic() - t0 < 6.0:
            try:
                ok = http.request("GET", "/api/v1/namespaces", timeout=1.0).status == 200
            except urllib3.exceptions.HTTPError:
                ok = False
            timeline.append((time.monotonic() - t0, ok))
            time.sleep(0.05)
        # the watch opened before the outage was cut by it
        cut_at = None
        try:
            for _ in watch.stream(1024):
                pass
        except urllib3.exceptions.HTTPError:
            pass
        cut_at = time.monotonic() - t0
        assert cut_at < 7.0
        watch.release_conn()
        http.close()
    failures = [t for t, ok in timeline if not ok]
    assert failures, "no request failed during the outage"
    assert 1.6 <= failures[0] <= 2.6, failures[0]
    assert 1.4 <= failures[-1] - failures[0] <= 2.6, (failures[0], failures[-1])
    assert all(ok for t, ok in timeline if t < failures[0])
    assert all(ok for t, ok in timeline if t > failures[-1])
    assert timeline[-1][1], "the API must come back after the outage"
