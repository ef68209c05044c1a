"""sprig's ``semver`` and ``semverCompare`` (Masterminds/semver v3 versions and constraints)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import RenderFailure

__all__ = ["semver", "semver_compare"]

_VERSION = re.compile(
    r"v?(\d+)(?:\.(\d+))?(?:\.(\d+))?"
    r"(?:-([0-9A-Za-z\-]+(?:\.[0-9A-Za-z\-]+)*))?"
    r"(?:\+([0-9A-Za-z\-]+(?:\.[0-9A-Za-z\-]+)*))?"
)
_OPS = ("!=", ">=", "=>", "<=", "=<", "~>", ">", "<", "=", "~", "^")
_X = ("x", "X", "*")


class SemVer(dict[str, Any]):
    """A parsed version: its fields are readable from templates (``$v.Major``), and its
    methods callable (``$v.Compare $w``)."""

    go_methods = frozenset({"Compare", "LessThan", "GreaterThan", "Equal", "String"})

    def Compare(self, other: SemVer) -> int:
        """-1, 0 or 1."""
        return compare(self, other)

    def LessThan(self, other: SemVer) -> bool:
        """self < other."""
        return compare(self, other) < 0

    def GreaterThan(self, other: SemVer) -> bool:
        """self > other."""
        return compare(self, other) > 0

    def Equal(self, other: SemVer) -> bool:
        """self == other (metadata ignored)."""
        return compare(self, other) == 0

    def String(self) -> str:
        """The normalised version text."""
        return str(self)

    def key(self) -> tuple[int, int, int]:
        """(major, minor, patch)."""
        return (self["Major"], self["Minor"], self["Patch"])

    def __str__(self) -> str:
        text = "{}.{}.{}".format(*self.key())
        if self["Prerelease"]:
            text += f"-{self['Prerelease']}"
        if self["Metadata"]:
            text += f"+{self['Metadata']}"
        return text


def semver(text: Any) -> SemVer:
    """Parse a version the way Masterminds/semver's NewVersion does (``v`` prefix, x.y allowed)."""
    value = str(text)
    m = _VERSION.fullmatch(value)
    if m is None:
        raise RenderFailure("Invalid Semantic Version")
    major, minor, patch, pre, meta = m.groups()
    return SemVer(
        Major=int(major),
        Minor=int(minor or 0),
        Patch=int(patch or 0),
        Prerelease=pre or "",
        Metadata=meta or "",
        Original=value,
    )


def _pre_cmp(a: str, b: str) -> int:
    if a == b:
        return 0
    if not a:
        return 1
    if not b:
        return -1
    pa, pb = a.split("."), b.split(".")
    for x, y in zip(pa, pb, strict=False):
        if x == y:
            continue
        if x.isdigit() and y.isdigit():
            return -1 if int(x) < int(y) else 1
        if x.isdigit() != y.isdigit():
            return -1 if x.isdigit() else 1
        return -1 if x < y else 1
    return -1 if len(pa) < len(pb) else (1 if len(pa) > len(pb) else 0)


def compare(a: SemVer, b: SemVer) -> int:
    """-1, 0 or 1 (metadata ignored, a prerelease sorts before its release)."""
    if a.key() != b.key():
        return -1 if a.key() < b.key() else 1
    return _pre_cmp(a["Prerelease"], b["Prerelease"])


@dataclass(frozen=True)
class _Constraint:
    op: str
    ver: SemVer
    minor_dirty: bool
    patch_dirty: bool
    dirty: bool


def _parse_one(text: str) -> _Constraint:
    text = text.strip()
    op = next((o for o in _OPS if text.startswith(o)), "")
    rest = text[len(op) :].strip()
    parts = rest.lstrip("vV").split("+")[0].split("-")[0].split(".")
    if not rest or parts[0] in _X:
        return _Constraint(op, semver("0.0.0"), True, True, True)
    minor_dirty = len(parts) < 2 or parts[1] in _X
    patch_dirty = minor_dirty or len(parts) < 3 or parts[2] in _X
    clean = rest
    for x in _X:
        clean = clean.replace(f".{x}", ".0")
    try:
        ver = semver(clean)
    except RenderFailure:
        raise RenderFailure(f"improper constraint: {text}") from None
    return _Constraint(op, ver, minor_dirty, patch_dirty, minor_dirty or patch_dirty)


def _tilde(v: SemVer, c: _Constraint) -> bool:
    if compare(v, c.ver) < 0:
        return False
    if c.ver["Minor"] == 0 and c.ver["Patch"] == 0 and not c.minor_dirty and not c.patch_dirty:
        return bool(v["Major"] == c.ver["Major"])
    if v["Major"] != c.ver["Major"]:
        return False
    return not (v["Minor"] != c.ver["Minor"] and not c.minor_dirty)


def _caret(v: SemVer, c: _Constraint) -> bool:
    if compare(v, c.ver) < 0:
        return False
    if c.ver["Major"] > 0 or c.minor_dirty:
        return bool(v["Major"] == c.ver["Major"])
    if v["Major"] > 0:
        return False
    if c.ver["Minor"] > 0 or c.patch_dirty:
        return bool(v["Minor"] == c.ver["Minor"])
    if v["Minor"] > 0:
        return False
    return bool(v["Patch"] == c.ver["Patch"])


def _equal(v: SemVer, c: _Constraint) -> bool:
    return _tilde(v, c) if c.dirty else compare(v, c.ver) == 0


def _not_equal(v: SemVer, c: _Constraint) -> bool:
    if not c.dirty:
        return compare(v, c.ver) != 0
    if c.ver["Major"] != v["Major"]:
        return True
    if c.minor_dirty:
        return False
    return bool(c.ver["Minor"] != v["Minor"])


def _greater(v: SemVer, c: _Constraint) -> bool:
    if not c.dirty:
        return compare(v, c.ver) > 0
    if v["Major"] != c.ver["Major"]:
        return bool(v["Major"] > c.ver["Major"])
    if c.minor_dirty:
        return False
    return bool(v["Minor"] > c.ver["Minor"])


def _less_equal(v: SemVer, c: _Constraint) -> bool:
    if not c.dirty:
        return compare(v, c.ver) <= 0
    if v["Major"] != c.ver["Major"]:
        return bool(v["Major"] < c.ver["Major"])
    return c.minor_dirty or v["Minor"] <= c.ver["Minor"]


_CHECKS: dict[str, Callable[[SemVer, _Constraint], bool]] = {
    "": _equal,
    "=": _equal,
    "!=": _not_equal,
    ">": _greater,
    "<": lambda v, c: compare(v, c.ver) < 0,
    ">=": lambda v, c: compare(v, c.ver) >= 0,
    "=>": lambda v, c: compare(v, c.ver) >= 0,
    "<=": _less_equal,
    "=<": _less_equal,
    "~": _tilde,
    "~>": _tilde,
    "^": _caret,
}


def _check(v: SemVer, c: _Constraint) -> bool:
    if v["Prerelease"] and not c.ver["Prerelease"] and c.op != "!=":
        return False  # prereleases satisfy only constraints that name one
    return _CHECKS[c.op](v, c)


def _and_group(text: str) -> list[_Constraint]:
    text = re.sub(r"\s*-\s+", " - ", text.strip())
    m = re.fullmatch(r"(\S+) - (\S+)", text)
    if m:  # hyphen range
        return [_parse_one(">=" + m.group(1)), _parse_one("<=" + m.group(2))]
    text = re.sub(r"(>=|=>|<=|=<|!=|~>|>|<|=|~|\^)\s+", r"\1", text)
    return [_parse_one(t) for t in re.split(r"[,\s]+", text) if t]


def semver_compare(constraint: Any, version: Any) -> bool:
    """Whether ``version`` satisfies ``constraint`` (``||`` of ``,``/space separated terms)."""
    groups = [_and_group(g) for g in str(constraint).split("||")]
    if not any(groups):
        raise RenderFailure(f"improper constraint: {constraint}")
    v = semver(version)
    return any(group and all(_check(v, c) for c in group) for group in groups)
