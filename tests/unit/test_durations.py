"""Go-style durations."""

from __future__ import annotations

import pytest

from pytest_kubevirt_burner.durations import format_duration, parse_duration


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("1h30m", 5400.0),
        ("500ms", 0.5),
        ("2s", 2.0),
        ("1.5h", 5400.0),
        ("0s", 0.0),
        ("0", 0.0),
        ("300us", 0.0003),
        ("300\u00b5s", 0.0003),
        ("300\u03bcs", 0.0003),
        ("10ns", 1e-8),
        ("1h2m3s4ms", 3723.004),
        ("-1m", -60.0),
        ("+2s", 2.0),
        (".5s", 0.5),
        ("20m", 1200.0),
        (" 5m ", 300.0),
        (30, 30.0),
        (1.5, 1.5),
        ("45", 45.0),
        ("2.5", 2.5),
    ],
)
def test_parse_duration(value: str | float, seconds: float) -> None:
    assert parse_duration(value) == pytest.approx(seconds)


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("", "empty string"),
        ("1x", "missing or unknown unit in '1x'"),
        ("h", "unexpected 'h'"),
        ("1h 30m", "unexpected ' 30m'"),
        ("1d", "missing or unknown unit in '1d'"),
        ("abc", "unexpected 'abc'"),
        (True, "a boolean is not a duration"),
        (float("inf"), "not a finite number"),
    ],
)
def test_parse_duration_errors(value: object, why: str) -> None:
    with pytest.raises(ValueError) as err:
        parse_duration(value)  # type: ignore[arg-type]
    message = str(err.value)
    assert message.startswith(f"invalid duration {value!r}: {why} (")
    assert "\n" not in message


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (5400, "1h30m0s"),
        (0.5, "500ms"),
        (1.5, "1.5s"),
        (120, "2m0s"),
        (3723.004, "1h2m3.004s"),
        (0.0003, "300µs"),
        (1.5e-6, "1.5µs"),
        (1e-8, "10ns"),
        (-60, "-1m0s"),
        (86400, "24h0m0s"),
    ],
)
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


def test_format_duration_rejects_non_finite() -> None:
    with pytest.raises(ValueError, match="invalid duration inf"):
        format_duration(float("inf"))
