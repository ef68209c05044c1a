"""Sprig and Go text/template builtin functions: strings, regexes, encodings, comparisons."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import urllib.parse
import zlib
from collections.abc import Callable, Mapping
from typing import Any

from .errors import RenderFailure
from .gofmt import go_print, go_sprintf, go_str, go_type

__all__ = ["TEXT_FUNCTIONS", "strval"]


def strval(value: Any) -> str:
    """Sprig's strval: strings as-is, anything else as Go's %v."""
    return value if isinstance(value, str) else go_str(value)


def _title(s: str) -> str:
    return re.sub(r"(?:^|(?<=[^\w]))(\w)", lambda m: m.group(1).upper(), s)


def _untitle(s: str) -> str:
    return re.sub(r"(?:^|(?<=[^\w]))(\w)", lambda m: m.group(1).lower(), s)


def _words(s: str) -> list[str]:
    return re.findall(r"[A-Z]+(?=[A-Z][a-z]|\d|\b|_)|[A-Z]?[a-z]+|[A-Z]+|\d+", s)


def _indent(spaces: Any, s: Any) -> str:
    pad = " " * int(spaces)
    return pad + strval(s).replace("\n", "\n" + pad)


def _substr(start: int, end: int, s: str) -> str:
    if start < 0:
        return s[:end]
    if end < 0 or end > len(s):
        return s[start:]
    return s[start:end]


def _trunc(count: int, s: str) -> str:
    if count < 0 and -count < len(s):
        return s[len(s) + count :]
    return s[:count] if 0 <= count < len(s) else s


def _abbrev(width: int, s: str) -> str:
    if width < 4 or len(s) <= width:
        return s
    return s[: width - 3] + "..."


def _split(sep: str, s: Any) -> dict[str, str]:
    return {f"_{i}": part for i, part in enumerate(_split_list(sep, strval(s)))}


def _split_list(sep: str, s: Any) -> list[str]:
    text = strval(s)
    if sep == "":
        return list(text)
    return text.split(sep)


def _splitn(sep: str, n: int, s: Any) -> dict[str, str]:
    parts = strval(s).split(sep, n - 1) if n > 0 else []
    return {f"_{i}": part for i, part in enumerate(parts)}


def _join(sep: str, items: Any) -> str:
    if isinstance(items, str):
        return items
    if not isinstance(items, list | tuple):
        return strval(items)
    return sep.join(strval(v) for v in items if v is not None)


def _go_repl(repl: str) -> str:
    """Translate Go regexp replacement syntax ($1, ${name}, $$) to Python's."""
    out: list[str] = []
    i = 0
    while i < len(repl):
        c = repl[i]
        if c == "\\":
            out.append("\\\\")
        elif c == "$" and repl.startswith("$$", i):
            out.append("$")
            i += 1
        elif c == "$":
            m = re.match(r"\{(\w+)\}|(\w+)", repl[i + 1 :])
            if m is None:
                out.append("$")
            else:
                out.append(f"\\g<{m.group(1) or m.group(2)}>")
                i += m.end()
        else:
            out.append(c)
        i += 1
    return "".join(out)


def _regex_replace(regex: str, s: Any, repl: str) -> str:
    try:
        return re.sub(regex, _go_repl(repl), strval(s))
    except (re.error, IndexError) as exc:
        raise RenderFailure(f"regexReplaceAll: {exc}") from None


def _find_all(regex: str, s: Any, n: int) -> list[str]:
    found = [m.group(0) for m in re.finditer(regex, strval(s))]
    return found if n < 0 else found[:n]


def _regex_split(regex: str, s: Any, n: int) -> list[str]:
    if n == 0:
        return []
    return re.split(regex, strval(s), maxsplit=max(n - 1, 0))


def _b64dec(s: Any) -> str:
    try:
        return base64.b64decode(strval(s), validate=True).decode()
    except (ValueError, UnicodeDecodeError) as exc:
        raise RenderFailure(f"b64dec: illegal base64 data: {exc}") from None


def _b32dec(s: Any) -> str:
    try:
        return base64.b32decode(strval(s)).decode()
    except (ValueError, UnicodeDecodeError) as exc:
        raise RenderFailure(f"b32dec: illegal base32 data: {exc}") from None


def _quote(*args: Any) -> str:
    return " ".join(json.dumps(strval(a), ensure_ascii=False) for a in args if a is not None)


def _squote(*args: Any) -> str:
    return " ".join(f"'{strval(a)}'" for a in args if a is not None)


def _html(*args: Any) -> str:
    text = go_print(*args)
    for a, b in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("'", "&#39;"), ('"', "&#34;")):
        text = text.replace(a, b)
    return text.replace("\0", "\ufffd")


def _js(*args: Any) -> str:
    text = go_print(*args)
    table = {"\\": "\\\\", "'": "\\'", '"': '\\"', "<": "\\u003C", ">": "\\u003E",
             "&": "\\u0026", "=": "\\u003D", "\n": "\\u000A", "\r": "\\u000D"}  # fmt: skip
    return "".join(table.get(c, c) for c in text)


_BAD_COMPARISON = "incompatible types for comparison"
_BAD_TYPE = "invalid type for comparison"


def _basic_kind(value: Any) -> str | None:
    """text/template's basicKind: the comparable kinds, None for nil, "" for the others."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    return ""


def _eq_one(a: Any, b: Any) -> bool:
    ka, kb = _basic_kind(a), _basic_kind(b)
    if ka != kb:
        if a is not None and b is not None:
            raise RenderFailure(_BAD_COMPARISON)
        return False
    if ka == "":  # maps, lists and other composite values
        if isinstance(a, Mapping | list | tuple | set) or isinstance(
            b, Mapping | list | tuple | set
        ):
            raise RenderFailure(f"non-comparable type {go_type(a)}")
        return bool(a == b)
    return bool(a == b)


def _eq(a: Any, *others: Any) -> bool:
    """Go's eq: true when ``a`` equals any of ``others``; mismatched kinds are an error."""
    if not others:
        raise RenderFailure("missing argument for comparison")
    return any(_eq_one(a, b) for b in others)


def _lt(a: Any, b: Any) -> bool:
    ka, kb = _basic_kind(a), _basic_kind(b)
    if not ka or not kb:
        raise RenderFailure(_BAD_TYPE)
    if ka != kb:
        raise RenderFailure(_BAD_COMPARISON)
    if ka == "bool":
        raise RenderFailure(_BAD_TYPE)
    return bool(a < b)


def _le(a: Any, b: Any) -> bool:
    return _lt(a, b) or _eq_one(a, b)


def _go_builtin(name: str, fn: Callable[..., bool]) -> Callable[..., bool]:
    """Prefix a comparison's error as text/template does (``error calling eq: ...``)."""

    def call(*args: Any) -> bool:
        try:
            return fn(*args)
        except RenderFailure as exc:
            raise RenderFailure(f"error calling {name}: {exc.message}") from None

    return call


def _go_len(value: Any) -> int:
    if value is None:
        raise RenderFailure("len of nil value")
    if isinstance(value, str):
        return len(value.encode())
    if isinstance(value, int | float | bool):
        raise RenderFailure(f"len of type {type(value).__name__}")
    return len(value)


def _index(item: Any, *keys: Any) -> Any:
    for key in keys:
        if item is None:
            raise RenderFailure("index of nil value")
        if isinstance(item, Mapping):
            item = item.get(key)
            continue
        if isinstance(item, str):
            item = item.encode()
        if isinstance(key, bool) or not isinstance(key, int):
            raise RenderFailure(f"cannot index {type(item).__name__} with {key!r}")
        if not 0 <= key < len(item):
            raise RenderFailure(f"index out of range: {key}")
        item = item[key]
    return item


def _slice(item: Any, *idx: int) -> Any:
    if len(idx) > 2:
        raise RenderFailure("slice: too many indexes (3-index slices are not supported)")
    start = idx[0] if idx else 0
    end = idx[1] if len(idx) > 1 else len(item)
    if not 0 <= start <= end <= len(item):
        raise RenderFailure(f"slice: index out of range: [{start}:{end}] with length {len(item)}")
    return item[start:end]


TEXT_FUNCTIONS: dict[str, Callable[..., Any]] = {
    # Go text/template builtins (and/or/not are translated inline)
    "eq": _go_builtin("eq", _eq),
    "ne": _go_builtin("ne", lambda a, b: not _eq_one(a, b)),
    "lt": _go_builtin("lt", _lt),
    "le": _go_builtin("le", _le),
    "gt": _go_builtin("gt", lambda a, b: not _le(a, b)),
    "ge": _go_builtin("ge", lambda a, b: not _lt(a, b)),
    "len": _go_len,
    "index": _index,
    "slice": _slice,
    "print": go_print,
    "println": lambda *a: " ".join(go_str(v) for v in a) + "\n",
    "printf": go_sprintf,
    "html": _html,
    "js": _js,
    "urlquery": lambda *a: urllib.parse.quote_plus(go_print(*a)),
    # sprig strings
    "upper": lambda s: strval(s).upper(),
    "lower": lambda s: strval(s).lower(),
    "title": lambda s: _title(strval(s)),
    "untitle": lambda s: _untitle(strval(s)),
    "trim": lambda s: strval(s).strip(),
    "trimAll": lambda cut, s: strval(s).strip(cut),
    "trimPrefix": lambda p, s: strval(s).removeprefix(p),
    "trimSuffix": lambda p, s: strval(s).removesuffix(p),
    "replace": lambda old, new, s: strval(s).replace(old, new),
    "contains": lambda sub, s: sub in strval(s),
    "hasPrefix": lambda p, s: strval(s).startswith(p),
    "hasSuffix": lambda p, s: strval(s).endswith(p),
    "split": _split,
    "splitList": _split_list,
    "splitn": _splitn,
    "join": _join,
    "repeat": lambda n, s: strval(s) * int(n),
    "substr": lambda a, b, s: _substr(int(a), int(b), strval(s)),
    "trunc": lambda n, s: _trunc(int(n), strval(s)),
    "abbrev": lambda n, s: _abbrev(int(n), strval(s)),
    "nospace": lambda s: re.sub(r"\s+", "", strval(s)),
    "cat": lambda *a: " ".join(strval(v) for v in a if v is not None),
    "indent": _indent,
    "nindent": lambda n, s: "\n" + _indent(n, s),
    "quote": _quote,
    "squote": _squote,
    "snakecase": lambda s: "_".join(w.lower() for w in _words(strval(s))),
    "kebabcase": lambda s: "-".join(w.lower() for w in _words(strval(s))),
    "camelcase": lambda s: "".join(w.capitalize() for w in re.split(r"[_\W]+", strval(s))),
    "plural": lambda one, many, n: one if int(n) == 1 else many,
    "toString": strval,
    "toStrings": lambda items: [strval(v) for v in (items or [])],
    # regexes (Python's re; RE2 syntax is mostly compatible)
    "regexMatch": lambda rx, s: re.search(rx, strval(s)) is not None,
    "regexFind": lambda rx, s: m.group(0) if (m := re.search(rx, strval(s))) else "",
    "regexFindAll": lambda rx, s, n: _find_all(rx, s, int(n)),
    "regexReplaceAll": _regex_replace,
    "regexReplaceAllLiteral": lambda rx, s, r: re.sub(rx, lambda _: r, strval(s)),
    "regexSplit": lambda rx, s, n: _regex_split(rx, s, int(n)),
    "regexQuoteMeta": lambda s: re.escape(strval(s)),
    # encodings and hashes
    "b64enc": lambda s: base64.b64encode(strval(s).encode()).decode(),
    "b64dec": _b64dec,
    "b32enc": lambda s: base64.b32encode(strval(s).encode()).decode(),
    "b32dec": _b32dec,
    "sha256sum": lambda s: hashlib.sha256(strval(s).encode()).hexdigest(),
    "sha1sum": lambda s: hashlib.sha1(strval(s).encode()).hexdigest(),
    "adler32sum": lambda s: str(zlib.adler32(strval(s).encode())),
}
