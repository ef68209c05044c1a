"""Client-side evaluation of equality- and set-based label selectors (``k=v``, ``k in (a,b)``)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

LabelMatch = Callable[[Mapping[str, str]], bool]

_SET = re.compile(r"^\s*([\w./-]+)\s+(in|notin)\s+\(([^()]*)\)\s*$")
_EQ = re.compile(r"^\s*([\w./-]+)\s*(==|=|!=)\s*([\w.-]*)\s*$")
_EXISTS = re.compile(r"^\s*(!?)\s*([\w./-]+)\s*$")


def _terms(selector: str) -> list[str]:
    """Split on commas outside parentheses."""
    terms, depth, start = [], 0, 0
    for i, ch in enumerate(selector):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            terms.append(selector[start:i])
            start = i + 1
    terms.append(selector[start:])
    return [t for t in terms if t.strip()]


def _term(text: str) -> LabelMatch | None:
    m = _SET.match(text)
    if m:
        key, values = m[1], frozenset(v.strip() for v in m[3].split(","))
        if m[2] == "in":
            return lambda labels: labels.get(key) in values
        return lambda labels: labels.get(key) not in values
    m = _EQ.match(text)
    if m:
        key, value = m[1], m[3]
        if m[2] == "!=":
            return lambda labels: labels.get(key) != value
        return lambda labels: labels.get(key) == value
    m = _EXISTS.match(text)
    if m:
        key = m[2]
        if m[1]:
            return lambda labels: key not in labels
        return lambda labels: key in labels
    return None


def label_matcher(selector: str) -> LabelMatch | None:
    """A predicate over an object's labels equal to the API server's, or None if unsupported."""
    matchers = []
    for text in _terms(selector):
        match = _term(text)
        if match is None:
            return None
        matchers.append(match)
    return lambda labels: all(m(labels) for m in matchers)
