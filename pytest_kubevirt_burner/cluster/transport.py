"""HTTP transport over the official client's connection pool: auth, retries, throttling, stats.

Requests carry the configuration's auth headers (re-read through the kubeconfig's refresh hook at
most every ``AUTH_REFRESH_SECONDS``) and are sent on the official ApiClient's urllib3 pool with
urllib3 retries off, so every retry is visible and counted here.
Retry rule (client-go's, applied to every verb): 429 and 5xx (except 501) are retried, sleeping
``max(Retry-After, backoff)``; connection errors and timeouts are retried with backoff. Every
attempt takes a fresh token from the caller's limiter.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple
from urllib.parse import quote, urlencode

import urllib3
from kubernetes.client import ApiClient, Configuration
from kubernetes.client.rest import RESTClientObject
from urllib3 import exceptions as u3

from .errors import ApiError, ClusterError, ClusterUnreachableError
from .ratelimit import TokenBucket
from .stats import RequestStats, StatsSink

Query = list[tuple[str, str]]
AUTH_REFRESH_SECONDS = 10.0
Timeout = tuple[float, float]

# Errors raised before any byte of the request could have reached the server.
_UNSENT = (u3.NewConnectionError, u3.ConnectTimeoutError)
_MAYBE_SENT = (u3.ProtocolError, u3.ReadTimeoutError, u3.DecodeError, ConnectionError)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Bounded exponential backoff: ``base * 2**n`` capped at ``cap``, plus up to ``jitter``.

    A server's Retry-After is honoured (the delay is the larger of it and the backoff) up to
    ``max_retry_after`` seconds, which guards against absurd values.
    """

    max_retries: int = 10
    base: float = 0.1
    cap: float = 32.0
    jitter: float = 0.1
    max_retry_after: float = 60.0

    def delay(self, retry: int, retry_after: float | None = None) -> float:
        """Seconds to sleep before retry number ``retry`` (0-based)."""
        backoff = min(self.cap, self.base * (2.0 ** min(retry, 64)))
        backoff *= 1.0 + random.random() * self.jitter
        if retry_after is not None:
            backoff = max(backoff, min(retry_after, self.max_retry_after))
        return backoff


class Response(NamedTuple):
    """A successful (2xx) response with its body read."""

    status: int
    data: bytes
    headers: urllib3.HTTPHeaderDict
    retried: bool


def retry_after_seconds(headers: urllib3.HTTPHeaderDict) -> float | None:
    """Integer ``Retry-After`` seconds (client-go ignores HTTP dates), else None."""
    value = headers.get("Retry-After")
    if value is None:
        return None
    try:
        seconds = int(value.strip())
    except ValueError:
        return None
    return float(seconds) if seconds >= 0 else None


def describe_connection_error(exc: BaseException) -> str:
    """A short human reason for a urllib3/socket error (no URLs, no headers)."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, u3.NameResolutionError):
            return "name resolution failed"
        if isinstance(cause, OSError) and cause.strerror:
            return str(cause.strerror).lower()
        cause = cause.__cause__ or cause.__context__
    if isinstance(exc, u3.ReadTimeoutError):
        return "read timed out"
    if isinstance(exc, u3.ConnectTimeoutError) and not isinstance(exc, u3.NewConnectionError):
        return "connect timed out"
    if isinstance(exc, u3.ProtocolError):
        return "connection closed by the server"
    return type(exc).__name__


class Transport:
    """Sends requests for one cluster; shared by all threads of a ClusterClient."""

    def __init__(
        self,
        configuration: Configuration,
        server: str,
        *,
        retry: RetryPolicy,
        timeout: Timeout,
        stats: RequestStats,
        user_agent: str,
    ) -> None:
        self.api_client = ApiClient(configuration=configuration)
        self.api_client.user_agent = user_agent
        self.server = server
        self.retry = retry
        self.timeout = timeout
        self.stats = stats
        self._host = str(configuration.host).rstrip("/")
        self._auth: dict[str, str] = {}
        self._auth_expires = 0.0
        self._auth_lock = threading.Lock()
        self._closed = threading.Event()
        self._stream_rest: RESTClientObject | None = None
        self._stream_lock = threading.Lock()

    def close(self) -> None:
        """Release every pooled connection; pending retry sleeps end with an error."""
        self._closed.set()
        close: Callable[[], None] = self.api_client.close
        close()
        with self._stream_lock:
            if self._stream_rest is not None:
                self._stream_rest.close()

    def _pool(self, streaming: bool) -> urllib3.PoolManager:
        if not streaming:
            main: urllib3.PoolManager = self.api_client.rest_client.pool_manager
            return main
        with self._stream_lock:
            if self._stream_rest is None:
                # Long-lived watch connections get their own pool so they never starve requests.
                self._stream_rest = RESTClientObject(self.api_client.configuration)
            stream: urllib3.PoolManager = self._stream_rest.pool_manager
            return stream

    def _sleep(self, seconds: float) -> None:
        if self._closed.wait(seconds):
            raise ClusterError("the cluster client was closed")

    def _auth_headers(self) -> dict[str, str]:
        # The kubeconfig loader's refresh hook re-applies the whole config on every call to
        # auth_settings() (a quarter of a millisecond); exec/OIDC tokens live for minutes.
        now = time.monotonic()
        with self._auth_lock:
            if now >= self._auth_expires:
                settings = self.api_client.configuration.auth_settings()
                self._auth = {
                    str(s["key"]): str(s["value"])
                    for s in settings.values()
                    if s.get("in") == "header" and s.get("value")
                }
                self._auth_expires = now + AUTH_REFRESH_SECONDS
            return self._auth

    def _prepare(
        self, path: str, query: Query | None, content_type: str | None
    ) -> tuple[str, dict[str, str]]:
        headers = {**self.api_client.default_headers, "Accept": "application/json"}
        if content_type:
            headers["Content-Type"] = content_type
        headers.update(self._auth_headers())
        url = self._host + path
        if query:
            url += "?" + urlencode(query, quote_via=quote)
        return url, headers

    def send(
        self,
        method: str,
        path: str,
        *,
        verb: str,
        query: Query | None = None,
        body: bytes | None = None,
        content_type: str | None = None,
        limiter: TokenBucket | None = None,
        stats: StatsSink | None = None,
        retry: RetryPolicy | None = None,
        retry_maybe_sent: bool = True,
        streaming: bool = False,
        timeout: Timeout | None = None,
    ) -> tuple[urllib3.BaseHTTPResponse, bool]:
        """Send until a non-retryable answer; return the open 2xx response and "was retried".

        Raises ApiError for error statuses and ClusterUnreachableError when the server cannot be
        reached. With ``retry_maybe_sent=False`` a request that may have reached the server is not
        retried after a connection error (creates with generateName).
        """
        policy = retry or self.retry
        pool = self._pool(streaming)
        url, headers = self._prepare(path, query, content_type)
        t = timeout or self.timeout
        u3_timeout = urllib3.Timeout(connect=t[0], read=t[1])
        attempt = 0
        while True:
            if self._closed.is_set():
                raise ClusterError("the cluster client was closed")
            if limiter is not None:
                waited = limiter.wait()
                self.stats.add_throttle(waited)
                if stats is not None:
                    stats.add_throttle(waited)
            self.stats.add_request(verb)
            if stats is not None:
                stats.add_request(verb)
            try:
                resp = pool.request(
                    method,
                    url,
                    body=body,
                    headers=headers,
                    timeout=u3_timeout,
                    retries=False,
                    preload_content=False,
                    redirect=False,
                )
            except u3.SSLError as exc:
                self._fail(verb, 0, stats)
                raise ClusterUnreachableError(self.server, f"TLS error: {exc}") from None
            except (*_UNSENT, *_MAYBE_SENT) as exc:
                may_retry = retry_maybe_sent or isinstance(exc, _UNSENT)
                if attempt >= policy.max_retries or not may_retry:
                    self._fail(verb, 0, stats)
                    reason = describe_connection_error(exc)
                    if attempt:
                        reason += f" (after {attempt} retries)"
                    raise ClusterUnreachableError(self.server, reason) from None
                self._retry(verb, "connection", policy.delay(attempt), stats)
                attempt += 1
                continue
            status = resp.status
            if 200 <= status < 300:
                return resp, attempt > 0
            data = self._drain(resp)
            retry_after = retry_after_seconds(resp.headers)
            retryable = status == 429 or (status >= 500 and status != 501)
            if not retryable or attempt >= policy.max_retries:
                self._fail(verb, status, stats)
                error = ApiError.from_response(status, resp.reason or "", data, retry_after)
                error.retried = attempt > 0
                raise error
            cause = "429" if status == 429 else "5xx"
            self._retry(verb, cause, policy.delay(attempt, retry_after), stats)
            attempt += 1

    def request(self, method: str, path: str, **kwargs: Any) -> Response:
        """Like ``send`` but read the whole body and return the connection to the pool."""
        resp, retried = self.send(method, path, **kwargs)
        try:
            data = resp.data
        except (*_UNSENT, *_MAYBE_SENT) as exc:
            raise ClusterUnreachableError(self.server, describe_connection_error(exc)) from None
        finally:
            resp.release_conn()
        return Response(resp.status, data, resp.headers, retried)

    @staticmethod
    def _drain(resp: urllib3.BaseHTTPResponse) -> bytes:
        try:
            return resp.data
        except (*_UNSENT, *_MAYBE_SENT):
            return b""
        finally:
            resp.release_conn()

    def _retry(self, verb: str, cause: str, delay: float, stats: StatsSink | None) -> None:
        self.stats.add_retry(verb, cause, delay)
        if stats is not None:
            stats.add_retry(verb, cause, delay)
        self._sleep(delay)

    def _fail(self, verb: str, status: int, stats: StatsSink | None) -> None:
        self.stats.add_error(verb, status)
        if stats is not None:
            stats.add_error(verb, status)
