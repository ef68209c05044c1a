"""Go-style durations ("1h30m", "500ms", "2s") to and from seconds."""

from __future__ import annotations

import math
import re

__all__ = ["format_duration", "parse_duration"]

_UNITS = {
    "ns": 1e-9,
    "us": 1e-6,
    "\u00b5s": 1e-6,  # micro sign
    "\u03bcs": 1e-6,  # greek mu
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}
_COMPONENT = re.compile(r"(\d+\.?\d*|\.\d+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def _invalid(value: object, why: str) -> ValueError:
    return ValueError(
        f"invalid duration {value!r}: {why} (expected a Go duration such as '1h30m', '500ms', "
        "'2s' or a number of seconds)"
    )


def parse_duration(value: str | int | float) -> float:
    """Return seconds for a Go duration string ("1h30m", "1.5h", "300us") or a bare number."""
    if isinstance(value, bool):
        raise _invalid(value, "a boolean is not a duration")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise _invalid(value, "not a finite number")
        return float(value)
    if not isinstance(value, str):
        raise _invalid(value, f"unsupported type {type(value).__name__}")
    text = value.strip()
    if not text:
        raise _invalid(value, "empty string")
    if _NUMBER.fullmatch(text):
        return float(text)
    sign = 1.0
    if text[0] in "+-":
        sign = -1.0 if text[0] == "-" else 1.0
        text = text[1:]
    total = 0.0
    pos = 0
    while pos < len(text):
        m = _COMPONENT.match(text, pos)
        if m is None:
            rest = text[pos:]
            if re.match(r"\d+\.?\d*|\.\d+", rest):
                raise _invalid(value, f"missing or unknown unit in {rest!r}")
            raise _invalid(value, f"unexpected {rest!r}")
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    return sign * total


def _frac(value: int, scale: int) -> str:
    """Render value/scale with trailing zeros trimmed (Go's fmtFrac)."""
    whole, rem = divmod(value, scale)
    if rem == 0:
        return str(whole)
    digits = str(rem).rjust(len(str(scale)) - 1, "0").rstrip("0")
    return f"{whole}.{digits}"


def format_duration(seconds: float) -> str:
    """Format seconds like Go's time.Duration.String(): "1h30m0s", "500ms", "1.5µs", "0s"."""
    if isinstance(seconds, bool) or not math.isfinite(seconds):
        raise ValueError(f"invalid duration {seconds!r}: not a finite number of seconds")
    ns = round(seconds * 1_000_000_000)
    if ns == 0:
        return "0s"
    sign = "-" if ns < 0 else ""
    ns = abs(ns)
    if ns < 1_000:
        return f"{sign}{ns}ns"
    if ns < 1_000_000:
        return f"{sign}{_frac(ns, 1_000)}\u00b5s"
    if ns < 1_000_000_000:
        return f"{sign}{_frac(ns, 1_000_000)}ms"
    hours, rem = divmod(ns, 3_600_000_000_000)
    minutes, rem = divmod(rem, 60_000_000_000)
    out = sign
    if hours:
        out += f"{hours}h"
    if hours or minutes:
        out += f"{minutes}m"
    return out + f"{_frac(rem, 1_000_000_000)}s"
