"""Sprig functions on numbers, lists, dicts, data formats, dates and randomness."""

from __future__ import annotations

import copy
import datetime as dt
import json
import math
import random
import re
import secrets
import string
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import yaml

from ..durations import format_duration, parse_duration
from .errors import RenderFailure
from .funcs_text import strval
from .gofmt import go_strftime, go_type

__all__ = ["DATA_FUNCTIONS", "go_empty", "to_int"]


def to_int(value: Any) -> int:
    """spf13/cast ToInt64: numbers truncate, numeric strings parse, anything else is 0."""
    if value is None:
        return 0
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if math.isfinite(value) else 0
    if isinstance(value, str):
        text = re.sub(r"\.0*$", "", value.strip())
        try:
            return int(text, 0)
        except ValueError:
            if re.fullmatch(r"[+-]?0[0-7]+", text):
                return int(text, 8)
            return 0
    return 0


def to_float(value: Any) -> float:
    """spf13/cast ToFloat64."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return 0.0
    return 0.0


def _atoi(value: Any) -> int:
    try:
        return int(strval(value).strip(), 10)
    except ValueError:
        return 0


def go_empty(value: Any) -> bool:
    """Go/sprig emptiness: nil, false, 0, "", and empty collections."""
    if value is None:
        return True
    if isinstance(value, bool | int | float | str | bytes | list | tuple | dict | set):
        return not value
    if isinstance(value, Mapping):
        return len(value) == 0
    return False


def _div(a: Any, b: Any) -> int:
    x, y = to_int(a), to_int(b)
    if y == 0:
        raise RenderFailure("div: integer divide by zero")
    q = abs(x) // abs(y)
    return q if (x >= 0) == (y > 0) else -q


def _mod(a: Any, b: Any) -> int:
    x, y = to_int(a), to_int(b)
    if y == 0:
        raise RenderFailure("mod: integer divide by zero")
    return x - y * _div(x, y)


def _mul(a: Any, *rest: Any) -> int:
    out = to_int(a)
    for v in rest:
        out *= to_int(v)
    return out


def _divf(a: Any, *rest: Any) -> float:
    out = to_float(a)
    for v in rest:
        d = to_float(v)
        out = out / d if d else (math.copysign(math.inf, out) if out else math.nan)
    return out


def _round(value: Any, precision: Any, half: float = 0.5) -> float:
    factor = 10 ** to_int(precision)
    scaled = to_float(value) * factor
    frac = scaled - math.floor(scaled)
    return float((math.ceil(scaled) if frac >= half else math.floor(scaled)) / factor)


def _until_step(start: Any, stop: Any, step: Any) -> list[int]:
    s = to_int(step)
    return [] if s == 0 else list(range(to_int(start), to_int(stop), s))


def _seq(*params: Any) -> str:
    nums = [to_int(p) for p in params]
    if len(nums) == 1:
        nums = [1, nums[0]]
    if len(nums) == 2:
        nums = [nums[0], 1 if nums[1] >= nums[0] else -1, nums[1]]
    if len(nums) != 3:
        return ""
    start, step, end = nums
    if step == 0 or (end - start) * step < 0:
        return ""
    return " ".join(str(v) for v in range(start, end + (1 if step > 0 else -1), step))


def _seq_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return list(value)
    raise RenderFailure(f"cannot use {go_type(value)} as a list")


def _uniq(items: Any) -> list[Any]:
    out: list[Any] = []
    for v in _seq_list(items):
        if v not in out:
            out.append(v)
    return out


def _dict(*kv: Any) -> dict[str, Any]:
    pairs = list(kv) + ([""] if len(kv) % 2 else [])
    return {strval(pairs[i]): pairs[i + 1] for i in range(0, len(pairs), 2)}


def _set(d: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    d[key] = value
    return d


def _unset(d: dict[str, Any], key: str) -> dict[str, Any]:
    d.pop(key, None)
    return d


def _merge(dst: dict[str, Any], *srcs: Mapping[str, Any]) -> dict[str, Any]:
    for src in srcs:
        for k, v in src.items():
            if k not in dst:
                dst[k] = copy.deepcopy(v)
            elif isinstance(dst[k], dict) and isinstance(v, Mapping):
                _merge(dst[k], v)
    return dst


def _dig(*args: Any) -> Any:
    if len(args) < 3:
        raise RenderFailure("dig needs at least one key, a default and a dict")
    *keys, default, data = args
    for key in keys:
        if not isinstance(data, Mapping) or key not in data:
            return default
        data = data[key]
    return data


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _to_yaml(value: Any) -> str:
    text = yaml.safe_dump(
        _plain(value), default_flow_style=False, allow_unicode=True, width=1 << 30
    )
    return text.removesuffix("\n...\n").removesuffix("\n")


def _to_json(value: Any, indent: int | None = None) -> str:
    seps = (",", ":") if indent is None else (",", ": ")
    text = json.dumps(_plain(value), separators=seps, sort_keys=True, indent=indent, default=str)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _from_json(text: Any) -> Any:
    try:
        return json.loads(strval(text))
    except ValueError:
        return {}


def _from_yaml(text: Any) -> Any:
    try:
        return yaml.safe_load(strval(text)) or {}
    except yaml.YAMLError as exc:
        return {"Error": str(exc).splitlines()[0]}


def _time(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.astimezone()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return dt.datetime.fromtimestamp(value).astimezone()
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value).astimezone()
        except ValueError:
            pass
    raise RenderFailure(f"not a time value: {value!r}")


def _date_in_zone(layout: str, value: Any, zone: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        tz: dt.tzinfo = dt.UTC if zone in ("", "UTC") else ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        tz = dt.UTC
    return go_strftime(layout, _time(value).astimezone(tz))


def _seconds(value: Any) -> float:
    return parse_duration(value) if isinstance(value, str) else to_float(value)


def _duration_round(value: Any) -> str:
    if isinstance(value, dt.datetime):
        secs = (dt.datetime.now(dt.UTC) - _time(value)).total_seconds()
    else:
        secs = _seconds(value)
    secs = abs(secs)
    for unit, size in (("y", 31536000), ("mo", 2592000), ("d", 86400), ("h", 3600), ("m", 60)):
        if secs >= size:
            return f"{int(secs // size)}{unit}"
    return f"{int(secs)}s" if secs >= 1 else "0s"


def _rand_string(chars: str) -> Callable[[Any], str]:
    return lambda n: "".join(secrets.choice(chars) for _ in range(to_int(n)))


def _binomial(n: Any, k: Any) -> int:
    """gonum's combin.Binomial: n choose k; negative values or k > n are errors."""
    a, b = to_int(n), to_int(k)
    if a < 0 or b < 0:
        raise RenderFailure("combin: negative input")
    if a < b:
        raise RenderFailure("combin: n < k")
    return math.comb(a, b)


def _index_to_combination(_dst: Any, idx: Any, n: Any, k: Any) -> list[int]:
    """k-combination of range(n) at position idx in lexicographic order."""
    index, size, count = to_int(idx), to_int(n), to_int(k)
    if not 0 <= index < math.comb(size, count):
        raise RenderFailure(f"IndexToCombination: index {index} out of range")
    out: list[int] = []
    item = 0
    while len(out) < count:
        rest = math.comb(size - item - 1, count - len(out) - 1)
        if index < rest:
            out.append(item)
        else:
            index -= rest
        item += 1
    return out


def _subnet24(idx: Any) -> str:
    i = to_int(idx)
    return f"{((i >> 16) + 1) & 255}.{(i >> 8) & 255}.{i & 255}.0/24"


def _ip_address(addrs: Any, iteration: Any, per_iteration: Any) -> str:
    """kube-burner's GetIPAddress: the iteration's share of a space-separated address list."""
    items, n = strval(addrs).split(" "), to_int(per_iteration)
    start = to_int(iteration) * n
    if start + n > len(items):
        raise RenderFailure(f"index out of range [{start + n - 1}] with length {len(items)}")
    return " ".join(items[start : start + n])


DATA_FUNCTIONS: dict[str, Callable[..., Any]] = {
    # integer math (sprig converts every operand to int64) and float math
    "add": lambda *a: sum(to_int(v) for v in a),
    "add1": lambda a: to_int(a) + 1,
    "sub": lambda a, b: to_int(a) - to_int(b),
    "mul": _mul,
    "multiply": _mul,
    "div": _div,
    "mod": _mod,
    "max": lambda a, *r: max(to_int(v) for v in (a, *r)),
    "min": lambda a, *r: min(to_int(v) for v in (a, *r)),
    "biggest": lambda a, *r: max(to_int(v) for v in (a, *r)),
    "addf": lambda *a: math.fsum(to_float(v) for v in a),
    "add1f": lambda a: to_float(a) + 1.0,
    "subf": lambda a, *r: to_float(a) - math.fsum(to_float(v) for v in r),
    "mulf": lambda a, *r: math.prod([to_float(a), *(to_float(v) for v in r)]),
    "divf": _divf,
    "maxf": lambda a, *r: max(to_float(v) for v in (a, *r)),
    "minf": lambda a, *r: min(to_float(v) for v in (a, *r)),
    "floor": lambda a: float(math.floor(to_float(a))),
    "ceil": lambda a: float(math.ceil(to_float(a))),
    "round": _round,
    "atoi": _atoi,
    "int": to_int,
    "int64": to_int,
    "float64": to_float,
    "until": lambda n: list(range(0, to_int(n), 1 if to_int(n) >= 0 else -1)),
    "untilStep": _until_step,
    "seq": _seq,
    "sequence": lambda a, b: list(range(to_int(a), to_int(b) + 1)),
    # flow control and type inspection
    "default": lambda d, *given: d if not given or go_empty(given[0]) else given[0],
    "empty": go_empty,
    "coalesce": lambda *a: next((v for v in a if not go_empty(v)), None),
    "ternary": lambda t, f, cond: t if cond else f,
    "typeOf": go_type,
    "kindOf": lambda v: go_type(v).split("[")[0].replace("64", "") or "slice",
    "deepEqual": lambda a, b: a == b,
    # lists
    "list": lambda *a: list(a),
    "first": lambda x: _seq_list(x)[0] if _seq_list(x) else None,
    "last": lambda x: _seq_list(x)[-1] if _seq_list(x) else None,
    "rest": lambda x: _seq_list(x)[1:],
    "initial": lambda x: _seq_list(x)[:-1],
    "append": lambda x, v: [*_seq_list(x), v],
    "push": lambda x, v: [*_seq_list(x), v],
    "prepend": lambda x, v: [v, *_seq_list(x)],
    "concat": lambda *ls: [v for x in ls for v in _seq_list(x)],
    "reverse": lambda x: _seq_list(x)[::-1],
    "uniq": _uniq,
    "compact": lambda x: [v for v in _seq_list(x) if not go_empty(v)],
    "without": lambda x, *vs: [v for v in _seq_list(x) if v not in vs],
    "has": lambda needle, x: needle in _seq_list(x),
    "sortAlpha": lambda x: sorted(strval(v) for v in _seq_list(x)),
    "shuffle": lambda s: "".join(random.sample(strval(s), len(strval(s)))),
    # dicts
    "dict": _dict,
    "get": lambda d, k: d.get(k, "") if isinstance(d, Mapping) else "",
    "set": _set,
    "unset": _unset,
    "hasKey": lambda d, k: isinstance(d, Mapping) and k in d,
    "keys": lambda *ds: [k for d in ds for k in d],
    "values": lambda d: list(d.values()),
    "pluck": lambda key, *ds: [d[key] for d in ds if key in d],
    "pick": lambda d, *ks: {k: d[k] for k in ks if k in d},
    "omit": lambda d, *ks: {k: v for k, v in d.items() if k not in ks},
    "merge": _merge,
    "deepCopy": copy.deepcopy,
    "dig": _dig,
    # data formats
    "toYaml": _to_yaml,
    "fromYaml": _from_yaml,
    "toJson": _to_json,
    "toRawJson": lambda v: json.dumps(_plain(v), separators=(",", ":"), sort_keys=True),
    "toPrettyJson": lambda v: _to_json(v, indent=2),
    "fromJson": _from_json,
    # dates and durations
    "now": lambda: dt.datetime.now().astimezone(),
    "date": lambda layout, t: go_strftime(layout, _time(t)),
    "dateInZone": _date_in_zone,
    "htmlDate": lambda t: go_strftime("2006-01-02", _time(t)),
    "unixEpoch": lambda t: str(int(_time(t).timestamp())),
    "dateModify": lambda mod, t: _time(t) + dt.timedelta(seconds=parse_duration(mod)),
    "duration": lambda v: format_duration(float(to_int(v))),
    "durationRound": _duration_round,
    "ago": lambda t: format_duration(round((dt.datetime.now(dt.UTC) - _time(t)).total_seconds())),
    # randomness
    "randAlphaNum": _rand_string(string.ascii_letters + string.digits),
    "randAlpha": _rand_string(string.ascii_letters),
    "randNumeric": _rand_string(string.digits),
    "randAscii": _rand_string("".join(chr(c) for c in range(32, 127))),
    "rand": _rand_string(string.ascii_letters + string.digits),
    "randInt": lambda lo, hi: random.randrange(to_int(lo), to_int(hi)),
    "randInteger": lambda a, b: random.randrange(to_int(b)) + to_int(a),
    "uuidv4": lambda: str(uuid.uuid4()),
    # kube-burner additions
    "Binomial": _binomial,
    "IndexToCombination": _index_to_combination,
    "GetSubnet24": _subnet24,
    "GetIPAddress": _ip_address,
}
