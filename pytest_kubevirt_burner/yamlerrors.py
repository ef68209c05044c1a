"""One-line descriptions of YAML parse errors, for messages that name the file."""

from __future__ import annotations

import yaml


def describe(exc: yaml.YAMLError) -> tuple[str, str]:
    """``(problem, " at line N")`` of a PyYAML error (the location may be empty)."""
    mark = getattr(exc, "problem_mark", None)
    where = f" at line {mark.line + 1}" if mark is not None else ""
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0] or "syntax error"
    return " ".join(str(problem).split()), where
