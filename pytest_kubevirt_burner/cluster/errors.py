"""Exceptions of the cluster-access layer; every message is one line and free of credentials."""

from __future__ import annotations

from typing import Any

import orjson


class ClusterError(Exception):
    """Base class of every error raised by the cluster-access layer."""


class ClusterConfigError(ClusterError):
    """The cluster configuration (kubeconfig, context, in-cluster) is missing or unusable."""


class ClusterUnreachableError(ClusterError):
    """The API server could not be reached (connection refused, DNS, TLS, timeouts)."""

    def __init__(self, server: str, reason: str) -> None:
        self.server = server
        self.reason = " ".join(reason.split())
        super().__init__(f"cannot reach the cluster at {server}: {self.reason}")


class UnknownKindError(ClusterError):
    """Discovery does not know the requested apiVersion/kind."""


class ApiError(ClusterError):
    """The API server answered with an error status (built from its metav1.Status body)."""

    def __init__(
        self,
        status: int,
        reason: str,
        message: str,
        details: dict[str, Any] | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.status = status
        self.reason = reason
        self.message = " ".join(message.split())
        self.details = details or {}
        self.retry_after = retry_after
        self.retried = False
        """True when the request had been sent more than once before this answer."""
        super().__init__(self.message)

    def __repr__(self) -> str:
        return f"ApiError({self.status}, {self.reason!r}, {self.message!r})"

    @property
    def is_not_found(self) -> bool:
        """True for 404."""
        return self.status == 404

    @property
    def is_already_exists(self) -> bool:
        """True for 409 AlreadyExists (not for 409 Conflict)."""
        return self.status == 409 and self.reason == "AlreadyExists"

    @property
    def is_conflict(self) -> bool:
        """True for 409 Conflict (stale resourceVersion)."""
        return self.status == 409 and self.reason == "Conflict"

    @property
    def is_expired(self) -> bool:
        """True for 410 Expired/Gone (resourceVersion or continue token too old)."""
        return self.status == 410

    @classmethod
    def from_response(
        cls, status: int, http_reason: str, body: bytes, retry_after: float | None = None
    ) -> ApiError:
        """Build from an HTTP error response; non-JSON bodies (APF's plain text) are tolerated."""
        data: Any = None
        try:
            data = orjson.loads(body) if body else None
        except orjson.JSONDecodeError:
            data = None
        if isinstance(data, dict) and data.get("kind") == "Status":
            reason = str(data.get("reason") or http_reason or "Unknown")
            message = str(data.get("message") or http_reason or "")
            details = data.get("details") if isinstance(data.get("details"), dict) else None
        else:
            reason = http_reason or "Unknown"
            text = body[:300].decode("utf-8", "replace").strip() if body else ""
            message = text or f"{status} {http_reason}".strip()
            details = None
        if status == 401:
            message = "the cluster rejected the credentials (401 Unauthorized)"
        elif status == 403:
            message = f"forbidden: {message}"
        return cls(status, reason, message, details, retry_after)

    @classmethod
    def from_status(cls, status: dict[str, Any]) -> ApiError:
        """Build from a metav1.Status object (e.g. the object of a watch ERROR event)."""
        code = status.get("code")
        return cls(
            int(code) if isinstance(code, int) else 500,
            str(status.get("reason") or "Unknown"),
            str(status.get("message") or ""),
            status.get("details") if isinstance(status.get("details"), dict) else None,
        )
