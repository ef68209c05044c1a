"""RFC 3339 timestamps to and from integer nanoseconds, and latency values in milliseconds."""

from __future__ import annotations

import calendar
import re
import time
from functools import lru_cache
from typing import Any

MISSING = -(2**63)
"""Sentinel for 'not observed' in the int64 arrays that hold recorded times."""

_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|z|[+-]\d{2}:\d{2})$"
)
_NS = 1_000_000_000


@lru_cache(maxsize=8192)
def parse_ts(value: str) -> int | None:
    """Nanoseconds since the epoch of an RFC 3339 timestamp, or None when it does not parse."""
    m = _RFC3339.match(value)
    if m is None:
        return None
    year, month, day, hour, minute, sec = (int(g) for g in m.groups()[:6])
    try:
        secs = calendar.timegm((year, month, day, hour, minute, sec, 0, 0, 0))
    except (ValueError, OverflowError):
        return None
    zone = m.group(8)
    if zone not in ("Z", "z"):
        sign = -1 if zone[0] == "-" else 1
        secs -= sign * (int(zone[1:3]) * 3600 + int(zone[4:6]) * 60)
    frac = m.group(7) or ""
    return secs * _NS + (int(frac.ljust(9, "0")) if frac else 0)


def ts_of(value: Any) -> int | None:
    """parse_ts for any JSON value (None for anything but a parsable string)."""
    return parse_ts(value) if isinstance(value, str) and value else None


def format_ts(ns: int) -> str:
    """RFC3339Nano in UTC as Go writes it: fraction without trailing zeros, 'Z' suffix."""
    secs, frac = divmod(ns, _NS)
    y, mo, d, h, mi, s = _gmtime(secs)
    text = f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}"
    if frac:
        text += "." + f"{frac:09d}".rstrip("0")
    return text + "Z"


def _gmtime(secs: int) -> tuple[int, int, int, int, int, int]:
    t = time.gmtime(secs)
    return t.tm_year, t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec


def floor_second(ns: int) -> int:
    """``ns`` truncated to the whole second, as the API server writes metav1.Time."""
    return ns - ns % _NS


def client_ms(ns: int) -> float:
    """Client-clock latency in ms with microsecond resolution (floored, so negatives show)."""
    return (ns // 1000) / 1000


def server_ms(ns: int) -> int:
    """Server-clock latency in integer ms (floored, so a negative value never rounds to 0)."""
    return ns // 1_000_000


def to_ms(ns: int, clock: str) -> float | int:
    """Latency in the unit documents use for ``clock``."""
    return client_ms(ns) if clock == "client" else server_ms(ns)


def label_int(labels: dict[str, Any], key: str) -> int:
    """An integer label value (kube-burner's job-iteration / replica), 0 when absent."""
    try:
        return int(labels.get(key, 0))
    except (TypeError, ValueError):
        return 0
