"""Label and field selectors with the grammar and validation of apimachinery, compiled once."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from .errors import ApiError, bad_request

_LABEL_NAME_RE = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_LABEL_VALUE_RE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_DNS1123_SUBDOMAIN_RE = re.compile(
    r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
)

QUALIFIED_NAME_MSG = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end"
    " with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for"
    " validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)
LABEL_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or"
    " '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or"
    " 'my_value',  or '12345', regex used for validation is"
    " '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)
SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or"
    " '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used"
    " for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)


@lru_cache(maxsize=8192)
def label_key_errors(key: str) -> tuple[str, ...]:
    """Problems with a label key (``[prefix/]name``) as apimachinery words them; () if valid."""
    parts = key.split("/")
    if len(parts) > 2:
        return (
            QUALIFIED_NAME_MSG.replace("name part must", "a qualified name must", 1)
            + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
        )
    errs: list[str] = []
    name = parts[-1]
    if len(parts) == 2:
        prefix = parts[0]
        if not prefix:
            errs.append("prefix part must be non-empty")
        elif len(prefix) > 253:
            errs.append("prefix part must be no more than 253 characters")
        elif not _DNS1123_SUBDOMAIN_RE.match(prefix):
            errs.append("prefix part " + SUBDOMAIN_MSG)
    if not name:
        errs.append("name part must be non-empty")
    elif len(name) > 63:
        errs.append("name part must be no more than 63 characters")
    elif not _LABEL_NAME_RE.match(name):
        errs.append(QUALIFIED_NAME_MSG)
    return tuple(errs)


@lru_cache(maxsize=8192)
def label_value_errors(value: str) -> tuple[str, ...]:
    """Problems with a label value; () if valid."""
    errs: list[str] = []
    if len(value) > 63:
        errs.append("must be no more than 63 characters")
    if not _LABEL_VALUE_RE.match(value):
        errs.append(LABEL_VALUE_MSG)
    return tuple(errs)


# ---------------------------------------------------------------- label selectors

_SPECIAL = "=!(),<>"
_WS = " \t\r\n"


@dataclass(frozen=True, slots=True)
class Requirement:
    """One label requirement: key, operator (``=``, ``==``, ``!=``, ``in``, ``notin``,
    ``exists``, ``!``, ``>``, ``<``) and values."""

    key: str
    op: str
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether ``labels`` satisfy this requirement."""
        op = self.op
        if op in ("=", "==", "in"):
            return self.key in labels and labels[self.key] in self.values
        if op in ("!=", "notin"):
            return self.key not in labels or labels[self.key] not in self.values
        if op == "exists":
            return self.key in labels
        if op == "!":
            return self.key not in labels
        if self.key not in labels:
            return False
        try:
            have = int(labels[self.key])
        except ValueError:
            return False
        want = int(self.values[0])
        return have > want if op == ">" else have < want

    def __str__(self) -> str:
        if self.op == "exists":
            return self.key
        if self.op == "!":
            return "!" + self.key
        if self.op in ("in", "notin"):
            # a set holding only "" must read "(,)": "()" is an empty set, which is invalid
            inner = ",".join(self.values) if self.values != ("",) else ","
            return f"{self.key} {self.op} ({inner})"
        return f"{self.key}{self.op}{self.values[0]}"


class LabelSelector:
    """A compiled label selector: call it on an object (or use ``matches`` on a label map)."""

    __slots__ = ("_fn", "requirements")

    def __init__(self, requirements: Iterable[Requirement]) -> None:
        self.requirements = tuple(requirements)
        self._fn = _compile(self.requirements)

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        """Whether a label map satisfies every requirement."""
        return self._fn(labels or {})

    def __call__(self, obj: Mapping[str, Any]) -> bool:
        return self._fn(obj.get("metadata", {}).get("labels") or {})

    def empty(self) -> bool:
        """True when the selector selects everything."""
        return not self.requirements

    def __str__(self) -> str:
        return ",".join(str(r) for r in self.requirements)


def _compile(reqs: tuple[Requirement, ...]) -> Callable[[Mapping[str, str]], bool]:
    if not reqs:
        return lambda labels: True
    if len(reqs) == 1 and reqs[0].op in ("=", "=="):
        key, value = reqs[0].key, reqs[0].values[0]
        return lambda labels: labels.get(key) == value
    # a flat plan: (kind, key, values); a missing label reads as None, never in a value set
    plan: list[tuple[int, str, frozenset[str]]] = []
    ordered: list[Requirement] = []
    for r in reqs:
        if r.op in ("=", "==", "in"):
            plan.append((0, r.key, frozenset(r.values)))
        elif r.op in ("!=", "notin"):
            plan.append((1, r.key, frozenset(r.values)))
        elif r.op == "exists":
            plan.append((2, r.key, frozenset()))
        elif r.op == "!":
            plan.append((3, r.key, frozenset()))
        else:
            ordered.append(r)
    steps = tuple(plan)
    slow = tuple(ordered)

    def fn(labels: Mapping[str, str]) -> bool:
        for kind, key, values in steps:
            if kind == 0:
                if labels.get(key) not in values:
                    return False
            elif kind == 1:
                if labels.get(key) in values:
                    return False
            elif (key in labels) != (kind == 2):
                return False
        return all(r.matches(labels) for r in slow) if slow else True

    return fn


_SYMBOLS = ("=", "==", "!", "!=", ">", "<", "(", ")", ",")
_EOS = ("eos", "end of string")


def _tokenize(s: str) -> list[tuple[str, str]]:
    """Tokens as (kind, literal); kind is ``ident`` or the symbol itself."""
    toks: list[tuple[str, str]] = []
    i, n = 0, len(s)
    while i < n:
        c = s[i]
        if c in _WS:
            i += 1
        elif c in _SPECIAL:
            j = i + 1
            while j < n and s[i : j + 1] in _SYMBOLS:
                j += 1
            toks.append((s[i:j], s[i:j]))
            i = j
        else:
            j = i
            while j < n and s[j] not in _WS and s[j] not in _SPECIAL:
                j += 1
            toks.append(("ident", s[i:j]))
            i = j
    return toks


def _parse_error(msg: str) -> ApiError:
    return bad_request(f"unable to parse requirement: {msg}")


def _check_key(key: str) -> None:
    errs = label_key_errors(key)
    if errs:
        raise _parse_error(f'key: Invalid value: "{key}": {"; ".join(errs)}')


def _check_value(i: int, key: str, value: str) -> None:
    errs = label_value_errors(value)
    if errs:
        raise _parse_error(f'values[{i}][{key}]: Invalid value: "{value}": {"; ".join(errs)}')


class _Parser:
    def __init__(self, selector: str) -> None:
        self.toks = _tokenize(selector)
        self.pos = 0

    def peek(self) -> tuple[str, str]:
        return self.toks[self.pos] if self.pos < len(self.toks) else _EOS

    def take(self) -> tuple[str, str]:
        tok = self.peek()
        self.pos += 1
        return tok

    def parse(self) -> list[Requirement]:
        reqs: list[Requirement] = []
        while True:
            kind, lit = self.peek()
            if kind == "eos":
                return reqs
            reqs.append(self.requirement())
            kind, lit = self.take()
            if kind == "eos":
                return reqs
            if kind != ",":
                raise _parse_error(f"found '{lit}', expected: ',' or 'end of string'")
            if self.peek()[0] == "eos":
                raise _parse_error("found 'end of string', expected: identifier")

    def requirement(self) -> Requirement:
        kind, lit = self.take()
        if kind == "!":
            kind, lit = self.take()
            if kind != "ident" or lit in ("in", "notin"):
                raise _parse_error(f"found '{lit}', expected: identifier after '!'")
            _check_key(lit)
            return Requirement(lit, "!")
        if kind != "ident" or lit in ("in", "notin"):
            raise _parse_error(f"found '{lit}', expected: !, identifier, or 'end of string'")
        key = lit
        _check_key(key)
        kind, lit = self.peek()
        if kind in (",", "eos"):
            return Requirement(key, "exists")
        self.pos += 1
        if kind == "ident" and lit in ("in", "notin"):
            return Requirement(key, lit, self.value_set(key))
        if kind in ("=", "==", "!="):
            value = self.exact_value()
            _check_value(0, key, value)
            return Requirement(key, kind, (value,))
        if kind in (">", "<"):
            value = self.exact_value()
            try:
                int(value)
            except ValueError:
                raise _parse_error(
                    f"values[0][{key}]: Invalid value: \"{value}\": for 'Gt', 'Lt' operators,"
                    " the value must be an integer"
                ) from None
            return Requirement(key, kind, (value,))
        raise _parse_error(f"found '{lit}', expected: in, notin, =, ==, !=, gt, lt")

    def exact_value(self) -> str:
        kind, lit = self.peek()
        if kind in (",", "eos"):
            return ""
        self.pos += 1
        if kind == "ident":
            return lit
        raise _parse_error(f"found '{lit}', expected: identifier")

    def value_set(self, key: str) -> tuple[str, ...]:
        kind, lit = self.take()
        if kind != "(":
            raise _parse_error(f"found '{lit}', expected: '('")
        values: list[str] = []
        if self.peek()[0] == ")":
            self.pos += 1
        else:
            while True:
                kind, lit = self.take()
                if kind == "ident":
                    values.append(lit)
                    kind, lit = self.take()
                    if kind == ")":
                        break
                    if kind != ",":
                        raise _parse_error(f"found '{lit}', expected: ',' or ')'")
                    if self.peek()[0] == ")":
                        values.append("")
                        self.pos += 1
                        break
                elif kind == ",":
                    values.append("")
                    if self.peek()[0] == ")":
                        self.pos += 1
                        break
                else:
                    raise _parse_error(f"found '{lit}', expected: ',', or identifier")
        if not values:
            raise _parse_error(
                f"{key}: Invalid value: null: for 'in', 'notin' operators, values set can't be"
                " empty"
            )
        for i, v in enumerate(values):
            _check_value(i, key, v)
        return tuple(dict.fromkeys(values))


@lru_cache(maxsize=4096)
def parse_label_selector(selector: str) -> LabelSelector:
    """Compile a ``labelSelector`` string; ApiError(400) when it does not parse or validate."""
    return LabelSelector(_Parser(selector).parse())


def label_selector_from_object(sel: Mapping[str, Any] | None) -> LabelSelector:
    """Compile a metav1.LabelSelector dict (``matchLabels``/``matchExpressions``).

    None selects nothing (as a nil selector does for controllers); ``{}`` selects everything.
    """
    if sel is None:
        return LabelSelector([Requirement("", "in", ())])
    reqs = [Requirement(k, "=", (v,)) for k, v in sorted((sel.get("matchLabels") or {}).items())]
    op_map = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!"}
    for expr in sel.get("matchExpressions") or []:
        op = op_map.get(expr.get("operator", ""))
        if op is None:
            raise bad_request(f"{expr.get('operator')!r} is not a valid label selector operator")
        reqs.append(Requirement(expr.get("key", ""), op, tuple(expr.get("values") or ())))
    return LabelSelector(reqs)


# ---------------------------------------------------------------- field selectors

_COMMON_FIELDS = ("metadata.name", "metadata.namespace")
_EXTRA_FIELDS: dict[tuple[str, str], tuple[str, ...]] = {
    ("", "pods"): (
        "spec.nodeName",
        "spec.restartPolicy",
        "spec.schedulerName",
        "spec.serviceAccountName",
        "spec.hostNetwork",
        "status.phase",
        "status.podIP",
        "status.podIPs",
        "status.nominatedNodeName",
    ),
    ("", "nodes"): ("spec.unschedulable",),
    ("", "namespaces"): ("status.phase",),
    ("", "secrets"): ("type",),
    ("", "events"): (
        "involvedObject.kind",
        "involvedObject.namespace",
        "involvedObject.name",
        "involvedObject.uid",
        "involvedObject.apiVersion",
        "involvedObject.resourceVersion",
        "involvedObject.fieldPath",
        "reason",
        "reportingComponent",
        "source",
        "type",
    ),
    ("apps", "replicasets"): ("status.replicas",),
    ("batch", "jobs"): ("status.successful",),
}


def _field_value(obj: Mapping[str, Any], path: tuple[str, ...]) -> str:
    cur: Any = obj
    for part in path:
        if not isinstance(cur, Mapping):
            return ""
        cur = cur.get(part)
    if cur is None:
        return ""
    if isinstance(cur, bool):
        return "true" if cur else "false"
    if isinstance(cur, list):  # status.podIPs: the first address, as the real server selects
        cur = cur[0].get("ip", "") if cur and isinstance(cur[0], Mapping) else ""
    if path == ("source",) and isinstance(cur, Mapping):
        return str(cur.get("component", ""))
    return str(cur)


class FieldSelector:
    """A compiled field selector: terms ANDed; call it on an object dict."""

    __slots__ = ("_terms", "terms")

    def __init__(self, terms: Iterable[tuple[str, str, str]]) -> None:
        self.terms = tuple(terms)
        self._terms = tuple((tuple(f.split(".")), op == "!=", v) for f, op, v in self.terms)

    def __call__(self, obj: Mapping[str, Any]) -> bool:
        for path, negate, value in self._terms:
            if (_field_value(obj, path) == value) == negate:
                return False
        return True

    def exact(self, field: str) -> str | None:
        """The value that ``field`` must equal, when the selector pins it; else None."""
        for f, op, v in self.terms:
            if f == field and op != "!=":
                return v
        return None

    def empty(self) -> bool:
        """True when the selector selects everything."""
        return not self.terms


_ESCAPES = {"\\": "\\", ",": ",", "=": "=", "!": "!"}


def _split_terms(s: str) -> list[str]:
    parts: list[str] = []
    cur: list[str] = []
    i = 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            cur.append(s[i : i + 2])
            i += 2
            continue
        if c == ",":
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(c)
        i += 1
    parts.append("".join(cur))
    return parts


def _unescape(s: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(s):
        if s[i] == "\\":
            if i + 1 >= len(s) or s[i + 1] not in _ESCAPES:
                raise bad_request(f"invalid field selector: invalid escape sequence in {s!r}")
            out.append(s[i + 1])
            i += 2
        else:
            out.append(s[i])
            i += 1
    return "".join(out)


def _find_op(term: str) -> tuple[int, str]:
    i = 0
    while i < len(term):
        if term[i] == "\\":
            i += 2
            continue
        for op in ("!=", "==", "="):
            if term.startswith(op, i):
                return i, op
        i += 1
    return -1, ""


@lru_cache(maxsize=4096)
def parse_field_selector(selector: str, resource: str = "", group: str = "") -> FieldSelector:
    """Compile a ``fieldSelector`` for ``resource`` in ``group``; ApiError(400) if invalid."""
    allowed = _COMMON_FIELDS + _EXTRA_FIELDS.get((group, resource), ())
    terms: list[tuple[str, str, str]] = []
    for raw in _split_terms(selector):
        if not raw:
            continue
        idx, op = _find_op(raw)
        if idx < 0:
            raise bad_request(f"invalid selector: '{selector}'; can't understand '{raw}'")
        field = _unescape(raw[:idx]).strip()
        value = _unescape(raw[idx + len(op) :])
        if field not in allowed:
            if (group, resource) == ("", "pods"):
                raise bad_request(f"field label not supported: {field}")
            raise bad_request(
                f'"{field}" is not a known field selector: only "metadata.name",'
                ' "metadata.namespace"'
            )
        terms.append((field, "!=" if op == "!=" else "=", value))
    return FieldSelector(terms)


def supported_fields(resource: str, group: str = "") -> tuple[str, ...]:
    """Field selector fields supported for a resource."""
    return _COMMON_FIELDS + _EXTRA_FIELDS.get((group, resource), ())
