"""Translate Go text/template source (kube-burner's dialect) into equivalent Jinja2 source.

The output keeps every line of the input on the same line, so Jinja2 errors map back to the
original template line. Go's dot (`.`) is tracked at translation time: the root data is the
Jinja2 name `groot`, each `range`/`with` binds a fresh `gdotN`, and Go variables live in a
Jinja2 namespace (`gns`) under unique names so assignments inside loops are visible outside,
as in Go.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field, replace

from .errors import RenderFailure
from .golex import Action, Text, Token, split_source, tokenize

__all__ = ["LENIENT_FUNCTIONS", "GoTemplateSet", "translate_go", "translate_go_set"]

# Functions whose field arguments may be missing (a missing key is passed as nil): lets
# `{{ .x | default 3 }}` work without defaultMissingKeysWithZero.
LENIENT_FUNCTIONS = frozenset({"default", "empty", "coalesce", "required"})
_INLINE = frozenset({"and", "or", "not"})


@dataclass(slots=True)
class _Operand:
    expr: str
    text: str
    func: str | None = None
    lenient: str | None = None
    method: tuple[str, tuple[str, ...]] | None = None  # (receiver, field chain) of $x.M / (p).M


@dataclass(slots=True)
class _Block:
    kind: str
    line: int
    closers: list[str]
    dots_len: int
    scopes_len: int
    extra: list[str] = field(default_factory=list)


class _Translator:
    def __init__(self, functions: Collection[str]) -> None:
        self.functions = functions
        self.dots = ["groot"]
        self.scopes: list[dict[str, str]] = [{}]
        self.blocks: list[_Block] = []
        self.counter = 0
        self.uses_vars = False
        self.line = 1
        self.toks: list[Token] = []
        self.pos = 0
        self.references: list[tuple[str, int]] = []  # {{template "name"}} uses, with lines

    # -- token helpers -------------------------------------------------------------------
    def fail(self, message: str) -> RenderFailure:
        return RenderFailure(message, self.line)

    def peek(self, offset: int = 0) -> Token | None:
        i = self.pos + offset
        return self.toks[i] if i < len(self.toks) else None

    def take(self) -> Token:
        tok = self.peek()
        if tok is None:
            raise self.fail("unexpected end of action")
        self.pos += 1
        return tok

    def fresh(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    # -- expressions ---------------------------------------------------------------------
    def chain(self, base: str, is_root: bool, text: str, first: str | None = None) -> _Operand:
        keys: list[str] = [] if first is None else [first]
        while (tok := self.peek()) is not None and tok.kind == "field" and not tok.spaced:
            self.pos += 1
            keys.append(str(tok.value))
            text += tok.text
        if not keys:
            return _Operand(base, text)
        args = ", ".join(repr(k) for k in keys)
        fn = "kbv" if is_root else "kbf"
        method = None if is_root or first is not None else (base, tuple(keys))
        lenient = f"{fn}l({base}, {args})"
        return _Operand(f"{fn}({base}, {args})", text, lenient=lenient, method=method)

    def operand(self) -> _Operand:
        tok = self.take()
        kind = tok.kind
        nxt = self.peek()
        chained = nxt is not None and nxt.kind == "field" and not nxt.spaced
        if (
            nxt is not None
            and chained
            and kind in ("string", "number", "bool", "nil", "ident", "dot")
        ):
            raise self.fail(f"unexpected {nxt.text!r} after {tok.text}")
        if kind in ("string", "number"):
            return _Operand(repr(tok.value), tok.text)
        if kind == "bool":
            return _Operand("True" if tok.value else "False", tok.text)
        if kind == "nil":
            return _Operand("None", "nil")
        if kind == "field":
            return self.chain(self.dots[-1], self.dots[-1] == "groot", tok.text, str(tok.value))
        if kind == "dot":
            return _Operand(self.dots[-1], ".")
        if kind == "var":
            name = str(tok.value)
            if not name:
                return self.chain("groot", True, "$")
            for scope in reversed(self.scopes):
                if name in scope:
                    return self.chain(scope[name], False, tok.text)
            raise self.fail(f"undefined variable '${name}'")
        if kind == "ident":
            name = str(tok.value)
            if name not in self.functions and name not in _INLINE:
                raise self.fail(f"function '{name}' not defined")
            return _Operand(f"{name}()", name, func=name)
        if kind == "(":
            inner = self.pipeline()
            close = self.take()
            if close.kind != ")":
                raise self.fail(f"unexpected {close.text!r} in parenthesized pipeline")
            return self.chain(f"({inner})", False, "(...)")
        raise self.fail(f"unexpected {tok.text!r} in command")

    def command(self, piped: str | None, piped_lenient: str | None = None) -> _Operand:
        ops: list[_Operand] = []
        while (tok := self.peek()) is not None and tok.kind not in ("|", ")"):
            ops.append(self.operand())
        if not ops:
            raise self.fail("missing value for command")
        head = ops[0]
        if head.func is None:
            if (len(ops) > 1 or piped is not None) and head.method is not None:
                base, keys = head.method  # a method call on a variable or a pipeline's value
                margs = [op.expr for op in ops[1:]] + ([piped] if piped is not None else [])
                call = ", ".join([base, repr(keys), *margs])
                return _Operand(f"kbcall({call})", head.text)
            if len(ops) > 1 or piped is not None:
                raise self.fail(f"can't give argument to non-function {head.text}")
            return head
        lenient = head.func in LENIENT_FUNCTIONS
        args = [op.lenient if lenient and op.lenient else op.expr for op in ops[1:]]
        if piped is not None:
            args.append(piped_lenient if lenient and piped_lenient else piped)
        name = head.func
        if name in _INLINE:
            return _Operand(self.inline(name, args), name)
        return _Operand(f"{name}({', '.join(args)})", name)

    def inline(self, name: str, args: list[str]) -> str:
        if name == "not":
            if len(args) != 1:
                raise self.fail(f"wrong number of args for not: want 1 got {len(args)}")
            return f"(not {args[0]})"
        if not args:
            raise self.fail(f"wrong number of args for {name}: want at least 1 got 0")
        expr = args[-1]
        for arg in reversed(args[:-1]):
            expr = (
                f"({expr} if {arg} else {arg})"
                if name == "and"
                else f"({arg} if {arg} else {expr})"
            )
        return expr

    def pipeline(self) -> str:
        result = self.command(None)
        while (tok := self.peek()) is not None and tok.kind == "|":
            self.pos += 1
            result = self.command(result.expr, result.lenient)
        return result.expr

    def declaration(self, max_vars: int) -> tuple[list[str], str | None]:
        """Parse an optional `$a[, $b] :=`/`=` prefix; return the names and the operator."""
        names: list[str] = []
        i = 0
        while (tok := self.peek(i)) is not None and tok.kind == "var" and tok.value:
            names.append(str(tok.value))
            nxt = self.peek(i + 1)
            if nxt is not None and nxt.kind in (":=", "=") and len(names) <= max_vars:
                self.pos += i + 2
                return names, nxt.kind
            if nxt is None or nxt.kind != "," or len(names) >= max_vars:
                break
            i += 2
        return [], None

    def bind(self, name: str, op: str) -> str:
        self.uses_vars = True
        if op == "=":
            for scope in reversed(self.scopes):
                if name in scope:
                    return scope[name]
            raise self.fail(f"undefined variable '${name}'")
        store = f"gns.{self.fresh('v')}"
        self.scopes[-1][name] = store
        return store

    # -- actions -------------------------------------------------------------------------
    def open_block(self, kind: str, closer: str) -> _Block:
        block = _Block(kind, self.line, [closer], len(self.dots), len(self.scopes))
        self.blocks.append(block)
        self.scopes.append({})
        return block

    def with_tags(self) -> tuple[list[str], str]:
        names, op = self.declaration(1)
        expr = self.pipeline()
        tags = []
        if names and op:
            store = self.bind(names[0], op)
            tags.append(f"{{% set {store} = {expr} %}}")
            expr = store
        dot = self.fresh("gdot")
        tags += [f"{{% set {dot} = {expr} %}}", f"{{% if {dot} %}}"]
        return tags, dot

    def keyword(self, word: str) -> list[str]:
        if word == "if":
            self.open_block("if", "{% endif %}")
            names, op = self.declaration(1)
            expr = self.pipeline()
            if names and op:
                store = self.bind(names[0], op)
                return [f"{{% set {store} = {expr} %}}", f"{{% if {store} %}}"]
            return [f"{{% if {expr} %}}"]
        if word == "range":
            self.open_block("range", "{% endfor %}")
            names, op = self.declaration(2)
            expr = self.pipeline()
            dot = self.fresh("gdot")
            tags = []
            if len(names) == 2:
                key = self.fresh("gkey")
                tags.append(f"{{% for {key}, {dot} in kbpairs({expr}) %}}")
                tags.append(f"{{% set {self.bind(names[0], ':=')} = {key} %}}")
            else:
                tags.append(f"{{% for {dot} in kbrange({expr}) %}}")
            if names:
                tags.append(f"{{% set {self.bind(names[-1], ':=')} = {dot} %}}")
            self.dots.append(dot)
            return tags
        if word == "with":
            self.open_block("with", "{% endif %}")
            tags, dot = self.with_tags()
            self.dots.append(dot)
            return tags
        if word == "else":
            return self.else_branch()
        if word == "end":
            if not self.blocks:
                raise self.fail("unexpected {{end}}")
            block = self.blocks.pop()
            del self.dots[block.dots_len :]
            del self.scopes[block.scopes_len :]
            return block.extra[::-1] + block.closers
        if word == "template":
            name = self.take()
            if name.kind != "string":
                raise self.fail(f"unexpected {name.text!r} in template clause (want a name)")
            dot = self.pipeline() if self.peek() is not None else "None"
            self.references.append((str(name.value), self.line))
            return [f"{{{{ kbtemplate({str(name.value)!r}, {dot}) }}}}"]
        if word in ("break", "continue"):
            if not any(b.kind == "range" for b in self.blocks):
                raise self.fail(f"{{{{{word}}}}} outside {{{{range}}}}")
            return [f"{{% {word} %}}"]
        raise self.fail(f"unexpected {{{{{word}}}}}")

    def else_branch(self) -> list[str]:
        if not self.blocks:
            raise self.fail("unexpected {{else}}")
        block = self.blocks[-1]
        del self.dots[block.dots_len :]
        del self.scopes[block.scopes_len + 1 :]
        self.scopes.append({})
        nxt = self.peek()
        if nxt is None:
            return ["{% else %}"]
        if nxt.kind == "keyword" and nxt.value == "if" and block.kind == "if":
            self.pos += 1
            names, op = self.declaration(1)
            expr = self.pipeline()
            if not names or not op:
                return [f"{{% elif {expr} %}}"]
            block.extra.append("{% endif %}")
            store = self.bind(names[0], op)
            return ["{% else %}", f"{{% set {store} = {expr} %}}", f"{{% if {store} %}}"]
        if nxt.kind == "keyword" and nxt.value == "with" and block.kind == "with":
            self.pos += 1
            block.extra.append("{% endif %}")
            tags, dot = self.with_tags()
            self.dots.append(dot)
            return ["{% else %}", *tags]
        raise self.fail(f"unexpected {nxt.text!r} after else")

    def action(self, act: Action) -> list[str]:
        if act.comment:
            return []
        self.toks = tokenize(act.body, act.line)
        self.pos = 0
        if not self.toks:
            raise self.fail("missing value for command")
        first = self.toks[0]
        if first.kind == "keyword":
            self.pos = 1
            tags = self.keyword(str(first.value))
        else:
            names, op = self.declaration(1)
            expr = self.pipeline()
            if names and op:
                tags = [f"{{% set {self.bind(names[0], op)} = {expr} %}}"]
            else:
                tags = [f"{{{{ {expr} }}}}"]
        if (rest := self.peek()) is not None:
            raise self.fail(f"unexpected {rest.text!r} in '{{{{{act.body.strip()}}}}}'")
        return tags


_WS = " \t\r\n"


def _decorate(tags: list[str], act: Action, lead: int, trail: int) -> str:
    """Join an action's tags, moving trimmed and in-action newlines inside the tags."""
    if not tags:
        if not (lead or trail or act.newlines):
            return ""
        return "{#" + "\n" * lead + " " + "\n" * (act.newlines + trail) + "#}"
    if lead:
        tags[0] = tags[0][:2] + "\n" * lead + tags[0][2:]
    last = tags[-1]
    tags[-1] = last[:-2].rstrip() + " " + "\n" * (act.newlines + trail) + last[-2:]
    return "".join(tags)


_OPENERS = frozenset({"if", "range", "with", "define", "block"})
_NAMED = re.compile(r'\s*(define|block)\s+("(?:[^"\\]|\\.)*"|`[^`]*`)(.*)\Z', re.S)


def _keyword(act: Action) -> str | None:
    if act.comment:
        return None
    m = re.match(r"\s*([a-z]+)\b", act.body)
    return m.group(1) if m else None


def _comment(act: Action) -> Action:
    return replace(act, body="", comment=True)


def _split_defines(
    pieces: list[Text | Action], functions: Collection[str]
) -> tuple[list[Text | Action], dict[str, list[Text | Action]]]:
    """Move ``define``/``block`` bodies out of the main pieces (keeping its line count)."""
    main: list[Text | Action] = []
    defines: dict[str, list[Text | Action]] = {}
    i = 0
    while i < len(pieces):
        piece = pieces[i]
        word = _keyword(piece) if isinstance(piece, Action) else None
        if word not in ("define", "block"):
            main.append(piece)
            i += 1
            continue
        assert isinstance(piece, Action)
        m = _NAMED.match(piece.body)
        if m is None:
            raise RenderFailure(f"{word} clause needs a quoted template name", piece.line)
        name = tokenize(m.group(2), piece.line)[0].value
        depth, j = 1, i + 1
        while j < len(pieces):
            inner = pieces[j]
            kw = _keyword(inner) if isinstance(inner, Action) else None
            depth += kw in _OPENERS
            depth -= kw == "end"
            if depth == 0:
                break
            j += 1
        if j >= len(pieces):
            raise RenderFailure(f"missing {{{{end}}}} for '{{{{{word}}}}}'", piece.line)
        end = pieces[j]
        assert isinstance(end, Action)
        defines[str(name)] = [_comment(piece), *pieces[i + 1 : j], _comment(end)]
        if word == "block":
            main.append(replace(piece, body=f"template {m.group(2)}{m.group(3)}"))
        else:
            main.append(_comment(piece))
        for body in pieces[i + 1 : j]:
            lines = body.text.count("\n") if isinstance(body, Text) else body.newlines
            if lines:
                main.append(Text("\n" * lines, body.line))
        main.append(_comment(end))
        i = j + 1
    return main, defines


@dataclass
class GoTemplateSet:
    """A Go template translated: its main body, its named templates and the names it uses."""

    main: str
    defines: dict[str, str]
    references: list[tuple[str, int]]


def translate_go_set(source: str, functions: Collection[str]) -> GoTemplateSet:
    """The main template and each ``define``/``block`` body, as Jinja2 source on the same lines."""
    main, defines = _split_defines(split_source(source), functions)
    refs: list[tuple[str, int]] = []
    bodies = {}
    for name, pieces in defines.items():
        body, used = _translate_pieces(pieces, functions)
        bodies[name] = "\n" * (pieces[0].line - 1) + body
        refs += used
    text, used = _translate_pieces(main, functions)
    return GoTemplateSet(text, bodies, sorted(refs + used, key=lambda r: r[1]))


def translate_go(source: str, functions: Collection[str]) -> str:
    """Translate Go-template source into Jinja2 source with the same line numbering."""
    return translate_go_set(source, functions).main


def _translate_pieces(
    pieces: list[Text | Action], functions: Collection[str]
) -> tuple[str, list[tuple[str, int]]]:
    texts = {i: p.text for i, p in enumerate(pieces) if isinstance(p, Text)}
    lead = [0] * len(pieces)
    trail = [0] * len(pieces)
    # Go's trim markers ({{- and -}}) remove adjacent whitespace; the newlines removed move
    # into the tag so that line numbers stay the same.
    for i, piece in enumerate(pieces):
        if not isinstance(piece, Action):
            continue
        if piece.trim_left and (i - 1) in texts:
            text = texts[i - 1]
            kept = text.rstrip(_WS)
            lead[i] = text.count("\n", len(kept))
            texts[i - 1] = kept
        if piece.trim_right and (i + 1) in texts:
            text = texts[i + 1]
            kept = text.lstrip(_WS)
            trail[i] = text.count("\n", 0, len(text) - len(kept))
            texts[i + 1] = kept
    tr = _Translator(functions)
    parts: list[str] = []
    for i, piece in enumerate(pieces):
        if isinstance(piece, Action):
            tr.line = piece.line
            parts.append(_decorate(tr.action(piece), piece, lead[i], trail[i]))
        else:
            # Escape braces so Jinja2 sees no tags, and CRs (Jinja2 would normalize newlines).
            parts.append(texts[i].replace("{", "{{ '{' }}").replace("\r", "{{ '\\r' }}"))
    if tr.blocks:
        block = tr.blocks[-1]
        raise RenderFailure(f"missing {{{{end}}}} for '{{{{{block.kind}}}}}'", block.line)
    prefix = "{% set gns = namespace() %}" if tr.uses_vars else ""
    return prefix + "".join(parts), tr.references
