"""``Warning`` response headers collected while one API request is served (admission warnings)."""

from __future__ import annotations

from contextvars import ContextVar

_WARNINGS: ContextVar[list[str] | None] = ContextVar("kube_sim_warnings", default=None)


def begin() -> list[str]:
    """Start collecting warnings for the current request; returns the (live) list."""
    warnings: list[str] = []
    _WARNINGS.set(warnings)
    return warnings


def add(message: str) -> None:
    """Add a warning to the current request (ignored outside a request, e.g. in controllers)."""
    warnings = _WARNINGS.get()
    if warnings is not None and message not in warnings:
        warnings.append(message)


def header_value(message: str) -> str:
    """The RFC 7234 ``Warning`` header value kube-apiserver sends: ``299 - "<message>"``."""
    escaped = message.replace("\\", "\\\\").replace('"', '\\"')
    return f'299 - "{escaped}"'
