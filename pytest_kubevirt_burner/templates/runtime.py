"""Runtime helpers used by rendered templates: Go field access, range, env, files, failures."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from .errors import RenderFailure
from .funcs_text import strval
from .gofmt import go_type

__all__ = ["GO_HELPERS", "ZERO_HELPERS", "flow_functions", "make_kbtemplate", "make_read_file"]

MAX_READ_BYTES = 16 * 1024 * 1024


def _field(obj: Any, keys: tuple[str, ...], root: bool, lenient: bool, zero: bool = False) -> Any:
    for i, key in enumerate(keys):
        if isinstance(obj, Mapping):
            if key in obj:
                obj = obj[key]
                continue
            if lenient:
                return None
            if zero:  # Go's missingkey=zero: the map's zero value, a nil interface
                obj = None
                continue
            if root and i == 0:
                raise RenderFailure(f"undefined variable '{key}'")
            raise RenderFailure(
                f"map has no entry for key '{key}' (in '.{'.'.join(keys[: i + 1])}')"
            )
        if lenient:
            return None
        path = ".".join(keys[: i + 1])
        if obj is None:
            raise RenderFailure(f"nil value has no field '{key}' (in '.{path}')")
        raise RenderFailure(f"can't evaluate field '{key}' in type {go_type(obj)} (in '.{path}')")
    return obj


def _sorted_items(value: Mapping[Any, Any]) -> list[tuple[Any, Any]]:
    try:
        return sorted(value.items())
    except TypeError:
        return sorted(value.items(), key=lambda kv: str(kv[0]))


def _range(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, Mapping):
        return [v for _, v in _sorted_items(value)]
    if isinstance(value, bool | str | bytes):
        raise RenderFailure(f"range can't iterate over {go_type(value)} {value!r}")
    if isinstance(value, int):
        return list(range(value))
    if isinstance(value, list | tuple):
        return list(value)
    raise RenderFailure(f"range can't iterate over {go_type(value)}")


def _pairs(value: Any) -> list[tuple[Any, Any]]:
    if isinstance(value, Mapping):
        return _sorted_items(value)
    return list(enumerate(_range(value)))


GO_HELPERS: dict[str, Callable[..., Any]] = {
    "kbv": lambda obj, *keys: _field(obj, keys, True, False),
    "kbvl": lambda obj, *keys: _field(obj, keys, True, True),
    "kbf": lambda obj, *keys: _field(obj, keys, False, False),
    "kbfl": lambda obj, *keys: _field(obj, keys, False, True),
    "kbrange": _range,
    "kbpairs": _pairs,
    "kbcall": lambda obj, keys, *args: _call(obj, keys, args),
}


def _call(obj: Any, keys: tuple[str, ...], args: tuple[Any, ...]) -> Any:
    """A Go method call ``$v.M arg``: only methods a value declares in ``go_methods``."""
    receiver = _field(obj, keys[:-1], False, False) if len(keys) > 1 else obj
    name = keys[-1]
    if name not in getattr(type(receiver), "go_methods", ()):
        raise RenderFailure(f"can't give argument to non-function .{'.'.join(keys)}")
    return getattr(receiver, name)(*args)


# missingkey=zero (kube-burner's defaultMissingKeysWithZero)
ZERO_HELPERS: dict[str, Callable[..., Any]] = {
    "kbv": lambda obj, *keys: _field(obj, keys, True, False, True),
    "kbf": lambda obj, *keys: _field(obj, keys, False, False, True),
}


def make_kbtemplate(registry: Mapping[str, Any]) -> Callable[[Any, Any], str]:
    """Go's ``{{template "name" dot}}``: render a named template of ``registry`` with ``dot``."""

    def template(name: Any, dot: Any = None) -> str:
        found = registry.get(name)
        if found is None:
            raise RenderFailure(f'template "{name}" not defined')
        return str(found.render(groot=dot))

    return template


def _required(message: Any, value: Any = None) -> Any:
    if value is None or value == "":
        raise RenderFailure(strval(message))
    return value


def _fail(message: Any) -> Any:
    raise RenderFailure(strval(message))


def flow_functions(allow_env: bool) -> dict[str, Callable[..., Any]]:
    """required/fail plus env/expandenv, which read the environment only when allowed."""

    def env(name: Any, default: Any = None) -> Any:
        if not allow_env:
            raise RenderFailure(f"env is disabled for templates: cannot read '{strval(name)}'")
        value = os.environ.get(strval(name), "")
        return value if value or default is None else default

    def expandenv(text: Any) -> str:
        if not allow_env:
            raise RenderFailure("expandenv is disabled for templates")
        return re.sub(
            r"\$\{(\w+)\}|\$(\w+)",
            lambda m: os.environ.get(m.group(1) or m.group(2), ""),
            strval(text),
        )

    return {"required": _required, "fail": _fail, "env": env, "expandenv": expandenv}


def make_read_file(
    base: Path, *, first: Path | None = None, absolute: bool = False
) -> Callable[[Any], str]:
    """Return a readFile(name) confined to the directory `base` (symlinks resolved).

    ``first``: a directory (inside ``base``) tried before ``base`` for relative names.
    ``absolute``: absolute names are read as given (kube-burner's ReadFile).
    """
    root = base.resolve()
    where = "the template directory" if first is None else "the config directory"

    def read_file(name: Any) -> str:
        text = strval(name)
        if not text or "\0" in text:
            raise RenderFailure(f"readFile: invalid file name {text!r}")
        given = Path(text)
        if given.is_absolute():
            target = given.resolve()
        else:
            tries = [d / given for d in ((first, root) if first is not None else (root,))]
            target = next((t for t in tries if t.exists()), tries[-1]).resolve()
        if not (absolute and given.is_absolute()) and not target.is_relative_to(root):
            raise RenderFailure(f"readFile: path '{text}' escapes {where}")
        try:
            if target.stat().st_size > MAX_READ_BYTES:
                raise RenderFailure(f"readFile: '{text}' is larger than {MAX_READ_BYTES} bytes")
            return target.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise RenderFailure(f"readFile: cannot read '{text}': {why}") from None

    return read_file
