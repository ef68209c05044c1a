"""PrometheusClient: instant and range queries over Prometheus' HTTP API, one-line errors."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import requests

__all__ = ["PrometheusClient", "PrometheusError", "Series", "format_seconds"]

_MAX_BODY_IN_ERROR = 200


class PrometheusError(Exception):
    """A query failed or Prometheus could not be used; the message is one line.

    ``unreachable`` is set when no query can succeed (connection, TLS or authorization failure).
    """

    def __init__(
        self,
        message: str,
        *,
        query: str | None = None,
        status: int | None = None,
        unreachable: bool = False,
    ) -> None:
        self.message = " ".join(message.split())
        self.query = query
        self.status = status
        self.unreachable = unreachable
        super().__init__(self.message)


@dataclass(frozen=True, slots=True)
class Series:
    """One series of a result: labels (``__name__`` included when present) and its samples."""

    labels: dict[str, str]
    samples: list[tuple[float, float]]


def format_seconds(value: float) -> str:
    """Unix seconds as Prometheus expects them (no exponent, no trailing zeros)."""
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return text or "0"


def _value(raw: Any) -> float:
    try:
        return float(raw)
    except (TypeError, ValueError):
        return math.nan


def _series(result_type: str, result: Any) -> list[Series]:
    if result_type == "matrix":
        return [
            Series(dict(s.get("metric") or {}), [(float(t), _value(v)) for t, v in s["values"]])
            for s in result
        ]
    if result_type == "vector":
        return [
            Series(dict(s.get("metric") or {}), [(float(s["value"][0]), _value(s["value"][1]))])
            for s in result
        ]
    if result_type == "scalar":
        return [Series({}, [(float(result[0]), _value(result[1]))])]
    raise ValueError(f"unsupported result type {result_type!r}")


class PrometheusClient:
    """Queries one Prometheus server over a pooled requests Session (thread-safe for reads)."""

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        username: str | None = None,
        password: str | None = None,
        ca_file: str | None = None,
        verify: bool = True,
        timeout: float = 60.0,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise PrometheusError(f"Prometheus URL {url!r} must start with http:// or https://")
        self.url = url.rstrip("/")
        self.timeout = timeout
        self._session = requests.Session()
        self._session.headers["User-Agent"] = "pytest-kubevirt-burner"
        if token:
            self._session.headers["Authorization"] = f"Bearer {token}"
        elif username is not None:
            self._session.auth = (username, password or "")
        # passed on every request too: requests lets $REQUESTS_CA_BUNDLE override Session.verify
        self._verify: bool | str = ca_file if (verify and ca_file) else verify
        self._session.verify = self._verify
        self.auth_kind = "bearer" if token else "basic" if username is not None else "none"

    def __repr__(self) -> str:
        return f"PrometheusClient(url={self.url!r}, auth={self.auth_kind!r})"

    def close(self) -> None:
        """Close pooled connections."""
        self._session.close()

    def __enter__(self) -> PrometheusClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _post(self, endpoint: str, form: dict[str, str], query: str) -> dict[str, Any]:
        """POST a form (client_golang does the same) and return ``data`` of a success envelope."""
        where = f"{self.url}{endpoint}"
        try:
            resp = self._session.post(where, data=form, timeout=self.timeout, verify=self._verify)
        except requests.exceptions.SSLError as exc:
            raise PrometheusError(
                f"Prometheus at {self.url} TLS error: {_short(exc)}", unreachable=True
            ) from None
        except requests.exceptions.Timeout:
            raise PrometheusError(
                f"Prometheus at {self.url} did not answer within {self.timeout:g} s"
                f" (query {query!r})",
                query=query,
            ) from None
        except requests.exceptions.RequestException as exc:
            raise PrometheusError(
                f"Prometheus at {self.url} is unreachable: {_short(exc)}", unreachable=True
            ) from None
        try:
            body = resp.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and body.get("status") == "success" and resp.ok:
            data = body.get("data")
            if isinstance(data, dict):
                return data
        if isinstance(body, dict) and body.get("status") == "error":
            why = f"{body.get('errorType', 'error')}: {body.get('error', '')}"
        elif resp.status_code in (401, 403):
            why = "not authorized (check the token or username/password)"
        else:
            text = resp.text.strip().replace("\n", " ")
            why = text[:_MAX_BODY_IN_ERROR] or resp.reason or "unexpected answer"
        raise PrometheusError(
            f"Prometheus query {query!r} failed (HTTP {resp.status_code}): {why}",
            query=query,
            status=resp.status_code,
            unreachable=resp.status_code in (401, 403),
        )

    def query(self, expr: str, at: float) -> list[Series]:
        """Instant query at unix time ``at``; scalars become one label-less series."""
        data = self._post("/api/v1/query", {"query": expr, "time": format_seconds(at)}, expr)
        return _parse(data, expr)

    def query_range(self, expr: str, start: float, end: float, step: float) -> list[Series]:
        """Range query; points at start + k*step up to end (end itself only when aligned)."""
        form = {
            "query": expr,
            "start": format_seconds(start),
            "end": format_seconds(end),
            "step": format_seconds(step),
        }
        return _parse(self._post("/api/v1/query_range", form, expr), expr)

    def check(self) -> None:
        """Verify connectivity and auth with the instant query ``up{}``, as kube-burner does."""
        self.query("up{}", time.time())


def _parse(data: dict[str, Any], expr: str) -> list[Series]:
    try:
        return _series(str(data.get("resultType")), data.get("result") or [])
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise PrometheusError(f"Prometheus query {expr!r}: malformed answer ({exc})") from None


def _short(exc: BaseException) -> str:
    """The innermost reason of a requests/urllib3 exception, on one line."""
    reason: BaseException = exc
    while reason.__context__ is not None and reason.__context__ is not reason:
        reason = reason.__context__
    text = str(reason) or type(reason).__name__
    if "Connection refused" in str(exc) or "Connection refused" in text:
        return "connection refused"
    if "Name or service not known" in str(exc) or "Failed to resolve" in str(exc):
        return "host name does not resolve"
    return " ".join(text.split())[:_MAX_BODY_IN_ERROR]
