"""The rest of sprig v3.3's function map: strings, lists, dicts, paths, URLs, dates, reflection.

Each follows sprig's Go implementation (and the Apache-commons-derived goutils helpers it uses);
``must*`` variants raise where the plain ones would panic or return a zero value.
"""

from __future__ import annotations

import copy
import datetime as dt
import decimal
import json
import random
import re
import socket
import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any

from ..durations import parse_duration
from .errors import RenderFailure
from .funcs_data import DATA_FUNCTIONS, go_empty, to_float, to_int
from .funcs_text import TEXT_FUNCTIONS, strval
from .gofmt import _LAYOUT, go_type
from .gosemver import semver, semver_compare

__all__ = ["SPRIG_FUNCTIONS", "go_kind", "go_path_clean", "go_strptime"]


# -- strings (goutils) -----------------------------------------------------------------------
def _abbreviate_full(s: str, offset: int, width: int) -> str:
    if width < 4:
        raise RenderFailure("abbrevboth: minimum abbreviation width is 4")
    if len(s) <= width:
        return s
    offset = min(offset, len(s))
    if len(s) - offset < width - 3:
        offset = len(s) - (width - 3)
    if offset <= 4:
        return s[: width - 3] + "..."
    if width < 7:
        raise RenderFailure("abbrevboth: minimum abbreviation width with offset is 7")
    if offset + width - 3 < len(s):
        return "..." + _abbreviate_full(s[offset:], 0, width - 3)
    return "..." + s[len(s) - (width - 3) :]


def _abbrevboth(left: Any, right: Any, s: Any) -> str:
    lft, rgt, text = to_int(left), to_int(right), strval(s)
    if rgt < 4 or (lft > 0 and rgt < 7):
        return text
    return _abbreviate_full(text, lft, rgt)


def _wrap_custom(s: str, width: int, newline: str, long_words: bool) -> str:
    if not s:
        return ""
    newline = newline or "\n"
    width = max(width, 1)
    out: list[str] = []
    offset, n = 0, len(s)
    while n - offset > width:
        if s[offset] == " ":
            offset += 1
            continue
        at = s.rfind(" ", offset, width + offset + 1)
        if at >= offset:
            out += [s[offset:at], newline]
            offset = at + 1
        elif long_words:
            out += [s[offset : offset + width], newline]
            offset += width
        else:
            nxt = s.find(" ", width + offset)
            if nxt < 0:
                out.append(s[offset:])
                offset = n
            else:
                out += [s[offset:nxt], newline]
                offset = nxt + 1
    out.append(s[offset:])
    return "".join(out)


def _initials(s: Any) -> str:
    return "".join(word[0] for word in strval(s).split())


def _is_connector(c: str) -> bool:
    return c in "-_" or c.isspace()


def _camelcase(value: Any) -> str:
    """xstrings.ToCamelCase: connectors (-, _, spaces) dropped, next letter upper-cased;
    leading connectors and doubled ones are kept."""
    text = strval(value)
    out: list[str] = []
    i = 0
    while i < len(text) and _is_connector(text[i]):
        out.append(text[i])
        i += 1
    if i >= len(text):
        return "".join(out)
    r0 = text[i].upper()
    for c in text[i + 1 :]:
        r1, r0 = r0, c
        if _is_connector(r0) and _is_connector(r1):
            out.append(r1)
            continue
        if _is_connector(r1):
            r0 = r0.upper()
        else:
            out.append(r1)
    out.append(r0)
    return "".join(out)


def _decimal(value: Any) -> decimal.Decimal:
    return decimal.Decimal(repr(to_float(value)))


def _decimal_op(name: str, first: Any, rest: tuple[Any, ...]) -> float:
    """sprig's float math: shopspring/decimal on each operand's shortest decimal form."""
    with decimal.localcontext() as ctx:
        ctx.prec = 60
        out = _decimal(first)
        for value in rest:
            d = _decimal(value)
            if name == "add":
                out += d
            elif name == "sub":
                out -= d
            elif name == "mul":
                out *= d
            else:
                if d == 0:
                    raise RenderFailure("divf: decimal division by 0")
                out = (out / d).quantize(decimal.Decimal(1).scaleb(-16), decimal.ROUND_HALF_UP)
        return float(out)


# -- lists -----------------------------------------------------------------------------------
def _as_list(value: Any, name: str) -> list[Any]:
    if isinstance(value, list | tuple):
        return list(value)
    raise RenderFailure(f"Cannot find {name} on type {go_type(value)}")


def _chunk(size: Any, items: Any) -> list[list[Any]]:
    n, seq = to_int(size), _as_list(items, "chunk")
    if n <= 0:
        raise RenderFailure("chunk: size must be positive")
    return [seq[i : i + n] for i in range(0, len(seq), n)]


def _must(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def call(*args: Any) -> Any:
        return fn(*args)

    call.__name__ = name
    return call


def _merge_overwrite(dst: dict[str, Any], *srcs: Mapping[str, Any]) -> dict[str, Any]:
    for src in srcs:
        for key, value in src.items():
            if isinstance(dst.get(key), dict) and isinstance(value, Mapping):
                _merge_overwrite(dst[key], value)
            else:
                dst[key] = copy.deepcopy(value)
    return dst


# -- reflection ------------------------------------------------------------------------------
def go_kind(value: Any) -> str:
    """Go's reflect.Kind name of a decoded value."""
    if value is None:
        return "invalid"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "map"
    if isinstance(value, list | tuple | bytes):
        return "slice"
    return "struct"


# -- JSON ------------------------------------------------------------------------------------
def _must_from_json(text: Any) -> Any:
    try:
        return json.loads(strval(text))
    except ValueError as exc:
        raise RenderFailure(f"mustFromJson: {exc}") from None


def _from_json(text: Any) -> Any:
    try:
        return json.loads(strval(text))
    except ValueError:
        return None  # sprig ignores the error and returns nil


def _raw_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False, default=str)


# -- paths (Go's path package) ---------------------------------------------------------------
def go_path_clean(path: Any) -> str:
    """Go's path.Clean: lexical shortest form."""
    text = strval(path)
    if not text:
        return "."
    rooted = text.startswith("/")
    out: list[str] = []
    for part in text.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if out and out[-1] != "..":
                out.pop()
            elif not rooted:
                out.append("..")
            continue
        out.append(part)
    joined = "/".join(out)
    return ("/" + joined) if rooted else (joined or ".")


def _path_base(path: Any) -> str:
    text = strval(path).rstrip("/")
    if not strval(path):
        return "."
    if not text:
        return "/"
    return text.rsplit("/", 1)[-1]


def _path_dir(path: Any) -> str:
    text = strval(path)
    return go_path_clean(text[: text.rfind("/") + 1])


def _path_ext(path: Any) -> str:
    text = strval(path)
    for i in range(len(text) - 1, -1, -1):
        if text[i] == "/":
            break
        if text[i] == ".":
            return text[i:]
    return ""


# -- URLs ------------------------------------------------------------------------------------
def _url_parse(text: Any) -> dict[str, str]:
    parts = urllib.parse.urlsplit(strval(text))
    user = parts.netloc.rpartition("@")[0] if "@" in parts.netloc else ""
    opaque = ""
    if parts.scheme and not parts.netloc and parts.path and not parts.path.startswith("/"):
        opaque, path = parts.path, ""
    else:
        path = urllib.parse.unquote(parts.path)
    return {
        "scheme": parts.scheme,
        "host": parts.netloc.rpartition("@")[2],
        "hostname": parts.hostname or "",
        "path": path,
        "query": parts.query,
        "opaque": opaque,
        "fragment": parts.fragment,
        "userinfo": user,
    }


def _url_join(d: Mapping[str, Any]) -> str:
    def get(key: str) -> str:
        value = d.get(key, "")
        if not isinstance(value, str):
            raise RenderFailure(f"urlJoin: unable to parse {key} field: {value!r} is not a string")
        return value

    out = ""
    if get("scheme"):
        out += get("scheme") + ":"
    if get("opaque"):
        out += get("opaque")
    else:
        if get("scheme") or get("host") or get("userinfo"):
            out += "//"
            if get("userinfo"):
                out += get("userinfo") + "@"
            out += get("host")
        path = get("path")
        if path and not path.startswith("/") and get("host"):
            out += "/"
        out += urllib.parse.quote(path, safe="/:@!$&'()*+,;=-._~")
    if get("query"):
        out += "?" + get("query")
    if get("fragment"):
        out += "#" + urllib.parse.quote(get("fragment"), safe="/:@!$&'()*+,;=-._~?")
    return out


# -- dates -----------------------------------------------------------------------------------
_PARSE = {
    "January": r"(?P<B>[A-Za-z]+)",
    "Jan": r"(?P<b>[A-Za-z]{3})",
    "Monday": r"[A-Za-z]+",
    "Mon": r"[A-Za-z]{3}",
    "2006": r"(?P<Y>\d{4})",
    "06": r"(?P<y>\d{2})",
    "01": r"(?P<m>\d{2})",
    "1": r"(?P<m>\d{1,2})",
    "02": r"(?P<d>\d{2})",
    "2": r"(?P<d>\d{1,2})",
    "_2": r" ?(?P<d>\d{1,2})",
    "002": r"(?P<j>\d{3})",
    "15": r"(?P<H>\d{2})",
    "03": r"(?P<I>\d{2})",
    "3": r"(?P<I>\d{1,2})",
    "04": r"(?P<M>\d{2})",
    "4": r"(?P<M>\d{1,2})",
    "05": r"(?P<S>\d{2})",
    "5": r"(?P<S>\d{1,2})",
    "PM": r"(?P<p>AM|PM)",
    "pm": r"(?P<p>am|pm)",
    "MST": r"(?P<Z>[A-Z]{3,5})",
}


def go_strptime(layout: str, text: str, tz: dt.tzinfo | None = None) -> dt.datetime:
    """Parse ``text`` with a Go reference-time layout (local time unless it names a zone)."""
    pattern, pos, seen = "", 0, set()
    for m in _LAYOUT.finditer(layout):
        pattern += re.escape(layout[pos : m.start()])
        tok = m.group(0)
        if tok in _PARSE:
            piece = _PARSE[tok]
            name = re.search(r"\?P<(\w)>", piece)
            if name and name.group(1) in seen:
                piece = piece.replace(f"?P<{name.group(1)}>", "?:")
            elif name:
                seen.add(name.group(1))
            pattern += piece
        elif tok[0] in "Z-":
            pattern += r"(?P<z>Z|[+-]\d{2}(?::?\d{2})?)"
        else:  # fractional seconds
            pattern += r"(?P<f>[.,]\d+)" + ("?" if tok[1] == "9" else "")
        pos = m.end()
    pattern += re.escape(layout[pos:])
    found = re.fullmatch(pattern, text)
    if found is None:
        raise RenderFailure(f'parsing time "{text}" as "{layout}": cannot parse')
    g = {k: v for k, v in found.groupdict().items() if v is not None}
    year = int(g["Y"]) if "Y" in g else (2000 + int(g["y"]) if "y" in g else 0)
    month = int(g.get("m", 1))
    if "b" in g or "B" in g:
        month = dt.datetime.strptime(g.get("b") or g["B"][:3], "%b").month
    hour = int(g.get("H", 0))
    if "I" in g:
        hour = int(g["I"]) % 12 + (12 if g.get("p", "AM").upper() == "PM" else 0)
    micro = int((g.get("f", ".0")[1:] + "000000")[:6])
    zone: dt.tzinfo | None = tz
    if "z" in g:
        z = g["z"]
        if z == "Z":
            zone = dt.UTC
        else:
            digits = z[1:].replace(":", "")
            mins = int(digits[:2]) * 60 + (int(digits[2:4]) if len(digits) > 2 else 0)
            zone = dt.timezone(dt.timedelta(minutes=mins if z[0] == "+" else -mins))
    base = dt.datetime(max(year, 1), month, int(g.get("d", 1)), hour, int(g.get("M", 0)),
                       int(g.get("S", 0)), micro)  # fmt: skip
    if "j" in g:
        base = base.replace(month=1, day=1) + dt.timedelta(days=int(g["j"]) - 1)
    return base.replace(tzinfo=zone) if zone else base.astimezone()


def _to_date(layout: Any, text: Any) -> dt.datetime:
    return go_strptime(strval(layout), strval(text))


def _zoned(tz: Any) -> dt.tzinfo:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return dt.UTC if strval(tz) in ("", "UTC") else ZoneInfo(strval(tz))
    except (ZoneInfoNotFoundError, ValueError):
        return dt.UTC


def _date_modify(mod: Any, when: Any) -> Any:
    try:
        seconds = parse_duration(strval(mod))
    except ValueError:
        return when  # sprig returns the date unchanged
    return DATA_FUNCTIONS["dateModify"](f"{seconds}s", when)


def _must_date_modify(mod: Any, when: Any) -> Any:
    try:
        seconds = parse_duration(strval(mod))
    except ValueError as exc:
        raise RenderFailure(f"mustDateModify: {exc}") from None
    return DATA_FUNCTIONS["dateModify"](f"{seconds}s", when)


def _html_date_in_zone(when: Any, zone: Any) -> str:
    return str(DATA_FUNCTIONS["dateInZone"]("2006-01-02", when, zone))


# -- misc ------------------------------------------------------------------------------------
def _to_decimal(value: Any) -> int:
    try:
        return int(strval(value), 8)
    except ValueError:
        return 0


def _get_host_by_name(name: Any) -> str:
    try:
        addrs = socket.gethostbyname_ex(strval(name))[2]
    except OSError as exc:
        raise RenderFailure(f"getHostByName: {exc}") from None
    if not addrs:
        raise RenderFailure(f"getHostByName: no address for {strval(name)!r}")
    return random.choice(addrs)


def _regex_must(name: str, base: str) -> Callable[..., Any]:
    fn = TEXT_FUNCTIONS[base]

    def call(*args: Any) -> Any:
        try:
            re.compile(strval(args[0]))
        except re.error as exc:
            raise RenderFailure(f"{name}: error parsing regexp: {exc}") from None
        return fn(*args)

    return call


_LIST_MUSTS = (
    "first", "rest", "last", "initial", "reverse", "uniq", "without", "has", "slice", "compact",
    "prepend", "append", "push", "deepCopy", "merge", "toJson", "toPrettyJson", "toRawJson",
)  # fmt: skip
_BASE: dict[str, Callable[..., Any]] = {**TEXT_FUNCTIONS, **DATA_FUNCTIONS}

SPRIG_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "hello": lambda: "Hello!",
    # strings
    "abbrevboth": _abbrevboth,
    "initials": _initials,
    "swapcase": lambda s: strval(s).swapcase(),
    "wrap": lambda n, s: _wrap_custom(strval(s), to_int(n), "", False),
    "wrapWith": lambda n, sep, s: _wrap_custom(strval(s), to_int(n), strval(sep), True),
    "trimall": lambda cut, s: strval(s).strip(strval(cut)),
    "toDecimal": _to_decimal,
    "camelcase": _camelcase,
    # float math
    "addf": lambda *a: _decimal_op("add", 0.0, a),
    "subf": lambda a, *r: _decimal_op("sub", a, r),
    "mulf": lambda a, *r: _decimal_op("mul", a, r),
    "divf": lambda a, *r: _decimal_op("div", a, r),
    # lists and dicts
    "tuple": lambda *a: list(a),
    "chunk": _chunk,
    "mustChunk": _chunk,
    "all": lambda *a: all(not go_empty(v) for v in a),
    "any": lambda *a: any(not go_empty(v) for v in a),
    "mergeOverwrite": _merge_overwrite,
    "mustMergeOverwrite": _merge_overwrite,
    "mustPush": _BASE["append"],
    "mustAppend": _BASE["append"],
    **{"must" + n[0].upper() + n[1:]: _must(n, _BASE[n]) for n in _LIST_MUSTS if n in _BASE},
    # JSON
    "fromJson": _from_json,
    "mustFromJson": _must_from_json,
    "toRawJson": _raw_json,
    "mustToRawJson": _raw_json,
    # reflection
    "kindOf": go_kind,
    "kindIs": lambda kind, v: go_kind(v) == strval(kind),
    "typeIs": lambda name, v: go_type(v) == strval(name),
    "typeIsLike": lambda name, v: strval(name) in (go_type(v), "*" + go_type(v)),
    # paths (path and path/filepath: the same on Linux)
    **{
        prefix + name: fn
        for prefix in ("", "os")
        for name, fn in (
            ("base" if not prefix else "Base", _path_base),
            ("dir" if not prefix else "Dir", _path_dir),
            ("clean" if not prefix else "Clean", go_path_clean),
            ("ext" if not prefix else "Ext", _path_ext),
            ("isAbs" if not prefix else "IsAbs", lambda p: strval(p).startswith("/")),
        )
    },
    # URLs and network
    "urlParse": _url_parse,
    "urlJoin": _url_join,
    "getHostByName": _get_host_by_name,
    # dates
    "toDate": _to_date,
    "mustToDate": _to_date,
    "date_in_zone": DATA_FUNCTIONS["dateInZone"],
    "htmlDateInZone": _html_date_in_zone,
    "dateModify": _date_modify,
    "date_modify": _date_modify,
    "mustDateModify": _must_date_modify,
    "must_date_modify": _must_date_modify,
    # regexes: the must variants report a bad pattern
    **{
        "must" + n[0].upper() + n[1:]: _regex_must("must" + n[0].upper() + n[1:], n)
        for n in (
            "regexMatch",
            "regexFind",
            "regexFindAll",
            "regexReplaceAll",
            "regexReplaceAllLiteral",
            "regexSplit",
        )
    },
    # semantic versions
    "semver": semver,
    "semverCompare": semver_compare,
}
