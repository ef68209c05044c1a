"""Go-compatible value formatting: fmt's %v/Sprintf/Sprint and time layouts."""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

__all__ = ["go_float", "go_print", "go_sprintf", "go_str", "go_strftime", "go_type"]


def go_float(value: float) -> str:
    """Format a float like Go's %v (strconv 'g' with the shortest representation)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == 0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    sign, digits, exponent = Decimal(repr(value)).as_tuple()
    assert isinstance(exponent, int)
    ds = "".join(map(str, digits)).rstrip("0") or "0"
    exp10 = len(digits) + exponent - 1
    neg = "-" if sign else ""
    if exp10 < -4 or exp10 >= 6:  # strconv 'g' with shortest digits
        mant = ds[0] + ("." + ds[1:] if len(ds) > 1 else "")
        return f"{neg}{mant}e{'-' if exp10 < 0 else '+'}{abs(exp10):02d}"
    text = format(Decimal(repr(abs(value))), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return neg + text


def go_str(value: Any, nil: str = "<nil>") -> str:
    """Format a value like Go's fmt %v."""
    if value is None:
        return nil
    if isinstance(value, str):
        return value
    if "String" in getattr(type(value), "go_methods", ()):  # a Go fmt.Stringer
        return str(value.String())
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return go_float(value)
    if isinstance(value, Mapping):
        items = sorted(value.items(), key=lambda kv: str(kv[0]))
        return "map[" + " ".join(f"{go_str(k)}:{go_str(v)}" for k, v in items) + "]"
    if isinstance(value, list | tuple | set | frozenset):
        return "[" + " ".join(go_str(v) for v in value) + "]"
    if isinstance(value, bytes):
        return "[" + " ".join(str(b) for b in value) + "]"
    if isinstance(value, dt.datetime):
        return go_strftime("2006-01-02 15:04:05.999999999 -0700 MST", value)
    if isinstance(value, dt.timedelta):
        from ..durations import format_duration

        return format_duration(value.total_seconds())
    return str(value)


def go_type(value: Any) -> str:
    """Name the Go type a value would have after YAML/JSON decoding."""
    if value is None:
        return "<nil>"
    names = {bool: "bool", int: "int", float: "float64", str: "string", bytes: "[]uint8"}
    if type(value) in names:
        return names[type(value)]
    if isinstance(value, Mapping):
        return "map[string]interface {}"
    if isinstance(value, list | tuple):
        return "[]interface {}"
    if isinstance(value, dt.datetime):
        return "time.Time"
    return type(value).__name__


def go_print(*args: Any) -> str:
    """Go's fmt.Sprint: a space between operands when neither is a string."""
    out: list[str] = []
    for i, arg in enumerate(args):
        if i and not isinstance(arg, str) and not isinstance(args[i - 1], str):
            out.append(" ")
        out.append(go_str(arg))
    return "".join(out)


_VERB = re.compile(r"%([-+# 0]*)(\d+|\*)?(?:\.(\d+|\*)?)?([a-zA-Z%])")


def _quote(value: Any) -> str:
    return json.dumps(go_str(value), ensure_ascii=False)


def _one(verb: str, flags: str, width: int | None, prec: int | None, arg: Any) -> str:
    if verb in "vs":
        text = go_str(arg)
        if verb == "v" and "#" in flags and isinstance(arg, str):
            text = _quote(arg)
        return text[:prec] if prec is not None and verb == "s" else text
    if verb == "q":
        return (
            "'" + chr(arg) + "'"
            if isinstance(arg, int) and not isinstance(arg, bool)
            else _quote(arg)
        )
    if verb == "t":
        if not isinstance(arg, bool):
            raise TypeError
        return go_str(arg)
    if verb == "T":
        return go_type(arg)
    if verb == "c":
        return chr(arg)
    if verb in "dboxX":
        if isinstance(arg, str) and verb in "xX":
            text = arg.encode().hex()
            return text.upper() if verb == "X" else text
        if isinstance(arg, bool) or not isinstance(arg, int):
            raise TypeError
        spec = {"d": "d", "b": "b", "o": "o", "x": "x", "X": "X"}[verb]
        return format(arg, ("#" if "#" in flags else "") + spec)
    if verb in "eEfFgG":
        if isinstance(arg, bool) or not isinstance(arg, int | float):
            raise TypeError
        if verb in "gG" and prec is None:
            text = go_float(float(arg))
            return text.upper() if verb == "G" else text
        text = format(float(arg), f".{6 if prec is None else prec}{verb}")
        if verb in "eE":
            text = re.sub(r"([eE][+-])(\d)$", r"\g<1>0\2", text)
        return text
    raise TypeError


def _pad(text: str, flags: str, width: int | None, numeric: bool) -> str:
    if width is None or len(text) >= width:
        return text
    if "-" in flags:
        return text.ljust(width)
    if "0" in flags and numeric:
        sign = text[0] if text[:1] in "+-" else ""
        return sign + text[len(sign) :].rjust(width - len(sign), "0")
    return text.rjust(width)


def go_sprintf(fmt: str, *args: Any) -> str:
    """Go's fmt.Sprintf for the common verbs (%v %s %d %f %q %t %x %T ...)."""
    out: list[str] = []
    pos = argi = 0
    for m in _VERB.finditer(fmt):
        out.append(fmt[pos : m.start()])
        pos = m.end()
        flags, wtxt, ptxt, verb = m.groups()
        if verb == "%":
            out.append("%")
            continue
        nums: list[int | None] = []
        for txt in (wtxt, ptxt):
            if txt == "*":
                nums.append(int(args[argi]) if argi < len(args) else None)
                argi += 1
            else:
                nums.append(int(txt) if txt else None)
        width, prec = nums
        if ptxt is None and m.group(0).find(".") >= 0:
            prec = 0
        if argi >= len(args):
            out.append(f"%!{verb}(MISSING)")
            continue
        arg = args[argi]
        argi += 1
        try:
            text = _one(verb, flags, width, prec, arg)
        except (TypeError, ValueError, OverflowError):
            out.append(f"%!{verb}({go_type(arg)}={go_str(arg)})")
            continue
        if "+" in flags and verb in "dfeEgG" and not text.startswith("-"):
            text = "+" + text
        out.append(_pad(text, flags, width, verb in "dboxXeEfFgG"))
    out.append(fmt[pos:])
    if argi < len(args):
        extra = ", ".join(f"{go_type(a)}={go_str(a)}" for a in args[argi:])
        out.append(f"%!(EXTRA {extra})")
    return "".join(out)


_LAYOUT = re.compile(
    r"January|Jan|Monday|Mon|MST|2006|002|01|02|03|04|05|06|_2|15|1|2|3|4|5|PM|pm"
    r"|Z07:00|Z0700|Z07|-07:00|-0700|-07|[.,]0+(?!\d)|[.,]9+(?!\d)"
)


def _zone(t: dt.datetime, token: str) -> str:
    off = t.utcoffset() or dt.timedelta(0)
    if token.startswith("Z") and off == dt.timedelta(0):
        return "Z"
    total = int(off.total_seconds()) // 60
    sign = "-" if total < 0 else "+"
    hh, mm = divmod(abs(total), 60)
    if token.endswith(":00"):
        return f"{sign}{hh:02d}:{mm:02d}"
    if token.endswith("0700"):
        return f"{sign}{hh:02d}{mm:02d}"
    return f"{sign}{hh:02d}"


def _chunk(t: dt.datetime, tok: str) -> str:
    simple = {
        "January": "%B", "Jan": "%b", "Monday": "%A", "Mon": "%a", "2006": "%Y", "06": "%y",
        "01": "%m", "02": "%d", "15": "%H", "03": "%I", "04": "%M", "05": "%S", "002": "%j",
    }  # fmt: skip
    if tok in simple:
        return t.strftime(simple[tok])
    hour12 = t.hour % 12 or 12
    values = {"1": t.month, "2": t.day, "3": hour12, "4": t.minute, "5": t.second}
    if tok in values:
        return str(values[tok])
    if tok == "_2":
        return f"{t.day:>2}"
    if tok in ("PM", "pm"):
        ampm = "PM" if t.hour >= 12 else "AM"
        return ampm if tok == "PM" else ampm.lower()
    if tok == "MST":
        return t.tzname() or "UTC"
    if tok[0] in "Z-":
        return _zone(t, tok)
    digits = f"{t.microsecond:06d}000"[: len(tok) - 1]
    if tok[1] == "9":
        digits = digits.rstrip("0")
        return tok[0] + digits if digits else ""
    return tok[0] + digits


def go_strftime(layout: str, t: dt.datetime) -> str:
    """Format a datetime with a Go reference-time layout ("2006-01-02T15:04:05Z07:00")."""
    return _LAYOUT.sub(lambda m: _chunk(t, m.group(0)), layout)
