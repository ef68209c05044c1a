"""TemplateRenderer: renders object templates written in Jinja2 or kube-burner's Go syntax.

Data seen by a template, lowest precedence first: the renderer's `builtins`, the per-call
`builtins` (JobName, Iteration, Replica, UUID, RunID...), then `variables` (input_vars). Input
variables win on a name clash, as in kube-burner.
"""

from __future__ import annotations

import functools
import os
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import jinja2
import yaml
from jinja2.sandbox import SandboxedEnvironment

from ..yamlerrors import describe
from .errors import RenderFailure, TemplateError, jinja_message, template_line
from .funcs_crypto import CRYPTO_FUNCTIONS
from .funcs_data import DATA_FUNCTIONS
from .funcs_sprig import SPRIG_FUNCTIONS
from .funcs_text import TEXT_FUNCTIONS
from .gofmt import go_str
from .gotranslate import translate_go_set
from .runtime import GO_HELPERS, ZERO_HELPERS, flow_functions, make_kbtemplate, make_read_file
from .yamlload import load_all

__all__ = ["Dialect", "TemplateRenderer", "detect_dialect"]

Dialect = Literal["go", "jinja2"]
_FILE_FUNCS = ("readFile", "ReadFile", "file")
_DIRECTIVE = re.compile(r"\A\ufeff?[ \t]*#[ \t]*template:[ \t]*(\S+)[ \t]*(?:\r?\n|\Z)")
_GO_HINT = re.compile(
    r"\{\{-?\s*(?:[.$`]|/\*|(?:if|range|with|define|template|block)\s"
    r"|(?:else|end|break|continue)\s*-?\}\}|not\s+[.$]"
    r"|(?!not\b)[A-Za-z_]\w*\s+[.$\"`(\d])"
)
_JINJA_HINT = re.compile(r"\{%|\{#")
_STRING_CACHE_SIZE = 512


def _dialect_name(value: str, where: str) -> Dialect:
    low = value.strip().lower()
    if low in ("go", "gotemplate", "go-template"):
        return "go"
    if low in ("jinja", "jinja2"):
        return "jinja2"
    raise TemplateError(where, None, f"unknown template dialect {value!r} (use 'go' or 'jinja2')")


def detect_dialect(text: str, *, source: str = "<string>") -> Dialect:
    """Return the dialect of a template: a `# template: go|jinja2` first line wins, else a guess."""
    m = _DIRECTIVE.match(text)
    if m:
        return _dialect_name(m.group(1), source)
    if _GO_HINT.search(text) and not _JINJA_HINT.search(text):
        return "go"
    return "jinja2"


@dataclass(frozen=True, slots=True)
class _Compiled:
    template: jinja2.Template
    dialect: Dialect
    name: str


def _guard(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn any exception of a template function into a RenderFailure naming the function."""

    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except RenderFailure:
            raise
        except Exception as exc:  # a function's failure becomes a template error
            raise RenderFailure(f"error calling {name}: {exc}") from exc

    return call


def _jinja_dict(*pairs: Any, **kwargs: Any) -> dict[str, Any]:
    out: dict[str, Any] = DATA_FUNCTIONS["dict"](*pairs)
    out.update(kwargs)
    return out


def _describe(value: Any) -> str:
    names = {
        list: "a list",
        str: "a string",
        int: "an integer",
        float: "a float",
        bool: "a boolean",
    }
    return names.get(type(value), f"a {type(value).__name__}")


class TemplateRenderer:
    """Renders object templates (Jinja2 or Go syntax) found under `search_path`."""

    def __init__(
        self,
        search_path: Path,
        *,
        builtins: Mapping[str, Any] | None = None,
        allow_env: bool = True,
        function_templates: Sequence[Path] = (),
        missing_key_zero: bool = False,
        config_dir: Path | None = None,
    ) -> None:
        """``function_templates``: Go files whose ``define``s every Go template may use.
        ``missing_key_zero``: a missing map key renders as Go's zero value instead of failing.
        ``config_dir``: kube-burner mode: ``readFile`` resolves relative paths against this
        directory (then the template's), stays inside it, and reads absolute paths as given.
        """
        self.search_path = Path(search_path)
        self.allow_env = allow_env
        self.function_templates = tuple(Path(p) for p in function_templates)
        self.missing_key_zero = missing_key_zero
        self.config_dir = None if config_dir is None else Path(config_dir).resolve()
        self._fn_defines: dict[str, tuple[str, str]] | None = None
        self._builtins = dict(builtins or {})
        raw = {
            **TEXT_FUNCTIONS,
            **DATA_FUNCTIONS,
            **SPRIG_FUNCTIONS,
            **CRYPTO_FUNCTIONS,
            **flow_functions(allow_env),
        }
        self._functions = {name: _guard(name, fn) for name, fn in raw.items()}
        self.function_names = frozenset([*self._functions, *_FILE_FUNCS])
        self._go_env = self._make_env(go=True)
        self._jinja_env = self._make_env(go=False)
        self._files: dict[Path, tuple[tuple[int, int, str | None], _Compiled]] = {}
        # path as callers give it -> (resolved path, its string): Path arithmetic costs more
        # than the stat that checks a cached template is current, and jobs render per object
        self._paths: dict[str | Path, tuple[Path, str]] = {}
        self._strings: dict[tuple[str, str, str | None], _Compiled] = {}
        self._lock = threading.Lock()

    def _make_env(self, *, go: bool) -> SandboxedEnvironment:
        env = SandboxedEnvironment(
            undefined=jinja2.StrictUndefined,
            autoescape=False,
            keep_trailing_newline=True,
            extensions=["jinja2.ext.loopcontrols"],
            finalize=(lambda v: go_str(v, "<no value>")) if go else None,
            cache_size=0,
        )
        env.globals.update(self._functions)
        if go:
            env.globals.update({n: _guard(n, f) for n, f in GO_HELPERS.items()})
        else:
            env.globals["dict"] = _jinja_dict
            for name, fn in self._functions.items():
                if name not in env.filters:
                    env.filters[name] = functools.partial(self._piped, fn)
        return env

    @staticmethod
    def _piped(fn: Callable[..., Any], value: Any, *args: Any) -> Any:
        return fn(*args, value)  # `x | f(a)` means f(a, x), like a Go pipeline

    # -- compiling -------------------------------------------------------------------------
    def _display(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.search_path))
        except ValueError:
            return str(path)

    def _resolve(self, path: str | Path) -> Path:
        p = Path(path)
        return p if p.is_absolute() else self.search_path / p

    def _reader(self, base: Path) -> Callable[..., Any]:
        if self.config_dir is None:
            return _guard("readFile", make_read_file(base))
        read = make_read_file(self.config_dir, first=base, absolute=True)
        return _guard("readFile", read)

    def _translate(self, text: str, name: str) -> tuple[str, dict[str, str], list[Any]]:
        try:
            tset = translate_go_set(text, self.function_names)
        except RenderFailure as exc:
            raise TemplateError(name, exc.line, exc.message) from None
        return tset.main, tset.defines, tset.references

    def function_defines(self) -> dict[str, tuple[str, str]]:
        """Named templates of the function templates: name -> (Jinja2 source, file name)."""
        if self._fn_defines is None:
            found: dict[str, tuple[str, str]] = {}
            for path in self.function_templates:
                full = self._resolve(path)
                name = self._display(full)
                try:
                    text = full.read_text(encoding="utf-8")
                except (OSError, UnicodeDecodeError) as exc:
                    why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
                    raise TemplateError(name, None, f"cannot read template: {why}") from None
                main, defines, _ = self._translate(text, name)
                found[full.name] = (main, name)  # Go names each parsed file by its base name
                found.update({k: (v, name) for k, v in defines.items()})
            self._fn_defines = found
        return self._fn_defines

    def _jinja(self, env: SandboxedEnvironment, source: str, name: str, extra: Any) -> Any:
        try:
            code = env.compile(source, name=name, filename=name)
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateError(name, exc.lineno, f"syntax error: {exc.message}") from None
        return env.template_class.from_code(env, code, extra, None)

    def _compile(self, text: str, name: str, base: Path, dialect: str | None) -> _Compiled:
        chosen = _dialect_name(dialect, name) if dialect else detect_dialect(text, source=name)
        env = self._go_env if chosen == "go" else self._jinja_env
        # A plain dict (not make_globals' ChainMap): Jinja copies globals on every render.
        extra = {**env.globals, **dict.fromkeys(_FILE_FUNCS, self._reader(base))}
        if chosen != "go":
            return _Compiled(self._jinja(env, text, name, extra), chosen, name)
        if self.missing_key_zero:
            extra.update({n: _guard(n, f) for n, f in ZERO_HELPERS.items()})
        source, defines, references = self._translate(text, name)
        registry: dict[str, Any] = {}
        extra["kbtemplate"] = _guard("template", make_kbtemplate(registry))
        named = {k: (v, name) for k, v in defines.items()}
        named.update(self.function_defines())  # parsed after the template, as kube-burner does
        for used, line in references:
            if used not in named:
                raise TemplateError(name, line, f'template "{used}" not defined')
        for key, (body, where) in named.items():
            registry[key] = self._jinja(env, body, where, extra)
        return _Compiled(self._jinja(env, source, name, extra), chosen, name)

    def _compiled_file(self, path: str | Path, dialect: str | None) -> _Compiled:
        known = self._paths.get(path)
        if known is None:
            full = self._resolve(path)
            known = self._paths[path] = (full, str(full))
        full = known[0]
        try:
            st = os.stat(known[1])
            stamp = (st.st_mtime_ns, st.st_size, dialect)
            cached = self._files.get(full)
            if cached is not None and cached[0] == stamp:
                return cached[1]
        except OSError:
            pass  # reported below, with the template's name
        name = self._display(full)
        try:
            st = full.stat()
            stamp = (st.st_mtime_ns, st.st_size, dialect)
            text = full.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise TemplateError(name, None, f"cannot read template: {why}") from None
        compiled = self._compile(text, name, full.parent, dialect)
        with self._lock:
            self._files[full] = (stamp, compiled)
        return compiled

    def _compiled_string(self, text: str, source: str, dialect: str | None) -> _Compiled:
        key = (text, source, dialect)
        compiled = self._strings.get(key)
        if compiled is None:
            compiled = self._compile(text, source, self.search_path, dialect)
            with self._lock:
                if len(self._strings) >= _STRING_CACHE_SIZE:
                    self._strings.pop(next(iter(self._strings)))
                self._strings[key] = compiled
        return compiled

    # -- rendering -------------------------------------------------------------------------
    def _render(
        self,
        compiled: _Compiled,
        variables: Mapping[str, Any] | None,
        builtins: Mapping[str, Any] | None,
    ) -> str:
        data = {**self._builtins, **(builtins or {}), **(variables or {})}
        try:
            if compiled.dialect == "go":
                return compiled.template.render(groot=data)
            return compiled.template.render(data)
        except TemplateError:
            raise
        except Exception as exc:  # every template failure becomes one TemplateError
            line = exc.line if isinstance(exc, RenderFailure) else None
            if line is None:
                line = template_line(exc.__traceback__, compiled.name)
            raise TemplateError(compiled.name, line, jinja_message(exc)) from exc

    def render_string(
        self,
        text: str,
        variables: Mapping[str, Any] | None = None,
        *,
        source: str = "<string>",
        builtins: Mapping[str, Any] | None = None,
        dialect: str | None = None,
    ) -> str:
        """Render template text; `readFile` is confined to `search_path`."""
        return self._render(self._compiled_string(text, source, dialect), variables, builtins)

    def render_text(
        self,
        path: str | Path,
        variables: Mapping[str, Any] | None = None,
        *,
        builtins: Mapping[str, Any] | None = None,
        dialect: str | None = None,
    ) -> str:
        """Render a template file to text (e.g. a JSON patch) without parsing it."""
        return self._render(self._compiled_file(path, dialect), variables, builtins)

    def render_file(
        self,
        path: str | Path,
        variables: Mapping[str, Any] | None = None,
        *,
        builtins: Mapping[str, Any] | None = None,
        dialect: str | None = None,
    ) -> list[dict[str, Any]]:
        """Render a template file and return its YAML documents (each must be a mapping)."""
        compiled = self._compiled_file(path, dialect)
        text = self._render(compiled, variables, builtins)
        return parse_documents(text, compiled.name)

    def check(self, path: str | Path, *, dialect: str | None = None) -> Dialect:
        """Syntax-check a template without variables; return its dialect."""
        return self._compiled_file(path, dialect).dialect


def parse_documents(text: str, name: str) -> list[dict[str, Any]]:
    """Parse rendered multi-document YAML; skip empty documents, require mappings."""
    docs: list[dict[str, Any]] = []
    try:
        for index, doc in enumerate(load_all(text), start=1):
            if doc is None:
                continue
            if not isinstance(doc, dict):
                raise TemplateError(
                    name, None, f"document {index} is {_describe(doc)}, expected a mapping"
                )
            docs.append(doc)
    except yaml.YAMLError as exc:
        problem, where = describe(exc)
        raise TemplateError(name, None, f"rendered YAML is invalid: {problem}{where}") from None
    return docs
