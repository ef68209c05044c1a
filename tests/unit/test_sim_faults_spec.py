"""Fault spec parser, request classification and the adaptive Retry-After tracker."""

from __future__ import annotations

import pytest

from pytest_kubevirt_burner.sim.faults import (
    ErrorRate,
    Latency,
    Outage,
    RateLimit,
    Scope,
    injected_error,
    parse_duration,
    parse_faults,
)
from pytest_kubevirt_burner.sim.flowcontrol import DroppedRequestsTracker, TokenBucket
from pytest_kubevirt_burner.sim.requestinfo import parse_request_info


def test_empty_spec_is_no_fault() -> None:
    assert parse_faults("").empty
    assert parse_faults([]).empty
    assert parse_faults(" ; ").empty


def test_error_rate_with_codes_and_qualifiers() -> None:
    cfg = parse_faults(
        "error-rate=0.05:500,503;verbs=create,update,patch,delete;resources=pods,virtualmachines"
    )
    assert cfg.error_rates == [
        ErrorRate(
            0.05,
            (500, 503),
            Scope(
                frozenset({"create", "update", "patch", "delete"}),
                frozenset({"pods", "virtualmachines"}),
            ),
        )
    ]


def test_error_rate_default_code_is_500() -> None:
    assert parse_faults("error-rate=1").error_rates == [ErrorRate(1.0, (500,))]


def test_all_kinds_and_repeated_specs() -> None:
    cfg = parse_faults(["rate-limit=50", "watch-cut=2s;latency=200ms;verbs=list", "outage=10s@30s"])
    assert cfg.rate_limit == RateLimit(50.0, 50)
    assert cfg.watch_cut == 2.0
    assert cfg.latencies == [Latency(0.2, Scope(frozenset({"list"})))]
    assert cfg.outages == [Outage(start=30.0, duration=10.0)]
    assert not cfg.empty


def test_outage_after_a_count_of_creates() -> None:
    assert parse_faults("outage=5s@31creates").outages == [Outage(0.0, 5.0, after_creates=31)]


def test_rate_limit_burst() -> None:
    assert parse_faults("rate-limit=2.5:7").rate_limit == RateLimit(2.5, 7)
    assert parse_faults("rate-limit=0.5").rate_limit == RateLimit(0.5, 1)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("200ms", 0.2), ("2s", 2.0), ("1.5m", 90.0), ("1h", 3600.0), ("3", 3.0)],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ("error-rate=1.5", "error-rate=1.5"),
        ("error-rate=x", "not a number"),
        ("error-rate=0.1:200", "between 400 and 599"),
        ("error-rate=0.1:5xx", "error-rate=0.1:5xx"),
        ("rate-limit=0", "qps must be > 0"),
        ("rate-limit=5;rate-limit=6", "only one rate-limit"),
        ("latency=fast", "bad duration"),
        ("watch-cut=0s", "must be > 0"),
        ("outage=10s", "DURATION@START"),
        ("outage=10s@soon", "bad duration"),
        ("outage=10s@0creates", "create count must be >= 1"),
        ("slowness=1", "unknown fault"),
        ("verbs=get", "must follow"),
        ("watch-cut=1s;verbs=get", "must follow"),
        ("latency=1s;verbs=fetch", "unknown verb 'fetch'"),
        ("latency=1s;resources=", "expected KIND=VALUE"),
        ("error-rate", "expected KIND=VALUE"),
        ("latency=nan", "bad duration"),
    ],
)
def test_parse_errors_name_the_bad_part(spec: str, fragment: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_faults(spec)
    message = str(info.value)
    assert "\n" not in message
    assert fragment in message


def test_scope_matches_group_qualified_resources() -> None:
    info = parse_request_info("POST", "/apis/kubevirt.io/v1/namespaces/a/virtualmachines", {})
    assert Scope(resources=frozenset({"virtualmachines.kubevirt.io"})).matches(info)
    assert Scope(resources=frozenset({"virtualmachines"})).matches(info)
    assert not Scope(resources=frozenset({"pods"})).matches(info)
    assert Scope(verbs=frozenset({"create"})).matches(info)
    assert not Scope(verbs=frozenset({"list"})).matches(info)


@pytest.mark.parametrize(
    ("method", "path", "query", "ctype", "expected"),
    [
        ("GET", "/api/v1/namespaces/a/pods", {}, "", ("LIST", "list", "namespace")),
        ("GET", "/api/v1/pods", {"watch": "1"}, "", ("WATCH", "watch", "cluster")),
        ("GET", "/api/v1/watch/namespaces/a/pods", {}, "", ("WATCH", "watch", "namespace")),
        ("GET", "/api/v1/namespaces/a/pods/p", {}, "", ("GET", "get", "resource")),
        ("POST", "/api/v1/namespaces/a/pods", {}, "", ("POST", "create", "resource")),
        ("PUT", "/api/v1/namespaces/a/pods/p/status", {}, "", ("PUT", "update", "resource")),
        (
            "PATCH",
            "/apis/apps/v1/namespaces/a/deployments/d",
            {},
            "application/apply-patch+yaml",
            ("APPLY", "patch", "resource"),
        ),
        (
            "DELETE",
            "/api/v1/namespaces/a/pods",
            {},
            "",
            ("DELETECOLLECTION", "deletecollection", "namespace"),
        ),
        ("DELETE", "/api/v1/namespaces/a", {}, "", ("DELETE", "delete", "resource")),
        ("GET", "/api/v1/nodes", {}, "", ("LIST", "list", "cluster")),
    ],
)
def test_request_info(
    method: str, path: str, query: dict[str, str], ctype: str, expected: tuple[str, str, str]
) -> None:
    info = parse_request_info(method, path, query, ctype)
    assert info.api
    assert (info.verb, info.k8s_verb, info.scope) == expected


def test_request_info_parts() -> None:
    info = parse_request_info(
        "PUT", "/apis/subresources.kubevirt.io/v1/namespaces/ns/virtualmachines/vm/start", {}
    )
    assert (info.group, info.version, info.resource, info.name, info.subresource) == (
        "subresources.kubevirt.io",
        "v1",
        "virtualmachines",
        "vm",
        "start",
    )
    ns_status = parse_request_info("PUT", "/api/v1/namespaces/ns/status", {})
    assert (ns_status.resource, ns_status.name, ns_status.subresource) == (
        "namespaces",
        "ns",
        "status",
    )
    assert parse_request_info("GET", "/apis/apps/v1", {}).resource == ""
    assert not parse_request_info("GET", "/healthz", {}).api
    assert parse_request_info("POST", "/api/v1/pods", {"dryRun": "All"}).dry_run == "All"


def test_tracker_doubles_under_pressure_and_decays() -> None:
    now = [1000.0]
    tracker = DroppedRequestsTracker(clock=lambda: now[0])

    def second(drops: int) -> list[int]:
        seen = [tracker.record() for _ in range(drops)]
        now[0] += 1
        return seen

    assert second(5) == [1] * 5  # re-evaluated only when a new second starts
    assert second(5) == [2] * 5  # 5 >= 3 * 1 drops in the previous second
    assert second(5) == [2] * 5  # not raised again within retryAfter seconds
    assert second(1) == [4]  # 10 >= 3 * 2 drops in the last 2 s
    for _ in range(30):  # sustained heavy drops never exceed 32
        second(500)
    assert tracker.retry_after == 32
    now[0] += 1000
    assert second(1) == [31]  # calm: decreases by one per evaluation
    assert second(1) == [30]


def test_token_bucket() -> None:
    now = [0.0]
    bucket = TokenBucket(2.0, 3, lambda: now[0])
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    now[0] += 0.5
    assert bucket.take()
    assert not bucket.take()


def test_injected_errors_are_status_errors() -> None:
    err = injected_error(503)
    assert err.status()["reason"] == "ServiceUnavailable"
    assert err.headers == {"Retry-After": "1"}
    assert injected_error(500).headers == {}
    too_many = injected_error(429)
    assert too_many.status()["details"] == {"retryAfterSeconds": 1}
