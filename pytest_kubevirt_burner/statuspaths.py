"""kube-burner's ``customStatusPaths``: jq queries over an object's ``.status``.

kube-burner runs each key with gojq against ``.status`` and counts the object as ready when any
output equals the configured value. Here the queries run on libjq (the ``jq`` package), which
accepts the same documented forms, e.g. ``(.conditions.[] | select(.type == "Ready")).status``
and ``.readyToUse | tostring``. Programs are compiled once per key.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import jq

__all__ = ["StatusPathError", "all_match", "compile_path", "first_output", "matches", "path_error"]


class StatusPathError(ValueError):
    """A customStatusPaths key that jq cannot compile; the message is one line."""


def _one_line(message: str) -> str:
    first = message.strip().splitlines()[0] if message.strip() else "invalid jq program"
    return first.removeprefix("jq: error: ").replace(" at <top-level>, line 1", "").rstrip(":")


@functools.lru_cache(maxsize=512)
def compile_path(expr: str) -> Any:
    """The compiled jq program of ``expr``; StatusPathError when it does not compile."""
    if not isinstance(expr, str) or not expr.strip():
        raise StatusPathError("empty jq query")
    try:
        return jq.compile(expr)
    except ValueError as exc:
        raise StatusPathError(
            f"jq query {expr!r} does not compile: {_one_line(str(exc))}"
        ) from None


def path_error(expr: str) -> str | None:
    """The one-line reason ``expr`` is not a valid jq query, or None."""
    try:
        compile_path(expr)
    except StatusPathError as exc:
        return str(exc)
    return None


def _outputs(status: Any, expr: str) -> list[Any]:
    try:
        return list(compile_path(expr).input_value(status).all())
    except ValueError:  # a runtime error (e.g. iterating null) ends evaluation, as in kube-burner
        return []


def first_output(status: Any, expr: str) -> Any:
    """The first value ``expr`` yields over ``status`` (None when it yields nothing or fails)."""
    out = _outputs(status, expr)
    return out[0] if out else None


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def matches(status: Any, expr: str, value: str) -> bool:
    """Whether any output of ``expr`` over a non-empty ``status`` equals ``value``.

    Strings compare as they are (kube-burner's rule); a boolean or number output also matches
    its JSON text, so ``.readyToUse`` with ``"true"`` works without ``| tostring``.
    """
    if not status:
        return False
    return any(_text(v) == value for v in _outputs(status, expr) if v is not None)


def all_match(status: Any, paths: Sequence[tuple[str, str]]) -> bool:
    """Whether every (key, value) of ``paths`` matches ``status``."""
    return all(matches(status, key, value) for key, value in paths)
